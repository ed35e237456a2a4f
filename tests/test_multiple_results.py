"""Primitives with several results: eigh, svd, qr and slogdet return tuples.

The primitive itself returns NumPy's tuple (no packing into one array), and
every interpreter handles the tuple: forward mode (a dual per result), reverse
mode (one transposed JVP for all results, a Zero for a result no cotangent
reaches), Taylor mode, programs (one equation binds several variables) and the
evaluation trace.  Derivatives are checked against closed forms and defining
equations, central differences and the other mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import rules
from autodiff_ref.evaluation_trace import trace_evaluation
from autodiff_ref.graph import graph_of
from autodiff_ref.program import simplify

RNG = np.random.default_rng(19)
N = 4


def _spd(n: int = N) -> np.ndarray:
    q, _ = np.linalg.qr(RNG.standard_normal((n, n)))
    return q @ np.diag(np.arange(1.0, n + 1) ** 1.5) @ q.T  # distinct eigenvalues


def _sym(n: int = N) -> np.ndarray:
    d = RNG.standard_normal((n, n))
    return d + d.T


SPD = _spd()
TALL = RNG.standard_normal((6, N))
SQUARE = RNG.standard_normal((N, N)) + N * np.eye(N)
WIDE = RNG.standard_normal((N, 6))


# -- the primitive's own value is NumPy's tuple ------------------------------------
@pytest.mark.parametrize(
    ("prim", "numpy", "a"),
    [
        (rules.eigh, np.linalg.eigh, SPD),
        (rules.svd, lambda a: np.linalg.svd(a, full_matrices=False), TALL),
        (rules.qr, np.linalg.qr, TALL),
        (rules.slogdet, np.linalg.slogdet, SQUARE),
    ],
    ids=["eigh", "svd", "qr", "slogdet"],
)
def test_the_primitive_returns_numpys_tuple(
    prim: Any, numpy: Callable, a: np.ndarray
) -> None:
    assert prim.multiple_results
    got, want = prim(a), numpy(a)
    assert type(got) is tuple and len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)  # the same LAPACK call


def test_svd_without_vectors_and_eigvalsh_return_one_array() -> None:
    s = anp.linalg.svd(TALL, compute_uv=False)
    w = anp.linalg.eigvalsh(SPD)
    assert type(s) is np.ndarray and type(w) is np.ndarray
    # The values come from NumPy's values-only routines (the same LAPACK calls, so
    # equal); the decompositions with vectors round differently (a few ulps).
    np.testing.assert_array_equal(s, np.linalg.svd(TALL, compute_uv=False))
    np.testing.assert_array_equal(w, np.linalg.eigvalsh(SPD))
    np.testing.assert_allclose(
        s, np.linalg.svd(TALL, full_matrices=False)[1], rtol=1e-14
    )
    np.testing.assert_allclose(w, np.linalg.eigh(SPD)[0], rtol=1e-14)
    # Their gradients: ds_k = u_k^T dA v_k and dw_k = v_k^T dA v_k.
    u, _, vh = np.linalg.svd(TALL, full_matrices=False)
    v = np.linalg.eigh(SPD)[1]
    # Tolerance: the rule's products and these outer products round differently.
    np.testing.assert_allclose(
        ad.grad(lambda m: anp.linalg.svd(m, compute_uv=False)[0])(TALL),
        np.outer(u[:, 0], vh[0]), rtol=1e-12, atol=1e-14,
    )  # fmt: skip
    np.testing.assert_allclose(
        ad.grad(lambda m: anp.linalg.eigvalsh(m)[-1])(SPD),
        np.outer(v[:, -1], v[:, -1]), rtol=1e-12, atol=1e-14,
    )  # fmt: skip


# -- derivatives against closed forms and defining equations -------------------------
def test_eigh_tangents_solve_the_perturbed_eigenproblem() -> None:
    da = _sym()
    (w, v), (dw, dv) = ad.jvp(lambda m: tuple(anp.linalg.eigh(m)), (SPD,), (da,))
    np.testing.assert_array_equal(w, np.linalg.eigh(SPD)[0])
    # dw_i = v_i^T dA v_i (first-order perturbation theory).
    # Tolerance: the same sums in another order (a few roundings at 1e-15 scale).
    np.testing.assert_allclose(dw, np.einsum("ji,jk,ki->i", v, da, v), rtol=1e-12)
    # (A - w_i) dv_i = -(dA - dw_i) v_i, and v_i^T dv_i = 0 (unit length kept).
    for i in range(N):
        lhs = (SPD - w[i] * np.eye(N)) @ dv[:, i]
        rhs = -(da - dw[i] * np.eye(N)) @ v[:, i]
        np.testing.assert_allclose(lhs, rhs, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(np.einsum("ji,ji->i", v, dv), 0.0, atol=1e-13)


def test_svd_tangents_match_the_singular_value_formula_and_reconstruct() -> None:
    da = RNG.standard_normal(TALL.shape)
    (u, s, vh), (du, ds, dvh) = ad.jvp(
        lambda m: tuple(anp.linalg.svd(m, full_matrices=False)), (TALL,), (da,)
    )
    # ds_i = u_i^T dA v_i; d(U S Vh) = dA (the product rule of the reconstruction).
    # Tolerance: different sums of the same products (rounding only).
    np.testing.assert_allclose(ds, np.einsum("ji,jk,ik->i", u, da, vh), rtol=1e-12)
    product = du @ np.diag(s) @ vh + u @ np.diag(ds) @ vh + u @ np.diag(s) @ dvh
    np.testing.assert_allclose(product, da, rtol=1e-11, atol=1e-12)


def test_qr_tangents_keep_q_orthonormal_and_r_triangular() -> None:
    da = RNG.standard_normal(TALL.shape)
    (q, r), (dq, dr) = ad.jvp(lambda m: tuple(anp.linalg.qr(m)), (TALL,), (da,))
    # dQ R + Q dR = dA; Q^T dQ antisymmetric; dR upper triangular.
    # Tolerance: products of rounded factors (a few ulps of their norms).
    np.testing.assert_allclose(dq @ r + q @ dr, da, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(q.T @ dq, -(q.T @ dq).T, atol=1e-12)
    assert np.all(np.tril(dr, -1) == 0.0)  # exact: multiplied by zeros


def test_slogdet_gradient_is_the_inverse_transpose_and_the_sign_is_constant() -> None:
    sign, logdet = anp.linalg.slogdet(SQUARE)
    assert (sign, logdet) == tuple(np.linalg.slogdet(SQUARE))
    # Tolerance: inv and the transposed solve round differently.
    np.testing.assert_allclose(
        ad.grad(lambda m: anp.linalg.slogdet(m)[1])(SQUARE),
        np.linalg.inv(SQUARE).T, rtol=1e-12, atol=1e-14,
    )  # fmt: skip
    # The sign is piecewise constant: only its value enters sign * logdet's gradient.
    np.testing.assert_allclose(
        ad.grad(lambda m: anp.linalg.slogdet(m)[0] * anp.linalg.slogdet(m)[1])(-SQUARE),
        np.linalg.slogdet(-SQUARE)[0] * np.linalg.inv(-SQUARE).T, rtol=1e-12,
        atol=1e-14,
    )  # fmt: skip


# -- every mode, every result --------------------------------------------------------
CASES: dict[str, tuple[Callable[[Any], Any], np.ndarray, bool]] = {
    # name: (all results of one call, point, symmetric directions only)
    "eigh": (lambda m: anp.linalg.eigh(m), SPD, True),
    "svd": (lambda m: anp.linalg.svd(m, full_matrices=False), TALL, False),
    "svd wide": (lambda m: anp.linalg.svd(m, full_matrices=False), WIDE, False),
    "qr": (lambda m: anp.linalg.qr(m), TALL, False),
    "slogdet": (lambda m: anp.linalg.slogdet(m), SQUARE, False),
}


def _direction(a: np.ndarray, symmetric: bool) -> np.ndarray:
    d = RNG.standard_normal(a.shape)
    return d + d.T if symmetric else d


def _weights(results: Any) -> list[np.ndarray]:
    return [RNG.standard_normal(np.shape(r)) for r in results]


def _loss(decompose: Callable, weights: list[np.ndarray], only: int | None) -> Callable:
    """A scalar of all results (``only=k``: of result k alone), nonlinear in each."""

    def loss(m: Any) -> Any:
        parts = decompose(m)
        total = 0.0
        for k, (r, w) in enumerate(zip(parts, weights, strict=True)):
            if only is None or only == k:
                total = total + anp.sum(w * anp.sin(r))
        return total

    return loss


@pytest.mark.parametrize("only", [None, 0, 1])
@pytest.mark.parametrize("name", CASES)
def test_gradient_equals_forward_mode_and_central_differences(
    name: str, only: int | None
) -> None:
    decompose, a, symmetric = CASES[name]
    f = _loss(decompose, _weights(decompose(a)), only)
    d = _direction(a, symmetric)
    g = ad.grad(f)(a)
    _, t = ad.jvp(f, (a,), (d,))
    h = 1e-6
    central = (f(a + h * d) - f(a - h * d)) / (2 * h)
    # Tolerance: reverse and forward run different operations (transposed vs not).
    np.testing.assert_allclose(np.sum(g * d), t, rtol=1e-11, atol=1e-13)
    # Tolerance: central differences, truncation O(h^2) and rounding O(eps / h).
    np.testing.assert_allclose(t, central, rtol=1e-7, atol=1e-8)
    if only == 0 and name == "slogdet":  # the sign: zero derivative
        assert np.all(g == 0.0)


@pytest.mark.parametrize("name", CASES)
def test_jacobians_of_every_result_agree_between_modes(name: str) -> None:
    decompose, a, _ = CASES[name]

    def results(m: Any) -> tuple:
        return tuple(decompose(m))

    forward, reverse = ad.jacfwd(results)(a), ad.jacrev(results)(a)
    assert len(forward) == len(reverse) == len(results(a))
    for jf, jr in zip(forward, reverse, strict=True):
        # Tolerance: the two modes run different operations.
        np.testing.assert_allclose(jr, jf, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_hessian_forward_over_reverse_equals_reverse_over_reverse(name: str) -> None:
    decompose, a, _ = CASES[name]
    f = _loss(decompose, _weights(decompose(a)), None)
    # Tolerance: the two run different operations in different orders.
    np.testing.assert_allclose(
        ad.hessian(f)(a), ad.jacrev(ad.grad(f))(a), rtol=1e-9, atol=1e-11
    )


@pytest.mark.parametrize("name", CASES)
def test_taylor_coefficients_equal_the_jvp_and_the_hessian(name: str) -> None:
    decompose, a, symmetric = CASES[name]
    f = _loss(decompose, _weights(decompose(a)), None)
    d = _direction(a, symmetric)
    _, (first, second) = ad.jet(f, (a,), ((d, np.zeros_like(d)),))
    _, t = ad.jvp(f, (a,), (d,))
    quadratic = d.ravel() @ ad.hessian(f)(a).reshape(d.size, d.size) @ d.ravel()
    # Tolerance: the same derivative by other operations (series vs duals).
    np.testing.assert_allclose(first, t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(second, quadratic, rtol=1e-10, atol=1e-12)


def test_a_cotangent_for_one_result_only() -> None:
    # vjp of (Q, R) with a cotangent for Q alone equals the gradient of <ct, Q>,
    # and its transpose check against forward mode holds.
    ct_q = RNG.standard_normal((6, N))
    zeros_r = np.zeros((N, N))
    _, pullback = ad.vjp(lambda m: tuple(anp.linalg.qr(m)), TALL)
    (bar,) = pullback((ct_q, zeros_r))
    by_grad = ad.grad(lambda m: anp.sum(ct_q * anp.linalg.qr(m)[0]))(TALL)
    # Tolerance: the zero cotangent of R is added in one, left out in the other.
    np.testing.assert_allclose(bar, by_grad, rtol=1e-13, atol=1e-15)
    d = RNG.standard_normal(TALL.shape)
    _, (dq, _) = ad.jvp(lambda m: tuple(anp.linalg.qr(m)), (TALL,), (d,))
    np.testing.assert_allclose(np.sum(bar * d), np.sum(ct_q * dq), rtol=1e-12)


# -- programs: one equation binds several variables ------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_jit_and_make_program_of_each(name: str) -> None:
    decompose, a, _ = CASES[name]
    weights = _weights(decompose(a))
    f = _loss(decompose, weights, None)
    program = ad.make_program(f)(a)
    # One equation, several variables: "v1, v2  eigh(m)" (the listing's first row).
    variables, expression, _ = program.rows()[0]
    assert variables == ", ".join(f"v{k + 1}" for k in range(len(weights)))
    assert expression.endswith("(m)")
    assert f"{variables} = " in program.source
    # The same NumPy calls in the same order: equal to the last bit.
    assert program(a) == f(a)
    assert program.compile(use_math=False)(a) == f(a)
    assert simplify(program)(a) == f(a)
    assert ad.jit(f)(a) == f(a)
    # Derivatives staged on types alone (abstract evaluation), equal to eager ones.
    # Tolerance: jit's generated code and simplifier may round the last bit.
    for transform in (ad.grad, ad.jacfwd):
        np.testing.assert_allclose(
            ad.jit(transform(f))(a), transform(f)(a), rtol=1e-13, atol=1e-14
        )
    # A second call of the same decomposition is the same equation: CSE keeps one.
    twice = ad.make_program(lambda m: f(m) + _loss(decompose, weights, 0)(m))(a)
    calls = [eq for eq in simplify(twice).equations if eq.prim.multiple_results]
    assert len(calls) == 1


@pytest.mark.parametrize("name", CASES)
def test_linearize_and_linear_transpose_of_each(name: str) -> None:
    decompose, a, symmetric = CASES[name]
    f = _loss(decompose, _weights(decompose(a)), None)
    d = _direction(a, symmetric)
    _, f_lin = ad.linearize(f, a)
    _, t = ad.jvp(f, (a,), (d,))
    # Tolerance: the staged tangent program and the duals run different operations.
    np.testing.assert_allclose(f_lin(d), t, rtol=1e-12, atol=1e-14)
    (bar,) = ad.linear_transpose(f_lin, a)(1.0)
    np.testing.assert_allclose(bar, ad.grad(f)(a), rtol=1e-11, atol=1e-13)


# -- the evaluation trace ------------------------------------------------------------
def test_the_evaluation_trace_shows_the_call_and_each_result() -> None:
    def f(m: Any) -> Any:
        w, _ = anp.linalg.eigh(m)  # the eigenvectors are computed, not used
        return anp.sum(w**2)

    tr = trace_evaluation(f, SPD)
    call, first, second = tr.rows[1:4]
    assert call.expression == "eigh(v_0)" and first.expression == "v_1[0]"
    assert second.expression == "v_1[1]"
    np.testing.assert_array_equal(call.primal[0], np.linalg.eigh(SPD)[0])
    # Only the eigenvalues reach the output: the eigenvectors' adjoint is zero.
    assert np.all(second.adjoint == 0.0) and np.all(call.adjoint[1] == 0.0)
    np.testing.assert_array_equal(tr.gradient[0], ad.grad(f)(SPD))


def test_the_graph_draws_the_call_and_a_node_per_result() -> None:
    g = graph_of(lambda m: anp.sum(anp.linalg.eigh(m)[0] ** 2), SPD)
    labels = [n.label for n in g.nodes]
    assert labels[:4] == ["m", "eigh", "·[0]", "·[1]"]
    # The call feeds both results; only the eigenvalues feed the rest.
    assert {(e.source, e.target) for e in g.edges if e.source == 1} == {(1, 2), (1, 3)}
    assert not any(e.source == 3 for e in g.edges)
