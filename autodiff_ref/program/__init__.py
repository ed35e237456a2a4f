"""Programs: a function traced once on abstract values and written out as equations."""

from .program import (
    Aval,
    ConcretizationError,
    Equation,
    Program,
    ProgramTrace,
    ProgramValue,
    Var,
    _static_positions,
    aval_of,
    make_program,
    simplify,
    stand_in,
    trace_program,
)

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
