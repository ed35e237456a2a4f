"""Linear algebra of complex matrices, with JAX's conventions (issue 23).

Each function is checked four ways, none of them against this package's own
numbers: the dot-product test of its VJP against its JVP (JAX pairs cotangent
and tangent by ``Re sum(u * t)``, no conjugate: the VJP is the *transpose* of the
JVP), its JVP against central differences along a complex direction (real and
imaginary parts of the input both move), the differentiated defining equations
(``A dV + dA V = dV diag(w) + V diag(dw)``, ``V^H dV`` anti-Hermitian, ...), and
the gradient of a real-valued function against its closed form and against
central differences on the real and imaginary parts of each entry.

JAX's gradient of a real-valued ``f`` of complex ``z = x + iy`` is
``vjp(f, z)[1](1.0) = df/dx - i df/dy`` (the autodiff cookbook, "Complex numbers
and differentiation"): the pairing ``Re(g * t)`` must give
``df = df/dx dx + df/dy dy`` for every ``t = dx + i dy``.

Tolerances: the matrices are well conditioned (condition numbers below about 10,
eigenvalue and singular-value gaps of 0.5 or more), so the JVP and VJP, each a
few LAPACK solves and products of 3 x 3 or 4 x 4 matrices, agree to a few
hundred rounding errors (``rtol=1e-10``).  Central differences with ``h = 1e-5``
are off by about ``h**2 |f'''|``, near 1e-10 here: ``rtol=1e-6`` leaves room.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp

LA = anp.linalg
RTOL_MODES = 1e-10  # JVP against VJP: the same linear map, LAPACK in both
RTOL_FD = 1e-6  # central differences, h = 1e-5: an O(h**2) truncation error
H = 1e-5


def complex_normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def well_conditioned(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Complex matrices 3 I plus noise: far from singular."""
    return complex_normal(rng, *shape) + 3 * np.eye(shape[-1])


