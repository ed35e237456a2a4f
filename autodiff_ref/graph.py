"""The computational graph of a function: as data, as Graphviz DOT text, or drawn with matplotlib.

Each variable of the evaluation trace (:func:`autodiff_ref.trace_evaluation`) is a
node, and each operand an edge from the variable it reads to the variable it
computes.  The nodes carry the primal values and adjoints, and the edges the
local derivatives ``∂v_i/∂v_j`` that the reverse sweep multiplies adjoints by:
the adjoint of a node is the sum, over its outgoing edges, of edge derivative
times the adjoint at the edge's head.  The graph is read off the trace's rows,
so a function is recorded once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import rules
from .display import symbol as op_symbol
from .evaluation_trace import EvaluationTrace, TraceRow, format_value, trace_evaluation

__all__ = [
    "ComputationalGraph",
    "GraphEdge",
    "GraphNode",
    "draw_graph",
    "graph_of",
    "to_dot",
]

_NAME = re.compile(r"v_\{-?\d+\}|v_\d")


@dataclass(frozen=True)
class GraphNode:
    """A variable ``v_i``: an input or the result of one primitive.

    ``label`` is the input's name, or the operation's symbol (``×``, ``ln``);
    when the operation also reads constants, the label shows them with ``·``
    standing for the variable operands (``2 × ·``).  ``depth`` is the length of
    the longest path from an input (inputs have depth 0).
    """

    index: int
    name: str
    label: str
    kind: str  # "input" or "op"
    primal: Any
    tangent: Any
    adjoint: Any
    depth: int
    is_output: bool


@dataclass(frozen=True)
class GraphEdge:
    """``source`` is an operand of ``target``; ``local_derivative`` is ``∂target/∂source``."""

    source: int
    target: int
    local_derivative: Any


@dataclass(frozen=True)
class ComputationalGraph:
    """Nodes in evaluation order (a topological order) and edges, from an evaluation trace."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    trace: EvaluationTrace

    def node(self, index: int) -> GraphNode:
        """The node of variable ``v_index``."""
        for node in self.nodes:
            if node.index == index:
                return node
        raise KeyError(
            f"no node v_{index}; indices are {[n.index for n in self.nodes]}"
        )


def _label(row: TraceRow) -> str:
    if row.prim is None:  # an input
        return row.expression
    if row.prim is rules.result:  # result k of a call with several: ·[k]
        return _NAME.sub("·", row.expression)
    if all(_NAME.fullmatch(operand) for operand in row.inputs):
        symbol = op_symbol(row.prim)
        return (
            "−" if symbol == "-" else symbol
        )  # a minus sign reads better than a hyphen
    return _NAME.sub("·", row.expression)  # show the constants, hide the variables


def graph_of(
    f: Callable[..., Any],
    *primals: Any,
    names: Sequence[str] | None = None,
    tangents: Sequence[Any] | None = None,
    cotangent: Any = None,
) -> ComputationalGraph:
    """The computational graph of ``f`` at ``primals``, with values, tangents and adjoints.

    The arguments are those of :func:`autodiff_ref.trace_evaluation`.

    Examples
    --------
    >>> g = graph_of(lambda x, y, z: (x + y) * z, 1.0, 2.0, 3.0)
    >>> [(n.label, n.primal, n.adjoint) for n in g.nodes]
    [('x', 1.0, 3.0), ('y', 2.0, 3.0), ('z', 3.0, 3.0), ('+', 3.0, 3.0), ('×', 9.0, 1.0)]
    >>> [(e.source, e.target, e.local_derivative) for e in g.edges]
    [(-2, 1, 1.0), (-1, 1, 1.0), (1, 2, 3.0), (0, 2, 3.0)]
    """
    tr = trace_evaluation(
        f, *primals, tangents=tangents, cotangent=cotangent, names=names
    )
    depth: dict[int, int] = {}
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    for row in tr:
        depth[row.index] = 1 + max((depth[p] for p in row.parents), default=-1)
        nodes.append(
            GraphNode(
                index=row.index,
                name=row.name,
                label=_label(row),
                kind="input" if row.prim is None else "op",
                primal=row.primal,
                tangent=row.tangent,
                adjoint=row.adjoint,
                depth=depth[row.index],
                is_output=row.is_output,
            )
        )
        edges.extend(
            GraphEdge(p, row.index, d)
            for p, d in zip(row.parents, row.partials, strict=True)
        )
    return ComputationalGraph(tuple(nodes), tuple(edges), tr)


