"""Tests of gradient checking: it passes correct rules and catches wrong ones."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_ref.numpy as anp
from autodiff_ref import rules
from autodiff_ref.core import Primitive
from autodiff_ref.testing import check_grad, check_grads

RNG = np.random.default_rng(12345)
A = RNG.standard_normal((3, 4))

# Deliberately wrong rules, made outside the RULES table (which stays untouched).
# bad_sin says sin' = sin: wrong at first order.
bad_sin = Primitive("test_bad_sin", np.sin, derivs=[lambda ans, x: rules.sin(x)])
# good_sin's first derivative is right, but it is written with bad_cos, which
# says cos' = +sin: only second derivatives are wrong.
bad_cos = Primitive("test_bad_cos", np.cos, derivs=[lambda ans, x: rules.sin(x)])
good_sin = Primitive("test_good_sin", np.sin, derivs=[lambda ans, x: bad_cos(x)])
# A wrong linear rule: the JVP of "double" is right, its transpose (VJP) is not.
double = Primitive(
    "test_double",
    lambda x: 2.0 * x,
    jvp=lambda ts, ans, x: rules.mul(2.0, ts[0]),
    transpose=lambda ct, x: (rules.mul(3.0, ct),),
    linear_in=(0,),
)
assert all(
    p not in rules.RULES
    for p in ("test_bad_sin", "test_bad_cos", "test_good_sin", "test_double")
)


CORRECT = {
    "scalar": (lambda x, y: x * y - anp.sin(y) + anp.log(x), (2.0, 5.0)),
    "elementwise": (lambda x: anp.sum(anp.sin(x) * x**2), (RNG.standard_normal(4),)),
    "matmul_broadcast": (
        lambda x, y: anp.matmul(A, anp.tanh(x)) * y,
        (RNG.standard_normal(4), RNG.standard_normal((2, 1))),
    ),
    "tuple_output": (
        lambda x, W: (anp.exp(anp.matmul(W, x)), anp.sum(x**3)),
        (RNG.standard_normal(4), RNG.standard_normal((2, 4))),
    ),
    "quotient_sqrt": (lambda x: anp.log(x) / anp.sqrt(x), (np.array([0.5, 1.5, 3.0]),)),
    "gram": (lambda X: anp.sum(X.T @ X, axis=0), (RNG.standard_normal((3, 2)),)),
    "indexing_stack": (
        lambda x: anp.stack(
            [x[0] * x[2], anp.cos(x[1:]).sum(), anp.maximum(x[0], 2.0)]
        ),
        (np.array([0.3, -1.2, 2.5]),),
    ),
    "large_values": (lambda x: anp.exp(3.0 * x) + x**4, (np.array([2.0, 3.5]),)),
}


@pytest.mark.parametrize("name", list(CORRECT))
def test_correct_functions_pass_both_modes_to_second_order(name):
    f, args = CORRECT[name]
    check_grads(f, args, order=2, modes=("fwd", "rev"))


def test_third_order_passes():
    check_grads(lambda x: anp.sum(anp.tanh(x) * x), (np.array([0.2, -0.7]),), order=3)


def _numbers(text: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(r"-?\d+\.\d*(?:e[-+]?\d+)?", text)])


def test_wrong_first_derivative_fails_forward_mode_with_both_values():
    x = np.array([0.3, 1.0])
    with pytest.raises(AssertionError) as info:
        check_grads(lambda x: bad_sin(x), (x,), modes=("fwd",))
    message = str(info.value)
    assert "forward mode (JVP), order 1" in message
    # The message gives the direction and both values; check them against
    # what each side must be: the bad rule's sin(x) v and the true cos(x) v.
    v = _numbers(message.split("direction v =")[1].splitlines()[0])
    exact = _numbers(message.split("exact (autodiff_ref):")[1].splitlines()[0])
    approx = _numbers(message.split("finite differences:")[1].splitlines()[0])
    np.testing.assert_allclose(exact, np.sin(x) * v, rtol=1e-10)
    np.testing.assert_allclose(approx, np.cos(x) * v, rtol=1e-8)


def test_wrong_first_derivative_fails_reverse_mode_with_both_values():
    x = np.array([0.3, 1.0])
    with pytest.raises(AssertionError) as info:
        check_grads(lambda x: bad_sin(x), (x,), modes=("rev",))
    message = str(info.value)
    assert "reverse mode (VJP), order 1" in message
    v = _numbers(message.split("direction v =")[1].split("cotangent")[0])
    u = _numbers(message.split("cotangent u =")[1].splitlines()[0])
    exact = _numbers(message.split("exact (autodiff_ref):")[1].splitlines()[0])
    approx = _numbers(message.split("finite differences:")[1].splitlines()[0])
    np.testing.assert_allclose(exact, np.sum(u * np.sin(x) * v), rtol=1e-10)
    np.testing.assert_allclose(approx, np.sum(u * np.cos(x) * v), rtol=1e-8)


def test_wrong_transpose_is_caught_by_reverse_mode_only():
    f, args = (lambda x: double(x) + x, (np.array([1.0, -2.0]),))
    check_grads(f, args, modes=("fwd",))
    with pytest.raises(AssertionError, match=r"reverse mode \(VJP\), order 1"):
        check_grads(f, args, modes=("rev",))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("fwd", r"forward mode \(JVP\), order 2, of the JVP map"),
     ("rev", r"reverse mode \(VJP\), order 2, of the VJP map")],
)  # fmt: skip
def test_wrong_second_derivative_is_caught_only_at_order_two(mode, expected):
    f, args = (lambda x: anp.sum(good_sin(x) * x), (np.array([0.4, 1.1]),))
    check_grads(f, args, order=1, modes=(mode,))
    with pytest.raises(AssertionError, match=expected):
        check_grads(f, args, order=2, modes=(mode,))


def test_failures_are_reproducible_and_rng_selects_the_directions():
    def message(rng):
        with pytest.raises(AssertionError) as info:
            check_grads(bad_sin, (0.5,), rng=rng)
        return str(info.value)

    assert message(None) == message(0) == message(np.random.default_rng(0))
    assert message(1) != message(0)


def test_eps_is_the_finite_difference_step():
    f, args = (lambda x: anp.sin(x), (1.0,))
    check_grads(f, args, eps=1e-4)
    with pytest.raises(AssertionError, match="finite differences"):
        check_grads(f, args, eps=0.3, order=1)  # error ~ eps**2 / 6 ~ 1e-2


def test_tolerances():
    f, args = (lambda x: anp.sin(x), (1.0,))
    # With a step of 1e-3 the central difference is off by ~1e-7 relative.
    check_grads(f, args, eps=1e-3, rtol=1e-6, order=1)
    with pytest.raises(AssertionError, match=r"atol=0 \+ rtol=1e-12"):
        check_grads(f, args, eps=1e-3, rtol=1e-12, atol=0.0, order=1)


def test_function_not_depending_on_its_input():
    check_grads(lambda x, y: x * 2.0, (1.5, np.ones(3)))


def test_check_grad():
    check_grad(lambda x: anp.sum(anp.tanh(x) ** 2), np.array([0.1, -2.0, 3.0]))
    check_grad(
        lambda x: anp.sum(anp.exp(x)),
        np.array([0.1, 1.0]),
        method="complex",
        rtol=1e-13,
    )
    with pytest.raises(AssertionError, match=r"grad\(f\)\(x\) differs") as info:
        check_grad(lambda x: anp.sum(bad_sin(x)), np.array([0.1, 2.0]))
    exact = _numbers(str(info.value).split("exact (autodiff_ref):")[1].splitlines()[0])
    approx = _numbers(str(info.value).split("finite differences:")[1].splitlines()[0])
    np.testing.assert_allclose(exact, np.sin([0.1, 2.0]), rtol=1e-10)
    np.testing.assert_allclose(approx, np.cos([0.1, 2.0]), rtol=1e-8)


def test_bad_arguments_are_explained():
    f = lambda x: x  # noqa: E731
    with pytest.raises(TypeError, match="tuple of f's arguments"):
        check_grads(f, 1.0)
    with pytest.raises(ValueError, match="positive int"):
        check_grads(f, (1.0,), order=0)
    with pytest.raises(ValueError, match="modes"):
        check_grads(f, (1.0,), modes=("forward",))
    with pytest.raises(ValueError, match="modes"):
        check_grads(f, (1.0,), modes=())
    with pytest.raises(TypeError, match="boolean"):
        check_grads(f, (True,))


@settings(max_examples=25, deadline=None)
@given(
    x=st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4),
    c=st.floats(0.1, 3.0),
)
def test_smooth_compositions_pass_at_random_points(x, c):
    x = np.array(x)

    def f(x):
        return anp.sum(anp.exp(anp.sin(c * x)) * anp.tanh(x) + anp.sqrt(x**2 + c))

    check_grads(f, (x,), order=2)
