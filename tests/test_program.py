"""Programs, derivative programs, simplification, linearize/transpose and jit.

A program is recorded from the same primitive calls the interpreter makes, so
running it (each equation bound again) must give the interpreter's results to
the last bit, and so must its generated NumPy source and its simplified form
(the simplifications used are exact identities).  Two comparisons cannot be
bitwise, and say so where they are made:

* generated code that calls :mod:`math` on Python floats (the default, and what
  jit runs): the C library's exp, log, tan, tanh and pow differ from NumPy's
  own implementations in the last bit on some inputs;
* linearize-then-transpose against the tape: the same products, but the
  cotangents of a value used twice may be added in another order.
"""

from __future__ import annotations

import numpy as np
import pytest
from expression_strategies import X, Y, coordinates, expressions, well_conditioned
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.program import ConcretizationError, Program, Var
from autodiff_ref.symbolic import lambdify

SETTINGS = settings(max_examples=60, deadline=None)
# math's last-bit differences from NumPy, carried through at most a few dozen
# well-conditioned operations (derivatives bounded by 300, see well_conditioned).
MATH_RTOL = 1e-12


def same_bits(got, want):
    """Equal values, nan where nan, as the tests mean "to the last bit"."""
    got_leaves, want_leaves = (
        ad.tree.tree_flatten(got)[0],
        ad.tree.tree_flatten(want)[0],
    )
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves, strict=True):
        np.testing.assert_array_equal(
            np.asarray(g, dtype=float), np.asarray(w, dtype=float)
        )


def close(got, want, rtol=MATH_RTOL, atol=None):
    got_leaves, want_leaves = (
        ad.tree.tree_flatten(got)[0],
        ad.tree.tree_flatten(want)[0],
    )
    for g, w in zip(got_leaves, want_leaves, strict=True):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol if atol is None else atol)


def largest_term(program, args):
    """The largest finite magnitude among a program's inputs and intermediate values."""
    leaves = ad.tree.tree_flatten(tuple(args))[0]
    env = {id(v): x for v, x in zip(program.inputs, leaves, strict=True)}
    values = list(leaves)
    for eq in program.equations:
        inputs = [env[id(a)] if type(a) is Var else a for a in eq.args]
        env[id(eq.out)] = eq.prim.impl(*inputs, **eq.params)
        values.append(env[id(eq.out)])
    sizes = [np.abs(np.asarray(v, dtype=float)) for v in values]
    return max(float(np.max(s[np.isfinite(s)], initial=0.0)) for s in sizes)


def run_source(program: Program, *args, use_math=False):
    return program.compile(use_math)(*ad.tree.tree_flatten(args)[0])


def baydin(x1, x2):
    return anp.log(x1) + x1 * x2 - anp.sin(x2)


def rosenbrock(x):
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def mlp(params, X, Y):
    W1, b1, W2, b2 = params
    logits = anp.tanh(X @ W1 + b1) @ W2 + b2
    shifted = logits - ad.primal_value(logits).max(axis=1, keepdims=True)
    return (
        anp.sum(
            anp.log(anp.sum(anp.exp(shifted), axis=1)) - anp.sum(Y * shifted, axis=1)
        )
        / 8
    )


def mlp_data():
    rng = np.random.default_rng(1)
    params = [rng.standard_normal((5, 4)), rng.standard_normal(4), rng.standard_normal((4, 3)),
              rng.standard_normal(3)]  # fmt: skip
    return params, rng.standard_normal((8, 5)), np.eye(3)[rng.integers(0, 3, 8)]


# -- random programs ---------------------------------------------------------------
@SETTINGS
@given(expressions(), coordinates, coordinates)
def test_program_and_its_source_equal_f(expr, x0, y0):
    f = lambdify(expr, X, Y)
    with np.errstate(all="ignore"):
        want = f(x0, y0)
        program = ad.make_program(f)(x0, y0)
        same_bits(program(x0, y0), want)
        same_bits(run_source(program, x0, y0), want)
        same_bits(ad.simplify(program)(x0, y0), want)
        same_bits(run_source(ad.simplify(program), x0, y0), want)
    assume(well_conditioned(expr, {"x": x0, "y": y0}))
    close(run_source(program, x0, y0, use_math=True), want)


