"""Extension points: stop_gradient, has_aux, custom_jvp, custom_vjp and checkpoint.

References are independent of the code under test: closed forms, results that
JAX documents (typed from its docs, cited next to each), the complex step and
central differences from :mod:`autodiff_ref.numerical`, and the same function
differentiated without the extension point.
"""

from __future__ import annotations

import math
import tracemalloc
import warnings
from collections import namedtuple
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import numerical
from autodiff_ref.core import Tracer


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-x))


def _leaves(tree: Any) -> list[Any]:
    """Every leaf of nested tuples, lists and dicts (for checking aux values)."""
    if isinstance(tree, dict):
        return [leaf for v in tree.values() for leaf in _leaves(v)]
    if isinstance(tree, tuple | list):
        return [leaf for v in tree for leaf in _leaves(v)]
    return [tree]


# -- stop_gradient -------------------------------------------------------------------
def test_stop_gradient_keeps_the_value_and_copies_arrays() -> None:
    x = np.array([1.0, -2.0])
    y = ad.stop_gradient(x)
    np.testing.assert_array_equal(y, x)
    assert y is not x
    assert ad.stop_gradient(2.5) == 2.5


def test_stop_gradient_is_a_constant_in_every_mode() -> None:
    # d/dx [c x] with c = x held constant is c: 3 at x = 3
    f = lambda x: ad.stop_gradient(x) * x  # noqa: E731
    assert ad.grad(f)(3.0) == 3.0
    assert ad.derivative(f, 3.0) == 3.0
    assert ad.jvp(f, (3.0,), (1.0,)) == (9.0, 3.0)
    assert ad.jacfwd(f)(3.0) == 3.0
    assert ad.jacrev(f)(3.0) == 3.0
    x = np.array([1.0, 2.0, -0.5])
    g = lambda v: anp.sum(ad.stop_gradient(v**2) * v)  # noqa: E731
    np.testing.assert_array_equal(ad.grad(g)(x), x**2)
    np.testing.assert_array_equal(ad.jacfwd(ad.stop_gradient)(x), np.zeros((3, 3)))
    np.testing.assert_array_equal(ad.jacrev(ad.stop_gradient)(x), np.zeros((3, 3)))


def test_stop_gradient_at_every_order() -> None:
    # sg(x) x**2: first derivative 2 sg(x) x, second 2 sg(x), third 0.
    f = lambda x: ad.stop_gradient(x) * x**2  # noqa: E731
    assert ad.derivative(f, 3.0, order=2) == 6.0
    assert ad.derivative(f, 3.0, order=3) == 0.0
    assert ad.grad(ad.grad(f))(3.0) == 6.0
    assert ad.grad(ad.grad(ad.grad(f)))(3.0) == 0.0
    x = np.array([1.0, 2.0])
    h = ad.hessian(lambda v: anp.sum(ad.stop_gradient(v) * v**2))(x)
    np.testing.assert_array_equal(h, np.diag(2 * x))
    # the derivative of the stopped value is zero at every order
    for order in (1, 2, 3):
        assert (
            ad.derivative(lambda t: ad.stop_gradient(anp.sin(t)), 0.3, order=order)
            == 0.0
        )


def test_stop_gradient_of_containers() -> None:
    out = ad.grad(lambda x: ad.stop_gradient((x, [x * 2]))[1][0] * x)(3.0)
    assert out == 6.0  # d/dx [c x], c = 2x = 6 held constant


def test_stop_gradient_td_update_from_the_cookbook() -> None:
    # JAX's Autodiff Cookbook, "Stopping gradients" (TD(0) update):
    # td_update(theta, s_tm1, r_t, s_t) prints Array([ 1.2,  2.4, -1.2], dtype=float32).
    theta = np.array([0.1, -0.1, 0.0])
    s_tm1, r_t, s_t = np.array([1.0, 2.0, -1.0]), 1.0, np.array([2.0, 1.0, 0.0])

    def td_loss(theta: Any, s_tm1: Any, r_t: Any, s_t: Any) -> Any:
        v_tm1 = anp.dot(theta, s_tm1)
        target = r_t + anp.dot(theta, s_t)
        return -0.5 * (ad.stop_gradient(target) - v_tm1) ** 2

    np.testing.assert_allclose(
        ad.grad(td_loss)(theta, s_tm1, r_t, s_t), [1.2, 2.4, -1.2]
    )


