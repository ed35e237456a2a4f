"""Regression tests for answers that used to be silently wrong (issue 10, section 1,
and issue 18, item 5: the complex step's stand-ins, boolean and integer outputs of
grad, complex input, var with no degrees of freedom, diff of negative order).

Each test failed before its fix. References are closed forms (worked out in the
comments), NumPy's own functions for the meaning of a NumPy name, JAX's
documented structure for nested Jacobians, and central differences through
``check_grads``.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import rules
from autodiff_ref.symbolic import Symbol, diff


# -- zero base to a traced power ---------------------------------------------------------------
def test_zero_base_to_a_traced_power_has_derivative_zero() -> None:
    # 0**y = 0 for y > 0: a constant, so d/dy = 0 (JAX and autograd agree).
    assert ad.grad(lambda y: 0.0**y)(0.5) == 0.0
    assert ad.grad(lambda x, y: x**y, argnums=1)(0.0, 2.0) == 0.0
    assert ad.jvp(lambda y: 0.0**y, (0.5,), (1.0,)) == (0.0, 0.0)
    assert ad.derivative(lambda y: 0.0**y, 0.5, order=2) == 0.0
    np.testing.assert_array_equal(
        ad.grad(lambda y: anp.sum(np.array([0.0, 2.0]) ** y))(3.0), 8 * math.log(2)
    )


def test_zero_base_fix_holds_in_symbolic_mode_and_at_second_order() -> None:
    x, y = Symbol("x"), Symbol("y")
    assert diff(x**y, y).evaluate(x=0.0, y=0.5) == 0.0
    # f = x**y at (0, 2): f_xx = y (y - 1) x**(y - 2) = 2; f_xy = x**(y-1) (1 + y log x)
    # and f_yy = log(x)**2 x**y both tend to 0 as x -> 0.
    h = ad.hessian(lambda v: v[0] ** v[1])(np.array([0.0, 2.0]))
    np.testing.assert_array_equal(h, [[2.0, 0.0], [0.0, 0.0]])


def test_nonzero_bases_keep_log_x_times_x_to_the_y() -> None:
    assert ad.grad(lambda y: 2.0**y)(3.0) == pytest.approx(8 * math.log(2.0), rel=1e-15)


# -- dot is NumPy's dot --------------------------------------------------------------------------
DOT_SHAPES = [
    ((2, 3), (2, 3, 4)),
    ((2, 2, 3), (2, 3, 4)),
    ((3,), (2, 3, 4)),
    ((4, 2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((3,), (3,)),
    ((), (2,)),
    ((2, 0), (3, 0, 4)),
]


@pytest.mark.parametrize(("a_shape", "b_shape"), DOT_SHAPES)
def test_dot_gives_numpy_dots_values_and_shapes(a_shape: Any, b_shape: Any) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    want = np.dot(a, b)
    for got in (
        anp.dot(a, b),
        ad.jvp(anp.dot, (a, b), (a, b))[0],
        ad.jvp(np.dot, (a, b), (a, b))[0],  # NumPy's own dot, dispatched
        ad.vjp(lambda u: u.dot(b) if np.ndim(u) else u * b, a)[0],
    ):
        assert np.shape(got) == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    if a.size and b.size:
        ad.check_grads(anp.dot, (a, b), order=2)


def test_dot_gradients_match_their_closed_forms() -> None:
    # L = sum_{i,j,k} W[i,j,k] sum_m A[i,m] B[j,m,k], so
    # dL/dA[i,m] = sum_{j,k} W[i,j,k] B[j,m,k] and dL/dB[j,m,k] = sum_i W[i,j,k] A[i,m].
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((5, 3, 4))
    w = rng.standard_normal((2, 5, 4))
    ga, gb = ad.grad(lambda u, v: anp.sum(w * anp.dot(u, v)), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga, np.einsum("ijk,jmk->im", w, b), rtol=1e-12)
    np.testing.assert_allclose(gb, np.einsum("ijk,im->jmk", w, a), rtol=1e-12)


# -- abs means NumPy's abs ---------------------------------------------------------------------
def test_abs_of_complex_numbers_is_the_modulus() -> None:
    assert anp.abs(3 + 4j) == 5.0
    np.testing.assert_array_equal(anp.abs(np.array([3 + 4j, -2j])), [5.0, 2.0])
    assert anp.sign(3 + 4j) == np.sign(3 + 4j)
    assert anp.maximum(1 + 5j, 1 + 2j) == np.maximum(1 + 5j, 1 + 2j)


def test_the_complex_step_still_differentiates_abs_through_its_stand_in() -> None:
    for x, slope in ((-2.0, -1.0), (3.0, 1.0)):
        got = ad.numerical.derivative(lambda t: anp.abs(t) ** 3, x, method="complex")
        assert got == pytest.approx(3 * x * x * slope, rel=1e-15)
    assert anp.abs(-1 + 1j) == math.sqrt(2)  # the stand-in is gone after the step


# -- outputs that are not differentiable data ---------------------------------------------------
def test_dict_outputs_are_differentiated() -> None:
    assert ad.jvp(lambda x: {"a": 2 * x}, (1.0,), (1.0,)) == ({"a": 2.0}, {"a": 2.0})


@pytest.mark.parametrize(
    ("f", "named"),
    [
        (lambda x: None, "None"),
        (lambda x: "abc", r"str \('abc'\)"),
        (
            lambda x: {"a": x, "note": "text"},
            r"str \('text'\) inside its output a dict",
        ),
        (lambda x: object(), "object"),
    ],
)
def test_outputs_that_are_not_data_raise_a_type_error_naming_them(
    f: Any, named: str
) -> None:
    with pytest.raises(TypeError, match=named):
        ad.grad(f)(1.0)
    with pytest.raises(TypeError, match=named):
        ad.hessian(f)(np.ones(2))
    if named != "None":  # None is an empty pytree for jvp and vjp, as in JAX
        with pytest.raises(TypeError, match=named):
            ad.jvp(f, (1.0,), (1.0,))
        with pytest.raises(TypeError, match=named):
            ad.vjp(f, 1.0)


def test_functions_independent_of_their_input_give_exact_zeros() -> None:
    np.testing.assert_array_equal(ad.grad(lambda x: 3.0)(np.ones(3)), np.zeros(3))
    np.testing.assert_array_equal(
        ad.hessian(lambda x: 3.0)(np.ones(2)), np.zeros((2, 2))
    )
    assert ad.jvp(lambda x: None, (1.0,), (1.0,)) == (None, None)


def test_grad_of_a_complex_output_says_to_use_holomorphic_or_vjp() -> None:
    with pytest.raises(
        TypeError, match=r"requires real-valued outputs.*holomorphic=True.*vjp"
    ):
        ad.grad(lambda x: 1j * x)(1.0)


def test_grad_jacfwd_jacrev_refuse_complex_functions_without_holomorphic() -> None:
    for transform in (ad.grad, ad.jacfwd, ad.jacrev):
        with pytest.raises(
            TypeError, match=r"requires real-valued.*pass holomorphic=True"
        ):
            transform(anp.sin)(1 + 2j)
    # jvp and vjp take them: sin is holomorphic, sin'(z) = cos(z).
    assert ad.jvp(anp.sin, (1 + 2j,), (1.0 + 0j,))[1] == pytest.approx(np.cos(1 + 2j))


# -- edge cases found against JAX --------------------------------------------------------------
def test_power_one_never_returns_its_input() -> None:
    x = np.zeros(2)
    y = anp.power(x, 1)
    y += 10
    np.testing.assert_array_equal(x, [0.0, 0.0])


def _f(x: Any, y: Any) -> Any:
    return anp.sum(x**2) * anp.sum(y**3)


def test_hessian_blocks_nest_as_in_jax() -> None:
    # H[i][j] = d2f / dxi dxj, of shape xi.shape + xj.shape. With f = |x|^2 * sum(y^3):
    x, y = np.array([1.0, 2.0]), np.array([0.5, 1.0, 1.5])
    h = ad.hessian(_f, argnums=(0, 1))(x, y)
    sx, sy = np.sum(x**2), np.sum(y**3)
    np.testing.assert_allclose(h[0][0], 2 * sy * np.eye(2), rtol=1e-14)
    np.testing.assert_allclose(h[0][1], np.outer(2 * x, 3 * y**2), rtol=1e-14)
    np.testing.assert_allclose(h[1][0], np.outer(3 * y**2, 2 * x), rtol=1e-14)
    np.testing.assert_allclose(h[1][1], np.diag(6 * y) * sx, rtol=1e-14)


@pytest.mark.parametrize("jacobian", [ad.jacfwd, ad.jacrev])
def test_jacobians_of_tuple_outputs_nest_output_then_argument(jacobian: Any) -> None:
    # f = (x y, x + y): J[i][j] = d out_i / d arg_j = ((y, x), (1, 1)).
    got = jacobian(lambda x, y: (x * y, x + y), argnums=(0, 1))(2.0, 3.0)
    assert isinstance(got, tuple) and all(isinstance(row, tuple) for row in got)
    assert [[float(v) for v in row] for row in got] == [[3.0, 2.0], [1.0, 1.0]]


def test_jacfwd_traces_every_differentiated_argument() -> None:
    seen = []

    def f(x: Any, y: Any) -> Any:
        seen.append((type(x).__name__, type(y).__name__))
        return x * y

    ad.jacfwd(f, argnums=(0, 1))(2.0, 3.0)
    assert seen == [("Dual", "Dual")]


def test_float32_inputs_keep_float32_derivatives() -> None:
    x = np.array([1.0, 2.0], dtype=np.float32)
    g = ad.grad(lambda v: anp.sum(v**2))(x)
    jf, jr = ad.jacfwd(anp.sin)(x), ad.jacrev(anp.sin)(x)
    h = ad.hessian(lambda v: anp.sum(v**3))(x)
    for got in (g, jf, jr, h):
        assert got.dtype == np.float32
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)
    np.testing.assert_allclose(jf, np.diag(np.cos(x)), rtol=1e-6)
    np.testing.assert_allclose(jr, np.diag(np.cos(x)), rtol=1e-6)
    np.testing.assert_allclose(h, np.diag(6 * x), rtol=1e-6)


def test_empty_inputs_and_outputs_give_empty_jacobians() -> None:
    assert ad.jacrev(anp.sin)(np.zeros(0)).shape == (0, 0)
    assert ad.jacfwd(anp.sin)(np.zeros(0)).shape == (0, 0)
    assert ad.hessian(lambda x: anp.sum(x**2))(np.zeros(0)).shape == (0, 0)
    for jacobian in (ad.jacfwd, ad.jacrev):
        got = jacobian(lambda x: x[:0])(np.ones(3))
        assert got.shape == (0, 3)


def test_keyword_arguments_pass_through_undifferentiated() -> None:
    def f(x: Any, y: float = 1.0) -> Any:
        return x * x * y

    assert ad.grad(f)(2.0, y=3.0) == 12.0  # 2 x y
    assert ad.value_and_grad(f)(2.0, y=3.0) == (12.0, 12.0)
    assert float(ad.jacfwd(f)(2.0, y=3.0)) == 12.0
    assert float(ad.jacrev(f)(2.0, y=3.0)) == 12.0
    assert float(ad.hessian(f)(2.0, y=3.0)) == 6.0  # 2 y


def test_sign_of_a_traced_scalar_keeps_array_methods() -> None:
    assert ad.jvp(lambda x: anp.sign(x).sum(), (2.0,), (1.0,)) == (1.0, 0.0)
    assert ad.grad(lambda x: x * anp.sign(x).sum())(-2.0) == -1.0


def test_reshape_of_size_zero_raises_numpys_value_error() -> None:
    with pytest.raises(ValueError, match="cannot reshape array of size 0"):
        anp.reshape(np.zeros((0, 3)), (0, -1))
    with pytest.raises(ValueError, match="cannot reshape array of size 0"):
        ad.jvp(
            lambda x: anp.reshape(x, (0, -1)), (np.zeros((0, 3)),), (np.zeros((0, 3)),)
        )
    assert anp.reshape(np.zeros((0, 3)), (-1, 3)).shape == (0, 3)


# -- bad input accepted in silence -------------------------------------------------------------
def test_a_tangent_of_another_dtype_is_refused() -> None:
    with pytest.raises(TypeError, match=r"dtype float64.*dtype float32"):
        ad.jvp(anp.sin, (np.ones(2),), (np.ones(2, dtype=np.float32),))


def test_jvp_and_vjp_outputs_never_alias_their_inputs() -> None:
    x, t, u = np.ones(2), np.ones(2), np.ones(2)
    out, tangent = ad.jvp(lambda v: v, (x,), (t,))
    assert not np.shares_memory(out, x) and not np.shares_memory(tangent, t)
    out, vjp_fn = ad.vjp(lambda v: v, x)
    (ct,) = vjp_fn(u)
    assert not np.shares_memory(out, x) and not np.shares_memory(ct, u)


def test_derivative_of_a_non_elementwise_function_names_grad_and_jacfwd() -> None:
    for f in (anp.sum, lambda x: x[::-1], lambda x: x * anp.sum(x)):
        with pytest.raises(ValueError, match=r"not elementwise.*grad.*jacfwd"):
            ad.derivative(f, np.array([1.0, 2.0, 3.0]))
    x = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(ad.derivative(anp.sin, x), np.cos(x), rtol=1e-15)
    np.testing.assert_allclose(
        ad.derivative(anp.sin, x, order=2), -np.sin(x), rtol=1e-15
    )


def test_a_dual_made_from_a_traced_value_inside_a_transform_is_refused() -> None:
    with pytest.raises(TypeError, match=r"nest autodiff_ref\.jvp"):
        ad.jvp(lambda x: ad.Dual(x, 1.0) * 2.0, (1.0,), (1.0,))
    with pytest.raises(TypeError, match=r"nest autodiff_ref\.jvp"):
        ad.grad(lambda x: ad.Dual(x, 1.0).primal)(1.0)
    assert ad.Dual(2.0, 1.0) * 3.0 == ad.Dual(6.0, 3.0)  # duals made outside still work


def test_cotangent_structure_errors_show_both_structures() -> None:
    _, vjp_fn = ad.vjp(lambda x: (x, {"a": x}), 1.0)
    with pytest.raises(
        ValueError, match=r"structure PyTreeDef\(\(\*, \{'a': \*\}\)\).*PyTreeDef\(\*\)"
    ):
        vjp_fn(1.0)


def _work_in_backward(n: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """Shape look-ups plus arguments handed to concatenate's transpose, in one backward."""
    pieces = [np.ones(2) for _ in range(n)]
    _, vjp_fn = ad.vjp(lambda *xs: anp.concatenate(xs), *pieces)
    work = [0]
    shape_of, transpose_rule = rules.shape_of, rules.concatenate.transpose_rule

    def counting_shape_of(x: Any) -> Any:
        work[0] += 1
        return shape_of(x)

    def counting_transpose(*args: Any, **params: Any) -> Any:
        work[0] += len(args)
        return transpose_rule(*args, **params)

    monkeypatch.setattr(rules, "shape_of", counting_shape_of)
    monkeypatch.setattr(rules.concatenate, "transpose_rule", counting_transpose)
    cts = vjp_fn(np.arange(2.0 * n))
    monkeypatch.undo()
    np.testing.assert_array_equal(cts[-1], [2 * n - 2, 2 * n - 1])  # the right slice
    return work[0]


