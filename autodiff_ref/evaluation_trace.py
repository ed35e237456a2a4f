"""The evaluation trace (Wengert list): every intermediate value, its tangent and its adjoint.

Automatic differentiation is usually taught with a table (Baydin et al., JMLR 2018,
sec. 3, Tables 2 and 3): the function is broken into elementary operations
``v_1, v_2, ...``, each a primitive applied to earlier variables, and three columns
are filled in -- the *primal* value of each ``v_i``, its forward-mode *tangent*
``v̇_i = ∂v_i/∂x · ẋ`` for a chosen input direction ``ẋ``, and its reverse-mode
*adjoint* ``v̄_i = ∂y/∂v_i · ȳ``.  :func:`~autodiff_ref.trace_evaluation` produces
that table for any function written with autodiff_ref's operations.  The inputs are
``v_{-n+1}, ..., v_0``; the output is ``y``.

The table is computed by the same machinery as :func:`~autodiff_ref.jvp` and
:func:`~autodiff_ref.vjp`, not by separate code: ``f`` runs once on reverse-mode
nodes whose values are dual numbers, so the tape holds the rows, each row's
value carries its primal and tangent, and one backward sweep over the tape
gives every adjoint.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import rules
from .arguments import _as_input, _ones_like, _zeros_like, input_names
from .core import Primitive, Zero, primal_value, shape_of
from .display import expression as write_expression
from .display import label as label_of
from .display import number_text
from .dual import Dual, ForwardTrace
from .reverse import Node, ReverseTrace, backward

__all__ = ["EvaluationTrace", "TraceRow", "trace_evaluation"]

# Matches the variable names this module makes: v_0 ... v_9, v_{-1}, v_{12}.
_NAME = re.compile(r"v_\{(-?\d+)\}|v_(\d)")


@dataclass(frozen=True)
class TraceRow:
    """One variable ``v_i`` of an evaluation trace.

    Attributes
    ----------
    index : int
        The ``i`` of ``v_i``: ``-n+1, ..., 0`` for the ``n`` inputs, then ``1, 2, ...``.
    name : str
        ``"v_{-1}"``, ``"v_0"``, ``"v_3"``, ``"v_{12}"`` (LaTeX-style subscripts).
    op : str
        The primitive's name (``"log"``, ``"mul"``, ...), or ``"input"``.
    inputs : tuple of str
        The operands as written in ``expression``: names of earlier variables,
        or constants written as literals.
    parents : tuple of int
        The indices of the earlier variables the row depends on, one per
        differentiable operand (``v_1 × v_1`` has parents ``(1, 1)``).
    partials : tuple
        The local derivative ``∂v_i/∂v_j`` for each parent, elementwise; None
        for non-elementwise operations on arrays (a matrix product, a sum),
        whose local derivative is a whole Jacobian.
    expression : str
        The operation, e.g. ``"ln(v_{-1})"`` or ``"v_{-1} × v_0"``; the input's
        name for an input.
    primal, tangent, adjoint : number or ndarray
        ``v_i``, ``v̇_i`` and ``v̄_i``.
    is_output : bool
        True for the row that is returned as ``y``.
    params : dict
        The primitive's parameters (``axis``, ``index``, ...).
    prim : autodiff_ref.core.Primitive or None
        The primitive itself (None for an input): what tells rows apart, since
        ``op`` is only its printed name.
    """

    index: int
    name: str
    op: str
    inputs: tuple[str, ...]
    parents: tuple[int, ...]
    partials: tuple[Any, ...]
    expression: str
    primal: Any
    tangent: Any
    adjoint: Any
    is_output: bool = False
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    prim: Primitive | None = field(default=None, repr=False, compare=False)


def variable_name(index: int) -> str:
    """The name of ``v_index``: braces around the subscript unless it is one digit.

    >>> variable_name(-1), variable_name(0), variable_name(12)
    ('v_{-1}', 'v_0', 'v_{12}')
    """
    return f"v_{index}" if 0 <= index <= 9 else f"v_{{{index}}}"


def format_value(value: Any, precision: int = 4, style: str = "f") -> str:
    """A number with ``precision`` digits (fixed ``"f"`` or general ``"g"``), or a short array.

    >>> format_value(0.693147), format_value(2.0, style="g")
    ('0.6931', '2')
    >>> import numpy as np
    >>> format_value(np.array([1.0, 2.5]))
    '[1.0000, 2.5000]'
    """
    return number_text(primal_value(value), precision, style)


def _literal(value: Any) -> str:
    """A constant operand as it appears in an expression."""
    text = format_value(value, precision=6, style="g")
    return f"({text})" if text.startswith("-") else text


def _local_derivative(node: Node, argpos: int) -> Any:
    """``∂ node / ∂ argument argpos`` at plain primal values, from the primitive's rule.

    One forward step of the rule with a unit tangent on that argument, so no
    derivative formula is repeated here.  For an elementwise primitive this is
    the elementwise derivative; for other primitives it is only a number when
    everything is scalar.
    """
    prim = node.prim
    assert prim is not None
    if prim.multiple_results or prim is rules.result:  # tuples: no one number
        return None
    args = [primal_value(a) for a in node.args]
    ans = primal_value(node.value)
    if not prim.elementwise and any(shape_of(a) != () for a in [ans, *args]):
        return None
    tangents: list[Any] = [None] * len(args)
    shape = shape_of(args[argpos])
    tangents[argpos] = np.ones(shape) if shape else 1.0
    d = prim.jvp(tangents, ans, args, node.params)
    return 0.0 if d is None else primal_value(d)


class EvaluationTrace:
    """The evaluation trace of a function at a point (:func:`~autodiff_ref.trace_evaluation`).

    Iterate over it (or use ``rows``) for the :class:`TraceRow` objects;
    index it by variable index (``tr[-1]`` is ``v_{-1}``) or name
    (``tr["v_{-1}"]``).  ``print(tr)`` shows the table; in a notebook it
    displays as an HTML table.
    """

    def __init__(
        self,
        rows: list[TraceRow],
        input_names: tuple[str, ...],
        function_name: str,
        direction: tuple[Any, ...],
        seed: Any,
        output: Any,
        output_tangent: Any,
    ) -> None:
        self.rows = rows
        self.input_names = input_names
        self.function_name = function_name
        self.direction = direction
        self.seed = seed
        self.output = output
        self._output_tangent = output_tangent
        self._by_index = {row.index: row for row in rows}

    # -- access -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[TraceRow]:
        return iter(self.rows)

    def __getitem__(self, key: int | str) -> TraceRow:
        if isinstance(key, str):
            for row in self.rows:
                if row.name == key:
                    return row
            raise KeyError(
                f"no variable named {key!r}; the names are {[r.name for r in self]}"
            )
        if key not in self._by_index:
            raise KeyError(
                f"no variable v_{key}; the indices run from {self.rows[0].index} "
                f"to {self.rows[-1].index} (inputs are v_{self.rows[0].index} to v_0)"
            )
        return self._by_index[key]

    @property
    def inputs(self) -> list[TraceRow]:
        """The rows of the inputs, ``v_{-n+1}, ..., v_0``."""
        return [row for row in self.rows if row.prim is None]

    @property
    def gradient(self) -> tuple[Any, ...]:
        """The adjoints of the inputs, ``ȳ · ∂y/∂x_k`` for each input, as a tuple."""
        return tuple(row.adjoint for row in self.inputs)

    @property
    def directional_derivative(self) -> Any:
        """The output's tangent ``∂y/∂x · ẋ`` for the trace's direction ``ẋ``."""
        return self._output_tangent

    def _column(self, attr: str) -> np.ndarray:
        values = [getattr(row, attr) for row in self.rows]
        if all(np.ndim(v) == 0 for v in values):
            return np.array(values, dtype=float)
        column = np.empty(len(values), dtype=object)  # arrays of different shapes
        column[:] = values
        return column

    def primal_trace(self) -> np.ndarray:
        """The primal values ``v_i`` in row order (an object array if some are arrays)."""
        return self._column("primal")

    def tangent_trace(self) -> np.ndarray:
        """The tangents ``v̇_i`` in row order."""
        return self._column("tangent")

    def adjoint_trace(self) -> np.ndarray:
        """The adjoints ``v̄_i`` in row order."""
        return self._column("adjoint")

    # -- display ------------------------------------------------------------------
    def caption(self, precision: int = 4) -> str:
        """One line naming the function, the tangent direction and the adjoint seed."""
        point = ", ".join(
            f"{n}={format_value(r.primal, precision, 'g')}"
            for n, r in zip(self.input_names, self.inputs, strict=True)
        )
        direction = ", ".join(
            f"{n}_dot={format_value(t, precision, 'g')}"
            for n, t in zip(self.input_names, self.direction, strict=True)
        )
        seed = format_value(self.seed, precision, "g")
        return f"{self.function_name}({point}); tangents: {direction}; adjoint seed: y_bar={seed}"

    def _cells(self, precision: int) -> list[list[str]]:
        return [
            [
                f"y = {row.name}" if row.is_output else row.name,
                row.expression,
                format_value(row.primal, precision),
                format_value(row.tangent, precision),
                format_value(row.adjoint, precision),
            ]
            for row in self.rows
        ]

    def to_text(self, precision: int = 4) -> str:
        """The table as aligned plain text: columns v, expression, primal, tangent, adjoint."""
        header = ["v", "expression", "primal", "tangent", "adjoint"]
        cells = self._cells(precision)
        widths = [max(len(r[c]) for r in [header, *cells]) for c in range(len(header))]

        def line(r: list[str]) -> str:
            left = [r[c].ljust(widths[c]) for c in range(2)]
            right = [r[c].rjust(widths[c]) for c in range(2, 5)]
            return "  ".join(left + right).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join(
            [self.caption(precision), line(header), rule, *map(line, cells)]
        )

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def to_html(self, precision: int = 4) -> str:
        """The table as HTML, with subscripts as ``<sub>``; all text is escaped."""

        def cell(text: str, tag: str = "td", right: bool = False) -> str:
            # Escape first, then turn variable names into subscripts: the names
            # contain no characters that escaping changes.
            body = _NAME.sub(lambda m: f"v<sub>{m[1] or m[2]}</sub>", html.escape(text))
            style = ' style="text-align:right"' if right else ""
            return f"<{tag}{style}>{body}</{tag}>"

        head = "".join(
            cell(h, "th", right=k >= 2)
            for k, h in enumerate(["v", "expression", "primal", "tangent", "adjoint"])
        )
        body = "\n".join(
            "<tr>" + "".join(cell(c, right=k >= 2) for k, c in enumerate(r)) + "</tr>"
            for r in self._cells(precision)
        )
        return (
            '<table class="autodiff-ref-trace">\n'
            f"<caption>{html.escape(self.caption(precision))}</caption>\n"
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_markdown(self, precision: int = 4) -> str:
        """The table as a Markdown (pipe) table, subscripts as HTML ``<sub>``."""

        def cell(text: str) -> str:
            body = _NAME.sub(lambda m: f"v<sub>{m[1] or m[2]}</sub>", html.escape(text))
            return body.replace("|", "\\|")

        header = "| v | expression | primal | tangent | adjoint |"
        rule = "|:--|:--|--:|--:|--:|"
        lines = ["| " + " | ".join(map(cell, r)) + " |" for r in self._cells(precision)]
        return "\n".join([header, rule, *lines])


def _direction(xs: list[Any], tangents: Sequence[Any] | None) -> tuple[Any, ...]:
    """The input tangents: the given ones, else 1 for the first input and 0 for the rest."""
    if tangents is None:
        return tuple(
            _ones_like(x) if k == 0 else _zeros_like(x) for k, x in enumerate(xs)
        )
    if not isinstance(tangents, tuple | list) or len(tangents) != len(xs):
        raise ValueError(
            f"tangents must be a tuple with one direction per input ({len(xs)}), "
            f"e.g. tangents=(1.0, 0.0); got {tangents!r}"
        )
    out = []
    for k, (x, t) in enumerate(zip(xs, tangents, strict=True)):
        t = _as_input(t, "trace")
        if shape_of(t) != shape_of(x):
            raise ValueError(
                f"tangent {k} has shape {shape_of(t)} but input {k} has shape {shape_of(x)}; "
                "give each input a tangent of its own shape"
            )
        out.append(t)
    return tuple(out)


def _primal_and_tangent(value: Any, fwd: ForwardTrace) -> tuple[Any, Any]:
    """A node's plain value and tangent (tuples of them for several results)."""
    if type(value) is tuple:  # a primitive with several results
        pairs = [_primal_and_tangent(v, fwd) for v in value]
        return tuple(p for p, _ in pairs), tuple(t for _, t in pairs)
    primal = primal_value(value)
    if isinstance(value, Dual) and value._trace is fwd:
        return primal, primal_value(value.tangent)
    # It does not depend on the inputs along the chosen direction.
    return primal, _zeros_like(primal)