def test_stop_gradient_is_not_recorded_on_the_tape() -> None:
    tr = ad.trace_evaluation(lambda x: ad.stop_gradient(x) * x, 2.0)
    assert [row.op for row in tr] == ["input", "mul"]
    assert tr.gradient == (2.0,)


# -- has_aux --------------------------------------------------------------------------
Stats = namedtuple("Stats", "total scaled")


def _loss_with_aux(x: Any) -> tuple[Any, Any]:
    loss = anp.sum(x**2)
    return loss, {"total": anp.sum(x), "nested": [x * 2.0, ("label", Stats(x, 3.0))]}


def _assert_plain(aux: Any) -> None:
    for leaf in _leaves(aux):
        assert not isinstance(leaf, Tracer), f"a tracer leaked out in aux: {leaf!r}"


def test_grad_has_aux_returns_plain_aux() -> None:
    x = np.array([1.0, 2.0, 3.0])
    g, aux = ad.grad(_loss_with_aux, has_aux=True)(x)
    np.testing.assert_array_equal(g, 2 * x)
    _assert_plain(aux)
    assert aux["total"] == 6.0
    np.testing.assert_array_equal(aux["nested"][0], 2 * x)
    assert aux["nested"][1][0] == "label"
    assert isinstance(aux["nested"][1][1], Stats)
    np.testing.assert_array_equal(aux["nested"][1][1].total, x)


def test_value_and_grad_has_aux_follows_jax_structure() -> None:
    # JAX: value_and_grad(f, has_aux=True)(x) == ((value, aux), gradient)
    (value, aux), g = ad.value_and_grad(_loss_with_aux, has_aux=True)(
        np.array([1.0, 2.0])
    )
    assert value == 5.0
    np.testing.assert_array_equal(g, [2.0, 4.0])
    _assert_plain(aux)
    (value, aux), g = ad.value_and_grad(
        lambda x, y: (x * y, x + y), argnums=(0, 1), has_aux=True
    )(3.0, 4.0)
    assert (value, aux, g) == (12.0, 7.0, (4.0, 3.0))


def test_jacobians_hessian_jvp_and_vjp_have_aux() -> None:
    x = np.array([1.0, 2.0])
    f = lambda v: (v**3, anp.sum(v))  # noqa: E731
    for jac in (ad.jacfwd, ad.jacrev):
        j, aux = jac(f, has_aux=True)(x)
        np.testing.assert_array_equal(j, np.diag(3 * x**2))
        assert aux == 3.0 and not isinstance(aux, Tracer)
    h, aux = ad.hessian(lambda v: (anp.sum(v**3), v * 2), has_aux=True)(x)
    np.testing.assert_array_equal(h, np.diag(6 * x))
    _assert_plain(aux)
    np.testing.assert_array_equal(aux, 2 * x)
    out, tangent, aux = ad.jvp(lambda v: (v**2, v + 1), (3.0,), (1.0,), has_aux=True)
    assert (out, tangent, aux) == (9.0, 6.0, 4.0)
    out, vjp_fn, aux = ad.vjp(lambda v: (v**2, v + 1), 3.0, has_aux=True)
    assert (out, vjp_fn(1.0), aux) == (9.0, (6.0,), 4.0)


def test_aux_of_an_inner_transform_is_differentiated_by_an_outer_one() -> None:
    # inner: d/dx (x y) = y with aux x y y; outer: d/dy [x y**2] at x = 2 is 2 x y = 12
    def inner_aux(y: Any) -> Any:
        return ad.grad(lambda x: (x * y, x * y * y), has_aux=True)(2.0)[1]

    assert ad.grad(inner_aux)(3.0) == 12.0
    assert ad.derivative(inner_aux, 3.0) == 12.0


def test_has_aux_needs_a_pair() -> None:
    with pytest.raises(TypeError, match=r"has_aux=True.*pair \(output, aux\)"):
        ad.grad(lambda x: x * 2.0, has_aux=True)(1.0)