def test_reverse_mode_of_concatenate_is_linear_in_the_number_of_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Counted, not timed: the work per piece must not grow with the number of pieces
    # (neither summing the earlier pieces' lengths nor receiving all n pieces).
    small = _work_in_backward(200, monkeypatch)
    large = _work_in_backward(400, monkeypatch)
    assert large <= 2.2 * small  # quadratic work would give 4x


def test_rules_concatenate_without_offsets_says_how_to_call_it() -> None:
    with pytest.raises(
        TypeError,
        match=r"offsets=concatenate_offsets.*autodiff_ref\.numpy\.concatenate",
    ):
        ad.grad(lambda x: anp.sum(rules.concatenate(x, x)))(np.ones(2))


# -- issue 18, item 5: the complex step's stand-ins never outlive their block ------------------
def test_a_function_jitted_inside_the_stand_ins_block_means_abs_outside_it() -> None:
    z = np.array([-3 + 4j])
    f = ad.jit(anp.abs)
    with ad.numerical.complex_step_stand_ins():
        inside = f(z)
    # Inside, abs is the analytic continuation of |x| from the real line: -z for Re z < 0.
    np.testing.assert_array_equal(inside, -z)
    # Outside, the same jitted function means NumPy's abs (the modulus), as anp.abs does.
    np.testing.assert_array_equal(f(z), np.abs(z))
    np.testing.assert_array_equal(anp.abs(z), np.abs(z))


