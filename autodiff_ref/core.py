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

import contextlib
import contextvars
import itertools
import numbers
import sys
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

__all__ = [
    "ConcretizationError",
    "Deriv",
    "Primitive",
    "Trace",
    "Tracer",
    "UndefinedPrimal",
    "Wirtinger",
    "Zero",
    "bind",
    "evaluating_with",
    "primal_value",
    "shape_of",
]

#: Levels of transforms start above the two fixed traces: the symbolic trace
#: (level 0) and the trace shared by user-made dual numbers (level 1).
_next_level = itertools.count(2)

#: How an elementwise primitive gives its derivative in one argument. A callable
#: computes the local derivative (or, for a function of a complex argument that is
#: not holomorphic, a :class:`Wirtinger` pair); 1 or -1 means the argument passes
#: through, maybe negated (no multiplication needed); None means the derivative is
#: zero.
Deriv = Callable[..., Any] | int | None


class Wirtinger:
    """The local derivative of a non-holomorphic elementwise function: a Wirtinger pair.

    A holomorphic function (exp, sin, x * y, ...) has a complex derivative ``f'``,
    and its tangent is ``f' t``. A function such as ``abs`` of a complex ``z`` has none;
    near ``z`` it is still a real-linear map of the tangent, which the two
    Wirtinger derivatives ``dz = ∂f/∂z`` and ``dzbar = ∂f/∂z̄`` give:
    ``t ↦ dz t + dzbar conj(t)``. Its transpose (JAX's convention: the transpose,
    not the conjugate transpose, for the pairing ``Re(sum(u v))``) is
    ``c ↦ dz c + conj(dzbar c)``: one pair gives both, so the formula is written
    once. For a real-valued ``f`` the tangent's imaginary part is zero, and it is
    dropped (the tangent takes the output's dtype).
    """

    __slots__ = ("dz", "dzbar")

    def __init__(self, dz: Any, dzbar: Any) -> None:
        self.dz, self.dzbar = dz, dzbar

    def __repr__(self) -> str:
        return f"Wirtinger(dz={self.dz!r}, dzbar={self.dzbar!r})"


#: The params of a primitive call that has none (shared: never mutated).
NO_PARAMS: dict[str, Any] = {}

#: The rules a whole kind of primitive shares, by kind (JAX's ``standard_jvp`` and
#: ``deflinear``), never by primitive: ``"elementwise_jvp"`` and
#: ``"elementwise_vjp"`` (from ``derivs``) and ``"multilinear_jvp"`` (one term per
#: tangent). They combine tangents with primitives (add, mul, sum_to), which the
#: rules layer defines on top of this module, so that layer supplies them when it is
#: imported (at the end of :mod:`autodiff_ref.rules`); the core only calls them.
STANDARD_RULES: dict[str, Callable[..., Any]] = {}

#: Every live primitive by name. Names are for printing only (every table is keyed
#: by the Primitive object), but two primitives printed alike would make a listing
#: lie, so a name is taken once. Weak values: a primitive made at run time
#: (custom_jvp, checkpoint) gives its name back when it is freed.
PRIMITIVES: weakref.WeakValueDictionary[str, Primitive] = weakref.WeakValueDictionary()


class ConcretizationError(TypeError):
    """Python needed the value of an abstract value (an ``if``, a ``float()``, ...)."""


def unique_name(base: str) -> str:
    """``base``, or ``base_2``, ``base_3``, ... if that is taken: for run-time primitives.

    >>> unique_name("sin")  # the rules table's sin has the name
    'sin_2'
    """
    if base not in PRIMITIVES:
        return base
    k = 2
    while f"{base}_{k}" in PRIMITIVES:
        k += 1
    return f"{base}_{k}"


class UndefinedPrimal:
    """A linear input of a transpose rule: only its shape and dtype are known (JAX's name).

    A transpose rule receives one in place of each argument it transposes for,
    so it cannot read a value it has no business reading; the other arguments
    are the constants they were.
    """

    __slots__ = ("dtype", "shape")

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape, self.dtype = shape, dtype

    @classmethod
    def like(cls, x: Any) -> UndefinedPrimal:
        """The marker for argument value ``x`` (its shape and dtype, not its value)."""
        if type(x) is np.ndarray:
            return cls(x.shape, x.dtype)
        if type(x) is float:
            return cls((), _FLOAT64)
        if type(x) is UndefinedPrimal:  # already marked (a program's variable)
            return x
        return cls(shape_of(x), _dtype_of(x))

    def __repr__(self) -> str:
        return f"UndefinedPrimal(shape={self.shape}, dtype={self.dtype})"


