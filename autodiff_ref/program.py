"""Programs: a function traced once on abstract values and written out as equations.

:func:`~autodiff_ref.make_program` runs a function on *abstract values* -- tracers that know
only a shape, a dtype and what kind of Python object they stand for (a Python
float, a NumPy scalar, an array) -- and records every primitive applied to them
as an *equation* ``out = prim(args, params)``.  The list of equations is a
:class:`Program`: the evaluation trace of the function as a data structure,
valid for every input of those shapes and dtypes.

The program trace is an ordinary :class:`~autodiff_ref.core.Trace`.  Because it
is made before the function runs, its level is below that of every transform
the function calls, so a ``grad`` or ``jvp`` inside the traced function runs
*on top of* abstract values: the reverse sweep or the tangent pushes it performs
are primitives too, and they land in the program as equations.  That is how a
gradient program comes to exist without a second set of derivative formulas:
``make_program(grad(f))(x)`` is the reverse sweep, written out.

A program is run three ways: called (each equation bound again, so it runs
under any transform -- the interpreter), as generated Python source
(:attr:`~autodiff_ref.Program.source`, NumPy calls, or ``math`` for Python floats), and
simplified (:func:`~autodiff_ref.simplify`: constant folding, exact algebraic identities,
common-subexpression elimination and dead-code elimination).

Python control flow that needs the value of an abstract value (``if x > 0:``)
cannot be recorded: it raises ``ConcretizationError`` (a ``TypeError``), naming
the line.
"""

from __future__ import annotations

import itertools
import keyword
import math
import operator
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import rules
from .core import NO_PARAMS, Primitive, Trace, Tracer, bind, primal_value
from .evaluation_trace import input_names, render_expression

__all__ = [
    "Aval",
    "ConcretizationError",
    "Equation",
    "Program",
    "ProgramTrace",
    "ProgramValue",
    "Var",
    "make_program",
    "simplify",
]