# -- custom_jvp ------------------------------------------------------------------------
@ad.custom_jvp
def log1pexp(x: Any) -> Any:
    return anp.log(1.0 + anp.exp(x))


@log1pexp.defjvp
def log1pexp_jvp(primals: tuple, tangents: tuple) -> tuple:
    (x,), (x_dot,) = primals, tangents
    return log1pexp(x), (1.0 - 1.0 / (1.0 + anp.exp(x))) * x_dot


def test_log1pexp_acceptance() -> None:
    # JAX's "Custom derivative rules" notebook: grad(log1pexp)(100.) is nan for the
    # plain version and 1.0 with the custom JVP rule. JAX computes in float32, where
    # exp(100) overflows; in float64 exp overflows from about 710, so the plain
    # version's inf / inf = nan shows at 1000.
    plain = lambda x: anp.log(1.0 + anp.exp(x))  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(ad.grad(plain)(1000.0))
        assert ad.grad(log1pexp)(1000.0) == 1.0
        assert ad.derivative(log1pexp, 1000.0) == 1.0
    assert ad.grad(log1pexp)(100.0) == 1.0
    assert ad.derivative(log1pexp, 100.0) == 1.0
    assert ad.grad(log1pexp)(0.0) == 0.5


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.7, 2.5])
def test_log1pexp_derivatives_at_every_order_and_mode(x: float) -> None:
    s = _sigmoid(x)
    first, second, third = s, s * (1 - s), s * (1 - s) * (1 - 2 * s)  # closed forms
    assert ad.grad(log1pexp)(x) == pytest.approx(first, rel=1e-15)
    assert ad.derivative(log1pexp, x) == pytest.approx(first, rel=1e-15)
    assert ad.derivative(log1pexp, x, order=2) == pytest.approx(second, rel=1e-14)
    assert ad.grad(ad.grad(log1pexp))(x) == pytest.approx(second, rel=1e-14)
    assert ad.jacfwd(ad.grad(log1pexp))(x) == pytest.approx(second, rel=1e-14)
    assert ad.derivative(log1pexp, x, order=3) == pytest.approx(
        third, rel=1e-12, abs=1e-15
    )
    assert ad.grad(ad.grad(ad.grad(log1pexp)))(x) == pytest.approx(
        third, rel=1e-12, abs=1e-15
    )
    # an independent numerical reference for the first derivative
    reference = numerical.derivative(lambda t: np.log1p(np.exp(t)), x, method="complex")
    assert ad.grad(log1pexp)(x) == pytest.approx(reference, rel=1e-14)


def test_log1pexp_on_arrays() -> None:
    x = np.array([-2.0, 0.5, 3.0])
    s = _sigmoid(x)
    # 1 - 1/(1 + e^x) and 1/(1 + e^-x) round differently: a few ulps apart
    np.testing.assert_allclose(ad.jacfwd(log1pexp)(x), np.diag(s), rtol=1e-14)
    np.testing.assert_allclose(ad.jacrev(log1pexp)(x), np.diag(s), rtol=1e-14)
    h = ad.hessian(lambda v: anp.sum(log1pexp(v)))(x)
    np.testing.assert_allclose(h, np.diag(s * (1 - s)), rtol=1e-14)


@ad.custom_jvp
def sin_times(x: Any, y: Any) -> Any:
    return anp.sin(x) * y


@sin_times.defjvp
def sin_times_jvp(primals: tuple, tangents: tuple) -> tuple:
    x, y = primals
    x_dot, y_dot = tangents
    return sin_times(x, y), anp.cos(x) * x_dot * y + anp.sin(x) * y_dot


