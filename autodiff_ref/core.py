"""Primitives, traces and dispatch: the machinery every mode shares.

A *primitive* is an operation whose value and derivative are written down in
:mod:`autodiff_ref.rules`.  Calling a primitive *binds* it to its arguments.
:func:`bind` looks at the arguments: if none is a :class:`Tracer`, the
primitive's NumPy implementation runs; otherwise the argument with the highest
*level* decides, and its trace processes the call (a forward trace pushes
tangents, a reverse trace records a graph node, the symbolic trace builds an
expression).

Levels are how transforms nest without perturbation confusion.  Every transform
call makes a new :class:`Trace` whose level is higher than that of every trace
alive at that moment.  A tracer's inner value (a dual's primal, a node's value)
may itself be a tracer, but only of a *lower* level, so the innermost transform
is always unwrapped first and an outer perturbation is never mistaken for an
inner one.
"""

from __future__ import annotations

import itertools
import numbers
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

__all__ = ["Deriv", "Primitive", "Trace", "Tracer", "bind", "primal_value", "shape_of"]

#: Levels of transforms start above the two fixed traces: the symbolic trace
#: (level 0) and the trace shared by user-made dual numbers (level 1).
_next_level = itertools.count(2)

#: How an elementwise primitive gives its derivative in one argument. A callable
#: computes the local derivative; 1 or -1 means the argument passes through,
#: maybe negated (no multiplication needed); None means the derivative is zero.
Deriv = Callable[..., Any] | int | None


#: The params of a primitive call that has none (shared: never mutated).
NO_PARAMS: dict = {}

#: The rules table (:mod:`autodiff_ref.rules`). ``Primitive.jvp`` and ``.vjp`` combine
#: tangents with its primitives (add, mul, sum_to, ...). The table is built on this
#: module, so it installs itself here when it is imported, instead of this module
#: importing it: the core sits below the rules and the NumPy layer.
rules: Any = None


