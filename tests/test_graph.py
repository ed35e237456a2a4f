"""Tests of the computational graph: its structure, DOT text and matplotlib drawing."""

import itertools
import re
import sys
import tomllib
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import autodiff_ref.numpy as anp
from autodiff_ref.graph import draw_graph, graph_of, to_dot

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch


def xyz(x, y, z):
    return (x + y) * z


def baydin(x1, x2):
    v1 = anp.log(x1)
    v2 = x1 * x2
    v3 = anp.sin(x2)
    v4 = v1 + v2
    return v4 - v3


def fan_out(x):
    return (
        x * x - 2.0 * x + anp.sin(x) * x
    )  # x feeds four operations, one two columns on


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- the graph as data ------------------------------------------------------------------
@pytest.mark.parametrize("point", [(1.0, 2.0, 3.0), (1.0, 2.0, 4.0), (-0.5, 3.0, 0.25)])
def test_adjoints_and_local_derivatives_of_xyz(point):
    x, y, z = point
    g = graph_of(xyz, *point)
    assert [n.label for n in g.nodes] == ["x", "y", "z", "+", "×"]
    assert [n.depth for n in g.nodes] == [0, 0, 0, 1, 2]
    # d/dx (x + y) z = z, d/dy = z, d/dz = x + y.
    assert [g.node(i).adjoint for i in (-2, -1, 0)] == [z, z, x + y]
    assert g.node(1).adjoint == z and g.node(2).adjoint == 1.0
    assert g.node(2).primal == (x + y) * z and g.node(2).is_output
    edges = {(e.source, e.target): e.local_derivative for e in g.edges}
    assert edges == {(-2, 1): 1.0, (-1, 1): 1.0, (1, 2): z, (0, 2): x + y}


def test_graph_of_the_baydin_example():
    g = graph_of(baydin, 2.0, 5.0)
    assert [n.label for n in g.nodes] == ["x1", "x2", "ln", "×", "sin", "+", "−"]
    assert [n.depth for n in g.nodes] == [0, 0, 1, 1, 1, 2, 3]
    assert g.node(-1).adjoint == pytest.approx(1 / 2 + 5)
    assert g.node(0).adjoint == pytest.approx(2 - np.cos(5))
    assert len(g.edges) == 8
    with pytest.raises(KeyError, match="no node v_9"):
        g.node(9)


def test_labels_show_constants():
    g = graph_of(lambda x: 2.0 * x**3, 1.0)
    assert [n.label for n in g.nodes] == ["x", "· ** 3", "2 × ·"]


def test_names_default_to_the_parameters_and_can_be_given():
    assert [n.label for n in graph_of(xyz, 1.0, 2.0, 3.0).nodes[:3]] == ["x", "y", "z"]
    g = graph_of(xyz, 1.0, 2.0, 3.0, names=("a", "b", "c"))
    assert [n.label for n in g.nodes[:3]] == ["a", "b", "c"]
    assert [n.label for n in graph_of(lambda *v: v[0] * v[1], 1.0, 2.0).nodes[:2]] == [
        "x1",
        "x2",
    ]


