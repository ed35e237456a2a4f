"""Hypothesis strategies: random expressions in x and y built from the rules table.

The trees use the elementwise primitives (through :mod:`autodiff_ref`'s
functions, so they are built by the symbolic trace) with the domains of
``log``, ``sqrt``, non-integer powers and the inverse functions guarded
structurally (their arguments are ``1 + u*u``, ``exp(u)`` or ``tanh(u) / 2``).
The primitives NumPy does not extend analytically to complex numbers
(``hypot``, ``logaddexp``, ``arctan2``, ``floor``, ``ceil``, ``mod``) are left
out: the tests compare with the complex step.  Poles, overflow and kinks depend on
the point, so :func:`well_conditioned` checks a tree at a point, and tests
``assume`` it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.core import bind, primal_value
from autodiff_ref.symbolic import Const, Expr, Symbol, subexpressions, symbols

X, Y = symbols("x y")

# Integers and non-integral floats only: printed, an integral float would read
# back as an int (a different constant node).
CONSTANTS = [2, 3, -1, 0.5, 1.5, -0.75, 2.25]


def _positive(u: Any, which: int) -> Any:
    """A positive expression of u: the guarded argument of log, sqrt and real powers."""
    return 1 + u * u if which == 0 else anp.exp(u)


UNARY: list[tuple[str, Callable[..., Any]]] = [
    ("neg", lambda u, k: -u),
    ("exp", lambda u, k: anp.exp(u)),
    ("log", lambda u, k: anp.log(_positive(u, k % 2))),
    ("sin", lambda u, k: anp.sin(u)),
    ("cos", lambda u, k: anp.cos(u)),
    ("tan", lambda u, k: anp.tan(u)),
    ("sqrt", lambda u, k: anp.sqrt(_positive(u, k % 2))),
    ("tanh", lambda u, k: anp.tanh(u)),
    ("reciprocal", lambda u, k: anp.reciprocal(u)),
    ("abs", lambda u, k: anp.abs(u)),
    ("integer power", lambda u, k: u ** [2, 3, -1, -2][k % 4]),
    # More of NumPy, with their domains guarded the same way: arcsin, arccos and
    # arctanh see values in (-1/2, 1/2), arccosh values >= 2, log1p values > -1.
    ("cosh", lambda u, k: anp.cosh(u)),
    ("sinh", lambda u, k: anp.sinh(u)),
    ("arctan", lambda u, k: anp.arctan(u)),
    ("arcsinh", lambda u, k: anp.arcsinh(u)),
    ("arcsin", lambda u, k: anp.arcsin(0.5 * anp.tanh(u))),
    ("arccos", lambda u, k: anp.arccos(0.5 * anp.tanh(u))),
    ("arctanh", lambda u, k: anp.arctanh(0.5 * anp.tanh(u))),
    ("arccosh", lambda u, k: anp.arccosh(1 + _positive(u, k % 2))),
    ("log1p", lambda u, k: anp.log1p(_positive(u, k % 2))),
    ("expm1", lambda u, k: anp.expm1(u)),
    (
        "log2 or log10",
        lambda u, k: (anp.log2, anp.log10)[k % 2](_positive(u, k // 2 % 2)),
    ),
    ("exp2", lambda u, k: anp.exp2(u)),
]

BINARY: list[tuple[str, Callable[..., Any]]] = [
    ("add", lambda u, v: u + v),
    ("sub", lambda u, v: u - v),
    ("mul", lambda u, v: u * v),
    ("div", lambda u, v: u / v),
    ("positive-base power", lambda u, v: _positive(u, 0) ** v),
    ("maximum", lambda u, v: anp.maximum(u, v)),
    ("minimum", lambda u, v: anp.minimum(u, v)),
]


_UNARY_OPS = st.sampled_from(UNARY)
_BINARY_OPS = st.sampled_from(BINARY)
_LEAF_CONSTANTS = st.sampled_from(CONSTANTS).map(Const)


@st.composite
def _trees(draw: st.DrawFn, depth: int, variables: tuple[Symbol, ...]) -> Expr:
    # Operations four times as likely as leaves, else most trees would be tiny
    # (Hypothesis leans towards the first choice of one_of).
    kind = draw(st.integers(0, 4)) if depth else 4
    if kind == 4:
        return draw(st.one_of(st.sampled_from(variables), _LEAF_CONSTANTS))
    smaller = expressions(depth - 1, variables)
    if kind % 2 == 0:
        _, op = draw(_UNARY_OPS)
        return op(draw(smaller), draw(st.integers(0, 3)))
    _, op = draw(_BINARY_OPS)
    return op(draw(smaller), draw(smaller))


@functools.cache  # one strategy object per depth: Hypothesis analyses each new one
def expressions(
    max_depth: int = 5, variables: tuple[Symbol, ...] = (X, Y)
) -> st.SearchStrategy:
    """Expressions over ``variables`` with at most ``max_depth`` nested operations."""
    return _trees(max_depth, variables)


#: Points where the trees are checked.
coordinates = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)


def _node_values(expr: Expr, env: dict[str, Any]) -> dict[Expr, Any]:
    values: dict[Expr, Any] = {}
    for node in subexpressions(expr):
        if isinstance(node, Symbol):
            values[node] = env[node.name]
        elif isinstance(node, Const):
            values[node] = node.value
        else:
            assert node.prim is not None
            values[node] = bind(node.prim, [values[a] for a in node.args], {})
    return values


def well_conditioned(
    expr: Expr, point: dict[str, float], bound: float = 300.0, kink: float = 1e-6
) -> bool:
    """Whether ``expr`` is safe to differentiate numerically at ``point``.

    Every subexpression, its partial derivatives and the local derivatives of
    each operation must be finite and at most ``bound`` in size, and every abs,
    maximum and minimum must be ``kink`` away from its kink.  Then each term of
    the chain rule is at most ``bound**2``, so rounding errors -- the gaps
    between differentiation methods -- stay below about ``1e-16 * bound**2``
    times the number of terms, well under the tests' tolerance of 1e-9.  (Near
    a pole hidden by cancellation, like x/x at x = 1e-20, the complex step is
    not even valid: its step reaches the pole.)
    """
    for var in point:
        env: dict[str, Any] = {
            k: ad.Dual(v, 1.0) if k == var else v for k, v in point.items()
        }  # a user dual number: the partial derivative in `var` rides along
        with np.errstate(all="ignore"):
            values = _node_values(expr, env)
        for node, value in values.items():
            parts = (
                (value.primal, value.tangent)
                if isinstance(value, ad.Dual)
                else (value,)
            )
            if not all(np.isfinite(p) and abs(float(p)) <= bound for p in parts):
                return False
            if node.prim is None:
                continue
            name = node.prim.name
            args = [primal_value(values[a]) for a in node.args]
            if name == "abs" and abs(args[0]) <= kink:
                return False
            if name in ("maximum", "minimum") and abs(args[0] - args[1]) <= kink:
                return False
            # Each local derivative too: in x/x at x = 1e-8 the node is 1 and its
            # derivative 0, but as 1/x - (x/x)/x it is a difference of two 1e8s.
            ans = primal_value(value)
            with np.errstate(all="ignore"):
                local = [d(ans, *args) for d in node.prim.derivs or () if callable(d)]
            if not all(np.isfinite(p) and abs(float(p)) <= bound for p in local):
                return False
    return True