@SETTINGS
@given(expressions(), coordinates, coordinates, coordinates, coordinates)
def test_gradient_and_tangent_programs_equal_the_interpreter(expr, x0, y0, tx, ty):
    expression = lambdify(expr, X, Y)

    def f(x, y):
        return 1.0 * expression(x, y)  # a float even for a constant (int) expression

    gradient = ad.grad(f, argnums=(0, 1))

    def tangent(x, y, tx, ty):
        return ad.jvp(f, (x, y), (tx, ty))

    with np.errstate(all="ignore"):
        for g, args in ((gradient, (x0, y0)), (tangent, (x0, y0, tx, ty))):
            want = g(*args)
            program = ad.make_program(g)(*args)
            same_bits(program(*args), want)
            same_bits(run_source(program, *args), want)
            simple = ad.simplify(program)
            assert len(simple) <= len(program)
            same_bits(simple(*args), want)
            same_bits(run_source(simple, *args), want)
    assume(well_conditioned(expr, {"x": x0, "y": y0}))
    close(ad.jit(gradient)(x0, y0), gradient(x0, y0))
    close(ad.jit(tangent)(x0, y0, tx, ty), tangent(x0, y0, tx, ty))
    close(ad.grad(ad.jit(f), argnums=(0, 1))(x0, y0), gradient(x0, y0))


@settings(max_examples=30, deadline=None)
@given(expressions(max_depth=4), coordinates, coordinates, coordinates, coordinates)
def test_hessian_and_hvp_programs_equal_the_interpreter(expr, x0, y0, tx, ty):
    f = lambdify(expr, X, Y)

    def scalar(v):
        return 1.0 * f(v[0], v[1])  # a float even for a constant (int) expression

    v, t = np.array([x0, y0]), np.array([tx, ty])

    def hvp(v, t):
        return ad.hvp(scalar, (v,), (t,))

    with np.errstate(all="ignore"):
        for g, args in ((ad.hessian(scalar), (v,)), (hvp, (v, t))):
            want = g(*args)
            program = ad.make_program(g)(*args)
            same_bits(program(*args), want)
            same_bits(run_source(program, *args), want)
            same_bits(ad.simplify(program)(*args), want)
    assume(well_conditioned(expr, {"x": x0, "y": y0}))
    close(ad.jit(ad.hessian(scalar))(v), ad.hessian(scalar)(v))
    close(ad.jit(hvp)(v, t), hvp(v, t))
    close(ad.hessian(ad.jit(scalar))(v), ad.hessian(scalar)(v))


@SETTINGS
@given(expressions(), coordinates, coordinates, coordinates)
def test_vjp_by_linearize_and_transpose_equals_the_tape(expr, x0, y0, ct):
    f = lambdify(expr, X, Y)
    assume(well_conditioned(expr, {"x": x0, "y": y0}))
    out, f_jvp = ad.linearize(f, x0, y0)
    want_out, vjp_fn = ad.vjp(f, x0, y0)
    assert out == want_out
    same_bits(f_jvp(0.5, -1.5), ad.jvp(f, (x0, y0), (0.5, -1.5))[1])
    # The same local products; only the order in which fan-in is summed may differ.
    close(ad.linear_transpose(f_jvp, x0, y0)(ct), vjp_fn(ct), rtol=1e-15)


@st.composite
def linear_cases(draw):
    expr = draw(expressions(max_depth=4))
    point = [draw(coordinates) for _ in range(3)]
    tangent = np.array([draw(coordinates) for _ in range(3)])
    cotangent = np.array([draw(coordinates) for _ in range(2)])
    return expr, np.array(point), tangent, cotangent


@SETTINGS
@given(linear_cases())
def test_dot_product_test_for_linear_transpose(case):
    expr, point, t, c = case
    f = lambdify(expr, X, Y)
    assume(well_conditioned(expr, {"x": point[0], "y": point[1]}))
    assume(well_conditioned(expr, {"x": point[1], "y": point[2]}))

    def F(v):  # R^3 -> R^2, through matmul, indexing and stack
        A = np.array([[1.0, -2.0, 0.5], [0.25, 1.0, 3.0]])
        return anp.stack([f(v[0], v[1]), f(v[1], v[2])]) + A @ v

    _, f_lin = ad.linearize(F, point)
    (back,) = ad.linear_transpose(f_lin, point)(c)
    lhs, rhs = np.dot(c, f_lin(t)), np.dot(back, t)
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(back, ad.vjp(F, point)[1](c)[0], rtol=1e-15, atol=1e-15)