class Zero:
    """A cotangent or tangent known to be zero, by its shape and dtype (JAX's name).

    Used where a zero must take a value's place without anyone computing on it;
    :meth:`instantiate` makes the array when one is finally needed.
    """

    __slots__ = ("dtype", "shape")

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape, self.dtype = shape, dtype

    def instantiate(self) -> Any:
        """The zero as a number or array of a floating dtype (complex stays complex)."""
        dtype = np.dtype(self.dtype)
        dtype = dtype if dtype.kind in "fc" else _FLOAT64  # float32 stays float32
        if not self.shape:
            return 0.0 if dtype == _FLOAT64 else dtype.type(0)
        return np.zeros(self.shape, dtype)

    def __repr__(self) -> str:
        return f"Zero(shape={self.shape}, dtype={self.dtype})"


_FLOAT64 = np.dtype(np.float64)


def _dtype_of(x: Any) -> Any:
    value = primal_value(x)
    if isinstance(value, Tracer):  # an abstract value (a program's variable)
        return value.dtype
    return np.result_type(value)


class Primitive:
    """An operation with a NumPy implementation and one derivative rule.

    There are three kinds of rule, and a primitive has exactly one:

    * **elementwise** (``derivs``): one local derivative per argument,
      ``derivs[i](ans, *args, **params)``.  Forward mode multiplies the
      tangent by it, reverse mode multiplies the cotangent by it and sums the
      result back to the argument's shape (undoing broadcasting), symbolic mode
      multiplies the derivative of the argument by it.
    * **linear** (``transpose``, with ``linearity`` ``"linear"``,
      ``"bilinear"`` or ``"multilinear"``): sum, reshape, indexing, matmul in
      each factor, ...  ``transpose(ct, *args, **params)`` returns the cotangents of all
      arguments at once, one per argument (None for a constant); each argument
      it transposes for is an :class:`UndefinedPrimal`.  The JVP follows from
      linearity (JAX's ``deflinear`` and ``defbilinear``): a linear primitive
      applied to the tangents; a bilinear one, ``op(ta, b) + op(a, tb)``.
    * **JVP** (``jvp``): any other operation (prod, inv, eigh, ...).
      ``jvp(tangents, ans, *args, **params)`` gives the output tangent,
      linear in the tangents (``None`` stands for a zero tangent).  Reverse
      mode linearizes it and transposes the result
      (:func:`autodiff_ref.reverse.transposed_jvp`): no VJP is written by hand.
      A primitive linear in some of its arguments only (``solve`` in ``b``)
      may add a ``transpose`` for those (``linear_in``).

    A primitive with ``multiple_results=True`` (eigh, svd, qr, slogdet; JAX's
    name) returns a tuple of results, and its JVP a tuple of tangents (``None``
    for a result that does not depend on the tangents, slogdet's sign).  Every
    interpreter handles the tuple: forward mode makes a dual per result, reverse
    mode records the call and one node per result
    (``autodiff_ref.rules.result``) and transposes the JVP once with a
    cotangent per result (a :class:`Zero` where none arrives), Taylor mode
    shares one JVP among the results, and a program binds one variable per
    result in one equation.

    User rules (:mod:`autodiff_ref.custom`) may add ``fwd`` and ``bwd``:
    reverse mode then calls ``fwd(*args) -> (ans, residuals)`` in the forward
    pass and ``bwd(residuals, ct, *args)`` (all cotangents at once) in the
    backward pass, JAX's ``custom_vjp``.

    Every derivative is written with autodiff_ref's own primitives, so a
    derivative can be differentiated again: higher orders and nesting need no
    extra code.

    ``linearity`` is also a fact Taylor mode (:mod:`autodiff_ref.taylor`)
    uses to go faster; it never changes a result.  ``"linear"``: near any point
    the operation is a linear map of its differentiated arguments (add, sum,
    indexing, where, ...), so its jvp maps each Taylor coefficient on its own.
    ``"bilinear"``: linear in each argument with the others fixed (mul, matmul),
    so a product of series is the Cauchy product of their coefficients.
    ``"multilinear"``: linear in each of any number of arguments (einsum), for
    which Taylor mode takes the general recurrence.  ``None`` (anything else):
    Taylor mode uses the general recurrence, which is exact for every operation.
    """

    __slots__ = (
        "__weakref__",
        "bwd_rule",
        "derivs",
        "doc",
        "fwd_rule",
        "impl",
        "jvp_rule",
        "linear_in",
        "linearity",
        "multiple_results",
        "name",
        "transpose_rule",
    )

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        *,
        derivs: Sequence[Deriv] | None = None,
        jvp: Callable[..., Any] | None = None,
        transpose: Callable[..., Any] | None = None,
        doc: str = "",
        linearity: str | None = None,
        linear_in: tuple[int, ...] | None = None,
        fwd: Callable[..., Any] | None = None,
        bwd: Callable[..., Any] | None = None,
        multiple_results: bool = False,
    ) -> None:
        if multiple_results and jvp is None:
            raise ValueError(
                f"primitive {name!r} has several results: it needs a jvp that returns "
                "one tangent per result"
            )
        if linearity not in (None, "linear", "bilinear", "multilinear"):
            raise ValueError(
                "linearity must be None, 'linear', 'bilinear' or 'multilinear', got "
                f"{linearity!r}"
            )
        kinds = (derivs is not None) + (jvp is not None or transpose is not None)
        unknown_jvp = transpose is not None and jvp is None and linearity is None
        if kinds != 1 or unknown_jvp or (fwd is None) != (bwd is None):
            raise ValueError(
                f"primitive {name!r} needs either derivs, or a jvp, or a transpose and "
                "a linearity ('linear', 'bilinear', ...); fwd and bwd come together"
            )
        if name in PRIMITIVES:
            raise ValueError(
                f"a primitive named {name!r} exists already ({PRIMITIVES[name]!r}); "
                "give the new one a name of its own (core.unique_name(name) makes one)"
            )
        PRIMITIVES[name] = self
        self.name = name
        self.impl = impl
        self.derivs = None if derivs is None else tuple(derivs)
        self.transpose_rule = transpose
        self.linearity = linearity
        # The arguments the transpose may be asked about (None for every one).
        self.linear_in = linear_in
        if jvp is None and transpose is not None:
            jvp = self._linear_jvp if linearity == "linear" else self._multilinear_jvp
        self.jvp_rule = jvp
        self.fwd_rule, self.bwd_rule = fwd, bwd
        #: True when ``impl`` returns a tuple of results (JAX's ``multiple_results``):
        #: bind returns a tuple, and the JVP a tuple of tangents (None for a zero).
        self.multiple_results = multiple_results
        self.doc = doc

    # -- the JVP of a linear primitive, from linearity (deflinear, defbilinear) --
    def _linear_jvp(
        self, tangents: Sequence[Any], ans: Any, *args: Any, **params: Any
    ) -> Any:
        # Linear in all arguments at once: the primitive itself maps the tangents,
        # a zero standing in for each argument without one.
        full = [
            Zero(shape_of(x), _dtype_of(x)).instantiate() if t is None else t
            for t, x in zip(tangents, args, strict=True)
        ]
        return bind(self, full, params or NO_PARAMS)

    def _multilinear_jvp(
        self, tangents: Sequence[Any], ans: Any, *args: Any, **params: Any
    ) -> Any:
        # Linear in each argument with the others fixed: one term per tangent.
        return STANDARD_RULES["multilinear_jvp"](self, tangents, args, params)

    def __call__(self, *args: Any, **params: Any) -> Any:
        for a in args:
            if isinstance(a, Tracer):
                return bind(self, args, params or NO_PARAMS)
        # Plain values: bind's work, sooner (impl_of, inlined: this is every
        # primitive call of a backward pass on plain arrays).
        impls = _IMPLS.get()
        return (impls.get(self, self.impl) if impls else self.impl)(*args, **params)

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
        params: dict[str, Any],
    ) -> Any:
        """The output tangent, or None when it is zero.

        A stack of directions is a tangent like any other: ``vmap`` of a JVP
        (how :func:`~autodiff_ref.jacfwd` gets all columns in one pass) batches
        the operations this rule applies to the tangents, not the rule itself.
        """
        if self.derivs is None:
            assert self.jvp_rule is not None
            return self.jvp_rule(tangents, ans, *args, **params)
        return STANDARD_RULES["elementwise_jvp"](
            self.derivs, tangents, ans, args, params
        )

    # -- reverse mode --------------------------------------------------------
    def local_vjp(
        self, i: int, ct: Any, ans: Any, args: Sequence[Any], params: dict[str, Any]
    ) -> Any:
        """An elementwise primitive's cotangent for argument ``i`` (None: zero).

        The local Jacobian is diagonal, so it is its own transpose: the
        cotangent times the local derivative, summed back to the argument's
        shape where the argument was broadcast.
        """
        assert self.derivs is not None
        return STANDARD_RULES["elementwise_vjp"](self.derivs, i, ct, ans, args, params)

    def transposes(self, linear: Sequence[int]) -> bool:
        """Whether the transpose rule covers the arguments at positions ``linear``."""
        if self.transpose_rule is None:
            return False
        return self.linear_in is None or all(i in self.linear_in for i in linear)

    def transpose(
        self,
        ct: Any,
        args: Sequence[Any],
        params: dict[str, Any],
        linear: Sequence[int],
    ) -> list[Any]:
        """The cotangents of the arguments at positions ``linear``, all at once.

        Those arguments become :class:`UndefinedPrimal` markers; the others
        are constants.  A bilinear primitive is linear in each argument with
        the others fixed, so with several linear arguments its transpose is
        the sum of one transpose per argument (the terms of its JVP,
        ``op(ta, b) + op(a, tb)``, each transposed).
        """
        assert self.transpose_rule is not None
        if self.linearity != "linear" and len(linear) > 1:
            out = []
            for i in linear:
                marked = list(args)
                marked[i] = UndefinedPrimal.like(args[i])
                out.append(self.transpose_rule(ct, *marked, **params)[i])
            return out
        marked = list(args)
        for i in linear:
            marked[i] = UndefinedPrimal.like(args[i])
        cts = self.transpose_rule(ct, *marked, **params)
        return [cts[i] for i in linear]


