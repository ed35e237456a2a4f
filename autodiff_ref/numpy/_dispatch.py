"""NumPy functions called on traced values: route them to autodiff_ref.numpy, or refuse.

``np.sin(dual)`` reaches ``Tracer.__array_ufunc__`` (installed by
:mod:`autodiff_ref.numpy._array_methods`), which lands here.  The routes are
read from the NumPy namespace's one list (``_ops.__all__``, ``_linalg.__all__``):
a NumPy function of the same name as one of ours runs ours; any other raises a
TypeError naming what to use instead, because silently converting the tracer
to a plain array would drop its derivative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import primal_value
from . import _fft as fft
from . import _linalg as linalg
from . import _ops as ops

# Comparisons look at primal values, as the comparison operators do.
_COMPARISONS = {
    np.less,
    np.less_equal,
    np.greater,
    np.greater_equal,
    np.equal,
    np.not_equal,
}


def _with_axis(f: Callable[..., Any]) -> Callable[..., Any]:
    """A reduction as NumPy calls it: refuse out=, dtype=, where= and initial=."""

    def reduction(x: Any, axis: Any = None, *args: Any, **kwargs: Any) -> Any:
        unsupported = [
            k
            for k, v in kwargs.items()
            if k != "keepdims" and k != "ddof" and v is not None
        ]
        if args or unsupported:
            raise TypeError(
                f"numpy.{f.__name__} on traced values takes only axis= and keepdims= "
                f"(and ddof= for var/std); got {', '.join(unsupported) or 'extra arguments'}"
            )
        return f(x, axis=axis, **{k: v for k, v in kwargs.items() if v is not None})

    return reduction


#: The reductions whose NumPy signature has keywords (out=, dtype=, ...) that traced
#: values cannot honour: NumPy passes them as None, and the wrapper refuses the rest.
_REDUCTIONS = {"amax", "amin", "max", "min", "prod", "std", "var"}


def _routes(
    namespace: Any, module: Any
) -> tuple[dict[Any, Callable[..., Any]], dict[Any, Callable[..., Any]]]:
    """numpy's ufuncs and functions -> ours, read from the namespace's one list."""
    ufuncs: dict[Any, Callable[..., Any]] = {}
    functions: dict[Any, Callable[..., Any]] = {}
    for name in module.__all__:
        theirs = getattr(namespace, name, None)
        if theirs is None or isinstance(theirs, type):  # result types (EighResult)
            continue
        ours = getattr(module, name)
        if isinstance(theirs, np.ufunc):
            ufuncs[theirs] = ours
        else:
            functions[theirs] = _with_axis(ours) if name in _REDUCTIONS else ours
    return ufuncs, functions


_UFUNCS, _FUNCTIONS = _routes(np, ops)
_FUNCTIONS.update(_routes(np.linalg, linalg)[1])
_FUNCTIONS.update(_routes(np.fft, fft)[1])
_UFUNCS[np.positive] = lambda x: x
# What a traced value knows without its derivative: its shape.
for _shape_function in (np.shape, np.ndim, np.size):
    _FUNCTIONS[_shape_function] = lambda x, _f=_shape_function: _f(primal_value(x))
# Index and boolean answers depend on primal values only, as comparisons do.
for _index_function in (np.argmax, np.argmin, np.argsort, np.nonzero, np.any, np.all):
    _FUNCTIONS[_index_function] = lambda x, *args, _f=_index_function, **kwargs: _f(
        primal_value(x), *args, **kwargs
    )  # fmt: skip


def _full_name(func: Any) -> str:
    """NumPy's public name of a function or ufunc: numpy.linalg.eig, not numpy.eig."""
    module = getattr(func, "__module__", None) or "numpy"
    if isinstance(func, np.ufunc) or not module.startswith("numpy"):
        module = "numpy"
    # Implementation modules (numpy._core.fromnumeric, numpy.lib._shape_base_impl)
    # are not where users find the function: use the public namespace.
    public = ".".join(
        p for p in module.split(".") if not p.startswith("_") and p != "lib"
    )
    name = getattr(func, "__name__", repr(func))
    if public != "numpy" and getattr(np, name, None) is func:
        public = "numpy"
    return f"{public}.{name}"


#: What to use instead of a NumPy function that has a near relative with a rule.
_INSTEAD = {
    # A general matrix's eigenvectors have no rule: their phases are LAPACK's
    # choice and the output dtype depends on the values (real when all
    # eigenvalues are).
    "numpy.linalg.eig": "for a symmetric (Hermitian) matrix use "
    "autodiff_ref.numpy.linalg.eigh; else ",
    "numpy.linalg.eigvals": "for a symmetric (Hermitian) matrix use "
    "autodiff_ref.numpy.linalg.eigvalsh; else ",
}


