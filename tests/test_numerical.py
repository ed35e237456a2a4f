"""Tests for autodiff_ref.numerical against closed-form derivatives."""

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_ref.numerical import (
    Method,
    derivative,
    directional,
    gradient,
    hessian,
    jacobian,
    step_size,
)

EPS = np.finfo(float).eps
METHODS: list[Method] = ["forward", "backward", "central", "complex", "richardson"]

# Relative tolerance of each method at its default step.  Finite-difference round-off is
# proportional to |f| (not |f'|), so errors are measured against max(|f'(x)|, |f(x)|).
TOLERANCE: dict[Method, float] = {
    "forward": 1e-7,
    "backward": 1e-7,
    "central": 1e-9,
    "complex": 1e-15,
    "richardson": 1e-12,
}

# name -> (f, f', points); the points stay away from singularities, and away from zeros of
# f' so that the relative complex-step comparison is meaningful.
ENTIRE_POINTS = [-1.7, -0.3, 0.5, 1.0, 2.3, 7.0]
POSITIVE_POINTS = [0.5, 1.0, 2.3, 7.0]
Function = Callable[[Any], Any]
FUNCTIONS: dict[str, tuple[Function, Function, list[float]]] = {
    "exp": (np.exp, np.exp, ENTIRE_POINTS),
    "sin": (np.sin, np.cos, ENTIRE_POINTS),
    "cos": (np.cos, lambda x: -np.sin(x), ENTIRE_POINTS),
    "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2, ENTIRE_POINTS),
    "log": (np.log, lambda x: 1 / x, POSITIVE_POINTS),
    "reciprocal": (lambda x: 1 / x, lambda x: -1 / x**2, POSITIVE_POINTS),
    "sqrt": (np.sqrt, lambda x: 0.5 / np.sqrt(x), POSITIVE_POINTS),
    "cube": (lambda x: x**3, lambda x: 3 * x**2, ENTIRE_POINTS),
}
CASES = [
    pytest.param(name, x, id=f"{name}({x})")
    for name, (_, _, points) in FUNCTIONS.items()
    for x in points
]


# --- derivative: accuracy of every method -----------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("name", "x"), CASES)
def test_derivative_matches_closed_form(name: str, x: float, method: Method) -> None:
    f, df, _ = FUNCTIONS[name]
    exact = df(x)
    value = derivative(f, x, method=method)
    if method == "complex":
        # No cancellation: relative to f' itself, to a few ulps.
        assert abs(value - exact) <= TOLERANCE[method] * abs(exact)
    else:
        assert abs(value - exact) <= TOLERANCE[method] * max(abs(exact), abs(f(x)))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("name", "x"), CASES)
def test_error_estimate_covers_actual_error(
    name: str, x: float, method: Method
) -> None:
    f, df, _ = FUNCTIONS[name]
    scale = max(abs(df(x)), abs(f(x)))
    value, error = derivative(f, x, method=method, return_error=True)
    assert isinstance(value, float) and isinstance(error, float)
    # An estimate, not a bound: allow a factor of 10, plus a few ulps for the cases where
    # the last two extrapolants agree by luck.
    assert abs(value - df(x)) <= 10 * error + 10 * EPS * scale
    # ...and not uselessly pessimistic.
    assert error <= 10 * TOLERANCE[method] * scale


def test_derivative_accepts_int_and_numpy_scalars() -> None:
    # float32 and 0-d arrays are accepted at runtime, beyond the `x: float` annotation.
    points: list[Any] = [0, np.float32(0.0), np.array(0.0)]
    for x in points:
        assert derivative(np.exp, x, method="complex") == pytest.approx(1.0, rel=1e-15)


def test_derivative_of_constant_is_zero() -> None:
    for method in METHODS:
        assert derivative(lambda x: 3.0, 1.5, method=method) == 0.0


def test_explicit_step_is_used() -> None:
    # For x**2 the central difference is exact for every h: ((x+h)^2 - (x-h)^2) / 2h = 2x.
    assert derivative(lambda x: x**2, 3.0, h=0.5) == 6.0
    # The forward difference of x**2 is 2x + h exactly (h = 0.5 is representable).
    assert derivative(lambda x: x**2, 3.0, h=0.5, method="forward") == 6.5
    assert derivative(lambda x: x**2, 3.0, h=0.5, method="backward") == 5.5


@pytest.mark.parametrize("method", [m for m in METHODS if m != "complex"])
def test_step_is_made_representable(method: Method) -> None:
    # 1e5 + 1e-6 is rounded (ulp(1e5) ~ 1.5e-11), so dividing by the requested step would
    # be off by ~1e-5 relative; dividing by the step actually taken makes the difference
    # quotient of the identity exactly 1.
    assert derivative(lambda t: t, 1e5, h=1e-6, method=method) == 1.0


