"""autodiff_ref: a small, exact, readable reference implementation of differentiation.

Numerical differentiation (:mod:`autodiff_ref.numerical`), symbolic
differentiation (:mod:`autodiff_ref.symbolic`), forward mode with dual numbers
and reverse mode with a computational graph, all reading their derivatives from
one rules table (:mod:`autodiff_ref.rules`).

>>> import autodiff_ref as ad
>>> ad.grad(lambda x: ad.sin(x) * x)(0.0)
0.0
"""

from . import numerical, rules, symbolic, tree
from .core import primal_value
from .custom import checkpoint, custom_jvp, custom_vjp, stop_gradient
from .dual import Dual, derivatives_from_matrix, jordan_block
from .evaluation_trace import trace
from .graph import draw_graph, to_dot
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
from .taylor import jet
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
    "abs",
    "add",
    "check_grad",
    "check_grads",
    "checkpoint",
    "concatenate",
    "cos",
    "custom_jvp",
    "custom_vjp",
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
    "jet",
    "jordan_block",
    "jvp",
    "log",
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
    "sin",
    "sqrt",
    "square",
    "stack",
    "stop_gradient",
    "subtract",
    "sum",
    "symbolic",
    "tan",
    "tanh",
    "to_dot",
    "trace",
    "transpose",
    "tree",
    "value_and_grad",
    "vjp",
    "where",
]
