"""NumPy functions called on traced values: route them to autodiff_ref, or refuse.

``np.sin(dual)`` reaches :meth:`Tracer.__array_ufunc__`, which lands here.
A NumPy function with a rule in the table runs that rule; any other raises a
TypeError naming what to use instead, because silently converting the tracer
to a plain array would drop its derivative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops
from .core import primal_value

_UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: ops.add,
    np.subtract: ops.subtract,
    np.multiply: ops.multiply,
    np.true_divide: ops.divide,
    np.negative: ops.negative,
    np.positive: lambda x: x,
    np.power: ops.power,
    np.reciprocal: ops.reciprocal,
    np.square: ops.square,
    np.sqrt: ops.sqrt,
    np.exp: ops.exp,
    np.log: ops.log,
    np.sin: ops.sin,
    np.cos: ops.cos,
    np.tan: ops.tan,
    np.tanh: ops.tanh,
    np.absolute: ops.abs,
    np.sign: ops.sign,
    np.maximum: ops.maximum,
    np.minimum: ops.minimum,
    np.matmul: ops.matmul,
}

# Comparisons look at primal values, as the comparison operators do.
_COMPARISONS = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal}

_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: ops.sum,
    np.mean: ops.mean,
    np.dot: ops.dot,
    np.matmul: ops.matmul,
    np.stack: lambda arrays, axis=0: ops.stack(arrays, axis=axis),
    np.concatenate: lambda arrays, axis=0: ops.concatenate(arrays, axis=axis),
    np.reshape: ops.reshape,
    np.transpose: ops.transpose,
    np.where: ops.where,
    np.shape: lambda x: np.shape(primal_value(x)),
    np.ndim: lambda x: np.ndim(primal_value(x)),
    np.size: lambda x: np.size(primal_value(x)),
}


def _refuse(name: str) -> TypeError:
    ours = name if hasattr(ops, name) else None
    hint = f"use autodiff_ref.{ours}" if ours else "write it with autodiff_ref's functions"
    return TypeError(
        f"numpy.{name} has no derivative rule in autodiff_ref and cannot see traced values; "
        f"{hint} (the rules are listed in autodiff_ref.rules.RULES)"
    )


def apply_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    if ufunc in _COMPARISONS and method == "__call__" and not kwargs:
        return ufunc(*(primal_value(x) for x in inputs))
    if method == "__call__" and kwargs and ufunc in _UFUNCS:
        # The rule exists; the keywords (out=, where=, dtype=) cannot apply to traced values.
        raise TypeError(
            f"numpy.{ufunc.__name__} cannot take {', '.join(f'{k}=' for k in kwargs)} with "
            "traced values, which cannot be written into arrays; drop the keyword and use "
            "the returned value (or autodiff_ref.where to select elements)"
        )
    if method != "__call__" or kwargs or ufunc not in _UFUNCS:
        raise _refuse(ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}")
    return _UFUNCS[ufunc](*inputs)


def apply_function(func: Any, args: tuple, kwargs: dict) -> Any:
    if func not in _FUNCTIONS:
        raise _refuse(func.__name__)
    return _FUNCTIONS[func](*args, **kwargs)
