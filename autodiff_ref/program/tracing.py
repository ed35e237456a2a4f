"""Tracing a function on abstract values: what a program is made of.

An *abstract value* (:class:`ProgramValue`) knows only a shape, a dtype and
what kind of Python object it stands for.  The :class:`ProgramTrace` records
every primitive applied to such values as an :class:`Equation`; Python control
flow that needs a value raises :class:`ConcretizationError`, naming the line.
"""

from __future__ import annotations

import operator
import os
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import display
from ..core import (
    NO_PARAMS,
    ConcretizationError,
    Primitive,
    Trace,
    Tracer,
    bind,
    primal_value,
)
from .abstract_eval import (
    ABSTRACT_EVAL,
    PYTHON_KINDS,
    REDUCTIONS,
    Aval,
    abstract_eval,
    comparison_rule,
)

__all__ = [
    "COMPARISONS",
    "VALUE_ONLY",
    "Aval",
    "ConcretizationError",
    "Equation",
    "ProgramTrace",
    "ProgramValue",
    "Var",
    "abstract_eval_by_tracing",
    "aval_of",
    "stand_in",
]


# -- abstract values -------------------------------------------------------------
_PYTHON_KINDS = PYTHON_KINDS


def aval_of(x: Any) -> Aval:
    """The abstract value of a number, array or program value."""
    if isinstance(x, ProgramValue):
        return x.variable.aval
    if type(x) in _PYTHON_KINDS:
        return Aval((), np.dtype(type(x)), _PYTHON_KINDS[type(x)])
    if isinstance(x, np.ndarray):
        return Aval(x.shape, x.dtype, "array")
    if isinstance(x, np.generic):
        return Aval((), x.dtype, "scalar")
    if isinstance(x, Tracer) and primal_value(x) is x:
        # The bottom value of another interpreter (a vmap's stack of examples): one
        # example's shape and dtype, which is what a program traced for it sees.
        return Aval(x.shape, x.dtype, "array")
    raise TypeError(
        "a program's inputs and values are Python numbers and NumPy arrays or scalars, "
        f"not {type(x).__name__}; convert it with float() or numpy.asarray()"
    )


def stand_in(aval: Aval, fill: int = 1) -> Any:
    """A concrete value of ``aval`` (ones): what a primitive's output type is read from."""
    if aval.kind in _PYTHON_KINDS.values():
        return aval.dtype.type(fill).item()
    if aval.kind == "scalar":
        return aval.dtype.type(fill)
    return np.full(aval.shape, fill, aval.dtype)


class Var:
    """A variable of a program: an input, or the output of one equation."""

    __slots__ = ("aval",)

    def __init__(self, aval: Aval) -> None:
        self.aval = aval

    def __repr__(self) -> str:
        return f"Var({self.aval})"


class Equation(NamedTuple):
    """``out = prim(*args, **params)``; each arg is a :class:`Var` or a constant.

    A primitive with several results binds several variables at once
    (``q, r = qr(a)``): ``out`` is the first, ``more`` the others, and
    :attr:`outs` all of them.  Code for one primitive reads ``out``; code for
    every primitive (naming, evaluation, liveness) reads ``outs``.
    """

    prim: Primitive
    args: tuple[Any, ...]
    params: dict[str, Any]
    out: Var
    more: tuple[Var, ...] = ()

    @property
    def outs(self) -> tuple[Var, ...]:
        """The variables the equation binds (one, or one per result)."""
        return (self.out, *self.more) if self.more else (self.out,)


def _user_line() -> str:
    """``file:line: code`` of the innermost frame outside autodiff_ref, or ''."""
    package = os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))
    )  # autodiff_ref
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(package + os.sep):
            code = (frame.line or "").strip()
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}' + (
                f": {code}" if code else ""
            )
    return ""


def _concretization_error(what: str) -> ConcretizationError:
    line = _user_line()
    where = f" ({line})" if line else ""
    return ConcretizationError(
        f"{what} needs the value of a traced array{where}. A program (make_program, jit) "
        "is traced once for all inputs of the same shapes and dtypes, without their values, "
        "so Python can neither branch on them nor convert them. Instead: select values with "
        "autodiff_ref.numpy.where(condition, a, b) and build arrays with "
        "autodiff_ref.numpy.stack; or "
        "pass the deciding argument as static (jit(f, static_argnums=...)), which traces "
        "one program per value; or do not jit f."
    )


