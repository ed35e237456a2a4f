"""Taylor mode (``jet``) against three independent references.

* nested first-order dual numbers (a different algorithm on the same rules);
* mpmath's Taylor coefficients at 50 digits (shares nothing with the package);
* closed forms, and JAX's documented ``jet`` example.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
from expression_strategies import X, Y, coordinates, expressions, well_conditioned
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.symbolic import lambdify


def nested_duals(f: Callable[[Any], Any], order: int) -> Callable[[Any], Any]:
    """f's order-th derivative by nesting first-order forward passes (the old way)."""
    g = f
    for _ in range(order):
        g = (lambda h: lambda t: ad.derivative(h, t))(g)
    return g


def line(n: int, direction: Any = 1.0) -> tuple:
    """The series of the curve x + t * direction: (direction, 0, 0, ...)."""
    zero = np.zeros_like(direction) if np.ndim(direction) else 0.0
    return (direction,) + (zero,) * (n - 1)


# -- JAX's documented example and closed forms -----------------------------------------
def test_jax_documented_example():
    # jax.experimental.jet docs: f1 = f'(x) h1, f2 = f''(x) h1**2 + f'(x) h2, for x**3 at 2.
    out, (f1, f2) = ad.jet(lambda x: x**3, (2.0,), ((3.0, 5.0),))
    assert (out, f1, f2) == (8.0, 12.0 * 3.0, 12.0 * 9.0 + 12.0 * 5.0)


def test_polynomial_terms_are_exact_and_end():
    out, terms = ad.jet(lambda x: x**3 - 2 * x, (1.5,), (line(6),))
    assert out == 1.5**3 - 3.0
    assert terms == [3 * 1.5**2 - 2, 6 * 1.5, 6.0, 0.0, 0.0, 0.0]


def test_exp_terms_are_exp():
    _, terms = ad.jet(anp.exp, (0.3,), (line(12),))
    np.testing.assert_allclose(terms, [math.exp(0.3)] * 12, rtol=1e-14)


def test_derivative_of_high_order_uses_taylor_mode():
    # d^k/dx^k sin = sin(x + k pi/2)
    for order in (2, 7, 20, 33):
        got = ad.derivative(anp.sin, 0.4, order=order)
        np.testing.assert_allclose(got, math.sin(0.4 + order * math.pi / 2), rtol=1e-12)


# -- against nested dual numbers ---------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    expressions(4),
    coordinates,
    coordinates,
    st.floats(-1.5, 1.5),
    st.floats(-1.5, 1.5),
    st.integers(1, 6),
)
def test_random_programs_agree_with_nested_duals(expr, x0, y0, dx, dy, order):
    point = {"x": x0, "y": y0}
    assume(well_conditioned(expr, point, bound=50.0, kink=1e-2))
    f = lambdify(expr, X, Y)

    def along(t):  # the curve through (x0, y0) with velocity (dx, dy)
        return f(x0 + t * dx, y0 + t * dy)

    expected = [nested_duals(along, k)(0.0) for k in range(1, order + 1)]
    assume(all(np.isfinite(expected)) and max(map(abs, expected), default=0) < 1e6)
    _, terms = ad.jet(f, (x0, y0), (line(order, dx), line(order, dy)))
    scale = max([1.0, *map(abs, expected)])
    np.testing.assert_allclose(terms, expected, rtol=1e-9, atol=1e-9 * scale)


def test_arrays_and_linear_maps_agree_with_nested_duals():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(3, 4))
    x = rng.normal(size=4)
    v = rng.normal(size=4)

    def f(x):
        h = anp.tanh(A @ anp.sin(x))  # matmul, an elementwise chain
        return anp.sum(h * h[::-1]) / (
            1.0 + anp.sum(x * x)
        )  # indexing, sums, a quotient

    expected = [nested_duals(lambda t: f(x + t * v), k)(0.0) for k in range(1, 6)]
    _, terms = ad.jet(f, (x,), (line(5, v),))
    np.testing.assert_allclose(terms, expected, rtol=1e-11)


