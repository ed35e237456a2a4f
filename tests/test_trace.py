"""Tests of the evaluation trace: values against Baydin et al. (2018) and closed forms."""

import re

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import numerical, rules
from autodiff_ref.display import expression as render_expression
from autodiff_ref.evaluation_trace import (
    EvaluationTrace,
    format_value,
    input_names,
)
from autodiff_ref.evaluation_trace import (
    trace_evaluation as trace,
)


def baydin(x1, x2):
    """Baydin et al., JMLR 2018, sec. 3: the order of Table 2."""
    v1 = anp.log(x1)
    v2 = x1 * x2
    v3 = anp.sin(x2)
    v4 = v1 + v2
    return v4 - v3


def baydin_implicit(x1, x2):
    return anp.log(x1) + x1 * x2 - anp.sin(x2)  # Python adds before it takes the sine


@pytest.fixture
def tr() -> EvaluationTrace:
    return trace(baydin, 2.0, 5.0)


# -- the paper's table ------------------------------------------------------------
def test_baydin_rows_match_the_paper_to_three_decimals(tr):
    # Values as printed in Baydin et al. (2018), Tables 2 (forward) and 3 (reverse).
    expected = {
        # i: (expression, primal, tangent with x1_dot=1 x2_dot=0, adjoint with y_bar=1)
        -1: ("x1", 2.000, 1.0, 5.500),
        0: ("x2", 5.000, 0.0, 1.716),
        1: ("ln(v_{-1})", 0.693, 0.5, 1.0),
        2: ("v_{-1} × v_0", 10.000, 5.0, 1.0),
        3: ("sin(v_0)", -0.959, 0.0, -1.0),
        4: ("v_1 + v_2", 10.693, 5.5, 1.0),
        5: ("v_4 - v_3", 11.652, 5.5, 1.0),
    }
    assert [row.index for row in tr] == list(expected)
    for row in tr:
        expression, primal, tangent, adjoint = expected[row.index]
        assert row.expression == expression
        assert round(row.primal, 3) == primal
        assert round(row.tangent, 3) == tangent
        assert round(row.adjoint, 3) == adjoint
    assert [row.op for row in tr] == [
        "input",
        "input",
        "log",
        "mul",
        "sin",
        "add",
        "sub",
    ]
    assert [row.is_output for row in tr] == [False] * 6 + [True]


def test_baydin_rows_at_full_precision(tr):
    x1, x2 = 2.0, 5.0
    primal = [x1, x2, np.log(x1), x1 * x2, np.sin(x2), np.log(x1) + x1 * x2]
    primal.append(primal[-1] - np.sin(x2))
    # d/dx1 of each variable, by hand.
    tangent = [1.0, 0.0, 1 / x1, x2, 0.0, 1 / x1 + x2, 1 / x1 + x2]
    # dy/dv_i, by hand: y = v4 - v3, v4 = v1 + v2, ...
    adjoint = [1 / x1 + x2, x1 - np.cos(x2), 1.0, 1.0, -1.0, 1.0, 1.0]
    np.testing.assert_allclose(tr.primal_trace(), primal, rtol=1e-15)
    np.testing.assert_allclose(tr.tangent_trace(), tangent, rtol=1e-15)
    np.testing.assert_allclose(tr.adjoint_trace(), adjoint, rtol=1e-15)
    assert tr.output == pytest.approx(np.log(2) + 10 - np.sin(5), rel=1e-15)
    assert tr.directional_derivative == pytest.approx(0.5 + 5, rel=1e-15)
    np.testing.assert_allclose(tr.gradient, [0.5 + 5, 2 - np.cos(5)], rtol=1e-15)
    # Independent check of the gradient: complex-step differences.
    f = lambda x: np.log(x[0]) + x[0] * x[1] - np.sin(x[1])  # noqa: E731
    np.testing.assert_allclose(
        tr.gradient, numerical.gradient(f, [2.0, 5.0], method="complex"), rtol=1e-14
    )


