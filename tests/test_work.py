"""autodiff_ref/work.py: the work counts the Performance page derives its floors from."""

from __future__ import annotations

import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.rules import RULES
from autodiff_ref.work import counting, work


def test_counts_fresh_arrays_and_skips_views() -> None:
    x = np.ones((4, 5))
    tally = work(lambda: ad.vjp(lambda v: anp.sum(anp.exp(v[1:]).T * 2.0), x))
    # x[1:] and .T are views; exp and * write 15 numbers each; sum gives a scalar
    assert tally == {"calls": 5, "written": 30}


def test_matrix_products_count_multiply_adds() -> None:
    a, b = np.ones((3, 4)), np.ones((4, 5))
    assert work(lambda: anp.matmul(a, b))["multiply_adds"] == 3 * 4 * 5
    assert work(lambda: a @ b) == {}  # NumPy's own operator: not a primitive
    # the gradient of sum(a @ b) in a and b: a forward product, two backward products
    tally = work(lambda: ad.grad(lambda p, q: anp.sum(p @ q), argnums=(0, 1))(a, b))
    assert tally["multiply_adds"] == 3 * 4 * 5 + 3 * 5 * 4 + 4 * 3 * 5


def test_the_gradient_of_a_product_writes_what_the_rules_say() -> None:
    """f = sum(x * y): the forward writes n, the backward y * 1 and x * 1 (2n more)."""
    n = 100
    x, y = np.ones(n), np.ones(n)
    forward = work(lambda: ad.vjp(lambda p: anp.sum(p * y), x))
    gradient = work(lambda: ad.grad(lambda p, q: anp.sum(p * q), argnums=(0, 1))(x, y))
    assert forward["written"] == n
    assert gradient["written"] == 3 * n


def test_counting_restores_every_implementation() -> None:
    before = {name: prim.impl for name, prim in RULES.items()}
    try:
        with counting():
            raise RuntimeError("inside")
    except RuntimeError:
        pass
    assert {name: prim.impl for name, prim in RULES.items()} == before
