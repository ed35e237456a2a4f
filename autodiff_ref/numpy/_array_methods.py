"""Operators and ndarray methods of traced values, installed from above the core.

:class:`autodiff_ref.core.Tracer` knows only what every trace needs: its level,
its shape, and the conversions it refuses.  ``x * y``, ``x[1:]``, ``x.sum()``,
``x.T`` and ``np.sin(x)`` are NumPy's API, so they are written here, beside the
NumPy namespace, and :func:`install` puts them on ``Tracer`` when
:mod:`autodiff_ref.numpy` is imported, as JAX's ``array_methods`` does for its
tracers.  Each routes to a primitive of :mod:`autodiff_ref.rules` or to the
function of the same name in :mod:`autodiff_ref.numpy`, so ``x * y``,
``np.multiply(x, y)`` and ``anp.multiply(x, y)`` all go through
:func:`~autodiff_ref.core.bind`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import rules
from ..core import NO_PARAMS, Primitive, Tracer, bind, primal_value
from . import _dispatch
from . import _ops as ops


def _binary(
    prim: Primitive, name: str
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``x <op> y`` and its reflected form ``y <op> x``, both binding ``prim``."""

    def operator(self: Any, other: Any) -> Any:
        return bind(prim, (self, other), NO_PARAMS)

    def reflected(self: Any, other: Any) -> Any:
        return bind(prim, (other, self), NO_PARAMS)

    operator.__name__ = operator.__qualname__ = f"__{name}__"
    reflected.__name__ = reflected.__qualname__ = f"__r{name}__"
    return operator, reflected


def _neg(self: Any) -> Any:
    return bind(rules.neg, (self,), NO_PARAMS)


def _pos(self: Any) -> Any:
    return self


def _abs(self: Any) -> Any:
    return rules.abs(self)


def _getitem(self: Any, index: Any) -> Any:
    return rules.getitem(self, index=index)


def _setitem(self: Any, index: Any, value: Any) -> None:
    raise TypeError(
        "traced arrays cannot be assigned in place; build the new array instead, "
        "e.g. with autodiff_ref.numpy.where(mask, new, x), autodiff_ref.numpy.stack or "
        "autodiff_ref.numpy.concatenate"
    )


def _iter(self: Any) -> Any:
    return (self[i] for i in range(len(self)))


# -- comparisons look at primal values, so if/while work ---------------------------
def _lt(self: Any, other: Any) -> Any:
    return primal_value(self) < primal_value(other)


def _le(self: Any, other: Any) -> Any:
    return primal_value(self) <= primal_value(other)


def _gt(self: Any, other: Any) -> Any:
    return primal_value(self) > primal_value(other)


def _ge(self: Any, other: Any) -> Any:
    return primal_value(self) >= primal_value(other)


def _eq(self: Any, other: object) -> Any:
    return primal_value(self) == primal_value(other)


def _ne(self: Any, other: object) -> Any:
    return primal_value(self) != primal_value(other)


# -- ndarray methods, each the autodiff_ref.numpy function of the same name ------------
def _T(self: Any) -> Any:  # NumPy's name
    return rules.transpose(self, axes=None)


def _real(self: Any) -> Any:
    return rules.real(self)


def _imag(self: Any) -> Any:
    return rules.imag(self)


def conj(self: Any) -> Any:
    """The complex conjugate, as ``ndarray.conj``."""
    return rules.conj(self)


def conjugate(self: Any) -> Any:
    """The complex conjugate, as ``ndarray.conjugate``."""
    return rules.conj(self)