def test_a_function_jitted_outside_the_block_uses_the_stand_ins_inside_it() -> None:
    f = ad.jit(lambda x: anp.abs(x) * 2.0)
    z = np.array([-3 + 4j])
    np.testing.assert_array_equal(f(z), 2.0 * np.abs(z))  # compiled and cached here
    with ad.numerical.complex_step_stand_ins():
        np.testing.assert_array_equal(f(z), -2.0 * z)
    np.testing.assert_array_equal(f(z), 2.0 * np.abs(z))


def test_the_complex_step_of_a_jitted_kink_is_its_slope() -> None:
    # d/dx 2|x| at x = -1.5 is -2; a jit cache must not change it in either order.
    f = ad.jit(lambda x: 2.0 * anp.abs(x))
    f(-1.5)  # compile the real function first
    assert ad.numerical.derivative(f, -1.5, method="complex") == -2.0
    assert f(-1.5) == 3.0


def test_the_stand_ins_change_no_primitive() -> None:
    impl = rules.abs.impl
    with ad.numerical.complex_step_stand_ins():
        assert rules.abs.impl is impl


# -- issue 18, item 5: boolean and integer outputs have no gradient ------------------------------
@pytest.mark.parametrize(
    "f",
    [
        lambda x: x > 0,
        lambda x: anp.sum(x) > 0,
        lambda x: 3,
        lambda x: np.int64(2),
        lambda x: np.asarray(7),
    ],
    ids=["bool", "numpy-bool", "int", "numpy-int", "0-d-int-array"],
)
@pytest.mark.parametrize("transform", [ad.grad, ad.value_and_grad, ad.hessian])
def test_grad_refuses_boolean_and_integer_outputs(transform: Any, f: Any) -> None:
    # JAX raises TypeError here too: grad needs a real floating-point output.
    with pytest.raises(
        TypeError, match=r"grad needs a real floating-point scalar output"
    ):
        transform(f)(1.0)


