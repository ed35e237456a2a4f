"""One derivative rule per primitive: transposes, JVPs transposed, user VJPs (issue 19).

Elementwise primitives give local derivatives; linear ones a transpose (their
JVP follows from linearity); every other primitive a JVP, which reverse mode
linearizes and transposes. The checks here are about that machinery: what a
transpose is handed, that all cotangents come from one call, that a JVP not
linear in its tangents is refused, and that custom_vjp runs ``fwd`` in the
forward pass, as JAX does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import rules
from autodiff_ref.core import Primitive, UndefinedPrimal, Zero
from autodiff_ref.reverse import transposed_jvp
from autodiff_ref.rules import NONLINEAR, RULES

RNG = np.random.default_rng(19)


def test_every_primitive_has_exactly_one_kind_of_derivative_rule() -> None:
    for name, prim in RULES.items():
        assert not hasattr(prim, "vjp_rule"), name
        if prim.derivs is not None:  # elementwise: local derivatives only
            assert prim.transpose_rule is None, name
        elif name in NONLINEAR:  # a JVP, transposed by reverse mode
            assert prim.linearity is None, name
            # A transpose only for arguments it is linear in (solve's b).
            assert prim.transpose_rule is None or prim.linear_in is not None, name
        else:  # linear: the transpose, and the JVP derived from it
            assert prim.transpose_rule is not None, name
            assert prim.linearity in ("linear", "bilinear", "multilinear"), name
            assert prim.jvp_rule.__func__ in (  # type: ignore[union-attr]
                Primitive._linear_jvp,
                Primitive._multilinear_jvp,
            ), name
        assert prim.fwd_rule is None and prim.bwd_rule is None, name


def test_a_transpose_receives_undefined_primals_for_its_linear_inputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple] = []
    rule = rules.matmul.transpose_rule

    def spy(ct: Any, a: Any, b: Any) -> Any:
        seen.append((type(a), type(b)))
        return rule(ct, a, b)

    monkeypatch.setattr(rules.matmul, "transpose_rule", spy)
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))
    da, db = ad.grad(lambda x, y: anp.sum(x @ y), argnums=(0, 1))(a, b)
    # Both factors are differentiated: one transpose per factor, the other a constant.
    assert seen == [(UndefinedPrimal, np.ndarray), (np.ndarray, UndefinedPrimal)]
    np.testing.assert_array_equal(da, np.ones((2, 4)) @ b.T)
    np.testing.assert_array_equal(db, a.T @ np.ones((2, 4)))


def test_undefined_primal_and_zero_carry_shape_and_dtype_only() -> None:
    marker = UndefinedPrimal.like(np.ones((2, 3), dtype=np.float32))
    assert (marker.shape, marker.dtype) == ((2, 3), np.float32)
    assert not hasattr(marker, "value")
    assert UndefinedPrimal.like(1.5).shape == ()
    assert Zero((2,), np.dtype(np.float32)).instantiate().dtype == np.float32
    assert Zero((), np.dtype(int)).instantiate() == 0.0
    assert Zero((), np.dtype(np.complex128)).instantiate().dtype == np.complex128


def test_stack_transposes_all_pieces_in_one_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    rule = rules.stack.transpose_rule

    def spy(ct: Any, *xs: Any, **params: Any) -> Any:
        calls.append(sum(type(x) is UndefinedPrimal for x in xs))
        return rule(ct, *xs, **params)

    monkeypatch.setattr(rules.stack, "transpose_rule", spy)
    pieces = [RNG.standard_normal(3) for _ in range(5)]
    weights = RNG.standard_normal((5, 3))
    cts = ad.grad(
        lambda *xs: anp.sum(anp.stack(xs) * weights), argnums=tuple(range(5))
    )(*pieces)
    assert calls == [5]
    np.testing.assert_array_equal(np.stack(cts), weights)


# The primitives given by a JVP alone, at a random point: reverse mode (the JVP
# linearized and transposed) against forward mode's Jacobian, column by column.
def _spd(n: int) -> np.ndarray:
    q, _ = np.linalg.qr(RNG.standard_normal((n, n)))
    return q @ np.diag(np.arange(1.0, n + 1)) @ q.T


JVP_ONLY = {
    "prod": ((RNG.standard_normal((3, 4)),), {"axis": 1}),
    "max": ((RNG.standard_normal((3, 4)),), {"axis": 0}),
    "min": ((RNG.standard_normal((3, 4)),), {}),
    "inv": ((RNG.standard_normal((3, 3)) + 3 * np.eye(3),), {}),
    "solve": (
        (RNG.standard_normal((3, 3)) + 3 * np.eye(3), RNG.standard_normal((3, 2))),
        {},
    ),
    "adjugate": ((RNG.standard_normal((3, 3)) + 3 * np.eye(3),), {}),
    "det": ((RNG.standard_normal((3, 3)) + 3 * np.eye(3),), {}),
    "slogdet": ((RNG.standard_normal((3, 3)) + 3 * np.eye(3),), {}),
    "cholesky": ((_spd(3),), {}),
    "eigh": ((_spd(3),), {}),
    "eigvalsh": ((_spd(3),), {}),
    "svdvals": ((RNG.standard_normal((4, 3)),), {}),
    "svd": ((RNG.standard_normal((4, 3)),), {}),
    "qr": ((RNG.standard_normal((4, 3)),), {}),
    # angle of a real x: derivative 0 (its complex inputs: tests/test_complex.py)
    "angle": ((RNG.standard_normal(4),), {}),
    "pinv": ((RNG.standard_normal((4, 3)),), {}),
}


def test_the_table_of_jvp_only_primitives_is_covered() -> None:
    assert set(JVP_ONLY) == NONLINEAR


def _inner(ct: Any, tangent: Any, several: bool) -> float:
    """<ct, t>, summed over the results of a primitive with several (None: zero)."""
    pairs = zip(ct, tangent, strict=True) if several else [(ct, tangent)]
    return float(
        sum(np.sum(c * t) for c, t in pairs if t is not None and type(c) is not Zero)
    )


def _random_cotangent(prim: Any, ans: Any, drop: int | None = None) -> Any:
    """A random cotangent like ``ans``; result ``drop`` of several gets a Zero."""
    if not prim.multiple_results:
        return RNG.standard_normal(np.shape(ans))
    return tuple(
        Zero(np.shape(a), np.result_type(a)) if k == drop
        else RNG.standard_normal(np.shape(a))
        for k, a in enumerate(ans)
    )  # fmt: skip


# Each primitive with a full cotangent; those with several results also with a
# Zero for their first or second result (a cotangent that never arrived).
TRANSPOSE_CASES = [
    (name, drop)
    for name in sorted(JVP_ONLY)
    for drop in ((None, 0, 1) if RULES[name].multiple_results else (None,))
]


@pytest.mark.parametrize(("name", "drop"), TRANSPOSE_CASES)
def test_transposed_jvp_is_the_transpose_of_the_jvp(name: str, drop: Any) -> None:
    prim = RULES[name]
    args, params = JVP_ONLY[name]
    ans = prim.impl(*args, **params)
    ct = _random_cotangent(prim, ans, drop)
    parents = list(range(len(args)))
    cts = transposed_jvp(prim, ct, ans, args, params, parents)
    # <ct, J t> = <J^T ct, t> for each argument's basis tangents: J^T ct entry by entry.
    for k, (x, got) in enumerate(zip(args, cts, strict=True)):
        want = np.zeros_like(x)
        for idx in np.ndindex(*np.shape(x)):
            t = np.zeros_like(x)
            t[idx] = 1.0
            tangents = [t if j == k else None for j in parents]
            tangent = prim.jvp(tangents, ans, args, params)
            want[idx] = _inner(ct, tangent, prim.multiple_results)
        got = np.zeros_like(x) if got is None else got  # None: a zero cotangent
        # The same products summed in another order: a few roundings apart.
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


def test_a_jvp_rule_not_linear_in_the_tangents_is_refused() -> None:
    for bad in (
        lambda t: t * t,
        lambda t: anp.sin(t),
        lambda t: t + 1.0,
        lambda t: anp.linalg.inv(t + np.eye(2)),
    ):

        @ad.custom_jvp
        def f(x: Any) -> Any:
            return x

        @f.defjvp
        def _(primals: tuple, tangents: tuple, bad: Any = bad) -> tuple:
            return primals[0], bad(tangents[0])

        with pytest.raises(ValueError, match="JVP rule of f is not linear"):
            ad.grad(lambda x: anp.sum(f(x)))(np.eye(2))


def test_linear_transpose_of_a_jvp_only_primitive_in_its_linear_argument() -> None:
    # solve(A, b) is linear in b: its transpose rule, not the transposed JVP.
    a = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    ct = RNG.standard_normal(3)
    (got,) = ad.linear_transpose(lambda b: anp.linalg.solve(a, b), np.zeros(3))(ct)
    np.testing.assert_allclose(got, np.linalg.solve(a.T, ct), rtol=1e-13)


# -- custom_vjp: fwd in the forward pass, residuals kept for bwd ------------------------
def test_custom_vjp_runs_fwd_in_the_forward_pass_and_hands_its_residuals_to_bwd() -> (
    None
):
    events: list[str] = []
    rng = np.random.default_rng(3)

    @ad.custom_vjp
    def noisy(x: Any) -> Any:
        return x

    def fwd(x: Any) -> tuple:
        events.append("fwd")
        noise = rng.standard_normal()  # a different draw on every call
        return x + noise, noise

    def bwd(noise: Any, g: Any) -> tuple:
        events.append("bwd")
        return (g * noise,)

    noisy.defvjp(fwd, bwd)
    value, vjp_fn = ad.vjp(noisy, 2.0)
    assert events == ["fwd"]  # before any backward pass
    noise = value - 2.0  # what fwd drew, read from the forward value
    assert vjp_fn(1.0) == (noise,)  # the same draw reached bwd: one run of fwd
    assert vjp_fn(3.0) == (3.0 * noise,)
    assert events == ["fwd", "bwd", "bwd"]


def test_custom_vjp_bwd_is_differentiated_at_higher_order() -> None:
    @ad.custom_vjp
    def cube(x: Any) -> Any:
        return x**3

    cube.defvjp(lambda x: (x**3, x), lambda x, g: (3.0 * x**2 * g,))
    # d/dx (3 x^2) = 6 x, d2/dx2 = 6, through bwd's own operations.
    assert ad.grad(cube)(2.0) == 12.0
    assert ad.grad(ad.grad(cube))(2.0) == 12.0
    assert ad.grad(ad.grad(ad.grad(cube)))(2.0) == 6.0
    np.testing.assert_array_equal(
        ad.jacrev(ad.grad(lambda v: anp.sum(cube(v))))(np.array([1.0, 2.0])),
        np.diag([6.0, 12.0]),
    )


def test_transposed_jvps_are_staged_by_jit() -> None:
    # Under jit the primals are a program's abstract values: the linearized JVP is
    # recorded like any other work, and the compiled gradient equals the eager one.
    @ad.custom_jvp
    def log1pexp(x: Any) -> Any:
        return anp.log(1.0 + anp.exp(x))

    @log1pexp.defjvp
    def _(primals: tuple, tangents: tuple) -> tuple:
        (x,), (t,) = primals, tangents
        return log1pexp(x), (1.0 - 1.0 / (1.0 + anp.exp(x))) * t

    x = np.array([0.3, -1.2, 2.0])
    for f in (lambda v: anp.prod(v), lambda v: anp.sum(log1pexp(v))):
        eager, staged = ad.grad(f)(x), ad.jit(ad.grad(f))(x)
        # The same operations in the same order, compiled or not.
        np.testing.assert_array_equal(staged, eager)
    np.testing.assert_allclose(
        ad.grad(lambda v: anp.sum(log1pexp(v)))(x), 1 / (1 + np.exp(-x)), rtol=1e-15
    )


def test_jacfwd_batches_matmul_by_the_primitive_not_its_name() -> None:
    from autodiff_ref.batching import BATCH_RULES
    from autodiff_ref.core import shape_of, unique_name

    # A user's primitive that happens to be called "matmul", whose JVP reads one
    # direction of the argument's shape (as a JVP may). jacfwd is vmap of its JVP:
    # the JVP sees one direction, and the operations it applies to it are batched
    # by their own rules (the table's matmul and reshape, found by object).
    def jvp(ts: Any, ans: Any, a: Any, b: Any) -> Any:
        return rules.matmul(rules.reshape(ts[0], shape=shape_of(a)), b)

    with pytest.raises(ValueError, match="a primitive named 'matmul' exists already"):
        Primitive("matmul", np.matmul, jvp=jvp)
    impostor = Primitive(unique_name("matmul"), np.matmul, jvp=jvp)
    assert rules.matmul in BATCH_RULES and impostor not in BATCH_RULES
    a, b = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 2))
    jac = ad.jacfwd(lambda x: impostor(x, b))(a)
    want = np.einsum("ik,lj->ijkl", np.eye(4), b)  # d(a b)_{ij} / d a_{kl} = δ_ik b_lj
    np.testing.assert_array_equal(jac, want)
