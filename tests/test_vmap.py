"""vmap: every primitive's batching rule against a loop, JAX's documented examples, errors.

The reference for a batched call is always the unbatched function (or primitive)
applied to one example at a time in a Python loop, its results stacked by NumPy.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_abstract_eval import _TABLE, _recipe

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import core
from autodiff_ref import rules as R
from autodiff_ref.batching import BATCH_RULES, batch_rule

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


def test_every_registered_primitive_has_a_rule_or_a_justified_loop():
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