def test_local_derivatives_of_the_baydin_rows(tr):
    # ∂v_i/∂v_j: what the reverse sweep multiplies the adjoints by.
    assert tr[1].parents == (-1,) and tr[1].partials == pytest.approx((0.5,))
    assert tr[2].parents == (-1, 0) and tr[2].partials == pytest.approx((5.0, 2.0))
    assert tr[3].partials == pytest.approx((np.cos(5.0),))
    assert tr[5].parents == (4, 3) and tr[5].partials == pytest.approx((1.0, -1.0))
    # Each adjoint is the sum over the variable's uses of (local derivative) x (adjoint).
    for row in tr:
        uses = [
            (r, d)
            for r in tr
            for p, d in zip(r.parents, r.partials, strict=True)
            if p == row.index
        ]
        if uses:
            assert row.adjoint == pytest.approx(sum(d * r.adjoint for r, d in uses))


def test_implicit_python_expression_has_the_same_rows_in_another_order(tr):
    implicit = trace(baydin_implicit, 2.0, 5.0)
    assert [row.op for row in implicit] == [
        "input",
        "input",
        "log",
        "mul",
        "add",
        "sin",
        "sub",
    ]

    def contents(t):
        return sorted((r.op, r.primal, r.tangent, r.adjoint) for r in t)

    assert contents(implicit) == contents(tr)
    assert implicit[5].expression == "v_3 - v_4"  # the sine is now v_4


def test_rows_are_indexed_by_variable_index_and_name(tr):
    assert tr[-1] is tr["v_{-1}"] is tr.rows[0]
    assert tr[5].name == "v_5"
    assert len(tr) == 7 and len(tr.inputs) == 2
    with pytest.raises(KeyError, match="indices run from -1 to 5"):
        tr[6]
    with pytest.raises(KeyError, match="no variable named"):
        tr["v_6"]


# -- output formats -----------------------------------------------------------------
def test_text_table_has_the_rows(tr):
    text = tr.to_text(precision=3)
    assert str(tr) == repr(tr) == tr.to_text()
    lines = text.splitlines()
    assert (
        lines[0]
        == "baydin(x1=2, x2=5); tangents: x1_dot=1, x2_dot=0; adjoint seed: y_bar=1"
    )
    assert lines[1].split() == ["v", "expression", "primal", "tangent", "adjoint"]
    assert lines[3].split() == ["v_{-1}", "x1", "2.000", "1.000", "5.500"]
    assert lines[4].split() == ["v_0", "x2", "5.000", "0.000", "1.716"]
    assert lines[6].split() == ["v_2", "v_{-1}", "×", "v_0", "10.000", "5.000", "1.000"]
    assert lines[7].split() == ["v_3", "sin(v_0)", "-0.959", "0.000", "-1.000"]
    assert lines[9].split() == [
        "y",
        "=",
        "v_5",
        "v_4",
        "-",
        "v_3",
        "11.652",
        "5.500",
        "1.000",
    ]
    assert len(lines) == 10
    # Aligned: the number columns end at the same place on every line.
    assert len({len(line) for line in lines[1:]}) == 1


def test_html_table_has_the_rows_with_subscripts(tr):
    page = tr._repr_html_()
    assert page == tr.to_html()
    assert page.startswith("<table") and page.rstrip().endswith("</table>")
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    assert len(rows) == 1 + 7  # header and one per variable
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r) for r in rows]
    assert cells[0] == ["v", "expression", "primal", "tangent", "adjoint"]
    assert cells[1] == ["v<sub>-1</sub>", "x1", "2.0000", "1.0000", "5.5000"]
    assert cells[3] == [
        "v<sub>1</sub>",
        "ln(v<sub>-1</sub>)",
        "0.6931",
        "0.5000",
        "1.0000",
    ]
    assert cells[4][1] == "v<sub>-1</sub> × v<sub>0</sub>"
    assert cells[7][0] == "y = v<sub>5</sub>"


def test_html_escapes_user_text():
    page = trace(lambda a, b: a * b, 1.0, 2.0, names=("<b>", "a&b")).to_html()
    assert "&lt;b&gt;" in page and "a&amp;b" in page
    assert "<b>" not in page


def test_markdown_table():
    md = trace(lambda x: anp.abs(x) * 2.0, -1.5).to_markdown()
    lines = md.splitlines()
    assert lines[0] == "| v | expression | primal | tangent | adjoint |"
    assert lines[2] == "| v<sub>0</sub> | x | -1.5000 | 1.0000 | -2.0000 |"
    assert (
        lines[3] == "| v<sub>1</sub> | abs(v<sub>0</sub>) | 1.5000 | -1.0000 | 2.0000 |"
    )
    assert len(lines) == 5


