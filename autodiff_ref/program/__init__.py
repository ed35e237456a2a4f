"""Programs: a function traced once on abstract values and written out as equations.

:func:`~autodiff_ref.make_program` runs a function on *abstract values* -- tracers that know
only a shape, a dtype and what kind of Python object they stand for (a Python
float, a NumPy scalar, an array) -- and records every primitive applied to them
as an *equation* ``out = prim(args, params)``.  The list of equations is a
:class:`~autodiff_ref.Program`: the evaluation trace of the function as a data structure,
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

from ..core import ConcretizationError
from .program import Program as Program
from .program import make_program as make_program
from .program import trace_program
from .simplification import simplify as simplify
from .tracing import Aval, Equation, ProgramTrace, ProgramValue, Var, aval_of, stand_in

# Program, make_program and simplify are documented at the top level
# (autodiff_ref.Program); this package's page lists what a program is made of.
__all__ = [
    "Aval",
    "ConcretizationError",
    "Equation",
    "ProgramTrace",
    "ProgramValue",
    "Var",
    "aval_of",
    "stand_in",
    "trace_program",
]