# -- issue 18, item 5: var with ddof >= n and diff with n < 0 mean what NumPy's do -------------
@pytest.mark.parametrize(
    ("x", "axis", "ddof"),
    [
        (np.array([1.0, 2.0, 3.0]), None, 5),  # a positive sum over 0: inf
        (np.array([1.0, 2.0, 3.0]), None, 3),
        (np.array([1.0, 1.0, 1.0]), None, 3),  # 0 / 0: nan
        (np.arange(6.0).reshape(2, 3), 0, 2),
        (np.arange(6.0).reshape(2, 3), 1, 4),
    ],
)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_with_no_degrees_of_freedom_follow_numpy(
    name: str, x: Any, axis: Any, ddof: int
) -> None:
    # NumPy warns twice: no degrees of freedom (always), then the division by 0 (per
    # np.errstate, silenced here for both).
    quiet = {"divide": "ignore", "invalid": "ignore"}
    with (
        pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"),
        np.errstate(**quiet),
    ):
        want = getattr(np, name)(x, axis=axis, ddof=ddof)
    with (
        pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"),
        np.errstate(**quiet),
    ):
        got = getattr(anp, name)(x, axis=axis, ddof=ddof)
    # The same division (a sum of squares by 0.0): the same inf or nan, bit for bit.
    np.testing.assert_array_equal(got, want)