class Primitive:
    """An operation with a NumPy implementation and a derivative rule.

    There are two kinds of rule:

    * **elementwise** (``derivs``): one local derivative per argument,
      ``derivs[i](ans, *args, **params)``.  Forward mode multiplies the
      tangent by it, reverse mode multiplies the cotangent by it and sums the
      result back to the argument's shape (undoing broadcasting), symbolic mode
      multiplies the derivative of the argument by it.
    * **linear** (``jvp`` and ``vjps``): for operations that are linear in the
      differentiated arguments (sum, reshape, indexing, matmul in each factor,
      ...).  ``jvp(tangents, ans, *args, **params)`` applies the operation to
      the tangents (``None`` stands for a zero tangent); ``vjps[i](ct, ans,
      *args, **params)`` applies its transpose to a cotangent (``vjps[i](ct,
      ans, **params)`` if ``vjp_reads_args`` is False).

    Every derivative is written with autodiff_ref's own primitives, so a
    derivative can be differentiated again: higher orders and nesting need no
    extra code.

    ``linearity`` is a fact about the operation that Taylor mode
    (:mod:`autodiff_ref.taylor`) uses to go faster; it never changes a result.
    ``"linear"``: near any point the operation is a linear map of its
    differentiated arguments (add, sum, indexing, where, ...), so its jvp maps
    each Taylor coefficient on its own.  ``"bilinear"``: linear in each argument
    with the others fixed (mul, matmul), so a product of series is the Cauchy
    product of their coefficients.  ``None`` (anything else): Taylor mode uses
    the general recurrence, which is exact for every operation.
    """

    __slots__ = (
        "derivs",
        "doc",
        "impl",
        "jvp_rule",
        "linearity",
        "name",
        "vjp_reads_args",
        "vjp_rule",
    )

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        *,
        derivs: Sequence[Deriv] | None = None,
        jvp: Callable[..., Any] | None = None,
        vjp: Callable[..., Any] | None = None,
        doc: str = "",
        linearity: str | None = None,
        vjp_reads_args: bool = True,
    ) -> None:
        if (derivs is None) == (jvp is None) or (jvp is None) != (vjp is None):
            raise ValueError(f"primitive {name!r} needs either derivs, or jvp and vjp")
        self.name = name
        self.impl = impl
        self.derivs = None if derivs is None else tuple(derivs)
        self.jvp_rule = jvp
        self.vjp_rule = vjp
        self.doc = doc
        if linearity not in (None, "linear", "bilinear"):
            raise ValueError(
                f"linearity must be None, 'linear' or 'bilinear', got {linearity!r}"
            )
        self.linearity = linearity
        # A join of n pieces (stack, concatenate) is transposed from its output's
        # shape alone: handing each of its n VJP calls all n pieces would be n**2 work.
        self.vjp_reads_args = vjp_reads_args

    def __call__(self, *args: Any, **params: Any) -> Any:
        for a in args:
            if isinstance(a, Tracer):
                return bind(self, args, params or NO_PARAMS)
        return self.impl(
            *args, **params
        )  # plain values: what bind would do, one call sooner

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    @property
    def elementwise(self) -> bool:
        """True when the rule is a table of local derivatives."""
        return self.derivs is not None

    # -- forward mode --------------------------------------------------------
    def jvp(
        self,
        tangents: Sequence[Any],
        ans: Any,
        args: Sequence[Any],
        params: dict,
        batch: int | None = None,
    ) -> Any:
        """The output tangent, or None when it is zero.

        With ``batch=n`` each tangent carries ``n`` directions along a leading
        axis (``(n, *shape)``), so one pass pushes ``n`` directions at once:
        this is how :func:`~autodiff_ref.jacfwd` gets all columns in one pass.
        """
        if self.derivs is None:
            assert self.jvp_rule is not None
            if batch is None:
                return self.jvp_rule(tangents, ans, *args, **params)
            if self.name == "matmul":
                lined_up = _batched_matmul_tangents(tangents, ans, args)
                if lined_up is not None:
                    return self.jvp_rule(lined_up, ans, *args, **params)
            # A linear map applied to a stack of tangents, one slice at a time.
            slices = [
                self.jvp_rule(
                    [None if t is None else rules.getitem(t, index=k) for t in tangents],
                    ans, *args, **params,
                )
                for k in range(batch)
            ]  # fmt: skip
            return rules.stack(*slices, axis=0)
        out_shape = shape_of(ans) if batch is None else (batch, *shape_of(ans))
        out = None
        for i, t in enumerate(tangents):
            d = self.derivs[i]
            if t is None or d is None:
                continue
            if batch is not None:  # line the argument's axes up with the output's
                t = _expand_batched(t, len(out_shape))
            term = _times_local_derivative(d, t, ans, args, params)
            out = term if out is None else rules.add(out, term)
        if out is not None and shape_of(out) != out_shape:
            out = rules.broadcast_to(out, shape=out_shape)
        return out

    # -- reverse mode --------------------------------------------------------
    def vjp(self, i: int, ct: Any, ans: Any, args: Sequence[Any], params: dict) -> Any:
        """The cotangent of argument ``i`` given the output cotangent ``ct``.

        None means zero: the output does not depend on that argument.
        """
        if self.derivs is None:
            assert self.vjp_rule is not None
            if not self.vjp_reads_args:
                return self.vjp_rule(i, ct, ans, **params)
            return self.vjp_rule(i, ct, ans, *args, **params)
        d = self.derivs[i]
        # Elementwise: the local Jacobian is diagonal, so it is its own transpose.
        if d is None:
            return None
        term = _times_local_derivative(d, ct, ans, args, params)
        arg = args[i]
        if type(term) is float and type(arg) is float:  # scalar graphs: nothing to undo
            return term
        arg_shape = shape_of(arg)
        if shape_of(term) != arg_shape:  # undo broadcasting
            term = rules.sum_to(term, shape=arg_shape)
        return term


def _times_local_derivative(
    d: Deriv, v: Any, ans: Any, args: Sequence[Any], params: dict
) -> Any:
    """``v`` times an elementwise local derivative (a tangent or a cotangent)."""
    if d == 1:
        return v
    if d == -1:
        return rules.neg(v)
    assert callable(d)
    return rules.mul(d(ans, *args, **params), v)