def test_custom_jvp_of_two_arguments() -> None:
    # JAX's notebook example f(x, y) = sin(x) y at (2, 3), checked in closed form.
    value, tangent = ad.jvp(sin_times, (2.0, 3.0), (1.0, 0.0))
    assert (value, tangent) == (math.sin(2.0) * 3.0, math.cos(2.0) * 3.0)
    assert ad.grad(sin_times)(2.0, 3.0) == math.cos(2.0) * 3.0
    assert ad.grad(sin_times, argnums=(0, 1))(2.0, 3.0) == (
        math.cos(2.0) * 3.0,
        math.sin(2.0),
    )
    h = ad.hessian(lambda v: sin_times(v[0], v[1]))(np.array([2.0, 3.0]))
    expected = [[-math.sin(2.0) * 3.0, math.cos(2.0)], [math.cos(2.0), 0.0]]
    np.testing.assert_allclose(h, expected, rtol=1e-15)
    hr = ad.jacrev(ad.jacrev(lambda v: sin_times(v[0], v[1])))(np.array([2.0, 3.0]))
    np.testing.assert_allclose(hr, expected, rtol=1e-15)


def test_custom_jvp_safe_derivative_at_zero() -> None:
    # JAX's notebook: f(x) = x / (1 + sqrt(x)) has grad nan at 0 when differentiated
    # through sqrt; with the rule (sqrt(x) + 2) / (2 (sqrt(x) + 1)**2) it is 1.0.
    @ad.custom_jvp
    def f(x: Any) -> Any:
        return x / (1.0 + anp.sqrt(x))

    @f.defjvp
    def f_jvp(primals: tuple, tangents: tuple) -> tuple:
        (x,), (x_dot,) = primals, tangents
        return f(x), (anp.sqrt(x) + 2.0) / (2.0 * (anp.sqrt(x) + 1.0) ** 2) * x_dot

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(ad.grad(lambda x: x / (1.0 + anp.sqrt(x)))(0.0))
    assert ad.grad(f)(0.0) == 1.0
    assert ad.derivative(f, 0.0) == 1.0


def test_the_rule_is_used_not_the_function() -> None:
    # A rule that deliberately disagrees with its function shows which one ran.
    @ad.custom_jvp
    def double_slope(x: Any) -> Any:
        return x * 1.0

    @double_slope.defjvp
    def _(primals: tuple, tangents: tuple) -> tuple:
        return primals[0], 2.0 * tangents[0]

    x = np.array([1.0, -1.0, 4.0])
    assert ad.grad(double_slope)(1.5) == 2.0
    assert ad.derivative(double_slope, 1.5) == 2.0
    np.testing.assert_array_equal(ad.jacrev(double_slope)(x), 2 * np.eye(3))
    np.testing.assert_array_equal(ad.jacfwd(double_slope)(x), 2 * np.eye(3))
    # nested: d/dx [x * double_slope(x)] = double_slope(x) + 2x, whose derivative
    # by the rule is 2 + 2 = 4 (the true derivatives would give 3x and 2)
    assert ad.grad(lambda t: t * double_slope(t))(1.5) == 4.5
    assert ad.grad(ad.grad(lambda t: t * double_slope(t)))(1.5) == 4.0
    assert ad.derivative(lambda t: t * double_slope(t), 1.5, order=2) == 4.0


def test_reverse_mode_runs_the_rule_once_not_once_per_input_element() -> None:
    calls = []

    @ad.custom_jvp
    def scaled(x: Any) -> Any:
        return 3.0 * x

    @scaled.defjvp
    def _(primals: tuple, tangents: tuple) -> tuple:
        calls.append(np.shape(ad.primal_value(tangents[0])))
        return scaled(primals[0]), 3.0 * tangents[0]

    x = np.linspace(0.0, 1.0, 50)
    g = ad.grad(lambda v: anp.sum(scaled(v) * v))(x)
    np.testing.assert_array_equal(g, 6.0 * x)
    assert calls == [(50,)]  # one transposed run of the rule, with all 50 tangents


def test_a_nonlinear_tangent_rule_is_refused_in_reverse_mode() -> None:
    @ad.custom_jvp
    def f(x: Any) -> Any:
        return x

    @f.defjvp
    def _(primals: tuple, tangents: tuple) -> tuple:
        return primals[0], tangents[0] + 1.0

    with pytest.raises(ValueError, match="not linear in the tangents"):
        ad.grad(f)(1.0)