class Trace:
    """One transform call (or the symbolic world): a level and a way to process ops."""

    def __init__(self, level: int | None = None) -> None:
        self.level = next(_next_level) if level is None else level
        self.active = True

    def process(
        self, prim: Primitive, args: Sequence[Any], params: dict[str, Any]
    ) -> Any:
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
        "values with autodiff_ref.numpy.stack (or autodiff_ref.numpy.array of the same "
        "list), and use autodiff_ref.numpy functions "
        "instead of NumPy ones (autodiff_ref.primal_value(x) gives the plain value)"
    )


def bind(prim: Primitive, args: Sequence[Any], params: dict[str, Any]) -> Any:
    """Apply ``prim`` to ``args``: NumPy for plain values, else the top trace."""
    top: Tracer | None = None
    for a in args:
        if isinstance(a, Tracer) and (top is None or a._trace.level > top._trace.level):
            top = a
    if top is None:
        return impl_of(prim)(*args, **params)
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


#: The evaluation interpreter's table: the code that runs a primitive on plain
#: values, where it is not the primitive's own ``impl``.  Empty except inside
#: :func:`evaluating_with`; a context variable, so a thread or task that did not
#: enter the block never sees it.  Primitives themselves are never changed.
_IMPLS: contextvars.ContextVar[Mapping[Primitive, Callable[..., Any]] | None] = (
    contextvars.ContextVar("autodiff_ref_impls", default=None)
)