def _node_lines(
    node: GraphNode, show_values: bool, show_adjoints: bool, show_tangents: bool
) -> list[str]:
    lines = [node.label]
    if show_values:
        lines.append(f"v={format_value(node.primal, 4, 'g')}")
    if show_tangents:
        lines.append(f"tan={format_value(node.tangent, 4, 'g')}")
    if show_adjoints:
        lines.append(f"adj={format_value(node.adjoint, 4, 'g')}")
    return lines


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(
    f: Callable[..., Any],
    *primals: Any,
    names: Sequence[str] | None = None,
    show_adjoints: bool = True,
    show_tangents: bool = False,
    show_derivatives: bool = False,
    tangents: Sequence[Any] | None = None,
    cotangent: Any = None,
) -> str:
    """The computational graph of ``f`` at ``primals`` as Graphviz DOT text.

    Nodes are labelled with their operation, value (``v=``), and optionally
    adjoint (``adj=``) and tangent (``tan=``); edges optionally with the local
    derivative.  Render the text with Graphviz (``dot -Tsvg``) or the
    ``graphviz`` Python package; this function needs neither.

    Examples
    --------
    >>> print(to_dot(lambda x, y, z: (x + y) * z, 1.0, 2.0, 3.0))
    digraph computational_graph {
      rankdir=LR;
      node [fontname="Helvetica", shape=box, style="rounded,filled", fillcolor="#f4f4f4"];
      "v_{-2}" [label="x\\nv=1\\nadj=3", shape=ellipse, fillcolor="#dbe9f6"];
      "v_{-1}" [label="y\\nv=2\\nadj=3", shape=ellipse, fillcolor="#dbe9f6"];
      "v_0" [label="z\\nv=3\\nadj=3", shape=ellipse, fillcolor="#dbe9f6"];
      "v_1" [label="+\\nv=3\\nadj=3"];
      "v_2" [label="×\\nv=9\\nadj=1", fillcolor="#fde2c8", peripheries=2];
      "v_{-2}" -> "v_1";
      "v_{-1}" -> "v_1";
      "v_1" -> "v_2";
      "v_0" -> "v_2";
    }
    """
    graph = graph_of(f, *primals, names=names, tangents=tangents, cotangent=cotangent)
    lines = [
        "digraph computational_graph {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", shape=box, style="rounded,filled", fillcolor="#f4f4f4"];',
    ]
    for node in graph.nodes:
        label = "\\n".join(
            s.replace("\\", "\\\\").replace('"', '\\"')
            for s in _node_lines(node, True, show_adjoints, show_tangents)
        )
        style = ""
        if node.kind == "input":
            style = ', shape=ellipse, fillcolor="#dbe9f6"'
        elif node.is_output:
            style = ', fillcolor="#fde2c8", peripheries=2'
        lines.append(f'  {_dot_string(node.name)} [label="{label}"{style}];')
    names_by_index = {node.index: node.name for node in graph.nodes}
    for edge in graph.edges:
        attrs = ""
        if show_derivatives and edge.local_derivative is not None:
            attrs = (
                f" [label={_dot_string(format_value(edge.local_derivative, 4, 'g'))}]"
            )
        source, target = names_by_index[edge.source], names_by_index[edge.target]
        lines.append(f"  {_dot_string(source)} -> {_dot_string(target)}{attrs};")
    lines.append("}")
    return "\n".join(lines)


# A layout item is a node ("n", index) or a dummy point ("d", edge number, depth)
# where an edge spanning several columns crosses an intermediate column.
_Item = tuple[str, int, int]


def _layout(
    graph: ComputationalGraph, half_height: float, pad: float
) -> dict[_Item, tuple[float, float]]:
    """Positions (column, height) of the nodes and of the long edges' dummy points.

    Nodes sit in the column of their depth.  An edge that skips columns gets a
    dummy point in each column it crosses, laid out like a thin node, so that
    it gets a lane of its own instead of running through a box (Sugiyama et al.
    1981).  Inputs are spread evenly in their given order; each later column is
    sorted by the mean height of each item's predecessors (the barycentre
    heuristic: short edges, few crossings), then pushed apart until boxes are
    ``pad`` apart (dummies need less room), and re-centred.
    """
    depth = {node.index: node.depth for node in graph.nodes}
    columns: dict[int, list[_Item]] = {}
    for node in graph.nodes:
        columns.setdefault(node.depth, []).append(("n", node.index, node.depth))
    preds: dict[_Item, list[_Item]] = {item: [] for c in columns.values() for item in c}
    for k, edge in enumerate(graph.edges):
        previous: _Item = ("n", edge.source, depth[edge.source])
        for d in range(depth[edge.source] + 1, depth[edge.target]):
            dummy = ("d", k, d)
            columns[d].append(dummy)
            preds[dummy] = [previous]
            previous = dummy
        preds[("n", edge.target, depth[edge.target])].append(previous)

    def half(item: _Item) -> float:
        return half_height if item[0] == "n" else 0.1

    y: dict[_Item, float] = {}
    for d in sorted(columns):
        column = columns[d]
        if d == 0:
            step = 2 * half_height + pad
            wanted = [step * ((len(column) - 1) / 2 - k) for k in range(len(column))]
        else:
            wanted = [sum(y[p] for p in preds[it]) / len(preds[it]) for it in column]
        order = sorted(range(len(column)), key=lambda k: (-wanted[k], column[k][1]))
        placed: list[float] = []
        for k, previous_k in zip(order, [None, *order[:-1]], strict=True):
            if previous_k is None:
                placed.append(wanted[k])
                continue
            a, b = column[previous_k], column[k]
            room = half(a) + half(b) + (pad if a[0] == b[0] == "n" else pad / 2)
            placed.append(min(wanted[k], placed[-1] - room))
        # Pushing apart moved items down only: shift back so the column stays
        # centred where its items wanted to be.
        shift = (sum(wanted) - sum(placed)) / len(placed)
        for k, height in zip(order, placed, strict=True):
            y[column[k]] = height + shift
    return {item: (float(item[2]), height) for item, height in y.items()}