def test_custom_jvp_shows_by_name_in_the_trace_and_graph() -> None:
    tr = ad.trace_evaluation(lambda x: log1pexp(x) * 2.0, 0.5)
    assert tr[1].op == "log1pexp"
    assert tr[1].expression == "log1pexp(v_0)"
    assert tr[1].partials == (pytest.approx(_sigmoid(0.5), rel=1e-15),)
    assert tr.gradient == (pytest.approx(2 * _sigmoid(0.5), rel=1e-15),)
    assert "log1pexp" in ad.to_dot(log1pexp, 0.5)


def test_custom_jvp_plain_calls_and_keyword_arguments() -> None:
    assert log1pexp(0.0) == math.log(2.0)
    assert sin_times(2.0, y=3.0) == math.sin(2.0) * 3.0
    assert ad.grad(lambda x: sin_times(x, y=3.0))(2.0) == math.cos(2.0) * 3.0
    assert repr(log1pexp) == "<custom_jvp function log1pexp>"
    assert log1pexp.__name__ == "log1pexp"


def test_custom_jvp_errors() -> None:
    @ad.custom_jvp
    def no_rule(x: Any) -> Any:
        return x * 2.0

    assert no_rule(1.0) == 2.0  # fine without transforms
    with pytest.raises(TypeError, match=r"no JVP rule.*@no_rule\.defjvp"):
        ad.grad(no_rule)(1.0)

    @ad.custom_jvp
    def two_outputs(x: Any) -> Any:
        return x, x

    with pytest.raises(TypeError, match="returns one number or array"):
        two_outputs(1.0)

    with pytest.raises(TypeError, match="argument 0 is a tuple"):
        ad.grad(lambda x: log1pexp((x, x)))(1.0)

    @ad.custom_jvp
    def wrong_shape(x: Any) -> Any:
        return x

    @wrong_shape.defjvp
    def _(primals: tuple, tangents: tuple) -> tuple:
        return primals[0], np.ones(3)

    with pytest.raises(ValueError, match=r"tangent output .* shape \(3,\)"):
        ad.jvp(wrong_shape, (1.0,), (1.0,))


def test_closing_over_a_traced_value_is_refused() -> None:
    def outer(y: Any) -> Any:
        @ad.custom_jvp
        def times_y(x: Any) -> Any:
            return x * y

        @times_y.defjvp
        def _(primals: tuple, tangents: tuple) -> tuple:
            return times_y(primals[0]), tangents[0] * y

        return times_y(2.0)

    with pytest.raises(TypeError, match="closes over a value"):
        ad.grad(outer)(3.0)


# -- custom_vjp ------------------------------------------------------------------------
@ad.custom_vjp
def clip_gradient(lo: Any, hi: Any, x: Any) -> Any:
    return x  # the identity on values


def clip_gradient_fwd(lo: Any, hi: Any, x: Any) -> tuple:
    return x, (lo, hi)


def clip_gradient_bwd(res: tuple, g: Any) -> tuple:
    lo, hi = res
    return None, None, anp.minimum(anp.maximum(g, lo), hi)


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def test_gradient_clipping_acceptance() -> None:
    # JAX's notebook, "Gradient clipping": clip_sin(x) = sin(clip_gradient(-0.75, 0.75, x));
    # its gradient (plotted there) is cos(t) clipped to [-0.75, 0.75].
    def clip_sin(x: Any) -> Any:
        return anp.sin(clip_gradient(-0.75, 0.75, x))

    t = np.linspace(0.0, 10.0, 101)
    np.testing.assert_array_equal(clip_sin(t), np.sin(t))
    g = ad.grad(lambda v: anp.sum(clip_sin(v)))(t)
    np.testing.assert_array_equal(g, np.clip(np.cos(t), -0.75, 0.75))
    np.testing.assert_array_equal(
        ad.jacrev(clip_sin)(t), np.diag(np.clip(np.cos(t), -0.75, 0.75))
    )
    _, vjp_fn = ad.vjp(clip_sin, t)  # the incoming cotangent 2 cos t is what is clipped
    clipped = np.clip(2.0 * np.cos(t), -0.75, 0.75)
    np.testing.assert_array_equal(vjp_fn(np.full(t.shape, 2.0))[0], clipped)


