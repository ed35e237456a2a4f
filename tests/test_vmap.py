"""vmap: every primitive's batching rule against a loop, JAX's documented examples, errors.

The reference for a batched call is always the unbatched function (or primitive)
applied to one example at a time in a Python loop, its results stacked by NumPy.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from expression_strategies import X, Y, well_conditioned
from hypothesis import assume, given, settings
from test_abstract_eval import _TABLE, _recipe
from test_modes_agree import vector_functions

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import core
from autodiff_ref import rules as R
from autodiff_ref.batching import BATCH_RULES, batch_rule
from autodiff_ref.symbolic import lambdify
from autodiff_ref.tree import tree_leaves, tree_map
from autodiff_ref.work import counting

rng = np.random.default_rng(22)
B = 3  # examples per batch

# Stacked NumPy calls (matmul, linalg, reductions over a moved axis) may run other
# kernels or summation orders than one example at a time: agreement to rounding.
RTOL, ATOL = 1e-12, 1e-13

#: Primitives that have no batching rule and run in vmap's loop, with why.
LOOP_FALLBACK = {
    # Reverse mode's tape binds it on a tuple of results, never on a traced value,
    # so no trace (vmap's included) is ever asked to process it.
    R.result: "its argument is a tuple of plain results",
}


def _examples(x, k):
    """The k-th example near ``x``: the same kind of value (symmetric stays symmetric)."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        return x
    if x.ndim == 2 and x.shape[0] == x.shape[1] and np.allclose(x, x.T):
        return x * (1.0 + 0.05 * k)  # symmetric, and as definite and separated
    noise = np.random.default_rng(k).uniform(-0.05, 0.05, x.shape)
    return x * (1.0 + noise)


def _stack_along(examples, axis):
    return np.stack(examples, axis=axis)


def _loop(fun, example_args):
    outs = [fun(*args) for args in example_args]
    if isinstance(outs[0], tuple):
        return tuple(np.stack(parts) for parts in zip(*outs, strict=True))
    return np.stack(outs)