def _border_point(
    center: tuple[float, float],
    toward: tuple[float, float],
    width: float,
    height: float,
) -> tuple[float, float]:
    """Where the segment from a box's ``center`` to ``toward`` leaves the box."""
    dx, dy = toward[0] - center[0], toward[1] - center[1]
    s = min(
        width / 2 / abs(dx) if dx else float("inf"),
        height / 2 / abs(dy) if dy else float("inf"),
    )
    return (center[0] + s * dx, center[1] + s * dy)


def draw_graph(
    f: Callable[..., Any],
    *primals: Any,
    ax: Any = None,
    names: Sequence[str] | None = None,
    show_adjoints: bool = True,
    show_tangents: bool = False,
    show_derivatives: bool = False,
    tangents: Sequence[Any] | None = None,
    cotangent: Any = None,
) -> Any:
    """Draw the computational graph of ``f`` at ``primals`` with matplotlib.

    Inputs are on the left and the output on the right; each node sits in the
    column of its depth (the longest path from an input).  A node shows its
    operation, value (``v=``) and, optionally, adjoint (``adj=``) and tangent
    (``tan=``); with ``show_derivatives`` each edge shows the local derivative
    ``∂head/∂tail``.  The ``v_i`` names above the nodes match the rows of
    :func:`autodiff_ref.trace_evaluation`.

    Parameters
    ----------
    f, *primals, names, tangents, cotangent
        As for :func:`autodiff_ref.trace_evaluation`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure sized to the graph.
    show_adjoints, show_tangents, show_derivatives : bool
        Which numbers to show besides the values.

    Returns
    -------
    matplotlib.axes.Axes
        The node boxes are its patches with ``gid`` ``"node:<name>"``, the
        arrows those with ``gid`` ``"edge:<tail name>-><head name>"``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = draw_graph(lambda x, y, z: (x + y) * z, 1.0, 2.0, 3.0)
    >>> sorted(p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith("node:"))
    ['node:v_0', 'node:v_1', 'node:v_2', 'node:v_{-1}', 'node:v_{-2}']
    """
    try:  # lazily: the package itself does not need matplotlib
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
        from matplotlib.path import Path
    except ImportError as missing:
        # autodiff_ref is not on PyPI: name the requirement (the plot extra's, in
        # pyproject.toml), not an `autodiff_ref[plot]` pip could not find.
        raise ImportError(
            "draw_graph draws with matplotlib, which is not installed: "
            "pip install 'matplotlib>=3.10.7' (or, in a clone of the repository, "
            "pip install '.[plot]'); to_dot gives the graph as Graphviz text instead"
        ) from missing

    graph = graph_of(f, *primals, names=names, tangents=tangents, cotangent=cotangent)
    texts = {
        n.index: "\n".join(_node_lines(n, True, show_adjoints, show_tangents))
        for n in graph.nodes
    }
    n_lines = max(t.count("\n") + 1 for t in texts.values())
    n_chars = max(len(line) for t in texts.values() for line in t.split("\n"))
    # Sizes in inches, fitted to 12-point text: as large as a page's body text when
    # the drawing is shown at its natural size, which it is up to about 7 inches wide.
    inch = 1.0
    width = max(0.95, 0.095 * n_chars + 0.25)
    height = 0.2 * n_lines + 0.25
    dx = width + (0.65 if show_derivatives else 0.5)  # column spacing
    layout = _layout(graph, height / 2, pad=0.55)
    pos = {item: (column * dx, y) for item, (column, y) in layout.items()}
    xs = [p[0] for p in pos.values()]
    # Room for the boxes (and the names above them), or for the lanes of long edges.
    low = min(y - (height / 2 if it[0] == "n" else 0) for it, (_, y) in pos.items())
    high = max(y + (height / 2 if it[0] == "n" else 0) for it, (_, y) in pos.items())
    x_lim = (min(xs) - width / 2 - 0.2, max(xs) + width / 2 + 0.2)
    y_lim = (low - 0.2, high + 0.45)
    if ax is None:
        size = ((x_lim[1] - x_lim[0]) * inch, (y_lim[1] - y_lim[0]) * inch)
        _, ax = plt.subplots(figsize=size, layout="constrained")

    boxes = {}
    for node in graph.nodes:
        x, y = pos[("n", node.index, node.depth)]
        if node.kind == "input":
            face, edge_color, lw = "#dbe9f6", "#4a7ab5", 1.2
        elif node.is_output:
            face, edge_color, lw = "#fde2c8", "#c06a1b", 2.0
        else:
            face, edge_color, lw = "#f4f4f4", "#555555", 1.2
        box = FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0,rounding_size=0.1",
            facecolor=face,
            edgecolor=edge_color,
            linewidth=lw,
            gid=f"node:{node.name}",
            zorder=2,
        )
        ax.add_patch(box)
        boxes[node.index] = box
        ax.text(
            x, y, texts[node.index], ha="center", va="center", fontsize=12, zorder=3
        )
        ax.text(
            x, y + height / 2 + 0.06, f"${node.name}$", ha="center", va="bottom",
            fontsize=12, color="#666666", zorder=3,
        )  # fmt: skip

    depth = {node.index: node.depth for node in graph.nodes}
    arrow_style: dict[str, Any] = {
        "arrowstyle": "-|>",
        "mutation_scale": 12,
        "color": "#333333",
        "zorder": 1,
    }
    seen: dict[tuple[int, int], int] = {}
    for k, edge in enumerate(graph.edges):
        start = pos[("n", edge.source, depth[edge.source])]
        end = pos[("n", edge.target, depth[edge.target])]
        # An operand read twice (v × v) gets two arrows, bent apart.
        repeat = seen[(edge.source, edge.target)] = (
            seen.get((edge.source, edge.target), -1) + 1
        )
        rad = 0.0 if repeat == 0 else 0.25 * (-1) ** repeat * ((repeat + 1) // 2)
        dummies = [
            pos[("d", k, d)] for d in range(depth[edge.source] + 1, depth[edge.target])
        ]
        label_x = end[0] - dx / 2  # the middle of the gap before the head's column
        if not dummies:
            arrow = FancyArrowPatch(
                start, end, patchA=boxes[edge.source], patchB=boxes[edge.target],
                shrinkA=0, shrinkB=1, connectionstyle=f"arc3,rad={rad}", **arrow_style,
            )  # fmt: skip
            # arc3 is a quadratic Bézier curve whose control point is the chord's
            # midpoint moved by rad * (chord_y, -chord_x).
            chord_x, chord_y = end[0] - start[0], end[1] - start[1]
            t = (label_x - start[0]) / chord_x
            bend = 2 * t * (1 - t) * rad
            label_at = (
                label_x + bend * chord_y,
                start[1] + t * chord_y - bend * chord_x,
            )
        else:
            # Through each crossed column horizontally, in the lane the layout kept
            # free, with smooth bends in the gaps between columns.  The tail starts
            # under the source box; the head stops at the target box's border.
            verts, codes = [start], [Path.MOVETO]
            previous = start
            for x, y in dummies:
                mid = (previous[0] + x - width / 2) / 2
                verts += [
                    (mid, previous[1]),
                    (mid, y),
                    (x - width / 2, y),
                    (x + width / 2, y),
                ]
                codes += [Path.CURVE4] * 3 + [Path.LINETO]
                previous = (x + width / 2, y)
            control = ((previous[0] + end[0] - width / 2) / 2, previous[1])
            tip = _border_point(end, control, width, height)
            verts += [control, tip]
            codes += [Path.CURVE3] * 2
            arrow = FancyArrowPatch(path=Path(verts, codes), **arrow_style)
            # The last bend is a quadratic Bézier curve whose x is linear in t.
            t = (label_x - previous[0]) / (tip[0] - previous[0])
            label_at = (label_x, (1 - t**2) * previous[1] + t**2 * tip[1])
        arrow.set_gid(
            f"edge:{graph.node(edge.source).name}->{graph.node(edge.target).name}"
        )
        ax.add_patch(arrow)
        if show_derivatives and edge.local_derivative is not None:
            ax.text(
                *label_at, format_value(edge.local_derivative, 3, "g"), ha="center",
                va="center", fontsize=12, color="#2b5d9c", zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
            )  # fmt: skip

    ax.set_xlim(*x_lim)
    ax.set_ylim(*y_lim)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