def test_gradient_clipping_with_a_traced_bound() -> None:
    # JAX's test suite, test_clip_gradient (issue 2784): hi = x + 0.1 is traced, and
    # jax.grad(clip_gradient)(0.1) == 0.2.
    assert ad.grad(lambda x: clip_gradient(-0.1, x + 0.1, x))(0.1) == pytest.approx(
        0.2, abs=0
    )


@ad.custom_vjp
def sin_times_v(x: Any, y: Any) -> Any:
    return anp.sin(x) * y


def sin_times_fwd(x: Any, y: Any) -> tuple:
    return sin_times_v(x, y), (anp.cos(x), anp.sin(x), y)


def sin_times_bwd(res: tuple, g: Any) -> tuple:
    cos_x, sin_x, y = res
    return cos_x * g * y, sin_x * g


sin_times_v.defvjp(sin_times_fwd, sin_times_bwd)


def test_custom_vjp_under_reverse_mode_and_nested_reverse_mode() -> None:
    # JAX's custom_vjp example f(x, y) = sin(x) y, in closed form.
    assert ad.grad(sin_times_v, argnums=(0, 1))(2.0, 3.0) == (
        math.cos(2.0) * 3.0,
        math.sin(2.0),
    )
    assert ad.grad(ad.grad(sin_times_v))(2.0, 3.0) == -math.sin(2.0) * 3.0
    h = ad.jacrev(ad.jacrev(lambda v: sin_times_v(v[0], v[1])))(np.array([2.0, 3.0]))
    expected = [[-math.sin(2.0) * 3.0, math.cos(2.0)], [math.cos(2.0), 0.0]]
    np.testing.assert_allclose(h, expected, rtol=1e-15)
    x = np.array([0.5, 1.5])
    j = ad.jacrev(lambda v: sin_times_v(v, np.full(2, 2.0)))(x)
    np.testing.assert_allclose(j, np.diag(2.0 * np.cos(x)), rtol=1e-15)
    # As in JAX, bwd must give each argument a cotangent of its own shape: a scalar y
    # broadcast against an array x gets an array from this bwd, which is refused.
    with pytest.raises(ValueError, match=r"cotangent of argument 1 .* shape \(2,\)"):
        ad.jacrev(lambda v: sin_times_v(v, 2.0))(x)


def test_custom_vjp_runs_fwd_once_per_backward_step() -> None:
    calls = []

    @ad.custom_vjp
    def prod3(a: Any, b: Any, c: Any) -> Any:
        return a * b * c

    def fwd(a: Any, b: Any, c: Any) -> tuple:
        calls.append("fwd")
        return a * b * c, (a, b, c)

    def bwd(res: tuple, g: Any) -> tuple:
        a, b, c = res
        return g * b * c, g * a * c, g * a * b

    prod3.defvjp(fwd, bwd)
    assert ad.grad(prod3, argnums=(0, 1, 2))(2.0, 3.0, 5.0) == (15.0, 10.0, 6.0)
    assert calls == ["fwd"]


def test_a_cotangent_buffer_refilled_between_calls_is_read_afresh() -> None:
    # Rows of a Jacobian pulled back with one array refilled in place: each call of
    # vjp_fn must see the new values (the per-step cache of all-argument rules must
    # not answer from the previous call, which had the same array object).
    saved = ad.checkpoint(lambda a, b: a * b)
    x, y = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    for f in (saved, sin_times_v, sin_times):
        _, vjp_fn = ad.vjp(f, x, y)
        buffer = np.zeros(2)
        rows = []
        for k in range(2):
            buffer[:] = 0.0
            buffer[k] = 1.0
            rows.append(vjp_fn(buffer))
        for k in range(2):
            np.testing.assert_array_equal(rows[k][0], ad.jacrev(f)(x, y)[k])
            np.testing.assert_array_equal(rows[k][1], ad.jacrev(f, argnums=1)(x, y)[k])