def test_elementwise_on_arrays():
    xs = np.array([-1.2, 0.1, 0.7, 2.5])
    f = lambda x: anp.exp(anp.sin(x)) * anp.cos(x)  # noqa: E731
    _, terms = ad.jet(f, (xs,), (line(6, np.ones(4)),))
    for i, x in enumerate(xs):
        _, scalar_terms = ad.jet(f, (float(x),), (line(6),))
        np.testing.assert_allclose([t[i] for t in terms], scalar_terms, rtol=1e-13)


# -- against mpmath at 50 digits -----------------------------------------------------------
MP = [
    ("exp", anp.exp, mpmath.exp, 0.4),
    ("sin", anp.sin, mpmath.sin, 0.9),
    ("cos", anp.cos, mpmath.cos, -0.3),
    ("tan", anp.tan, mpmath.tan, 0.5),
    ("log", anp.log, mpmath.log, 1.7),
    ("sqrt", anp.sqrt, mpmath.sqrt, 2.3),
    ("tanh", anp.tanh, mpmath.tanh, 0.2),
    ("x**2.5", lambda x: x**2.5, lambda x: x ** mpmath.mpf(2.5), 1.3),
    ("x**-3", lambda x: x**-3, lambda x: x**-3, -1.1),
    ("x**x", lambda x: x**x, lambda x: x**x, 1.2),
    (
        "exp(sin)",
        lambda x: anp.exp(anp.sin(x)),
        lambda x: mpmath.exp(mpmath.sin(x)),
        0.5,
    ),
    (
        "sqrt(1+tan^2)/log",
        lambda x: anp.sqrt(1 + anp.tan(x) ** 2) / anp.log(2 + x),
        lambda x: mpmath.sqrt(1 + mpmath.tan(x) ** 2) / mpmath.log(2 + x),
        0.3,
    ),
    (
        "tanh(cos)*x",
        lambda x: anp.tanh(anp.cos(x)) * x,
        lambda x: mpmath.tanh(mpmath.cos(x)) * x,
        -0.8,
    ),
]


@pytest.mark.parametrize(("f", "g", "x0"), [c[1:] for c in MP], ids=[c[0] for c in MP])
def test_forty_terms_match_mpmath(f, g, x0):
    n = 40
    _, terms = ad.jet(f, (x0,), (line(n),))
    with mpmath.workdps(50):
        coefficients = mpmath.taylor(g, mpmath.mpf(x0), n)  # f^(k)(x0) / k!
        exact = [float(coefficients[k] * mpmath.factorial(k)) for k in range(1, n + 1)]
    for k, (got, want) in enumerate(zip(terms, exact, strict=True), start=1):
        if abs(want) > 1e-200:  # a tiny true value has no relative accuracy to check
            assert abs(got - want) <= 1e-10 * abs(want), (k, got, want)


# -- nested in other transforms: coefficients that are tracers -------------------------------
def test_grad_of_a_taylor_derivative():
    # d/dx (d^3/dx^3 sin x) = sin x: reverse mode through Taylor mode.
    got = ad.grad(lambda x: ad.derivative(anp.sin, x, order=3))(0.7)
    np.testing.assert_allclose(got, math.sin(0.7), rtol=1e-14)


def test_jacfwd_of_taylor_terms_on_arrays():
    xs = np.array([0.2, 0.9, 1.4])
    # d/dx of the elementwise second derivative of x**4 (12 x**2) is diag(24 x).
    jac = ad.jacfwd(lambda x: ad.derivative(lambda y: y**4, x, order=2))(xs)
    np.testing.assert_allclose(jac, np.diag(24 * xs), rtol=1e-14)


def test_taylor_inside_grad_inside_taylor():
    # The 2nd derivative of x -> grad(t -> t * d2/ds2 exp(s t) at s = 1)(x), i.e.
    # d/dt [t * t**2 exp(t)] = (3 t**2 + t**3) e^t, differentiated twice more.
    def inner(t):
        return t * ad.derivative(lambda s: anp.exp(s * t), 1.0, order=2)

    got = ad.derivative(ad.grad(inner), 0.6, order=2)
    t = 0.6
    expected = (6 + 18 * t + 9 * t**2 + t**3) * math.exp(t)  # by hand, checked below
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    h = 1e-4  # the hand formula against central differences of the closed form
    closed = lambda t: (3 * t**2 + t**3) * math.exp(t)  # noqa: E731
    fd = (closed(t + h) - 2 * closed(t) + closed(t - h)) / h**2
    np.testing.assert_allclose(expected, fd, rtol=1e-6)