# Comparisons are recorded as equations (their outputs feed where()); they have no
# derivative (a zero one), so they are not differentiable primitives of the rules table.
def _comparison(name: str, impl: Callable[..., Any]) -> Primitive:
    return Primitive(name, impl, derivs=(None, None), doc=f"x {name} y (no derivative)")


COMPARISONS: dict[str, Primitive] = {
    "lt": _comparison("lt", operator.lt),
    "le": _comparison("le", operator.le),
    "gt": _comparison("gt", operator.gt),
    "ge": _comparison("ge", operator.ge),
    "eq": _comparison("eq", operator.eq),
    "ne": _comparison("ne", operator.ne),
}
for _name, _symbol in [("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="),
                       ("ne", "!=")]:  # fmt: skip
    display.define(COMPARISONS[_name], infix=_symbol, python=_symbol)
# Reductions of primal values, e.g. the row maximum that log-sum-exp subtracts as a
# constant: primal_value() strips every tracer above the program, so no derivative
# of these is ever asked for.
VALUE_ONLY: dict[str, Primitive] = {
    "max": Primitive(
        "primal_max", np.max, derivs=(None,), doc="maximum of a primal value"
    ),
    "min": Primitive(
        "primal_min", np.min, derivs=(None,), doc="minimum of a primal value"
    ),
    "all": Primitive(
        "primal_all", np.all, derivs=(None,), doc="whether all elements are true"
    ),
    "any": Primitive(
        "primal_any", np.any, derivs=(None,), doc="whether an element is true"
    ),
}
for _prim in COMPARISONS.values():
    ABSTRACT_EVAL[_prim] = comparison_rule
for _name, _prim in VALUE_ONLY.items():
    ABSTRACT_EVAL[_prim] = REDUCTIONS[_name]
_VALUE_ONLY_FUNCTIONS = {np.max: "max", np.amax: "max", np.min: "min", np.amin: "min",
                         np.all: "all", np.any: "any"}  # fmt: skip
_UFUNC_COMPARISONS = {
    np.less: "lt", np.less_equal: "le", np.greater: "gt", np.greater_equal: "ge",
    np.equal: "eq", np.not_equal: "ne",
}  # fmt: skip


def _comparison_method(name: str) -> Callable[[Any, Any], Any]:
    def compare(self: Any, other: Any) -> Any:
        return bind(COMPARISONS[name], (self, primal_value(other)), NO_PARAMS)

    compare.__name__ = f"__{name}__"
    return compare


class ProgramValue(Tracer):
    """An abstract value of a program trace: a :class:`Var` being recorded."""

    __slots__ = ("_trace", "variable")
    _trace: ProgramTrace

    def __init__(self, trace: ProgramTrace, var: Var) -> None:
        self._trace = trace
        self.variable = var

    def _inner(self) -> Any:
        return self  # the bottom: no number below an abstract value

    def _shape(self) -> tuple[int, ...]:
        return self.variable.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.variable.aval.dtype

    def __repr__(self) -> str:
        return f"ProgramValue({self.variable.aval})"

    # Comparisons become equations; Python asking for their truth value is the error.
    __lt__ = _comparison_method("lt")
    __le__ = _comparison_method("le")
    __gt__ = _comparison_method("gt")
    __ge__ = _comparison_method("ge")
    __eq__ = _comparison_method("eq")
    __ne__ = _comparison_method("ne")
    __hash__ = None

    def __bool__(self) -> bool:
        raise _concretization_error("an if, while, and/or or bool()")

    def __float__(self) -> float:
        raise _concretization_error("float()")

    def __int__(self) -> int:
        raise _concretization_error("int()")

    def __index__(self) -> int:
        raise _concretization_error("using a traced value as an index or size")

    def __complex__(self) -> float:  # Tracer's signature (it refuses all three alike)
        raise _concretization_error("complex()")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise _concretization_error(
            "converting to a NumPy array (np.asarray, a NumPy call)"
        )

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        """The maximum of a primal value (no derivative: see primal_value)."""
        return bind(VALUE_ONLY["max"], (self,), {"axis": axis, "keepdims": keepdims})

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        """The minimum of a primal value (no derivative: see primal_value)."""
        return bind(VALUE_ONLY["min"], (self,), {"axis": axis, "keepdims": keepdims})

    def all(self, axis: Any = None, keepdims: bool = False) -> Any:
        """Whether all elements are true (a boolean program value)."""
        return bind(VALUE_ONLY["all"], (self,), {"axis": axis, "keepdims": keepdims})

    def any(self, axis: Any = None, keepdims: bool = False) -> Any:
        """Whether any element is true (a boolean program value)."""
        return bind(VALUE_ONLY["any"], (self,), {"axis": axis, "keepdims": keepdims})

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in _VALUE_ONLY_FUNCTIONS and len(args) == 1:
            return getattr(self, _VALUE_ONLY_FUNCTIONS[func])(**kwargs)
        # What the abstract value knows: its shape, its dtype.
        if func is np.shape and len(args) == 1:
            return self.variable.aval.shape
        if func is np.ndim and len(args) == 1:
            return len(self.variable.aval.shape)
        if func is np.size and len(args) == 1 and not kwargs:
            return int(np.prod(self.variable.aval.shape))
        if func is np.result_type:
            return np.result_type(
                *(a.dtype if isinstance(a, ProgramValue) else a for a in args)
            )
        if func is np.real and len(args) == 1 and self.dtype.kind != "c":
            return self  # the real part of a real value
        return super().__array_function__(func, types, args, kwargs)

    def __array_ufunc__(
        self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any
    ) -> Any:
        if ufunc in _UFUNC_COMPARISONS and method == "__call__" and not kwargs:
            prim = COMPARISONS[_UFUNC_COMPARISONS[ufunc]]
            return bind(prim, tuple(primal_value(x) for x in inputs), NO_PARAMS)
        return super().__array_ufunc__(ufunc, method, *inputs, **kwargs)