def impl_of(prim: Primitive) -> Callable[..., Any]:
    """The code that evaluates ``prim`` on plain values here and now."""
    impls = _IMPLS.get()
    return impls.get(prim, prim.impl) if impls else prim.impl


def substituting_impls() -> bool:
    """Whether :func:`evaluating_with` is in force (compiled code must not run)."""
    return bool(_IMPLS.get())


@contextlib.contextmanager
def evaluating_with(impls: Mapping[Primitive, Callable[..., Any]]) -> Iterator[None]:
    """Evaluate the primitives in ``impls`` with the given code for the block's length.

    This is how a primitive's meaning changes for a while (the complex step's
    analytic stand-ins for ``abs`` and friends): an interpreter reads the
    substitute, the primitive object and its rules stay as they are, so nothing
    made inside the block (a jitted function's compiled code) keeps it.
    """
    token = _IMPLS.set({**(_IMPLS.get() or {}), **impls})
    try:
        yield
    finally:
        _IMPLS.reset(token)


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
        dims: tuple[int, ...] = x.shape  # NumPy's stubs type an array's shape as Any
        return dims
    if type(x) is UndefinedPrimal:  # a transpose rule's linear input
        return x.shape
    if isinstance(x, Tracer):
        return x._shape()
    if isinstance(x, numbers.Number):
        return ()
    shape = getattr(x, "shape", None)
    return np.shape(x) if shape is None else shape
