"""Symbolic differentiation, checked against SymPy and the complex step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from expression_strategies import expressions
from hypothesis import given, settings

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import rules
from autodiff_ref.symbolic import (
    Call,
    Const,
    Expr,
    Symbol,
    dag_size,
    depth,
    diff,
    evaluate,
    free_symbols,
    lambdify,
    simplify,
    subexpressions,
    symbols,
    to_latex,
    tree_size,
)

x, y = symbols("x y")
H = 1e-20  # complex step


# -- an independent reference: the same function in SymPy ------------------------
SX, SY = sp.symbols("x y", real=True)
_SYMPY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "neg": lambda a: -a,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "reciprocal": lambda a: 1 / a,
    "exp": sp.exp,
    "log": sp.log,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "sqrt": sp.sqrt,
    "tanh": sp.tanh,
    "abs": sp.Abs,
    "sign": sp.sign,
    "heaviside": lambda a: sp.Heaviside(a, sp.S.Half),
    "maximum": sp.Max,
    "minimum": sp.Min,
    # A number as a condition is true where it is nonzero, as in numpy.where.
    "where": lambda c, a, b: sp.Piecewise(
        (a, c if c in (sp.true, sp.false) else sp.Ne(c, 0)), (b, True)
    ),
    "cosh": sp.cosh,
    "sinh": sp.sinh,
    "arcsin": sp.asin,
    "arccos": sp.acos,
    "arctan": sp.atan,
    "arcsinh": sp.asinh,
    "arccosh": sp.acosh,
    "arctanh": sp.atanh,
    "log1p": lambda a: sp.log(1 + a),
    "expm1": lambda a: sp.exp(a) - 1,
    "log2": lambda a: sp.log(a, 2),
    "log10": lambda a: sp.log(a, 10),
    "exp2": lambda a: 2**a,
    "hypot": lambda a, b: sp.sqrt(a**2 + b**2),
    "logaddexp": lambda a, b: sp.log(sp.exp(a) + sp.exp(b)),
    "arctan2": sp.atan2,
    "floor": sp.floor,
    "ceil": sp.ceiling,
    "floor_divide": lambda a, b: sp.floor(a / b),
    "mod": lambda a, b: a - b * sp.floor(a / b),
    "real": sp.re,
}


def to_sympy(expr: Expr) -> sp.Expr:
    """Our expression as a SymPy expression (exact rationals for float constants)."""
    out = {}
    for node in subexpressions(expr):
        if isinstance(node, Symbol):
            out[node] = sp.Symbol(node.name, real=True)
        elif isinstance(node, Const):
            v = node.value
            out[node] = (
                sp.true if v is True else sp.false if v is False else sp.nsimplify(v)
            )
        else:
            out[node] = _SYMPY_OPS[node.prim.name](*(out[a] for a in node.args))
    return out[expr]


def sympy_value(e: sp.Expr, **point: float) -> float:
    value = e.evalf(
        30, subs={sp.Symbol(k, real=True): sp.Float(v, 30) for k, v in point.items()}
    )
    return float(value)


def complex_step(expr: Expr, var: str, **point: float) -> float:
    shifted = {k: v + 1j * H if k == var else v for k, v in point.items()}
    with ad.numerical.complex_step_stand_ins():  # abs(z) would be |z|
        return float(np.imag(evaluate(expr, **shifted)) / H)


def close(a, b, tol=1e-12):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# -- every elementwise rule of the table ---------------------------------------------
rng = np.random.default_rng(20241122)


def _uniform(lo, hi):
    return lambda: float(rng.uniform(lo, hi))


def _nonzero(lo, hi):  # away from 0, e.g. a kink or pole
    return lambda: float(rng.choice([-1, 1]) * rng.uniform(lo, hi))


# name -> (function of x and y built with the rule, sampler of x, sampler of y)
RULE_CASES = {
    "add": (lambda a, b: a + b, _uniform(-3, 3), _uniform(-3, 3)),
    "sub": (lambda a, b: a - b, _uniform(-3, 3), _uniform(-3, 3)),
    "neg": (lambda a, b: -a, _uniform(-3, 3), _uniform(-3, 3)),
    "mul": (lambda a, b: a * b, _uniform(-3, 3), _uniform(-3, 3)),
    "div": (lambda a, b: a / b, _uniform(-3, 3), _nonzero(0.2, 3)),
    "pow": (lambda a, b: a**b, _uniform(0.1, 3), _uniform(-3, 3)),
    "reciprocal": (lambda a, b: rules.reciprocal(a), _nonzero(0.2, 3), _uniform(-3, 3)),
    "exp": (lambda a, b: anp.exp(a), _uniform(-3, 3), _uniform(-3, 3)),
    "log": (lambda a, b: anp.log(a), _uniform(0.05, 5), _uniform(-3, 3)),
    "sin": (lambda a, b: anp.sin(a), _uniform(-4, 4), _uniform(-3, 3)),
    "cos": (lambda a, b: anp.cos(a), _uniform(-4, 4), _uniform(-3, 3)),
    "tan": (lambda a, b: anp.tan(a), _uniform(-1.4, 1.4), _uniform(-3, 3)),
    "sqrt": (lambda a, b: anp.sqrt(a), _uniform(0.05, 5), _uniform(-3, 3)),
    "tanh": (lambda a, b: anp.tanh(a), _uniform(-3, 3), _uniform(-3, 3)),
    "abs": (lambda a, b: anp.abs(a), _nonzero(0.01, 3), _uniform(-3, 3)),
    "sign": (lambda a, b: anp.sign(a) * b, _nonzero(0.01, 3), _uniform(-3, 3)),
    "heaviside": (
        lambda a, b: rules.heaviside(a) * b,
        _nonzero(0.01, 3),
        _uniform(-3, 3),
    ),
    "maximum": (lambda a, b: anp.maximum(a, b), _uniform(-3, -0.1), _uniform(0.1, 3)),
    "minimum": (lambda a, b: anp.minimum(a, b), _uniform(0.1, 3), _uniform(-3, -0.1)),
    "where": (
        lambda a, b: anp.where(True, anp.sin(a), b * b),
        _uniform(-3, 3),
        _uniform(-3, 3),
    ),
}


def _away_from_integers(lo, hi):
    return lambda: float(rng.integers(lo, hi) + rng.uniform(0.1, 0.9))


RULE_CASES.update(
    {
        "cosh": (lambda a, b: anp.cosh(a), _uniform(-3, 3), _uniform(-3, 3)),
        "sinh": (lambda a, b: anp.sinh(a), _uniform(-3, 3), _uniform(-3, 3)),
        "arcsin": (lambda a, b: anp.arcsin(a), _uniform(-0.9, 0.9), _uniform(-3, 3)),
        "arccos": (lambda a, b: anp.arccos(a), _uniform(-0.9, 0.9), _uniform(-3, 3)),
        "arctan": (lambda a, b: anp.arctan(a), _uniform(-3, 3), _uniform(-3, 3)),
        "arcsinh": (lambda a, b: anp.arcsinh(a), _uniform(-3, 3), _uniform(-3, 3)),
        "arccosh": (lambda a, b: anp.arccosh(a), _uniform(1.1, 4), _uniform(-3, 3)),
        "arctanh": (lambda a, b: anp.arctanh(a), _uniform(-0.9, 0.9), _uniform(-3, 3)),
        "log1p": (lambda a, b: anp.log1p(a), _uniform(-0.5, 3), _uniform(-3, 3)),
        "expm1": (lambda a, b: anp.expm1(a), _uniform(-3, 3), _uniform(-3, 3)),
        "log2": (lambda a, b: anp.log2(a), _uniform(0.1, 4), _uniform(-3, 3)),
        "log10": (lambda a, b: anp.log10(a), _uniform(0.1, 4), _uniform(-3, 3)),
        "exp2": (lambda a, b: anp.exp2(a), _uniform(-3, 3), _uniform(-3, 3)),
        "hypot": (lambda a, b: anp.hypot(a, b), _nonzero(0.2, 3), _nonzero(0.2, 3)),
        "logaddexp": (
            lambda a, b: anp.logaddexp(a, b),
            _uniform(-3, 3),
            _uniform(-3, 3),
        ),
        "arctan2": (lambda a, b: anp.arctan2(a, b), _uniform(-3, 3), _uniform(0.2, 3)),
        "floor": (
            lambda a, b: anp.floor(a) * b,
            _away_from_integers(-3, 3),
            _uniform(-3, 3),
        ),
        "ceil": (
            lambda a, b: anp.ceil(a) * b,
            _away_from_integers(-3, 3),
            _uniform(-3, 3),
        ),
        "floor_divide": (
            lambda a, b: anp.floor_divide(a, b) * a,
            _away_from_integers(-3, 3),
            _uniform(1.1, 3),
        ),
        "mod": (
            lambda a, b: anp.mod(a, b),
            _away_from_integers(-3, 3),
            _uniform(1.1, 3),
        ),
    }
)
#: NumPy functions that refuse complex input, or are not analytic (real): checked
#: against central differences instead of the complex step.
NOT_ANALYTIC = {
    "hypot",
    "logaddexp",
    "arctan2",
    "floor",
    "ceil",
    "floor_divide",
    "mod",
}


def central_difference(expr, var, h=1e-6, **point):
    up = {k: v + h if k == var else v for k, v in point.items()}
    down = {k: v - h if k == var else v for k, v in point.items()}
    return float((evaluate(expr, **up) - evaluate(expr, **down)) / (2 * h))


def test_every_elementwise_rule_is_covered():
    elementwise = {name for name, p in rules.RULES.items() if p.derivs is not None}
    # stop_gradient's derivative is 0 by definition (SymPy has no such function).
    assert elementwise == set(RULE_CASES) | {"stop_gradient"}


def test_stop_gradient_differentiates_to_zero_and_keeps_its_value():
    f = rules.stop_gradient(x) * y
    assert diff(f, x) == Const(0.0)
    assert diff(f, y) == rules.stop_gradient(x)
    assert evaluate(f, x=2.0, y=3.0) == 6.0


@pytest.mark.parametrize("name", sorted(RULE_CASES))
def test_rule_matches_sympy_and_complex_step(name):
    build, sample_x, sample_y = RULE_CASES[name]
    f = build(x, y)
    assert any(n.prim is rules.RULES[name] for n in subexpressions(f))
    F = to_sympy(f)
    for var, svar in ((x, SX), (y, SY)):
        df, dF = diff(f, var), sp.diff(F, svar)
        for _ in range(4):
            point = {"x": sample_x(), "y": sample_y()}
            ours = float(evaluate(df, **point))
            if not dF.has(sp.Derivative):  # SymPy leaves floor's derivative unevaluated
                assert close(ours, sympy_value(dF, **point)), (name, var, point)
            if name in NOT_ANALYTIC:
                reference = central_difference(f, var.name, **point)
                assert close(ours, reference, 1e-7), (name, var, point)
            else:
                reference = complex_step(f, var.name, **point)
                assert close(ours, reference, 1e-13), (name, var, point)


@pytest.mark.parametrize(
    ("build", "derivative"),
    [
        (lambda a: anp.sign(a), 0),
        (lambda a: rules.heaviside(a), 0),
        (lambda a: anp.where(True, a * a, anp.sin(a)), x + x),
        (lambda a: anp.where(False, a * a, anp.sin(a)), anp.cos(x)),
    ],
)
def test_piecewise_constant_and_selecting_rules(build, derivative):
    # sign and heaviside differentiate to exactly 0; where picks its branch's derivative.
    d = diff(build(x), x)
    assert d == (Const(0.0) if isinstance(derivative, int) else derivative)


# -- the chain, product and quotient rules on compositions ---------------------------
COMPOSITIONS = [
    lambda a, b: anp.sin(a) * anp.cos(a),
    lambda a, b: a * anp.exp(a) * anp.log(a),
    lambda a, b: anp.sin(a) / (1 + a * a),
    lambda a, b: anp.exp(anp.sin(anp.cos(a))),
    lambda a, b: anp.sqrt(1 + anp.tanh(a) ** 2),
    lambda a, b: a**a,
    lambda a, b: anp.log(anp.log(a + 2)),
    lambda a, b: (a * b + anp.sin(a * b)) / anp.exp(b),
    lambda a, b: anp.tan(a / 3) ** 3 * b**-2,
    lambda a, b: rules.reciprocal(anp.maximum(a, b) + 4) * anp.minimum(a * a, b),
    lambda a, b: anp.abs(anp.sin(a)) * anp.sqrt(anp.abs(b) + 1),
]


@pytest.mark.parametrize("build", COMPOSITIONS)
def test_compositions_match_sympy(build):
    f = build(x, y)
    F = to_sympy(f)
    points = [{"x": 0.7, "y": 1.3}, {"x": 1.9, "y": -0.4}, {"x": 0.35, "y": 2.2}]
    for var, svar in ((x, SX), (y, SY)):
        df, dF = diff(f, var), sp.diff(F, svar)
        for point in points:
            assert close(float(evaluate(df, **point)), sympy_value(dF, **point))


@pytest.mark.parametrize("build", COMPOSITIONS[:7])
def test_smooth_compositions_equal_sympy_exactly(build):
    # Not only the values: SymPy proves our derivative and its own are the same function.
    f = build(x, y)
    difference = to_sympy(diff(f, x)) - sp.diff(to_sympy(f), SX)
    # x**y's derivative in y guards a zero base (where(x, x, 1) inside its log): for
    # positive symbols the guard is decided, and equal analytic functions on x, y > 0
    # are equal everywhere they are defined.
    positive = {SX: sp.Symbol("x", positive=True), SY: sp.Symbol("y", positive=True)}
    assert sp.simplify(difference.subs(positive)) == 0


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize(
    "build",
    [
        lambda a: a**5 - 3 * a**2,
        lambda a: anp.sin(a) * anp.exp(-a),
        lambda a: anp.tanh(a) / (2 + anp.cos(a)),
        lambda a: anp.log(1 + a * a),
        lambda a: anp.sqrt(a) * anp.tan(a),
    ],
)
def test_higher_orders_match_sympy(build, order):
    f = build(x)
    d, D = diff(f, x, order=order), sp.diff(to_sympy(f), SX, order)
    for x0 in (0.3, 0.9, 1.4):
        ours = float(evaluate(d, x=x0))
        assert close(ours, sympy_value(D, x=x0), 1e-11)
        assert close(ours, float(ad.derivative(lambdify(f, x), x0, order=order)), 1e-11)
    assert diff(f, x, order=order, simplify=True).evaluate(x=0.9) == pytest.approx(
        float(evaluate(d, x=0.9)), rel=1e-12
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b: anp.sin(a * b) * anp.exp(a - b),
        lambda a, b: a**3 * b**2 + a / (1 + b * b),
        lambda a, b: anp.log(a * a + b * b + 1) * anp.tanh(a + 2 * b),
    ],
)
def test_partial_derivatives_in_two_variables(build):
    f = build(x, y)
    F = to_sympy(f)
    point = {"x": 0.6, "y": -1.1}
    for vars_ in [(x,), (y,), (x, y), (y, x), (x, x, y), (x, y, y)]:
        d = f
        for v in vars_:
            d = diff(d, v)
        D = sp.diff(F, *[{x: SX, y: SY}[v] for v in vars_])
        assert close(float(evaluate(d, **point)), sympy_value(D, **point), 1e-11)
    # Mixed partials commute (Schwarz), although the expressions differ.
    dxy, dyx = diff(diff(f, x), y), diff(diff(f, y), x)
    assert close(float(evaluate(dxy, **point)), float(evaluate(dyx, **point)))


def test_forward_mode_over_symbols_builds_the_same_expression():
    # Symbolic differentiation is forward mode with expressions as numbers.
    def f(t):
        return anp.sin(t) * t * anp.exp(anp.tanh(t) / t)

    assert ad.derivative(f, x) is diff(f(x), x)
    assert isinstance(ad.Dual(x, 1.0).tangent, float)
    assert (ad.Dual(x, 1.0) * ad.Dual(x, 1.0)).tangent is x + x


def test_reverse_mode_over_symbols_gives_the_same_function():
    def f(a, b):
        return anp.sin(a * b) / (1 + b * b) + a

    gx, gy = ad.grad(f, argnums=(0, 1))(x, y)
    assert isinstance(gx, Expr) and isinstance(gy, Expr)
    point = {"x": 0.4, "y": 1.7}
    assert close(
        float(evaluate(gx, **point)), float(evaluate(diff(f(x, y), x), **point))
    )
    assert close(
        float(evaluate(gy, **point)), float(evaluate(diff(f(x, y), y), **point))
    )


def test_shared_subexpressions_are_differentiated_once():
    e = x
    for _ in range(60):  # 2**60 nodes as a tree: only the memo makes this finish
        e = e * e
    d = diff(e, x)
    assert tree_size(e) == 2**61 - 1
    assert dag_size(d) < 400
    assert close(float(evaluate(d, x=1.0)), 2.0**60)


# -- evaluation ---------------------------------------------------------------------
def test_evaluate_numbers_arrays_complex_duals_and_expressions():
    e = anp.sin(x) * y + 1
    assert evaluate(e, x=0.0, y=5.0) == 1.0
    assert e.evaluate({x: np.pi / 2, "y": 2.0}) == 3.0
    values = evaluate(e, x=np.array([0.0, np.pi / 2]), y=2.0)
    np.testing.assert_allclose(values, [1.0, 3.0])
    assert evaluate(anp.exp(x), x=1j * np.pi) == pytest.approx(-1.0)
    dual = evaluate(e, x=ad.Dual(0.0, 1.0), y=3.0)
    assert (dual.primal, dual.tangent) == (1.0, 3.0)
    assert evaluate(e, x=y, y=x) is anp.sin(y) * x + 1  # substitution
    assert evaluate(Const(2.5)) == 2.5


def test_lambdify_makes_a_function_the_transforms_can_differentiate():
    f = lambdify(x * x * y, x, "y")
    assert f(3.0, 2.0) == 18.0
    assert ad.grad(f, argnums=(0, 1))(3.0, 2.0) == (12.0, 9.0)
    with pytest.raises(ValueError, match="argnums 2 is out of range"):
        ad.grad(f, argnums=2)  # the function has a real signature
    with pytest.raises(TypeError, match="takes 2 arguments"):
        f(1.0)
    with pytest.raises(ValueError, match="depends on y"):
        lambdify(x * y, x)
    with pytest.raises(ValueError, match="twice"):
        lambdify(x, x, "x")


def test_free_symbols_and_symbols():
    a, b, c = symbols("a, b c")
    assert free_symbols(c * a + anp.sin(a)) == (a, c)
    assert free_symbols(b * 0) == ()
    assert symbols("x") == (x,) and Symbol("x") is x
    with pytest.raises(ValueError, match="identifier"):
        Symbol("2x")
    with pytest.raises(ValueError, match="no symbol names"):
        symbols(" ")


# -- construction and simplification ------------------------------------------------
@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (lambda: x + 0, x),
        (lambda: 0 + x, x),
        (lambda: x - 0.0, x),
        (lambda: 0 - x, -x),
        (lambda: x * 1, x),
        (lambda: 1.0 * x, x),
        (lambda: x * -1, -x),
        (lambda: x / 1, x),
        (lambda: x / -1.0, -x),
        (lambda: 0 / x, Const(0)),
        (lambda: x**1, x),
        (lambda: 1**x, Const(1)),
        (lambda: anp.negative(-x), x),
        (lambda: x + (-y), x - y),
        (lambda: -x + y, y - x),
        (lambda: x - (-y), x + y),
        (lambda: x + -2, x - 2),
        (lambda: Const(2) * 3 + 1, Const(7)),
        (lambda: Const(1.0) / Const(4.0), Const(0.25)),
        (lambda: Const(2.0) ** -1, Const(0.5)),
        (lambda: anp.maximum(Const(2), Const(3)), Const(3)),
        (lambda: rules.reciprocal(Const(2)), Const(0.5)),
    ],
)
def test_construction_applies_trivial_identities(built, expected):
    assert built() is expected


def test_construction_keeps_the_rest():
    assert str(x * 0) == "0" and isinstance(x * 0, Const)
    assert isinstance(x**0, Const) and (x**0).value == 1
    assert (x - x).prim is rules.sub  # only simplify cancels
    assert isinstance(
        anp.sin(Const(1.0)), Call
    )  # no rounding of transcendental constants


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (x - x, Const(0.0)),
        (anp.sin(x) / anp.sin(x), Const(1.0)),
        (x + x, 2 * x),
        (anp.cos(x) * anp.cos(x), anp.cos(x) ** 2),
        (x * 3, 3 * x),
        (2 * (3 * x), 6 * x),
        (x * 2 * y * 3, 6 * x * y),
        (-(2 * x), -2 * x),
        (-x * -y, x * y),
        (x * -anp.sin(y), -(x * anp.sin(y))),
        (-(x - y), y - x),
        (x * 2 * (-anp.sin(x)) * 3 + (x - x), -6 * x * anp.sin(x)),
    ],
)
def test_simplify(expr, expected):
    assert simplify(expr) is expected
    assert simplify(simplify(expr)) is simplify(expr)


def test_diff_simplify_flag():
    assert diff(x**4, x, order=2) is 4 * (3 * x**2)
    assert diff(x**4, x, order=2, simplify=True) is 12 * x**2
    assert diff(x * x, x) is x + x
    assert x.diff("x", simplify=True) is Const(1.0)


@settings(max_examples=60, deadline=None)
@given(expressions())
def test_printing_round_trips(expr):
    # str is Python syntax: reading it back builds the very same node (constants
    # print with repr, so 1.0 and 1 stay apart).
    def symbolic(function):  # exp(2) must build a node, not compute e**2
        return lambda *args: function(
            *(a if isinstance(a, Expr) else Const(a) for a in args)
        )

    namespace = {
        name: symbolic(getattr(anp, name)) for name in ("exp", "log", "sin", "cos")
    }
    namespace.update(
        {name: symbolic(getattr(anp, name)) for name in ("tan", "sqrt", "tanh")}
    )
    namespace.update(
        {name: symbolic(getattr(anp, name)) for name in ("abs", "maximum", "minimum")}
    )
    namespace.update(
        x=x, y=y, reciprocal=symbolic(rules.reciprocal), inf=math.inf, nan=math.nan
    )
    more = "cosh sinh arctan arcsinh arcsin arccos arctanh arccosh log1p expm1 log2 log10 exp2"
    namespace.update({name: symbolic(getattr(anp, name)) for name in more.split()})
    parsed = eval(str(expr), namespace)
    assert (parsed if isinstance(parsed, Expr) else Const(parsed)) is expr


# -- printing -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (anp.sin(x) * anp.cos(x) + 1, "sin(x)*cos(x) + 1"),
        (x - (y - x), "x - (y - x)"),
        ((x - y) - x, "x - y - x"),
        (x / (y * x), "x/(y*x)"),
        (-(x**2), "-x**2"),
        ((-x) ** 2, "(-x)**2"),
        (x**-1, "x**(-1)"),
        (x ** (y**2), "x**y**2"),
        ((x**y) ** 2, "(x**y)**2"),
        (-(x * y), "-(x*y)"),
        (x * -y, "x*(-y)"),
        (-2.5 * x, "-2.5*x"),
        (anp.maximum(x, 1.0), "maximum(x, 1.0)"),
        (1.0 - anp.tanh(x) * anp.tanh(x), "1.0 - tanh(x)*tanh(x)"),
        (rules.reciprocal(x + 1), "reciprocal(x + 1)"),
    ],
)
def test_str(expr, text):
    assert str(expr) == repr(expr) == text


@pytest.mark.parametrize(
    ("expr", "latex"),
    [
        (anp.sin(x), r"\sin\left(x\right)"),
        (anp.sin(x) * anp.cos(x) + 1, r"\sin\left(x\right) \cos\left(x\right) + 1"),
        (x / (1 + y), r"\frac{x}{1 + y}"),
        ((x + y) ** 2, r"\left(x + y\right)^{2}"),
        (anp.exp(-x), r"e^{-x}"),
        (anp.sqrt(x) ** 3, r"\left(\sqrt{x}\right)^{3}"),
        (anp.abs(x - y), r"\left|x - y\right|"),
        (anp.sign(x), r"\operatorname{sign}\left(x\right)"),
        (rules.heaviside(x), r"H\left(x\right)"),
        (
            anp.maximum(x, y) - anp.minimum(x, y),
            r"\max\left(x, y\right) - \min\left(x, y\right)",
        ),
        (2 * x, r"2 x"),
        (x * 2, r"x \cdot 2"),
        (x * -y, r"x \left(-y\right)"),
        (-(x + y), r"-\left(x + y\right)"),
        (Symbol("alpha_1") * Symbol("rate"), r"\alpha_{1} \mathrm{rate}"),
        (1e-20 * x, r"1 \cdot 10^{-20} x"),
    ],
)
def test_latex(expr, latex):
    assert to_latex(expr) == latex


@pytest.mark.parametrize(
    ("build", "latex"),
    [
        (anp.tanh, r"1 - \tanh\left(x\right)^{2}"),
        (anp.exp, r"e^{x}"),
        (anp.log, r"\frac{1}{x}"),
        (anp.cos, r"-\sin\left(x\right)"),
        (anp.tan, r"1 + \tan\left(x\right)^{2}"),
        (anp.sqrt, r"\frac{0.5}{\sqrt{x}}"),
        (anp.abs, r"\operatorname{sign}\left(x\right)"),
    ],
)
def test_latex_of_the_rules_table(build, latex):
    # How the docs show the table: the rule's local derivative at f(x).
    (d,) = rules.RULES[build.__name__].derivs
    assert to_latex(d(build(x), x)) == latex


def test_huge_expressions_print_a_summary():
    e = x
    for _ in range(30):
        e = anp.sin(e) * e
    assert str(e).startswith("<expression of 3221225470 nodes as a tree (61 distinct)")
    with pytest.raises(ValueError, match="PRINT_LIMIT"):
        to_latex(e)


# -- sizes: expression swell ----------------------------------------------------------
def test_swell_of_iterated_product():
    # e_k = sin(e_{k-1}) * e_{k-1}: the DAG gains 2 nodes a level, the tree doubles.
    # Its derivative d_k = e*(cos(e)*d) + sin(e)*d (e = e_{k-1}, d = d_{k-1}) gains
    # 7 DAG nodes a level, while as a tree it is 6 + 3 T(e) + 2 T(d): more than double.
    e, d = x, diff(x, x)
    for k in range(1, 40):
        e_prev, d_prev = e, d
        e = anp.sin(e) * e
        d = diff(e, x)
        assert tree_size(e) == 3 * 2**k - 2
        assert dag_size(e) == 2 * k + 1
        assert depth(e) == 2 * k
        if k >= 2:
            assert tree_size(d) == 6 + 3 * tree_size(e_prev) + 2 * tree_size(d_prev)
            assert tree_size(d) > 2 * tree_size(d_prev)
            assert dag_size(d) == dag_size(d_prev) + 7
    assert tree_size(d) > 10**13 and dag_size(d) < 300


def test_swell_of_product_rule():
    # p_n = f_1 * ... * f_n with f_i = sin(x + i): the derivative's tree grows
    # quadratically (T_n = T_{n-1} + 5n + 5) while its DAG grows linearly: each n
    # adds n, x + n, sin(x + n), cos(x + n), p_{n-1}, f_n * d_{n-1},
    # p_{n-1} * cos(x + n) and their sum.
    p = anp.sin(x + 1)
    trees, dags = [], []
    for n in range(2, 30):
        p = p * anp.sin(x + n)
        d = diff(p, x)
        trees.append(tree_size(d))
        dags.append(dag_size(d))
    assert np.diff(trees).tolist() == [5 * n + 5 for n in range(3, 30)]
    assert set(np.diff(dags).tolist()) == {8}


def test_sizes_of_astronomically_large_trees_are_exact():
    e = x
    for _ in range(200):
        e = anp.sin(e) * e
    assert tree_size(e) == 3 * 2**200 - 2  # a Python int, computed on the 401-node DAG
    assert dag_size(diff(e, x)) < 1500


def test_deep_expressions_need_no_recursion():
    n = 3000
    e = x
    for _ in range(n):
        e = 0.5 * anp.sin(e) + x
    assert depth(e) == 3 * n
    d = diff(e, x)
    f = lambdify(e, x)
    x0 = 0.3
    value = float(evaluate(d, x=x0))
    assert close(value, float(ad.derivative(f, x0)))
    assert close(value, complex_step(e, "x", x=x0))
    assert close(value, float(lambdify(d, x)(x0)))
    assert len(str(e)) > n and len(to_latex(e)) > n
    assert simplify(e) is e
    assert close(float(evaluate(simplify(d), x=x0)), value)
    del e, d, f  # freeing a deep DAG must not overflow the C stack either


def test_simplify_long_products_without_recursion():
    e = x
    for k in range(2, 2000):
        e = e * anp.sin(k * x)
    for messy in (e * 2, 3 * (x * e), -e * -1.5):
        simple = simplify(messy)
        leftmost = simple
        while leftmost.prim is rules.mul:
            leftmost = leftmost.args[0]
        assert leftmost in (Const(2), Const(3), Const(1.5))
        assert simplify(simple) is simple
        assert close(float(evaluate(simple, x=0.1)), float(evaluate(messy, x=0.1)))


# -- errors ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "operation",
    [
        lambda: anp.sum(x),
        lambda: x @ y,
        lambda: x[0],
        lambda: anp.stack([x, y]),
        lambda: anp.reshape(x, (1,)),
        lambda: x.T,
    ],
)
def test_linear_primitives_are_refused(operation):
    with pytest.raises(
        TypeError, match=r"scalar.*supported are the elementwise primitives add"
    ):
        operation()


@pytest.mark.parametrize(
    "operation", [lambda: x < y, lambda: x <= 1.0, lambda: x > y, lambda: 2.0 >= x]
)
def test_ordering_is_refused(operation):
    with pytest.raises(TypeError, match=r"cannot be ordered.*evaluate them first"):
        operation()


@pytest.mark.parametrize("convert", [float, int, complex, bool])
def test_conversions_are_refused(convert):
    with pytest.raises(TypeError, match="evaluate it first"):
        convert(x + 1)


def test_other_errors():
    with pytest.raises(TypeError, match="no numeric value"):
        ad.primal_value(x)
    with pytest.raises(TypeError, match="no value for symbol 'y'"):
        evaluate(x * y, x=1.0)
    with pytest.raises(TypeError, match="scalar"):
        x * np.ones(3)
    with pytest.raises(TypeError, match="must be a number"):
        Const("1")
    with pytest.raises(TypeError, match="with respect to a Symbol"):
        diff(x * y, x + y)
    with pytest.raises(ValueError, match="non-negative"):
        diff(x, x, order=-1)
    with pytest.raises(TypeError, match="applying primitives"):
        Call(rules.sin, x)


def test_equality_and_hashing_are_structural():
    assert anp.sin(x) * y == anp.sin(x) * y
    assert anp.sin(x) != anp.cos(x)
    assert hash(x + y) == hash(x + y)
    assert len({x + y, x + y, y + x}) == 2
    assert Const(1) != Const(1.0) and Const(0.0) is not Const(-0.0)
    assert (x == 1) is False and x.shape == () and x.ndim == 0
    assert np.sin(x) is anp.sin(x)  # NumPy functions route to the rules