def test_custom_vjp_refuses_forward_mode() -> None:
    for run in (
        lambda: ad.jvp(sin_times_v, (2.0, 3.0), (1.0, 0.0)),
        lambda: ad.derivative(lambda x: sin_times_v(x, 3.0), 2.0),
        lambda: ad.jacfwd(lambda x: sin_times_v(x, 3.0))(np.ones(2)),
        lambda: ad.hessian(lambda x: sin_times_v(x, 3.0))(2.0),
        lambda: ad.trace_evaluation(lambda x: sin_times_v(x, 3.0), 2.0),
    ):
        with pytest.raises(TypeError, match=r"custom_vjp function.*custom_jvp"):
            run()


def test_custom_vjp_errors() -> None:
    @ad.custom_vjp
    def f(x: Any, y: Any) -> Any:
        return x * y

    with pytest.raises(TypeError, match=r"no VJP rule.*f\.defvjp"):
        ad.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises(TypeError, match="tuple of 2 cotangents, one per argument"):
        ad.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (np.ones(2), None))
    with pytest.raises(ValueError, match=r"cotangent of argument 0 .* shape \(2,\)"):
        ad.grad(f)(1.0, 2.0)


def test_custom_vjp_shows_by_name_in_the_reverse_tape() -> None:
    # The evaluation trace needs forward mode, so look at vjp's recording instead:
    # the gradient of y * clip(...) sees one node for the user's primitive.
    assert clip_gradient.primitive.name == "clip_gradient"
    assert repr(clip_gradient.primitive) == "<primitive clip_gradient>"


# -- checkpoint ------------------------------------------------------------------------
def _segment(x: Any, w: Any) -> Any:
    return anp.tanh(x * w + anp.sin(x))


def _chain(segment: Any) -> Any:
    def f(x: Any, w: Any) -> Any:
        for _ in range(3):
            x = segment(x, w)
        return anp.sum(x * x)

    return f


X = np.linspace(-1.0, 1.0, 4)
W = np.array([0.5, 1.5, -2.0, 0.3])


def test_checkpoint_gives_the_same_gradients_to_the_last_bit() -> None:
    saved = ad.checkpoint(_segment)
    plain_f, saved_f = _chain(_segment), _chain(saved)
    assert saved_f(X, W) == plain_f(X, W)
    for got, want in zip(
        ad.grad(saved_f, argnums=(0, 1))(X, W),
        ad.grad(plain_f, argnums=(0, 1))(X, W),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)
    # and they are the right gradients: complex-step reference
    reference = numerical.gradient(lambda v: saved_f(v, W), X, method="complex")
    np.testing.assert_allclose(ad.grad(saved_f)(X, W), reference, rtol=1e-13)


def test_checkpoint_in_forward_mode_and_nested() -> None:
    saved_f, plain_f = _chain(ad.checkpoint(_segment)), _chain(_segment)
    np.testing.assert_array_equal(ad.jacfwd(saved_f)(X, W), ad.jacfwd(plain_f)(X, W))
    np.testing.assert_array_equal(
        ad.jvp(saved_f, (X, W), (W, X))[1], ad.jvp(plain_f, (X, W), (W, X))[1]
    )
    np.testing.assert_array_equal(ad.hessian(saved_f)(X, W), ad.hessian(plain_f)(X, W))
    # reverse over reverse sums the same terms in another order: equal up to rounding
    np.testing.assert_allclose(
        ad.jacrev(ad.grad(saved_f))(X, W),
        ad.jacrev(ad.grad(plain_f))(X, W),
        rtol=1e-14,
        atol=1e-15,
    )
    assert ad.grad(ad.grad(ad.checkpoint(lambda x: x**3)))(2.0) == 12.0


def test_checkpoint_recomputes_in_the_backward_pass() -> None:
    calls = []

    def segment(x: Any) -> Any:
        calls.append(type(x).__name__)
        return anp.sin(x) * x

    saved = ad.checkpoint(segment)
    g = ad.grad(lambda x: saved(x) * 2.0)(0.7)
    assert g == 2.0 * (math.cos(0.7) * 0.7 + math.sin(0.7))
    # once plainly in the forward pass (no tape inside), once under vjp in the backward
    assert calls == ["float", "Node"]


