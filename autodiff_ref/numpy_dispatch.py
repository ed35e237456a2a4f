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

from . import linalg, ops
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
_COMPARISONS = {
    np.less,
    np.less_equal,
    np.greater,
    np.greater_equal,
    np.equal,
    np.not_equal,
}

_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: lambda *args, **kwargs: _sum(*args, **kwargs),
    np.mean: lambda *args, **kwargs: _mean(*args, **kwargs),
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


def _refuse(name: str) -> TypeError:
    short = name.rsplit(".", 1)[-1]
    ours = short if hasattr(ops, short) else None
    hint = f"use autodiff_ref.{ours}, or " if ours else ""
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
            "the returned value (or autodiff_ref.where to select elements)"
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
            f"{str(error).rsplit(' ', 1)[-1]} (autodiff_ref.{func.__name__} has no "
            "derivative rule for it); call it without that keyword"
        ) from None


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


# -- more of NumPy (appended; the elementwise ones are ufuncs) -------------------------
_UFUNCS.update({
    np.cosh: ops.cosh, np.sinh: ops.sinh, np.arcsin: ops.arcsin, np.arccos: ops.arccos,
    np.arctan: ops.arctan, np.arcsinh: ops.arcsinh, np.arccosh: ops.arccosh,
    np.arctanh: ops.arctanh, np.log1p: ops.log1p, np.expm1: ops.expm1, np.log2: ops.log2,
    np.log10: ops.log10, np.exp2: ops.exp2, np.hypot: ops.hypot,
    np.logaddexp: ops.logaddexp, np.arctan2: ops.arctan2, np.remainder: ops.mod,
    np.floor: ops.floor, np.ceil: ops.ceil, np.floor_divide: ops.floor_divide,
})  # fmt: skip


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


_FUNCTIONS.update(
    {
        np.max: _with_axis(ops.max),
        np.amax: _with_axis(ops.max),
        np.min: _with_axis(ops.min),
        np.amin: _with_axis(ops.min),
        np.prod: _with_axis(ops.prod),
        np.var: _with_axis(ops.var),
        np.std: _with_axis(ops.std),
        np.cumsum: _cumsum,
        np.diff: ops.diff,
        np.trace: ops.trace,
        np.diagonal: ops.diagonal,
        np.einsum: ops.einsum,
        np.tensordot: ops.tensordot,
        np.outer: ops.outer,
        np.inner: ops.inner,
        np.kron: ops.kron,
        np.cross: ops.cross,
        np.sort: _sort,
        np.repeat: ops.repeat,
        np.tile: ops.tile,
        np.roll: ops.roll,
        np.flip: ops.flip,
        np.rot90: ops.rot90,
        np.pad: ops.pad,
        np.expand_dims: ops.expand_dims,
        np.squeeze: ops.squeeze,
        np.swapaxes: ops.swapaxes,
        np.moveaxis: ops.moveaxis,
        np.ravel: ops.ravel,
        np.atleast_1d: ops.atleast_1d,
        np.atleast_2d: ops.atleast_2d,
        np.atleast_3d: ops.atleast_3d,
        np.vstack: ops.vstack,
        np.hstack: ops.hstack,
        np.append: ops.append,
        np.split: ops.split,
        np.array_split: ops.array_split,
        np.diag: ops.diag,
        np.tril: ops.tril,
        np.triu: ops.triu,
        np.select: ops.select,
        np.linspace: ops.linspace,
        np.clip: ops.clip,
        np.real: ops.real,
        np.sinc: ops.sinc,
        np.linalg.norm: linalg.norm,
        np.linalg.inv: linalg.inv,
        np.linalg.solve: linalg.solve,
        np.linalg.det: linalg.det,
        np.linalg.slogdet: linalg.slogdet,
        np.linalg.cholesky: linalg.cholesky,
        np.linalg.eigh: linalg.eigh,
        np.linalg.eigvalsh: linalg.eigvalsh,
        np.linalg.svd: linalg.svd,
        np.linalg.svdvals: linalg.svdvals,
        np.linalg.qr: linalg.qr,
        np.linalg.matrix_power: linalg.matrix_power,
        np.linalg.trace: linalg.trace,
    }
)
# Index and boolean answers depend on primal values only, as comparisons do.
for _index_function in (np.argmax, np.argmin, np.argsort, np.nonzero, np.any, np.all):
    _FUNCTIONS[_index_function] = lambda x, *args, _f=_index_function, **kwargs: _f(
        primal_value(x), *args, **kwargs
    )  # fmt: skip
