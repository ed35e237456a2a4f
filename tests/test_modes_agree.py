"""Every way of differentiating agrees on random expressions (Hypothesis).

Forward mode (dual numbers), reverse mode (a tape), symbolic differentiation
(an expression) and the complex-step difference are four independent
computations of the same derivative: the first three share only the rules
table, the last shares nothing but the function's values.
"""

from __future__ import annotations

import numpy as np
from expression_strategies import X, Y, coordinates, expressions, well_conditioned
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.symbolic import diff, evaluate, lambdify

H = 1e-20  # the complex step: no subtraction, so no cancellation, so h can be tiny
SETTINGS = settings(max_examples=80, deadline=None)


def complex_step(expr, point, var):
    shifted = {k: v + 1j * H if k == var else v for k, v in point.items()}
    with ad.numerical.complex_step_stand_ins():  # abs(z) would be |z|
        return np.imag(evaluate(expr, **shifted)) / H


@SETTINGS
@given(expressions(), coordinates, coordinates)
def test_first_derivatives_agree(expr, x0, y0):
    point = {"x": x0, "y": y0}
    assume(well_conditioned(expr, point))
    f = lambdify(expr, X, Y)
    forward = (ad.jvp(f, (x0, y0), (1.0, 0.0))[1], ad.jvp(f, (x0, y0), (0.0, 1.0))[1])
    one_variable = (
        ad.derivative(lambda t: f(t, y0), x0),
        ad.derivative(lambda t: f(x0, t), y0),
    )
    # A constant expression such as 2 returns an int, which grad refuses (as JAX does):
    # 1.0 * makes every output a float without changing any derivative.
    reverse = ad.grad(lambda a, b: 1.0 * f(a, b), argnums=(0, 1))(x0, y0)
    symbolic = (evaluate(diff(expr, X), **point), evaluate(diff(expr, Y), **point))
    steps = (complex_step(expr, point, "x"), complex_step(expr, point, "y"))
    # The modes use the same rules on the same values: equal up to a few roundings.
    np.testing.assert_allclose(symbolic, forward, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(one_variable, forward, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(reverse, forward, rtol=1e-12, atol=1e-12)
    # The complex step knows nothing of the rules.
    np.testing.assert_allclose(steps, forward, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(expressions(), coordinates, coordinates)
def test_simplify_keeps_values_and_is_idempotent(expr, x0, y0):
    from autodiff_ref.symbolic import simplify

    simple = simplify(expr)
    assert simplify(simple) is simple
    point = {"x": x0, "y": y0}
    assume(well_conditioned(expr, point))
    np.testing.assert_allclose(
        evaluate(simple, **point), evaluate(expr, **point), rtol=1e-12
    )
    d = diff(expr, X, simplify=True)
    np.testing.assert_allclose(
        evaluate(d, **point), evaluate(diff(expr, X), **point), rtol=1e-12, atol=1e-12
    )


@st.composite
def vector_functions(draw, n_inputs=3, n_outputs=3):
    """F: R^n -> R^m whose k-th output is a random tree applied to two of the inputs."""
    trees = [draw(expressions(max_depth=4)) for _ in range(n_outputs)]
    wiring = [
        draw(st.tuples(*[st.integers(0, n_inputs - 1)] * 2)) for _ in range(n_outputs)
    ]
    point = np.array([draw(coordinates) for _ in range(n_inputs)])
    return trees, wiring, point


@settings(max_examples=50, deadline=None)
@given(vector_functions())
def test_jacfwd_equals_jacrev_equals_symbolic(case):
    trees, wiring, v = case
    for tree, (i, j) in zip(trees, wiring, strict=True):
        assume(well_conditioned(tree, {"x": v[i], "y": v[j]}))
    functions = [lambdify(tree, X, Y) for tree in trees]

    def F(v):
        return anp.stack(
            [f(v[i], v[j]) for f, (i, j) in zip(functions, wiring, strict=True)]
        )

    # The chain rule for the wiring, by hand, from symbolic and complex-step partials.
    symbolic = np.zeros((len(trees), len(v)))
    steps = np.zeros((len(trees), len(v)))
    for k, (tree, (i, j)) in enumerate(zip(trees, wiring, strict=True)):
        point = {"x": v[i], "y": v[j]}
        symbolic[k, i] += evaluate(diff(tree, X), **point)
        symbolic[k, j] += evaluate(diff(tree, Y), **point)
        steps[k, i] += complex_step(tree, point, "x")
        steps[k, j] += complex_step(tree, point, "y")
    forward, reverse = ad.jacfwd(F)(v), ad.jacrev(F)(v)
    assert forward.shape == reverse.shape == (len(trees), len(v))
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(forward, symbolic, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(forward, steps, rtol=1e-9, atol=1e-9)


def central_difference_jacobian(g, v, h=1e-4):
    """Jacobian of g by central differences with one Richardson step (error O(h^4))."""
    columns = []
    for i in range(len(v)):
        e = np.zeros_like(v)
        e[i] = 1.0

        def central(step, e=e):
            return (np.asarray(g(v + step * e)) - np.asarray(g(v - step * e))) / (
                2 * step
            )

        columns.append((4 * central(h / 2) - central(h)) / 3)
    return np.stack(columns, axis=-1)


@SETTINGS
@given(expressions(max_depth=4), coordinates, coordinates)
def test_hessian(expr, x0, y0):
    point = {"x": x0, "y": y0}
    # The finite differences below step 1e-4 to each side: a kink (abs, max,
    # min) must stay well outside that reach, not just 1e-6 away.
    assume(well_conditioned(expr, point, kink=1e-2))
    first = [diff(expr, X), diff(expr, Y)]
    # Bounded second and third derivatives keep the finite differences accurate.
    assume(all(well_conditioned(d, point, bound=1e2) for d in first))
    second = np.array(
        [[evaluate(diff(d, var), **point) for var in (X, Y)] for d in first]
    )
    f = lambdify(expr, X, Y)

    def scalar(v):
        return 1.0 * f(v[0], v[1])  # a float even for a constant (int) expression

    v = np.array([x0, y0])
    hessian = ad.hessian(scalar)(v)
    assert hessian.shape == (2, 2)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        hessian, ad.jacrev(ad.grad(scalar))(v), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(hessian, second, rtol=1e-12, atol=1e-12)
    with np.errstate(all="ignore"):  # the shifted points may leave a guarded region
        differences = central_difference_jacobian(ad.grad(scalar), v)
    np.testing.assert_allclose(hessian, differences, rtol=1e-6, atol=1e-6)


@SETTINGS
@given(expressions(), coordinates, coordinates, st.floats(-2.0, 2.0))
def test_linearize_then_transpose_equals_the_tapes_vjp(expr, x0, y0, ct):
    """Autodidax's vjp = linear_transpose(linearize(f)) against the reverse-mode tape."""
    point = {"x": x0, "y": y0}
    assume(well_conditioned(expr, point))
    f = lambdify(expr, X, Y)
    out, f_jvp = ad.linearize(f, x0, y0)
    transposed = ad.linear_transpose(f_jvp, x0, y0)(ct)
    value, vjp_fn = ad.vjp(f, x0, y0)
    tape = vjp_fn(ct)
    # The same rules, the same products, summed in possibly another order.
    np.testing.assert_allclose(out, value, rtol=1e-15, atol=0)
    np.testing.assert_allclose(transposed, tape, rtol=1e-12, atol=1e-12)