def test_step_size_defaults() -> None:
    assert step_size(0.0, "forward") == math.sqrt(EPS)
    assert step_size(-4.0, "backward") == 4 * math.sqrt(EPS)
    assert step_size(0.5, "central") == pytest.approx(EPS ** (1 / 3))
    assert step_size(1e3, "central") == pytest.approx(1e3 * EPS ** (1 / 3))
    assert step_size(1e3, "complex") == 1e-20
    assert step_size(2.0, "richardson") == pytest.approx(0.2)


# --- truncation error order and the choice of step ---------------------------------------


def _loglog_slope(method: Method, steps: np.ndarray) -> float:
    errors = [abs(derivative(np.exp, 1.0, h=h, method=method) - math.e) for h in steps]
    slope, _ = np.polyfit(np.log(steps), np.log(errors), 1)
    return float(slope)


def test_forward_difference_is_first_order() -> None:
    # Truncation (e h / 2 ~ 1e-4 at h = 1e-4) dominates round-off (eps e / h ~ 6e-12).
    assert _loglog_slope("forward", np.logspace(-1, -4, 13)) == pytest.approx(
        1, abs=0.15
    )


def test_central_difference_is_second_order() -> None:
    # Truncation (e h**2 / 6 ~ 5e-7 at h = 1e-3) dominates round-off (~3e-13).
    assert _loglog_slope("central", np.logspace(-1, -3, 9)) == pytest.approx(
        2, abs=0.15
    )


def test_roundoff_dominates_for_tiny_steps() -> None:
    def forward_error(h: float | None) -> float:
        return abs(derivative(np.exp, 1.0, h=h, method="forward") - math.e)

    # At h = 1e-13 the error ~ eps e / h ~ 1e-3 dwarfs the ~1e-8 at the default step.
    assert forward_error(1e-13) > 100 * forward_error(None)


def test_default_central_step_is_near_optimal() -> None:
    steps = np.logspace(-2, -9, 71)
    errors = [abs(derivative(np.exp, 1.0, h=h) - math.e) for h in steps]
    default_error = abs(derivative(np.exp, 1.0) - math.e)
    assert default_error < 1e-9
    # The best step on a fine grid does not beat the default by more than 10x.
    assert default_error <= 10 * min(errors)


# --- gradient, jacobian, directional, hessian ---------------------------------------------

SHAPES = [(), (3,), (2, 3)]


def _point(shape: tuple[int, ...]) -> np.ndarray:
    return np.linspace(-1.2, 1.7, math.prod(shape)).reshape(shape)


def _tolerance(method: Method) -> float:
    return max(TOLERANCE[method], 1e-14)  # array sums add a few ulps


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gradient_of_sum_of_squares(shape: tuple[int, ...], method: Method) -> None:
    x = _point(shape)
    grad = gradient(lambda y: np.sum(y**2), x, method=method)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 2 * x, rtol=0, atol=_tolerance(method) * 10)


@pytest.mark.parametrize("method", METHODS)
def test_gradient_of_product_of_exp_and_sin(method: Method) -> None:
    x = np.array([0.3, -1.1])
    grad = gradient(lambda y: np.exp(y[0]) * np.sin(y[1]), x, method=method)
    exact = [np.exp(x[0]) * np.sin(x[1]), np.exp(x[0]) * np.cos(x[1])]
    np.testing.assert_allclose(grad, exact, rtol=_tolerance(method) * 10)


@pytest.mark.parametrize("method", METHODS)
def test_jacobian_of_linear_map_is_the_matrix(method: Method) -> None:
    matrix = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -4.0]])
    jac = jacobian(lambda y: matrix @ y, _point((3,)), method=method)
    assert jac.shape == (2, 3)
    np.testing.assert_allclose(jac, matrix, rtol=0, atol=_tolerance(method) * 10)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_jacobian_of_elementwise_sin_is_diagonal(
    shape: tuple[int, ...], method: Method
) -> None:
    x = _point(shape)
    jac = jacobian(np.sin, x, method=method)
    assert jac.shape == shape + shape
    exact = np.diag(np.cos(x).ravel()).reshape(shape + shape)
    np.testing.assert_allclose(jac, exact, rtol=0, atol=_tolerance(method) * 10)