# -- DOT -----------------------------------------------------------------------------------
def _parse_dot(dot: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    nodes = dict(re.findall(r'^\s*"([^"]+)" \[label="((?:[^"\\]|\\.)*)"', dot, re.M))
    edges = re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', dot, re.M)
    return nodes, edges


def test_dot_of_xyz():
    dot = to_dot(xyz, 1.0, 2.0, 3.0)
    assert dot.startswith("digraph computational_graph {") and dot.endswith("}")
    nodes, edges = _parse_dot(dot)
    assert nodes == {
        "v_{-2}": r"x\nv=1\nadj=3",
        "v_{-1}": r"y\nv=2\nadj=3",
        "v_0": r"z\nv=3\nadj=3",
        "v_1": r"+\nv=3\nadj=3",
        "v_2": r"×\nv=9\nadj=1",
    }
    assert sorted(edges) == sorted(
        [("v_{-2}", "v_1"), ("v_{-1}", "v_1"), ("v_1", "v_2"), ("v_0", "v_2")]
    )
    assert dot.count("peripheries=2") == 1  # the output
    assert dot.count("shape=ellipse") == 3  # the inputs


def test_dot_options():
    dot = to_dot(xyz, 1.0, 2.0, 4.0, show_adjoints=False, show_derivatives=True)
    nodes, _ = _parse_dot(dot)
    assert "adj=" not in dot and nodes["v_{-2}"] == r"x\nv=1"
    assert '"v_0" -> "v_2" [label="3"];' in dot  # ∂((x + y) z)/∂z = x + y
    assert '"v_1" -> "v_2" [label="4"];' in dot
    with_tangents = to_dot(
        xyz, 1.0, 2.0, 4.0, show_tangents=True, tangents=(0.0, 0.0, 1.0)
    )
    assert _parse_dot(with_tangents)[0]["v_2"] == r"×\nv=12\ntan=3\nadj=1"


def test_dot_escapes_quotes_and_backslashes():
    dot = to_dot(lambda a, b: a * b, 1.0, 2.0, names=('say "hi"', "back\\slash"))
    nodes, _ = _parse_dot(dot)
    assert nodes["v_{-1}"].startswith(r"say \"hi\"\n")
    assert nodes["v_0"].startswith(r"back\\slash\n")


# -- drawing -----------------------------------------------------------------------------
def _node_boxes(ax):
    return {
        p.get_gid()[5:]: p
        for p in ax.patches
        if (p.get_gid() or "").startswith("node:")
    }


def _arrows(ax):
    return [(p.get_gid()[5:], p) for p in ax.patches if isinstance(p, FancyArrowPatch)]


def _densify(polyline, n=25):
    """Points along each segment, not only the corners: a segment can cross a box."""
    t = np.linspace(0, 1, n)[:, None]
    return np.concatenate([a + t * (b - a) for a, b in itertools.pairwise(polyline)])


def _inside(point, box, margin):
    x0, y0 = box.get_x(), box.get_y()
    x1, y1 = x0 + box.get_width(), y0 + box.get_height()
    return x0 + margin < point[0] < x1 - margin and y0 + margin < point[1] < y1 - margin


def _distance_to_border(point, box):
    """Distance from a point to the (rounded) outline of a box, in data units."""
    outline = np.concatenate(box.get_path().to_polygons(closed_only=False))
    a, b = outline[:-1], outline[1:]
    ab = b - a
    t = np.clip(
        np.sum((point - a) * ab, axis=1) / np.maximum(np.sum(ab * ab, axis=1), 1e-300),
        0,
        1,
    )
    return float(np.min(np.hypot(*(a + t[:, None] * ab - point).T)))


@pytest.mark.parametrize(
    ("f", "point", "n_nodes", "n_edges"),
    [
        (xyz, (1.0, 2.0, 3.0), 5, 4),
        (baydin, (2.0, 5.0), 7, 8),
        (fan_out, (3.0,), 7, 10),
    ],
)
def test_drawing_is_clean(f, point, n_nodes, n_edges):
    ax = draw_graph(f, *point, show_derivatives=True, show_tangents=True)
    assert isinstance(ax, matplotlib.axes.Axes)
    boxes, arrows = _node_boxes(ax), _arrows(ax)
    assert len(boxes) == n_nodes and len(arrows) == n_edges
    ax.figure.canvas.draw()
    # No two boxes overlap, and no two texts (node contents, names, edge labels) do.
    for a, b in itertools.combinations(boxes.values(), 2):
        assert not a.get_window_extent().overlaps(b.get_window_extent())
    extents = [t.get_window_extent() for t in ax.texts]
    for a, b in itertools.combinations(extents, 2):
        assert not a.overlaps(b)
    # Each arrow runs outside every box except where it starts, and its tip
    # ends at the border of its head's box: within 0.06 data units (~3 points:
    # the arrow is shrunk by 1 point, and matplotlib sets the filled head back
    # so that its stroked outline, not its centre line, reaches the end).
    for gid, arrow in arrows:
        tail, head = gid.split("->")
        points = _densify(
            np.concatenate(arrow.get_path().to_polygons(closed_only=False))
        )
        for name, box in boxes.items():
            if name != tail:
                assert not any(_inside(p, box, margin=0.02) for p in points), (
                    gid,
                    name,
                )
        assert min(_distance_to_border(p, boxes[head]) for p in points) < 0.06, gid


def test_drawing_shows_values_and_adjoints():
    ax = draw_graph(xyz, 1.0, 2.0, 3.0)
    texts = [t.get_text() for t in ax.texts]
    assert "x\nv=1\nadj=3" in texts and "×\nv=9\nadj=1" in texts
    assert "$v_{-2}$" in texts  # the trace's variable names above the boxes
    ax = draw_graph(xyz, 1.0, 2.0, 3.0, show_adjoints=False)
    assert not any("adj=" in t.get_text() for t in ax.texts)


def test_drawing_into_given_axes_and_inputs_left_of_output():
    _, (left, right) = plt.subplots(1, 2)
    assert draw_graph(baydin, 2.0, 5.0, ax=right) is right
    assert not left.patches
    boxes = _node_boxes(right)
    x_of = {name: box.get_x() for name, box in boxes.items()}
    assert x_of["v_{-1}"] == x_of["v_0"] < x_of["v_1"] < x_of["v_4"] < x_of["v_5"]
    assert x_of["v_5"] == max(x_of.values())


def test_repeated_operand_draws_two_arrows_bent_apart():
    ax = draw_graph(lambda x: x * x, 2.0)
    arrows = _arrows(ax)
    assert [gid for gid, _ in arrows] == ["v_0->v_1", "v_0->v_1"]
    ax.figure.canvas.draw()
    first, second = (a.get_path().vertices for _, a in arrows)
    assert first.shape != second.shape or not np.allclose(first, second)


def test_draw_graph_without_matplotlib_names_an_installable_requirement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # autodiff_ref is not on PyPI, so `pip install 'autodiff_ref[plot]'` would
    # fail: the message names the plot extra's own requirement instead.
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    (requirement,) = extras["project"]["optional-dependencies"]["plot"]
    # None in sys.modules makes `import matplotlib...` raise ImportError, as on a
    # machine without it.
    for name in (
        "matplotlib",
        "matplotlib.pyplot",
        "matplotlib.patches",
        "matplotlib.path",
    ):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError) as raised:
        draw_graph(lambda x: x * x, 1.0)
    message = str(raised.value)
    assert f"pip install '{requirement}'" in message
    assert "autodiff_ref[" not in message
