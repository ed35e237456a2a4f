"""The composable transforms: grad, value_and_grad, jacfwd, jacrev, hessian, hvp and nesting.

Every value is checked against a reference that does not go through the transform under
test: closed forms (written out, derived with SymPy when in doubt), complex-step Jacobians of
the same function run on plain complex NumPy arrays, central differences of the gradient,
or the other mode.  The last part checks that bad input is refused with a message that says
what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import transforms

Fn = Callable[..., Any]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def cs_jacobian(f: Fn, x: Any) -> np.ndarray:
    """The Jacobian of ``f`` at ``x`` by the complex step, shaped ``out.shape + x.shape``."""
    h = 1e-30
    x = np.asarray(x, dtype=float)
    with ad.numerical.complex_step_stand_ins():  # abs(z) would be |z|
        columns = [
            np.imag(f(x + 1j * h * e.reshape(x.shape))) / h for e in np.eye(x.size)
        ]
    return np.stack(columns, axis=-1).reshape(np.shape(columns[0]) + x.shape)


# -- f(x) = sin(x) x², with closed-form derivatives (checked with SymPy) --------------------------
def f(x: Any) -> Any:
    return anp.sin(x) * x**2


def f1(x: float) -> float:
    return x**2 * np.cos(x) + 2 * x * np.sin(x)


def f2(x: float) -> float:
    return -(x**2) * np.sin(x) + 4 * x * np.cos(x) + 2 * np.sin(x)


def f3(x: float) -> float:
    return -(x**2) * np.cos(x) - 6 * x * np.sin(x) + 6 * np.cos(x)


POINTS = [-2.1, -0.4, 0.0, 0.7, 3.0]


# -- grad and value_and_grad ----------------------------------------------------------------------
@pytest.mark.parametrize("x", POINTS)
def test_grad_of_a_scalar_function(x: float) -> None:
    assert ad.grad(f)(x) == pytest.approx(f1(x), rel=1e-14, abs=1e-15)


def g3(x: Any, y: Any, z: Any) -> Any:
    return x * y**2 * anp.sin(z)


X, Y, Z = 1.5, -2.0, 0.4
DG3 = (Y**2 * np.sin(Z), 2 * X * Y * np.sin(Z), X * Y**2 * np.cos(Z))


@pytest.mark.parametrize("argnums", [0, 1, 2, -1, -3])
def test_grad_with_int_argnums(argnums: int) -> None:
    assert ad.grad(g3, argnums)(X, Y, Z) == pytest.approx(DG3[argnums], rel=1e-15)


@pytest.mark.parametrize("argnums", [(0,), (0, 1), (2, 0), (0, 1, 2), (-1, 1), [1, 2]])
def test_grad_with_tuple_argnums(argnums: tuple[int, ...]) -> None:
    got = ad.grad(g3, argnums)(X, Y, Z)
    assert isinstance(got, tuple) and len(got) == len(argnums)
    for i, gi in zip(argnums, got, strict=True):
        assert gi == pytest.approx(DG3[i], rel=1e-15)


def test_grad_leaves_the_other_arguments_alone() -> None:
    # Non-differentiated arguments may be anything: a string, a flag, an int.
    def h(x: Any, mode: str, flag: bool, k: int) -> Any:
        return anp.sum(x**k) if mode == "power" and flag else anp.sum(x)

    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(ad.grad(h)(x, "power", True, 3), 3 * x**2)
    np.testing.assert_array_equal(ad.grad(h)(x, "other", True, 3), [1.0, 1.0])


def test_grad_of_arrays_against_closed_form() -> None:
    a = rng().normal(size=(3, 4))
    got = ad.grad(lambda m: anp.sum(anp.tanh(m) * m))(a)
    np.testing.assert_allclose(got, np.tanh(a) + a * (1 - np.tanh(a) ** 2), rtol=1e-14)


def test_value_and_grad() -> None:
    value, slope = ad.value_and_grad(f)(0.7)
    assert value == pytest.approx(np.sin(0.7) * 0.49, rel=1e-15)
    assert slope == pytest.approx(f1(0.7), rel=1e-14)
    value, grads = ad.value_and_grad(g3, argnums=(0, 2))(X, Y, Z)
    assert value == pytest.approx(X * Y**2 * np.sin(Z), rel=1e-15)
    assert grads == pytest.approx((DG3[0], DG3[2]), rel=1e-15)
    assert ad.value_and_grad(g3)(X, Y, Z) == (value, ad.grad(g3)(X, Y, Z))


# -- Jacobians ------------------------------------------------------------------------------------
SHAPES = [(), (1,), (3,), (2, 3)]


@pytest.mark.parametrize("in_shape", SHAPES, ids=str)
@pytest.mark.parametrize("out_shape", SHAPES, ids=str)
@pytest.mark.parametrize("jac", [ad.jacrev, ad.jacfwd], ids=["jacrev", "jacfwd"])
def test_jacobian_shape_is_out_shape_plus_in_shape(
    jac: Fn, in_shape: tuple[int, ...], out_shape: tuple[int, ...]
) -> None:
    n, m = int(np.prod(in_shape)), int(np.prod(out_shape))
    w = rng(1).normal(size=(m, n))

    def h(x: Any) -> Any:
        return anp.reshape(w @ anp.reshape(anp.sin(x) * x, (n,)), out_shape)

    x = rng(2).normal(size=in_shape)[()]
    got = jac(h)(x)
    assert np.shape(got) == out_shape + in_shape
    # d (W vec(x sin x)) = W diag(sin x + x cos x)
    local = (np.sin(x) + x * np.cos(x)).reshape(n)
    np.testing.assert_allclose(
        got, (w * local).reshape(out_shape + in_shape), rtol=1e-13
    )


A4 = rng(3).normal(size=(4, 4))
FUNCTIONS: dict[str, tuple[Fn, Any]] = {
    "R3->R3": (
        lambda x: anp.stack([x[0] * x[1], anp.sin(x[2]), anp.exp(x[0]) * x[2]]),
        np.array([0.3, -1.2, 2.0]),
    ),
    "R4->R4 quadratic": (lambda x: (x @ A4 @ x) * x, rng(4).normal(size=4)),
    "softmax": (lambda x: anp.exp(x) / anp.sum(anp.exp(x)), rng(5).normal(size=5)),
    "R->R2": (lambda t: anp.stack([anp.cos(t), t**3]), 0.8),
    "R3->R": (lambda x: anp.sum(anp.log(1.0 + x * x)), np.array([0.5, -2.0, 1.0])),
    "matrix->matrix": (lambda m: m.T @ m, rng(6).normal(size=(3, 2))),
    "matrix->vector": (
        lambda m: anp.sum(anp.tanh(m), axis=0),
        rng(7).normal(size=(2, 3)),
    ),
    "matrix broadcast": (
        lambda m: m * anp.sum(m, axis=1, keepdims=True) + anp.mean(m),
        rng(8).normal(size=(2, 3)),
    ),
    "matrix->scalar det": (
        lambda m: m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0],
        rng(9).normal(size=(2, 2)),
    ),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_jacfwd_equals_jacrev_equals_complex_step(name: str) -> None:
    h, x = FUNCTIONS[name]
    forward, reverse = ad.jacfwd(h)(x), ad.jacrev(h)(x)
    reference = cs_jacobian(h, x)
    assert np.shape(forward) == np.shape(reverse) == reference.shape
    np.testing.assert_allclose(forward, reference, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(reverse, reference, rtol=1e-13, atol=1e-14)


def test_jacobian_of_the_determinant_is_the_cofactor_matrix() -> None:
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    h = FUNCTIONS["matrix->scalar det"][0]
    cofactor = np.linalg.det(m) * np.linalg.inv(m).T
    np.testing.assert_allclose(ad.jacrev(h)(m), cofactor, rtol=1e-14)
    np.testing.assert_allclose(ad.jacfwd(h)(m), cofactor, rtol=1e-14)


def test_jacobians_with_tuple_argnums() -> None:
    def h(a: Any, s: Any, b: Any) -> Any:
        return (a @ b) * s

    a, s, b = rng().normal(size=(2, 3)), 1.5, rng(1).normal(size=3)
    for jac in (ad.jacfwd, ad.jacrev):
        ja, jb = jac(h, argnums=(0, 2))(a, s, b)
        np.testing.assert_allclose(
            ja, s * np.einsum("ij,k->ijk", np.eye(2), b), rtol=1e-15
        )
        np.testing.assert_allclose(jb, s * a, rtol=1e-15)
        np.testing.assert_allclose(jac(h, argnums=1)(a, s, b), a @ b, rtol=1e-15)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
def test_jacfwd_equals_jacrev_at_random_points(values: list[float]) -> None:
    h, _ = FUNCTIONS["R3->R3"]
    x = np.array(values)
    np.testing.assert_allclose(ad.jacfwd(h)(x), ad.jacrev(h)(x), rtol=1e-14, atol=1e-15)


# -- Hessians -------------------------------------------------------------------------------------
def rosenbrock(x: Any) -> Any:
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    n = x.size
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i + 1, i + 1] += 200
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
    return h


HESSIANS: dict[str, Callable[[Fn], Fn]] = {
    "hessian": ad.hessian,
    "jacfwd(grad)": lambda g: ad.jacfwd(ad.grad(g)),
    "jacrev(grad)": lambda g: ad.jacrev(ad.grad(g)),
    "jacfwd(jacfwd)": lambda g: ad.jacfwd(ad.jacfwd(g)),
    "jacrev(jacrev)": lambda g: ad.jacrev(ad.jacrev(g)),
    "jacrev(jacfwd)": lambda g: ad.jacrev(ad.jacfwd(g)),
    "jacfwd(jacrev)": lambda g: ad.jacfwd(ad.jacrev(g)),
}


@pytest.mark.parametrize("how", list(HESSIANS))
@pytest.mark.parametrize("seed", [0, 1])
def test_hessian_of_rosenbrock(how: str, seed: int) -> None:
    x = rng(seed).uniform(-1.5, 1.5, size=5)
    got = HESSIANS[how](rosenbrock)(x)
    want = rosenbrock_hessian(x)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-11)
    np.testing.assert_allclose(got, np.asarray(got).T, rtol=1e-14, atol=1e-11)


def test_hessian_equals_central_differences_of_grad() -> None:
    x = np.array([1.2, 0.7, -0.3, 2.0])
    gradient = ad.grad(rosenbrock)
    h = 1e-5
    columns = [(gradient(x + h * e) - gradient(x - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(
        ad.hessian(rosenbrock)(x), np.array(columns).T, rtol=1e-7
    )
    np.testing.assert_allclose(
        ad.hessian(rosenbrock)(x)[0, 0], 1200 * 1.44 - 400 * 0.7 + 2
    )


def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose() -> None:
    a = rng(10).normal(size=(4, 4))  # not symmetric
    x = rng(11).normal(size=4)
    quad = lambda v: v @ (a @ v)  # noqa: E731
    for how, hess in HESSIANS.items():
        np.testing.assert_allclose(
            hess(quad)(x), a + a.T, rtol=1e-14, atol=1e-15, err_msg=how
        )
    np.testing.assert_allclose(ad.grad(quad)(x), (a + a.T) @ x, rtol=1e-14)


def test_hessian_with_matrix_input() -> None:
    m = rng(12).normal(size=(2, 3))
    got = ad.hessian(lambda v: anp.sum(v**3) + anp.sum(v) ** 2)(m)
    assert got.shape == (2, 3, 2, 3)
    want = np.diag(6 * m.ravel()).reshape(2, 3, 2, 3) + 2.0
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_hessian_with_tuple_argnums() -> None:
    got = ad.hessian(lambda a, b: a * a * b + anp.sin(b), argnums=(0, 1))(2.0, 3.0)
    # d²/da² = 2b, d²/da db = 2a, d²/db² = -sin b
    np.testing.assert_allclose(
        np.array(got, dtype=float), [[6.0, 4.0], [4.0, -np.sin(3.0)]]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hvp_equals_hessian_times_vector(seed: int) -> None:
    x, v = rng(seed).uniform(-1.5, 1.5, size=(2, 5))
    got = ad.hvp(rosenbrock, (x,), (v,))
    np.testing.assert_allclose(got, rosenbrock_hessian(x) @ v, rtol=1e-13, atol=1e-11)
    np.testing.assert_allclose(
        got, ad.hessian(rosenbrock)(x) @ v, rtol=1e-13, atol=1e-11
    )


def test_hvp_with_several_primals() -> None:
    got = ad.hvp(lambda a, b: a * a * b, (2.0, 3.0), (1.0, -1.0))
    assert got == pytest.approx((6.0 - 4.0, 4.0 - 0.0), rel=1e-15)


# -- nesting: every pairing of modes gives f'' ----------------------------------------------------
SECOND_DERIVATIVES: dict[str, Callable[[Fn, float], Any]] = {
    "grad(grad)": lambda g, x: ad.grad(ad.grad(g))(x),
    "jacfwd(grad)": lambda g, x: ad.jacfwd(ad.grad(g))(x),
    "jacrev(grad)": lambda g, x: ad.jacrev(ad.grad(g))(x),
    "grad(jacfwd)": lambda g, x: ad.grad(ad.jacfwd(g))(x),
    "grad(jacrev)": lambda g, x: ad.grad(ad.jacrev(g))(x),
    "derivative(grad)": lambda g, x: ad.derivative(ad.grad(g), x),
    "grad(derivative)": lambda g, x: ad.grad(lambda y: ad.derivative(g, y))(x),
    "derivative(derivative)": lambda g, x: ad.derivative(
        lambda y: ad.derivative(g, y), x
    ),
    "derivative order=2": lambda g, x: ad.derivative(g, x, order=2),
    "jvp(grad)": lambda g, x: ad.jvp(ad.grad(g), (x,), (1.0,))[1],
    "grad(jvp)": lambda g, x: ad.grad(lambda y: ad.jvp(g, (y,), (1.0,))[1])(x),
    "vjp(grad)": lambda g, x: ad.vjp(ad.grad(g), x)[1](1.0)[0],
    "vjp inside jvp": lambda g, x: ad.jvp(
        lambda y: ad.vjp(g, y)[1](1.0)[0], (x,), (1.0,)
    )[1],
    "jvp inside vjp": lambda g, x: ad.vjp(lambda y: ad.jvp(g, (y,), (1.0,))[1], x)[1](
        1.0
    )[0],
    "vjp inside vjp": lambda g, x: ad.vjp(lambda y: ad.vjp(g, y)[1](1.0)[0], x)[1](1.0)[
        0
    ],
    "hessian": lambda g, x: ad.hessian(g)(x),
    "hvp": lambda g, x: ad.hvp(g, (x,), (1.0,)),
}


@pytest.mark.parametrize("how", list(SECOND_DERIVATIVES))
@pytest.mark.parametrize("x", POINTS)
def test_every_nesting_gives_the_second_derivative(how: str, x: float) -> None:
    got = SECOND_DERIVATIVES[how](f, x)
    assert np.shape(got) == ()
    assert not isinstance(got, ad.core.Tracer)
    assert got == pytest.approx(f2(x), rel=1e-13, abs=1e-14)


def test_grad_of_jacfwd_of_a_vector_function() -> None:
    # J(x) = diag(x0 cos x) + sin(x) e0^T, so sum(J) = x0 sum(cos x) + sum(sin x).
    def total(x: Any) -> Any:
        return anp.sum(ad.jacfwd(lambda v: anp.sin(v) * v[0])(x))

    x = np.array([0.3, -0.5, 1.1])
    want = -x[0] * np.sin(x) + np.cos(x)
    want[0] += np.sum(np.cos(x))
    np.testing.assert_allclose(ad.grad(total)(x), want, rtol=1e-14)
    np.testing.assert_allclose(ad.jacrev(total)(x), want, rtol=1e-14)


def test_grad_of_a_function_that_calls_grad() -> None:
    # The inner gradient closes over the outer variable: x * d/dy (x y²)|_{y=x} = 2x³.
    def outer(x: Any) -> Any:
        return x * ad.grad(lambda y: x * y**2)(x)

    for x in (-1.5, 0.5, 2.0):
        assert outer(x) == pytest.approx(2 * x**3, rel=1e-15)
        assert ad.grad(outer)(x) == pytest.approx(6 * x**2, rel=1e-15)
        assert ad.derivative(outer, x) == pytest.approx(6 * x**2, rel=1e-15)
    # The inner gradient as a function of the outer point: d/dx f'(x) = f''(x).
    assert ad.grad(lambda x: ad.grad(f)(x) * 1.0)(0.7) == pytest.approx(
        f2(0.7), rel=1e-14
    )


FORWARD = {
    "derivative": lambda g, x: ad.derivative(g, x),
    "jvp": lambda g, x: ad.jvp(g, (x,), (1.0,))[1],
}
REVERSE = {
    "grad": lambda g, x: ad.grad(g)(x),
    "vjp": lambda g, x: ad.vjp(g, x)[1](1.0)[0],
}
DIFFS = {**FORWARD, **REVERSE}


@pytest.mark.parametrize("outer", list(DIFFS))
@pytest.mark.parametrize("inner", list(DIFFS))
@pytest.mark.parametrize("x", [-1.0, 0.0, 1.0, 2.5])
def test_no_perturbation_confusion(outer: str, inner: str, x: float) -> None:
    d_out, d_in = DIFFS[outer], DIFFS[inner]
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1; confusing the perturbations gives 2.
    assert d_out(lambda u: u * d_in(lambda y: u + y, 1.0), x) == 1.0
    # d/dx [x * d/dy (x y)] = d/dx [x²] = 2x
    assert d_out(lambda u: u * d_in(lambda y: u * y, 3.0), x) == 2 * x
    # d/dx [d/dy (y y) at y = x] = d/dx 2x = 2
    assert d_out(lambda u: d_in(lambda y: y * y, u), x) == 2.0


@pytest.mark.parametrize("x", POINTS)
def test_third_order(x: float) -> None:
    want = f3(x)
    assert ad.grad(ad.grad(ad.grad(f)))(x) == pytest.approx(want, rel=1e-13, abs=1e-14)
    assert ad.derivative(f, x, order=3) == pytest.approx(want, rel=1e-13, abs=1e-14)
    assert ad.jacfwd(ad.jacrev(ad.grad(f)))(x) == pytest.approx(
        want, rel=1e-13, abs=1e-14
    )
    assert ad.grad(lambda y: ad.derivative(ad.grad(f), y))(x) == pytest.approx(
        want, rel=1e-13, abs=1e-14
    )


def test_fourth_order_of_exp_and_sin() -> None:
    for x in (-1.0, 0.5):
        assert ad.grad(ad.grad(ad.grad(ad.grad(anp.exp))))(x) == pytest.approx(
            np.exp(x), 1e-15
        )
        assert ad.grad(ad.grad(ad.grad(ad.grad(anp.sin))))(x) == pytest.approx(
            np.sin(x), 1e-15
        )


# -- bad input ------------------------------------------------------------------------------------
def test_grad_of_a_non_scalar_output_names_the_alternatives() -> None:
    with pytest.raises(TypeError, match=r"scalar output.*shape \(2,\).*jacrev.*vjp"):
        ad.grad(lambda x: x * 2.0)(np.ones(2))
    with pytest.raises(TypeError, match=r"scalar output.*tuple.*jacrev.*vjp"):
        ad.grad(lambda x: (x, x))(1.0)
    with pytest.raises(TypeError, match=r"jacrev.*vjp"):
        ad.value_and_grad(lambda x: x * np.ones((1, 1)))(1.0)


def test_integer_inputs_are_differentiated_as_floats() -> None:
    assert "``grad(f)(3)`` is ``grad(f)(3.0)``" in " ".join(transforms.__doc__.split())
    cube = lambda x: x**3  # noqa: E731
    assert ad.grad(cube)(3) == ad.grad(cube)(3.0) == 27.0
    assert isinstance(ad.grad(cube)(3), float | np.floating)
    # Integer division semantics must not leak in: x / 2 with x = 3 is 1.5.
    assert ad.value_and_grad(lambda x: x / 2)(3) == (1.5, 0.5)
    ints = np.array([1, 2, 3])
    np.testing.assert_array_equal(
        ad.grad(lambda v: anp.sum(v**3))(ints), [3.0, 12.0, 27.0]
    )
    np.testing.assert_array_equal(
        ad.jacfwd(lambda v: v * v)(ints), np.diag([2.0, 4.0, 6.0])
    )
    np.testing.assert_array_equal(
        ad.jacrev(lambda v: v * v)(ints), np.diag([2.0, 4.0, 6.0])
    )
    assert ad.derivative(cube, 2) == 12.0
    assert ad.jvp(cube, (2,), (1,)) == (8.0, 12.0)
    assert ad.vjp(cube, 2)[1](1) == (12.0,)


@pytest.mark.parametrize("flag", [True, np.True_, np.array([True, False])], ids=repr)
def test_boolean_inputs_are_refused(flag: Any) -> None:
    for call in (
        lambda: ad.grad(lambda x: anp.sum(x))(flag),
        lambda: ad.jacfwd(lambda x: x)(flag),
        lambda: ad.jacrev(lambda x: x)(flag),
        lambda: ad.vjp(lambda x: x, flag),
        lambda: ad.jvp(lambda x: x, (flag,), (flag,)),
        lambda: ad.derivative(lambda x: x, flag),
    ):
        with pytest.raises(TypeError, match=r"boolean.*(float|astype)"):
            call()


def test_a_boolean_outside_argnums_is_fine() -> None:
    def h(x: Any, negate: bool) -> Any:
        return -(x * x) if negate else x * x

    assert ad.grad(h)(3.0, True) == -6.0
    assert ad.grad(h, argnums=0)(3.0, False) == 6.0


@pytest.mark.parametrize(
    "make", [ad.grad, ad.value_and_grad, ad.jacfwd, ad.jacrev, ad.hessian]
)
@pytest.mark.parametrize("argnums", [2, -3, (0, 2), (5,)])
def test_argnums_out_of_range_names_the_arity(make: Fn, argnums: Any) -> None:
    def two(a: Any, b: Any) -> Any:
        return a * b

    with pytest.raises(
        ValueError, match=r"out of range for two, which takes 2 positional"
    ):
        make(two, argnums)


def test_argnums_out_of_range_for_variadic_functions_is_found_at_call_time() -> None:
    def variadic(*xs: Any) -> Any:
        return xs[0] * xs[-1]

    assert ad.grad(variadic, argnums=1)(2.0, 3.0) == 2.0
    with pytest.raises(
        ValueError, match=r"argnums 2 is out of range.*called with 2 positional"
    ):
        ad.grad(variadic, argnums=2)(2.0, 3.0)


@pytest.mark.parametrize(
    "argnums", [1.0, "0", (), [], None, True, (0, 1.5), (0, False)], ids=repr
)
def test_argnums_of_the_wrong_type(argnums: Any) -> None:
    for make in (ad.grad, ad.jacfwd, ad.jacrev):
        with pytest.raises(
            TypeError, match="argnums must be an int or a tuple of ints"
        ):
            make(g3, argnums)


@pytest.mark.parametrize("argnums", [(0, 0), (1, -2), (2, 0, -1)])
def test_repeated_argnums_are_refused(argnums: tuple[int, ...]) -> None:
    # Before this was checked, the second copy silently won and the first got a zero gradient.
    for make in (ad.grad, ad.jacfwd, ad.jacrev):
        with pytest.raises(ValueError, match="more than once; list each argument once"):
            make(g3, argnums)(X, Y, Z)


def test_jvp_checks_its_arguments() -> None:
    with pytest.raises(
        TypeError, match=r"primals must be a tuple, e\.g\. jvp\(f, \(x,\), \(v,\)\)"
    ):
        ad.jvp(f, 1.0, (1.0,))  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match="2 primals but 1 tangents; give one tangent each"
    ):
        ad.jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(2,\).*shape \(3,\)"):
        ad.jvp(f, (np.ones(3),), (np.ones(2),))


# -- tracers escaping their transform -------------------------------------------------------------
# Before core.bind checked Trace.active, an escaped reverse-mode Node failed with a bare
# "AssertionError: tape already released", and an escaped Dual silently went on computing:
# grad(lambda y: y * leaked_dual)(2.0) returned Dual(3.0, 1.0) instead of failing.
ESCAPE = r"escaped from the transform.*return it from that function.*primal_value"


def _leak(transform: str) -> Any:
    box: list[Any] = []

    def h(x: Any) -> Any:
        box.append(x)
        return x * x

    if transform == "grad":
        assert ad.grad(h)(3.0) == 6.0
    elif transform == "vjp":
        assert ad.vjp(h, 3.0)[1](1.0) == (6.0,)
    else:
        assert ad.derivative(h, 3.0) == 6.0
    return box[0]


@pytest.mark.parametrize("transform", ["grad", "vjp", "derivative"])
def test_an_escaped_tracer_is_refused(transform: str) -> None:
    leaked = _leak(transform)
    with pytest.raises(ValueError, match=ESCAPE):
        leaked * 2.0
    with pytest.raises(ValueError, match=ESCAPE):
        anp.sin(leaked)
    for other in (ad.grad, lambda g: lambda x: ad.derivative(g, x)):
        with pytest.raises(ValueError, match=ESCAPE):
            other(lambda y: y * leaked)(2.0)
    # What the message suggests works: the plain value is still there.
    assert ad.primal_value(leaked) == 3.0


def test_a_vjp_fn_that_escaped_an_outer_transform_is_refused() -> None:
    kept: list[Any] = []

    def outer(x: Any) -> Any:
        _, vjp_fn = ad.vjp(lambda y: x * y, 2.0)
        kept.append(vjp_fn)
        return vjp_fn(1.0)[0]  # inside the transform: fine, d/dy (x y) = x

    assert ad.derivative(outer, 5.0) == 1.0
    with pytest.raises(ValueError, match=ESCAPE):
        kept[0](1.0)  # the pullback multiplies by x, a dual of a finished transform


# -- tuples and lists of arrays as arguments (JAX-style containers) -----------------


def test_grad_of_a_list_of_parameters_returns_a_list_of_gradients() -> None:
    import autodiff_ref as ad
    import autodiff_ref.numpy as anp

    rng = np.random.default_rng(0)
    W, b, x = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=2)

    def loss(params):
        weights, bias = params
        return anp.sum(anp.tanh(x @ weights + bias))

    dW, db = ad.grad(loss)([W, b])
    sech2 = 1 - np.tanh(x @ W + b) ** 2  # closed form
    np.testing.assert_allclose(db, sech2, rtol=1e-14)
    np.testing.assert_allclose(dW, np.outer(x, sech2), rtol=1e-14)
    assert isinstance(ad.grad(loss)([W, b]), list)
    assert isinstance(ad.grad(loss)((W, b)), tuple)


def test_jvp_with_tuple_primals_and_mismatched_tangent_structure() -> None:
    import autodiff_ref as ad

    out, tangent = ad.jvp(lambda p: p[0] * p[1], ((2.0, 3.0),), ((1.0, 0.0),))
    assert (out, tangent) == (6.0, 3.0)
    with pytest.raises(
        ValueError,
        match=r"tangent 0 .* structure PyTreeDef\(\(\*, \*\)\), .* PyTreeDef\(\*\)",
    ):
        ad.jvp(lambda p: p[0] * p[1], ((2.0, 3.0),), (1.0,))


def test_jacobians_of_a_list_argument_are_lists_of_blocks() -> None:
    import autodiff_ref as ad

    # d p[0] / d p = [I, 0]: one block per list item, each out.shape + item.shape.
    for jacobian in (ad.jacfwd, ad.jacrev):
        got = jacobian(lambda p: p[0])([np.ones(2), np.ones(3)])
        assert isinstance(got, list) and len(got) == 2
        np.testing.assert_array_equal(got[0], np.eye(2))
        np.testing.assert_array_equal(got[1], np.zeros((2, 3)))