def _expand_batched(t: Any, ndim: int) -> Any:
    """Insert axes after the batch axis so ``t`` broadcasts against ``ndim``-d values."""
    shape = shape_of(t)
    missing = ndim - len(shape)
    return (
        t
        if missing <= 0
        else rules.reshape(t, shape=(shape[0],) + (1,) * missing + shape[1:])
    )


def _batched_matmul_tangents(
    tangents: Sequence[Any], ans: Any, args: Sequence[Any]
) -> Any:
    """matmul's tangents lined up for a leading batch axis, or None if it cannot be done.

    matmul broadcasts over leading axes, so a stack of matrix tangents passes
    through it as one stack once its batch axis sits in front of the other
    operand's batch axes. A stacked vector would be read as a matrix, so a
    vector tangent only works on the left of a plain matrix.
    """
    a_ndim, b_ndim = len(shape_of(args[0])), len(shape_of(args[1]))
    if tangents[1] is not None and b_ndim < 2:
        return None
    if tangents[0] is not None and a_ndim < 2 and b_ndim != 2:
        return None
    ndim = 1 + len(shape_of(ans))
    return [
        t if t is None or len(shape_of(x)) < 2 else _expand_batched(t, ndim)
        for t, x in zip(tangents, args, strict=True)
    ]


class Trace:
    """One transform call (or the symbolic world): a level and a way to process ops."""

    def __init__(self, level: int | None = None) -> None:
        self.level = next(_next_level) if level is None else level
        self.active = True

    def process(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        raise NotImplementedError


class Tracer:
    """A value seen by a trace: a dual number, a graph node or an expression.

    Its operators, ndarray methods and NumPy protocols are installed from above
    by :mod:`autodiff_ref.numpy` (as JAX's ``array_methods``); they all route
    to primitives of :mod:`autodiff_ref.rules`, so ``x * y``, ``np.sin(x)`` and
    ``autodiff_ref.numpy.sin(x)`` all go through :func:`bind`.
    """

    __slots__ = ()
    _trace: Trace
    # Make ``ndarray <op> tracer`` defer to the tracer's reflected operator.
    __array_priority__ = 1000

    def _inner(self) -> Any:
        """The wrapped value one level down (a primal, a node's value)."""
        raise NotImplementedError

    def _shape(self) -> tuple[int, ...]:
        return shape_of(self._inner())

    # -- shape information (from the innermost plain value) -----------------
    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self)

    @property
    def ndim(self) -> int:
        return len(shape_of(self))

    @property
    def size(self) -> int:
        return int(np.prod(shape_of(self)))

    @property
    def dtype(self) -> np.dtype:
        inner = primal_value(self)
        if isinstance(
            inner, Tracer
        ):  # an abstract value (a program's variable) knows its dtype
            return inner.dtype
        return np.asarray(inner).dtype

    def __len__(self) -> int:
        shape = shape_of(self)
        if not shape:
            raise TypeError("len() of a 0-d traced value")
        return shape[0]

    # Operators (x * y, x[i], x < y) and ndarray methods (x.sum(), x.T) are NumPy's
    # API: autodiff_ref.numpy installs them on this class from above the core.
    if TYPE_CHECKING:  # for subclasses that extend the protocols (program values)

        def __array_ufunc__(
            self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any
        ) -> Any: ...

        def __array_function__(
            self, func: Any, types: Any, args: Any, kwargs: Any
        ) -> Any: ...

    __hash__ = None  # type: ignore[assignment]  # like ndarray: == is elementwise

    def __bool__(self) -> bool:
        return bool(primal_value(self))

    # -- conversions that would silently drop derivatives are refused ----------
    def __float__(self) -> float:
        raise TypeError(_conversion_message(self, "float()"))

    def __int__(self) -> Any:
        raise TypeError(_conversion_message(self, "int()"))

    def __complex__(self) -> Any:
        raise TypeError(_conversion_message(self, "complex()"))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(_array_conversion_message(self, sys._getframe(1)))


