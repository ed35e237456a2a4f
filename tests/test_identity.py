"""Identity by object: primitives are told apart by what they are, never by their name.

A name is for printing. Two primitives printed alike would make a program listing
lie, and a table keyed by name would treat a user's rule named ``sin`` as the
rules table's ``sin``: both are refused here, against closed forms.
"""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import display, rules, symbolic
from autodiff_ref.core import PRIMITIVES, Primitive
from autodiff_ref.graph import graph_of


def test_a_second_primitive_with_a_taken_name_is_refused():
    with pytest.raises(ValueError, match="a primitive named 'sin' exists already"):
        Primitive("sin", np.sin, derivs=[lambda ans, x: rules.cos(x)])
    assert PRIMITIVES["sin"] is rules.sin  # the table's sin keeps its name


def test_primitive_names_are_unique_and_registered():
    for name, prim in rules.RULES.items():
        assert prim.name == name
        assert PRIMITIVES[name] is prim


def _custom_sin():
    """A custom_jvp function named ``sin`` that is 2 sin(x) (issue 18, item 5)."""

    @ad.custom_jvp
    def sin(x):
        return 2.0 * anp.sin(x)

    @sin.defjvp
    def sin_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return sin(x), 2.0 * anp.cos(x) * t

    return sin


def test_run_time_primitives_get_a_name_of_their_own():
    sin = _custom_sin()
    other = _custom_sin()
    names = {rules.sin.name, sin.primitive.name, other.primitive.name}
    assert len(names) == 3
    assert sin.primitive.name.startswith("sin_")  # readable: the user's name first
    # A checkpointed function is a primitive too, with a name of its own.
    first = ad.checkpoint(anp.sin)
    second = ad.checkpoint(anp.sin)
    assert first.primitive.name != second.primitive.name


def test_a_freed_run_time_primitive_gives_its_name_back():
    sin = _custom_sin()
    name = sin.primitive.name
    del sin
    gc.collect()
    assert name not in PRIMITIVES


def test_taylor_mode_tells_a_user_rule_named_sin_from_sin():
    """Issue 18 item 5: jet memoised calls by name and mixed the two sines up."""
    sin = _custom_sin()

    def f(x):
        return sin(x) + anp.sin(x)  # 3 sin(x)

    x = 0.5
    value, slope = ad.jvp(f, (x,), (1.0,))
    assert math.isclose(value, 3 * math.sin(x), rel_tol=1e-15)  # rounding of 3 terms
    assert math.isclose(slope, 3 * math.cos(x), rel_tol=1e-15)
    primal, terms = ad.jet(f, (x,), ((1.0, 0.0),))
    # Closed form: f = 3 sin, f' = 3 cos, f'' = -3 sin (the second term is f'' h1²).
    assert math.isclose(primal, 3 * math.sin(x), rel_tol=1e-15)
    assert math.isclose(terms[0], 3 * math.cos(x), rel_tol=1e-14)
    assert math.isclose(terms[1], -3 * math.sin(x), rel_tol=1e-14)
    second = ad.derivative(f, x, order=2)
    assert math.isclose(second, -3 * math.sin(x), rel_tol=1e-14)


def test_a_program_listing_shows_the_value_only_max_apart_from_max():
    """Issue 18 item 5: the value-only max printed as the table's max."""
    x = np.array([[1.0, 5.0], [3.0, 2.0]])

    def f(v):
        # The log-sum-exp shift reads a primal maximum (no derivative), next to the
        # differentiable max of the table.
        return anp.max(v, axis=0) + v.max(axis=0)

    program = ad.make_program(f)(x)
    inner = v_max = None
    for eq in program.equations:
        if eq.prim is rules.RULES["max"]:
            inner = eq
        elif eq.prim.name.endswith("max"):
            v_max = eq
    assert inner is not None and v_max is not None
    assert inner.prim.name != v_max.prim.name
    listing = str(program)
    assert f"{inner.prim.name}(x, axis=0)" in listing.replace("v, axis", "x, axis")
    assert listing.count("max(") == 2
    assert "primal_max(" in listing
    np.testing.assert_array_equal(program(x), 2 * x.max(axis=0))


def test_a_user_rule_named_mul_is_neither_simplified_nor_compiled_as_mul():
    """x * 1 = x is an identity of the table's mul, not of every primitive named mul."""

    @ad.custom_jvp
    def mul(x, y):
        return x * y + 1.0

    def f(x):
        return mul(x, 1.0)

    program = ad.make_program(f)(2.0)
    assert [eq.prim for eq in program.equations] == [mul.primitive]
    assert ad.simplify(program, assume_finite=True)(2.0) == 3.0  # 2 * 1 + 1
    assert program.compile()(2.0) == 3.0
    assert ad.jit(f)(2.0) == 3.0
    assert f"{mul.primitive.name}(x, 1.0)" in str(program)


def test_every_printer_reads_the_one_display_table():
    """log is written ln in the trace, a program listing and a graph; \\log in LaTeX."""
    assert display.symbol(rules.log) == "ln"
    assert ad.trace_evaluation(anp.log, 2.0)[1].expression == "ln(v_0)"
    assert "ln(x)" in str(ad.make_program(lambda x: anp.log(x))(2.0))
    assert graph_of(lambda x: anp.log(x), 2.0).nodes[-1].label == "ln"
    (x,) = symbolic.symbols("x")
    assert symbolic.to_latex(anp.log(x)) == r"\log\left(x\right)"