def _assert_close(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_close(g, w)
        return
    got = np.asarray(got)
    assert got.shape == want.shape
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def _placements(n):
    """Batch axes for n arguments: all at 0, all at the end, the first unbatched."""
    yield ("front",) * n
    yield ("end",) * n
    if n > 1:
        yield (None, *("front",) * (n - 1))
        yield ("end", *(None,) * (n - 1))


_REGISTRY_WITHOUT_BATCH_RULES = """
import importlib, pkgutil
import autodiff_ref
from autodiff_ref import core
from autodiff_ref.batching import batch_rule
for module in pkgutil.walk_packages(autodiff_ref.__path__, "autodiff_ref."):
    importlib.import_module(module.name)
print(sorted(name for name, p in core.PRIMITIVES.items() if batch_rule(p) is None))
"""


def test_every_registered_primitive_has_a_rule_or_a_justified_loop():
    # A fresh interpreter that imports the whole package: its registry holds the
    # package's own primitives, none that other tests made by hand.
    fresh = subprocess.run(
        [sys.executable, "-c", _REGISTRY_WITHOUT_BATCH_RULES],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert fresh.stdout.strip() == str(sorted(p.name for p in LOOP_FALLBACK))
    missing = [
        p.name for p in _TABLE if batch_rule(p) is None and p not in LOOP_FALLBACK
    ]
    assert missing == []
    assert all(batch_rule(p) is None for p in LOOP_FALLBACK)
    # Rules are keyed by the primitive object, and only the package's own.
    assert all(isinstance(p, core.Primitive) for p in BATCH_RULES)


@pytest.mark.parametrize("prim", _TABLE, ids=lambda p: p.name)
def test_batching_rule_agrees_with_a_loop(prim):
    args, params = _recipe(prim)
    for placement in _placements(len(args)):
        per_example = [
            [
                a if where is None else _examples(a, k)
                for a, where in zip(args, placement, strict=True)
            ]
            for k in range(B)
        ]
        batched, in_axes = [], []
        for i, (a, where) in enumerate(zip(args, placement, strict=True)):
            if where is None:
                batched.append(a)
                in_axes.append(None)
                continue
            axis = 0 if where == "front" else np.ndim(a)
            batched.append(_stack_along([ex[i] for ex in per_example], axis))
            in_axes.append(axis if where == "front" else -1)

        def call(*xs):
            return prim(*xs, **params)

        want = _loop(lambda *xs: prim.impl(*xs, **params), per_example)
        got = ad.vmap(call, in_axes=tuple(in_axes))(*batched)
        _assert_close(got, want)


def test_a_primitive_without_a_rule_loops_with_a_warning():
    twice = core.Primitive(
        core.unique_name("twice_by_hand"),
        lambda x: 2.0 * np.asarray(x),
        jvp=lambda ts, ans, x: None if ts[0] is None else R.mul(2.0, ts[0]),
    )
    xs = rng.standard_normal((4, 2))
    with pytest.warns(
        UserWarning, match=r"no batching rule for the primitive .twice_by_hand.*slow"
    ):
        out = ad.vmap(twice, in_axes=1)(xs)
    np.testing.assert_array_equal(out, 2.0 * xs.T)  # one multiplication each


# -- JAX's documented examples (jax.vmap's docstring), with loops as the reference -----
def test_jax_docstring_matrix_vector_product():
    # vmap(vv, (0, None)) of a dot product is a matrix-vector product.
    mat, vec = rng.standard_normal((4, 3)), rng.standard_normal(3)
    vv = lambda x, y: anp.dot(x, y)  # noqa: E731
    mv = ad.vmap(vv, (0, None), 0)
    want = np.array([np.dot(row, vec) for row in mat])
    np.testing.assert_allclose(mv(mat, vec), want, rtol=RTOL)  # a stacked product
    # ... and vmap of that is a matrix-matrix product.
    mats = rng.standard_normal((2, 3))
    mm = ad.vmap(mv, (None, 1), 1)
    want2 = np.array([[np.dot(row, col) for col in mats] for row in mat])
    np.testing.assert_allclose(mm(mat, mats.T), want2, rtol=RTOL)


def test_jax_docstring_pytree_in_axes():
    # in_axes=({'a': None, 'b': 0},): a dict argument, one axis per entry.
    a, b = rng.standard_normal(2), rng.standard_normal((5, 2))
    f = lambda d: d["a"] * d["b"] + 1.0  # noqa: E731
    out = ad.vmap(f, in_axes=({"a": None, "b": 0},))({"a": a, "b": b})
    np.testing.assert_array_equal(out, np.stack([a * bk + 1.0 for bk in b]))


def test_jax_docstring_tuple_output_and_out_axes():
    # out_axes=(0, 1) puts one output's batch axis in front, the other's at 1.
    x = rng.standard_normal((4, 3, 2))
    f = lambda x: (x.T, 2.0 * x)  # noqa: E731
    first, second = ad.vmap(f, out_axes=(0, 1))(x)
    np.testing.assert_array_equal(first, np.stack([xk.T for xk in x]))
    np.testing.assert_array_equal(second, np.stack([2.0 * xk for xk in x], axis=1))


def test_jax_docstring_out_axes_none_for_an_unbatched_output():
    # An output that does not depend on the batched input may have out_axes None.
    x, y = rng.standard_normal(3), rng.standard_normal(2)
    f = lambda x, y: (x + 1.0, y * 2.0)  # noqa: E731
    bx, same = ad.vmap(f, in_axes=(0, None), out_axes=(0, None))(x, y)
    np.testing.assert_array_equal(bx, x + 1.0)
    np.testing.assert_array_equal(same, y * 2.0)
    # With out_axes 0 the unbatched output is broadcast, as in JAX.
    _, spread = ad.vmap(f, in_axes=(0, None))(x, y)
    np.testing.assert_array_equal(spread, np.stack([y * 2.0] * 3))


def test_axis_size_with_every_input_unbatched():
    out = ad.vmap(lambda: np.ones(2), in_axes=(), axis_size=3)()
    np.testing.assert_array_equal(out, np.ones((3, 2)))


def test_negative_axes_and_pytree_outputs():
    x = rng.standard_normal((2, 5))
    out = ad.vmap(lambda v: {"s": anp.sum(v), "v": anp.sin(v)}, in_axes=-1)(x)
    np.testing.assert_allclose(out["s"], np.array([x[:, k].sum() for k in range(5)]))
    np.testing.assert_array_equal(
        out["v"], np.stack([np.sin(x[:, k]) for k in range(5)])
    )


# -- errors ---------------------------------------------------------------------------
def test_inconsistent_sizes_are_refused():
    with pytest.raises(
        ValueError, match="inconsistent sizes for array axes to be mapped"
    ):
        ad.vmap(lambda x, y: x + y)(np.ones(3), np.ones(4))


def test_axis_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"map its argument along axis 2.*rank"):
        ad.vmap(anp.sin, in_axes=2)(np.ones((3, 2)))


def test_in_axes_structure_must_match():
    with pytest.raises(ValueError, match="len\\(in_axes\\)=2, len\\(args\\)=1"):
        ad.vmap(anp.sin, in_axes=(0, 0))(np.ones(3))
    with pytest.raises(ValueError, match="tree prefix"):
        ad.vmap(lambda d: d["a"], in_axes=({"b": 0},))({"a": np.ones(3)})


def test_mapped_output_with_out_axes_none_is_refused():
    with pytest.raises(ValueError, match="mapped output but out_axes is None"):
        ad.vmap(anp.sin, out_axes=None)(np.ones(3))


def test_all_none_in_axes_need_axis_size():
    with pytest.raises(ValueError, match="at least one non-None value in in_axes"):
        ad.vmap(anp.sin, in_axes=None)(np.ones(3))


def test_python_control_flow_on_a_batched_value_is_refused():
    with pytest.raises(core.ConcretizationError, match="where"):
        ad.vmap(lambda x: x if x > 0 else -x)(np.ones(3))


def test_no_warning_for_the_table():
    # The shared rules run without the loop's warning for a program of every kind.
    f = lambda x: anp.sum(anp.tanh(x @ np.ones((2, 2))) ** 2)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ad.vmap(ad.grad(f))(rng.standard_normal((3, 2)))


# -- composition: vmap with every transform, in either order, against loops ------------
# Random programs R^3 -> R^3 from test_modes_agree's strategy; a batch of points near one.
# NumPy's vectorized transcendental functions (SIMD loops for exp, sin, ...) may round
# differently from the scalar ones by an ulp, and the chain rule multiplies such terms:
# agreement to rounding, not bit for bit.
COMPOSE_TOL = {"rtol": 1e-10, "atol": 1e-10}


def _batch_near(v, size=3):
    offsets = np.linspace(-0.01, 0.01, size)[:, None] * np.array([1.0, -0.5, 0.25])
    return v + offsets


def _program(case):
    trees, wiring, v = case
    points = _batch_near(v)
    for point in points:
        for tree, (i, j) in zip(trees, wiring, strict=True):
            assume(well_conditioned(tree, {"x": point[i], "y": point[j]}, kink=0.05))
    functions = [lambdify(tree, X, Y) for tree in trees]

    def F(v):
        # 1.0 * makes a constant tree's int output a float (grad refuses ints).
        return anp.stack(
            [1.0 * f(v[i], v[j]) for f, (i, j) in zip(functions, wiring, strict=True)]
        )

    def s(v):
        return anp.sum(anp.sin(F(v)))

    return F, s, points


def _close(got, want):
    for g, w in zip(tree_leaves(got), tree_leaves(want), strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), **COMPOSE_TOL)