# -- fixed examples ------------------------------------------------------------------
def test_listing_and_source_of_baydin():
    program = ad.make_program(baydin)(2.0, 5.0)
    text = str(program)
    assert text.splitlines()[0] == "program baydin(x1: float, x2: float)"
    assert "v1  ln(x1)" in text and text.endswith("return v5")
    assert "math.log(x1)" in program.source and "math.sin(x2)" in program.source
    assert "np.log(x1)" in program.to_source(use_math=False)[0]
    assert len(program) == 5


def test_gradient_program_is_the_reverse_sweep():
    program = ad.simplify(ad.make_program(ad.grad(baydin, argnums=(0, 1)))(2.0, 5.0))
    # d/dx1 = 1/x1 + x2 and d/dx2 = x1 - cos(x2): the forward lines are dead code.
    assert [eq.prim.name for eq in program.equations] == [
        "cos",
        "mul",
        "add",
        "div",
        "add",
    ]
    assert program(2.0, 5.0) == (0.5 + 5.0, 2.0 - np.cos(5.0))


def test_simplify_deletes_the_lines_of_a_zero_tangent():
    def d_dx1(x1, x2):
        return ad.jvp(baydin, (x1, x2), (1.0, 0.0))[1]

    program = ad.make_program(d_dx1)(2.0, 5.0)
    assert "cos" in {eq.prim.name for eq in program.equations}
    exact = ad.simplify(program)
    finite = ad.simplify(program, assume_finite=True)
    assert "cos" in {
        eq.prim.name for eq in exact.equations
    }  # cos(x2) * 0 is nan at inf
    assert [eq.prim.name for eq in finite.equations] == ["div", "add"]
    assert finite(2.0, 5.0) == program(2.0, 5.0) == 5.5
    with np.errstate(invalid="ignore"):
        assert np.isnan(program(2.0, np.inf)) and np.isnan(exact(2.0, np.inf))


def test_simplify_folds_constants_and_shares_subexpressions():
    def f(x):
        c = anp.sin(np.ones(3))  # a constant: computed while tracing
        return anp.exp(x) * c + anp.exp(x) * 1.0 - 0.0

    program = ad.make_program(f)(np.zeros(3))
    simple = ad.simplify(program)
    assert [eq.prim.name for eq in simple.equations] == ["exp", "mul", "add"]
    x = np.array([0.5, -1.0, 2.0])
    same_bits(simple(x), f(x))


def test_constant_folding_of_a_substituted_program():
    program = ad.make_program(lambda x, y: anp.sin(y) * x)(1.0, 2.0)
    assert [eq.prim.name for eq in program.equations] == ["sin", "mul"]


def test_array_programs_equal_the_interpreter():
    x = np.random.default_rng(0).uniform(-2, 2, 7)
    x_before = x.copy()
    for g in (
        rosenbrock,
        ad.grad(rosenbrock),
        ad.hessian(rosenbrock),
        lambda x: x**1.0 * 2,
    ):
        program = ad.make_program(g)(x)
        same_bits(program(x), g(x))
        same_bits(run_source(program, x), g(x))
        same_bits(run_source(ad.simplify(program), x), g(x))
        same_bits(ad.jit(g)(x), g(x))
    np.testing.assert_array_equal(
        x, x_before
    )  # generated code reuses only its own arrays
    params, Xs, Ys = mlp_data()
    gradient = ad.grad(mlp)
    same_bits(ad.jit(gradient)(params, Xs, Ys), gradient(params, Xs, Ys))
    same_bits(ad.jit(mlp)(params, Xs, Ys), mlp(params, Xs, Ys))
    close(ad.grad(ad.jit(mlp))(params, Xs, Ys), gradient(params, Xs, Ys), rtol=1e-15)


