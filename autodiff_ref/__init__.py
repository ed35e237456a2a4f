"""autodiff_ref: a small, exact, readable reference implementation of differentiation.

Numerical differentiation (:mod:`autodiff_ref.numerical`), symbolic
differentiation (:mod:`autodiff_ref.symbolic`), forward mode with dual numbers
and reverse mode with a computational graph, all reading their derivatives from
one rules table (:mod:`autodiff_ref.rules`).  The top level holds the
transforms and tools; the NumPy functions they differentiate live in their own
namespace, :mod:`autodiff_ref.numpy`, as in JAX.

>>> import autodiff_ref as ad
>>> import autodiff_ref.numpy as anp
>>> ad.grad(lambda x: anp.sin(x) * x)(0.0)
0.0
"""

import warnings
from typing import Any

from . import numerical, numpy, rules, symbolic, tree
from .batching import vmap
from .core import primal_value
from .custom import checkpoint, custom_jvp, custom_vjp, stop_gradient
from .dual import Dual, derivatives_from_matrix, jordan_block
from .evaluation_trace import trace_evaluation
from .graph import draw_graph, to_dot
from .jit import jit
from .linear import linear_transpose, linearize
from .program import Program, make_program, simplify
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

# A development version until the release procedure (RELEASING.md) sets the
# version of a release, tags it, and moves on to the next ".dev0".
__version__ = "0.1.0.dev0"

# ``numpy`` (autodiff_ref.numpy) is an attribute but not in __all__: a star import
# must not shadow NumPy itself.

__all__ = [
    "Dual",
    "Program",
    "check_grad",
    "check_grads",
    "checkpoint",
    "custom_jvp",
    "custom_vjp",
    "derivative",
    "derivatives_from_matrix",
    "draw_graph",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacrev",
    "jet",
    "jit",
    "jordan_block",
    "jvp",
    "linear_transpose",
    "linearize",
    "make_program",
    "numerical",
    "primal_value",
    "rules",
    "simplify",
    "stop_gradient",
    "symbolic",
    "to_dot",
    "trace_evaluation",
    "tree",
    "value_and_grad",
    "vjp",
    "vmap",
]


# -- the old spellings, kept for one release (0.1.x) ----------------------------------
#: Top-level names that moved, and where they went. The NumPy functions that lived at
#: the top level moved to autodiff_ref.numpy under the same name (see __getattr__).
_MOVED: dict[str, tuple[str, Any]] = {
    # ``trace`` was the evaluation trace; numpy.trace is autodiff_ref.numpy.trace.
    "trace": ("autodiff_ref.trace_evaluation", trace_evaluation),
    "flatten": (
        "autodiff_ref.numpy.ravel (flatten is not a NumPy function)",
        numpy.ravel,
    ),
    "linalg": ("autodiff_ref.numpy.linalg", numpy.linalg),
    "ops": ("autodiff_ref.numpy", numpy),
}


def __getattr__(name: str) -> Any:
    """The old top-level NumPy names, with a DeprecationWarning naming the new spelling."""
    if name in _MOVED:
        new, value = _MOVED[name]
    elif name in numpy.__all__:  # the NumPy functions (linalg is in _MOVED)
        new = f"autodiff_ref.numpy.{name} (import autodiff_ref.numpy as anp)"
        value = getattr(numpy, name)
    else:
        raise AttributeError(f"module 'autodiff_ref' has no attribute {name!r}")
    warnings.warn(
        f"autodiff_ref.{name} is deprecated and will be removed in the next release; "
        f"use {new}",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
