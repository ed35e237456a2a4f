"""The interpreter's work does not grow with the batch (issue 22, item 5).

jacfwd and jacrev push their basis through one pass (vmap of jvp, vmap of vjp),
hessian composes them, and vmap(grad) runs one backward sweep for a whole batch:
the Python work is the same for 20 directions or examples as for 160; only the
arrays grow. The measure is the number of calls of autodiff_ref's own functions
(a profile hook counting every Python function entered in the package), which,
unlike a time, does not depend on the machine or its load.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp

PACKAGE = os.path.dirname(ad.__file__) + os.sep
SMALL, LARGE = 20, 160
# The bound of issue 22: at 8 times the directions, at most 1.5 times the calls.
GROWTH = 1.5


def package_calls(fn: Callable[..., Any], *args: Any) -> tuple[int, Any]:
    """How many autodiff_ref functions ``fn(*args)`` calls, and its result."""
    count = 0

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call" and frame.f_code.co_filename.startswith(PACKAGE):
            count += 1

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        result = fn(*args)
    finally:
        sys.setprofile(previous)
    return count, result


def _tanh_problem(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    return rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)


def _jacobian(transform: str, n: int) -> tuple[int, Any, np.ndarray]:
    """The calls of one Jacobian of size n, its value, and the closed form."""
    A, x = _tanh_problem(n)
    slope = 1.0 - np.tanh(A @ x) ** 2  # tanh' at A x
    if transform == "hessian":
        # d^2/dx^2 sum(tanh(A x)) = A^T diag(tanh''(A x)) A, tanh'' = -2 tanh tanh'
        curvature = -2.0 * np.tanh(A @ x) * slope
        calls, got = package_calls(ad.hessian(lambda v: anp.sum(anp.tanh(A @ v))), x)
        return calls, got, A.T @ (curvature[:, None] * A)
    jacobian = {"jacfwd": ad.jacfwd, "jacrev": ad.jacrev}[transform]
    calls, got = package_calls(jacobian(lambda v: anp.tanh(A @ v)), x)
    return calls, got, slope[:, None] * A


@pytest.mark.parametrize("transform", ["jacfwd", "jacrev", "hessian"])
def test_a_jacobians_interpreter_work_does_not_grow_with_its_size(
    transform: str,
) -> None:
    counts = {}
    for n in (SMALL, LARGE):
        counts[n], got, want = _jacobian(transform, n)
        # A matrix product instead of n vector products: another summation order,
        # so a few ulps of the entries' scale (entries are O(1)).
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    assert counts[SMALL] > 50  # the hook sees the package's calls
    assert counts[LARGE] <= GROWTH * counts[SMALL], counts


def _mlp_loss(params: tuple[Any, ...], x: Any, y: Any) -> Any:
    W1, b1, W2 = params
    return anp.sum((anp.tanh(x @ W1 + b1) @ W2 - y) ** 2)


def _mlp_grad_by_hand(
    params: tuple[np.ndarray, ...], x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, ...]:
    W1, b1, W2 = params
    h = np.tanh(x @ W1 + b1)
    r = 2.0 * (h @ W2 - y)  # d loss / d output (a scalar: W2 is a vector)
    dz = r * W2 * (1.0 - h**2)  # through tanh: tanh' = 1 - tanh^2
    return np.outer(x, dz), dz, r * h


def test_per_example_gradients_interpreter_work_does_not_grow_with_the_batch() -> None:
    rng = np.random.default_rng(7)
    params = (
        rng.standard_normal((3, 4)),
        rng.standard_normal(4),
        rng.standard_normal(4),
    )
    per_example = ad.vmap(ad.grad(_mlp_loss), in_axes=(None, 0, 0))
    counts = {}
    for batch in (SMALL, LARGE):
        X, Y = rng.standard_normal((batch, 3)), rng.standard_normal(batch)
        counts[batch], got = package_calls(per_example, params, X, Y)
        for k, leaf in enumerate(got):
            want = np.stack(
                [_mlp_grad_by_hand(params, x, y)[k] for x, y in zip(X, Y, strict=True)]
            )
            # Batched matrix products instead of one per example: another order.
            np.testing.assert_allclose(leaf, want, rtol=1e-12, atol=1e-13)
    assert counts[SMALL] > 50
    assert counts[LARGE] <= GROWTH * counts[SMALL], counts


def test_numpys_comparison_ufuncs_on_a_batched_value_compare_per_example() -> None:
    # The program tracer's table maps each ufunc to its comparison primitive, which
    # the batching interpreter shares: np.less(x, 0) is one comparison per example.
    xs = np.array([[1.0, -2.0], [-3.0, 4.0]])
    got = ad.vmap(lambda x: anp.where(np.less(x, 0.0), -x, 2.0 * x))(xs)
    np.testing.assert_array_equal(got, np.where(xs < 0.0, -xs, 2.0 * xs))  # same ops