def _stacked(outs):
    return tree_map(lambda *xs: np.stack(xs), *outs)


@settings(max_examples=10, deadline=None)
@given(vector_functions())
def test_vmap_composes_with_every_transform(case):
    F, s, V = _program(case)
    T = np.array([0.3, -1.0, 0.5])  # a tangent, shared by every example
    loop = lambda g: _stacked([g(v) for v in V])  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no loop fallback on the way
        _close(ad.vmap(F)(V), loop(F))
        _close(ad.vmap(ad.grad(s))(V), loop(ad.grad(s)))
        _close(ad.vmap(ad.jacfwd(F))(V), loop(ad.jacfwd(F)))
        _close(ad.vmap(ad.jacrev(F))(V), loop(ad.jacrev(F)))
        _close(ad.vmap(ad.hessian(s))(V), loop(ad.hessian(s)))
        jvp_each = lambda v: ad.jvp(F, (v,), (T,))  # noqa: E731
        _close(ad.vmap(jvp_each)(V), loop(jvp_each))
        vjp_each = lambda v: ad.vjp(F, v)[1](T)  # noqa: E731
        _close(ad.vmap(vjp_each)(V), loop(vjp_each))
        lin_each = lambda v: ad.linearize(F, v)[1](T)  # noqa: E731
        _close(ad.vmap(lin_each)(V), loop(lin_each))
        jet_each = lambda v: ad.jet(s, (v,), ((T, 0.0 * T),))  # noqa: E731
        _close(ad.vmap(jet_each)(V), loop(jet_each))
        _close(ad.vmap(ad.jit(F))(V), loop(F))
        _close(ad.jit(ad.vmap(F))(V), loop(F))
        _close(ad.jit(ad.vmap(ad.grad(s)))(V), loop(ad.grad(s)))
        both = np.stack([V, V[::-1]])  # two batches of examples
        _close(ad.vmap(ad.vmap(F))(both), np.stack([loop(F), loop(F)[::-1]]))
        # The other order: the transform outside, vmap inside.
        total = lambda W: anp.sum(ad.vmap(s)(W))  # noqa: E731
        _close(ad.grad(total)(V), loop(ad.grad(s)))  # examples do not interact
        TT = np.stack([T * (k + 1) for k in range(len(V))])
        _close(
            ad.jvp(ad.vmap(F), (V,), (TT,)),
            _stacked([ad.jvp(F, (v,), (t,)) for v, t in zip(V, TT, strict=True)]),
        )
        out, pull = ad.vjp(ad.vmap(F), V)
        _close(out, loop(F))
        _close(
            pull(TT), _stacked([ad.vjp(F, v)[1](t) for v, t in zip(V, TT, strict=True)])
        )
        blocks = ad.jacfwd(ad.vmap(F))(V)  # (B, 3, B, 3): block diagonal
        for k, v in enumerate(V):
            _close(blocks[k, :, k, :], ad.jacfwd(F)(v))
        _close(ad.jacrev(ad.vmap(F))(V), blocks)
        _close(ad.hessian(total)(V)[1, :, 1, :], ad.hessian(s)(V[1]))
        lin_out, lin = ad.linearize(ad.vmap(F), V)
        _close(lin_out, loop(F))
        _close(
            lin(TT),
            _stacked([ad.jvp(F, (v,), (t,))[1] for v, t in zip(V, TT, strict=True)]),
        )