def _plain_adjoint(adjoint: Any, primal: Any) -> Any:
    """The adjoint's plain value; zeros for None (or a Zero) (tuples for several)."""
    if type(primal) is tuple:
        parts = [None] * len(primal) if adjoint is None else adjoint
        return tuple(_plain_adjoint(a, p) for a, p in zip(parts, primal, strict=True))
    if adjoint is None or type(adjoint) is Zero:
        return _zeros_like(primal)
    return primal_value(adjoint)


def _rows(
    tape: list[Node],
    fwd: ForwardTrace,
    adjoints: dict[int, Any],
    out_node: Node | None,
    labels: tuple[str, ...],
) -> list[TraceRow]:
    """One row per tape node: its expression, primal, tangent and adjoint."""
    n = len(labels)
    rows: list[TraceRow] = []
    # Arguments a primitive reads without differentiating them (where's condition)
    # are not parents; recognise earlier variables among them by identity.
    index_of_value: dict[int, int] = {}
    for node in tape:
        i = node.index - n + 1
        value = node.value
        primal, tangent = _primal_and_tangent(value, fwd)
        adjoint = adjoints.get(node.index)
        inputs: tuple[str, ...]
        parents: tuple[int, ...]
        partials: tuple[Any, ...]
        if node.prim is None:
            op, inputs, parents, partials = "input", (), (), ()
            expression = labels[node.index]
        else:
            op = label_of(node.prim)  # the name a reader knows (a user's rule: theirs)
            parent_of = {argpos: parent for argpos, parent in node.parents}
            operands = []
            for argpos, arg in enumerate(node.args):
                if argpos in parent_of:
                    operands.append(variable_name(parent_of[argpos].index - n + 1))
                elif id(arg) in index_of_value:
                    operands.append(variable_name(index_of_value[id(arg)]))
                else:
                    operands.append(_literal(arg))
            inputs = tuple(operands)
            parents = tuple(parent.index - n + 1 for _, parent in node.parents)
            partials = tuple(
                _local_derivative(node, argpos) for argpos, _ in node.parents
            )
            expression = write_expression(node.prim, inputs, node.params, labelled=True)
        index_of_value[id(value)] = i
        rows.append(
            TraceRow(
                index=i,
                name=variable_name(i),
                op=op,
                inputs=inputs,
                parents=parents,
                partials=partials,
                expression=expression,
                primal=primal,
                tangent=tangent,
                adjoint=_plain_adjoint(adjoint, primal),
                is_output=out_node is node,
                params=dict(node.params),
                prim=node.prim,
            )
        )
    return rows