# -- constants, fan-out, dead code ------------------------------------------------------
def test_constants_appear_as_literals():
    tr = trace(lambda x: 3.0 * x**2 + 1.0 - (-2.0) / x, 2.0)
    assert [r.expression for r in tr] == [
        "x",
        "v_0 ** 2",
        "3 × v_1",
        "v_2 + 1",
        "(-2) / v_0",
        "v_3 - v_4",
    ]
    assert tr[1].inputs == ("v_0", "2") and tr[1].parents == (0,)
    assert tr[1].partials == pytest.approx((4.0,))  # d(x**2)/dx = 2x
    x = 2.0
    assert tr.output == pytest.approx(3 * x**2 + 1 + 2 / x, rel=1e-15)
    assert tr.gradient[0] == pytest.approx(6 * x - 2 / x**2, rel=1e-15)
    assert tr.directional_derivative == pytest.approx(6 * x - 2 / x**2, rel=1e-15)


def test_fan_out_adds_the_adjoint_contributions():
    x = 0.7
    tr = trace(lambda x: x * anp.sin(x), x)  # x is read by mul and by sin
    assert tr[2].parents == (0, 1)
    assert tr[0].adjoint == pytest.approx(np.sin(x) + x * np.cos(x), rel=1e-15)
    square = trace(lambda x: x * x, x)
    assert square[1].parents == (0, 0) and square[1].expression == "v_0 × v_0"
    assert square[1].partials == pytest.approx((x, x))
    assert square.gradient[0] == pytest.approx(2 * x, rel=1e-15)


def test_unused_rows_have_zero_adjoint_and_the_output_need_not_be_last():
    def f(x):
        y = 2.0 * x
        anp.sin(x)  # computed, recorded, unused
        return y

    tr = trace(f, 1.0)
    assert [r.op for r in tr] == ["input", "mul", "sin"]
    assert tr[1].is_output and not tr[2].is_output
    assert tr[2].adjoint == 0.0 and tr[2].tangent == pytest.approx(np.cos(1.0))
    assert tr.gradient == (2.0,)


def test_output_that_is_an_input_or_a_constant():
    tr = trace(lambda x, y: x, 1.0, 2.0)
    assert tr[-1].is_output and tr.gradient == (1.0, 0.0)
    constant = trace(lambda x: 3.0, 1.0)
    assert constant.output == 3.0 and constant.gradient == (0.0,)
    assert constant.directional_derivative == 0.0


def test_a_variable_read_without_derivative_is_named():
    # where's condition has no derivative: it is not a parent, but still a variable.
    c, x = np.array([1.0, 0.0]), np.array([2.0, 3.0])
    tr = trace(lambda c, x: anp.sum(anp.where(c, x, 0.0)), c, x)
    assert tr[1].expression == "where(v_{-1}, v_0, 0)"
    assert tr[1].parents == (0,)
    np.testing.assert_array_equal(tr.gradient[1], [1.0, 0.0])
    np.testing.assert_array_equal(tr.gradient[0], [0.0, 0.0])