def reshape(self: Any, *shape: Any) -> Any:
    """Like ``ndarray.reshape``: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    return rules.reshape(self, shape=tuple(shape))


def transpose(self: Any, *axes: Any) -> Any:
    """Permute axes like ``ndarray.transpose``: ``x.transpose(1, 0)`` or ``((1, 0))``."""
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], tuple | list)):
        return rules.transpose(self, axes=None if axes[0] is None else tuple(axes[0]))
    return rules.transpose(self, axes=tuple(axes) if axes else None)


def sum(  # ndarray's name
    self: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Any:
    return rules.sum(self, axis=axis, keepdims=keepdims)


def dot(self: Any, other: Any) -> Any:
    return ops.dot(
        self, other
    )  # NumPy's dot, which is matmul only up to two dimensions


def ravel(self: Any) -> Any:
    return ops.ravel(self)


def flatten(self: Any) -> Any:
    return ops.ravel(self)  # a copy in NumPy; traced values are never written into


def squeeze(self: Any, axis: Any = None) -> Any:
    return ops.squeeze(self, axis)


def swapaxes(self: Any, axis1: int, axis2: int) -> Any:
    return ops.swapaxes(self, axis1, axis2)


def mean(self: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return ops.mean(self, axis=axis, keepdims=keepdims)


def var(self: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    return ops.var(self, axis=axis, ddof=ddof, keepdims=keepdims)


def std(self: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    return ops.std(self, axis=axis, ddof=ddof, keepdims=keepdims)


def max(self: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return ops.max(self, axis=axis, keepdims=keepdims)


def min(self: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return ops.min(self, axis=axis, keepdims=keepdims)


def prod(self: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return ops.prod(self, axis=axis, keepdims=keepdims)


def cumsum(self: Any, axis: int | None = None) -> Any:
    return ops.cumsum(self, axis=axis)


def trace(self: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return ops.trace(self, offset, axis1, axis2)


def diagonal(self: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return ops.diagonal(self, offset, axis1, axis2)


def clip(self: Any, min: Any = None, max: Any = None) -> Any:
    return ops.clip(self, min, max)


def repeat(self: Any, repeats: Any, axis: int | None = None) -> Any:
    return ops.repeat(self, repeats, axis)


def astype(self: Any, dtype: Any) -> Any:
    return ops.astype(self, dtype)


#: ndarray methods whose answers are indices or booleans: traced values answer them
#: from their primal values, as comparisons do.
_INDEX_METHODS = frozenset({"argmax", "argmin", "argsort", "nonzero", "any", "all"})


def _getattr(self: Any, name: str) -> Any:
    # Only reached for names the class lacks: say what to use instead of
    # "'Node' object has no attribute", for the methods ndarray has.
    if name in _INDEX_METHODS:  # integer or boolean answers: no derivative to lose
        return getattr(np.asarray(primal_value(self)), name)
    if not name.startswith("__") and hasattr(np.ndarray, name):
        if name in ops.__all__:
            instead = f"use autodiff_ref.numpy.{name}(x) instead, or"
        else:
            instead = "autodiff_ref has no differentiable version of it; use"
        raise AttributeError(
            f"traced values ({type(self).__name__}) have no method .{name}() of "
            f"numpy.ndarray: {instead} autodiff_ref.primal_value(x).{name} for the "
            "plain value (without derivative)"
        )
    raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


# -- NumPy functions: route the ones with a rule, refuse the others -----------------
def _array_ufunc(
    self: Any, ufunc: Any, method: str, *inputs: Any, **kwargs: Any
) -> Any:
    return _dispatch.apply_ufunc(ufunc, method, inputs, kwargs)


def _array_function(self: Any, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    return _dispatch.apply_function(func, args, kwargs)


_METHODS: tuple[Callable[..., Any], ...] = (
    conj,
    conjugate,
    reshape,
    transpose,
    sum,
    dot,
    ravel,
    flatten,
    squeeze,
    swapaxes,
    mean,
    var,
    std,
    max,
    min,
    prod,
    cumsum,
    trace,
    diagonal,
    clip,
    repeat,
    astype,
)


def install(cls: type = Tracer) -> None:
    """Give ``cls`` (and so every tracer type) NumPy's operators and ndarray methods."""
    for name, prim in (
        ("add", rules.add),
        ("sub", rules.sub),
        ("mul", rules.mul),
        ("truediv", rules.div),
        ("pow", rules.pow),
        ("matmul", rules.matmul),
        ("mod", rules.mod),
        ("floordiv", rules.floor_divide),
    ):
        operator, reflected = _binary(prim, name)
        setattr(cls, f"__{name}__", operator)
        setattr(cls, f"__r{name}__", reflected)
    special: dict[str, Any] = {
        "__neg__": _neg,
        "__pos__": _pos,
        "__abs__": _abs,
        "__getitem__": _getitem,
        "__setitem__": _setitem,
        "__iter__": _iter,
        "__lt__": _lt,
        "__le__": _le,
        "__gt__": _gt,
        "__ge__": _ge,
        "__eq__": _eq,
        "__ne__": _ne,
        "__getattr__": _getattr,
        "__array_ufunc__": _array_ufunc,
        "__array_function__": _array_function,
        "T": property(_T),
        "real": property(_real),
        "imag": property(_imag),
    }
    for name, method in special.items():
        setattr(cls, name, method)
    for method in _METHODS:
        setattr(cls, method.__name__, method)