class ProgramTrace(Trace):
    """Records each primitive applied to its values as an :class:`Equation`."""

    def __init__(self) -> None:
        super().__init__()
        self.equations: list[Equation] = []
        self.captured = (
            False  # whether values of enclosing transforms are constants here
        )

    def new_input(self, aval: Aval) -> ProgramValue:
        return ProgramValue(self, Var(aval))

    def process(
        self, prim: Primitive, args: Sequence[Any], params: dict[str, Any]
    ) -> Any:
        inputs: list[Any] = []
        avals: list[Aval] = []
        for a in args:
            if isinstance(a, ProgramValue) and a._trace is self:
                inputs.append(a.variable)
                avals.append(a.variable.aval)
            elif isinstance(a, Tracer):
                # A value of an enclosing transform (linearize inside jit, a closure
                # inside grad): a constant of this program that only that transform
                # can compute with. The program then belongs to that transform's run.
                self.captured = True
                inputs.append(a)
                avals.append(aval_of(primal_value(a)))
            else:
                inputs.append(a)
                avals.append(aval_of(a))
        # The output's shape, dtype and kind from the input types alone: the
        # primitive's abstract-evaluation rule, never its NumPy code on made-up numbers.
        if prim in ABSTRACT_EVAL:
            out = abstract_eval(prim, avals, params)
        else:  # a Primitive made by hand: its NumPy code, traced on abstract values
            out = abstract_eval_by_tracing(prim.impl)(*avals, **params)
        if prim.multiple_results:  # one variable per result, bound by one equation
            assert not isinstance(out, Aval), f"{prim.name}: one type per result"
            variables = tuple(Var(a) for a in out)
            self.equations.append(
                Equation(prim, tuple(inputs), params, variables[0], variables[1:])
            )
            return tuple(ProgramValue(self, v) for v in variables)
        assert isinstance(out, Aval), f"{prim.name} has one result"
        var = Var(out)
        self.equations.append(Equation(prim, tuple(inputs), params, var))
        return ProgramValue(self, var)


def abstract_eval_by_tracing(fun: Callable[..., Any]) -> Callable[..., Aval]:
    """The abstract-evaluation rule of a primitive made from ``fun`` (custom_jvp, ...).

    ``fun`` is written with autodiff_ref's operations, so tracing it on abstract
    values of the argument types gives the output type, as tracing a program does.
    """

    def rule(*avals: Aval, **params: Any) -> Aval:
        trace = ProgramTrace()
        try:
            out = fun(*[trace.new_input(a) for a in avals], **params)
        finally:
            trace.active = False
        return aval_of(primal_value(out) if isinstance(out, Tracer) else out)

    return rule