# -- arrays, directions, seeds ----------------------------------------------------------
def test_array_intermediates():
    x = np.array([0.5, -1.0, 2.0])
    tr = trace(lambda x: anp.sum(anp.exp(x) * x), x)
    assert [r.expression for r in tr] == ["x", "exp(v_0)", "v_1 × v_0", "sum(v_2)"]
    np.testing.assert_allclose(tr[1].primal, np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(tr[2].tangent, np.exp(x) * (1 + x), rtol=1e-15)
    np.testing.assert_allclose(tr[2].adjoint, np.ones(3))
    np.testing.assert_allclose(tr.gradient[0], np.exp(x) * (1 + x), rtol=1e-15)
    assert tr.directional_derivative == pytest.approx(np.sum(np.exp(x) * (1 + x)))
    # Elementwise local derivatives; none for the sum (its Jacobian is a row).
    np.testing.assert_allclose(tr[1].partials[0], np.exp(x))
    assert tr[3].partials == (None,)
    assert tr.primal_trace().dtype == object and tr.primal_trace()[3] == tr.output
    text = tr.to_text(precision=2)
    assert "[ 0.50, -1.00,  2.00]" in text  # arrays print compactly, on one line
    assert len(text.splitlines()) == 3 + 4


def test_large_arrays_are_summarised():
    tr = trace(lambda x: anp.sum(x * x), np.arange(100.0))
    text = tr.to_text()
    # 100 numbers would take ~800 characters a line; summarised, 4 do.
    assert "..." in text and max(map(len, text.splitlines())) < 200
    assert "..., 98.0000, 99.0000]" in text


def test_matmul_rows():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([1.0, -1.0])
    tr = trace(lambda v: anp.sum(anp.matmul(A, v) ** 2), v)
    assert tr[1].expression == "[[1., 2.], [3., 4.]] @ v_0"
    np.testing.assert_allclose(tr.gradient[0], 2 * A.T @ (A @ v))


@pytest.mark.parametrize("direction", [(1.0, 0.0), (0.0, 1.0), (0.3, -2.0)])
def test_tangent_direction(direction):
    tr = trace(baydin, 2.0, 5.0, tangents=direction)
    a, b = direction
    assert tr[-1].tangent == a and tr[0].tangent == b
    assert tr[1].tangent == pytest.approx(a / 2)  # d ln(x1) = dx1 / x1
    assert tr[3].tangent == pytest.approx(b * np.cos(5.0))
    assert tr.directional_derivative == pytest.approx(a * 5.5 + b * (2 - np.cos(5.0)))
    # The adjoints do not depend on the direction.
    np.testing.assert_allclose(
        tr.adjoint_trace(), trace(baydin, 2.0, 5.0).adjoint_trace()
    )
    assert (
        "x1_dot=0.3, x2_dot=-2"
        in trace(baydin, 2.0, 5.0, tangents=(0.3, -2.0)).caption()
    )


def test_cotangent_seed_scales_the_adjoints(tr):
    seeded = trace(baydin, 2.0, 5.0, cotangent=-3.0)
    np.testing.assert_allclose(seeded.adjoint_trace(), -3.0 * tr.adjoint_trace())
    x = np.array([1.0, 2.0])
    u = np.array([10.0, 1.0])
    vector = trace(lambda x: x**2, x, cotangent=u)
    np.testing.assert_allclose(vector.gradient[0], 2 * x * u)


def test_agrees_with_jvp_and_grad_on_a_nested_function():
    def f(x, y):
        return anp.tanh(x * y) / (1.0 + x**2) + anp.sqrt(anp.exp(y) + x)

    point, direction = (0.4, -1.3), (0.7, 2.0)
    tr = trace(f, *point, tangents=direction)
    assert tr.output == pytest.approx(f(*point), rel=1e-15)
    assert tr.directional_derivative == pytest.approx(
        ad.jvp(f, point, direction)[1], rel=1e-14
    )
    np.testing.assert_allclose(
        tr.gradient, ad.grad(f, argnums=(0, 1))(*point), rtol=1e-14
    )
    g = lambda p: f(p[0], p[1])  # noqa: E731
    np.testing.assert_allclose(
        tr.gradient, numerical.gradient(g, point, method="complex")
    )


# -- errors -----------------------------------------------------------------------------
def test_bad_arguments_are_explained():
    with pytest.raises(TypeError, match="needs the point"):
        trace(baydin)
    with pytest.raises(TypeError, match="one output"):
        trace(lambda x: (x, x), 1.0)
    with pytest.raises(ValueError, match="one direction per input"):
        trace(baydin, 2.0, 5.0, tangents=(1.0,))
    with pytest.raises(ValueError, match="tangent 0 has shape"):
        trace(lambda x: x, np.ones(2), tangents=(1.0,))
    with pytest.raises(ValueError, match="one adjoint per output"):
        trace(lambda x: x, np.ones(2), cotangent=1.0)
    with pytest.raises(ValueError, match="names must be 2 strings"):
        trace(baydin, 2.0, 5.0, names=("a",))
    with pytest.raises(TypeError, match="boolean"):
        trace(lambda x: x, True)


# -- indexing, negation, reciprocals and the formatting helpers ---------------------
def _indexing(x):
    return anp.sum(x[1:3]) * x[0] + anp.sum(x[::2]) + x[..., 0] + anp.sum(x[None])


def test_indexing_rows_are_written_as_python_indexes_with_hand_derivatives():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    tr = trace(_indexing, x)
    indexing = [row.expression for row in tr if row.op == "getitem"]
    assert indexing == ["v_0[1:3]", "v_0[0]", "v_0[::2]", "v_0[..., 0]", "v_0[None]"]
    for row in tr:
        if row.op == "getitem":  # each row's value is NumPy's indexing of x
            np.testing.assert_array_equal(row.primal, x[row.params["index"]])
    # By hand: f = (x1 + x2) x0 + (x0 + x2) + x0 + (x0 + x1 + x2 + x3).
    gradient = np.array([x[1] + x[2] + 3, x[0] + 1, x[0] + 2, 1.0])
    np.testing.assert_array_equal(tr.gradient[0], gradient)
    assert tr.directional_derivative == gradient.sum()  # default direction: all ones
    assert tr[-0].name == "v_0" and tr["v_{12}"].is_output
    assert tr[12].primal == (x[1] + x[2]) * x[0] + x[0] + x[2] + x[0] + x.sum()


def test_index_formatting_covers_steps_open_ends_and_negative_numbers():
    x = np.arange(6.0)
    rows = trace(lambda x: anp.sum(x[:4:2]) + anp.sum(x[-2:]) + x[np.int64(-1)], x).rows
    assert [r.expression for r in rows if r.op == "getitem"] == [
        "v_0[:4:2]",
        "v_0[-2:]",
        "v_0[-1]",
    ]
    np.testing.assert_array_equal(rows[-1].primal, x[0] + x[2] + x[4] + x[5] + x[5])


def test_negation_and_reciprocal_rows_have_closed_form_derivatives():
    x, y = 2.0, 4.0
    tr = trace(lambda x, y: -x + anp.reciprocal(y), x, y, tangents=(0.0, 1.0))
    assert [row.expression for row in tr][2:] == ["-v_{-1}", "1 / v_0", "v_1 + v_2"]
    assert tr[2].primal == 1 / y and tr[2].tangent == -1 / y**2  # d(1/y)/dy = -1/y²
    assert tr[1].primal == -x and tr[1].tangent == 0.0  # x does not move along (0, 1)
    assert tr.gradient == (-1.0, -1 / y**2)
    assert tr[2].partials == (-1 / y**2,)


def test_rows_that_do_not_depend_on_the_direction_have_zero_tangents():
    # sign(x) has derivative zero everywhere: its row is a constant, shown as a literal.
    tr = trace(lambda x, y: anp.sign(x) * y, 2.0, 4.0)
    product = tr.rows[-1]
    assert product.expression == "1 × v_0" and product.primal == 4.0
    assert product.tangent == 0.0  # d/dx (sign(x) y) = 0 away from 0
    assert tr.gradient == (0.0, 1.0)  # d/dy = sign(2) = 1


def test_input_names_fall_back_to_x1_xn_without_a_signature():
    assert input_names(max, 2) == ("x1", "x2")  # a builtin with no signature
    assert input_names(lambda x: x, 3) == ("x1", "x2", "x3")  # too few parameters
    assert input_names(lambda a, b: a, 2, names=["p", "q"]) == ("p", "q")
    with pytest.raises(ValueError, match="2 strings"):
        input_names(lambda a, b: a, 2, names=["p"])


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (1e-5, {}, "1.0000e-05"),  # fixed point would print 0.0000
        (3e8, {}, "3.0000e+08"),
        (-2.5e-4, {"precision": 2}, "-2.50e-04"),
        (0.0, {}, "0.0000"),
        (float("inf"), {}, "inf"),
        (1e-5, {"style": "g"}, "1e-05"),
        (1 + 2j, {}, "(1+2j)"),  # not a real number: as Python prints it
        (np.bool_(True), {}, "True"),
        (
            np.array([[1.0, 2.0], [3.0, 4.0]]),
            {"precision": 1},
            "[[1.0, 2.0], [3.0, 4.0]]",
        ),
    ],
)
def test_format_value(value, kwargs, text):
    assert format_value(value, **kwargs) == text


def test_render_expression_leaves_out_default_parameters():
    assert (
        render_expression(rules.sum, ["v_1"], {"axis": None, "keepdims": False})
        == "sum(v_1)"
    )
    assert render_expression(rules.sum, ["v_1"], {"axis": 1, "keepdims": True}) == (
        "sum(v_1, axis=1, keepdims=True)"
    )
    assert render_expression(rules.pow, ["v_1", "2"], {}) == "v_1 ** 2"
    assert render_expression(rules.tanh, ["v_1"], {}) == "tanh(v_1)"
