"""Discrete Fourier transforms, as ``numpy.fft``: differentiable in every mode.

Three primitives of :mod:`autodiff_ref.rules` do the work: ``fft`` (complex to
complex along one axis, or its inverse), ``rfft`` and ``irfft``.  Each is linear,
so its rule is its transpose, in JAX's convention (the transpose, not the adjoint):
the DFT matrix is symmetric, so ``fft``'s transpose is ``fft`` itself with the same
``norm``; ``rfft``'s is the real part of ``fft`` of the zero-padded cotangent, and
``irfft``'s is ``rfft`` with the mirrored entries counted twice.  Everything else is
a composition, as NumPy composes it: a length ``n`` cuts or zero-pads the input
along the axis first (by indexing), and the n-dimensional transforms apply the
one-dimensional ones axis by axis, in NumPy's order.

>>> import numpy as np
>>> import autodiff_ref as ad
>>> import autodiff_ref.numpy as anp
>>> x = np.array([1.0, 2.0, 0.5, -1.0])
>>> bool(np.allclose(anp.fft.fft(x), np.fft.fft(x)))
True
>>> ad.grad(lambda x: anp.sum(anp.fft.irfft(x, n=6)))(np.ones(4))  # first entry
array([1., 0., 0., 0.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import rules
from ..core import Tracer, shape_of
from . import _ops as ops

__all__ = [
    "fft",
    "fft2",
    "fftn",
    "fftshift",
    "ifft",
    "ifft2",
    "ifftn",
    "ifftshift",
    "irfft",
    "irfft2",
    "irfftn",
    "rfft",
    "rfft2",
    "rfftn",
]

ArrayLike = Any
_NORMS = ("backward", "ortho", "forward")


def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:  # NumPy's words
        raise ValueError(
            f'Invalid norm value {norm}; should be "backward","ortho" or "forward".'
        )
    return norm


def _axis(x: Any, axis: int) -> int:
    (ax,) = ops._axis_list(axis, len(shape_of(x)))
    return ax


def _resize(x: Any, n: int, axis: int) -> Any:
    """``x`` cut to, or padded with zeros to, length ``n`` along ``axis`` (as NumPy)."""
    shape = shape_of(x)
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    if n == shape[axis]:
        return x
    if n < shape[axis]:
        return rules.getitem(x, index=rules._along(axis, slice(0, n)))
    padded = (*shape[:axis], n, *shape[axis + 1 :])
    return rules.scatter_add(
        x, index=rules._along(axis, slice(0, shape[axis])), shape=padded
    )


def _prepared(a: Any, n: int | None, axis: int) -> tuple[Any, int]:
    a = ops._array_arg(a)
    if not isinstance(a, Tracer):
        a = np.asarray(a)
    ax = _axis(a, axis)
    return _resize(a, shape_of(a)[ax] if n is None else n, ax), ax


def _no_out(out: Any) -> None:
    if out is not None:
        raise TypeError(
            "numpy.fft's out= cannot hold traced values; drop out= and use the "
            "returned value"
        )


def fft(
    a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None,
    out: None = None,
) -> Any:  # fmt: skip
    """The discrete Fourier transform along ``axis`` (``numpy.fft.fft``).

    ``n`` cuts or zero-pads the input along ``axis`` first; ``norm`` is
    ``"backward"`` (the default: no scaling), ``"ortho"`` (``1 / sqrt(n)``) or
    ``"forward"`` (``1 / n``).  Linear: its transpose is itself.

    >>> import numpy as np
    >>> from autodiff_ref import jvp
    >>> jvp(fft, (np.zeros(2),), (np.array([1.0, 0.0]),))[1]  # fft of the tangent
    array([1.+0.j, 1.+0.j])
    """
    _no_out(out)
    x, ax = _prepared(a, n, axis)
    return rules.fft(x, axis=ax, inverse=False, norm=_norm(norm))


def ifft(
    a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None,
    out: None = None,
) -> Any:  # fmt: skip
    """The inverse discrete Fourier transform along ``axis`` (``numpy.fft.ifft``)."""
    _no_out(out)
    x, ax = _prepared(a, n, axis)
    return rules.fft(x, axis=ax, inverse=True, norm=_norm(norm))


def _refuse_complex_input(a: Any) -> None:
    if (
        ops._dtype(a).kind == "c"
    ):  # NumPy raises a TypeError from its ufunc: say why here
        raise TypeError(
            "rfft takes real input (numpy.fft.rfft refuses complex arrays); use "
            "autodiff_ref.numpy.fft.fft for complex input"
        )


def rfft(
    a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None,
    out: None = None,
) -> Any:  # fmt: skip
    """The transform of real input: its ``n // 2 + 1`` first entries (``numpy.fft.rfft``).

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> from autodiff_ref.numpy import sum
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> grad(lambda x: sum(irfft(rfft(x) * 2.0, n=3) * x))(x)  # of sum(2 x * x)
    array([ 4.,  8., 12.])
    """
    _no_out(out)
    a = ops._array_arg(a)
    _refuse_complex_input(a)
    x, ax = _prepared(a, n, axis)
    return rules.rfft(x, axis=ax, norm=_norm(norm))


def irfft(
    a: ArrayLike, n: int | None = None, axis: int = -1, norm: str | None = None,
    out: None = None,
) -> Any:  # fmt: skip
    """The inverse of :func:`rfft`: ``n`` real values (``numpy.fft.irfft``).

    ``n`` defaults to ``2 (m - 1)`` for ``m`` input entries along ``axis``; the input
    is cut or zero-padded to ``n // 2 + 1`` entries, as NumPy does.  The imaginary
    parts of the first entry (and of the last, for even ``n``) are not read.
    """
    _no_out(out)
    a = ops._array_arg(a)
    if not isinstance(a, Tracer):
        a = np.asarray(a)
    ax = _axis(a, axis)
    n = 2 * (shape_of(a)[ax] - 1) if n is None else n
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    x = _resize(a, n // 2 + 1, ax)
    return rules.irfft(x, n=n, axis=ax, norm=_norm(norm))


def _shape_and_axes(
    a: Any, s: Sequence[int] | None, axes: Sequence[int] | None, invreal: bool = False
) -> tuple[list[int], list[int]]:
    """NumPy's ``_cook_nd_args``: the lengths and axes of an n-dimensional transform."""
    shape = shape_of(a)
    if s is None:
        axes_list = list(range(len(shape))) if axes is None else list(axes)
        lengths = [shape[k] for k in axes_list]
        if invreal:
            lengths[-1] = (shape[axes_list[-1]] - 1) * 2
        return lengths, axes_list
    if axes is None:  # deprecated in NumPy 2.0, and refused here: say what to pass
        raise TypeError(
            "give axes= with s= (NumPy 2.0 deprecates s without axes): for the last "
            f"{len(s)} axes pass axes={list(range(-len(s), 0))}"
        )
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    lengths = [
        shape[k] if length == -1 else int(length)
        for length, k in zip(s, axes, strict=True)
    ]
    return lengths, list(axes)