# -- abstract values -------------------------------------------------------------
class Aval(NamedTuple):
    """What a program knows about a value: its shape, dtype and Python kind.

    ``kind`` is ``"float"``, ``"int"``, ``"bool"`` or ``"complex"`` for a Python
    number, ``"scalar"`` for a NumPy scalar and ``"array"`` for an ndarray: the
    same arithmetic gives different types (and ``1.0 / 0.0`` raises for Python
    floats), so generated code must know which it has.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    kind: str

    def __str__(self) -> str:
        if self.kind in ("float", "int", "bool", "complex"):
            return self.kind
        if self.kind == "scalar":
            return str(self.dtype)
        return f"{self.dtype}[{','.join(map(str, self.shape))}]"


_PYTHON_KINDS = {bool: "bool", int: "int", float: "float", complex: "complex"}


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
    """``out = prim(*args, **params)``; each arg is a :class:`Var` or a constant."""

    prim: Primitive
    args: tuple[Any, ...]
    params: dict
    out: Var


class ConcretizationError(TypeError):
    """Python needed the value of an abstract value (an ``if``, a ``float()``, ...)."""


def _user_line() -> str:
    """``file:line: code`` of the innermost frame outside autodiff_ref, or ''."""
    package = os.path.dirname(os.path.abspath(__file__))
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
# Reductions of primal values, e.g. the row maximum that log-sum-exp subtracts as a
# constant: primal_value() strips every tracer above the program, so no derivative
# of these is ever asked for.
VALUE_ONLY: dict[str, Primitive] = {
    "max": Primitive("max", np.max, derivs=(None,), doc="maximum of a primal value"),
    "min": Primitive("min", np.min, derivs=(None,), doc="minimum of a primal value"),
    "all": Primitive(
        "all", np.all, derivs=(None,), doc="whether all elements are true"
    ),
    "any": Primitive("any", np.any, derivs=(None,), doc="whether an element is true"),
}
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

    def process(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        inputs: list[Any] = []
        stand_ins: list[Any] = []
        for a in args:
            if isinstance(a, ProgramValue) and a._trace is self:
                inputs.append(a.variable)
                stand_ins.append(stand_in(a.variable.aval))
            elif isinstance(a, Tracer):
                # A value of an enclosing transform (linearize inside jit, a closure
                # inside grad): a constant of this program that only that transform
                # can compute with. The program then belongs to that transform's run.
                self.captured = True
                inputs.append(a)
                stand_ins.append(stand_in(aval_of(primal_value(a))))
            else:
                inputs.append(a)
                stand_ins.append(a)
        # The output's shape, dtype and kind: the primitive's own NumPy code run on
        # stand-ins, so no second table of shape rules is needed.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = prim.impl(*stand_ins, **params)
        var = Var(aval_of(out))
        self.equations.append(Equation(prim, tuple(inputs), params, var))
        return ProgramValue(self, var)


# -- pytrees: the transforms' tuples and lists ------------------------------------
def _flatten(tree: Any) -> tuple[list[Any], Any]:
    from .transforms import _flatten as flatten

    return flatten(tree)


def _unflatten(treedef: Any, leaves: Sequence[Any]) -> Any:
    from .transforms import _unflatten as unflatten

    return unflatten(treedef, leaves)


def hashable_treedef(treedef: Any) -> Any:
    """The structure of a flattened tree as a hashable key (a PyTreeDef already is one)."""
    return treedef


# -- the program -----------------------------------------------------------------
class Program:
    """A straight-line program: inputs, equations in evaluation order, outputs.

    Made by :func:`make_program`.  Calling it runs every equation again through
    :func:`~autodiff_ref.core.bind`, so it gives the values ``f`` gives and runs
    under any transform; :attr:`source` is the same program as Python code.

    Attributes
    ----------
    inputs : list of autodiff_ref.program.Var
        One variable per leaf of the (non-static) arguments.
    equations : list of autodiff_ref.program.Equation
        ``out = prim(args, params)`` in evaluation order.
    outputs : list
        One per leaf of the output: a :class:`~autodiff_ref.program.Var`, or a
        constant (an output that does not depend on the inputs).
    """

    def __init__(
        self,
        inputs: list[Var],
        equations: list[Equation],
        outputs: list[Any],
        in_tree: Any,
        out_tree: Any,
        name: str = "f",
        names: Sequence[str] | None = None,
    ) -> None:
        self.inputs = inputs
        self.equations = equations
        self.outputs = outputs
        self.in_tree = in_tree
        self.out_tree = out_tree
        self.name = name if name.isidentifier() and not keyword.iskeyword(name) else "f"
        self._input_names = _valid_names(names, len(inputs))
        self._compiled: dict[bool, Callable[..., Any]] = {}
        # Whether values of an enclosing transform are among the constants. Such a
        # program is only valid while that transform runs (jit does not cache it).
        self.captured = False

    def replace(self, equations: list[Equation], outputs: list[Any]) -> Program:
        """The same inputs with other equations and outputs."""
        program = Program(
            self.inputs, equations, outputs, self.in_tree, self.out_tree, self.name,
            self._input_names,
        )  # fmt: skip
        program.captured = self.captured
        return program

    def __len__(self) -> int:
        """The number of equations."""
        return len(self.equations)

    # -- names ----------------------------------------------------------------------
    def names(self) -> dict[int, str]:
        """``id(var) -> name``: the inputs' names, then v1, v2, ... for the equations."""
        names = {id(v): n for v, n in zip(self.inputs, self._input_names, strict=True)}
        taken = set(names.values())
        counter = itertools.count(1)
        for eq in self.equations:
            name = f"v{next(counter)}"
            while name in taken:
                name = f"v{next(counter)}"
            names[id(eq.out)] = name
        return names

    # -- running --------------------------------------------------------------------
    def _leaves(self, args: Sequence[Any]) -> list[Any]:
        leaves, treedef = _flatten(tuple(args))
        if hashable_treedef(treedef) != hashable_treedef(self.in_tree) or len(
            leaves
        ) != len(self.inputs):
            raise TypeError(
                f"this program takes arguments structured like its example "
                f"({len(self.inputs)} array(s)); trace a new program for other structures"
            )
        for k, (leaf, var) in enumerate(zip(leaves, self.inputs, strict=True)):
            aval = aval_of(primal_value(leaf))
            if aval.shape != var.aval.shape or aval.dtype != var.aval.dtype:
                raise TypeError(
                    f"input {k} has shape {aval.shape} and dtype {aval.dtype}, but the "
                    f"program was traced for {var.aval.shape} and {var.aval.dtype}; "
                    "trace a new program for it (jit does this for you)"
                )
        return leaves

    def evaluate(self, leaves: Sequence[Any]) -> list[Any]:
        """The output leaves for input leaves: every equation bound again (the interpreter)."""
        env = {id(v): x for v, x in zip(self.inputs, leaves, strict=True)}
        for prim, args, params, out in self.equations:
            values = [env[id(a)] if type(a) is Var else a for a in args]
            env[id(out)] = bind(prim, values, params)
        return [env[id(o)] if type(o) is Var else o for o in self.outputs]

    def __call__(self, *args: Any) -> Any:
        return _unflatten(self.out_tree, self.evaluate(self._leaves(args)))

    # -- code -----------------------------------------------------------------------
    @property
    def source(self) -> str:
        """The program as the source of a Python function (``math`` for Python floats)."""
        return self.to_source()[0]

    def to_source(self, use_math: bool = True) -> tuple[str, dict[str, Any]]:
        """The source of the program as a function, and the globals it needs.

        With ``use_math=False`` every operation on Python floats calls NumPy,
        as the interpreter does, and the results equal the interpreter's to the
        last bit; ``math``'s functions (the C library's) can differ from
        NumPy's in the last bit, but cost a tenth of the time on a float.
        """
        return _codegen(self, use_math)

    def compile(self, use_math: bool = True) -> Callable[..., Any]:
        """The generated code, compiled: a function of the input leaves returning f's output.

        Where ``math`` refuses what NumPy answers with ``inf`` or ``nan``
        (``math.log(0.0)``, ``1.0 / 0.0``), the call is redone with NumPy, so
        the compiled program gives what the interpreter gives.
        """
        if use_math not in self._compiled:
            source = self.to_source(use_math)
            fast = _compile(*source, self.name)
            exact_source = self.to_source(False) if use_math else source
            if exact_source[0] != source[0]:
                exact = _compile(*exact_source, self.name)

                def run(*leaves: Any) -> Any:
                    try:
                        return fast(*leaves)
                    except (ArithmeticError, ValueError):
                        return exact(*leaves)

                self._compiled[use_math] = run
            else:
                self._compiled[use_math] = fast
        return self._compiled[use_math]

    # -- display --------------------------------------------------------------------
    def rows(self) -> list[tuple[str, str, str]]:
        """``(variable, expression, type)`` per equation, as the listing shows them."""
        names = self.names()
        constants: dict[int, str] = {}

        def operand(a: Any) -> str:
            if type(a) is Var:
                return names[id(a)]
            return _display_constant(a, constants)

        return [
            (
                names[id(eq.out)],
                _expression(eq, [operand(a) for a in eq.args]),
                str(eq.out.aval),
            )
            for eq in self.equations
        ]

    def to_text(self) -> str:
        names = self.names()
        header = ", ".join(f"{names[id(v)]}: {v.aval}" for v in self.inputs)
        rows = [("v", "expression", "type"), *self.rows()]
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        lines = [f"program {self.name}({header})"]
        for k, r in enumerate(rows):
            lines.append("  ".join(r[c].ljust(widths[c]) for c in range(3)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        outs = ", ".join(
            names[id(o)] if type(o) is Var else _display_constant(o, {})
            for o in self.outputs
        )
        lines.append(f"return {outs}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()


def _valid_names(names: Sequence[str] | None, n: int) -> list[str]:
    out: list[str] = []
    for k in range(n):
        name = names[k] if names is not None and k < len(names) else f"x{k + 1}"
        if not name.isidentifier() or keyword.iskeyword(name) or name in out:
            name = f"x{k + 1}"
        while name in out:
            name += "_"
        out.append(name)
    return out


def _display_constant(value: Any, constants: dict[int, str]) -> str:
    if isinstance(value, np.ndarray) and value.size > 1:
        return constants.setdefault(id(value), f"c{len(constants)}")
    text = repr(value.item() if isinstance(value, np.generic | np.ndarray) else value)
    return f"({text})" if text.startswith("-") else text


def _expression(eq: Equation, operands: list[str]) -> str:
    name = eq.prim.name
    symbol = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}.get(
        name
    )
    if eq.prim is COMPARISONS.get(name) and symbol:
        return f"{operands[0]} {symbol} {operands[1]}"
    return render_expression(name, operands, eq.params)


# -- code generation -------------------------------------------------------------
_INFIX = {"add": "+", "sub": "-", "mul": "*", "matmul": "@",
          "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}  # fmt: skip
_NUMPY_FUNCTIONS = {"exp", "log", "sin", "cos", "tan", "sqrt", "tanh"}
_MATH_FUNCTIONS = {**{n: f"math.{n}" for n in _NUMPY_FUNCTIONS}, "abs": "math.fabs"}
_SCALAR_KINDS = ("float", "int", "scalar")


def _is_literal(value: Any) -> bool:
    """Whether ``repr(value)`` reads back as an equal value of the same type."""
    if value is None or value is Ellipsis or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) in (tuple, list):
        return all(_is_literal(v) for v in value)
    if type(value) is slice:
        return all(_is_literal(v) for v in (value.start, value.stop, value.step))
    return False


class _Writer:
    """Names constants that cannot be written as literals, and the functions called."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"np": np, "math": math}
        self._ids: dict[int, str] = {}

    def constant(self, value: Any) -> str:
        if _is_literal(value):
            return repr(value)
        if id(value) not in self._ids:
            name = f"c{len(self._ids)}"
            self._ids[id(value)] = name
            self.namespace[name] = value
        return self._ids[id(value)]

    def function(self, prim: Primitive) -> str:
        key = id(prim.impl)
        if key not in self._ids:
            name = (
                f"{prim.name}_impl"
                if prim.name.isidentifier()
                else f"impl{len(self._ids)}"
            )
            while name in self.namespace:
                name += "_"
            self._ids[key] = name
            self.namespace[name] = prim.impl
        return self._ids[key]


def _index_text(index: Any, writer: _Writer) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    if not all(_is_literal(p) for p in parts):
        return writer.constant(index)
    out = []
    for p in parts:
        if type(p) is slice:
            text = "" if p.start is None else repr(p.start)
            text += ":" + ("" if p.stop is None else repr(p.stop))
            text += "" if p.step is None else ":" + repr(p.step)
            out.append(text)
        else:
            out.append("..." if p is Ellipsis else repr(p))
    return ", ".join(out) + (
        "," if isinstance(index, tuple) and len(index) == 1 else ""
    )


def _call(function: str, operands: list[str], params: dict, writer: _Writer) -> str:
    keywords = [f"{k}={writer.constant(v)}" for k, v in params.items()]
    return f"{function}({', '.join([*operands, *keywords])})"


def _statement(
    eq: Equation, operands: list[str], writer: _Writer, use_math: bool
) -> str:
    """The right-hand side of ``out = ...`` for one equation."""
    name, params, args = eq.prim.name, eq.params, eq.args
    if eq.prim is not rules.RULES.get(name) and eq.prim is not COMPARISONS.get(name):
        return _call(
            writer.function(eq.prim), operands, params, writer
        )  # e.g. a user rule
    avals = [a.aval if type(a) is Var else aval_of(a) for a in args]
    numpy_typed = any(v.kind in ("scalar", "array") for v in avals)
    scalar_floats = (
        use_math
        and eq.out.aval.shape == ()
        and eq.out.aval.dtype == np.float64
        and all(v.kind in _SCALAR_KINDS and v.dtype.kind in "if" for v in avals)
    )
    if name in _INFIX and not params:
        return f"{operands[0]} {_INFIX[name]} {operands[1]}"
    if name == "neg":
        return f"-{operands[0]}"
    if name == "div":  # np.divide: Python's / raises on a zero Python float
        if numpy_typed or scalar_floats:
            return f"{operands[0]} / {operands[1]}"
        return f"np.divide({operands[0]}, {operands[1]})"
    if name == "reciprocal":
        return f"1.0 / {operands[0]}" if numpy_typed or scalar_floats else (
            f"np.divide(1.0, {operands[0]})"
        )  # fmt: skip
    if name == "pow":
        exponent = args[1]
        if (
            type(exponent) is not Var
            and type(exponent) in (int, float)
            and exponent == 1
        ):
            return operands[0]  # what the implementation returns: x itself
        if scalar_floats:
            return f"math.pow({operands[0]}, {operands[1]})"
        if avals[0].kind == "array" and avals[0].dtype.kind in "fc":
            return f"{operands[0]} ** {operands[1]}"
    if scalar_floats and name in _MATH_FUNCTIONS:
        return f"{_MATH_FUNCTIONS[name]}({operands[0]})"
    if name in _NUMPY_FUNCTIONS:
        return f"np.{name}({operands[0]})"
    if name == "abs" and avals[0].dtype.kind in "fi" and avals[0].kind != "float":
        return f"np.abs({operands[0]})"
    if name == "sum":
        return _call("np.sum", operands, params, writer)
    if name == "getitem" and avals[0].kind == "array":
        return f"{operands[0]}[{_index_text(params['index'], writer)}]"
    if (
        eq.out.aval.kind == "array"
    ):  # the [()] of the implementations only matters for 0-d
        if name == "reshape":
            return (
                f"{operands[0]}.reshape({writer.constant(params['shape'])})"
                if (avals[0].kind == "array")
                else _call("np.reshape", operands, params, writer)
            )
        if name == "transpose":
            return _call("np.transpose", operands, params, writer)
        if name == "broadcast_to":
            return _call("np.broadcast_to", operands, params, writer)
        if name == "where":
            return f"np.where({', '.join(operands)})"
        if name == "stack":
            return f"np.stack(({', '.join(operands)},), axis={params.get('axis', 0)!r})"
    return _call(writer.function(eq.prim), operands, params, writer)


def _is_basic_scatter(eq: Equation) -> bool:
    return (
        eq.prim is rules.scatter_add
        and eq.out.aval.kind == "array"
        and rules._is_basic_index(eq.params["index"])
        and all(_is_literal(p) for p in _index_parts(eq.params["index"]))
    )


def _index_parts(index: Any) -> tuple[Any, ...]:
    return index if isinstance(index, tuple) else (index,)


def _codegen(program: Program, use_math: bool) -> tuple[str, dict[str, Any]]:
    names = program.names()
    writer = _Writer()

    def operand(a: Any) -> str:
        if type(a) is Var:
            return names[id(a)]
        text = writer.constant(a)
        return f"({text})" if text.startswith("-") else text

    arguments = ", ".join(names[id(v)] for v in program.inputs)
    lines = [f"def {program.name}({arguments}):"]
    reusable = _reusable_buffers(program)
    for k, eq in enumerate(program.equations):
        out = names[id(eq.out)]
        operands = [operand(a) for a in eq.args]
        if _is_basic_scatter(
            eq
        ):  # what _scatter_add does, without the call and the check
            dtype = writer.constant(eq.out.aval.dtype.name)
            lines.append(
                f"    {out} = np.zeros({writer.constant(eq.params['shape'])}, {dtype})"
            )
            lines.append(
                f"    {out}[{_index_text(eq.params['index'], writer)}] = {operands[0]}"
            )
            continue
        buffer = reusable.get(k)
        if buffer is not None:  # write into an array nothing reads any more
            ufunc = _UFUNCS[eq.prim.name]
            if eq.prim.name == "reciprocal":
                operands = ["1.0", *operands]
            lines.append(
                f"    {out} = {ufunc}({', '.join(operands)}, out={names[id(buffer)]})"
            )
            continue
        lines.append(f"    {out} = {_statement(eq, operands, writer, use_math)}")
    outs = iter([operand(o) for o in program.outputs])
    lines.append(f"    return {_structure(program.out_tree, outs, writer)}")
    return "\n".join(lines) + "\n", writer.namespace


# Primitives computed by one NumPy ufunc, which can write into a given array.
_UFUNCS = {"add": "np.add", "sub": "np.subtract", "mul": "np.multiply", "div": "np.divide",
           "neg": "np.negative", "reciprocal": "np.divide",
           **{n: f"np.{n}" for n in _NUMPY_FUNCTIONS}}  # fmt: skip
# Primitives whose generated code returns a new array (not a view of an argument).
_FRESH = {*_UFUNCS, "pow", "matmul", "scatter_add", "where", "stack", "concatenate"}


def _reusable_buffers(program: Program) -> dict[int, Var]:
    """For each equation that can write into the array of an argument, that argument.

    The array must be one the program made itself (not an input, and never
    looked at through a view such as ``x[1:]``), of the output's shape and
    dtype, and this equation must be its last reader.  Writing into it gives
    the same numbers and saves allocating (and first touching) a new array,
    which is much of the cost of an elementwise operation on a large array.
    """
    last_use: dict[int, int] = {}
    owned: set[int] = set()
    for k, eq in enumerate(program.equations):
        fresh = eq.prim is rules.RULES.get(eq.prim.name) and eq.prim.name in _FRESH
        if (
            eq.prim is rules.pow
            and type(eq.args[1]) in (int, float)
            and eq.args[1] == 1
        ):
            fresh = False  # x ** 1 is x itself
        for a in eq.args:
            if type(a) is Var:
                last_use[id(a)] = k
                if not fresh:  # it may be viewed (x[1:], a reshape): never overwrite it
                    owned.discard(id(a))
        if fresh and eq.out.aval.kind == "array":
            owned.add(id(eq.out))
    for o in program.outputs:
        if type(o) is Var:
            owned.discard(id(o))
    reusable: dict[int, Var] = {}
    for k, eq in enumerate(program.equations):
        out = eq.out.aval
        if eq.prim is not rules.RULES.get(eq.prim.name) or eq.prim.name not in _UFUNCS:
            continue
        if out.kind != "array" or out.dtype.kind != "f":
            continue
        for a in eq.args:
            if (
                type(a) is Var
                and id(a) in owned
                and last_use[id(a)] == k
                and a.aval == out
            ):
                reusable[k] = a
                owned.add(id(eq.out))  # the same array, under a new name
                break
    return reusable


def _structure(treedef: Any, leaves: Any, writer: _Writer) -> str:
    """The output's containers (a pytree's structure) written around its leaves' names."""
    kind = treedef.kind
    if kind == "leaf":
        return str(next(leaves))
    if kind == "none":
        return "None"
    parts = [_structure(child, leaves, writer) for child in treedef.children]
    if kind == "list":
        return f"[{', '.join(parts)}]"
    if kind == "dict":
        items = (
            f"{writer.constant(k)}: {p}"
            for k, p in zip(treedef.meta, parts, strict=True)
        )
        return "{" + ", ".join(items) + "}"
    if kind == "namedtuple":
        return f"{writer.constant(treedef.meta)}({', '.join(parts)})"
    return f"({', '.join(parts)}{',' if len(parts) == 1 else ''})"


_sources = itertools.count()


def _compile(source: str, namespace: dict[str, Any], name: str) -> Callable[..., Any]:
    namespace = dict(namespace)
    filename = f"<autodiff_ref program {next(_sources)}>"
    exec(compile(source, filename, "exec"), namespace)  # our own generated code
    # Keep the text findable for tracebacks and inspect.getsource.
    import linecache

    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    function = namespace[name]
    return function


# -- make_program ----------------------------------------------------------------
def _static_positions(static_argnums: int | Sequence[int], n: int) -> set[int]:
    nums = (
        (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    )
    for i in nums:
        if not isinstance(i, int) or not -n <= i < n:
            raise ValueError(
                f"static_argnums {i!r} is out of range for a call with {n} positional argument(s)"
            )
    return {i % n for i in nums}


def trace_program(
    f: Callable[..., Any], args: Sequence[Any], static_argnums: int | Sequence[int] = ()
) -> Program:
    """Trace ``f`` on abstract values shaped like ``args`` (static ones passed as they are)."""
    static = _static_positions(static_argnums, len(args))
    dynamic = tuple(a for i, a in enumerate(args) if i not in static)
    leaves, in_tree = _flatten(dynamic)
    trace = ProgramTrace()
    inputs = [trace.new_input(aval_of(primal_value(leaf))) for leaf in leaves]
    rebuilt = iter(_unflatten(in_tree, inputs))
    full = [a if i in static else next(rebuilt) for i, a in enumerate(args)]
    try:
        out = f(*full)
    finally:
        trace.active = False
    out_leaves, out_tree = _flatten(out)
    outputs: list[Any] = []
    for leaf in out_leaves:
        if isinstance(leaf, ProgramValue) and leaf._trace is trace:
            outputs.append(leaf.variable)
        elif isinstance(leaf, Tracer):  # a value of an enclosing transform: a constant
            trace.captured = True
            outputs.append(leaf)
        else:
            aval_of(leaf)  # refuses what is not a number or an array
            outputs.append(leaf)
    n_args = len(args) - len(static)
    arg_names = [n for i, n in enumerate(input_names(f, len(args))) if i not in static]
    if len(leaves) == n_args:
        names = arg_names
    else:  # arguments that are tuples or lists: one name per leaf
        names = []
        for arg, name in zip(dynamic, arg_names, strict=True):
            count = len(_flatten(arg)[0])
            names += [name] if count == 1 else [f"{name}_{k}" for k in range(count)]
    name = getattr(f, "__name__", "f")
    program = Program(
        [x.variable for x in inputs], trace.equations, outputs, in_tree, out_tree,
        "f" if name == "<lambda>" else name, names,
    )  # fmt: skip
    program.captured = trace.captured
    return program


def make_program(
    f: Callable[..., Any], static_argnums: int | Sequence[int] = ()
) -> Callable[..., Program]:
    """Trace ``f`` to a :class:`Program` (JAX: ``make_jaxpr``).

    ``make_program(f)(*example_args)`` runs ``f`` once on abstract values with
    the shapes and dtypes of the examples and returns the equations it
    recorded.  A transform inside ``f`` records its derivative work too:
    ``make_program(grad(f))(x)`` is the gradient program.

    Parameters
    ----------
    f : callable
        Written with autodiff_ref's operations.
    static_argnums : int or tuple of int
        Arguments passed to ``f`` as they are (not traced): flags, sizes.  The
        program is made for their values and takes the other arguments only.

    Examples
    --------
    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> def f(x1, x2):
    ...     return anp.log(x1) + x1 * x2 - anp.sin(x2)
    >>> program = ad.make_program(f)(2.0, 5.0)
    >>> print(program)
    program f(x1: float, x2: float)
    v   expression  type
    --  ----------  -------
    v1  ln(x1)      float64
    v2  x1 × x2     float
    v3  v1 + v2     float64
    v4  sin(x2)     float64
    v5  v3 - v4     float64
    return v5
    >>> program(2.0, 5.0) == f(2.0, 5.0)
    True
    >>> print(program.source)
    def f(x1, x2):
        v1 = math.log(x1)
        v2 = x1 * x2
        v3 = v1 + v2
        v4 = math.sin(x2)
        v5 = v3 - v4
        return v5
    <BLANKLINE>
    """

    def make(*args: Any) -> Program:
        return trace_program(f, args, static_argnums)

    return make


# -- simplification --------------------------------------------------------------
_NO_RULE = object()


def _all_equal(value: Any, target: float) -> bool:
    """Whether a constant is ``target`` everywhere (zeros: with ``target``'s sign)."""
    if type(value) in (int, float) or (
        isinstance(value, np.ndarray | np.generic) and value.dtype.kind in "if"
    ):
        negative_zero = math.copysign(1.0, target) < 0
        return bool(np.all(value == target)) and (
            target != 0 or bool(np.all(np.signbit(value) == negative_zero))
        )
    return False


def _identity(eq: Equation, args: tuple[Any, ...], assume_finite: bool) -> Any:
    """What the equation's output equals without computing it, or _NO_RULE."""
    name, out = eq.prim.name, eq.out.aval
    if eq.prim is not rules.RULES.get(name):
        return _NO_RULE

    def same(a: Any) -> bool:  # ``a`` may stand for the output: same shape, dtype, kind
        return type(a) is Var and a.aval == out

    if name == "mul":
        for a, b in (args, args[::-1]):
            if same(a) and _all_equal(b, 1.0):  # x * 1 = x for every x, nan and inf too
                return a
            if assume_finite and type(a) is Var and _all_equal(b, 0.0):
                return stand_in(out, fill=0)  # x * 0 = 0 for finite x (inf * 0 is nan)
    if name == "div" and same(args[0]) and _all_equal(args[1], 1.0):
        return args[0]
    if name == "sub" and same(args[0]) and _all_equal(args[1], 0.0):
        return args[0]  # x - 0 = x, even for x = -0.0
    if name == "add":
        for a, b in (args, args[::-1]):
            if same(a) and _all_equal(b, -0.0):  # x + (-0) = x for every x
                return a
            if (
                assume_finite and same(a) and _all_equal(b, 0.0)
            ):  # but -0.0 + 0.0 = +0.0
                return a
    if (
        name == "pow"
        and type(args[1]) in (int, float)
        and args[1] == 1
        and same(args[0])
    ):
        return args[0]
    if name in ("reshape", "broadcast_to", "sum_to") and same(args[0]):
        return args[0]
    return _NO_RULE


_ARITHMETIC = ("add", "sub", "mul", "div")


def _scalar_constants(eq: Equation, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """A constant array of one repeated value, as that value, where that changes nothing.

    ``x * full(shape, c)`` equals ``x * c`` element for element when ``x``
    already has the output's shape and dtype; the scalar saves reading the array
    (a gradient's seed, broadcast, is such an array).
    """
    name, out = eq.prim.name, eq.out.aval
    if name not in _ARITHMETIC or eq.prim is not rules.RULES.get(name):
        return args
    if not any(type(a) is Var and a.aval == out for a in args):
        return args
    new = list(args)
    for k, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.size > 1 and a.dtype == out.dtype:
            first = a.flat[0]
            if np.all(a == first) and np.all(np.signbit(a) == np.signbit(first)):
                new[k] = a.dtype.type(first)
    return tuple(new)


def _rewrite(eq: Equation, definition: dict[int, Equation]) -> list[Equation]:
    """Exact rewrites that save work, given the kept equations defining the arguments.

    * ``-(c * x)`` is ``(-c) * x``: rounding is symmetric, so the two agree bit
      for bit, and one operation is saved (reverse mode writes ``-(2 * v)``).
    * ``c * (p * x)`` is ``(c p) * x`` when ``p`` is a power of two and both
      are at least 1 in size: ``p * x`` is exact (doubling loses no bits, even
      below the normal range) and overflows only where ``(c p) * x`` does too,
      so both round ``c p x`` once.  (The power rule writes ``2 * x``.)
    * ``scatter_add(a, i) + scatter_add(b, i)`` is ``scatter_add(a + b, i)``
      for a basic index ``i`` (no element selected twice): outside ``i`` both
      are ``0 + 0``; inside, both are ``a + b``.  One zero array fewer.
    """
    name = eq.prim.name
    if eq.prim is not rules.RULES.get(name):
        return [eq]
    if name == "mul":  # c * (p * x) is (c p) * x for |c| >= 1 and p a power of two >= 1
        for c, v in (eq.args, eq.args[::-1]):
            inner = definition.get(id(v)) if type(v) is Var else None
            if not (
                _is_scalar_constant(c) and inner is not None and inner.prim is rules.mul
            ):
                continue
            if not abs(c) >= 1:  # else p * x could overflow where (c p) * x does not
                continue
            for p, x in (inner.args, inner.args[::-1]):
                if _is_power_of_two(p) and inner.out.aval == eq.out.aval:
                    with np.errstate(all="ignore"):
                        product = c * p
                    if np.isfinite(product) and type(product) is type(c * 1.0):
                        return [Equation(rules.mul, (product, x), NO_PARAMS, eq.out)]
    if name == "neg" and type(eq.args[0]) is Var:
        inner = definition.get(id(eq.args[0]))
        if (
            inner is not None
            and inner.prim is rules.mul
            and inner.out.aval == eq.out.aval
        ):
            a, b = inner.args
            for c, x in ((a, b), (b, a)):
                if type(c) in (int, float) or isinstance(c, np.generic):
                    return [Equation(rules.mul, (-c, x), NO_PARAMS, eq.out)]
    if name == "add" and all(type(a) is Var for a in eq.args):
        left, right = (definition.get(id(a)) for a in eq.args)
        if (
            left is not None
            and right is not None
            and left.prim is right.prim is rules.scatter_add
            and left.params["shape"] == right.params["shape"]
            and _same_basic_index(left.params["index"], right.params["index"])
            and left.out.aval == right.out.aval == eq.out.aval
            and type(left.args[0]) is Var
            and type(right.args[0]) is Var
            and left.args[0].aval == right.args[0].aval
        ):
            total = Var(left.args[0].aval)
            return [
                Equation(rules.add, (left.args[0], right.args[0]), NO_PARAMS, total),
                Equation(rules.scatter_add, (total,), left.params, eq.out),
            ]
    return [eq]


def _is_scalar_constant(c: Any) -> bool:
    return type(c) in (int, float) or (
        isinstance(c, np.generic) and c.dtype.kind in "if"
    )


def _is_power_of_two(p: Any) -> bool:
    """A constant ``p`` with ``|p| = 2**k``, ``k >= 0``: ``p * x`` is exact, barring overflow."""
    if not _is_scalar_constant(p) or not np.isfinite(p) or abs(p) < 1:
        return False
    mantissa, _ = math.frexp(abs(float(p)))
    return mantissa == 0.5


def _same_basic_index(i: Any, j: Any) -> bool:
    try:
        return bool(_freeze(i) == _freeze(j)) and rules._is_basic_index(i)
    except TypeError:
        return False


def _freeze(value: Any) -> Any:
    """A hashable key for a constant or params value (arrays by identity)."""
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in sorted(value.items()))
    if isinstance(value, tuple | list):
        return (type(value), tuple(_freeze(v) for v in value))
    if isinstance(value, slice):
        return (slice, _freeze(value.start), _freeze(value.stop), _freeze(value.step))
    if type(value) is float:
        return (float, value, math.copysign(1.0, value))  # 0.0 and -0.0 differ
    if isinstance(value, np.ndarray | np.generic):
        return ("array", id(value))
    hash(value)
    return (type(value), value)


def simplify(program: Program, *, assume_finite: bool = False) -> Program:
    """A program with the same values and fewer equations.

    Four passes, in one sweep and then a backward one:

    * **constant folding**: an equation whose arguments are all constants is
      computed now (with the primitive's own implementation);
    * **exact identities**: ``x * 1``, ``x / 1``, ``x - 0``, ``x ** 1`` and
      reshapes to the same shape are ``x``, for every ``x`` including
      ``nan``, ``inf`` and ``-0.0``;
    * **common-subexpression elimination**: the same primitive on the same
      arguments with the same parameters is computed once;
    * **dead-code elimination**: equations no output depends on are dropped.

    With ``assume_finite=True`` it also uses ``x * 0 = 0`` and ``x + 0 = x``.
    They hold for finite ``x`` only (``inf * 0`` is ``nan``, ``-0.0 + 0.0`` is
    ``+0.0``), which is why they are not the default; they are what deletes
    the tangent lines of an input whose tangent is zero.

    Examples
    --------
    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> def f(x1, x2):
    ...     return anp.log(x1) + x1 * x2 - anp.sin(x2)
    >>> def tangent(x1, x2):  # the derivative in x1 only: x2's tangent is 0
    ...     return ad.jvp(f, (x1, x2), (1.0, 0.0))[1]
    >>> program = ad.make_program(tangent)(2.0, 5.0)
    >>> len(program), len(simplify(program)), len(simplify(program, assume_finite=True))
    (15, 7, 2)
    """
    replaced: dict[int, Any] = {}

    def resolve(a: Any) -> Any:
        return replaced.get(id(a), a) if type(a) is Var else a

    seen: dict[Any, Var] = {}
    kept: list[Equation] = []
    definition: dict[int, Equation] = {}

    def keep(eq: Equation) -> None:
        try:
            key: Any = (id(eq.prim), _freeze(args_key(eq.args)), _freeze(eq.params))
        except TypeError:  # an unhashable parameter: leave this one alone
            key = None
        if key is not None and key in seen:
            replaced[id(eq.out)] = seen[key]
            return
        if key is not None:
            seen[key] = eq.out
        kept.append(eq)
        definition[id(eq.out)] = eq

    for eq in program.equations:
        args = tuple(resolve(a) for a in eq.args)
        if not any(type(a) is Var for a in args):
            replaced[id(eq.out)] = bind(eq.prim, args, eq.params)  # plain values: impl
            continue
        args = _scalar_constants(eq, args)
        same = _identity(eq, args, assume_finite)
        if same is not _NO_RULE:
            replaced[id(eq.out)] = same
            continue
        for new in _rewrite(Equation(eq.prim, args, eq.params, eq.out), definition):
            keep(new)
    outputs = [resolve(o) for o in program.outputs]
    live = {id(o) for o in outputs if type(o) is Var}
    alive: list[Equation] = []
    for eq in reversed(kept):
        if id(eq.out) in live:
            alive.append(eq)
            live.update(id(a) for a in eq.args if type(a) is Var)
    return program.replace(alive[::-1], outputs)


def args_key(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Arguments as a hashable key: variables by identity, constants by value."""
    return tuple(("var", id(a)) if type(a) is Var else a for a in args)


def _main() -> None:  # pragma: no cover - a quick look: python -m autodiff_ref.program
    import autodiff_ref as ad
    import autodiff_ref.numpy as anp

    def f(x1: Any, x2: Any) -> Any:
        return anp.log(x1) + x1 * x2 - anp.sin(x2)

    print(make_program(ad.grad(f, argnums=(0, 1)))(2.0, 5.0))
    print(make_program(ad.grad(f, argnums=(0, 1)))(2.0, 5.0).source, file=sys.stdout)


if __name__ == "__main__":  # pragma: no cover
    _main()
