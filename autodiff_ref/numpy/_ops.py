"""The functions users call: NumPy-like, and differentiable in every mode.

Each accepts Python numbers, NumPy arrays, dual numbers, reverse-mode nodes
and symbolic expressions, and returns the matching type: plain inputs give
plain NumPy results, traced inputs give traced results.  Most are a primitive
of :mod:`autodiff_ref.rules`; a few (``mean``, ``square``, ``dot``) are
compositions of primitives and need no rule of their own.
"""

from __future__ import annotations

import builtins  # max, min and sum are NumPy's names in this module
import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import rules
from ..arguments import refuse_complex
from ..core import Tracer, primal_value, shape_of

#: The NumPy surface, written once: each name means NumPy's function of that name.
#: autodiff_ref.numpy exports exactly these, and NumPy functions called on traced
#: values (``np.sin(x)``) are routed to them (autodiff_ref.numpy._dispatch).
__all__ = [
    "abs",
    "add",
    "amax",
    "amin",
    "angle",
    "append",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "array",
    "array_split",
    "asarray",
    "astype",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "c_",
    "ceil",
    "clip",
    "column_stack",
    "concatenate",
    "conj",
    "conjugate",
    "cos",
    "cosh",
    "cross",
    "cumsum",
    "deg2rad",
    "degrees",
    "diag",
    "diagonal",
    "diff",
    "divide",
    "dot",
    "dsplit",
    "einsum",
    "exp",
    "exp2",
    "expand_dims",
    "expm1",
    "fabs",
    "flip",
    "fliplr",
    "flipud",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "gradient",
    "hsplit",
    "hstack",
    "hypot",
    "imag",
    "inner",
    "kron",
    "linspace",
    "log",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "logaddexp2",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mod",
    "moveaxis",
    "multiply",
    "nan_to_num",
    "negative",
    "outer",
    "pad",
    "partition",
    "power",
    "prod",
    "r_",
    "rad2deg",
    "radians",
    "ravel",
    "real",
    "real_if_close",
    "reciprocal",
    "remainder",
    "repeat",
    "reshape",
    "roll",
    "rollaxis",
    "rot90",
    "select",
    "sign",
    "sin",
    "sinc",
    "sinh",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "subtract",
    "sum",
    "swapaxes",
    "tan",
    "tanh",
    "tensordot",
    "tile",
    "trace",
    "transpose",
    "tril",
    "triu",
    "var",
    "vsplit",
    "vstack",
    "where",
]

ArrayLike = Any  # a number, an ndarray, or a traced value


def add(x: ArrayLike, y: ArrayLike) -> Any:
    """``x + y``, broadcasting like NumPy."""
    return rules.add(x, y)


def subtract(x: ArrayLike, y: ArrayLike) -> Any:
    """``x - y``, broadcasting like NumPy."""
    return rules.sub(x, y)


def multiply(x: ArrayLike, y: ArrayLike) -> Any:
    """``x * y``, broadcasting like NumPy."""
    return rules.mul(x, y)


def divide(x: ArrayLike, y: ArrayLike) -> Any:
    """``x / y``; division by zero gives ``inf`` or ``nan`` as in NumPy."""
    return rules.div(x, y)


def negative(x: ArrayLike) -> Any:
    """``-x``."""
    return rules.neg(x)


def power(x: ArrayLike, y: ArrayLike) -> Any:
    """``x ** y``; integer bases are computed as floats.

    >>> from autodiff_ref import derivative
    >>> derivative(lambda x: power(x, 3), -2.0)  # negative bases are fine
    12.0
    """
    return rules.pow(x, y)


def reciprocal(x: ArrayLike) -> Any:
    """``1 / x``."""
    return rules.reciprocal(x)


def square(x: ArrayLike) -> Any:
    """``x * x``."""
    return rules.mul(x, x)


def sqrt(x: ArrayLike) -> Any:
    """Square root; ``nan`` (with a RuntimeWarning) below zero, as in NumPy.

    >>> from autodiff_ref import derivative
    >>> derivative(sqrt, 4.0)
    0.25
    """
    return rules.sqrt(x)


def exp(x: ArrayLike) -> Any:
    """The exponential ``e**x``.

    >>> from autodiff_ref import derivative
    >>> float(derivative(exp, 0.0))
    1.0
    """
    return rules.exp(x)


def log(x: ArrayLike) -> Any:
    """The natural logarithm; ``nan`` below zero and ``-inf`` at zero, as in NumPy.

    >>> from autodiff_ref import derivative
    >>> derivative(log, 2.0)
    0.5
    """
    return rules.log(x)


def sin(x: ArrayLike) -> Any:
    """Sine (radians).

    >>> from autodiff_ref import derivative
    >>> float(derivative(sin, 0.0))
    1.0
    """
    return rules.sin(x)


def cos(x: ArrayLike) -> Any:
    """Cosine (radians).

    >>> from autodiff_ref import derivative
    >>> float(derivative(cos, 0.0))
    -0.0
    """
    return rules.cos(x)


def tan(x: ArrayLike) -> Any:
    """Tangent (radians).

    >>> from autodiff_ref import derivative
    >>> float(derivative(tan, 0.0))
    1.0
    """
    return rules.tan(x)


def tanh(x: ArrayLike) -> Any:
    """Hyperbolic tangent.

    >>> from autodiff_ref import derivative
    >>> float(derivative(tanh, 0.0))
    1.0
    """
    return rules.tanh(x)


def abs(x: ArrayLike) -> Any:  # NumPy's name
    """Absolute value; its derivative at 0 is taken to be 0 (see :mod:`autodiff_ref.rules`).

    >>> from autodiff_ref import derivative
    >>> [float(derivative(abs, x)) for x in (-2.0, 0.0, 2.0)]
    [-1.0, 0.0, 1.0]
    """
    return rules.abs(x)


def sign(x: ArrayLike) -> Any:
    """The sign, -1, 0 or 1 (``z / |z|`` for complex ``z``); its derivative is 0."""
    if isinstance(x, Tracer):  # z / |z| varies: its derivative is not 0, so refuse it
        refuse_complex("the derivative of sign", x)
    return rules.sign(x)


def maximum(x: ArrayLike, y: ArrayLike) -> Any:
    """Elementwise maximum; at a tie each argument gets half the derivative.

    >>> from autodiff_ref import grad
    >>> grad(maximum, argnums=(0, 1))(1.0, 1.0)
    (0.5, 0.5)
    """
    return rules.maximum(x, y)


def minimum(x: ArrayLike, y: ArrayLike) -> Any:
    """Elementwise minimum; at a tie each argument gets half the derivative."""
    return rules.minimum(x, y)


def where(condition: ArrayLike, x: ArrayLike = None, y: ArrayLike = None) -> Any:
    """``x`` where ``condition`` holds, else ``y``; differentiable in ``x`` and ``y``.

    With ``condition`` alone it is ``numpy.nonzero(condition)``, as NumPy's: the
    indices depend on the primal values only.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(lambda v: sum(where(v > 0, v, 0.0)))(np.array([-1.0, 2.0]))
    array([0., 1.])
    """
    if x is None and y is None:
        return np.nonzero(primal_value(condition))
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")  # NumPy's
    return rules.where(condition, x, y)