def test_var_with_some_degrees_of_freedom_is_unchanged_and_silent() -> None:
    x = np.array([1.0, 2.0, 6.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert anp.var(x, ddof=2) == pytest.approx(np.var(x, ddof=2), rel=1e-15)


@pytest.mark.parametrize("n", [-1, -3])
def test_diff_with_a_negative_order_raises_numpys_error(n: int) -> None:
    x = np.array([1.0, 4.0, 9.0])
    with pytest.raises(ValueError, match="order must be non-negative") as numpy_error:
        np.diff(x, n=n)
    with pytest.raises(ValueError, match=str(numpy_error.value)):
        anp.diff(x, n=n)
    with pytest.raises(ValueError, match="order must be non-negative"):
        ad.grad(lambda v: anp.sum(anp.diff(v, n=n)))(x)


# -- issue 18, item 5: complex input gives the right number or a clear refusal ----------------
def test_the_complex_cases_of_the_issue_give_numpys_values() -> None:
    # Issue 23: var and std are real (NumPy's), abs's tangent is Re(conj(z) t) / |z|.
    z = np.array([3 + 4j, 1 - 1j])
    t = np.array([1.0 + 0.5j, -2.0j])
    for f in (np.var, np.std):
        value, tangent = ad.jvp(f, (z,), (t,))
        assert value == pytest.approx(f(z), rel=1e-15) and not np.iscomplexobj(value)
        assert not np.iscomplexobj(tangent)
    _, tangent = ad.jvp(anp.abs, (z,), (t,))
    np.testing.assert_allclose(tangent, np.real(np.conj(z) * t) / np.abs(z), rtol=1e-15)
    with pytest.raises(TypeError, match="norm does not support complex input"):
        anp.linalg.norm(z)
    # The value of abs needs no derivative: NumPy's modulus.
    np.testing.assert_array_equal(anp.abs(z), np.abs(z))


def _complex_cases() -> dict[str, tuple[Any, np.ndarray]]:
    from test_numpy_coverage import PROGRAMS

    v = np.array([0.7, -1.3, 2.1])
    cases = dict(PROGRAMS)
    for name in ["abs", "sign", "sqrt", "log", "exp", "sin", "cos", "tan", "tanh",
                 "reciprocal", "square", "arcsin", "arccos", "arctan", "arcsinh",
                 "arctanh", "sinh", "cosh", "exp2", "expm1", "log1p", "log2", "log10",
                 "sinc", "var", "std", "cumsum", "prod", "sort"]:  # fmt: skip
        cases[f"anp.{name}"] = (getattr(anp, name), v)
    cases["anp.maximum"] = (lambda x: anp.maximum(x, 0.5), v)
    cases["anp.minimum"] = (lambda x: anp.minimum(x, 0.5), v)
    cases["anp.power"] = (lambda x: anp.power(x, 2.5), v)
    cases["anp.power-base"] = (lambda x: anp.power(2.0, x), v)
    cases["anp.clip"] = (lambda x: anp.clip(x, -1.0, 1.0), v)
    cases["anp.linalg.norm"] = (anp.linalg.norm, v)
    cases["x / (x + 3)"] = (lambda x: x / (x + 3), v)
    cases["dot"] = (lambda x: anp.dot(x, x), v)
    return cases


COMPLEX_CASES = _complex_cases()
# What complex input may give instead of a number: a refusal that says so (ours), or
# NumPy's own refusal for functions it defines on real numbers only (mod, floor, ...).
REFUSED = (
    r"does not support complex input|has no complex derivative|"
    r"not supported for the input types|"
    r"Cannot cast array data from dtype\('complex128'\)"  # NumPy's dtype= casting rule
)


@pytest.mark.parametrize("name", sorted(COMPLEX_CASES))
def test_complex_input_gives_numpys_value_and_true_derivatives_or_a_refusal(
    name: str,
) -> None:
    f, x = COMPLEX_CASES[name]
    rng = np.random.default_rng(18)
    z = np.asarray(x, float) + 1j * rng.uniform(-0.4, 0.4, np.shape(x))
    t = rng.normal(size=np.shape(x)) + 1j * rng.normal(size=np.shape(x))
    try:
        value, tangent = ad.jvp(f, (z,), (t,))
    except TypeError as error:
        assert re.search(REFUSED, str(error)), str(error)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        want = np.asarray(f(z))
        h = 1e-6
        # The directional derivative along t for any (not only holomorphic) f; central
        # differences of step 1e-6 are accurate to ~1e-9 relative for these functions.
        difference = (np.asarray(f(z + h * t)) - np.asarray(f(z - h * t))) / (2 * h)
    np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent, difference, rtol=1e-6, atol=1e-7)
    # Reverse mode is the transpose of that (real-)linear map under Re(sum(u * v)),
    # JAX's convention: vjp(z * z)(1) = 2 z.
    out, vjp_fn = ad.vjp(f, z)
    cotangent = rng.normal(size=np.shape(out)) + 1j * rng.normal(size=np.shape(out))
    (pulled,) = vjp_fn(cotangent)
    np.testing.assert_allclose(
        np.real(np.sum(pulled * t)),
        np.real(np.sum(cotangent * tangent)),
        rtol=1e-10,
        atol=1e-10,
    )
