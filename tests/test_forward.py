"""Forward mode: dual numbers, their matrix form, tagged perturbations, jvp and jacfwd.

References are closed forms written out by hand (or by SymPy), the dual-number
algebra itself (``(a + bε)(c + dε) = ac + (ad + bc)ε``), matrix functions of
Jordan blocks from SciPy, and complex-step differences.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.linalg
import sympy as sp

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import Dual, derivatives_from_matrix, jordan_block


def _assert_dual(d: Any, primal: Any, tangent: Any, rtol: float = 1e-14) -> None:
    assert isinstance(d, Dual), f"expected a Dual, got {type(d).__name__}"
    np.testing.assert_allclose(d.primal, primal, rtol=rtol, atol=0)
    np.testing.assert_allclose(d.tangent, tangent, rtol=rtol, atol=0)


def complex_step_jacobian(f: Callable, x: Any, h: float = 1e-20) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    out_shape = np.shape(f(x[()]))
    jac = np.zeros(out_shape + x.shape)
    for idx in np.ndindex(*x.shape):
        xc = x.astype(complex)
        xc[idx] += 1j * h
        with ad.numerical.complex_step_stand_ins():  # abs(z) would be |z|
            jac[(Ellipsis, *idx)] = np.imag(f(xc[()])) / h
    return jac


# -- construction --------------------------------------------------------------------
def test_construction_and_attributes() -> None:
    d = Dual(3.0, -1.5)
    assert d.primal == 3.0 and d.tangent == -1.5
    assert d.shape == () and d.ndim == 0
    assert repr(d) == "Dual(primal=3.0, tangent=-1.5)"
    v = Dual(np.array([1.0, 2.0]), np.array([0.5, 0.25]))
    assert v.shape == (2,) and v.ndim == 1 and v.size == 2 and len(v) == 2
    np.testing.assert_array_equal(v.primal, [1.0, 2.0])
    np.testing.assert_array_equal(v.tangent, [0.5, 0.25])
    _assert_dual(v[1], 2.0, 0.25)
    assert [float(e.primal) for e in v] == [1.0, 2.0]
    # Integer and NumPy scalar parts are accepted as numbers.
    assert Dual(2, 1).primal == 2
    assert Dual(np.float64(2.0), np.int64(1)).tangent == 1
    # Dual numbers with the same (user) tag are one algebra; transforms use fresh tags.
    assert Dual(1.0, 0.0).tag is Dual(2.0, 1.0).tag


# -- arithmetic against the dual-number algebra ----------------------------------------------
A, B = 1.7, -0.6  # the dual a + b ε under test


def _log(c: Any) -> Any:
    return np.log(np.asarray(c, dtype=float))


# op, expected (primal, tangent) of op(a + bε, c), of op(c, a + bε), for a constant c
BINARY_WITH_CONSTANT = {
    "add": (operator.add, lambda c: (A + c, B), lambda c: (c + A, B)),
    "sub": (operator.sub, lambda c: (A - c, B), lambda c: (c - A, -B)),
    "mul": (operator.mul, lambda c: (A * c, B * c), lambda c: (c * A, c * B)),
    "div": (
        operator.truediv,
        lambda c: (A / c, B / c),
        lambda c: (c / A, -c * B / A**2),
    ),
    "pow": (
        operator.pow,
        lambda c: (A**c, c * A ** (c - 1) * B),
        lambda c: (c**A, c**A * _log(c) * B),
    ),
}
CONSTANTS = {
    "int": 3,
    "float": 2.5,
    "np.float64": np.float64(2.5),
    "np.int64": np.int64(3),
    "np.float32": np.float32(0.5),
    "array": np.array([1.5, 2.5, 4.0]),
    "0-d array": np.array(2.0),
}


@pytest.mark.parametrize("const", CONSTANTS.values(), ids=CONSTANTS.keys())
@pytest.mark.parametrize("name", BINARY_WITH_CONSTANT)
def test_operators_with_constants_in_both_orders(name: str, const: Any) -> None:
    op, right, left = BINARY_WITH_CONSTANT[name]
    x = Dual(A, B)
    rtol = 1e-6 if isinstance(const, np.float32) else 1e-14
    _assert_dual(op(x, const), *right(const), rtol=rtol)
    _assert_dual(op(const, x), *left(const), rtol=rtol)


def test_reflected_operators_return_duals_not_object_arrays() -> None:
    x = Dual(2.0, 1.0)
    for y in (
        2 * x,
        x * 2,
        np.float64(2) * x,
        np.array([1.0, 2.0]) * x,
        np.array(3.0) + x,
    ):
        assert isinstance(y, Dual)
    _assert_dual(np.float64(2) * x, 4.0, 2.0)
    _assert_dual(np.array([1.0, 2.0]) * x, [2.0, 4.0], [1.0, 2.0])


OPS_DUAL_DUAL = {
    "add": (operator.add, lambda a, b, c, d: (a + c, b + d)),
    "sub": (operator.sub, lambda a, b, c, d: (a - c, b - d)),
    "mul": (operator.mul, lambda a, b, c, d: (a * c, a * d + b * c)),
    "div": (operator.truediv, lambda a, b, c, d: (a / c, (b * c - a * d) / c**2)),
    "pow": (
        operator.pow,
        lambda a, b, c, d: (a**c, c * a ** (c - 1) * b + np.log(a) * a**c * d),
    ),
}


@pytest.mark.parametrize("name", OPS_DUAL_DUAL)
def test_operators_between_duals(name: str) -> None:
    op, expected = OPS_DUAL_DUAL[name]
    rng = np.random.default_rng(7)
    for _ in range(5):
        a, c = rng.uniform(0.5, 2.0, 2)
        b, d = rng.uniform(-2.0, 2.0, 2)
        _assert_dual(op(Dual(a, b), Dual(c, d)), *expected(a, b, c, d), rtol=1e-13)
    # Vectorized: arrays of primals and tangents, elementwise.
    a, c = rng.uniform(0.5, 2.0, (2, 4))
    b, d = rng.uniform(-2.0, 2.0, (2, 4))
    _assert_dual(op(Dual(a, b), Dual(c, d)), *expected(a, b, c, d), rtol=1e-13)


def test_unary_minus_plus_and_abs() -> None:
    x = Dual(-1.25, 0.75)
    _assert_dual(-x, 1.25, -0.75)
    assert +x is x
    _assert_dual(abs(x), 1.25, -0.75)  # d|x| = sign(x) dx
    _assert_dual(abs(Dual(2.0, 0.75)), 2.0, 0.75)
    _assert_dual(abs(Dual(0.0, 0.75)), 0.0, 0.0)  # abs'(0) = 0 by convention
    v = abs(Dual(np.array([-1.0, 0.0, 3.0]), np.array([1.0, 1.0, 2.0])))
    _assert_dual(v, [1.0, 0.0, 3.0], [-1.0, 0.0, 2.0])


def test_division_agrees_with_the_conjugate_formula() -> None:
    rng = np.random.default_rng(11)
    for _ in range(5):
        a, b, d = rng.uniform(-2, 2, 3)
        c = rng.uniform(0.5, 2.0) * rng.choice([-1, 1])
        x, y = Dual(a, b), Dual(c, d)
        q = x / y
        _assert_dual(q, a / c, (b * c - a * d) / c**2, rtol=1e-13)
        # x / y = x ȳ / (y ȳ), and y ȳ = c² is real.
        yy = y * y.dual_conjugate()
        _assert_dual(yy, c**2, 0.0)
        via_conjugate = (x * y.dual_conjugate()) / yy.primal
        _assert_dual(via_conjugate, q.primal, q.tangent, rtol=1e-13)


def test_conjugate() -> None:
    x = Dual(np.array([2.0, -3.0]), np.array([5.0, 1.0]))
    _assert_dual(x.dual_conjugate(), [2.0, -3.0], [-5.0, -1.0])
    _assert_dual(x * x.dual_conjugate(), [4.0, 9.0], [0.0, 0.0])
    assert x.dual_conjugate().tag is x.tag


def test_vectorized_primals_and_tangents() -> None:
    p = np.array([[0.1, 0.7], [1.3, -2.0]])
    t = np.array([[1.0, 2.0], [-1.0, 0.5]])
    x = Dual(p, t)
    _assert_dual(anp.sin(x) * x, np.sin(p) * p, (np.cos(p) * p + np.sin(p)) * t)
    _assert_dual(anp.exp(x) / (1.0 + x * x), np.exp(p) / (1 + p**2),
                 np.exp(p) * (1 - p) ** 2 / (1 + p**2) ** 2 * t)  # fmt: skip
    s = anp.sum(x * x, axis=0)
    _assert_dual(s, (p**2).sum(axis=0), (2 * p * t).sum(axis=0))
    _assert_dual(x @ np.array([1.0, -1.0]), p @ [1.0, -1.0], t @ [1.0, -1.0])


# -- comparisons on the primal: control flow ---------------------------------------------
def test_comparisons_look_at_the_primal() -> None:
    x = Dual(2.0, 100.0)
    assert x < 3 and x <= 2.0 and x > 1 and x >= 2 and x == 2.0 and x != 3.0
    assert not (x < Dual(2.0, -5.0)) and x == Dual(2.0, -5.0)
    assert bool(Dual(1.0, 0.0)) and not bool(Dual(0.0, 1.0))
    np.testing.assert_array_equal(
        Dual(np.array([1.0, 3.0]), np.zeros(2)) < 2.0, [True, False]
    )


def newton_sqrt(a: Any) -> Any:
    """sqrt(a) by Newton's method; the loop's test reads the primal."""
    x = a
    for _ in range(100):  # quadratic convergence needs a few; the bound is for safety
        if abs(x * x - a) <= 1e-15 * a:  # ~3e-16 a once x is sqrt(a) rounded
            return x
        x = 0.5 * (x + a / x)
    raise AssertionError(f"Newton's method for sqrt({a}) did not converge")


def test_newton_iteration_is_differentiated_correctly() -> None:
    for a in (0.3, 2.0, 50.0):
        assert ad.derivative(newton_sqrt, a) == pytest.approx(
            0.5 / math.sqrt(a), rel=1e-13
        )
        _assert_dual(
            newton_sqrt(Dual(a, 1.0)), math.sqrt(a), 0.5 / math.sqrt(a), rtol=1e-13
        )


def test_root_of_a_cubic_by_newton_gives_the_implicit_derivative() -> None:
    # x(c) solves x**3 + x = c; implicitly, dx/dc = 1 / (3 x**2 + 1).
    def root(c: Any) -> Any:
        x = 0.0 * c + 1.0
        for _ in range(60):
            step = (x**3 + x - c) / (3 * x**2 + 1)
            x = x - step
            if abs(step) < 1e-16:
                break
        return x

    for c in (0.5, 2.0, 10.0):
        x = root(c)
        assert ad.derivative(root, c) == pytest.approx(1 / (3 * x**2 + 1), rel=1e-12)


def halve_until_small(x: Any) -> Any:
    """A piecewise function: (x / 2**k)**2 where k is the number of halvings."""
    while x > 1.0:  # bounded: a finite float halves to 1 or below in < 1100 steps
        x = x / 2.0
    return x * x


@pytest.mark.parametrize(("x", "k"), [(0.5, 0), (1.5, 1), (5.0, 3), (100.0, 7)])
def test_piecewise_function_with_a_while_loop(x: float, k: int) -> None:
    assert ad.derivative(halve_until_small, x) == pytest.approx(2 * x / 4**k, rel=1e-15)
    assert ad.grad(halve_until_small)(x) == pytest.approx(2 * x / 4**k, rel=1e-15)


def test_if_statement_picks_the_branch_by_primal() -> None:
    def f(x: Any) -> Any:
        return x**2 if x < 1.0 else 2.0 * x - 1.0

    assert ad.derivative(f, 0.25) == 0.5
    assert ad.derivative(f, 3.0) == 2.0


# -- matrix form ---------------------------------------------------------------------------
def test_matrix_round_trip() -> None:
    x = Dual(1.5, -2.0)
    m = x.to_matrix()
    np.testing.assert_array_equal(m, [[1.5, -2.0], [0.0, 1.5]])
    back = Dual.from_matrix(m)
    assert (back.primal, back.tangent) == (1.5, -2.0)
    assert back.tag is x.tag


@pytest.mark.parametrize(
    "m",
    [
        [[1.0, 2.0], [3.0, 1.0]],  # nonzero below the diagonal
        [[1.0, 2.0], [0.0, 3.0]],  # unequal diagonal
        np.eye(3),  # wrong size
        [1.0, 2.0],
    ],
)
def test_from_matrix_rejects_other_matrices(m: Any) -> None:
    with pytest.raises(ValueError, match=r"form \[\[a, b\], \[0, a\]\]"):
        Dual.from_matrix(m)


def test_to_matrix_needs_a_scalar_dual() -> None:
    with pytest.raises(ValueError, match="scalar dual; convert each element"):
        Dual(np.ones(2), np.ones(2)).to_matrix()


def test_matrix_arithmetic_agrees_with_dual_arithmetic() -> None:
    rng = np.random.default_rng(3)
    for _ in range(10):
        a, b, d = rng.uniform(-2, 2, 3)
        c = rng.uniform(0.5, 2.0) * rng.choice([-1, 1])
        x, y = Dual(a, b), Dual(c, d)
        mx, my = x.to_matrix(), y.to_matrix()
        for matrix, dual in [
            (mx + my, x + y),
            (mx @ my, x * y),
            (mx @ np.linalg.inv(my), x / y),
            (np.linalg.inv(my), 1.0 / y),
        ]:
            np.testing.assert_allclose(matrix, dual.to_matrix(), rtol=1e-13, atol=1e-15)
            back = Dual.from_matrix(
                np.triu(matrix) + np.diag([0.0, matrix[0, 0] - matrix[1, 1]])
            )
            np.testing.assert_allclose([back.primal, back.tangent], [dual.primal, dual.tangent],
                                       rtol=1e-13, atol=1e-15)  # fmt: skip


def test_jordan_block() -> None:
    np.testing.assert_array_equal(jordan_block(2.0, 1), [[2.0]])
    j = jordan_block(-0.5, 4)
    np.testing.assert_array_equal(j, -0.5 * np.eye(4) + np.eye(4, k=1))
    n = j - (-0.5) * np.eye(4)
    assert np.any(np.linalg.matrix_power(n, 3)) and not np.any(
        np.linalg.matrix_power(n, 4)
    )
    with pytest.raises(ValueError, match="at least 1"):
        jordan_block(1.0, 0)


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.7, 2.5])
def test_polynomial_of_a_jordan_block_gives_its_derivatives(x: float) -> None:
    # p(x) = 3 x**4 - 2 x**3 + 0.5 x - 5, by Horner with matrices.
    n = 6
    j, eye = jordan_block(x, n), np.eye(n)
    pm = np.zeros((n, n))
    for coeff in (3.0, -2.0, 0.0, 0.5, -5.0):
        pm = pm @ j + coeff * eye
    expected = [
        3 * x**4 - 2 * x**3 + 0.5 * x - 5,
        12 * x**3 - 6 * x**2 + 0.5,
        36 * x**2 - 12 * x,
        72 * x - 12,
        72.0,
        0.0,
    ]
    np.testing.assert_allclose(
        derivatives_from_matrix(pm), expected, rtol=1e-13, atol=1e-12
    )


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.7, 2.5])
def test_rational_function_of_a_jordan_block_gives_its_derivatives(x: float) -> None:
    # r(x) = (x**2 + 1) / (x - 3) = x + 3 + 10 / (x - 3)
    n = 5
    j, eye = jordan_block(x, n), np.eye(n)
    rm = (j @ j + eye) @ np.linalg.inv(j - 3 * eye)
    u = x - 3
    expected = [x + 3 + 10 / u, 1 - 10 / u**2, 20 / u**3, -60 / u**4, 240 / u**5]
    np.testing.assert_allclose(derivatives_from_matrix(rm), expected, rtol=1e-12)


@pytest.mark.parametrize("x", [-0.8, 0.0, 1.1])
def test_matrix_exponential_of_a_jordan_block(x: float) -> None:
    n = 5
    np.testing.assert_allclose(
        derivatives_from_matrix(scipy.linalg.expm(jordan_block(x, n))), [np.exp(x)] * n,
        rtol=1e-13,
    )  # fmt: skip
    # exp(i J) = cos(J) + i sin(J) for the real matrix J.
    e = scipy.linalg.expm(1j * jordan_block(x, n))
    s, c = np.sin(x), np.cos(x)
    np.testing.assert_allclose(
        derivatives_from_matrix(e.imag), [s, c, -s, -c, s], atol=1e-14
    )
    np.testing.assert_allclose(
        derivatives_from_matrix(e.real), [c, -s, -c, s, c], atol=1e-14
    )
    # ... and agree with forward mode's nested derivatives.
    for k in range(n):
        assert ad.derivative(anp.sin, x, order=k) == pytest.approx(
            derivatives_from_matrix(e.imag)[k], abs=1e-14
        )


# -- tagged perturbations: nesting without confusion ---------------------------------------
def test_perturbation_confusion_classic() -> None:
    # d/dx [x * d/dy (x + y)] = d/dx [x] = 1; confusing the tags would give 2.
    assert ad.derivative(lambda x: x * ad.derivative(lambda y: x + y, 1.0), 1.0) == 1.0


@pytest.mark.parametrize("x", [-1.5, 0.5, 2.0])
def test_nested_derivatives_with_closures_over_the_outer_variable(x: float) -> None:
    d = ad.derivative
    # d/dx [x * d/dy (x y)] = d/dx x**2 = 2x
    assert d(lambda x: x * d(lambda y: x * y, 3.0), x) == pytest.approx(
        2 * x, rel=1e-15
    )
    # d/dx [d/dy (x y)**2 at y = 1] = d/dx 2 x**2 = 4x
    assert d(lambda x: d(lambda y: (x * y) ** 2, 1.0), x) == pytest.approx(
        4 * x, rel=1e-15
    )
    # d/dx [d/dy sin(x y) at y = 2] = d/dx [x cos 2x] = cos 2x - 2x sin 2x
    got = d(lambda x: d(lambda y: anp.sin(x * y), 2.0), x)
    assert got == pytest.approx(np.cos(2 * x) - 2 * x * np.sin(2 * x), rel=1e-14)
    # Three levels: d/dx [x d/dy [y d/dz (x y z)]] = d/dx [x d/dy (x y**2)] = d/dx [2 x**2 y]
    # at y = 1.5: 6x
    got = d(lambda x: x * d(lambda y: y * d(lambda z: x * y * z, 0.7), 1.5), x)
    assert got == pytest.approx(6 * x, rel=1e-14)


def test_derivative_operator_as_a_higher_order_function() -> None:
    def deriv(f: Callable) -> Callable:
        return lambda x: ad.derivative(f, x)

    # The shift s(u)(f)(x) = f(x + u), differentiated in u inside and outside.
    def shift(u: Any) -> Callable:
        return lambda f: lambda x: f(x + u)

    # d/du [ (d/dx shift(u)(sin)(x)) at x = 0 ] = d/du cos(u) = -sin(u)
    got = ad.derivative(lambda u: deriv(shift(u)(anp.sin))(0.0), 0.4)
    assert got == pytest.approx(-np.sin(0.4), rel=1e-15)
    # A derivative closing over an outer dual: d/dx [ d/dy (x * y * y) at y = x ] = d/dx 2x² = 4x
    got = ad.derivative(lambda x: deriv(lambda y: x * y * y)(x), 1.25)
    assert got == pytest.approx(5.0, rel=1e-15)


def test_forward_over_reverse_and_reverse_over_forward_nest() -> None:
    # d/dx [x * d/dy (x y)] = 2x in every combination of modes.
    f_in = [
        lambda x: x * ad.derivative(lambda y: x * y, 2.0),
        lambda x: x * ad.grad(lambda y: x * y)(2.0),
    ]
    for inner in f_in:
        assert ad.derivative(inner, 3.0) == 6.0
        assert ad.grad(inner)(3.0) == 6.0


def test_user_duals_inside_a_transform_keep_their_own_perturbation() -> None:
    # f(x) = x * (2 + ε): its derivative in x is 2 + ε, a user dual, untouched by x's tag.
    d = ad.derivative(lambda x: x * Dual(2.0, 1.0), 3.0)
    _assert_dual(d, 2.0, 1.0)
    assert d.tag is Dual(0.0, 0.0).tag


# -- higher order ------------------------------------------------------------------------------
_X = sp.Symbol("x")
COMPOSITES = [
    ("x*exp(-x)", lambda x: x * anp.exp(-x), _X * sp.exp(-_X)),
    ("1/(1+x**2)", lambda x: 1.0 / (1.0 + x * x), 1 / (1 + _X**2)),
    ("sin(x)*log(x)", lambda x: anp.sin(x) * anp.log(x), sp.sin(_X) * sp.log(_X)),
    (
        "sqrt(1+tanh(x)**2)",
        lambda x: anp.sqrt(1.0 + anp.tanh(x) ** 2),
        sp.sqrt(1 + sp.tanh(_X) ** 2),
    ),
]


@pytest.mark.parametrize("order", [0, 1, 2, 3, 4])
def test_x_exp_minus_x_closed_form(order: int) -> None:
    # d^k/dx^k [x e^{-x}] = (-1)^k (x - k) e^{-x}
    x = 0.8
    expected = (-1) ** order * (x - order) * np.exp(-x)
    got = ad.derivative(lambda x: x * anp.exp(-x), x, order=order)
    assert got == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    ("f", "expr"), [c[1:] for c in COMPOSITES], ids=[c[0] for c in COMPOSITES]
)
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_higher_order_derivatives_of_composites(
    f: Callable, expr: Any, order: int
) -> None:
    xs = np.array([0.4, 1.1, 2.3])
    expected = sp.lambdify(_X, sp.diff(expr, _X, order), "numpy")(xs)
    np.testing.assert_allclose(ad.derivative(f, xs, order=order), expected, rtol=1e-12)
    for x, e in zip(xs, expected, strict=True):
        assert ad.derivative(f, float(x), order=order) == pytest.approx(e, rel=1e-12)


# -- jvp ---------------------------------------------------------------------------------------
def test_jvp_with_several_primals_and_tuple_outputs() -> None:
    def f(x: Any, y: Any) -> Any:
        return x * y, anp.sin(x) + y

    out, tan = ad.jvp(f, (2.0, 3.0), (1.0, 0.5))
    assert isinstance(out, tuple) and isinstance(tan, tuple)
    assert out == pytest.approx((6.0, np.sin(2.0) + 3.0), rel=1e-15)
    assert tan == pytest.approx((3.0 * 1.0 + 2.0 * 0.5, np.cos(2.0) + 0.5), rel=1e-15)
    # Lists are accepted for primals and tangents, and list outputs stay lists.
    out, tan = ad.jvp(lambda x, y: [x, (x * y,)], [2.0, 3.0], [1.0, 0.0])
    assert out == [2.0, (6.0,)] and tan == [1.0, (3.0,)]


def test_jvp_of_an_array_function_is_the_jacobian_times_the_tangent() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(3, 4))

    def f(x: Any) -> Any:
        return anp.tanh(anp.matmul(a, x)) * anp.sum(x * x)

    x, v = rng.normal(size=4), rng.normal(size=4)
    out, tan = ad.jvp(f, (x,), (v,))
    np.testing.assert_allclose(out, np.tanh(a @ x) * (x @ x), rtol=1e-14)
    np.testing.assert_allclose(tan, complex_step_jacobian(f, x) @ v, rtol=1e-12)
    # Linear in the tangent.
    np.testing.assert_allclose(ad.jvp(f, (x,), (-2.5 * v,))[1], -2.5 * tan, rtol=1e-13)


def test_jvp_of_a_constant_function_has_zero_tangent() -> None:
    out, tan = ad.jvp(lambda x: np.ones(3), (1.0,), (1.0,))
    np.testing.assert_array_equal(out, np.ones(3))
    np.testing.assert_array_equal(tan, np.zeros(3))


def test_jvp_integer_primals_are_differentiated_as_floats() -> None:
    assert ad.jvp(lambda x: x**2, (3,), (1,)) == (9.0, 6.0)


# -- jacfwd ----------------------------------------------------------------------------------
JAC_CASES = [
    ("scalar->scalar", lambda x: anp.sin(x) * x, 0.7),
    ("scalar->vector", lambda x: anp.stack([x, x**2, anp.exp(x)]), 0.3),
    ("vector->scalar", lambda x: anp.sum(anp.sin(x) * x), np.array([0.1, 0.5, -1.0])),
    (
        "vector->vector",
        lambda x: anp.cos(x[::-1]) * x[0],
        np.array([0.2, 1.5, -0.4, 2.0]),
    ),
    (
        "vector->matrix",
        lambda x: anp.reshape(x, (2, 2)) ** 2,
        np.array([1.0, 2.0, 3.0, 4.0]),
    ),
    (
        "matrix->matrix",
        lambda x: anp.matmul(x, x.T),
        np.array([[1.0, 2.0, 0.5], [-1.0, 0.3, 2]]),
    ),
    ("matrix->scalar", lambda x: anp.sum(anp.exp(x)), np.arange(6.0).reshape(2, 3) / 6),
    ("matrix->vector", lambda x: anp.sum(x * x, axis=1), np.arange(6.0).reshape(3, 2)),
]


@pytest.mark.parametrize(
    ("f", "x"), [c[1:] for c in JAC_CASES], ids=[c[0] for c in JAC_CASES]
)
def test_jacfwd_shape_and_values(f: Callable, x: Any) -> None:
    jac = ad.jacfwd(f)(x)
    out = f(x)
    assert np.shape(jac) == np.shape(out) + np.shape(x)
    np.testing.assert_allclose(jac, complex_step_jacobian(f, x), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(jac, ad.jacrev(f)(x), rtol=1e-13, atol=1e-15)


def test_jacfwd_with_tuple_argnums() -> None:
    def f(x: Any, s: Any, y: Any) -> Any:
        return anp.matmul(x, y) * s

    x, s, y = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), 2.0, np.array([0.5, -1.0])
    jx, jy = ad.jacfwd(f, argnums=(0, 2))(x, s, y)
    assert jx.shape == (3, 3, 2) and jy.shape == (3, 2)
    np.testing.assert_allclose(jy, s * x, rtol=1e-15)
    # d (x @ y)_i / d x_ab = δ_ia y_b
    np.testing.assert_allclose(jx, s * np.einsum("ia,b->iab", np.eye(3), y), rtol=1e-15)
    (js,) = ad.jacfwd(f, argnums=(1,))(x, s, y)
    np.testing.assert_allclose(js, x @ y, rtol=1e-15)
    # Negative argnums count from the end.
    np.testing.assert_allclose(ad.jacfwd(f, argnums=-1)(x, s, y), jy, rtol=1e-15)


def test_jacfwd_of_a_tuple_output() -> None:
    jac = ad.jacfwd(lambda x: (x * 2.0, anp.sum(x)))(np.array([1.0, 2.0]))
    assert isinstance(jac, tuple)
    np.testing.assert_array_equal(jac[0], 2 * np.eye(2))
    np.testing.assert_array_equal(jac[1], [1.0, 1.0])


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("primal", "tangent", "which"),
    [("1.0", 1.0, "primal"), (1.0, "x", "tangent"), ([1.0, 2.0], [1.0, 1.0], "primal"),
     (1.0, None, "tangent"), (np.array(["a"]), np.array([1.0]), "primal")],
)  # fmt: skip
def test_dual_rejects_non_numeric_parts(primal: Any, tangent: Any, which: str) -> None:
    with pytest.raises(
        TypeError, match=f"the {which} of a Dual must be a number.*numpy.asarray"
    ):
        Dual(primal, tangent)


@pytest.mark.parametrize(
    ("primal", "tangent"),
    [(True, 1.0), (1.0, False), (np.array([1.0]), np.array([True]))],
)
def test_dual_rejects_booleans(primal: Any, tangent: Any) -> None:
    with pytest.raises(TypeError, match=r"boolean.*float"):
        Dual(primal, tangent)


def test_dual_rejects_a_tangent_of_another_shape() -> None:
    with pytest.raises(ValueError, match=r"tangent shape \(\) differs .*ones_like"):
        Dual(np.ones(3), 1.0)
    with pytest.raises(
        ValueError, match=r"tangent shape \(2,\) differs from primal shape \(3,\)"
    ):
        Dual(np.ones(3), np.ones(2))


def test_jvp_rejects_bad_primals_and_tangents() -> None:
    with pytest.raises(
        TypeError, match=r"primals must be a tuple, e\.g\. jvp\(f, \(x,\), \(v,\)\)"
    ):
        ad.jvp(anp.sin, 1.0, (1.0,))
    with pytest.raises(TypeError, match="tangents must be a tuple"):
        ad.jvp(anp.sin, (1.0,), np.ones(1))
    with pytest.raises(
        ValueError, match="2 primals but 1 tangents; give one tangent each"
    ):
        ad.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))
    with pytest.raises(
        ValueError, match=r"tangent 0 has shape \(2,\) .* must have their primal"
    ):
        ad.jvp(anp.sin, (np.ones(3),), (np.ones(2),))


def test_converting_a_dual_to_a_python_number_is_refused() -> None:
    x = Dual(0.5, 1.0)
    with pytest.raises(
        TypeError, match=r"drop its derivative.*autodiff_ref\.numpy\.sin, not math\.sin"
    ):
        float(x)
    with pytest.raises(TypeError, match=r"drop its derivative.*autodiff_ref"):
        math.sin(x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"drop its derivative.*autodiff_ref"):
        int(x)


@pytest.mark.parametrize("order", [-1, 1.5, True, "2"])
def test_derivative_rejects_bad_orders(order: Any) -> None:
    with pytest.raises(ValueError, match="order must be a non-negative int"):
        ad.derivative(anp.sin, 1.0, order=order)


@pytest.mark.parametrize("x", [True, np.bool_(False), np.array([True, False])])
def test_transforms_reject_boolean_inputs(x: Any) -> None:
    with pytest.raises(TypeError, match=r"boolean.*(pass a float|astype\(float\))"):
        ad.derivative(anp.sin, x)
    with pytest.raises(TypeError, match="boolean"):
        ad.jvp(anp.sin, (x,), (x,))
    with pytest.raises(TypeError, match="boolean"):
        ad.jacfwd(anp.sin)(x)


@pytest.mark.parametrize("x", ["1.0", None, [1.0, "a"]])
def test_transforms_reject_strings_and_other_non_numbers(x: Any) -> None:
    with pytest.raises(TypeError, match="needs numbers or numeric arrays"):
        ad.derivative(anp.sin, x)
    if (
        x is None
    ):  # in jvp, None is an empty pytree, which 1.0 does not match (as in JAX)
        with pytest.raises(
            ValueError, match=r"structure PyTreeDef\(None\).*PyTreeDef\(\*\)"
        ):
            ad.jvp(anp.sin, (x,), (1.0,))
        return
    with pytest.raises(TypeError, match="needs numbers or numeric arrays"):
        ad.jvp(anp.sin, (x,), (1.0,))