def test_per_example_gradients_of_a_small_mlp():
    # The MLP case: vmap(grad(loss), in_axes=(None, 0, 0)).
    W1, W2 = rng.standard_normal((4, 3)), rng.standard_normal((1, 4))
    params = {"W1": W1, "W2": W2}
    xs, ys = rng.standard_normal((5, 3)), rng.standard_normal(5)

    def loss(p, x, y):
        return anp.sum((p["W2"] @ anp.tanh(p["W1"] @ x) - y) ** 2)

    got = ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    want = _stacked([ad.grad(loss)(params, x, y) for x, y in zip(xs, ys, strict=True)])
    _close(got, want)
    assert got["W1"].shape == (5, 4, 3)


# -- user rules: vmap keeps them -------------------------------------------------------
def _log1pexp():
    @ad.custom_jvp
    def log1pexp(x):
        return anp.log(1.0 + anp.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (x_dot,) = primals, tangents
        return log1pexp(x), (1.0 - 1.0 / (1.0 + anp.exp(x))) * x_dot

    return log1pexp


def test_custom_jvp_rule_survives_vmap_in_both_orders():
    f = _log1pexp()
    xs = np.array([0.0, 2.0, 1000.0])  # at 1000 only the rule's formula is finite
    # The closed form of the slope: the logistic function.
    want = 1.0 / (1.0 + np.exp(-xs))
    with np.errstate(over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no loop
        np.testing.assert_allclose(ad.vmap(ad.grad(f))(xs), want, rtol=1e-15)
        np.testing.assert_allclose(
            ad.grad(lambda v: anp.sum(ad.vmap(f)(v)))(xs), want, rtol=1e-15
        )
        np.testing.assert_allclose(ad.vmap(f)(xs[:2]), np.log1p(np.exp(xs[:2])))


def test_custom_vjp_rule_survives_vmap_in_both_orders():
    @ad.custom_vjp
    def clip_gradient(lo, hi, x):
        return x

    clip_gradient.defvjp(
        lambda lo, hi, x: (x, (lo, hi)),
        lambda res, g: (None, None, anp.minimum(anp.maximum(g, res[0]), res[1])),
    )

    def f(x):
        return clip_gradient(-0.75, 0.75, anp.sin(x))

    xs = np.array([0.0, 1.0, 2.0, 3.0])
    # The rule clips the cotangent 1 that reaches the clip to 0.75; sin's cos follows.
    want = 0.75 * np.cos(xs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        np.testing.assert_array_equal(ad.vmap(ad.grad(f))(xs), want)
        np.testing.assert_array_equal(
            ad.grad(lambda v: anp.sum(ad.vmap(f)(v)))(xs), want
        )
        # A batched bound: each example clips at its own level.
        his = np.array([0.5, 0.4, 0.3, 0.2])
        g = ad.vmap(ad.grad(lambda x, hi: clip_gradient(-hi, hi, anp.sin(x))))
        np.testing.assert_array_equal(g(xs, his), his * np.cos(xs))


def test_checkpoint_under_vmap_matches_the_loop():
    def layer(x, w):
        return anp.tanh(x * w) * 2.0

    saved = ad.checkpoint(layer)
    xs, w = rng.standard_normal((4, 3)), rng.standard_normal(3)
    loss = lambda x: anp.sum(saved(x, w) ** 2)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        got = ad.vmap(ad.grad(loss))(xs)
        outer = ad.grad(lambda v: anp.sum(ad.vmap(loss)(v)))(xs)
    want = np.stack([ad.grad(loss)(x) for x in xs])
    # The same operations on stacks instead of rows: SIMD tanh may round differently.
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(outer, want, rtol=1e-14, atol=1e-15)


# -- staging: jit(vmap(f)) traces the batched program; vmap(jit(f)) re-binds a program --
def _mlp(x):
    W = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    return anp.sum(anp.tanh(W @ x) ** 2)


def test_jit_of_vmap_stages_one_program_whose_size_does_not_grow_with_the_batch():
    sizes = {}
    for n in (2, 20):
        xs = rng.standard_normal((n, 3))
        program = ad.make_program(ad.vmap(ad.grad(_mlp)))(xs)
        sizes[n] = len(program.equations)
        np.testing.assert_allclose(
            program(xs), np.stack([ad.grad(_mlp)(x) for x in xs]), **COMPOSE_TOL
        )
    assert sizes[2] == sizes[20]  # one equation per primitive, whatever the batch


def test_vmap_of_jit_runs_the_per_example_program_on_the_batch():
    fast = ad.jit(_mlp)
    xs = rng.standard_normal((4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        got = ad.vmap(fast)(xs)
    np.testing.assert_allclose(got, np.stack([_mlp(x) for x in xs]), **COMPOSE_TOL)
    assert fast.traces == 1
    assert fast.program(xs[0]).inputs[0].aval.shape == (3,)  # one example's shape


def test_keyword_arguments_are_mapped_over_axis_0():
    xs, ys = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    out = ad.vmap(lambda x, *, y: x * y)(xs, y=ys)
    np.testing.assert_array_equal(out, xs * ys)


def test_axis_size_must_agree_with_the_mapped_axes():
    with pytest.raises(ValueError, match="axis_size was given as 4"):
        ad.vmap(anp.sin, axis_size=4)(np.ones(3))


def test_jax_docstring_nested_tuple_in_axes():
    # foo(tree_arg) with x, (y, z) = tree_arg, in_axes=((0, (None, 0)),): a prefix
    # tree inside the tuple of positional arguments.
    x, y, z = (
        rng.standard_normal((5, 3)),
        rng.standard_normal((3, 3)),
        rng.standard_normal((5, 3)),
    )

    def foo(tree_arg):
        x, (y, z) = tree_arg
        return anp.dot(x, anp.dot(y, z))

    out = ad.vmap(foo, in_axes=((0, (None, 0)),))((x, (y, z)))
    want = np.array([np.dot(x[k], np.dot(y, z[k])) for k in range(5)])
    np.testing.assert_allclose(out, want, rtol=RTOL, atol=ATOL)  # stacked products


def test_jax_docstring_out_axes_none_example():
    # JAX: vmap(lambda x, y: (x + y, y * 2.), in_axes=(0, None), out_axes=(0, None))
    # (jnp.arange(2.), 4.) gives ([4., 5.], 8.).
    f = lambda x, y: (x + y, y * 2.0)  # noqa: E731
    first, second = ad.vmap(f, in_axes=(0, None), out_axes=(0, None))(
        np.arange(2.0), 4.0
    )
    np.testing.assert_array_equal(first, np.array([xk + 4.0 for xk in np.arange(2.0)]))
    assert second == 4.0 * 2.0
    # ... and with out_axes=0 the second output is broadcast: [8., 8.].
    _, spread = ad.vmap(f, in_axes=(0, None), out_axes=0)(np.arange(2.0), 4.0)
    np.testing.assert_array_equal(spread, np.full(2, 4.0 * 2.0))


def test_a_batched_index_is_refused_with_what_to_do():
    xs, idx = np.arange(12.0).reshape(3, 4), np.array([0, 3, 1])
    with pytest.raises(TypeError, match=r"batched index under vmap.*in_axes=None"):
        ad.vmap(lambda x, i: x[i])(xs, idx)
    with pytest.raises(TypeError, match="batched index under vmap"):
        ad.vmap(lambda i: np.arange(4.0)[i])(idx)


def test_per_example_gradients_do_the_same_number_of_primitive_calls_at_any_batch():
    # The interpreter's work is one batching rule per primitive: the number of NumPy
    # primitive calls does not depend on the batch size (a loop's grows with it).
    W = np.linspace(-1.0, 1.0, 12).reshape(4, 3)

    def loss(w, x, y):
        return anp.sum((anp.tanh(w @ x) - y) ** 2)

    calls = {}
    for n in (20, 160):
        xs, ys = rng.standard_normal((n, 3)), rng.standard_normal((n, 4))
        with counting() as tally:
            ad.vmap(ad.grad(loss), in_axes=(None, 0, 0))(W, xs, ys)
        calls[n] = tally["calls"]
    assert calls[20] == calls[160] > 0


_M = rng.standard_normal((4, 3, 3)) + 3.0 * np.eye(3)  # well conditioned
_LINALG_LOSSES = {
    "eigh": (
        lambda a: (
            anp.sum(anp.linalg.eigh(a + a.T)[0] ** 3)
            + anp.sum(anp.linalg.eigh(a + a.T)[1][:, 0] ** 2)
        ),
        _M,
    ),
    "slogdet": (lambda a: anp.linalg.slogdet(a)[1], _M),
    "svd": (lambda a: anp.sum(anp.linalg.svd(a, full_matrices=False)[1] ** 3), _M),
    "qr": (lambda a: anp.sum(anp.linalg.qr(a)[1] ** 2), _M),
    "solve": (lambda a: anp.sum(anp.linalg.solve(a, np.ones(3)) ** 2), _M),
    "cholesky": (lambda a: anp.sum(anp.linalg.cholesky(a @ a.T)), _M),
    "sort": (lambda a: anp.sum(anp.sort(a, axis=1) * np.arange(3.0)), _M),
}


@pytest.mark.parametrize("name", list(_LINALG_LOSSES))
def test_derivatives_of_decompositions_under_vmap_match_the_loop(name):
    f, A = _LINALG_LOSSES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no loop
        for transform in (ad.grad, ad.jacfwd, ad.hessian):
            g = transform(f)
            # Stacked LAPACK calls against one matrix at a time: equal to rounding.
            _close(ad.vmap(g)(A), np.stack([g(a) for a in A]))
        outside = ad.grad(lambda As: anp.sum(ad.vmap(f)(As)))(A)
    _close(outside, np.stack([ad.grad(f)(a) for a in A]))


def test_nested_vmap_with_axes_inside_and_out():
    X, W = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 5))
    f = lambda x, w: anp.tanh(x @ w)  # noqa: E731
    inner = ad.vmap(f, in_axes=(1, None), out_axes=-1)
    out = ad.vmap(inner, in_axes=(0, None), out_axes=1)(X, W)
    want = np.stack(
        [
            np.stack([np.tanh(X[i, :, j] @ W) for j in range(4)], axis=-1)
            for i in range(2)
        ],
        axis=1,
    )
    # A stacked product against one vector at a time: equal to rounding.
    np.testing.assert_allclose(out, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "index",
    [
        (
            np.array([0, 2, 2]),
            slice(None),
            np.array([1, 0, 1]),
        ),  # separated: axes first
        (1, slice(None), np.array([0, 3])),  # an int counts as an array index here
        (Ellipsis, np.array([[True, False, True, True]] * 2)),
        (slice(1, None), None, np.array([1, 0])),
    ],
    ids=["separated", "int-and-array", "mask", "newaxis"],
)
def test_advanced_indexing_and_its_transpose_under_vmap(index):
    xs = rng.standard_normal((5, 3, 2, 4))  # examples of shape (3, 2, 4)
    f = lambda x: x[index]  # noqa: E731
    got = ad.vmap(f)(xs)
    np.testing.assert_array_equal(got, np.stack([x[index] for x in xs]))  # a copy
    loss = lambda x: anp.sum(anp.sin(x[index]))  # noqa: E731
    _close(ad.vmap(ad.grad(loss))(xs), np.stack([ad.grad(loss)(x) for x in xs]))


def test_linear_transpose_and_vmap_in_either_order():
    A = rng.standard_normal((2, 3))
    X, CT = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    (outside,) = ad.linear_transpose(ad.vmap(lambda x: A @ x), X)(CT)
    (inside,) = ad.vmap(lambda c: ad.linear_transpose(lambda x: A @ x, X[0])(c))(CT)
    want = np.stack([A.T @ c for c in CT])  # the transpose of x -> A x, per example
    _close(outside, want)
    _close(inside, want)
