"""Reverse mode: record a graph on a tape, then sweep it backwards.

While a function runs on :class:`Node` inputs, every primitive appends a node
to the trace's *tape* (a Wengert list): the primitive, its arguments as it
was called (the nodes among them are its parents) and its output value.  The
tape is in evaluation order, which is a topological order of the graph, so the
backward pass is a plain loop over the tape in reverse -- no recursion, so a
chain of a million operations is no problem.  Each node's cotangent (adjoint) is pushed
to its parents by the primitive's rule from the rules table, and contributions to
the same parent add up (fan-out):

* an elementwise primitive multiplies the cotangent by its local derivative;
* a linear primitive applies its transpose, which returns every parent's
  cotangent at once;
* any other primitive has only a JVP, and :func:`transposed_jvp` linearizes it
  and transposes the result (Autodidax's ``vjp = linearize + transpose``): the
  JVP runs once with tangents that are the inputs of a fresh tape, which thus
  records the linear map, and sweeping that tape backwards applies its
  transpose;
* a user rule with ``fwd`` and ``bwd`` (``custom_vjp``, ``checkpoint``) ran
  ``fwd`` in the forward pass, its residuals were kept, and ``bwd`` receives
  them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import display, rules
from .core import (
    NO_PARAMS,
    Primitive,
    Trace,
    Tracer,
    UndefinedPrimal,
    Zero,
    _dtype_of,
    bind,
    cotangent_for,
    impl_of,
    primal_value,
    shape_of,
)

__all__ = ["Node", "ReverseTrace", "transposed_jvp"]

#: Result ``index`` of a primitive with several results, as the tape records it.
RESULT = rules.result


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
    inputs: tuple[Any, ...]
    params: dict[str, Any]
    index: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "nodes are made by reverse-mode transforms: use autodiff_ref.vjp or grad"
        )

    def _inner(self) -> Any:
        return self.value

    @property
    def args(self) -> tuple[Any, ...]:
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
        #: What each ``fwd`` of a user rule saved for its ``bwd``, by tape index.
        self.residuals: dict[int, Any] = {}
        # Whether values of an outer transform have been seen: until then every
        # node's value is a plain number or array, and dispatch can be skipped.
        self.nested = False

    def new_input(self, value: Any) -> Node:
        """Record an input: a node with no primitive and no parents."""
        self.nested = self.nested or isinstance(value, Tracer)
        return self._append(value, None, (), NO_PARAMS)

    def _append(
        self,
        value: Any,
        prim: Primitive | None,
        inputs: tuple[Any, ...],
        params: dict[str, Any],
    ) -> Node:
        tape = self.tape
        assert tape is not None, "tape already released"
        node = object.__new__(Node)
        node._trace, node.value, node.prim = self, value, prim
        node.inputs, node.params, node.index = inputs, params, len(tape)
        tape.append(node)
        return node

    def process(
        self, prim: Primitive, args: Sequence[Any], params: dict[str, Any]
    ) -> Any:
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
        if prim.fwd_rule is not None and differentiable:
            # A user rule (custom_vjp): fwd gives the value and what bwd will need.
            ans, residuals = prim.fwd_rule(*values)
            node = self._append(ans, prim, tuple(args), params)
            self.residuals[node.index] = residuals
            return node
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
        if derivs is None and prim.multiple_results:
            # A node for the call (its value the tuple), then one per result.
            call = self._append(ans, prim, tuple(args), params)
            return tuple(
                self._append(v, RESULT, (call,), {"index": k})
                for k, v in enumerate(ans)
            )
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
    return _sweep(tape, {output.index: seed}, output.index, keep_all)


def _sweep(
    tape: list[Node], cts: dict[int, Any], start: int, keep_all: bool = False
) -> dict[int, Any]:
    """:func:`backward` from the nodes whose cotangents ``cts`` holds (none past ``start``)."""
    add = rules.add
    trace = tape[start]._trace
    assert isinstance(trace, ReverseTrace)
    input_cts: dict[int, Any] = {}
    all_cts: dict[int, Any] = {}
    for k in range(start, -1, -1):
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
        if derivs is None:  # one call gives every parent's cotangent
            if prim is RESULT:  # gather the cotangents of a call's results
                call = inputs[0]
                parts = cts.get(call.index)
                if parts is None:
                    parts = cts[call.index] = [None] * len(call.value)
                index = node.params["index"]
                parts[index] = ct if parts[index] is None else add(parts[index], ct)
                continue
            if prim.multiple_results:  # a zero for each result no cotangent reached
                ct = tuple(
                    Zero(shape_of(v), _dtype_of(v)) if c is None else c
                    for c, v in zip(ct, node.value, strict=True)
                )
            rule = prim.transpose_rule
            if (
                rule is not None
                and prim.linear_in is None
                and (len(parents) == 1 or prim.linearity != "linear")
            ):
                # The common cases (sum, indexing, x @ W in one factor or both), flat:
                # Primitive.transpose minus its calls. A bilinear primitive is
                # transposed in one factor at a time, the other held constant.
                for i in parents:
                    a = args[i]
                    args[i] = (
                        UndefinedPrimal(a.shape, a.dtype)
                        if type(a) is np.ndarray
                        else UndefinedPrimal.like(a)
                    )
                    contribution = rule(ct, *args, **node.params)[i]
                    args[i] = a
                    if contribution is not None:
                        contribution = cotangent_for(contribution, a)
                        j = inputs[i].index
                        previous = cts.get(j)
                        cts[j] = (
                            contribution
                            if previous is None
                            else add(previous, contribution)
                        )
                continue
            if prim.bwd_rule is not None:
                every = prim.bwd_rule(trace.residuals[k], ct, *args)
                contributions = [every[i] for i in parents]
            elif prim.transposes(parents):
                contributions = prim.transpose(ct, args, node.params, parents)
            else:
                contributions = transposed_jvp(
                    prim, ct, node.value, args, node.params, parents
                )
            for i, contribution in zip(parents, contributions, strict=True):
                if contribution is not None:
                    contribution = cotangent_for(contribution, args[i])
                    _accumulate(cts, inputs[i].index, contribution, add)
            continue
        # A real scalar through an elementwise primitive (scalar graphs): the
        # local derivatives from the rules table, multiplied and summed with
        # Python's operators -- what Primitive.local_vjp would reduce to -- rather
        # than dispatching every product and sum as a primitive. This is
        # core.times_local_derivative specialised to floats; it stays here, not
        # in that helper, because forward mode shares the helper and its
        # dispatched products are what the docs count as a JVP's operations
        # (moving it there, or calling the helper from here, measured 10-15%
        # slower on the benchmark's scalar graphs).
        scalar = isinstance(ct, float)
        for i in parents:
            contribution = None
            if scalar:
                d = derivs[i]
                if type(d) is int:  # 1 or -1: the argument passes through
                    contribution = ct if d == 1 else -ct
                elif callable(d):
                    local = d(node.value, *args, **node.params)
                    if isinstance(local, float):
                        contribution = local * ct
            if contribution is None:  # arrays, nested transforms, complex values
                contribution = prim.local_vjp(i, ct, node.value, args, node.params)
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


def _accumulate(cts: dict[int, Any], j: int, contribution: Any, add: Any) -> None:
    previous = cts.get(j)
    if previous is None:
        cts[j] = contribution
    elif isinstance(previous, float) and isinstance(contribution, float):
        cts[j] = previous + contribution  # what add would do, minus the dispatch
    else:
        cts[j] = add(previous, contribution)


def transposed_jvp(
    prim: Primitive,
    ct: Any,
    ans: Any,
    args: Sequence[Any],
    params: dict[str, Any],
    parents: Sequence[int],
) -> list[Any]:
    """The cotangents of ``args[i]`` for ``i`` in ``parents``, from ``prim``'s JVP alone.

    Linearize, then transpose (Autodidax's ``vjp``): the JVP rule runs once with
    tangents that are the inputs of a fresh tape. The primals are constants to
    that tape (they may be values of enclosing transforms, so this nests), so it
    records the linear map from the tangents to the output tangent; sweeping it
    backwards with ``ct`` applies the map's transpose. A rule that is not linear
    in its tangents (a user's) is refused, not transposed into a wrong answer.
    """
    trace = ReverseTrace()
    try:
        tangents: list[Any] = [None] * len(args)
        for i in parents:
            zero = Zero(shape_of(args[i]), _dtype_of(args[i])).instantiate()
            tangents[i] = trace.new_input(zero)
        out = prim.jvp(tangents, ans, args, params)
        outs, seeds = (out, ct) if prim.multiple_results else ((out,), (ct,))
        # The output tangents that depend on the tangents, and their cotangents
        # (a result whose cotangent is Zero contributes nothing).
        pairs = [
            (o, c)
            for o, c in zip(outs, seeds, strict=True)
            if type(o) is Node and o._trace is trace and type(c) is not Zero
        ]
        if not pairs:
            return [None] * len(parents)  # the output tangent does not depend on them
        tape = trace.tape
        assert tape is not None
        _check_linear_tape(prim, tape, [o for o, _ in pairs])
        start_cts: dict[int, Any] = {}
        for o, c in pairs:
            _accumulate(start_cts, o.index, c, rules.add)
        cts = _sweep(tape, start_cts, max(o.index for o, _ in pairs))
    finally:
        trace.active = False
        trace.tape = None
    return [cts.get(tangents[i].index) for i in parents]


def _check_linear_tape(prim: Primitive, tape: list[Node], outs: list[Node]) -> None:
    """Refuse a JVP whose recorded tangent map is not linear (sin(t), t * t, t + 1)."""
    for node in tape:
        step = node.prim
        if step is None:
            continue
        linear = [i for i, _ in node.parents]
        if step.derivs is not None:
            ok = (
                step.linearity == "linear"
                or (step.linearity == "bilinear" and len(linear) == 1)
                or (step is rules.div and linear == [0])
            )
        else:
            ok = step.transposes(linear) and (
                step.linearity == "linear" or len(linear) == 1
            )
        if not ok:
            break
    else:
        # Linear steps, but an offset (t + 1) shows as a nonzero value at t = 0.
        # (A program's abstract value has no number to look at: staging checks
        # the steps only.)
        offset = False
        for out in outs:
            value = primal_value(out.value)
            if isinstance(value, Tracer):
                return
            offset = offset or bool(np.any(np.abs(np.asarray(value)) > 0))
        if not offset:
            return
    raise ValueError(
        f"the JVP rule of {display.label(prim)} is not linear in the "
        "tangents; reverse mode needs "
        "it to be (write tangent_out as a sum of terms each multiplied by a tangent)"
    )