def test_jit_composes_with_transforms_in_any_order():
    x = np.array([0.3, -1.2, 2.0])
    same_bits(ad.grad(ad.jit(rosenbrock))(x), ad.grad(rosenbrock)(x))
    same_bits(ad.jit(ad.grad(ad.jit(rosenbrock)))(x), ad.grad(rosenbrock)(x))
    same_bits(ad.jit(ad.hessian(rosenbrock))(x), ad.hessian(rosenbrock)(x))
    same_bits(ad.hessian(ad.jit(rosenbrock))(x), ad.hessian(rosenbrock)(x))
    same_bits(ad.jacfwd(ad.jit(ad.grad(rosenbrock)))(x), ad.hessian(rosenbrock)(x))
    same_bits(ad.jit(ad.jit(rosenbrock))(x), rosenbrock(x))
    program = ad.make_program(ad.jit(rosenbrock))(x)  # inlined: its equations, recorded
    assert len(program) == len(ad.jit(rosenbrock).program(x))


def test_jit_retraces_on_new_shapes_dtypes_and_static_values():
    calls = []

    def f(x, power):
        calls.append(1)
        return anp.sum(x**power)

    g = ad.jit(f, static_argnums=1)
    assert g(np.ones(3), 2) == 3.0
    assert g(np.full(3, 2.0), 2) == 12.0  # same shape and dtype: the same code
    assert g.traces == 1 and len(calls) == 1
    g(np.ones(4), 2)  # new shape
    assert g.traces == 2
    g(np.ones(4, dtype=np.float32), 2)  # new dtype
    assert g.traces == 3
    assert g(np.ones(4), 3) == 4.0  # new static value
    assert g.traces == 4
    g(np.ones(4), 3)
    assert g.traces == 4 and len(calls) == 4
    h = ad.jit(lambda x: x * 2.0)
    h(1.0), h(np.float64(1.0)), h(np.array(1.0)), h(1.0)
    assert h.traces == 3  # a Python float, a NumPy scalar and a 0-d array differ


def test_control_flow_on_a_traced_value_says_what_to_do():
    def relu(x):
        if x > 0:
            return x
        return 0.0

    with pytest.raises(ConcretizationError) as info:
        ad.jit(relu)(1.0)
    message = str(info.value)
    assert (
        "test_program.py" in message and "if x > 0:" in message and "in relu" in message
    )
    assert "autodiff_ref.numpy.where" in message and "static_argnums" in message
    assert "do not jit" in message
    assert ad.jit(lambda x: anp.where(x > 0, x, 0.0))(-1.0) == 0.0
    assert ad.jit(relu, static_argnums=0)(2.0) == 2.0
    with pytest.raises(ConcretizationError, match="float"):
        ad.make_program(lambda x: float(x))(1.0)
    with pytest.raises(ConcretizationError, match="bool"):  # np.all on a traced value
        ad.jit(lambda x: x if np.all(np.real(x) > 0) else -x)(np.ones(2))

    def uses_shapes(x):  # what an abstract value knows, NumPy's functions can ask
        assert (np.shape(x), np.ndim(x), np.size(x)) == ((2, 3), 2, 6)
        assert np.result_type(x, 1) == np.float64
        return x * 2.0

    np.testing.assert_array_equal(
        ad.jit(uses_shapes)(np.ones((2, 3))), np.full((2, 3), 2.0)
    )


def test_math_errors_fall_back_to_numpy_values():
    f = ad.jit(lambda x: (anp.log(x), 1.0 / x, anp.sqrt(x)))
    assert "math.log" in f.program(1.0).source  # raises ValueError at 0.0
    with np.errstate(all="ignore"):
        log, reciprocal, sqrt = f(0.0)
        assert (log, reciprocal, sqrt) == (-np.inf, np.inf, 0.0)
        assert np.isnan(f(-1.0)[2])


def test_program_refuses_other_shapes_and_takes_closed_over_values():
    program = ad.make_program(rosenbrock)(np.ones(3))
    with pytest.raises(TypeError, match="traced for"):
        program(np.ones(4))
    # A value of an enclosing transform is a constant of the program, computed by it:
    assert ad.grad(lambda y: ad.make_program(lambda x: x * y)(1.0)(3.0))(2.0) == 3.0
    g = ad.grad(lambda y: ad.jit(lambda x: x * y)(3.0))
    assert g(2.0) == g(5.0) == 3.0  # and a jit does not keep such a program


