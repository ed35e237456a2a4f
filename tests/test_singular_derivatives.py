"""Derivatives that exist where a matrix is singular are given, not refused.

The determinant is a polynomial in the entries: its gradient is the adjugate
(the transposed cofactor matrix) everywhere, singular matrices included, as
JAX gives it. The references are SymPy's exact adjugate of integer matrices
and the cofactors (minors) of random rank-deficient ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sympy as sp

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import rules

EPS = np.finfo(float).eps


def exact_adjugate(a: np.ndarray) -> np.ndarray:
    """SymPy's adjugate of an integer matrix, in exact arithmetic."""
    return np.array(sp.Matrix(a.astype(int).tolist()).adjugate(), dtype=float)


def cofactor_adjugate(a: np.ndarray) -> np.ndarray:
    """adj(A)[j, i] = (-1)^(i+j) det(A without row i and column j)."""
    n = a.shape[-1]
    c = np.zeros_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            c[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return c.T


def rank_deficient(rng: np.random.Generator, n: int, rank: int) -> np.ndarray:
    return rng.normal(size=(n, rank)) @ rng.normal(size=(rank, n))


def _tolerance(a: np.ndarray) -> float:
    # The adjugate's entries are sums of products of n - 1 entries; the SVD and the
    # minors' LU each round at about n ε of the largest such product.
    n = a.shape[-1]
    scale = max(float(np.max(np.abs(a))), 1.0) ** (n - 1)
    return 64 * n * EPS * scale


def _every_mode(a: np.ndarray) -> dict[str, Any]:
    def total(x: Any) -> Any:
        return anp.linalg.det(x)

    jvp_cols = ad.jacfwd(total)(a)
    return {
        "grad": ad.grad(total)(a),
        "jacfwd": jvp_cols,
        "jacrev": ad.jacrev(total)(a),
        "jit(grad)": ad.jit(ad.grad(total))(a),
    }


INTEGER_SINGULAR = {
    "rank 2 of 3": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),
    "rank 1 of 3": np.outer([1.0, -2.0, 3.0], [2.0, 1.0, -1.0]),
    "rank 3 of 4": np.array(
        [[2.0, 1, 0, 3], [1, 1, 1, 2], [3, 2, 1, 5], [0, 4, -1, 4]]
    ),  # row 3 = row 1 + row 2
    "zero 2 x 2": np.zeros((2, 2)),
}


@pytest.mark.parametrize("name", INTEGER_SINGULAR)
def test_gradient_of_det_at_singular_integer_matrices_is_the_exact_adjugate(
    name: str,
) -> None:
    a = INTEGER_SINGULAR[name]
    assert np.linalg.matrix_rank(a) < a.shape[-1]  # singular indeed
    want = exact_adjugate(a).T  # d det / d A = adj(A)^T
    for mode, got in _every_mode(a).items():
        np.testing.assert_allclose(got, want, rtol=0, atol=_tolerance(a), err_msg=mode)


@pytest.mark.parametrize(("n", "rank"), [(3, 2), (4, 3), (4, 2), (5, 3), (3, 0)])
def test_gradient_of_det_at_rank_deficient_matrices_matches_the_cofactors(
    n: int, rank: int
) -> None:
    a = rank_deficient(np.random.default_rng([n, rank]), n, rank)
    want = cofactor_adjugate(a).T
    if rank <= n - 2:  # every minor of size n - 1 is singular: adj(A) = 0
        np.testing.assert_allclose(want, 0.0, atol=_tolerance(a))
    for mode, got in _every_mode(a).items():
        np.testing.assert_allclose(got, want, rtol=0, atol=_tolerance(a), err_msg=mode)


def test_adjugate_is_det_times_inverse_for_a_stack_of_invertible_matrices() -> None:
    a = np.random.default_rng(7).normal(size=(2, 4, 4)) + 4 * np.eye(4)
    want = np.linalg.det(a)[:, None, None] * np.linalg.inv(a)
    # cond(A) ~ 3 for these matrices: a few n ε of adj's size.
    np.testing.assert_allclose(rules.adjugate(a), want, rtol=1e-13, atol=1e-13)


def test_hessian_of_det_at_a_singular_matrix_is_refused_not_wrong() -> None:
    # The second derivative exists (det is a polynomial) but the adjugate's own
    # rule solves with A: the error names the singular solve, nothing is returned.
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        ad.hessian(anp.linalg.det)(INTEGER_SINGULAR["rank 2 of 3"])


# -- functions symmetric in repeated eigenvalues or singular values ------------------
def _rotated(values: list[float], seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(values),) * 2))
    return q @ np.diag(values) @ q.T


def _central(f: Any, a: np.ndarray, e: np.ndarray, h: float = 1e-6) -> Any:
    return (np.asarray(f(a + h * e)) - np.asarray(f(a - h * e))) / (2 * h)