def trace_evaluation(
    f: Callable[..., Any],
    *primals: Any,
    tangents: Sequence[Any] | None = None,
    cotangent: Any = None,
    names: Sequence[str] | None = None,
) -> EvaluationTrace:
    """Record the evaluation trace of ``f`` at ``primals``: values, tangents and adjoints.

    Parameters
    ----------
    f : callable
        A function of ``len(primals)`` numbers or arrays, written with
        autodiff_ref's operations (or the NumPy functions they support),
        returning one number or array.
    *primals : number or ndarray
        The point.
    tangents : tuple, optional
        The input direction ``ẋ`` for the tangent column, one per input.  By
        default ``ẋ_1 = 1`` and the other inputs 0, so the tangents are
        derivatives with respect to the first input.
    cotangent : number or ndarray, optional
        The output adjoint ``ȳ`` the reverse sweep starts from; default 1
        (ones for an array output), so the inputs' adjoints are the gradient.
    names : list of str, optional
        The inputs' names; default ``f``'s parameter names.

    Returns
    -------
    autodiff_ref.evaluation_trace.EvaluationTrace
        Its rows are the inputs ``v_{-n+1} ... v_0`` and then every primitive
        ``f`` applied, in evaluation order.  Constants appear as literals in
        the expressions; so do values that do not depend on the inputs (such
        as ``sign(x)``, whose derivative is zero).  A primitive with several
        results (``eigh``, ``svd``, ``qr``, ``slogdet``) gives a row for the
        call, whose values are tuples, then one row per result (``v_1[0]``).

    Examples
    --------
    The example of Baydin et al. (2018), Tables 2 and 3:

    >>> from autodiff_ref.numpy import log, sin
    >>> def f(x1, x2):
    ...     v1 = log(x1)
    ...     v2 = x1 * x2
    ...     v3 = sin(x2)
    ...     v4 = v1 + v2
    ...     return v4 - v3
    >>> tr = trace_evaluation(f, 2.0, 5.0)
    >>> print(tr)
    f(x1=2, x2=5); tangents: x1_dot=1, x2_dot=0; adjoint seed: y_bar=1
    v        expression     primal  tangent  adjoint
    -------  ------------  -------  -------  -------
    v_{-1}   x1             2.0000   1.0000   5.5000
    v_0      x2             5.0000   0.0000   1.7163
    v_1      ln(v_{-1})     0.6931   0.5000   1.0000
    v_2      v_{-1} × v_0  10.0000   5.0000   1.0000
    v_3      sin(v_0)      -0.9589   0.0000  -1.0000
    v_4      v_1 + v_2     10.6931   5.5000   1.0000
    y = v_5  v_4 - v_3     11.6521   5.5000   1.0000
    >>> tr.gradient
    (5.5, 1.716...)
    >>> tr.directional_derivative
    5.5
    """
    if not primals:
        raise TypeError(
            "trace_evaluation needs the point to evaluate f at, "
            "e.g. trace_evaluation(f, 2.0, 5.0)"
        )
    xs = [_as_input(p, "trace") for p in primals]
    direction = _direction(xs, tangents)
    labels = input_names(f, len(xs), names)

    # One run of f on nodes wrapping duals gives all three columns.  The forward
    # trace is made first so that it is the *outer* (lower-level) transform: the
    # reverse trace records every primitive on its tape, and each recorded value
    # is a dual carrying the primal and the tangent.  Running the two modes
    # separately would evaluate f twice and need the rows matched up by position.
    fwd = ForwardTrace()
    rev = ReverseTrace()
    try:
        nodes = [
            rev.new_input(Dual._new(x, t, fwd))
            for x, t in zip(xs, direction, strict=True)
        ]
        out = f(*nodes)
        if isinstance(out, tuple | list):
            raise TypeError(
                "trace follows one output, but f returned a tuple; trace the outputs one "
                "at a time, e.g. trace_evaluation(lambda x: f(x)[0], x)"
            )
        out_node = out if isinstance(out, Node) and out._trace is rev else None
        output = primal_value(out)
        seed = (
            _ones_like(output) if cotangent is None else _as_input(cotangent, "trace")
        )
        if shape_of(seed) != shape_of(output):
            raise ValueError(
                f"the cotangent has shape {shape_of(seed)} but f's output has shape "
                f"{shape_of(output)}; pass one adjoint per output element"
            )
        assert rev.tape is not None
        # backward(keep_all=True) returns every node's adjoint, not only the inputs'.
        # The node values are duals, so the adjoints are duals too (their tangents
        # would be second derivatives); the table shows their primal parts.  The
        # sweep runs while the forward trace is still active, as it must.
        adjoints = (
            {}
            if out_node is None
            else backward(rev.tape, out_node, seed, keep_all=True)
        )
        rows = _rows(rev.tape, fwd, adjoints, out_node, labels)
    finally:
        fwd.active = rev.active = False
        rev.tape = None  # the rows hold plain values: the graph can go

    if out_node is None:  # f's output does not depend on its inputs
        output_tangent = _zeros_like(output)
    else:
        output_tangent = rows[out_node.index].tangent
    name = getattr(f, "__name__", "f")
    return EvaluationTrace(
        rows,
        labels,
        "f" if name == "<lambda>" else name,
        direction,
        seed,
        output,
        output_tangent,
    )