# -- structure and errors --------------------------------------------------------------------
def test_tuple_outputs_and_constants():
    out, terms = ad.jet(lambda x: (x * x, 2.0), (3.0,), (line(3),))
    assert out == (9.0, 2.0)
    assert terms == ([6.0, 2.0, 0.0], [0.0, 0.0, 0.0])


def test_bad_series_are_refused():
    with pytest.raises(TypeError, match="tuple of primals and a tuple of series"):
        ad.jet(anp.sin, 1.0, ((1.0,),))
    with pytest.raises(ValueError, match="same number of terms"):
        ad.jet(lambda x, y: x * y, (1.0, 2.0), ((1.0,), (1.0, 0.0)))
    with pytest.raises(ValueError, match="its primal's shape"):
        ad.jet(anp.sin, (np.ones(2),), ((np.ones(3),),))


def test_no_series_escape():
    kept = []
    ad.jet(lambda x: kept.append(x) or x, (1.0,), (line(2),))
    with pytest.raises(ValueError, match="escaped"):
        anp.sin(kept[0])


def test_high_order_derivative_of_arrays_refuses_functions_that_are_not_elementwise():
    with pytest.raises(ValueError, match="not elementwise"):
        ad.derivative(lambda x: x * anp.sum(x), np.ones(3), order=3)
    np.testing.assert_allclose(
        ad.derivative(lambda x: x**4, np.array([1.0, 2.0]), order=3), [24.0, 48.0]
    )


def _matrix(x):
    return anp.stack([anp.stack([x, 1.0]), anp.stack([2.0, x * x + 3])])


# Rules of every kind in the table: elementwise of one and two arguments, reductions by
# selection, and point-dependent (nonlinear) maps that Taylor mode takes through the
# general recurrence.
OTHER_RULES = {
    "arctan": anp.arctan,
    "cosh": anp.cosh,
    "log1p": anp.log1p,
    "arcsinh": anp.arcsinh,
    "hypot": lambda x: anp.hypot(x, 2.0),
    "logaddexp": lambda x: anp.logaddexp(x, 0.3),
    "arctan2": lambda x: anp.arctan2(x, 1.3),
    "prod": lambda x: anp.prod(anp.stack([x, x * x, anp.sin(x)])),
    "max": lambda x: anp.max(anp.stack([x, 2 * x - 0.1, x * x])),
    "einsum": lambda x: anp.einsum(
        "i,i->", anp.stack([x, x * x]), anp.stack([anp.sin(x), x])
    ),
    "det": lambda x: anp.linalg.det(_matrix(x)),
    "inv": lambda x: anp.sum(anp.linalg.inv(_matrix(x))),
    "cumsum": lambda x: anp.sum(anp.cumsum(anp.stack([x, anp.exp(x), x**3])) ** 2),
}


@pytest.mark.parametrize("f", OTHER_RULES.values(), ids=OTHER_RULES.keys())
def test_other_rules_agree_with_nested_duals(f):
    expected = [nested_duals(f, k)(0.7) for k in range(1, 6)]
    _, terms = ad.jet(f, (0.7,), (line(5),))
    # det goes through a linear solve: its zero 4th and 5th derivatives are rounding.
    np.testing.assert_allclose(terms, expected, rtol=1e-12, atol=1e-10)


def test_taylor_mode_compiles_under_jit():
    # Traced without values, pow falls back from exp(p log x) to its own rule.
    def third(x):
        return ad.derivative(
            lambda y: anp.exp(anp.sin(y)) / (1 + y * y) + y**2.5, x, order=3
        )

    xs = np.array([1.3, 0.7])
    np.testing.assert_allclose(ad.jit(third)(xs), [third(1.3), third(0.7)], rtol=1e-13)
    program = ad.make_program(third)(1.3)
    np.testing.assert_allclose(program(1.3), third(1.3), rtol=1e-13)