def sum(  # NumPy's name
    x: ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Any:
    """Sum of elements over ``axis`` (all of them by default).

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(lambda x: sum(x, axis=0)[1])(np.ones((2, 3)))
    array([[0., 1., 0.],
           [0., 1., 0.]])
    """
    return rules.sum(_array_arg(x), axis=axis, keepdims=keepdims)


def mean(
    x: ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Any:
    """Arithmetic mean over ``axis`` (all elements by default)."""
    x = _array_arg(x)  # a list of traced values, as in mean([x, y])
    shape = shape_of(x)
    axes = (
        range(len(shape))
        if axis is None
        else (axis,)
        if isinstance(axis, int)
        else axis
    )
    count = 1
    for a in axes:
        count *= shape[a]
    return rules.div(rules.sum(x, axis=axis, keepdims=keepdims), float(count))


def matmul(x: ArrayLike, y: ArrayLike) -> Any:
    """Matrix product ``x @ y`` with NumPy's rules for vectors and stacks.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> grad(lambda v: sum(matmul(A, v)))(np.array([1.0, 1.0]))  # A.T @ ones
    array([4., 6.])
    """
    return rules.matmul(x, y)


def dot(x: ArrayLike, y: ArrayLike) -> Any:
    """NumPy's ``dot``: a sum over the last axis of ``x`` and the second-to-last of ``y``.

    For 1-D and 2-D arrays this is ``matmul``; with a scalar it is ``x * y``. For a
    ``y`` of more dimensions it is not matmul's stacking: ``dot(x, y)[i, j, k] =
    sum(x[i, :] * y[j, :, k])`` has shape ``x.shape[:-1] + y.shape[:-2] + y.shape[-1:]``.

    >>> import numpy as np
    >>> x, y = np.ones((2, 3)), np.ones((4, 3, 5))
    >>> dot(x, y).shape == np.dot(x, y).shape == (2, 4, 5)
    True
    """
    x_shape, y_shape = shape_of(x), shape_of(y)
    if not x_shape or not y_shape:
        return rules.mul(x, y)
    if len(y_shape) <= 2:  # y a vector or a matrix: matmul's stacking of x agrees
        return rules.matmul(x, y)
    # Line y's contracted axis up in front, flatten both to matrices, multiply.
    n = y_shape[-2]
    y_axes = (len(y_shape) - 2, *range(len(y_shape) - 2), len(y_shape) - 1)
    columns = _size(y_shape[:-2]) * y_shape[-1]
    y_matrix = rules.reshape(rules.transpose(y, axes=y_axes), shape=(n, columns))
    x_matrix = rules.reshape(x, shape=(_size(x_shape[:-1]), x_shape[-1]))
    out_shape = x_shape[:-1] + y_shape[:-2] + y_shape[-1:]
    return rules.reshape(rules.matmul(x_matrix, y_matrix), shape=out_shape)


def _size(shape: Sequence[int]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def stack(arrays: Sequence[ArrayLike], axis: int = 0) -> Any:
    """Join arrays (or traced scalars) along a new axis; how to build arrays of traced values.

    >>> from autodiff_ref import jacfwd
    >>> jacfwd(lambda x: stack([x, x**2]))(3.0)
    array([1., 6.])
    """
    return rules.stack(*arrays, axis=axis)


def concatenate(
    arrays: Sequence[ArrayLike], axis: int = 0, out: None = None, *,
    dtype: Any = None, casting: str = "same_kind",
) -> Any:  # fmt: skip
    """Join arrays along an existing axis; ``dtype`` and ``casting`` as in NumPy."""
    if out is not None:
        raise TypeError("concatenate(out=...) cannot hold traced values; drop out=")
    if dtype is not None:
        arrays = [_cast(a, dtype, casting) for a in arrays]
    ndim = len(shape_of(arrays[0])) if len(arrays) else 1
    offsets = rules.concatenate_offsets(arrays, axis % ndim if ndim else 0)
    return rules.concatenate(*arrays, axis=axis, offsets=offsets)


def reshape(x: ArrayLike, shape: int | tuple[int, ...]) -> Any:
    """Give ``x`` a new shape with the same elements (``-1`` is inferred)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if -1 in shape:
        size, known = (
            _size(shape_of(x)),
            -_size(shape),
        )  # the -1 contributes a factor -1
        if shape.count(-1) > 1:
            raise ValueError("can only specify one unknown dimension")
        if known == 0 or size % known:  # as NumPy says it
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    return rules.reshape(x, shape=shape)


def transpose(x: ArrayLike, axes: Sequence[int] | None = None) -> Any:
    """Permute the axes (reverse them by default)."""
    return rules.transpose(x, axes=None if axes is None else tuple(axes))


# == More of NumPy ==================================================================
# Elementwise functions are primitives of the rules table; reductions by
# selection (max, min), prod, cumsum and einsum too.  Everything else below
# is a composition of primitives (a shape operation is a reshape, transpose,
# index or concatenation), so it needs no rule of its own.


def _array_arg(x: Any) -> Any:
    """A (nested) list or tuple holding traced values, stacked into one traced array."""
    if isinstance(x, list | tuple):
        items = [_array_arg(item) for item in x]
        if builtins.any(isinstance(item, Tracer) for item in items):
            return rules.stack(*items, axis=0)
        return np.asarray(items)
    return x


def array(
    object: ArrayLike, dtype: Any = None, *, copy: bool = True, ndmin: int = 0
) -> Any:
    """An array from a (nested) list or tuple whose elements may be traced values.

    As ``numpy.array``: the nested sequences are stacked (with
    :func:`stack`, so the derivative flows to every element), ``dtype`` casts
    (to a floating-point or complex dtype, as :func:`astype`) and ``ndmin``
    prepends axes of length 1.  Without traced values it is ``numpy.array``.

    >>> from autodiff_ref import jacfwd
    >>> jacfwd(lambda x: array([[x, 2.0], [x**2, x]]))(3.0)
    array([[1., 0.],
           [6., 1.]])
    """
    out = _array_arg(object)
    if not isinstance(out, Tracer):
        return np.array(out, dtype=dtype, copy=copy, ndmin=ndmin)
    if dtype is not None:
        out = astype(out, dtype)
    missing = ndmin - _ndim(out)
    return (
        rules.reshape(out, shape=(1,) * missing + shape_of(out)) if missing > 0 else out
    )


def asarray(a: ArrayLike, dtype: Any = None) -> Any:
    """``a`` as an array: :func:`array` without a copy (traced values are never changed).

    >>> import autodiff_ref as ad
    >>> ad.grad(lambda x: asarray([x, 3.0 * x]).sum())(1.0)
    4.0
    """
    out = _array_arg(a)
    if not isinstance(out, Tracer):
        return np.asarray(out, dtype=dtype)
    return out if dtype is None else astype(out, dtype)


def _ndim(x: Any) -> int:
    return len(shape_of(x))


def _size_of(x: Any) -> int:
    n = 1
    for d in shape_of(x):
        n *= d
    return n


def _axis_list(axis: int | Sequence[int], ndim: int) -> list[int]:
    axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(
                f"axis {a} is out of bounds for array of dimension {ndim}"
            )
    return [int(a) % ndim for a in axes]


# -- elementwise ----------------------------------------------------------------------
def cosh(x: ArrayLike) -> Any:
    """Hyperbolic cosine; its derivative is ``sinh``.

    >>> from autodiff_ref import derivative
    >>> float(derivative(cosh, 0.0))
    0.0
    """
    return rules.cosh(x)


def sinh(x: ArrayLike) -> Any:
    """Hyperbolic sine; its derivative is ``cosh``."""
    return rules.sinh(x)


def arcsin(x: ArrayLike) -> Any:
    """Inverse sine, for ``-1 <= x <= 1``; derivative ``1 / sqrt(1 - x**2)``."""
    return rules.arcsin(x)


def arccos(x: ArrayLike) -> Any:
    """Inverse cosine, for ``-1 <= x <= 1``; derivative ``-1 / sqrt(1 - x**2)``."""
    return rules.arccos(x)


def arctan(x: ArrayLike) -> Any:
    """Inverse tangent; derivative ``1 / (1 + x**2)``.

    >>> from autodiff_ref import derivative
    >>> float(derivative(arctan, 1.0))
    0.5
    """
    return rules.arctan(x)


def arcsinh(x: ArrayLike) -> Any:
    """Inverse hyperbolic sine; derivative ``1 / sqrt(x**2 + 1)``."""
    return rules.arcsinh(x)


def arccosh(x: ArrayLike) -> Any:
    """Inverse hyperbolic cosine, for ``x >= 1``; derivative ``1 / sqrt(x**2 - 1)``."""
    return rules.arccosh(x)


def arctanh(x: ArrayLike) -> Any:
    """Inverse hyperbolic tangent, for ``|x| < 1``; derivative ``1 / (1 - x**2)``."""
    return rules.arctanh(x)


def log1p(x: ArrayLike) -> Any:
    """``log(1 + x)``, accurate for small ``x``."""
    return rules.log1p(x)


def expm1(x: ArrayLike) -> Any:
    """``exp(x) - 1``, accurate for small ``x``."""
    return rules.expm1(x)


def log2(x: ArrayLike) -> Any:
    """Base-2 logarithm."""
    return rules.log2(x)


def log10(x: ArrayLike) -> Any:
    """Base-10 logarithm."""
    return rules.log10(x)


def exp2(x: ArrayLike) -> Any:
    """``2 ** x``."""
    return rules.exp2(x)


def hypot(x: ArrayLike, y: ArrayLike) -> Any:
    """``sqrt(x**2 + y**2)`` without overflow.

    >>> from autodiff_ref import grad
    >>> grad(hypot, argnums=(0, 1))(3.0, 4.0)
    (0.6, 0.8)
    """
    return rules.hypot(x, y)


def logaddexp(x: ArrayLike, y: ArrayLike) -> Any:
    """``log(exp(x) + exp(y))`` without overflow; its gradient is the softmax of ``(x, y)``."""
    return rules.logaddexp(x, y)


def arctan2(y: ArrayLike, x: ArrayLike) -> Any:
    """The angle of the point ``(x, y)``, in ``(-pi, pi]``; note the argument order."""
    return rules.arctan2(y, x)


#: sinc's Maclaurin coefficients (-1)^k / (2k + 1)!, in powers of (pi x)^2: near 0 the
#: series replaces sin(pi x) / (pi x), whose derivatives there are 0/0.
_SINC_SERIES = [
    (-1) ** k / float(np.prod(np.arange(1.0, 2 * k + 2))) for k in range(22)
]


def sinc(x: ArrayLike) -> Any:
    """The normalized sinc, ``sin(pi x) / (pi x)`` and 1 at 0 (as ``numpy.sinc``).

    For ``|x| < 1`` it is computed from its Maclaurin series (degree 42, exact to
    rounding there), so that derivatives at and near 0 are exact too (the quotient's
    derivatives lose digits like ``1/x**k`` near 0); elsewhere from ``sin``. A
    composition of primitives: it needs no rule of its own.

    >>> from autodiff_ref import derivative
    >>> float(derivative(sinc, 0.0)), float(derivative(sinc, 0.0, order=2))  # -pi**2 / 3
    (0.0, -3.289868133696...)
    """
    x = _array_arg(x)
    near_zero = rules.abs(primal_value(x)) < 1.0  # a constant mask (staged: equations)
    pi_x = rules.mul(np.pi, x)
    square = rules.mul(pi_x, pi_x)
    series: Any = _SINC_SERIES[-1]
    for coefficient in reversed(_SINC_SERIES[:-1]):  # Horner's rule
        series = rules.add(coefficient, rules.mul(square, series))
    away = rules.mul(
        np.pi, rules.where(near_zero, 1.0, x)
    )  # never 0/0 in either branch
    return rules.where(near_zero, series, rules.div(rules.sin(away), away))


def floor(x: ArrayLike) -> Any:
    """The largest integer ``<= x`` (as a float); its derivative is 0 (see the rules)."""
    return rules.floor(x)


def ceil(x: ArrayLike) -> Any:
    """The smallest integer ``>= x`` (as a float); its derivative is 0 (see the rules)."""
    return rules.ceil(x)


def floor_divide(x: ArrayLike, y: ArrayLike) -> Any:
    """``x // y`` (NumPy's and Python's): piecewise constant, so its derivative is 0.

    With :func:`mod`, ``x == y * (x // y) + x % y``, as in NumPy.

    >>> from autodiff_ref import grad
    >>> grad(lambda x: x // 2.0 + x)(5.5)
    1.0
    """
    return rules.floor_divide(x, y)


def mod(x: ArrayLike, y: ArrayLike) -> Any:
    """``x % y`` with the sign of ``y`` (Python's and NumPy's ``%``).

    Its derivative is 1 in ``x`` and ``-floor(x / y)`` in ``y``; the jumps are
    ignored (see :mod:`autodiff_ref.rules`).

    >>> from autodiff_ref import grad
    >>> grad(lambda x: x % 2.0)(5.5)
    1.0
    """
    return rules.mod(x, y)


remainder = mod  # NumPy's other name


def real(x: ArrayLike) -> Any:
    """The real part (``x`` itself for real ``x``).

    Linear over the reals, not holomorphic: its cotangent ``c`` goes back to a
    complex ``z`` as ``c + 0j`` (JAX's convention).

    >>> from autodiff_ref import grad
    >>> complex(grad(lambda z: real(z) ** 2)(3.0 + 4.0j))  # 2 Re(z)
    (6+0j)
    """
    if not rules.is_complex(x) and isinstance(x, Tracer):  # NumPy returns x itself
        return x
    return rules.real(x)


def imag(x: ArrayLike) -> Any:
    """The imaginary part (0 for real ``x``).

    Linear over the reals: its cotangent ``c`` goes back to a complex ``z`` as
    ``-1j * c`` (JAX's convention: ``grad`` gives the conjugate of the direction
    of steepest ascent).

    >>> from autodiff_ref import grad
    >>> complex(grad(lambda z: imag(z) ** 2)(3.0 + 4.0j))  # conj(2i Im z)
    -8j
    """
    return rules.imag(x)


def conj(x: ArrayLike) -> Any:
    """The complex conjugate (``x`` itself for real ``x``); NumPy's ``conjugate``.

    >>> from autodiff_ref import jvp
    >>> jvp(conj, (1.0 + 2.0j,), (1.0j,))[1]  # conj is linear: its own tangent map
    -1j
    """
    return rules.conj(x)


conjugate = conj  # NumPy's other name


def angle(z: ArrayLike, deg: bool = False) -> Any:
    """The argument of ``z`` in ``(-pi, pi]`` (degrees if ``deg``), as ``numpy.angle``.

    Its tangent is ``Im(t / z)``; for real ``z`` the angle is 0 or pi, with
    derivative 0. It has no derivative at 0.

    >>> from autodiff_ref import grad
    >>> complex(grad(angle)(1.0 + 1.0j))  # conj of ∇ atan2(y, x) = (-y + ix) / |z|²
    (-0.5-0.5j)
    """
    out = rules.angle(z)
    return rules.mul(out, 180.0 / np.pi) if deg else out


def clip(
    a: ArrayLike, a_min: ArrayLike | None = None, a_max: ArrayLike | None = None
) -> Any:
    """``a`` limited to ``[a_min, a_max]``: ``minimum(maximum(a, a_min), a_max)``, as NumPy.

    At a bound the derivative is shared as by ``maximum`` and ``minimum``.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(lambda x: sum(clip(x, -1.0, 1.0)))(np.array([-2.0, 0.5, 3.0]))
    array([0., 1., 0.])
    """
    if a_min is None and a_max is None:
        # NumPy 2.1 and later: no bounds, nothing clipped (a new array, equal to a).
        return a if isinstance(a, Tracer) else np.array(a, copy=True)[()]
    out = a if a_min is None else rules.maximum(a, a_min)
    return out if a_max is None else rules.minimum(out, a_max)


# -- reductions ---------------------------------------------------------------------
def prod(
    x: ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Any:
    """Product of elements over ``axis``; exact also where an element is 0.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(prod)(np.array([2.0, 0.0, 5.0]))
    array([ 0., 10.,  0.])
    """
    return rules.prod(_array_arg(x), axis=axis, keepdims=keepdims)


def max(
    x: ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Any:
    """Largest element over ``axis``; tied maxima share the derivative evenly.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(max)(np.array([1.0, 3.0, 3.0]))
    array([0. , 0.5, 0.5])
    """
    return rules.amax(_array_arg(x), axis=axis, keepdims=keepdims)


def min(
    x: ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Any:
    """Smallest element over ``axis``; tied minima share the derivative evenly."""
    return rules.amin(_array_arg(x), axis=axis, keepdims=keepdims)


amax, amin = max, min  # NumPy's other names


def var(
    x: ArrayLike,
    axis: int | tuple[int, ...] | None = None,
    ddof: int = 0,
    keepdims: bool = False,
) -> Any:
    """Variance ``sum(|x - mean|**2) / (n - ddof)`` over ``axis`` (real for complex x).

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(var)(np.array([1.0, 2.0, 6.0]))  # 2 (x - mean) / n
    array([-1.33333333, -0.66666667,  2.        ])
    """
    x = _array_arg(x)
    centred = rules.sub(x, mean(x, axis=axis, keepdims=True))
    if rules.is_complex(x):  # |d|**2 = Re(d)**2 + Im(d)**2: real, as NumPy's var
        re, im = rules.real(centred), rules.imag(centred)
        squared = rules.add(rules.mul(re, re), rules.mul(im, im))
    else:
        squared = rules.mul(centred, centred)
    squares = rules.sum(squared, axis=axis, keepdims=keepdims)
    count = _size_of(x) // builtins.max(_size_of(squares), 1) - ddof
    if count <= 0:  # NumPy divides by 0 (inf, or nan for 0 / 0) and warns
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
    return rules.div(squares, float(builtins.max(count, 0)))


def std(
    x: ArrayLike,
    axis: int | tuple[int, ...] | None = None,
    ddof: int = 0,
    keepdims: bool = False,
) -> Any:
    """Standard deviation ``sqrt(var(x))``; its derivative is infinite where it is 0.

    Over slices of one element (and ``ddof=0``) the deviation is 0 whatever ``x``
    is, so its derivative is 0, not ``sqrt``'s infinite one at 0 times 0:
    the variance itself is returned there (0, and its derivative 0 exactly).

    >>> import autodiff_ref as ad
    >>> ad.grad(std)(3.5)
    0.0
    """
    x = _array_arg(x)
    variance = var(x, axis=axis, ddof=ddof, keepdims=keepdims)
    if ddof == 0 and _size_of(variance) == _size_of(x):  # one element per slice
        return variance
    return rules.sqrt(variance)


def cumsum(x: ArrayLike, axis: int | None = None) -> Any:
    """Running sums along ``axis`` (of the flattened array by default)."""
    x = _array_arg(x)
    if axis is None:
        return rules.cumsum(ravel(x), axis=0)
    _axis_list(axis, _ndim(x))
    return rules.cumsum(x, axis=axis)


def diff(a: ArrayLike, n: int = 1, axis: int = -1) -> Any:
    """Differences of neighbours along ``axis``, ``n`` times."""
    a = _array_arg(a)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")  # NumPy's words
    (ax,) = _axis_list(axis, _ndim(a))
    before = (slice(None),) * ax
    for _ in range(n):
        a = rules.sub(
            rules.getitem(a, index=(*before, slice(1, None))),
            rules.getitem(a, index=(*before, slice(None, -1))),
        )
    return a


def trace(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Sum along a diagonal, as ``numpy.trace``.

    >>> import numpy as np
    >>> import autodiff_ref.numpy as anp
    >>> from autodiff_ref import grad
    >>> grad(anp.trace)(np.ones((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    return rules.sum(diagonal(a, offset, axis1, axis2), axis=-1)


def diagonal(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal over ``axis1`` and ``axis2``, as the last axis (``numpy.diagonal``)."""
    a = _array_arg(a)
    a1, a2 = _axis_list((axis1, axis2), _ndim(a))
    rest = [k for k in range(_ndim(a)) if k not in (a1, a2)]
    moved = rules.transpose(a, axes=(*rest, a1, a2))
    rows, cols = shape_of(moved)[-2:]
    start_r, start_c = builtins.max(-offset, 0), builtins.max(offset, 0)
    length = builtins.max(builtins.min(rows - start_r, cols - start_c), 0)
    k = np.arange(length)
    return rules.getitem(moved, index=(Ellipsis, start_r + k, start_c + k))


# -- shapes ---------------------------------------------------------------------------
def ravel(x: ArrayLike) -> Any:
    """The elements as a 1-D array, in C order."""
    x = _array_arg(x)
    return rules.reshape(x, shape=(_size_of(x),))


def astype(x: ArrayLike, dtype: Any) -> Any:
    """``x`` as another floating-point (or complex) dtype; integer dtypes are refused."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        raise TypeError(
            f"astype({dtype}) of a traced value would drop its derivative (a cast to "
            f"{dtype} is piecewise constant); round with autodiff_ref.numpy.floor (derivative 0) "
            "or use autodiff_ref.primal_value(x).astype(...) for the plain values"
        )
    if dtype.kind == "f":  # dropping the imaginary part: real(z), not holomorphic
        refuse_complex(f"astype({dtype})", x)
    if isinstance(x, Tracer) and dtype == x.dtype:  # (a batched value has no array)
        return x
    return rules.astype(x, dtype=dtype)


def expand_dims(x: ArrayLike, axis: int | Sequence[int]) -> Any:
    """Insert axes of length 1 at the positions ``axis`` of the result."""
    shape = list(shape_of(x))
    axes = _axis_list(axis, len(shape) + (1 if isinstance(axis, int) else len(axis)))
    for a in sorted(axes):
        shape.insert(a, 1)
    return rules.reshape(x, shape=tuple(shape))


def squeeze(x: ArrayLike, axis: int | Sequence[int] | None = None) -> Any:
    """Remove axes of length 1 (only those in ``axis`` if given)."""
    shape = shape_of(x)
    axes = (
        [k for k, n in enumerate(shape) if n == 1]
        if axis is None
        else _axis_list(axis, len(shape))
    )
    if builtins.any(shape[a] != 1 for a in axes):
        raise ValueError(
            "cannot select an axis to squeeze out which has size not equal to one"
        )
    return rules.reshape(
        x, shape=tuple(n for k, n in enumerate(shape) if k not in axes)
    )


def swapaxes(x: ArrayLike, axis1: int, axis2: int) -> Any:
    """Exchange two axes."""
    a1, a2 = _axis_list((axis1, axis2), _ndim(x))
    perm = list(range(_ndim(x)))
    perm[a1], perm[a2] = perm[a2], perm[a1]
    return rules.transpose(x, axes=tuple(perm))


def moveaxis(
    x: ArrayLike, source: int | Sequence[int], destination: int | Sequence[int]
) -> Any:
    """Move axes to new positions, keeping the order of the others (as numpy.moveaxis)."""
    src, dst = _axis_list(source, _ndim(x)), _axis_list(destination, _ndim(x))
    if len(src) != len(dst):
        raise ValueError(
            "`source` and `destination` arguments must have the same number of elements"
        )
    order = [k for k in range(_ndim(x)) if k not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return rules.transpose(x, axes=tuple(order))


def rollaxis(x: ArrayLike, axis: int, start: int = 0) -> Any:
    """Move ``axis`` to the position before ``start`` (as numpy.rollaxis)."""
    n = _ndim(x)
    (axis,) = _axis_list(axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:  # NumPy's words
        raise np.exceptions.AxisError(
            f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in"
        )
    if axis < start:  # the axis leaves a gap before start
        start -= 1
    order = [k for k in range(n) if k != axis]
    order.insert(start, axis)
    return rules.transpose(x, axes=tuple(order))


def _atleast(x: Any, ndim: int) -> Any:
    x = _array_arg(x)
    shape = shape_of(x)
    if len(shape) >= ndim:
        return x
    new: dict[int, dict[int, tuple[int, ...]]] = {
        1: {0: (1,)},
        2: {0: (1, 1), 1: (1, *shape)},
        3: {0: (1, 1, 1), 1: (1, *shape, 1), 2: (*shape, 1)},
    }
    return rules.reshape(x, shape=new[ndim][len(shape)])


def atleast_1d(*arys: ArrayLike) -> Any:
    """Each argument with at least one axis (a tuple of them for several arguments)."""
    out = tuple(_atleast(a, 1) for a in arys)
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: ArrayLike) -> Any:
    """Each argument with at least two axes; a vector becomes a row ``(1, n)``."""
    out = tuple(_atleast(a, 2) for a in arys)
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: ArrayLike) -> Any:
    """Each argument with at least three axes.

    ``(n,)`` becomes ``(1, n, 1)`` and ``(m, n)`` becomes ``(m, n, 1)``, as in NumPy.

    """
    out = tuple(_atleast(a, 3) for a in arys)
    return out[0] if len(out) == 1 else out


def vstack(
    tup: Sequence[ArrayLike], *, dtype: Any = None, casting: str = "same_kind"
) -> Any:
    """Stack rows: vectors become rows, then join along axis 0 (``dtype`` as NumPy's)."""
    arrays = [_atleast(a, 2) for a in tup]
    return concatenate(arrays, axis=0, dtype=dtype, casting=casting)


def hstack(
    tup: Sequence[ArrayLike], *, dtype: Any = None, casting: str = "same_kind"
) -> Any:
    """Join along axis 1 (along axis 0 for vectors); ``dtype`` as NumPy's."""
    arrays = [_atleast(a, 1) for a in tup]
    axis = 0 if _ndim(arrays[0]) == 1 else 1
    return concatenate(arrays, axis=axis, dtype=dtype, casting=casting)


def _cast(x: Any, dtype: Any, casting: Any) -> Any:
    """``x`` as ``dtype`` if NumPy's ``casting`` rule allows it (concatenate's dtype=)."""
    x = _array_arg(x)
    dtype = np.dtype(dtype)
    if not np.can_cast(_dtype(x), dtype, casting=casting):  # NumPy's words
        raise TypeError(
            f"Cannot cast array data from dtype('{_dtype(x)}') to dtype('{dtype}') "
            f"according to the rule '{casting}'"
        )
    if not isinstance(x, Tracer):
        return np.asarray(x).astype(dtype)
    return astype(x, dtype)


def append(arr: ArrayLike, values: ArrayLike, axis: int | None = None) -> Any:
    """``arr`` followed by ``values`` (both flattened when ``axis`` is None)."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([_array_arg(arr), _array_arg(values)], axis=axis)


def _split_bounds(n: int, sections: Any, equal: bool) -> list[int]:
    if isinstance(sections, int | np.integer):
        if sections <= 0:  # NumPy's words (numpy.split itself divides by it first)
            raise ValueError("number sections must be larger than 0.")
        if equal and n % sections:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, int(sections))
        sizes = [each + 1] * extra + [each] * (int(sections) - extra)
        return [0, *np.cumsum(sizes).tolist()]
    return [0, *[int(i) for i in sections], n]


def split(x: ArrayLike, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Split into equal sections, or at the given indices, along ``axis``."""
    return _split(x, indices_or_sections, axis, equal=True)


def array_split(x: ArrayLike, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Like :func:`split`, but the sections may differ in length by one."""
    return _split(x, indices_or_sections, axis, equal=False)


def _split(x: Any, sections: Any, axis: int, equal: bool) -> list[Any]:
    x = _array_arg(x)
    (ax,) = _axis_list(axis, _ndim(x))
    bounds = _split_bounds(shape_of(x)[ax], sections, equal)
    before = (slice(None),) * ax
    return [
        rules.getitem(x, index=(*before, slice(start, stop)))
        for start, stop in itertools.pairwise(bounds)
    ]


def flip(x: ArrayLike, axis: int | Sequence[int] | None = None) -> Any:
    """Reverse the order of elements along ``axis`` (all axes by default)."""
    x = _array_arg(x)
    axes = range(_ndim(x)) if axis is None else _axis_list(axis, _ndim(x))
    index = [slice(None)] * _ndim(x)
    for a in axes:
        index[a] = slice(None, None, -1)
    return rules.getitem(x, index=tuple(index))


def rot90(m: ArrayLike, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Any:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (as numpy.rot90)."""
    a0, a1 = _axis_list(axes, _ndim(m))
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    perm = list(range(_ndim(m)))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return rules.transpose(flip(m, a1), axes=tuple(perm))
    return flip(rules.transpose(m, axes=tuple(perm)), a1)


def roll(
    x: ArrayLike, shift: int | Sequence[int], axis: int | Sequence[int] | None = None
) -> Any:
    """Shift elements cyclically along ``axis`` (of the flattened array by default)."""
    x = _array_arg(x)
    if axis is None:
        return rules.reshape(roll(ravel(x), shift, 0), shape=shape_of(x))
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    for s, a in zip(shifts.ravel().tolist(), axes.ravel().tolist(), strict=True):
        (ax,) = _axis_list(a, _ndim(x))
        n = shape_of(x)[ax]
        s %= n if n else 1
        if s:
            before = (slice(None),) * ax
            x = concatenate(
                [
                    rules.getitem(x, index=(*before, slice(n - s, None))),
                    rules.getitem(x, index=(*before, slice(None, n - s))),
                ],
                axis=ax,
            )
    return x


def repeat(x: ArrayLike, repeats: int | Sequence[int], axis: int | None = None) -> Any:
    """Repeat each element ``repeats`` times along ``axis`` (flattened by default)."""
    x = _array_arg(x)
    if axis is None:
        x, axis = ravel(x), 0
    (ax,) = _axis_list(axis, _ndim(x))
    index = np.repeat(np.arange(shape_of(x)[ax]), repeats)
    return rules.getitem(x, index=(*(slice(None),) * ax, index))


def tile(x: ArrayLike, reps: int | Sequence[int]) -> Any:
    """The array repeated ``reps`` times along each axis (as numpy.tile)."""
    x = _array_arg(x)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    if builtins.any(r < 0 for r in reps):
        raise ValueError(f"tile: negative dimensions are not allowed (reps={reps})")
    d = builtins.max(_ndim(x), len(reps))
    shape = (1,) * (d - _ndim(x)) + shape_of(x)
    reps = (1,) * (d - len(reps)) + reps
    spread = rules.reshape(x, shape=tuple(v for n in shape for v in (1, n)))
    tiled = rules.broadcast_to(
        spread, shape=tuple(v for r, n in zip(reps, shape, strict=True) for v in (r, n))
    )
    return rules.reshape(
        tiled, shape=tuple(r * n for r, n in zip(reps, shape, strict=True))
    )


def pad(
    x: ArrayLike, pad_width: Any, mode: str = "constant", constant_values: Any = 0
) -> Any:
    """Pad with a constant (``mode="constant"`` only) around each axis."""
    if mode != "constant":
        raise NotImplementedError(
            f"pad(mode={mode!r}) has no rule; only mode='constant' is differentiable here. "
            "Build the padding with autodiff_ref.numpy.concatenate and indexing instead"
        )
    x = _array_arg(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (_ndim(x), 2))
    if (widths < 0).any():
        raise ValueError(
            f"pad: index can't contain negative values (pad_width={pad_width})"
        )
    shape = tuple(int(b + n + a) for (b, a), n in zip(widths, shape_of(x), strict=True))
    inner = tuple(
        slice(int(b), int(b + n)) for (b, _), n in zip(widths, shape_of(x), strict=True)
    )
    out = rules.scatter_add(x, index=inner, shape=shape)
    if np.ndim(primal_value(constant_values)) != 0:
        raise NotImplementedError("pad: only a single constant_values is supported")
    if isinstance(constant_values, Tracer) or constant_values != 0:
        outside = np.ones(shape)
        outside[inner] = 0.0
        out = rules.add(out, rules.mul(constant_values, outside))
    return out


def diag(v: ArrayLike, k: int = 0) -> Any:
    """A vector's diagonal matrix, or a matrix's ``k``-th diagonal (as numpy.diag)."""
    v = _array_arg(v)
    if _ndim(v) == 2:
        return diagonal(v, offset=k)
    if _ndim(v) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = shape_of(v)[0]
    i = np.arange(n)
    size = n + builtins.abs(k)
    index = (i + builtins.max(-k, 0), i + builtins.max(k, 0))
    return rules.scatter_add(v, index=index, shape=(size, size))


def tril(m: ArrayLike, k: int = 0) -> Any:
    """The lower triangle (on and below diagonal ``k``); zeros above."""
    m = _array_arg(m)
    rows, cols = shape_of(m)[-2:]
    return rules.where(np.tri(rows, cols, k, dtype=bool), m, 0.0)


def triu(m: ArrayLike, k: int = 0) -> Any:
    """The upper triangle (on and above diagonal ``k``); zeros below."""
    m = _array_arg(m)
    rows, cols = shape_of(m)[-2:]
    return rules.where(~np.tri(rows, cols, k - 1, dtype=bool), m, 0.0)


def select(
    condlist: Sequence[Any], choicelist: Sequence[ArrayLike], default: Any = 0
) -> Any:
    """From each choice where its condition holds, the first one that does (as numpy.select)."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    out = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist), strict=True):
        out = rules.where(cond, choice, out)
    return out


def linspace(
    start: ArrayLike,
    stop: ArrayLike,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``, differentiable in both ends.

    >>> from autodiff_ref import jacfwd
    >>> jacfwd(lambda b: linspace(0.0, b, 3))(2.0)
    array([0. , 0.5, 1. ])
    """
    divisions = (num - 1 if endpoint else num) or 1
    delta = rules.sub(stop, start)
    step = rules.div(delta, float(divisions))
    ks = np.arange(num, dtype=float).reshape((num,) + (1,) * _ndim(delta))
    out = rules.add(rules.mul(ks, step), start)
    if endpoint and num > 1:  # the last value is exactly `stop`, as NumPy makes it
        last = rules.broadcast_to(stop, shape=shape_of(delta))
        out = concatenate(
            [
                rules.getitem(out, index=slice(None, -1)),
                rules.reshape(last, shape=(1, *shape_of(delta))),
            ],
            axis=0,
        )
    return (out, step) if retstep else out


def sort(x: ArrayLike, axis: int | None = -1) -> Any:
    """Sorted copy; the derivative follows the sorting permutation (stable at ties)."""
    x = _array_arg(x)
    if axis is None:
        x, axis = ravel(x), 0
    (ax,) = _axis_list(axis, _ndim(x))
    order = rules.argsort(primal_value(x), axis=ax)
    if isinstance(order, Tracer):  # staged: the permutation is known when it runs
        return _permuted(x, order, ax)
    index = list(np.indices(shape_of(x), sparse=True))
    index[ax] = order
    return rules.getitem(x, index=tuple(index))


def _permuted(x: Any, order: Any, axis: int) -> Any:
    """``x`` reordered by a staged permutation ``order`` along ``axis``.

    Indexing takes its index as a constant, so the gather is written with a
    one-hot selection instead, ``out[i] = sum_j where(order[i] == j, x[j], 0)``:
    exact (one term is x[j], the others 0), and linear in ``x``.
    """
    n = shape_of(x)[axis]
    x_last = moveaxis(x, axis, -1)
    picks = rules.reshape(
        moveaxis(order, axis, -1), shape=(*shape_of(x_last), 1)
    ) == np.arange(n)
    row = rules.reshape(x_last, shape=(*shape_of(x_last)[:-1], 1, n))
    out = rules.sum(rules.where(picks, row, 0.0), axis=-1)
    return moveaxis(out, -1, axis)


# -- products -------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _explicit_subscripts(subscripts: str, operands: Sequence[Any]) -> str:
    """``subscripts`` with the output spelled out and ``...`` replaced by letters."""
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(
            f"einsum: {len(terms)} operand subscripts for {len(operands)} operands"
        )
    free = [c for c in _LETTERS if c not in spec]
    widest = builtins.max(
        (
            _ndim(op) - len(t.replace("...", ""))
            for t, op in zip(terms, operands, strict=True)
            if "..." in t
        ),
        default=0,
    )
    ell = "".join(free[:widest])
    expanded = []
    for t, op in zip(terms, operands, strict=True):
        if "..." in t:
            k = _ndim(op) - len(t.replace("...", ""))
            t = t.replace("...", ell[widest - k :] if k else "")
        expanded.append(t)
    if arrow:
        out = output.replace("...", ell)
    else:  # implicit mode: the letters used once, in alphabetical order
        counts = "".join(expanded)
        out = ell + "".join(
            sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell)
        )
    return ",".join(expanded) + "->" + out


def _sublist_subscripts(args: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``("ab,bc->ac", (a, b))``.

    NumPy's interleaved form: each operand followed by its axes' labels (integers
    0-51, or ``...``), then optionally the output's labels.
    """

    def letters(sublist: Any) -> str:
        if isinstance(sublist, str) or not isinstance(sublist, Sequence):
            raise TypeError(
                "einsum: in the operand-list form each operand is followed by a list of "
                "its axes' labels, e.g. einsum(a, [0, 1], b, [1, 2])"
            )
        out = []
        for label in sublist:
            if label is Ellipsis:
                out.append("...")
            elif isinstance(label, int | np.integer) and 0 <= label < len(_LETTERS):
                out.append(_LETTERS[int(label)])
            else:  # NumPy's words
                raise ValueError("subscript is not within the valid range [0, 52)")
        return "".join(out)

    operands, terms = args[0::2][: len(args) // 2], args[1::2][: len(args) // 2]
    spec = ",".join(letters(t) for t in terms)
    if len(args) % 2:  # an output list after the last operand's labels
        spec += "->" + letters(args[-1])
    return spec, tuple(operands)


def einsum(subscripts: Any, *operands: ArrayLike, optimize: Any = False) -> Any:
    """Einstein summation, as ``numpy.einsum``; linear in each operand.

    Both of NumPy's forms: ``einsum("ij,jk->ik", a, b)`` and the operand-list form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> grad(lambda x: einsum("i,ij,j->", x, A, x))(np.array([1.0, 1.0]))  # (A + A.T) x
    array([ 8., 12.])
    """
    if not isinstance(subscripts, str):  # NumPy's other form: einsum(a, [0, 1], b, [1])
        subscripts, operands = _sublist_subscripts((subscripts, *operands))
    operands = tuple(_array_arg(op) for op in operands)
    return rules.einsum(
        *operands, subscripts=_explicit_subscripts(subscripts, operands)
    )


def tensordot(a: ArrayLike, b: ArrayLike, axes: int | Sequence[Any] = 2) -> Any:
    """Sum of products over ``axes`` of ``a`` and ``b`` (as numpy.tensordot)."""
    a, b = _array_arg(a), _array_arg(b)
    if isinstance(axes, int | np.integer):
        axes_a = list(range(_ndim(a) - int(axes), _ndim(a)))
        axes_b = list(range(int(axes)))
    else:
        axes_a, axes_b = _axis_list(axes[0], _ndim(a)), _axis_list(axes[1], _ndim(b))
    la = list(_LETTERS[: _ndim(a)])
    lb = list(_LETTERS[_ndim(a) : _ndim(a) + _ndim(b)])
    for i, j in zip(axes_a, axes_b, strict=True):
        lb[j] = la[i]
    out = [c for k, c in enumerate(la) if k not in axes_a]
    out += [c for k, c in enumerate(lb) if k not in axes_b]
    return rules.einsum(a, b, subscripts=f"{''.join(la)},{''.join(lb)}->{''.join(out)}")


def outer(a: ArrayLike, b: ArrayLike) -> Any:
    """``a_i b_j`` of the flattened arguments."""
    return rules.einsum(ravel(a), ravel(b), subscripts="i,j->ij")


def inner(a: ArrayLike, b: ArrayLike) -> Any:
    """Sum of products over the last axes (a product if either is a scalar)."""
    a, b = _array_arg(a), _array_arg(b)
    if _ndim(a) == 0 or _ndim(b) == 0:
        return rules.mul(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def kron(a: ArrayLike, b: ArrayLike) -> Any:
    """The Kronecker product: blocks ``a[i, j] * b`` (as numpy.kron)."""
    a, b = _array_arg(a), _array_arg(b)
    d = builtins.max(_ndim(a), _ndim(b))
    sa = (1,) * (d - _ndim(a)) + shape_of(a)
    sb = (1,) * (d - _ndim(b)) + shape_of(b)
    spread_a = rules.reshape(a, shape=tuple(v for n in sa for v in (n, 1)))
    spread_b = rules.reshape(b, shape=tuple(v for n in sb for v in (1, n)))
    return rules.reshape(
        rules.mul(spread_a, spread_b),
        shape=tuple(p * q for p, q in zip(sa, sb, strict=True)),
    )


def cross(
    a: ArrayLike, b: ArrayLike, axisa: int = -1, axisb: int = -1, axisc: int = -1,
    axis: int | None = None,
) -> Any:  # fmt: skip
    """Cross product of 3-vectors, as ``numpy.cross`` (NumPy 2 deprecates 2-vectors).

    The vectors lie along ``axisa`` of ``a`` and ``axisb`` of ``b``, the result's
    along ``axisc``; ``axis``, if given, sets all three.
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(_array_arg(a), axisa, -1)
    b = moveaxis(_array_arg(b), axisb, -1)
    if (shape_of(a)[-1], shape_of(b)[-1]) != (3, 3):
        raise ValueError("cross: both vectors need 3 components along the axis")

    def c(v: Any, k: int) -> Any:
        return rules.getitem(v, index=(Ellipsis, k))

    parts = [
        rules.sub(rules.mul(c(a, i), c(b, j)), rules.mul(c(a, j), c(b, i)))
        for i, j in ((1, 2), (2, 0), (0, 1))
    ]
    return moveaxis(rules.stack(*parts, axis=-1), -1, axisc)


# == More of NumPy's everyday functions (issue 23) ===================================
# Compositions of primitives, each as NumPy defines it; partition's permutation is a
# value choice (rules.argpartition), as sort's is.
def _dtype(x: Any) -> np.dtype:
    value = primal_value(x)
    return value.dtype if isinstance(value, Tracer) else np.result_type(value)


def _is_nan(x: Any) -> Any:
    """Where ``x`` is NaN: a comparison of primal values (staged: an equation)."""
    value = primal_value(x)
    return value != value


def fabs(x: ArrayLike) -> Any:
    """Absolute value of real input, as ``numpy.fabs`` (complex input is refused).

    Its derivative is ``abs``'s: 0 at 0 (see :mod:`autodiff_ref.rules`).
    """
    if not isinstance(x, Tracer):
        return np.fabs(x)  # NumPy's own: floats for integers, complex refused
    _refuse_complex_as_numpy("fabs", x)
    return rules.abs(x)


def _refuse_complex_as_numpy(name: str, x: Any) -> None:
    """NumPy defines ``name`` on real numbers only: traced complex input is refused too."""
    if _dtype(x).kind == "c":
        raise TypeError(
            f"{name} takes real input (numpy.{name} does not support complex input)"
        )


def deg2rad(x: ArrayLike) -> Any:
    """Degrees to radians: ``x * (pi / 180)``, the product NumPy computes (real ``x``)."""
    _refuse_complex_as_numpy("deg2rad", x)
    return rules.mul(x, np.pi / 180.0)


def rad2deg(x: ArrayLike) -> Any:
    """Radians to degrees: ``x * (180 / pi)``, the product NumPy computes (real ``x``)."""
    _refuse_complex_as_numpy("rad2deg", x)
    return rules.mul(x, 180.0 / np.pi)


radians, degrees = deg2rad, rad2deg  # NumPy's other names


def logaddexp2(x: ArrayLike, y: ArrayLike) -> Any:
    """``log2(2**x + 2**y)`` without overflow: ``logaddexp(x ln 2, y ln 2) / ln 2``.

    Equal to ``numpy.logaddexp2`` to rounding; its gradient is the softmax of
    ``(x ln 2, y ln 2)``, through ``logaddexp``'s rule.

    >>> from autodiff_ref import grad
    >>> grad(logaddexp2, argnums=(0, 1))(1.0, 1.0)
    (0.5, 0.5)
    """
    ln2 = rules._LN2
    return rules.div(rules.logaddexp(rules.mul(x, ln2), rules.mul(y, ln2)), ln2)


def fmax(x: ArrayLike, y: ArrayLike) -> Any:
    """Elementwise maximum that ignores NaN, as ``numpy.fmax``.

    Where one argument is NaN the other is the result (and gets the derivative);
    at a tie each gets half, as with :func:`maximum`.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(fmax, argnums=(0, 1))(np.nan, 2.0)
    (0.0, 1.0)
    """
    return _nan_ignoring(rules.maximum, x, y)


def fmin(x: ArrayLike, y: ArrayLike) -> Any:
    """Elementwise minimum that ignores NaN, as ``numpy.fmin`` (ties: half each)."""
    return _nan_ignoring(rules.minimum, x, y)


def _nan_ignoring(extreme: Any, x: Any, y: Any) -> Any:
    # A NaN is replaced by the other argument before the comparison, so no NaN
    # reaches maximum's derivative (where would multiply it by 0, giving NaN).
    # fmax(nan, y) is then maximum(y, y), whose halves both go to y.
    x_safe = rules.where(_is_nan(x), y, x)
    return extreme(x_safe, rules.where(_is_nan(y), x_safe, y))


def nan_to_num(
    x: ArrayLike,
    copy: bool = True,
    nan: ArrayLike = 0.0,
    posinf: ArrayLike | None = None,
    neginf: ArrayLike | None = None,
) -> Any:
    """NaN and infinities replaced by finite numbers, as ``numpy.nan_to_num``.

    ``posinf`` and ``neginf`` default to the dtype's largest finite magnitude.  The
    derivative is 1 where ``x`` is finite and 0 where it was replaced (the
    replacements may themselves be traced: then they get it).

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> x = np.array([1.0, np.inf, np.nan])
    >>> grad(lambda x: sum(nan_to_num(x, posinf=10.0) * 3.0))(x)
    array([3., 0., 0.])
    """
    if not builtins.any(isinstance(v, Tracer) for v in (x, nan, posinf, neginf)):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    dtype = _dtype(x)
    refuse_complex("nan_to_num", x)
    largest = float(np.finfo(dtype).max)
    value = primal_value(x)
    out = rules.where(_is_nan(x), nan, x)
    out = rules.where(value == np.inf, largest if posinf is None else posinf, out)
    return rules.where(value == -np.inf, -largest if neginf is None else neginf, out)


def real_if_close(a: ArrayLike, tol: float = 100) -> Any:
    """``real(a)`` if every imaginary part is below ``tol`` (in machine epsilons if
    ``tol > 1``), else ``a``, as ``numpy.real_if_close``; real ``a`` as it is.

    >>> import numpy as np
    >>> real_if_close(np.array([2.0 + 1e-20j]))
    array([2.])
    """
    if not isinstance(a, Tracer):
        return np.real_if_close(a, tol=tol)
    value = np.asarray(primal_value(a))
    if value.dtype.kind != "c":
        return a
    if tol > 1:  # NumPy's rule: tol counts machine epsilons of a's precision
        tol = float(np.finfo(value.dtype).eps) * tol
    # The choice reads the values, as NumPy's does; either branch is differentiable.
    return rules.real(a) if np.all(np.abs(value.imag) < tol) else a


def column_stack(tup: Sequence[ArrayLike]) -> Any:
    """Vectors as columns, matrices as they are, joined along axis 1 (numpy.column_stack).

    >>> column_stack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    array([[1., 3.],
           [2., 4.]])
    """
    arrays = []
    for v in tup:
        v = _array_arg(v)
        if _ndim(v) < 2:  # NumPy: array(v, ndmin=2).T, a column
            v = rules.reshape(v, shape=(_size_of(v), 1))
        arrays.append(v)
    return concatenate(arrays, axis=1)


def hsplit(ary: ArrayLike, indices_or_sections: Any) -> list[Any]:
    """:func:`split` along axis 1 (axis 0 for vectors), as ``numpy.hsplit``."""
    ary = _array_arg(ary)
    if _ndim(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, axis=1 if _ndim(ary) > 1 else 0)


def vsplit(ary: ArrayLike, indices_or_sections: Any) -> list[Any]:
    """:func:`split` along axis 0 of an array of 2 or more dimensions (numpy.vsplit)."""
    ary = _array_arg(ary)
    if _ndim(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, axis=0)


def dsplit(ary: ArrayLike, indices_or_sections: Any) -> list[Any]:
    """:func:`split` along axis 2 of an array of 3 or more dimensions (numpy.dsplit)."""
    ary = _array_arg(ary)
    if _ndim(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, axis=2)


def fliplr(m: ArrayLike) -> Any:
    """Reverse the columns (axis 1), as ``numpy.fliplr``."""
    m = _array_arg(m)
    if _ndim(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m: ArrayLike) -> Any:
    """Reverse the rows (axis 0), as ``numpy.flipud``."""
    m = _array_arg(m)
    if _ndim(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def partition(
    a: ArrayLike,
    kth: int | Sequence[int],
    axis: int | None = -1,
    kind: str = "introselect",
    order: None = None,
) -> Any:
    """NumPy's partition: the ``kth`` element in its sorted place, smaller ones before.

    The values are ``numpy.partition``'s (the same selection algorithm, run by
    ``numpy.argpartition`` on the values); the derivative follows the selected
    elements, as :func:`sort`'s follows the sorting permutation.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(lambda x: partition(x, 1)[1])(np.array([3.0, 1.0, 2.0]))  # the median
    array([0., 0., 1.])
    """
    if order is not None:
        raise TypeError(
            "partition(order=...) reorders structured arrays: no derivative"
        )
    if kind != "introselect":
        raise ValueError(f"Unknown selection kind {kind!r}")  # as NumPy's words
    x = _array_arg(a)
    if axis is None:
        x, axis = ravel(x), 0
    (ax,) = _axis_list(axis, _ndim(x))
    kth = int(kth) if isinstance(kth, int | np.integer) else tuple(int(k) for k in kth)
    chosen = rules.argpartition(primal_value(x), kth=kth, axis=ax)
    if isinstance(chosen, Tracer):  # staged: the permutation is known when it runs
        return _permuted(x, chosen, ax)
    index = list(np.indices(shape_of(x), sparse=True))
    index[ax] = chosen
    return rules.getitem(x, index=tuple(index))


def _spacings(
    varargs: tuple[Any, ...], axes: list[int], shape: tuple[int, ...]
) -> list[Any]:
    """``numpy.gradient``'s spacing per axis: a number, or the 1-D differences."""
    if not varargs:
        return [1.0] * len(axes)
    if builtins.any(isinstance(v, Tracer) for v in varargs):
        raise TypeError(
            "gradient's spacings cannot be traced values here (their derivative is not "
            "defined by this function); pass NumPy numbers or arrays"
        )
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        return [varargs[0]] * len(axes)
    if len(varargs) != len(axes):
        raise TypeError("invalid number of arguments")
    out: list[Any] = []
    for axis, distances in zip(axes, varargs, strict=True):
        distances = np.asanyarray(distances)
        if distances.ndim == 0:
            out.append(distances)
            continue
        if distances.ndim != 1:
            raise ValueError("distances must be either scalars or 1d")
        if len(distances) != shape[axis]:
            raise ValueError(
                "when 1d, distances must match the length of the corresponding dimension"
            )
        if np.issubdtype(distances.dtype, np.integer):
            distances = distances.astype(np.float64)
        diffx = np.diff(distances)
        out.append(diffx[0] if (diffx == diffx[0]).all() else diffx)
    return out


def _gradient_along(f: Any, axis: int, dx: Any, edge_order: int) -> Any:
    """One axis of numpy.gradient: the same weights, in the same order of operations."""
    ndim = _ndim(f)

    def at(part: Any) -> Any:
        return rules.getitem(f, index=(slice(None),) * axis + (part,))

    def weighted(a: Any, b: Any, c: Any, p: Any, q: Any, r: Any) -> Any:
        return rules.add(
            rules.add(rules.mul(a, at(p)), rules.mul(b, at(q))), rules.mul(c, at(r))
        )

    def along(w: Any) -> Any:  # 1-D weights lined up with the axis
        return np.reshape(w, (-1,) + (1,) * (ndim - axis - 1))

    uniform = np.ndim(dx) == 0
    if uniform:
        inner = rules.div(rules.sub(at(slice(2, None)), at(slice(None, -2))), 2.0 * dx)
    else:
        dx1, dx2 = dx[0:-1], dx[1:]
        a = -(dx2) / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        inner = weighted(
            along(a), along(b), along(c), slice(None, -2), slice(1, -1), slice(2, None)
        )
    if edge_order == 1:
        first = rules.div(rules.sub(at(1), at(0)), dx if uniform else dx[0])
        last = rules.div(rules.sub(at(-1), at(-2)), dx if uniform else dx[-1])
    else:
        if uniform:
            a, b, c = -1.5 / dx, 2.0 / dx, -0.5 / dx
        else:
            dx1, dx2 = dx[0], dx[1]
            a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
            b = (dx1 + dx2) / (dx1 * dx2)
            c = -dx1 / (dx2 * (dx1 + dx2))
        first = weighted(a, b, c, 0, 1, 2)
        if uniform:
            a, b, c = 0.5 / dx, -2.0 / dx, 1.5 / dx
        else:
            dx1, dx2 = dx[-2], dx[-1]
            a = (dx2) / (dx1 * (dx1 + dx2))
            b = -(dx2 + dx1) / (dx1 * dx2)
            c = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
        last = weighted(a, b, c, -3, -2, -1)
    ends = [expand_dims(e, axis) for e in (first, last)]
    return concatenate([ends[0], inner, ends[1]], axis=axis)


def gradient(
    f: ArrayLike, *varargs: Any, axis: int | Sequence[int] | None = None,
    edge_order: int = 1,
) -> Any:  # fmt: skip
    """Central differences inside, one-sided at the ends, as ``numpy.gradient``.

    ``varargs`` gives the spacing: none (1), one number for every axis, or one number
    or coordinate array per axis (non-uniform coordinates use NumPy's weights);
    ``edge_order`` 1 or 2 sets the accuracy at the ends.  Linear in ``f``: the
    result is a weighted sum of its elements.  One array for one axis, else a tuple.

    >>> import numpy as np
    >>> gradient(np.array([1.0, 4.0, 9.0, 16.0]), 2.0)
    array([1.5, 2. , 3. , 3.5])
    """
    f = _array_arg(f)
    if not isinstance(f, Tracer):
        f = np.asanyarray(f)
        if not np.issubdtype(f.dtype, np.inexact):
            f = f.astype(np.float64)
    shape = shape_of(f)
    axes = list(range(len(shape))) if axis is None else _axis_list(axis, len(shape))
    if len(set(axes)) != len(axes):
        raise ValueError("repeated axis")
    dx = _spacings(varargs, axes, shape)
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    out = []
    for ax, ax_dx in zip(axes, dx, strict=True):
        if shape[ax] < edge_order + 1:
            raise ValueError(
                "Shape of array too small to calculate a numerical gradient, "
                "at least (edge_order + 1) elements are required."
            )
        out.append(_gradient_along(f, ax, ax_dx, edge_order))
    return out[0] if len(out) == 1 else tuple(out)


class _AxisConcatenator:
    """``r_[...]`` and ``c_[...]``: NumPy's index tricks, for traced values too.

    NumPy's ``np.r_`` converts every piece to an array before any dispatch could
    see a traced value, so autodiff_ref has its own objects, which build the result
    with :func:`concatenate`: slices (``1:4``, ``0:1:5j``) become ranges, numbers
    and arrays are raised to ``ndmin`` dimensions, and a first string
    ``"axis[,ndmin[,trans1d]]"`` sets the joining, as in NumPy.  The matrix
    directives ``"r"`` and ``"c"`` (which make ``np.matrix``) are refused.
    """

    def __init__(self, axis: int = 0, ndmin: int = 1, trans1d: int = -1) -> None:
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        if items and isinstance(items[0], str):
            axis, ndmin, trans1d = self._directive(items[0], axis, ndmin, trans1d)
            items = items[1:]
        pieces: list[Any] = []
        types: list[Any] = []
        for item in items:
            if isinstance(item, str):
                raise ValueError("special directives must be the first entry.")
            if isinstance(item, slice):
                piece = self._range(item)
                types.append(piece.dtype)
                if ndmin > 1:
                    piece = np.array(piece, copy=None, ndmin=ndmin)
                    if trans1d != -1:
                        piece = piece.swapaxes(-1, trans1d)
            elif type(item) in np.ScalarType:  # Python's and NumPy's numbers
                types.append(item)  # a Python number is weak, as in NumPy
                piece = np.array(item, ndmin=ndmin)
            else:
                item = _array_arg(item)
                types.append(_dtype(item))
                piece = self._raised(item, ndmin, trans1d)
            pieces.append(piece)
        final = np.result_type(*types)
        pieces = [
            p.astype(final) if not isinstance(p, Tracer) else
            astype(p, final) if final.kind in "fc" and _dtype(p) != final else p
            for p in pieces
        ]  # fmt: skip
        return concatenate(pieces, axis=axis)

    @staticmethod
    def _directive(
        text: str, axis: int, ndmin: int, trans1d: int
    ) -> tuple[int, int, int]:
        if text in ("r", "c"):
            raise ValueError(
                f"the {text!r} directive makes an np.matrix, which autodiff_ref does not "
                "make; join as arrays and reshape (a row: r_[...][None, :], a column: "
                "r_[...][:, None])"
            )
        try:
            parts = [int(p) for p in text.split(",")]
        except ValueError:
            raise ValueError(f"unknown special directive {text!r}") from None
        if len(parts) > 3:
            raise ValueError(f"unknown special directive {text!r}")
        axis = parts[0]
        if len(parts) > 1:
            ndmin = parts[1]
        if len(parts) > 2:
            trans1d = parts[2]
        return axis, ndmin, trans1d

    @staticmethod
    def _range(item: slice) -> np.ndarray:
        start = 0 if item.start is None else item.start
        step: Any = 1 if item.step is None else item.step
        if builtins.any(isinstance(v, Tracer) for v in (start, item.stop, step)):
            raise TypeError(
                "r_/c_ slices take plain numbers (a range has no derivative); use "
                "autodiff_ref.numpy.linspace for traced ends"
            )
        if isinstance(step, complex | np.complexfloating):  # 5j: five points
            return np.linspace(start, item.stop, num=int(np.abs(step)))
        return np.arange(start, item.stop, step)

    @staticmethod
    def _raised(item: Any, ndmin: int, trans1d: int) -> Any:
        """``np.array(item, ndmin=ndmin)``, its axes moved as ``trans1d`` says."""
        if not isinstance(item, Tracer):
            item = np.asanyarray(item)
        shape = shape_of(item)
        if len(shape) >= ndmin:
            return item
        raised = rules.reshape(item, shape=(1,) * (ndmin - len(shape)) + shape)
        if trans1d == -1:
            return raised
        k2, k1 = ndmin - len(shape), trans1d
        if k1 < 0:
            k1 += k2 + 1
        axes = list(range(ndmin))
        return rules.transpose(raised, axes=tuple(axes[:k1] + axes[k2:] + axes[k1:k2]))


#: Join along the first axis: ``r_[a, 0.0, b]``, ``r_[0:1:5j]``, ``r_["-1", x, y]``.
r_ = _AxisConcatenator(0)
#: Join as columns: ``c_[a, b]`` stacks vectors side by side (``r_["-1,2,0", ...]``).
c_ = _AxisConcatenator(-1, ndmin=2, trans1d=0)