def test_linear_transpose_refuses_a_nonlinear_function():
    with pytest.raises(ValueError, match="not linear"):
        ad.linear_transpose(lambda x: x * x, 1.0)
    with pytest.raises(ValueError, match="not linear"):
        ad.linear_transpose(lambda x: x + 1.0, 1.0)
    A = np.arange(6.0).reshape(2, 3)
    (back,) = ad.linear_transpose(lambda v: A @ v, np.zeros(3))(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(back, A.T @ np.array([1.0, -1.0]))


def test_outputs_that_do_not_depend_on_the_inputs():
    program = ad.make_program(lambda x: (x * 2.0, 3.0))(1.0)
    assert program(4.0) == (8.0, 3.0)
    assert ad.jit(lambda x: (x * 2.0, 3.0))(4.0) == (8.0, 3.0)
    assert ad.grad(lambda x: ad.jit(lambda y: 3.0)(x) + x)(1.0) == 1.0


def test_simplify_rewrites_are_exact():
    # -(c * x) -> (-c) * x, a repeated constant as a scalar, scatters of one index merged
    def f(x):
        return -(2.0 * x[:-1] ** 2) * np.full(3, 100.0) + anp.sin(x[:-1])

    x = np.array([0.1, -2.0, 3.5, np.inf])
    with np.errstate(invalid="ignore"):
        for g in (f, ad.grad(lambda x: anp.sum(f(x)))):
            program = ad.make_program(g)(x)
            simple = ad.simplify(program)
            same_bits(simple(x), g(x))
            same_bits(run_source(simple, x), g(x))
    simple = ad.simplify(ad.make_program(ad.grad(lambda x: anp.sum(f(x))))(x))
    names = [eq.prim.name for eq in simple.equations]
    assert names.count("scatter_add") == 1 and "neg" not in names


def test_power_of_two_products_fold_exactly():
    # c * (2 * x) -> (2 c) * x: the same single rounding, overflow and subnormals included
    x = np.array([1.0, 1e308, -1e308, 5e-324, 3e-310, np.nan, -0.0, 0.1])
    for c, folds in (
        (3.0, True),
        (-7.5, True),
        (1e300, True),
        (0.1, False),
        (1e-300, False),
    ):
        program = ad.make_program(lambda v, c=c: c * (2.0 * v))(x)
        simple = ad.simplify(program)
        assert len(simple) == (
            1 if folds else 2
        )  # |c| < 1: 2 x may overflow, c 2 x not
        with np.errstate(all="ignore"):
            same_bits(simple(x), program(x))
            assert np.array_equal(np.signbit(simple(x)), np.signbit(program(x)))
    folded = ad.simplify(ad.make_program(lambda v: 0.5 * (3.0 * v))(x))
    assert len(folded) == 2  # 3 is no power of two: two roundings stay two


@settings(max_examples=25, deadline=None)
@given(expressions(max_depth=4), coordinates, coordinates, coordinates)
def test_every_transform_jitted_equals_unjitted(expr, x0, y0, c):
    expression = lambdify(expr, X, Y)

    def f(x, y):
        return 1.0 * expression(x, y)  # a float even for a constant (int) expression

    assume(well_conditioned(expr, {"x": x0, "y": y0}))

    def F(v):
        return anp.stack([f(v[0], v[1]), f(v[1], v[0]) * v[0]])

    v = np.array([x0, y0])
    transforms = {
        "jacfwd": (ad.jacfwd(F), (v,)),
        "jacrev": (ad.jacrev(F), (v,)),
        "value_and_grad": (ad.value_and_grad(f, argnums=(0, 1)), (x0, y0)),
        "derivative": (
            lambda x: ad.derivative(lambda t: ad.derivative(lambda s: f(s, y0), t), x),
            (x0,),
        ),
        "vjp": (lambda v, c: ad.vjp(F, v)[1](anp.stack([c, 1.0])), (v, c)),
        "linearize": (lambda v, t: ad.linearize(F, v)[1](t), (v, np.array([c, 1.0]))),
    }
    with np.errstate(all="ignore"):
        for g, args in transforms.values():
            want = g(*args)
            program = ad.make_program(g)(*args)
            same_bits(program(*args), want)
            # jit's code calls math where the program calls NumPy: last-bit
            # differences in each term, so an output that is a difference of terms
            # (tanh(x**-2)'s derivatives: terms of size 100, sum near 0) is off by
            # MATH_RTOL times the largest term, not times the output.
            scale = max(1.0, largest_term(program, args))
            close(ad.jit(g)(*args), want, atol=MATH_RTOL * scale)
