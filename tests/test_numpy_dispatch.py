"""NumPy functions called on traced values: routed to autodiff_ref's rules, or refused.

Derivatives are checked against closed forms and complex-step differences, on
dual numbers (forward mode) and on reverse-mode nodes (inside ``grad``/``jacrev``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import Dual

X = np.array([0.3, 1.1, 2.4])  # inside every function's domain
T = np.array([1.0, -0.5, 2.0])


def complex_step_jacobian(f: Callable, x: np.ndarray, h: float = 1e-20) -> np.ndarray:
    out_shape = np.shape(f(x))
    jac = np.zeros(out_shape + x.shape)
    for idx in np.ndindex(*x.shape):
        xc = x.astype(complex)
        xc[idx] += 1j * h
        with ad.numerical.complex_step_stand_ins():  # abs(z) would be |z|
            jac[(Ellipsis, *idx)] = np.imag(f(xc)) / h
    return jac


# NumPy ufunc -> (value, derivative), written out independently of the rules table.
UNARY = {
    "sin": (np.sin, np.sin, np.cos),
    "cos": (np.cos, np.cos, lambda x: -np.sin(x)),
    "tan": (np.tan, np.tan, lambda x: 1 / np.cos(x) ** 2),
    "exp": (np.exp, np.exp, np.exp),
    "log": (np.log, np.log, lambda x: 1 / x),
    "sqrt": (np.sqrt, np.sqrt, lambda x: 0.5 / np.sqrt(x)),
    "tanh": (np.tanh, np.tanh, lambda x: 1 / np.cosh(x) ** 2),
    "square": (np.square, lambda x: x * x, lambda x: 2 * x),
    "reciprocal": (np.reciprocal, lambda x: 1 / x, lambda x: -1 / x**2),
    "negative": (np.negative, lambda x: -x, lambda x: -np.ones_like(x)),
    "positive": (np.positive, lambda x: x, np.ones_like),
    "absolute": (np.absolute, lambda x: x, np.ones_like),  # X > 0
    "sign": (np.sign, lambda x: np.ones_like(x), np.zeros_like),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_ufunc_on_duals(name: str) -> None:
    ufunc, value, deriv = UNARY[name]
    y = ufunc(Dual(X, T))
    if name != "sign":  # sign's output does not depend on x: a plain array is fine
        assert isinstance(y, Dual)
    np.testing.assert_allclose(ad.primal_value(y), value(X), rtol=1e-15)
    tangent = y.tangent if isinstance(y, Dual) else np.zeros_like(X)
    np.testing.assert_allclose(tangent, deriv(X) * T, rtol=1e-14)


@pytest.mark.parametrize("name", UNARY)
def test_unary_ufunc_in_reverse_mode(name: str) -> None:
    ufunc, _, deriv = UNARY[name]
    g = ad.grad(lambda x: np.sum(ufunc(x) * T))(X)
    np.testing.assert_allclose(g, deriv(X) * T, rtol=1e-14)
    np.testing.assert_allclose(ad.jacrev(ufunc)(X), np.diag(deriv(X)), rtol=1e-14)


# NumPy ufunc -> (d/dx, d/dy) at (x, y).
BINARY: dict[str, tuple[Any, Callable, Callable]] = {
    "add": (np.add, lambda x, y: 1 + 0 * x, lambda x, y: 1 + 0 * y),
    "subtract": (np.subtract, lambda x, y: 1 + 0 * x, lambda x, y: -1 + 0 * y),
    "multiply": (np.multiply, lambda x, y: y, lambda x, y: x),
    "true_divide": (np.true_divide, lambda x, y: 1 / y, lambda x, y: -x / y**2),
    "power": (np.power, lambda x, y: y * x ** (y - 1), lambda x, y: np.log(x) * x**y),
    "maximum": (np.maximum, lambda x, y: (x > y) * 1.0, lambda x, y: (y > x) * 1.0),
    "minimum": (np.minimum, lambda x, y: (x < y) * 1.0, lambda x, y: (y < x) * 1.0),
}
Y = np.array([1.7, 0.4, 2.9])


@pytest.mark.parametrize("name", BINARY)
def test_binary_ufunc_on_duals_and_in_reverse_mode(name: str) -> None:
    ufunc, dx, dy = BINARY[name]
    for x_dual in (True, False):
        a = Dual(X, T) if x_dual else X
        b = Y if x_dual else Dual(Y, T)
        out = ufunc(a, b)
        assert isinstance(out, Dual)
        np.testing.assert_allclose(out.primal, ufunc(X, Y), rtol=1e-15)
        np.testing.assert_allclose(
            out.tangent, (dx if x_dual else dy)(X, Y) * T, rtol=1e-14
        )
    gx, gy = ad.grad(lambda x, y: np.sum(ufunc(x, y)), argnums=(0, 1))(X, Y)
    np.testing.assert_allclose(gx, dx(X, Y), rtol=1e-14)
    np.testing.assert_allclose(gy, dy(X, Y), rtol=1e-14)


def test_maximum_tie_through_numpy_splits_the_derivative() -> None:
    assert np.maximum(Dual(1.0, 1.0), 1.0).tangent == 0.5
    assert ad.grad(lambda x: np.minimum(x, 2.0))(2.0) == 0.5


def test_ndarray_operators_with_a_dual_return_a_dual() -> None:
    d = Dual(X, T)
    for out, tangent in [
        (Y + d, T),
        (Y - d, -T),
        (Y * d, Y * T),
        (Y / d, -Y / X**2 * T),
        (Y**d, np.log(Y) * Y**X * T),
    ]:
        assert isinstance(out, Dual)
        np.testing.assert_allclose(out.tangent, tangent, rtol=1e-14)
    m = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    out = m @ d
    assert isinstance(out, Dual)
    np.testing.assert_allclose(out.primal, m @ X, rtol=1e-15)
    np.testing.assert_allclose(out.tangent, m @ T, rtol=1e-15)


def test_ndarray_operators_with_a_node_inside_grad() -> None:
    g = ad.grad(lambda x: np.sum(Y * x + Y / x))(X)
    np.testing.assert_allclose(g, Y - Y / X**2, rtol=1e-14)


# -- array functions ---------------------------------------------------------------------------
def test_sum_and_mean() -> None:
    m = np.arange(1.0, 7.0).reshape(2, 3)
    tm = np.array([[1.0, 0.0, 2.0], [-1.0, 3.0, 0.5]])
    d = Dual(m, tm)
    for np_fn in (np.sum, np.mean):
        for kwargs in ({}, {"axis": 0}, {"axis": 1}, {"axis": -1, "keepdims": True}):
            out = np_fn(d, **kwargs)
            assert isinstance(out, Dual)
            np.testing.assert_allclose(out.primal, np_fn(m, **kwargs), rtol=1e-15)
            np.testing.assert_allclose(out.tangent, np_fn(tm, **kwargs), rtol=1e-15)
    # Reverse mode: d/dx mean(x**2) = 2x / n; d/dx sum(x, axis=0)[j] picks column j.
    np.testing.assert_allclose(
        ad.grad(lambda x: np.mean(x**2))(m), 2 * m / 6, rtol=1e-15
    )
    expected = np.zeros((3, 2, 3))
    for j in range(3):
        expected[j, :, j] = 1.0
    np.testing.assert_array_equal(ad.jacrev(lambda x: np.sum(x, axis=0))(m), expected)
    np.testing.assert_array_equal(
        ad.jacrev(lambda x: np.mean(x, axis=0))(m), expected / 2
    )


def test_dot() -> None:
    a = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0]])
    d = Dual(X, T)
    vv = np.dot(d, d)
    np.testing.assert_allclose([vv.primal, vv.tangent], [X @ X, 2 * X @ T], rtol=1e-15)
    mv = np.dot(a, d)
    np.testing.assert_allclose(mv.tangent, a @ T, rtol=1e-15)
    sv = np.dot(2.0, d)
    np.testing.assert_allclose(sv.tangent, 2 * T, rtol=1e-15)
    np.testing.assert_allclose(ad.grad(lambda x: np.dot(x, x))(X), 2 * X, rtol=1e-15)
    np.testing.assert_allclose(ad.jacrev(lambda x: np.dot(a, x))(X), a, rtol=1e-15)
    # d/dx_ij sum_k (x a)_ik = sum_k a_jk, for every i
    g = ad.grad(lambda x: np.sum(np.dot(x, a)))(a.T)
    np.testing.assert_allclose(g, np.tile(a.sum(axis=1), (3, 1)), rtol=1e-15)


def test_stack_and_concatenate() -> None:
    a, b = Dual(2.0, 1.0), Dual(3.0, -1.0)
    s = np.stack([a, b, a * b])
    assert isinstance(s, Dual)
    np.testing.assert_array_equal(s.primal, [2.0, 3.0, 6.0])
    np.testing.assert_array_equal(s.tangent, [1.0, -1.0, 3.0 * 1.0 + 2.0 * -1.0])
    jac = ad.jacrev(lambda x: np.stack([x[0] * x[1], np.sin(x[1])], axis=-1))(X[:2])
    np.testing.assert_allclose(jac, [[X[1], X[0]], [0.0, np.cos(X[1])]], rtol=1e-15)
    c = np.concatenate([Dual(X, T), np.zeros(2)])
    np.testing.assert_array_equal(c.tangent, [*T, 0.0, 0.0])
    jac = ad.jacfwd(lambda x: np.concatenate([x, x**2]))(X)
    np.testing.assert_allclose(jac, np.vstack([np.eye(3), np.diag(2 * X)]), rtol=1e-15)


def test_where() -> None:
    mask = np.array([True, False, True])
    out = np.where(mask, Dual(X, T), 0.0)
    np.testing.assert_array_equal(out.primal, np.where(mask, X, 0.0))
    np.testing.assert_array_equal(out.tangent, np.where(mask, T, 0.0))
    # A mask computed from the traced value (comparisons look at primals).
    g = ad.grad(lambda x: np.sum(np.where(x > 1.0, x**2, -x)))(X)
    np.testing.assert_allclose(g, np.where(X > 1.0, 2 * X, -1.0), rtol=1e-15)


def test_reshape_transpose_and_shape_queries() -> None:
    m = np.arange(6.0).reshape(2, 3)
    d = Dual(m, np.ones((2, 3)))
    assert isinstance(np.reshape(d, (3, 2)), Dual)
    assert np.reshape(d, (3, 2)).shape == (3, 2)
    np.testing.assert_array_equal(np.transpose(d).primal, m.T)
    assert np.shape(d) == (2, 3) and np.ndim(d) == 2 and np.size(d) == 6
    jac = ad.jacrev(lambda x: np.transpose(x))(m)
    np.testing.assert_array_equal(jac, np.einsum("il,jk->ijkl", np.eye(3), np.eye(2)))


def test_comparison_ufuncs_act_on_primals() -> None:
    d = Dual(X, T)
    np.testing.assert_array_equal(np.less(d, 1.0), X < 1.0)
    np.testing.assert_array_equal(np.greater_equal(d, Dual(Y, T)), X >= Y)


def test_composite_numpy_code_matches_complex_step() -> None:
    def f(x: Any) -> Any:
        return np.stack(
            [np.sum(np.exp(x) * np.sin(x)), np.mean(np.tanh(x) / x), np.dot(x, x)]
        )

    expected = complex_step_jacobian(f, X)
    np.testing.assert_allclose(ad.jacfwd(f)(X), expected, rtol=1e-13)
    np.testing.assert_allclose(ad.jacrev(f)(X), expected, rtol=1e-13)


# -- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda x: np.cbrt(x),
            r"numpy\.cbrt has no derivative rule.*autodiff_ref's functions",
        ),
        (lambda x: np.cumprod(x), r"numpy\.cumprod has no derivative rule.*RULES"),
        (
            lambda x: np.sin(x, out=np.zeros(3)),
            r"numpy\.sin cannot take out=.*drop the keyword",
        ),
        (lambda x: np.add(x, 1.0, where=X > 1), r"numpy\.add cannot take where="),
        (lambda x: np.add.reduce(x), r"numpy\.add\.reduce has no derivative rule"),
        (lambda x: np.array([x[0], x[1]]), r"autodiff_ref\.numpy\.stack"),
        (
            lambda x: np.asarray(x),
            r"dropping its derivative.*autodiff_ref\.numpy\.stack",
        ),
    ],
    ids=[
        "cbrt",
        "cumprod",
        "sin-out",
        "add-where",
        "add.reduce",
        "np.array",
        "np.asarray",
    ],
)
def test_numpy_functions_without_a_rule_are_refused(call: Callable, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        call(Dual(X, T))
    with pytest.raises(TypeError, match=match):
        ad.grad(lambda x: call(x)[0])(X)


def test_np_array_of_scalar_duals_points_to_stack() -> None:
    d = Dual(1.0, 1.0)
    with pytest.raises(
        TypeError,
        match=r"build arrays of traced values with autodiff_ref\.numpy\.stack",
    ):
        np.array([d, d])
    # ... and the suggested replacement works.
    out = anp.stack([d, 2.0 * d])
    np.testing.assert_array_equal(out.primal, [1.0, 2.0])
    np.testing.assert_array_equal(out.tangent, [1.0, 2.0])


@pytest.mark.parametrize(
    ("call", "instead"),
    [
        (lambda a: np.linalg.eig(a).eigenvalues.real.sum(), "eigh"),
        (lambda a: np.linalg.eigvals(a).real.sum(), "eigvalsh"),
    ],
    ids=["eig", "eigvals"],
)
def test_eig_is_refused_with_the_symmetric_alternative(
    call: Callable, instead: str
) -> None:
    symmetric = np.array([[2.0, 0.5], [0.5, 1.0]])
    with pytest.raises(
        TypeError, match=rf"autodiff_ref\.numpy\.linalg\.{instead}; else"
    ):
        ad.grad(call)(symmetric)
    # ... and the suggestion works: the sum of the eigenvalues is the trace, whose
    # gradient is the identity (closed form; eigh's rounding: a few ulps).
    alternative = getattr(anp.linalg, instead)

    def trace_by_eigenvalues(a: Any) -> Any:
        values = alternative(a)
        return anp.sum(values[0] if instead == "eigh" else values)

    np.testing.assert_allclose(
        ad.grad(trace_by_eigenvalues)(symmetric), np.eye(2), atol=1e-14
    )