REPEATED = {
    "identity": np.eye(3),
    "pair of 3": _rotated([1.0, 1.0, 2.0], 1),
    "triple of 4": _rotated([-0.5, 2.0, 2.0, 2.0], 2),
}


@pytest.mark.parametrize("name", REPEATED)
def test_sum_of_eigvalsh_at_repeated_eigenvalues_is_the_trace(name: str) -> None:
    a = REPEATED[name]
    n = a.shape[-1]
    for mode, got in {
        "grad": ad.grad(lambda x: anp.sum(anp.linalg.eigvalsh(x)))(a),
        "jit(grad)": ad.jit(ad.grad(lambda x: anp.sum(anp.linalg.eigvalsh(x))))(a),
    }.items():
        # d tr(A) = I: V V^T summed from an eigendecomposition, a few n ε off.
        np.testing.assert_allclose(
            got, np.eye(n), rtol=0, atol=64 * n * EPS, err_msg=mode
        )


@pytest.mark.parametrize("name", REPEATED)
def test_eigvalsh_at_repeated_eigenvalues_shares_their_tangent(name: str) -> None:
    # Each repeated eigenvalue gets the mean tangent of its cluster: the derivative of
    # the cluster's mean, a symmetric function, so central differences of it check it.
    a = REPEATED[name]
    w = np.linalg.eigvalsh(a)
    clusters = np.isclose(w[:, None], w[None, :], rtol=0, atol=1e-9)
    e = np.random.default_rng(9).normal(size=a.shape)
    e = (e + e.T) / 2

    def means(x: np.ndarray) -> np.ndarray:
        return clusters @ np.linalg.eigvalsh(x) / clusters.sum(axis=1)

    _, tangent = ad.jvp(anp.linalg.eigvalsh, (a,), (e,))
    _, pullback = ad.vjp(anp.linalg.eigvalsh, a)
    # Central differences of a smooth function: good to about h² and ε / h.
    np.testing.assert_allclose(tangent, _central(means, a, e), rtol=0, atol=1e-7)
    u = np.random.default_rng(10).normal(size=w.shape)
    (ct,) = pullback(u)  # the dot-product test: u . (J e) = (J^T u) . e
    assert np.sum(u * tangent) == pytest.approx(np.sum(ct * e), rel=1e-12, abs=1e-12)


SINGULAR_VALUES = {
    "2 I": 2 * np.eye(3),
    "pair, square": _rotated([3.0, 3.0, 1.0], 3),
    "pair, 4 x 3": np.linalg.qr(np.random.default_rng(4).normal(size=(4, 3)))[0]
    @ np.diag([2.0, 2.0, 0.5])
    @ np.linalg.qr(np.random.default_rng(5).normal(size=(3, 3)))[0],
}


@pytest.mark.parametrize("name", SINGULAR_VALUES)
def test_nuclear_norm_at_repeated_singular_values_is_the_polar_factor(
    name: str,
) -> None:
    # For full-rank A = U S V^T, d ||A||_* / dA = U V^T: unique even where singular
    # values repeat (it is the polar factor of A).
    a = SINGULAR_VALUES[name]
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    assert np.min(np.diff(np.sort(s))) < 1e-12  # a repeated value indeed
    polar = u @ vh
    for mode, got in {
        "grad nuc": ad.grad(lambda x: anp.linalg.norm(x, "nuc"))(a),
        "jit(grad) nuc": ad.jit(ad.grad(lambda x: anp.linalg.norm(x, "nuc")))(a),
        "jacrev sum svd": ad.jacrev(
            lambda x: anp.sum(anp.linalg.svd(x, compute_uv=False))
        )(a),
        "jacfwd sum svd": ad.jacfwd(
            lambda x: anp.sum(anp.linalg.svd(x, compute_uv=False))
        )(a),
    }.items():
        # U V^T from two SVDs of the same matrix: a few n ε of its unit size.
        np.testing.assert_allclose(got, polar, rtol=0, atol=1e-13, err_msg=mode)


def test_eigenvectors_and_singular_vectors_at_repeated_values_are_still_refused() -> (
    None
):
    with pytest.raises(ValueError, match=r"derivative of eigh does not exist.*equal"):
        ad.jacfwd(lambda x: anp.linalg.eigh(x)[1])(REPEATED["pair of 3"])
    with pytest.raises(ValueError, match=r"derivative of svd does not exist.*equal"):
        ad.grad(lambda x: anp.sum(anp.linalg.svd(x)[0]))(SINGULAR_VALUES["2 I"])
    # A zero singular value of a non-square matrix: |.| has no derivative at 0.
    with pytest.raises(ValueError, match="zero singular value"):
        ad.grad(lambda x: anp.linalg.norm(x, "nuc"))(np.ones((3, 2)))
