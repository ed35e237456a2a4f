"""Reverse mode: record a graph on a tape, then sweep it backwards.

While a function runs on :class:`Node` inputs, every primitive appends a node
to the trace's *tape* (a Wengert list): the primitive, its argument values,
its output value and which of its arguments were nodes.  The tape is in
evaluation order, which is a topological order of the graph, so the backward
pass is a plain loop over the tape in reverse -- no recursion, so a chain of a
million operations is no problem.  Each node's cotangent (adjoint) is pushed
to its parents with the primitive's ``vjp`` from the rules table, and
contributions to the same parent add up (fan-out).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .core import Primitive, Trace, Tracer, bind

__all__ = ["Node", "ReverseTrace"]


class Node(Tracer):
    """A value recorded on a reverse-mode tape.

    Attributes
    ----------
    value : number, ndarray or autodiff_ref.core.Tracer
        The primal value (a tracer only when an outer transform is active).
    prim : autodiff_ref.core.Primitive or None
        The primitive that produced it; None for an input.
    args : tuple
        The primitive's argument values (unwrapped one level).
    parents : tuple
        ``(argument position, parent node)`` pairs: which arguments were nodes
        of the same tape.
    index : int
        Position on the tape.
    """

    __slots__ = ("__weakref__", "_trace", "args", "index", "params", "parents", "prim", "value")
    value: Any
    prim: Primitive | None
    args: tuple
    params: dict
    parents: tuple[tuple[int, Node], ...]
    index: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("nodes are made by reverse-mode transforms: use autodiff_ref.vjp or grad")

    def _inner(self) -> Any:
        return self.value

    def __repr__(self) -> str:
        op = "input" if self.prim is None else self.prim.name
        return f"Node(value={self.value!r}, op={op}, index={self.index})"


def _make_node(
    trace: ReverseTrace,
    value: Any,
    prim: Primitive | None,
    args: tuple,
    params: dict,
    parents: tuple,
) -> Node:
    node = object.__new__(Node)
    node._trace, node.value, node.prim = trace, value, prim
    node.args, node.params, node.parents = args, params, parents
    assert trace.tape is not None, "tape already released"
    node.index = len(trace.tape)
    trace.tape.append(node)
    return node


class ReverseTrace(Trace):
    """A reverse-mode tag: records each primitive on a tape."""

    def __init__(self) -> None:
        super().__init__()
        self.tape: list[Node] | None = []
        # Whether values of an outer transform have been seen: until then every
        # node's value is a plain number or array, and dispatch can be skipped.
        self.nested = False

    def new_input(self, value: Any) -> Node:
        self.nested = self.nested or isinstance(value, Tracer)
        return _make_node(self, value, None, (), {}, ())

    def process(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        # The hot path of reverse mode: kept flat (no helper calls) because
        # every primitive call of a differentiated function passes through it.
        values = []
        parents = []
        derivs = prim.derivs
        i = 0
        for a in args:
            if type(a) is Node and a._trace is self:
                values.append(a.value)
                if derivs is None or derivs[i] is not None:
                    parents.append((i, a))
            else:  # a constant, or a value of an outer transform
                values.append(a)
                if isinstance(a, Tracer):
                    self.nested = True
            i += 1
        # Values of an outer transform need dispatching; plain ones go to NumPy.
        ans = bind(prim, values, params) if self.nested else prim.impl(*values, **params)
        if not parents:  # e.g. sign(x): the output does not depend on x differentiably
            return ans
        tape = self.tape
        assert tape is not None, "tape already released"
        node = object.__new__(Node)
        node._trace, node.value, node.prim = self, ans, prim
        node.args, node.params, node.parents = tuple(values), params, tuple(parents)
        node.index = len(tape)
        tape.append(node)
        return node


def backward(tape: list[Node], output: Node, seed: Any, keep_all: bool = False) -> dict[int, Any]:
    """Sweep ``tape`` backwards from ``output`` with cotangent ``seed``.

    Returns the cotangents of the input nodes, keyed by tape index (inputs the
    output does not depend on are missing).  With ``keep_all=True``, returns
    the cotangent (adjoint) of every node the output depends on, as an
    evaluation trace shows them.
    """
    from .rules import add

    cts: dict[int, Any] = {output.index: seed}
    input_cts: dict[int, Any] = {}
    all_cts: dict[int, Any] = {}
    for k in range(output.index, -1, -1):
        ct = cts.pop(k, None)
        if ct is None:  # the output does not depend on this node
            continue
        if keep_all:  # only then: keeping every cotangent alive costs memory
            all_cts[k] = ct
        node = tape[k]
        prim = node.prim
        if prim is None:
            input_cts[k] = ct
            continue
        for i, parent in node.parents:
            contribution = prim.vjp(i, ct, node.value, node.args, node.params)
            if contribution is None:
                continue
            j = parent.index
            previous = cts.get(j)
            cts[j] = contribution if previous is None else add(previous, contribution)
    return all_cts if keep_all else input_cts