def _refuse(name: str) -> TypeError:
    short = name.rsplit(".", 1)[-1]
    sub = next((m for m in ("linalg", "fft") if f".{m}." in name), None)
    ours = short in {None: ops, "linalg": linalg, "fft": fft}[sub].__all__
    prefix = "autodiff_ref.numpy" + (f".{sub}" if sub else "")
    hint = f"use {prefix}.{short}, or " if ours else _INSTEAD.get(name, "")
    return TypeError(
        f"{name} has no derivative rule in autodiff_ref and cannot see traced values; "
        f"{hint}write it with autodiff_ref's functions (the rules are listed in "
        "autodiff_ref.rules.RULES), or give it your own rule with autodiff_ref.custom_jvp "
        'or custom_vjp (see the how-to guide "How to write a custom derivative rule")'
    )


def apply_ufunc(
    ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if ufunc in _COMPARISONS and method == "__call__" and not kwargs:
        return ufunc(*(primal_value(x) for x in inputs))
    if method == "__call__" and kwargs and ufunc in _UFUNCS:
        # The rule exists; the keywords (out=, where=, dtype=) cannot apply to traced values.
        raise TypeError(
            f"numpy.{ufunc.__name__} cannot take {', '.join(f'{k}=' for k in kwargs)} with "
            "traced values, which cannot be written into arrays; drop the keyword and use "
            "the returned value (or autodiff_ref.numpy.where to select elements)"
        )
    if method != "__call__" or kwargs or ufunc not in _UFUNCS:
        name = f"numpy.{ufunc.__name__}"
        raise _refuse(name if method == "__call__" else f"{name}.{method}")
    return _UFUNCS[ufunc](*inputs)


def apply_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if func not in _FUNCTIONS:
        raise _refuse(_full_name(func))
    if kwargs.get("out") is not None:
        raise TypeError(
            f"{_full_name(func)}(..., out=...) cannot write traced values into an "
            "array (that would drop their derivatives); drop out= and use the "
            "returned value"
        )
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    try:
        return _FUNCTIONS[func](*args, **kwargs)
    except TypeError as error:  # say which keyword, in NumPy's name for the function
        if "unexpected keyword argument" not in str(error):
            raise
        raise TypeError(
            f"{_full_name(func)} on traced values does not support the keyword "
            f"{str(error).rsplit(' ', 1)[-1]} (autodiff_ref.numpy.{func.__name__} has "
            "no derivative rule for it); call it without that keyword"
        ) from None


# -- NumPy's keywords that have a meaning for traced values ----------------------------
def _as_dtype(x: Any, dtype: Any) -> Any:
    """``x`` in the floating type ``dtype`` (NumPy's ``dtype=`` of a reduction)."""
    return x if dtype is None else ops.astype(x, dtype)


def _sum(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    keepdims: bool = False,
    initial: Any = None,
    where: Any = None,
) -> Any:
    """numpy.sum: ``where=`` sums the selected elements, ``initial=`` starts from it."""
    x = _as_dtype(a, dtype)
    if where is not None:
        x = ops.where(where, x, 0.0)
    total = ops.sum(x, axis=axis, keepdims=keepdims)
    return total if initial is None else ops.add(total, initial)


def _mean(
    a: Any,
    axis: Any = None,
    dtype: Any = None,
    keepdims: bool = False,
    where: Any = None,
) -> Any:
    """numpy.mean: ``where=`` averages the selected elements (NumPy's count of them)."""
    x = _as_dtype(a, dtype)
    if where is None:
        return ops.mean(x, axis=axis, keepdims=keepdims)
    mask = np.broadcast_to(where, np.shape(primal_value(x)))
    count = np.sum(mask, axis=axis, keepdims=keepdims)
    return ops.divide(_sum(x, axis, None, keepdims, None, mask), count)


def _cumsum(a: Any, axis: Any = None, dtype: Any = None) -> Any:
    return ops.cumsum(_as_dtype(a, dtype), axis=axis)


_SORT_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def _sort(
    a: Any, axis: Any = -1, kind: Any = None, order: Any = None, stable: Any = None
) -> Any:
    """numpy.sort: every ``kind`` sorts the values alike (ties by the stable order)."""
    if kind not in _SORT_KINDS:
        raise ValueError(f"sort kind must be one of {_SORT_KINDS[1:]} (got {kind!r})")
    if order is not None:
        raise TypeError("numpy.sort(order=...) sorts structured arrays: no derivative")
    return ops.sort(a, axis=axis)


_FUNCTIONS.update({np.sum: _sum, np.mean: _mean, np.cumsum: _cumsum, np.sort: _sort})
