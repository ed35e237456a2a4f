"""autodiff_ref: a small, exact, readable reference implementation of differentiation.

Numerical differentiation (:mod:`autodiff_ref.numerical`), symbolic
differentiation (:mod:`autodiff_ref.symbolic`), forward mode with dual numbers
and reverse mode with a computational graph, all reading their derivatives from
one rules table (:mod:`autodiff_ref.rules`).

>>> import autodiff_ref as ad
>>> ad.grad(lambda x: ad.sin(x) * x)(0.0)
0.0
"""

from . import numerical, rules, symbolic
from .core import primal_value
from .dual import Dual, derivatives_from_matrix, jordan_block
from .evaluation_trace import trace
from .graph import draw_graph, to_dot
from .jit import jit
from .linear import linear_transpose, linearize
from .ops import (
    abs,
    add,
    concatenate,
    cos,
    divide,
    dot,
    exp,
    log,
    matmul,
    maximum,
    mean,
    minimum,
    multiply,
    negative,
    power,
    reciprocal,
    reshape,
    sign,
    sin,
    sqrt,
    square,
    stack,
    subtract,
    sum,
    tan,
    tanh,
    transpose,
    where,
)
from .program import Program, make_program, simplify
from .testing import check_grad, check_grads
from .transforms import (
    derivative,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jvp,
    value_and_grad,
    vjp,
)

__version__ = "0.1.0"

__all__ = [
    "Dual",
    "Program",
    "abs",
    "add",
    "check_grad",
    "check_grads",
    "concatenate",
    "cos",
    "derivative",
    "derivatives_from_matrix",
    "divide",
    "dot",
    "draw_graph",
    "exp",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacrev",
    "jit",
    "jordan_block",
    "jvp",
    "linear_transpose",
    "linearize",
    "log",
    "make_program",
    "matmul",
    "maximum",
    "mean",
    "minimum",
    "multiply",
    "negative",
    "numerical",
    "power",
    "primal_value",
    "reciprocal",
    "reshape",
    "rules",
    "sign",
    "simplify",
    "sin",
    "sqrt",
    "square",
    "stack",
    "subtract",
    "sum",
    "symbolic",
    "tan",
    "tanh",
    "to_dot",
    "trace",
    "transpose",
    "value_and_grad",
    "vjp",
    "where",
]