def test_jacobian_shapes_for_scalar_input_and_scalar_output() -> None:
    # Scalar x, vector output: shape (2,) + ().
    jac = jacobian(lambda t: np.array([t**2, np.sin(t)]), 0.5, method="complex")
    np.testing.assert_allclose(jac, [1.0, np.cos(0.5)], rtol=1e-15)
    # Vector x, scalar output: shape () + (3,), i.e. the gradient.
    x = _point((3,))
    np.testing.assert_allclose(jacobian(lambda y: np.sum(y**2), x), 2 * x, atol=1e-9)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_directional_is_gradient_dot_direction(
    shape: tuple[int, ...], method: Method
) -> None:
    x = _point(shape)
    v = np.cos(3 * np.arange(x.size) + 1.0).reshape(
        shape
    )  # any fixed, non-unit direction
    f = lambda y: np.sum(np.sin(y) * y)  # noqa: E731
    exact = float(np.sum((np.cos(x) * x + np.sin(x)) * v))
    value = directional(f, x, v, method=method)
    assert isinstance(value, float)
    assert value == pytest.approx(exact, abs=_tolerance(method) * 10)
    assert value == pytest.approx(
        float(np.sum(gradient(f, x, method=method) * v)), abs=_tolerance(method) * 20
    )


def test_directional_is_not_normalised_and_handles_array_output() -> None:
    x = np.array([1.0, 2.0])
    value = directional(lambda y: np.sum(y**2), x, [10.0, 0.0], method="complex")
    assert value == pytest.approx(20.0, rel=1e-15)  # 2 * x[0] * 10, not 2 * x[0]
    # Array-valued f gives the Jacobian-vector product.
    matrix = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    jvp = directional(lambda y: matrix @ y, x, [1.0, -1.0])
    np.testing.assert_allclose(jvp, matrix @ [1.0, -1.0], atol=1e-9)


def test_directional_along_zero_is_zero() -> None:
    assert directional(lambda y: np.sum(y**2), [1.0, 2.0], [0.0, 0.0]) == 0.0


def test_hessian_matches_closed_form() -> None:
    x = np.array([0.7, -0.4, 1.3])

    def f(y: np.ndarray) -> float:
        return float(np.exp(y[0]) * np.sin(y[1]) + y[1] ** 2 * y[2] ** 3)

    e0, s1, c1 = np.exp(x[0]), np.sin(x[1]), np.cos(x[1])
    exact = np.array(
        [
            [e0 * s1, e0 * c1, 0.0],
            [e0 * c1, -e0 * s1 + 2 * x[2] ** 3, 6 * x[1] * x[2] ** 2],
            [0.0, 6 * x[1] * x[2] ** 2, 6 * x[1] ** 2 * x[2]],
        ]
    )
    hess = hessian(f, x)
    np.testing.assert_allclose(hess, exact, atol=1e-6)
    np.testing.assert_array_equal(hess, hess.T)


def test_hessian_shapes() -> None:
    assert hessian(lambda t: t**3, 2.0) == pytest.approx(12.0, rel=1e-6)
    x = _point((2, 3))
    hess = hessian(lambda y: np.sum(y**2), x)
    assert hess.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(hess, 2 * np.eye(6).reshape(2, 3, 2, 3), atol=1e-6)


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("h", [0.0, -1e-3, float("nan")])
def test_nonpositive_step_is_rejected(h: float) -> None:
    with pytest.raises(ValueError, match="h must be positive"):
        derivative(np.exp, 1.0, h=h)
    with pytest.raises(ValueError, match="h must be positive"):
        gradient(lambda y: np.sum(y), [1.0], h=h)
    with pytest.raises(ValueError, match="h must be positive"):
        hessian(lambda y: np.sum(y), [1.0], h=h)


def test_infinite_step_is_rejected() -> None:
    with pytest.raises(ValueError, match="h must be finite"):
        derivative(np.exp, 1.0, h=float("inf"))


def test_step_too_small_for_x_is_rejected() -> None:
    with pytest.raises(ValueError, match="too small to change x"):
        derivative(np.exp, 1e20, h=1e-10)
    with pytest.raises(ValueError, match="too small to change"):
        hessian(lambda y: np.sum(y**2), [1e20, 1.0], h=1e-10)


def test_unknown_method_lists_valid_ones() -> None:
    pattern = "unknown method 'secant'.*'forward'.*'central'.*'complex'.*'richardson'"
    with pytest.raises(ValueError, match=pattern):
        derivative(np.exp, 1.0, method="secant")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="valid methods"):
        gradient(np.sum, [1.0], method="secant")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="valid methods"):
        step_size(1.0, "secant")  # type: ignore[arg-type]


