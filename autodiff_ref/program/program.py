"""The Program: a function traced once, as equations; made by :func:`make_program`."""

from __future__ import annotations

import itertools
import keyword
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import display
from ..arguments import array_writes_explained, input_names
from ..core import Tracer, bind, primal_value
from ..tree import require_callable, tree_flatten, tree_leaves_like, tree_unflatten
from .codegen import compile_source, to_source
from .tracing import Equation, ProgramTrace, ProgramValue, Var, aval_of

__all__ = ["Program", "make_program", "trace_program"]


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
            for var in eq.outs:
                name = f"v{next(counter)}"
                while name in taken:
                    name = f"v{next(counter)}"
                names[id(var)] = name
        return names

    # -- running --------------------------------------------------------------------
    def _leaves(self, args: Sequence[Any]) -> list[Any]:
        try:  # a dict's keys may come in another order: matched by key
            leaves = tree_leaves_like(self.in_tree, tuple(args), "program's arguments")
        except ValueError as e:
            raise TypeError(
                f"this program takes arguments structured like its example "
                f"({len(self.inputs)} array(s)), with the same dict keys: {e}; trace "
                "a new program for other structures"
            ) from None
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
        for eq in self.equations:
            values = [env[id(a)] if type(a) is Var else a for a in eq.args]
            value = bind(eq.prim, values, eq.params)
            if eq.prim.multiple_results:
                for var, part in zip(eq.outs, value, strict=True):
                    env[id(var)] = part
            else:
                env[id(eq.out)] = value
        return [env[id(o)] if type(o) is Var else o for o in self.outputs]

    def __call__(self, *args: Any) -> Any:
        return tree_unflatten(self.out_tree, self.evaluate(self._leaves(args)))

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
        return to_source(self, use_math)

    def compile(self, use_math: bool = True) -> Callable[..., Any]:
        """The generated code, compiled: a function of the input leaves returning f's output.

        Where ``math`` refuses what NumPy answers with ``inf`` or ``nan``
        (``math.log(0.0)``, ``1.0 / 0.0``), the call is redone with NumPy, so
        the compiled program gives what the interpreter gives.
        """
        if use_math not in self._compiled:
            source = self.to_source(use_math)
            fast = compile_source(*source, self.name)
            exact_source = self.to_source(False) if use_math else source
            if exact_source[0] != source[0]:
                exact = compile_source(*exact_source, self.name)

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
                ", ".join(names[id(v)] for v in eq.outs),  # q, r = qr(a)
                _expression(eq, [operand(a) for a in eq.args]),
                ", ".join(str(v.aval) for v in eq.outs),
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
    return display.expression(eq.prim, operands, eq.params)


# -- make_program ----------------------------------------------------------------
def _static_positions(static_argnums: int | Sequence[int], n: int) -> set[int]:
    # Any: the annotation is not checked at run time, so the ints are (below).
    nums: tuple[Any, ...] = (
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
    leaves, in_tree = tree_flatten(dynamic)
    trace = ProgramTrace()
    inputs = [trace.new_input(aval_of(primal_value(leaf))) for leaf in leaves]
    rebuilt = iter(tree_unflatten(in_tree, inputs))
    full = [a if i in static else next(rebuilt) for i, a in enumerate(args)]
    try:
        with array_writes_explained():
            out = f(*full)
    finally:
        trace.active = False
    out_leaves, out_tree = tree_flatten(out)
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
            count = len(tree_flatten(arg)[0])
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
    require_callable(f, "make_program")

    def make(*args: Any) -> Program:
        return trace_program(f, args, static_argnums)

    return make
