"""The functions users call: NumPy-like, and differentiable in every mode.

Each accepts Python numbers, NumPy arrays, dual numbers, reverse-mode nodes
and symbolic expressions, and returns the matching type: plain inputs give
plain NumPy results, traced inputs give traced results.  Most are a primitive
of :mod:`autodiff_ref.rules`; a few (``mean``, ``square``, ``dot``) are
compositions of primitives and need no rule of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import rules
from .core import shape_of

__all__ = [
    "abs",
    "add",
    "concatenate",
    "cos",
    "divide",
    "dot",
    "exp",
    "log",
    "matmul",
    "maximum",
    "mean",
    "minimum",
    "multiply",
    "negative",
    "power",
    "reciprocal",
    "reshape",
    "sign",
    "sin",
    "sqrt",
    "square",
    "stack",
    "subtract",
    "sum",
    "tan",
    "tanh",
    "transpose",
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
    """The sign, -1, 0 or 1; its derivative is 0."""
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


def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> Any:
    """``x`` where ``condition`` holds, else ``y``; differentiable in ``x`` and ``y``.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(lambda v: sum(where(v > 0, v, 0.0)))(np.array([-1.0, 2.0]))
    array([0., 1.])
    """
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
    return rules.sum(x, axis=axis, keepdims=keepdims)


def mean(x: ArrayLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
    """Arithmetic mean over ``axis`` (all elements by default)."""
    shape = shape_of(x)
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
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


def concatenate(arrays: Sequence[ArrayLike], axis: int = 0) -> Any:
    """Join arrays along an existing axis."""
    ndim = len(shape_of(arrays[0])) if len(arrays) else 1
    offsets = rules.concatenate_offsets(arrays, axis % ndim if ndim else 0)
    return rules.concatenate(*arrays, axis=axis, offsets=offsets)


def reshape(x: ArrayLike, shape: int | tuple[int, ...]) -> Any:
    """Give ``x`` a new shape with the same elements (``-1`` is inferred)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if -1 in shape:
        size, known = _size(shape_of(x)), -_size(shape)  # the -1 contributes a factor -1
        if shape.count(-1) > 1:
            raise ValueError("can only specify one unknown dimension")
        if known == 0 or size % known:  # as NumPy says it
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    return rules.reshape(x, shape=shape)


def transpose(x: ArrayLike, axes: Sequence[int] | None = None) -> Any:
    """Permute the axes (reverse them by default)."""
    return rules.transpose(x, axes=None if axes is None else tuple(axes))