@pytest.mark.parametrize("x", ["1.0", None, 1 + 2j, True])
def test_non_real_x_is_rejected(x: object) -> None:
    with pytest.raises(TypeError, match="x must be a real number"):
        derivative(np.exp, x)  # type: ignore[call-overload]


def test_non_real_array_x_is_rejected() -> None:
    with pytest.raises(TypeError, match="x must be a real number"):
        gradient(np.sum, ["a", "b"])
    with pytest.raises(TypeError, match="x must be a real number"):
        jacobian(np.sin, np.array([1j]))


def test_array_x_in_derivative_points_to_gradient() -> None:
    with pytest.raises(TypeError, match="use gradient"):
        derivative(np.exp, np.array([1.0, 2.0]))  # type: ignore[call-overload]


def test_complex_step_with_real_only_function_explains_what_to_do() -> None:
    pattern = r"must accept complex numbers.*not math\.\*.*method='central'"
    with pytest.raises(TypeError, match=pattern):
        derivative(math.sin, 1.0, method="complex")
    with pytest.raises(TypeError, match=pattern):
        gradient(lambda y: math.exp(y[0]), [1.0], method="complex")
    # The same function is fine with a real method.
    assert derivative(math.sin, 1.0) == pytest.approx(math.cos(1.0), rel=1e-9)


def test_vector_output_in_derivative_and_gradient_points_to_jacobian() -> None:
    with pytest.raises(ValueError, match="use jacobian"):
        derivative(lambda t: np.array([t, t**2]), 1.0)
    with pytest.raises(ValueError, match="use jacobian"):
        gradient(lambda y: 2 * y, [1.0, 2.0])
    with pytest.raises(ValueError, match="use jacobian"):
        hessian(lambda y: 2 * y, [1.0, 2.0])


def test_non_numeric_output_is_rejected() -> None:
    with pytest.raises(TypeError, match="f must return numbers"):
        derivative(lambda t: "oops", 1.0)


def test_complex_output_with_real_method_is_rejected() -> None:
    with pytest.raises(TypeError, match="f returned complex values"):
        derivative(lambda t: np.exp(1j * t), 1.0)


def test_direction_shape_mismatch_is_rejected() -> None:
    with pytest.raises(ValueError, match="v must have the shape of x"):
        directional(np.sum, [1.0, 2.0], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("method", METHODS)
def test_nan_propagates(method: Method) -> None:
    # NumPy warns about invalid values (sqrt(-1), exp(complex nan)); silence it as
    # NumPy users would: the point is that the NaN comes through.
    with np.errstate(invalid="ignore"):
        assert math.isnan(derivative(np.exp, float("nan"), method=method))
        if (
            method != "complex"
        ):  # complex sqrt(-1 + ih) is defined: no NaN (see docstring)
            assert math.isnan(derivative(np.sqrt, -1.0, method=method))
    grad = gradient(lambda y: y[0] * y[1], [float("nan"), 2.0], method=method)
    assert math.isnan(grad[0]) and math.isnan(grad[1])  # nan * anything is nan


# --- property test: the complex step is exact on polynomials ---------------------------------


def _moderate_floats(limit: float) -> st.SearchStrategy[float]:
    # The imaginary part of f(x + ih) is ~h f'(x) with h = 1e-20; keeping nonzero values
    # above 1e-30 keeps it far above the underflow threshold 2.2e-308 even for degree 8.
    return st.floats(-limit, limit).filter(lambda v: v == 0 or abs(v) >= 1e-30)


@settings(max_examples=200, deadline=None)
@given(
    coefficients=st.lists(_moderate_floats(10), min_size=1, max_size=9),
    x=_moderate_floats(3),
)
def test_complex_step_is_exact_on_polynomials(
    coefficients: list[float], x: float
) -> None:
    value = derivative(lambda t: np.polyval(coefficients, t), x, method="complex")
    # The reference is computed exactly in rational arithmetic.
    degree = len(coefficients) - 1
    terms = [
        (degree - k) * Fraction(c) * Fraction(x) ** (degree - k - 1)
        for k, c in enumerate(coefficients[:-1])
    ]
    exact = float(sum(terms, Fraction(0)))
    # Relative to the sum of |terms|: if the terms cancel, f' itself may be ~0 and no
    # floating-point method can be relatively accurate to it.
    scale = float(sum(abs(term) for term in terms))
    # Plus the complex step's own O(h**2) = O(1e-40) truncation error, which shows only
    # where f'(x) is exactly 0 (e.g. x**3 at 0 gives Im((ih)**3) / h = -h**2).
    truncation = 1e-30 * sum(abs(c) for c in coefficients)
    assert abs(value - exact) <= 1e-12 * scale + truncation