def test_checkpoint_shows_by_name_in_the_trace() -> None:
    saved = ad.checkpoint(_segment)
    tr = ad.trace_evaluation(lambda x: saved(x, 2.0), 0.3)
    assert [row.op for row in tr] == ["input", "checkpoint(_segment)"]
    assert tr[1].expression == "checkpoint(_segment)(v_0, 2)"
    expected = (1.0 - math.tanh(0.6 + math.sin(0.3)) ** 2) * (2.0 + math.cos(0.3))
    assert tr.gradient == (pytest.approx(expected, rel=1e-15),)


def _peak_bytes_of_gradient(segment: Any, k: int, n: int) -> int:
    x = np.linspace(0.0, 1.0, n)

    def f(v: Any) -> Any:
        for _ in range(k):
            v = segment(v)
        return anp.sum(v)

    tracemalloc.start()
    try:
        ad.grad(f)(x)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_checkpoint_memory_grows_with_segments_not_operations() -> None:
    ops_per_segment, n = 10, 4000
    array_bytes = 8 * n

    def segment(x: Any) -> Any:
        for _ in range(ops_per_segment // 2):
            x = anp.sin(x) * 1.01
        return x

    saved = ad.checkpoint(segment)
    growth = {}
    for name, seg in (("plain", segment), ("checkpoint", saved)):
        small = _peak_bytes_of_gradient(seg, 8, n)
        large = _peak_bytes_of_gradient(seg, 24, n)
        growth[name] = (large - small) / 16 / array_bytes  # arrays kept per segment
    # Without checkpointing the tape keeps every operation's output: ~10 arrays per
    # segment. With it, only each segment's output stays on the tape: ~1 per segment.
    assert growth["plain"] > 0.8 * ops_per_segment
    assert growth["checkpoint"] < 2.0
    assert growth["plain"] / growth["checkpoint"] > 5


def test_hessian_of_an_implicit_solver_with_a_custom_jvp_is_the_closed_form() -> None:
    # The solver of how-to/loops_and_solvers.md: x(theta) with A x + x**3 = theta,
    # by Newton's method on plain arrays, and its implicit JVP as a custom rule.
    a = np.array([[3.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 5.0]])
    theta = np.array([1.0, -2.0, 0.5])

    def residual(x: Any, t: Any) -> Any:
        return anp.matmul(a, x) + x**3 - t

    @ad.custom_jvp
    def solve_system(t: Any) -> Any:
        x = np.zeros(3)
        for _ in range(30):  # converged long before (quadratic convergence)
            x = x - np.linalg.solve(a + np.diag(3 * x**2), a @ x + x**3 - t)
        return x

    @solve_system.defjvp
    def _(primals: tuple, tangents: tuple) -> tuple:
        (t,), (t_dot,) = primals, tangents
        x = solve_system(t)
        f_x = ad.jacfwd(residual, argnums=0)(x, t)
        _, f_dot = ad.jvp(lambda s: residual(x, s), (t,), (t_dot,))
        return x, -anp.linalg.solve(f_x, f_dot)

    def loss(t: Any) -> Any:
        return anp.sum(anp.sin(solve_system(t)))

    # Closed form: J = A + 3 diag(x^2), X = dx/dtheta = J^-1, and from
    # J dX/dtheta_k = -6 diag(x X[:, k]) X the second derivatives of x.
    x = solve_system(theta)
    jac = a + np.diag(3 * x**2)
    xd = np.linalg.inv(jac)
    second = -np.einsum("ia,a,aj,ak->ijk", xd, 6 * x, xd, xd)  # d2 x_i / dt_j dt_k
    want = np.einsum("i,ij,ik->jk", -np.sin(x), xd, xd) + np.einsum(
        "i,ijk->jk", np.cos(x), second
    )
    # Tolerance: the rule's solves and the closed form's inverse round differently.
    for hessian in (
        ad.hessian,
        lambda f: ad.jacrev(ad.grad(f)),
        lambda f: ad.jit(ad.hessian(f)),  # staged: traced on types, no stand-ins
    ):
        np.testing.assert_allclose(hessian(loss)(theta), want, rtol=1e-12, atol=1e-15)
    hvp = ad.hvp(loss, (theta,), (np.ones(3),))
    np.testing.assert_allclose(hvp, want @ np.ones(3), rtol=1e-12, atol=1e-15)