def _nd(a: Any, s: Any, axes: Any, norm: str | None, inverse: bool, out: None) -> Any:
    _no_out(out)
    a = ops._array_arg(a)
    if not isinstance(a, Tracer):
        a = np.asarray(a)
    lengths, axes_list = _shape_and_axes(a, s, axes)
    one = ifft if inverse else fft
    for k in reversed(range(len(axes_list))):  # NumPy's order: the last axis first
        a = one(a, lengths[k], axes_list[k], norm)
    return a


def fftn(
    a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
    norm: str | None = None, out: None = None,
) -> Any:  # fmt: skip
    """The n-dimensional transform over ``axes`` (all by default): ``numpy.fft.fftn``."""
    return _nd(a, s, axes, norm, False, out)


def ifftn(
    a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
    norm: str | None = None, out: None = None,
) -> Any:  # fmt: skip
    """The n-dimensional inverse transform: ``numpy.fft.ifftn``."""
    return _nd(a, s, axes, norm, True, out)


def fft2(
    a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
    norm: str | None = None, out: None = None,
) -> Any:  # fmt: skip
    """The transform over the last two axes: ``numpy.fft.fft2``."""
    return _nd(a, s, axes, norm, False, out)


def ifft2(
    a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
    norm: str | None = None, out: None = None,
) -> Any:  # fmt: skip
    """The inverse transform over the last two axes: ``numpy.fft.ifft2``."""
    return _nd(a, s, axes, norm, True, out)


def rfftn(
    a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
    norm: str | None = None, out: None = None,
) -> Any:  # fmt: skip
    """rfft over the last of ``axes``, then fft over the others: ``numpy.fft.rfftn``."""
    _no_out(out)
    a = ops._array_arg(a)
    if not isinstance(a, Tracer):
        a = np.asarray(a)
    lengths, axes_list = _shape_and_axes(a, s, axes)
    a = rfft(a, lengths[-1], axes_list[-1], norm)
    for k in reversed(range(len(axes_list) - 1)):
        a = fft(a, lengths[k], axes_list[k], norm)
    return a


def irfftn(
    a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
    norm: str | None = None, out: None = None,
) -> Any:  # fmt: skip
    """ifft over all but the last of ``axes``, then irfft: ``numpy.fft.irfftn``."""
    _no_out(out)
    a = ops._array_arg(a)
    if not isinstance(a, Tracer):
        a = np.asarray(a)
    lengths, axes_list = _shape_and_axes(a, s, axes, invreal=True)
    for k in range(len(axes_list) - 1):
        a = ifft(a, lengths[k], axes_list[k], norm)
    return irfft(a, lengths[-1], axes_list[-1], norm)


def rfft2(
    a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
    norm: str | None = None, out: None = None,
) -> Any:  # fmt: skip
    """:func:`rfftn` over the last two axes: ``numpy.fft.rfft2``."""
    return rfftn(a, s, axes, norm, out)


def irfft2(
    a: ArrayLike, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1),
    norm: str | None = None, out: None = None,
) -> Any:  # fmt: skip
    """:func:`irfftn` over the last two axes: ``numpy.fft.irfft2``."""
    return irfftn(a, s, axes, norm, out)


def _shift(x: Any, axes: int | Sequence[int] | None, sign: int) -> Any:
    """``x`` rolled by ``sign * (length // 2)`` along each of ``axes`` (all by default)."""
    x = ops._array_arg(x)
    shape = shape_of(x)
    if axes is None:
        chosen = list(range(len(shape)))
    elif isinstance(axes, int | np.integer):
        chosen = [int(axes)]
    else:
        chosen = list(axes)
    shifts = [sign * (shape[ax] // 2) for ax in chosen]
    return ops.roll(x, shifts, chosen)


def fftshift(x: ArrayLike, axes: int | Sequence[int] | None = None) -> Any:
    """The zero frequency moved to the centre: a roll by half of each length.

    As ``numpy.fft.fftshift``; a roll only moves entries, so its derivative
    moves them the same way.

    >>> fftshift(np.arange(5.0))
    array([3., 4., 0., 1., 2.])
    """
    return _shift(x, axes, 1)


def ifftshift(x: ArrayLike, axes: int | Sequence[int] | None = None) -> Any:
    """The inverse of :func:`fftshift`: a roll back by half of each length.

    >>> ifftshift(fftshift(np.arange(5.0)))
    array([0., 1., 2., 3., 4.])
    """
    return _shift(x, axes, -1)