def unitary(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return np.linalg.qr(complex_normal(rng, *shape))[0]


def hermitian_pd(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Hermitian positive definite, eigenvalues 1.5, 3, 4.5, ... (gaps of 1.5)."""
    q = unitary(rng, *shape)
    w = 1.5 * np.arange(1.0, shape[-1] + 1)
    return (q * w) @ np.swapaxes(q, -1, -2).conj()


def with_singular_values(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """A complex m x n matrix with singular values 1, 2, ..., min(m, n)."""
    k = min(m, n)
    u, v = unitary(rng, m, k), unitary(rng, n, k)
    return (u * np.arange(1.0, k + 1)) @ v.conj().T


def adjoint(a: Any) -> Any:
    """The conjugate transpose, traced."""
    return anp.swapaxes(anp.conj(a), -1, -2)


def hermitian(a: Any) -> Any:
    """(A + A^H) / 2: lets a function of a Hermitian matrix take any complex matrix."""
    return (a + adjoint(a)) / 2


def projector(vectors: Any, k: int) -> Any:
    """v_k v_k^H: blind to the phase of column k, so it has a unique derivative."""
    column = vectors[..., :, k : k + 1]
    return column @ adjoint(column)


# id -> (function, input drawn from a seeded generator). Every output is a function
# of the input alone (no choice of phase), so central differences can check it.
Case = tuple[Callable[[Any], Any], Callable[[np.random.Generator], np.ndarray]]
CASES: dict[str, Case] = {
    "inv": (LA.inv, lambda r: well_conditioned(r, 3, 3)),
    "inv-stack": (LA.inv, lambda r: well_conditioned(r, 2, 3, 3)),
    "solve": (
        lambda a: LA.solve(a, a[..., :2] + 1j),
        lambda r: well_conditioned(r, 3, 3),
    ),
    "solve-vector": (
        lambda a: LA.solve(a, a[:, 0] * a[:, 1]),
        lambda r: well_conditioned(r, 3, 3),
    ),
    "det": (LA.det, lambda r: well_conditioned(r, 3, 3)),
    "det-stack": (LA.det, lambda r: well_conditioned(r, 2, 3, 3)),
    "slogdet-sign": (lambda a: LA.slogdet(a)[0], lambda r: well_conditioned(r, 3, 3)),
    "slogdet-logabsdet": (
        lambda a: LA.slogdet(a)[1],
        lambda r: well_conditioned(r, 2, 3, 3),
    ),
    "matrix_power-3": (
        lambda a: LA.matrix_power(a, 3),
        lambda r: complex_normal(r, 3, 3),
    ),
    "matrix_power-minus2": (
        lambda a: LA.matrix_power(a, -2),
        lambda r: well_conditioned(r, 3, 3),
    ),
    "cholesky": (lambda a: LA.cholesky(hermitian(a)), lambda r: hermitian_pd(r, 3, 3)),
    "cholesky-upper": (
        lambda a: LA.cholesky(hermitian(a), upper=True),
        lambda r: hermitian_pd(r, 2, 3, 3),
    ),
    "eigvalsh": (lambda a: LA.eigvalsh(hermitian(a)), lambda r: hermitian_pd(r, 4, 4)),
    "eigh-projector": (
        lambda a: projector(LA.eigh(hermitian(a))[1], 1),
        lambda r: hermitian_pd(r, 3, 3),
    ),
    "eigh-projector-stack": (
        lambda a: projector(LA.eigh(hermitian(a))[1], 0),
        lambda r: hermitian_pd(r, 2, 3, 3),
    ),
    "eigvalsh-UPLO-L": (
        lambda a: LA.eigvalsh(a, "L"),
        lambda r: complex_normal(r, 3, 3),
    ),
    "eigvalsh-UPLO-U": (
        lambda a: LA.eigvalsh(a, "U"),
        lambda r: complex_normal(r, 3, 3),
    ),
    "svdvals": (LA.svdvals, lambda r: with_singular_values(r, 3, 3)),
    "svdvals-wide": (LA.svdvals, lambda r: with_singular_values(r, 2, 4)),
    # u_k v_k^H: the phase U and V share cancels; what JAX's phase choice must keep.
    "svd-u0-v0H": (
        lambda a: (lambda r: r[0][:, :1] @ r[2][:1, :])(LA.svd(a)),
        lambda r: with_singular_values(r, 3, 3),
    ),
    "svd-tall-u1-v1H": (
        lambda a: (lambda r: r[0][:, 1:2] @ r[2][1:2, :])(LA.svd(a, False)),
        lambda r: with_singular_values(r, 4, 2),
    ),
    "svd-wide-u1-v1H": (
        lambda a: (lambda r: r[0][:, 1:2] @ r[2][1:2, :])(LA.svd(a, False)),
        lambda r: with_singular_values(r, 2, 4),
    ),
    "svd-U-projector": (
        lambda a: projector(LA.svd(a)[0], 2),
        lambda r: with_singular_values(r, 3, 3),
    ),
    "pinv-tall": (LA.pinv, lambda r: with_singular_values(r, 4, 2)),
    "pinv-wide-stack": (LA.pinv, lambda r: complex_normal(r, 2, 2, 3)),
    # LAPACK's Q and R: R's diagonal real, which fixes the phases JAX's rule keeps.
    "qr-Q": (lambda a: LA.qr(a)[0], lambda r: complex_normal(r, 4, 3)),
    "qr-R-stack": (lambda a: LA.qr(a)[1], lambda r: complex_normal(r, 2, 3, 3)),
    "norm-fro": (lambda a: LA.norm(a, "fro"), lambda r: complex_normal(r, 3, 3)),
    "norm-default": (LA.norm, lambda r: complex_normal(r, 3, 2)),
    "norm-vector": (LA.norm, lambda r: complex_normal(r, 4)),
    "norm-2": (lambda a: LA.norm(a, 2), lambda r: with_singular_values(r, 3, 3)),
    "norm-minus2": (lambda a: LA.norm(a, -2), lambda r: with_singular_values(r, 3, 2)),
    "norm-nuc": (lambda a: LA.norm(a, "nuc"), lambda r: with_singular_values(r, 3, 3)),
}

SEEDS = (0, 1)


def _close(actual: Any, expected: Any, rtol: float) -> None:
    """Relative to the size of the whole result: entries near 0 are not singled out."""
    expected = np.asarray(expected)
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CASES)
def test_vjp_is_the_transpose_of_the_jvp(name: str, seed: int) -> None:
    # Re sum(u * (J v)) == Re sum((u^T J) * v) for complex u and v (JAX's pairing).
    f, draw = CASES[name]
    rng = np.random.default_rng(seed)
    a = draw(rng)
    v = complex_normal(rng, *a.shape)
    out, tangent = ad.jvp(f, (a,), (v,))
    same_out, pullback = ad.vjp(f, a)
    _close(same_out, out, 1e-15)  # the same NumPy calls in the same order
    shape = np.shape(out)
    u = (
        complex_normal(rng, *shape)
        if np.iscomplexobj(out)
        else rng.standard_normal(shape)
    )
    (cotangent,) = pullback(u)
    assert np.shape(cotangent) == a.shape
    lhs = np.sum(u * tangent).real
    rhs = np.sum(cotangent * v).real
    size = np.sum(np.abs(u) * np.abs(tangent)) + np.sum(np.abs(cotangent) * np.abs(v))
    assert abs(lhs - rhs) <= RTOL_MODES * size, (lhs, rhs)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("direction", ["real", "imaginary", "complex"])
def test_jvp_matches_central_differences(name: str, seed: int, direction: str) -> None:
    f, draw = CASES[name]
    rng = np.random.default_rng(seed)
    a = draw(rng)
    step = {"real": 1, "imaginary": 1j, "complex": 1 + 1j}[direction]
    v = (step * rng.standard_normal(a.shape)).astype(complex)  # the primal's dtype
    _, tangent = ad.jvp(f, (a,), (v,))
    central = (np.asarray(f(a + H * v)) - np.asarray(f(a - H * v))) / (2 * H)
    _close(tangent, central, RTOL_FD)


def test_holomorphic_functions_pair_exactly_in_complex_arithmetic() -> None:
    # For a complex-linear JVP (inv, solve, det, matrix_power are holomorphic) the
    # transpose holds for the whole complex number, not only its real part.
    rng = np.random.default_rng(5)
    for name in ("inv", "solve", "det", "matrix_power-3"):
        f, draw = CASES[name]
        a = draw(rng)
        v = complex_normal(rng, *a.shape)
        out, tangent = ad.jvp(f, (a,), (v,))
        u = complex_normal(rng, *np.shape(out))
        (cotangent,) = ad.vjp(f, a)[1](u)
        lhs, rhs = np.sum(u * tangent), np.sum(cotangent * v)
        assert abs(lhs - rhs) <= RTOL_MODES * np.sum(np.abs(u) * np.abs(tangent)), name


# -- the defining equations, differentiated ------------------------------------------
def test_eigh_tangents_solve_the_differentiated_eigen_equation() -> None:
    rng = np.random.default_rng(1)
    a = hermitian_pd(rng, 4, 4)
    da = complex_normal(rng, 4, 4)
    da = (da + da.conj().T) / 2  # a Hermitian direction: A stays Hermitian
    (w, v), (dw, dv) = ad.jvp(LA.eigh, (a,), (da,))
    assert np.isrealobj(w) and np.isrealobj(dw)  # eigenvalues stay real
    # A V = V diag(w)  =>  dA V + A dV = dV diag(w) + V diag(dw)
    _close(da @ v + a @ dv, dv * w + v * dw, RTOL_MODES)
    # V^H V = I  =>  V^H dV is anti-Hermitian; JAX's phase: its diagonal is 0.
    vdv = v.conj().T @ dv
    np.testing.assert_allclose(vdv + vdv.conj().T, 0, atol=1e-13)  # ~ 100 eps
    np.testing.assert_allclose(np.diag(vdv), 0, atol=1e-13)
    # dw = Re diag(V^H dA V), the first-order perturbation of each eigenvalue
    _close(dw, np.diag(v.conj().T @ da @ v).real, RTOL_MODES)


def test_svd_tangents_solve_the_differentiated_factorization() -> None:
    rng = np.random.default_rng(2)
    for m, n in [(3, 3), (4, 2), (2, 4)]:
        a = with_singular_values(rng, m, n)
        da = complex_normal(rng, m, n)
        (u, s, vh), (du, ds, dvh) = ad.jvp(lambda x: LA.svd(x, False), (a,), (da,))
        assert np.isrealobj(s) and np.isrealobj(ds)
        # A = U diag(s) Vh  =>  dA = dU diag(s) Vh + U diag(ds) Vh + U diag(s) dVh
        _close((du * s) @ vh + (u * ds) @ vh + (u * s) @ dvh, da, RTOL_MODES)
        # U^H U = I and Vh Vh^H = I: U^H dU and dVh Vh^H are anti-Hermitian
        udu, dvv = u.conj().T @ du, dvh @ vh.conj().T
        np.testing.assert_allclose(udu + udu.conj().T, 0, atol=1e-12)  # ~ 1000 eps
        np.testing.assert_allclose(dvv + dvv.conj().T, 0, atol=1e-12)
        # JAX's phase choice: V keeps its phase (diag(V^H dV) = 0), U takes it.
        np.testing.assert_allclose(np.diag(dvv), 0, atol=1e-12)
        _close(ds, np.diag(u.conj().T @ da @ vh.conj().T).real, RTOL_MODES)


def test_cholesky_tangent_is_lower_triangular_with_a_real_diagonal() -> None:
    rng = np.random.default_rng(3)
    a = hermitian_pd(rng, 3, 3)
    da = complex_normal(rng, 3, 3)
    da = (da + da.conj().T) / 2
    low, dlow = ad.jvp(LA.cholesky, (a,), (da,))
    # A = L L^H  =>  dA = dL L^H + L dL^H
    _close(dlow @ low.conj().T + low @ dlow.conj().T, da, RTOL_MODES)
    assert np.all(np.triu(dlow, 1) == 0)  # zeros written by Φ's mask, exactly
    np.testing.assert_allclose(np.diag(dlow).imag, 0, atol=1e-13)  # ~ 100 eps


def test_slogdet_sign_turns_as_a_phase() -> None:
    # sign * exp(logabsdet) = det: d sign = i sign Im tr(A^-1 dA), |sign| stays 1.
    rng = np.random.default_rng(4)
    a, da = well_conditioned(rng, 3, 3), complex_normal(rng, 3, 3)
    (sign, logabs), (dsign, dlogabs) = ad.jvp(LA.slogdet, (a,), (da,))
    trace = np.trace(np.linalg.solve(a, da))
    _close(dlogabs, trace.real, RTOL_MODES)
    _close(dsign, 1j * sign * trace.imag, RTOL_MODES)
    assert abs((np.conj(sign) * dsign).real) <= 1e-13 * abs(dsign)  # tangent to |z| = 1
    _, ddet = ad.jvp(LA.det, (a,), (da,))
    _close(dsign * np.exp(logabs) + sign * np.exp(logabs) * dlogabs, ddet, RTOL_MODES)


def test_real_matrices_keep_a_real_sign_with_no_tangent() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    (sign, _), (dsign, _) = ad.jvp(LA.slogdet, (a,), (rng.standard_normal((3, 3)),))
    assert np.isrealobj(sign)
    assert np.all(
        np.asarray(dsign) == 0
    )  # the sign of a real det is piecewise constant


# -- gradients of real-valued functions: JAX's convention ------------------------------
def _jax_gradient(f: Callable[[Any], Any], a: np.ndarray) -> np.ndarray:
    """df/dx - i df/dy, entry by entry, by central differences (JAX's grad, by hand)."""
    g = np.zeros(a.shape, dtype=complex)
    for index in np.ndindex(a.shape):
        e = np.zeros(a.shape)
        e[index] = H
        d_re = (f(a + e) - f(a - e)) / (2 * H)
        d_im = (f(a + 1j * e) - f(a - 1j * e)) / (2 * H)
        g[index] = d_re - 1j * d_im
    return g


def _logdet_through_cholesky(a: Any) -> Any:
    low = LA.cholesky(hermitian(a))
    return 2 * anp.sum(anp.log(anp.real(anp.diagonal(low))))


def _top_eigenvalue(a: Any) -> Any:
    return LA.eigvalsh(hermitian(a))[-1]


def _closed_forms(a: np.ndarray) -> dict[str, tuple[Callable, np.ndarray]]:
    u, _, vh = np.linalg.svd(a)
    herm = (a + a.conj().T) / 2
    _, v = np.linalg.eigh(herm)
    top = v[:, -1:]
    return {
        # d log|det A| = Re tr(A^-1 dA) = Re sum(A^-T * dA): the gradient is A^-T.
        "log|det|": (lambda x: LA.slogdet(x)[1], np.linalg.inv(a).T),
        # d sum(s) = Re tr(U^H dA V): the gradient is conj(U Vh).
        "nuclear norm": (lambda x: LA.norm(x, "nuc"), np.conj(u @ vh)),
        "2-norm": (lambda x: LA.norm(x, 2), np.conj(np.outer(u[:, 0], vh[0]))),
        "Frobenius norm": (lambda x: LA.norm(x, "fro"), np.conj(a) / np.linalg.norm(a)),
        # d w_max = Re(v^H dA v): the gradient is conj(v v^H) = (v v^H)^T.
        "top eigenvalue": (_top_eigenvalue, (top @ top.conj().T).T),
        # log det of the Hermitian part, through L: the gradient is herm^-T.
        "logdet by cholesky": (_logdet_through_cholesky, np.linalg.inv(herm).T),
    }


@pytest.mark.parametrize(
    "name",
    [
        "log|det|",
        "nuclear norm",
        "2-norm",
        "Frobenius norm",
        "top eigenvalue",
        "logdet by cholesky",
    ],
)
def test_gradient_of_a_real_valued_function_follows_jax(name: str) -> None:
    rng = np.random.default_rng(6)
    a = with_singular_values(rng, 3, 3) + 4 * np.eye(3)  # Hermitian part definite
    f, closed_form = _closed_forms(a)[name]
    value, pullback = ad.vjp(f, a)
    assert np.isrealobj(value)
    (gradient,) = pullback(1.0)  # JAX: grad(f)(a) is vjp(f, a)[1](1.0)
    _close(gradient, closed_form, RTOL_MODES)
    _close(gradient, _jax_gradient(lambda x: float(f(x)), a), RTOL_FD)
    _close(ad.grad(f)(a), gradient, 1e-15)  # the same backward pass


def test_holomorphic_jacobians_are_the_complex_derivative() -> None:
    # d(A^-1)_ij / dA_kl = -(A^-1)_ik (A^-1)_lj, and grad det = det(A) A^-T (Jacobi).
    a = well_conditioned(np.random.default_rng(10), 3, 3)
    c = np.linalg.inv(a)
    closed_form = -np.einsum("ik,lj->ijkl", c, c)
    _close(ad.jacfwd(LA.inv, holomorphic=True)(a), closed_form, RTOL_MODES)
    _close(ad.jacrev(LA.inv, holomorphic=True)(a), closed_form, RTOL_MODES)
    jacobi = np.linalg.det(a) * c.T
    _close(ad.grad(LA.det, holomorphic=True)(a), jacobi, RTOL_MODES)
    # A holomorphic f: central differences along a real and an imaginary step agree.
    e = np.zeros((3, 3))
    e[0, 1] = H
    along_real = (np.linalg.det(a + e) - np.linalg.det(a - e)) / (2 * H)
    along_imaginary = (np.linalg.det(a + 1j * e) - np.linalg.det(a - 1j * e)) / (2j * H)
    _close(along_real, jacobi[0, 1], RTOL_FD)
    _close(along_imaginary, jacobi[0, 1], RTOL_FD)


def test_svd_reconstructs_its_matrix_in_both_modes() -> None:
    # U diag(s) Vh = A: the identity map, whose JVP is dA and VJP the cotangent; the
    # real s meets the complex U here, so its cotangent must come back real.
    rng = np.random.default_rng(11)
    a, da, ct = (complex_normal(rng, 3, 3) for _ in range(3))

    def reconstruct(x: Any) -> Any:
        u, s, vh = LA.svd(x)
        return (u * s) @ vh

    _close(ad.jvp(reconstruct, (a,), (da,))[1], da, RTOL_MODES)
    _close(ad.vjp(reconstruct, a)[1](ct)[0], ct, RTOL_MODES)


# -- what is refused -----------------------------------------------------------------
def test_eigh_and_cholesky_refuse_a_complex_matrix_that_is_not_hermitian() -> None:
    a = np.array([[2.0, 1j], [1j, 2.0]])  # complex symmetric, not Hermitian
    for f in (LA.eigh, LA.cholesky):
        with pytest.raises(ValueError, match="Hermitian"):
            f(a)


def test_pinv_refuses_a_derivative_without_full_rank() -> None:
    a = np.outer([1.0, 2.0, 3.0], [1.0, 1j])  # rank 1
    np.testing.assert_allclose(LA.pinv(a), np.linalg.pinv(a), rtol=1e-15)  # the value
    with pytest.raises(ValueError, match="without full rank"):
        ad.jvp(LA.pinv, (a,), (np.ones((3, 2), complex),))


def test_qr_tangents_keep_q_unitary_and_r_triangular_with_a_real_diagonal() -> None:
    rng = np.random.default_rng(7)
    a, da = complex_normal(rng, 4, 3), complex_normal(rng, 4, 3)
    (q, r), (dq, dr) = ad.jvp(LA.qr, (a,), (da,))
    _close(dq @ r + q @ dr, da, RTOL_MODES)  # A = Q R, differentiated
    qdq = q.conj().T @ dq
    np.testing.assert_allclose(qdq + qdq.conj().T, 0, atol=1e-13)  # ~ 100 eps
    assert np.all(np.tril(dr, -1) == 0)  # written as zeros by the triangle's mask
    np.testing.assert_allclose(
        np.diag(dr).imag, 0, atol=1e-13
    )  # LAPACK's real diagonal


def test_svd_of_a_complex_matrix_with_a_zero_singular_value_is_refused() -> None:
    # Then u_k and v_k have independent phases: no derivative of U is unique.
    rng = np.random.default_rng(8)
    u, v = unitary(rng, 3, 3), unitary(rng, 3, 3)
    a = (u * np.array([2.0, 1.0, 0.0])) @ v.conj().T
    with pytest.raises(ValueError, match="zero singular value"):
        ad.jvp(LA.svd, (a,), (np.ones((3, 3), complex),))


def test_staged_programs_know_the_real_results() -> None:
    # A program records eigh's w, svd's s and slogdet's log|det| as real arrays.
    rng = np.random.default_rng(9)
    a = hermitian_pd(rng, 3, 3)

    def f(x: Any) -> Any:
        w = LA.eigvalsh(x)
        s = LA.svdvals(x)
        return w + s + LA.slogdet(x)[1]

    jitted = ad.jit(f)(a)
    assert jitted.dtype == np.float64
    _close(jitted, f(a), 1e-15)  # the same NumPy calls in the same order


def test_jit_of_a_complex_gradient_is_the_gradient() -> None:
    # The staged program runs the same primitives in the same order: equal, exactly.
    rng = np.random.default_rng(12)
    a = well_conditioned(rng, 3, 3)
    h = hermitian_pd(rng, 3, 3)
    functions = [
        (lambda m: LA.slogdet(m)[1], a),
        (lambda m: LA.norm(m, "nuc"), a),
        (lambda m: LA.eigvalsh(m)[-1], h),
        (lambda m: anp.sum(anp.abs(LA.cholesky(m))), h),
        (lambda m: anp.sum(anp.abs(LA.pinv(m))), a),
    ]
    for f, x in functions:
        np.testing.assert_array_equal(ad.jit(ad.grad(f))(x), ad.grad(f)(x))
