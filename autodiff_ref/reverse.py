"""Reverse mode: record a graph on a tape, then sweep it backwards.

While a function runs on :class:`Node` inputs, every primitive appends a node
to the trace's *tape* (a Wengert list): the primitive, its arguments as it
was called (the nodes among them are its parents) and its output value.  The
tape is in evaluation order, which is a topological order of the graph, so the
backward pass is a plain loop over the tape in reverse -- no recursion, so a
chain of a million operations is no problem.  Each node's cotangent (adjoint) is pushed
to its parents with the primitive's ``vjp`` from the rules table, and
contributions to the same parent add up (fan-out).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .core import NO_PARAMS, Primitive, Trace, Tracer, bind, impl_of

__all__ = ["Node", "ReverseTrace"]


class Node(Tracer):
    """A value recorded on a reverse-mode tape.

    Attributes
    ----------
    value : number, ndarray or autodiff_ref.core.Tracer
        The primal value (a tracer only when an outer transform is active).
    prim : autodiff_ref.core.Primitive or None
        The primitive that produced it; None for an input.
    inputs : tuple
        The primitive's arguments as it was called: nodes and constants.
    params : dict
        The primitive's parameters (``axis=``, ``index=``, ...).
    index : int
        Position on the tape.
    """

    # Few fields, and nothing the inputs already say: a scalar graph records one
    # node per operation, so each field is paid for millions of times.
    __slots__ = ("__weakref__", "_trace", "index", "inputs", "params", "prim", "value")
    value: Any
    prim: Primitive | None
    inputs: tuple
    params: dict
    index: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "nodes are made by reverse-mode transforms: use autodiff_ref.vjp or grad"
        )

    def _inner(self) -> Any:
        return self.value

    @property
    def args(self) -> tuple:
        """The primitive's argument values, with each input node replaced by its value."""
        trace = self._trace
        return tuple(
            a.value if type(a) is Node and a._trace is trace else a for a in self.inputs
        )  # fmt: skip

    @property
    def parents(self) -> tuple[tuple[int, Node], ...]:
        """``(argument position, parent node)`` for each differentiable input node."""
        trace = self._trace
        derivs = None if self.prim is None else self.prim.derivs
        return tuple(
            (i, a)
            for i, a in enumerate(self.inputs)
            if type(a) is Node
            and a._trace is trace
            and (derivs is None or derivs[i] is not None)
        )

    def __repr__(self) -> str:
        op = "input" if self.prim is None else self.prim.name
        return f"Node(value={self.value!r}, op={op}, index={self.index})"


class ReverseTrace(Trace):
    """A reverse-mode tag: records each primitive on a tape."""

    def __init__(self) -> None:
        super().__init__()
        self.tape: list[Node] | None = []
        # Whether values of an outer transform have been seen: until then every
        # node's value is a plain number or array, and dispatch can be skipped.
        self.nested = False

    def new_input(self, value: Any) -> Node:
        """Record an input: a node with no primitive and no parents."""
        self.nested = self.nested or isinstance(value, Tracer)
        return self._append(value, None, (), NO_PARAMS)

    def _append(
        self, value: Any, prim: Primitive | None, inputs: tuple, params: dict
    ) -> Node:
        tape = self.tape
        assert tape is not None, "tape already released"
        node = object.__new__(Node)
        node._trace, node.value, node.prim = self, value, prim
        node.inputs, node.params, node.index = inputs, params, len(tape)
        tape.append(node)
        return node

    def process(self, prim: Primitive, args: Sequence[Any], params: dict) -> Any:
        # The hot path of reverse mode: every primitive call of a differentiated
        # function passes through it. Kept flat, and it keeps nothing but the
        # node: what the memory of a million-node graph costs is mostly the
        # time to allocate it.
        values = list(args)
        derivs = prim.derivs
        differentiable = False
        for i, a in enumerate(args):
            if type(a) is Node and a._trace is self:
                values[i] = a.value
                differentiable = (
                    differentiable or derivs is None or derivs[i] is not None
                )
            elif isinstance(a, Tracer):  # a value of an outer transform
                self.nested = True
        # Values of an outer transform need dispatching; plain ones go to NumPy.
        ans = (
            bind(prim, values, params)
            if self.nested
            else impl_of(prim)(*values, **params)
        )
        if (
            not differentiable
        ):  # e.g. sign(x): the output does not depend on x differentiably
            return ans
        return self._append(
            ans, prim, args if type(args) is tuple else tuple(args), params
        )


def backward(
    tape: list[Node], output: Node, seed: Any, keep_all: bool = False
) -> dict[int, Any]:
    """Sweep ``tape`` backwards from ``output`` with cotangent ``seed``.

    Returns the cotangents of the input nodes, keyed by tape index (inputs the
    output does not depend on are missing).  With ``keep_all=True``, returns
    the cotangent (adjoint) of every node the output depends on, as an
    evaluation trace shows them.
    """
    from .rules import add

    trace = output._trace
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
        # The argument values, and the arguments that are parents.
        inputs = node.inputs
        args = list(inputs)
        parents = []
        derivs = prim.derivs
        for i, a in enumerate(inputs):
            if type(a) is Node and a._trace is trace:
                args[i] = a.value
                if derivs is None or derivs[i] is not None:
                    parents.append(i)
        # A real scalar through an elementwise primitive (scalar graphs): the
        # local derivatives from the rules table, multiplied and summed with
        # Python's operators -- what Primitive.vjp would reduce to -- rather
        # than dispatching every product and sum as a primitive. This is
        # core.times_local_derivative specialised to floats; it stays here, not
        # in that helper, because forward mode shares the helper and its
        # dispatched products are what the docs count as a JVP's operations
        # (moving it there, or calling the helper from here, measured 10-15%
        # slower on the benchmark's scalar graphs).
        scalar = derivs is not None and isinstance(ct, float)
        for i in parents:
            contribution = None
            if scalar:
                d = derivs[i]  # type: ignore[index]
                if type(d) is int:  # 1 or -1: the argument passes through
                    contribution = ct if d == 1 else -ct
                elif callable(d):
                    local = d(node.value, *args, **node.params)
                    if isinstance(local, float):
                        contribution = local * ct
            if contribution is None:  # arrays, nested transforms, complex values
                contribution = prim.vjp(i, ct, node.value, args, node.params)
                if contribution is None:
                    continue
            j = inputs[i].index
            previous = cts.get(j)
            if previous is None:
                cts[j] = contribution
            elif isinstance(previous, float) and isinstance(contribution, float):
                cts[j] = (
                    previous + contribution
                )  # what add would do, minus the dispatch
            else:
                cts[j] = add(previous, contribution)
    return all_cts if keep_all else input_cts