def _conversion_message(x: Any, conversion: str) -> str:
    return (
        f"{conversion} of a {type(x).__name__} would drop its derivative; use autodiff_ref "
        "functions (autodiff_ref.numpy.sin, not math.sin), or autodiff_ref.primal_value(x) if you "
        "really want the plain number"
    )


def _array_conversion_message(x: Any, caller: Any) -> str:
    """Say which conversion to an ndarray was attempted, from the frame that asked for it.

    NumPy converts with ``__array__`` from C code, so the caller is the Python
    code that called numpy.array (or a NumPy function that converts its input).
    """
    kind = type(x).__name__
    module = caller.f_globals.get("__name__", "") if caller is not None else ""
    hint = ""
    if "index_tricks" in module:
        what = "numpy.r_ / numpy.c_ (they convert each piece with numpy.array)"
        hint = "join traced pieces with autodiff_ref.numpy.concatenate or hstack; "
    elif module.startswith("numpy"):
        outer = caller
        while outer.f_back is not None and outer.f_back.f_globals.get(
            "__name__", ""
        ).startswith("numpy"):
            outer = outer.f_back
        name = outer.f_code.co_name
        what = (
            f"numpy.{name} of a list or tuple holding traced values (NumPy converts the "
            "list to one array before it looks at its elements)"
        )
        hint = (
            f"use autodiff_ref.numpy.{name}([...]) or "
            f"numpy.{name}(autodiff_ref.numpy.stack([...])); "
        )
    else:
        import linecache

        line = linecache.getline(caller.f_code.co_filename, caller.f_lineno).strip()
        where = f" in `{line}`" if line else ""
        what = (
            "numpy.array / numpy.asarray, or a NumPy scalar type such as numpy.float64 or "
            f"numpy.int64,{where}"
        )
    return (
        f"{what} tried to convert a {kind} to a NumPy array: a {kind} cannot be converted "
        f"to a NumPy array without dropping its derivative; {hint}build arrays of traced "
        "values with autodiff_ref.numpy.stack, and use autodiff_ref.numpy functions "
        "instead of NumPy ones (autodiff_ref.primal_value(x) gives the plain value)"
    )


def bind(prim: Primitive, args: Sequence[Any], params: dict) -> Any:
    """Apply ``prim`` to ``args``: NumPy for plain values, else the top trace."""
    top: Tracer | None = None
    for a in args:
        if isinstance(a, Tracer) and (top is None or a._trace.level > top._trace.level):
            top = a
    if top is None:
        return prim.impl(*args, **params)
    if not top._trace.active:
        # Its transform has returned: no tape records this op and no one would read
        # its tangent, so carrying on would silently give wrong derivatives.
        raise ValueError(
            f"a {type(top).__name__} escaped from the transform (grad, vjp, jvp, ...) "
            "that made it, which has already returned, e.g. it was stored in a list or "
            "global inside the differentiated function; return it from that function, or "
            "store autodiff_ref.primal_value(x) if you only need its value"
        )
    return top._trace.process(prim, args, params)


def primal_value(x: Any) -> Any:
    """The plain number or array inside any nesting of tracers.

    >>> from autodiff_ref import Dual
    >>> primal_value(Dual(Dual(2.0, 1.0), Dual(1.0, 0.0)))
    2.0
    """
    while isinstance(x, Tracer):
        inner = x._inner()
        if inner is x:  # an abstract value (autodiff_ref.program): no number below it
            return x
        x = inner
    return x


_SCALAR_TYPES = (float, int, complex, np.float64)


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of a number, array or tracer, without converting it."""
    if type(x) in _SCALAR_TYPES:  # the common case in scalar graphs, checked fast
        return ()
    if type(x) is np.ndarray:  # and in array graphs (before the slow ABC check below)
        return x.shape
    if isinstance(x, Tracer):
        return x._shape()
    if isinstance(x, numbers.Number):
        return ()
    shape = getattr(x, "shape", None)
    return np.shape(x) if shape is None else shape
