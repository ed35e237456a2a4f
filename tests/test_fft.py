"""autodiff_ref.numpy.fft against numpy.fft, the dot-product test and Parseval.

The transforms are linear, so three references pin them down: their values are
NumPy's; forward mode's tangent J v equals central differences of NumPy's
function; and reverse mode's transpose satisfies the dot-product test
``u . (J v) == (J^T u) . v`` in JAX's pairing, ``sum(u * w)`` without conjugation
(its real part where the input is real: a real input's cotangent is the real
part of the complex one).  Parseval's theorem gives a closed-form gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp

RNG = np.random.default_rng(23)
NORMS = [None, "backward", "ortho", "forward"]
REAL = RNG.normal(size=(4, 6))
COMPLEX = RNG.normal(size=(4, 6)) + 1j * RNG.normal(size=(4, 6))
HALF = RNG.normal(size=(4, 4)) + 1j * RNG.normal(size=(4, 4))  # rfft-shaped input

# id -> (ours, NumPy's, input): each transform, with n/s, axis/axes.
TRANSFORMS: dict[str, tuple[Callable[..., Any], Callable[..., Any], np.ndarray]] = {}


def _case(name: str, x: np.ndarray, **kw: Any) -> None:
    key = f"{name}-{x.dtype.kind}-" + ",".join(f"{k}={v}" for k, v in kw.items())
    TRANSFORMS[key] = (
        lambda a, norm, _n=name, _kw=kw: getattr(anp.fft, _n)(a, norm=norm, **_kw),
        lambda a, norm, _n=name, _kw=kw: getattr(np.fft, _n)(a, norm=norm, **_kw),
        x,
    )


for _name in ("fft", "ifft"):
    _case(_name, COMPLEX)
    _case(_name, REAL, axis=0)
    _case(_name, COMPLEX, n=4)  # cut
    _case(_name, COMPLEX, n=9, axis=0)  # padded
for _name in ("fft2", "ifft2", "fftn", "ifftn"):
    _case(_name, COMPLEX)
    _case(_name, REAL, s=(5, 3), axes=(1, 0))
_case("fftn", COMPLEX, axes=(0,))
_case("rfft", REAL)
_case("rfft", REAL, n=5, axis=0)
_case("rfft", REAL, n=8)
_case("irfft", HALF)
_case("irfft", HALF, n=7, axis=0)
_case("irfft", HALF, n=4)
_case("rfft2", REAL)
_case("rfftn", REAL, s=(3, 5), axes=(0, 1))
_case("irfft2", HALF)
_case("irfftn", HALF, s=(5, 5), axes=(1, 0))
_case("irfftn", HALF, axes=(0,))


def _random_like(y: Any, complex_: bool) -> np.ndarray:
    u = RNG.normal(size=np.shape(y))
    return u + 1j * RNG.normal(size=np.shape(y)) if complex_ else u


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_values_equal_numpys(name: str, norm: str | None) -> None:
    ours, theirs, x = TRANSFORMS[name]
    want = theirs(x, norm)
    value, _ = ad.jvp(lambda a: ours(a, norm), (x,), (np.ones_like(x),))
    assert np.shape(value) == np.shape(want) and np.result_type(value) == want.dtype
    # The same pocketfft calls on the same numbers, but a cut or padded input is
    # made by indexing here and inside NumPy's C code there: allow a few roundings
    # of a sum of 24 terms of size ~5.
    np.testing.assert_allclose(value, want, rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(ours(x, norm), want, rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_dot_product_test(name: str, norm: str | None) -> None:
    """u . (J v) == (J^T u) . v with complex u and v (real where the map wants it)."""
    ours, _, x = TRANSFORMS[name]

    def f(a: Any) -> Any:
        return ours(a, norm)

    real_input = not np.iscomplexobj(x)
    v = _random_like(x, not real_input)
    y, jv = ad.jvp(f, (x,), (v,))
    u = _random_like(y, np.iscomplexobj(y))  # a real output takes real cotangents
    _, pullback = ad.vjp(f, x)
    (jtu,) = pullback(u)
    assert np.shape(jtu) == np.shape(x)
    assert np.iscomplexobj(jtu) == (not real_input)  # a real input: a real cotangent
    left, right = np.sum(u * jv), np.sum(jtu * v)
    # JAX's identity is in the real pairing, Re(u . J v) == Re(J^T u . v); a map that
    # is complex-linear (not irfft, which reads conjugates; not one of a real input)
    # satisfies it for i u too, so the complex sums agree whole.
    # Two sums of ~100 products of size ~10: rounding of order 1e-13 relative.
    np.testing.assert_allclose(right.real, left.real, rtol=1e-12, atol=1e-12)
    if not real_input and not name.startswith("irfft"):
        np.testing.assert_allclose(right, left, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_jvp_equals_central_differences(name: str) -> None:
    ours, theirs, x = TRANSFORMS[name]
    v = _random_like(x, np.iscomplexobj(x))
    _, tangent = ad.jvp(lambda a: ours(a, "ortho"), (x,), (v,))
    h = 1e-6  # linear maps: central differences are exact but for rounding, ~eps / h
    reference = (theirs(x + h * v, "ortho") - theirs(x - h * v, "ortho")) / (2 * h)
    np.testing.assert_allclose(tangent, reference, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("norm", NORMS)
def test_parseval_gives_the_gradient_of_the_energy(norm: str | None) -> None:
    """sum |y|**2 = c n sum x**2 for y = fft(x) or ifft(x), c set by the norm.

    fft scales by 1, 1/sqrt(n), 1/n (backward, ortho, forward), so c = 1, 1/n, 1/n**2;
    ifft by 1/n, 1/sqrt(n), 1, so c = 1/n**2, 1/n, 1.  The gradient of the energy is
    2 Re(J^T conj(y)): the pullback of conj(y) in JAX's pairing, doubled.  The
    closed form is 2 c n x.
    """
    x = RNG.normal(size=8)
    n = x.size
    c = {
        anp.fft.fft: {"backward": 1.0, "ortho": 1.0 / n, "forward": 1.0 / n**2},
        anp.fft.ifft: {"backward": 1.0 / n**2, "ortho": 1.0 / n, "forward": 1.0},
    }
    for transform, scales in c.items():
        scale = scales[norm or "backward"]
        y, pullback = ad.vjp(lambda a, t=transform: t(a, norm=norm), x)
        np.testing.assert_allclose(np.sum(np.abs(y) ** 2), scale * n * np.sum(x**2))
        gradient = 2 * pullback(np.conj(y))[0]
        np.testing.assert_allclose(gradient, 2 * scale * n * x, rtol=1e-13, atol=1e-14)
        jitted = ad.jit(
            lambda a, ct, t=transform: ad.vjp(lambda b: t(b, norm=norm), a)[1](ct)[0]
        )
        np.testing.assert_allclose(2 * jitted(x, np.conj(y)), gradient, rtol=1e-14)


def test_real_losses_differentiate_under_jit() -> None:
    """grad of real losses built from irfft, jitted and not, against closed forms.

    sum(irfft(x, n)) is the mean of the n values times n: only the zero frequency
    x[0] counts, with weight 1.  irfft(rfft(a)) is a itself, so sum(irfft(rfft(a)) * a)
    is sum(a * a), with gradient 2 a.
    """
    half = RNG.normal(size=5)
    g = ad.grad(lambda a: anp.sum(anp.fft.irfft(a, n=8)))
    np.testing.assert_allclose(g(half), [1.0, 0.0, 0.0, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(ad.jit(g)(half), g(half), rtol=1e-14, atol=1e-15)
    x = RNG.normal(size=7)
    loss = ad.grad(lambda a: anp.sum(anp.fft.irfft(anp.fft.rfft(a), n=7) * a))
    np.testing.assert_allclose(loss(x), 2 * x, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(ad.jit(loss)(x), loss(x), rtol=1e-14, atol=1e-15)


def test_second_derivative_through_a_round_trip_is_the_closed_form() -> None:
    """Second order: irfft(rfft(x) * w) is a circular convolution, linear in x.

    The energy's Hessian is 2 C^T C for the convolution matrix C, in every nesting:
    forward over forward (each transform's JVP is the transform), forward over
    reverse (rfft's transpose is irfft's, irfft's is ifft's: linear maps again),
    and jitted.
    """
    x = RNG.normal(size=6)
    w = np.fft.rfft(np.array([1.0, 0.5, 0.0, 0.0, 0.0, 0.25]))

    def energy(a: Any) -> Any:
        y = anp.fft.irfft(anp.fft.rfft(a) * w, n=6)
        return anp.sum(y * y)

    matrix = np.fft.irfft(np.fft.rfft(np.eye(6), axis=0) * w[:, None], n=6, axis=0)
    # Sums of 6 products of size ~1, each a few FFT roundings: 1e-13 absolute.
    for hessian in (ad.jacfwd(ad.jacfwd(energy)), ad.hessian(energy)):
        np.testing.assert_allclose(hessian(x), 2 * matrix.T @ matrix, atol=1e-13)
        np.testing.assert_allclose(ad.jit(hessian)(x), hessian(x), atol=1e-14)


def test_numpy_spellings_reach_the_same_rules() -> None:
    x = RNG.normal(size=(3, 4))
    f = ad.grad(lambda a: np.sum(np.fft.irfft2(np.fft.rfft2(a), s=(3, 4)) * a))
    np.testing.assert_allclose(f(x), 2 * x, rtol=1e-13, atol=1e-14)


def test_what_numpy_refuses_is_refused() -> None:
    with pytest.raises(ValueError, match="Invalid norm value"):
        anp.fft.fft(REAL, norm="unitary")
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        anp.fft.fft(REAL, n=0)
    with pytest.raises(TypeError, match="rfft takes real input"):
        ad.jvp(anp.fft.rfft, (COMPLEX,), (COMPLEX,))
    with pytest.raises(TypeError, match="axes="):  # NumPy 2.0 deprecates s without axes
        anp.fft.fftn(REAL, s=(2, 2))
    with pytest.raises(TypeError, match="out="):
        anp.fft.fft(REAL, out=np.empty((4, 6), complex))


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft"])
def test_float32_stays_single_precision(name: str) -> None:
    """NumPy 2 keeps float32 as complex64: so do the values, tangents and cotangents."""
    x = REAL[0].astype(np.float32) if name != "irfft" else HALF[0].astype(np.complex64)
    f = getattr(anp.fft, name)
    y, tangent = ad.jvp(f, (x,), (x,))
    assert y.dtype == tangent.dtype == getattr(np.fft, name)(x).dtype
    (ct,) = ad.vjp(f, x)[1](np.ones_like(y))
    assert ct.dtype == x.dtype


SHIFTS = [
    (REAL, None), (REAL, 0), (REAL, (1,)), (REAL, (1, 0)), (REAL[:3, :5], None),
    (COMPLEX[:, :5], -1), (REAL[0, :5], None),
]  # fmt: skip


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize(("x", "axes"), SHIFTS)
def test_shifts_are_numpys_rolls(name: str, x: np.ndarray, axes: Any) -> None:
    ours, theirs = getattr(anp.fft, name), getattr(np.fft, name)
    # A roll moves entries only: the values are NumPy's, to the bit.
    np.testing.assert_array_equal(ours(x, axes=axes), theirs(x, axes=axes))
    # Its Jacobian is the permutation NumPy's function applies to a basis:
    # theirs(e_k) for each unit vector e_k, exactly (0s and 1s).
    basis = np.eye(x.size).reshape(x.size, *x.shape)
    want = np.moveaxis(np.array([theirs(e, axes=axes) for e in basis]), 0, -1)
    want = want.reshape(*x.shape, *x.shape)
    real = x.real
    for jac in (ad.jacfwd, ad.jacrev):
        np.testing.assert_array_equal(jac(lambda a: ours(a, axes=axes))(real), want)
    # NumPy's own spelling on traced values reaches the same function.
    np.testing.assert_array_equal(ad.jacrev(lambda a: theirs(a, axes=axes))(real), want)


def test_ifftshift_undoes_fftshift() -> None:
    odd = RNG.normal(size=(3, 5))
    np.testing.assert_array_equal(anp.fft.ifftshift(anp.fft.fftshift(odd)), odd)
