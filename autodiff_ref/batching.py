"""vmap: the batching interpreter (JAX's ``batching.py``, Autodidax's ``vmap``).

``vmap(f)(xs)`` runs ``f`` once on values that carry a *batch axis*: a
:class:`BatchTracer` holds the whole stack of examples (``val``) and which of
its axes runs over them (``batch_dim``), and looks to ``f`` like one example
(its ``shape`` leaves that axis out).  Every primitive applied to it goes to the
:class:`BatchTrace`, which applies the primitive's *batching rule*: one call of
the primitive (or a few) on the whole stack, with its params shifted past the
batch axis, instead of one call per example.

The rules are data keyed by the :class:`~autodiff_ref.core.Primitive` object
(:data:`BATCH_RULES`), and most follow from the primitive's kind:

* an elementwise primitive (``prim.derivs is not None``) broadcasts, so every
  batched argument moves its batch axis to the front and gains unit axes up to
  the output's rank: one generic rule, no code per primitive;
* a structural primitive (sum, reshape, getitem, ...) moves the batch axis to
  the front and shifts its axis params by one;
* a linear-algebra primitive acts on stacks of matrices (NumPy's ``linalg``
  broadcasts over leading axes), so the batch axis in front is one more stack
  axis; a primitive with several results gives one batched value per result.

A primitive without a rule runs once per example in a Python loop, with a
warning that names it: slow, never wrong.

Batching runs on any values: plain arrays, other transforms' tracers (so vmap
nests with grad, jvp and itself in any order, by levels), and a program's
abstract values (so ``jit(vmap(f))`` stages the batched program).
"""

from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import rules
from .core import (
    NO_PARAMS,
    ConcretizationError,
    Primitive,
    Trace,
    Tracer,
    bind,
    primal_value,
    shape_of,
)
from .program.tracing import (
    _UFUNC_COMPARISONS,
    COMPARISONS,
    EQ,
    GE,
    GT,
    LE,
    LT,
    NE,
    PRIMAL_ALL,
    PRIMAL_ANY,
    VALUE_ONLY,
)
from .tree import _children, require_callable, tree_flatten, tree_unflatten

__all__ = ["BATCH_RULES", "BatchTrace", "BatchTracer", "batch_rule", "vmap"]

#: The batching rules, keyed by the primitive object. A rule is
#: ``rule(prim, size, vals, dims, params) -> (out, out_dim)``: ``vals`` are the
#: arguments with their batch axes in, ``dims`` says where (None for an argument
#: without one), ``out_dim`` where the output's batch axis is (a tuple, one per
#: result, for a primitive with several results). Elementwise primitives have no
#: entry: :func:`batch_rule` gives them the one rule they share. Weak keys: a
#: primitive made at run time (custom_jvp, checkpoint) leaves the table when freed.
BATCH_RULES: weakref.WeakKeyDictionary[Primitive, Callable[..., tuple[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)


# -- the interpreter -----------------------------------------------------------------
class BatchTrace(Trace):
    """One vmap call: values of this trace carry a batch axis of ``size`` examples."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def process(
        self, prim: Primitive, args: Sequence[Any], params: dict[str, Any]
    ) -> Any:
        vals: list[Any] = []
        dims: list[int | None] = []
        for a in args:
            if isinstance(a, BatchTracer) and a._trace is self:
                vals.append(a.val)
                dims.append(a.batch_dim)
            else:  # a constant, or a value of an outer transform: the same per example
                vals.append(a)
                dims.append(None)
        rule = batch_rule(prim)
        if rule is None:
            out, out_dim = _loop(prim, self.size, vals, dims, params)
        else:
            out, out_dim = rule(prim, self.size, vals, dims, params)
        if prim.multiple_results:
            return tuple(self.wrap(o, d) for o, d in zip(out, out_dim, strict=True))
        return self.wrap(out, out_dim)

    def wrap(self, val: Any, dim: int | None) -> Any:
        """``val`` as a value of this trace (as it is, when it has no batch axis)."""
        return val if dim is None else BatchTracer(self, val, dim)


_SHAPE_FUNCTIONS: dict[Any, Callable[[Any], Any]] = {
    np.shape: lambda x: x.shape,
    np.ndim: lambda x: x.ndim,
    np.size: lambda x: x.size,
}


def _comparison_method(prim: Primitive) -> Callable[[Any, Any], Any]:
    def compare(self: Any, other: Any) -> Any:
        return bind(prim, (primal_value(self), primal_value(other)), NO_PARAMS)

    compare.__name__ = f"__{prim.name}__"  # printing only
    return compare


class BatchTracer(Tracer):
    """A stack of examples (``val``) seen by ``f`` as one example.

    ``batch_dim`` is the axis of ``val`` that runs over the examples; ``shape``
    is ``val``'s shape without it.
    """

    __slots__ = ("_trace", "batch_dim", "val")
    _trace: BatchTrace

    def __init__(self, trace: BatchTrace, val: Any, batch_dim: int) -> None:
        self._trace, self.val, self.batch_dim = trace, val, batch_dim

    def _inner(self) -> Any:
        # There is no one plain value below a stack of examples: as an abstract value
        # is, a batched value is the bottom of primal_value, with the derivative
        # tracers of outer transforms stripped from its stack.
        inner = primal_value(self.val)
        return (
            self
            if inner is self.val
            else BatchTracer(self._trace, inner, self.batch_dim)
        )

    def _shape(self) -> tuple[int, ...]:
        shape = shape_of(self.val)
        return shape[: self.batch_dim] + shape[self.batch_dim + 1 :]

    @property
    def dtype(self) -> np.dtype:
        val = self.val
        return val.dtype if isinstance(val, Tracer) else np.result_type(val)

    def __bool__(self) -> bool:
        raise ConcretizationError(
            "an if, while, and/or or bool() needs the value of a batched array under "
            "vmap, which has one value per example; select values with "
            "autodiff_ref.numpy.where(condition, a, b) instead"
        )

    def __repr__(self) -> str:
        return f"BatchTracer(val={self.val!r}, batch_dim={self.batch_dim})"

    def __index__(self) -> int:
        raise _batched_index_error()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            "a batched value under vmap (one value per example) was converted to a "
            "NumPy array (numpy.asarray, a NumPy function of a list, or a NumPy array "
            "indexed with it); compute with autodiff_ref.numpy functions, which batch. "
            + str(_batched_index_error())
        )

    # Comparisons answer one boolean per example, so they are primitives here (a
    # derivative tracer compares its primal values, which would be this value again).
    __lt__ = _comparison_method(LT)
    __le__ = _comparison_method(LE)
    __gt__ = _comparison_method(GT)
    __ge__ = _comparison_method(GE)
    __eq__ = _comparison_method(EQ)
    __ne__ = _comparison_method(NE)
    __hash__ = None

    def all(self, axis: Any = None, keepdims: bool = False) -> Any:
        """Whether all elements are true, per example."""
        return bind(PRIMAL_ALL, (self,), {"axis": axis, "keepdims": keepdims})

    def any(self, axis: Any = None, keepdims: bool = False) -> Any:
        """Whether any element is true, per example."""
        return bind(PRIMAL_ANY, (self,), {"axis": axis, "keepdims": keepdims})

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        # What NumPy asks of the primal values of derivative tracers (shapes, the
        # sorting order, truth values) is asked per example here.
        if func in _SHAPE_FUNCTIONS and len(args) == 1 and not kwargs:
            return _SHAPE_FUNCTIONS[func](self)
        if func is np.result_type:
            return np.result_type(
                *(a.dtype if isinstance(a, Tracer) else a for a in args)
            )
        if func in (np.any, np.all) and len(args) == 1:
            return getattr(self, func.__name__)(**kwargs)
        if func is np.argsort and len(args) == 1 and set(kwargs) <= {"axis"}:
            return rules.argsort(self, axis=kwargs.get("axis", -1))
        if func in (np.argmax, np.argmin, np.nonzero):
            raise TypeError(
                f"numpy.{func.__name__} of a batched value under vmap: autodiff_ref has "
                "no batching rule for it; compute it outside vmap, or with "
                "autodiff_ref.numpy.argsort"
            )
        return super().__array_function__(func, types, args, kwargs)

    def __array_ufunc__(
        self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any
    ) -> Any:
        if ufunc in _UFUNC_COMPARISONS and method == "__call__" and not kwargs:
            prim = _UFUNC_COMPARISONS[ufunc]  # the comparison primitive itself
            return bind(prim, tuple(primal_value(x) for x in inputs), NO_PARAMS)
        return super().__array_ufunc__(ufunc, method, *inputs, **kwargs)


def batch_rule(prim: Primitive) -> Callable[..., tuple[Any, Any]] | None:
    """The batching rule of ``prim``: its entry, the elementwise rule, or None (a loop)."""
    rule = BATCH_RULES.get(prim)
    if rule is None and prim.derivs is not None:
        return _elementwise
    return rule


def _loop(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    """No rule: the primitive once per example, the results stacked (slow, exact)."""
    warnings.warn(
        f"vmap has no batching rule for the primitive {prim.name!r}, so it runs it once "
        f"per example in a Python loop ({size} calls), which is slow; add a rule to "
        "autodiff_ref.batching.BATCH_RULES",
        stacklevel=4,
    )
    if size == 0:
        raise ValueError(
            f"vmap of the primitive {prim.name!r} (no batching rule) over 0 examples: "
            "the loop has no result to take the shape from"
        )
    outs = []
    for k in range(size):
        example = [
            v if d is None else rules.getitem(v, index=(slice(None),) * d + (k,))
            for v, d in zip(vals, dims, strict=True)
        ]
        outs.append(bind(prim, example, params))
    if prim.multiple_results:
        stacks = tuple(rules.stack(*parts, axis=0) for parts in zip(*outs, strict=True))
        return stacks, (0,) * len(stacks)
    return rules.stack(*outs, axis=0), 0


# -- moving batch axes ------------------------------------------------------------------
def _moveaxis(x: Any, src: int, dst: int) -> Any:
    if src == dst:
        return x
    order = [i for i in range(len(shape_of(x))) if i != src]
    order.insert(dst, src)
    return rules.transpose(x, axes=tuple(order))


def _to_front(x: Any, dim: int | None, size: int | None = None) -> Any:
    """``x`` with its batch axis first; one without gets it by broadcasting (``size``)."""
    if dim is None:
        assert size is not None
        return rules.broadcast_to(x, shape=(size, *shape_of(x)))
    return _moveaxis(x, dim, 0)


def _example_ndim(x: Any, dim: int | None) -> int:
    return len(shape_of(x)) - (dim is not None)


def _pad_after_batch(x: Any, ndim: int) -> Any:
    """A front-batched ``x`` with unit axes after the batch axis: ``ndim`` per example."""
    shape = shape_of(x)
    missing = ndim - (len(shape) - 1)
    if missing <= 0:
        return x
    return rules.reshape(x, shape=(shape[0], *(1,) * missing, *shape[1:]))


def _aligned(vals: Sequence[Any], dims: Sequence[int | None]) -> list[Any]:
    """Batched arguments front-batched and padded to the largest rank per example.

    Broadcasting aligns axes from the right, so an argument without a batch axis
    (of that rank or less) then lines up with the others' examples.
    """
    ndim = max(_example_ndim(v, d) for v, d in zip(vals, dims, strict=True))
    return [
        v if d is None else _pad_after_batch(_to_front(v, d), ndim)
        for v, d in zip(vals, dims, strict=True)
    ]


# -- rules ---------------------------------------------------------------------------
def _elementwise(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    # Broadcasting per example is broadcasting of the stacks, once the batch axes
    # are in front and every example has the output's rank.
    return bind(prim, _aligned(vals, dims), params), 0


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple) of an example, as axes of a front-batched stack."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    return tuple(a % ndim + 1 for a in ((axis,) if isinstance(axis, int) else axis))


def _reduction(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    (x,), (d,) = vals, dims
    ndim = _example_ndim(x, d)
    axis = _axes(params.get("axis"), ndim)
    return bind(prim, [_to_front(x, d)], {**params, "axis": axis}), 0


def _along_axis(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    # cumsum and argsort: one axis; None means the flattened example.
    (x,), (d,) = vals, dims
    x = _to_front(x, d)
    axis = params["axis"]
    if axis is None:
        x = rules.reshape(x, shape=(size, -1))
        return bind(prim, [x], {**params, "axis": 1}), 0
    axis = axis % _example_ndim(x, 0) + 1
    return bind(prim, [x], {**params, "axis": axis}), 0


def _front(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    # One argument that the primitive reads as a stack over its leading axes
    # (inv, cholesky, eigh, ...) or whose layout does not matter (astype).
    (x,), (d,) = vals, dims
    out = bind(prim, [_to_front(x, d)], params)
    if prim.multiple_results:
        return out, (0,) * len(out)
    return out, 0


def _transpose(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    (x,), (d,) = vals, dims
    ndim = _example_ndim(x, d)
    axes = params.get("axes")
    example = tuple(reversed(range(ndim))) if axes is None else axes
    moved = (0, *(a % ndim + 1 for a in example))
    return bind(prim, [_to_front(x, d)], {"axes": moved}), 0


def _reshape(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    (x,), (d,) = vals, dims
    shape = params["shape"]
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return bind(prim, [_to_front(x, d)], {"shape": (size, *shape)}), 0


def _broadcast_to(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    (x,), (d,) = vals, dims
    shape = tuple(params["shape"])
    x = _pad_after_batch(_to_front(x, d), len(shape))
    return bind(prim, [x], {"shape": (size, *shape)}), 0


def _sum_to(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    # The example's extra leading axes are summed first: sum_to on the stack would
    # take the batch axis for one of them.
    (x,), (d,) = vals, dims
    shape = tuple(params["shape"])
    x = _to_front(x, d)
    lead = _example_ndim(x, 0) - len(shape)
    if lead > 0:
        x = rules.sum(x, axis=tuple(range(1, lead + 1)))
    return bind(prim, [x], {"shape": (size, *shape)}), 0


def _index_parts(index: Any) -> tuple[Any, ...]:
    return index if isinstance(index, tuple) else (index,)


def _is_array_index(part: Any) -> bool:
    return isinstance(part, np.ndarray | list)


def _batch_position(parts: tuple[Any, ...]) -> int:
    """Where x[(:, *parts)] puts the batch axis.

    NumPy puts the axes of advanced (array) indices first when slices separate
    them, and where they stand when they are adjacent: then the batch axis,
    a slice before them, stays in front.
    """
    if not any(_is_array_index(p) for p in parts):
        return 0
    advanced = [
        i
        for i, p in enumerate(parts)
        if _is_array_index(p) or isinstance(p, int | np.integer)
    ]
    if advanced == list(range(advanced[0], advanced[-1] + 1)):
        return 0
    shapes = [
        (np.count_nonzero(p),) if np.asarray(p).dtype == bool else np.shape(p)
        for p in parts
        if _is_array_index(p) or isinstance(p, int | np.integer)
    ]
    return len(np.broadcast_shapes(*shapes))


def _getitem(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    (x,), (d,) = vals, dims
    parts = _index_parts(params["index"])
    if any(isinstance(p, Tracer) for p in parts):
        raise _batched_index_error()
    out = bind(prim, [_to_front(x, d)], {"index": (slice(None), *parts)})
    return out, _batch_position(parts)


def _batched_index_error() -> TypeError:
    return TypeError(
        "indexing with a batched index under vmap (one index per example) is not "
        "supported: an index is a parameter of getitem, not a value it batches. Pass "
        "the index with in_axes=None (one index for every example), or select with "
        "a comparison and autodiff_ref.numpy.where"
    )


def _scatter_add(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    # The transpose of getitem: the values go where getitem puts its batch axis.
    (x,), (d,) = vals, dims
    parts = _index_parts(params["index"])
    shape = tuple(params["shape"])
    selected = np.broadcast_to(np.empty((), bool), shape)[parts].shape
    x = _pad_after_batch(_to_front(x, d), len(selected))
    x = _moveaxis(x, 0, _batch_position(parts))
    index = (slice(None), *parts)
    return bind(prim, [x], {"index": index, "shape": (size, *shape)}), 0


def _joined(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    # stack and concatenate: every piece gets the batch axis in front.
    ndim = max(_example_ndim(v, d) for v, d in zip(vals, dims, strict=True))
    out_ndim = ndim + (prim is rules.stack)
    axis = params.get("axis", 0) % out_ndim + 1
    pieces = [_to_front(v, d, size) for v, d in zip(vals, dims, strict=True)]
    return bind(prim, pieces, {**params, "axis": axis}), 0


def _matmul(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    # A stacked vector would read as a matrix: vectors become a row (left) or a
    # column (right) first, and lose that axis again after the product.
    (a, b), (da, db) = vals, dims
    a_vector = _example_ndim(a, da) == 1
    b_vector = _example_ndim(b, db) == 1
    a, da = (a, None) if da is None else (_to_front(a, da), 0)
    b, db = (b, None) if db is None else (_to_front(b, db), 0)
    if a_vector:
        shape = shape_of(a)
        a = rules.reshape(a, shape=(*shape[:-1], 1, shape[-1]))
    if b_vector:
        b = rules.reshape(b, shape=(*shape_of(b), 1))
    a, b = _aligned((a, b), (da, db))
    out = bind(prim, [a, b], params)
    shape = shape_of(out)
    if a_vector or b_vector:
        rows = () if a_vector else shape[-2:-1]
        cols = () if b_vector else shape[-1:]
        out = rules.reshape(out, shape=(*shape[:-2], *rows, *cols))
    return out, 0


def _einsum(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    # The batch axis is one more index, shared by the batched operands and the output.
    inputs, output = params["subscripts"].split("->")
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                  if c not in params["subscripts"])  # fmt: skip
    terms = [
        term if d is None else letter + term
        for term, d in zip(inputs.split(","), dims, strict=True)
    ]
    operands = [
        v if d is None else _to_front(v, d) for v, d in zip(vals, dims, strict=True)
    ]
    subscripts = ",".join(terms) + "->" + letter + output
    return bind(prim, operands, {**params, "subscripts": subscripts}), 0


def _solve(
    prim: Primitive,
    size: int,
    vals: Sequence[Any],
    dims: Sequence[int | None],
    params: dict[str, Any],
) -> tuple[Any, Any]:
    # Stacks of systems: A (..., n, n) and B (..., n, k) broadcast over the leading
    # axes. A 1-d B of an example would read as a stack of rows once batched, so it
    # is solved as a column.
    (a, b), (da, db) = vals, dims
    b_vector = _example_ndim(b, db) == 1
    if b_vector:
        b = rules.reshape(b, shape=(*shape_of(b), 1))
    a, b = _aligned((a, b), (da, db))
    out = bind(prim, [a, b], params)
    if b_vector:
        out = rules.reshape(out, shape=shape_of(out)[:-1])
    return out, 0


for _prim in (rules.sum, rules.prod, rules.amax, rules.amin, *VALUE_ONLY.values()):
    BATCH_RULES[_prim] = _reduction
# Elementwise in effect, though not given by local derivatives: the complex parts
# (linear over the reals) and angle (a JVP).
for _prim in (rules.real, rules.imag, rules.conj, rules.angle):
    BATCH_RULES[_prim] = _elementwise
for _prim in (rules.cumsum, rules.argsort):
    BATCH_RULES[_prim] = _along_axis
for _prim in (
    rules.astype,
    rules.real,  # elementwise maps of one array (linear, or given by a JVP)
    rules.imag,
    rules.conj,
    rules.angle,
    rules.require_distinct,
    rules.inv,
    rules.adjugate,
    rules.det,
    rules.slogdet,
    rules.cholesky,
    rules.eigh,
    rules.eigvalsh,
    rules.svd,
    rules.svdvals,
    rules.qr,
    rules.pinv,
    rules.require_full_rank,
):
    BATCH_RULES[_prim] = _front
BATCH_RULES.update(
    {
        rules.transpose: _transpose,
        rules.reshape: _reshape,
        rules.broadcast_to: _broadcast_to,
        rules.sum_to: _sum_to,
        rules.getitem: _getitem,
        rules.scatter_add: _scatter_add,
        rules.stack: _joined,
        rules.concatenate: _joined,
        rules.matmul: _matmul,
        rules.einsum: _einsum,
        rules.solve: _solve,
    }
)
# np.fft's transforms and partition's selection act along one axis, as cumsum does.
for _prim in (rules.fft, rules.rfft, rules.irfft, rules.argpartition):
    BATCH_RULES[_prim] = _along_axis
# The comparisons are elementwise (derivs given): the shared rule covers them.
assert all(p.derivs is not None for p in COMPARISONS.values())


# -- vmap ----------------------------------------------------------------------------
def _prefix_leaves(prefix: Any, tree: Any, what: str) -> list[Any]:
    """One entry of ``prefix`` per leaf of ``tree``: a prefix tree broadcast down."""
    if prefix is None or isinstance(prefix, int):
        return [prefix] * len(tree_flatten(tree)[0])
    outer, inner = _children(prefix), _children(tree)
    matches = outer is not None and inner is not None and outer[0] == inner[0]
    if matches:
        assert outer is not None and inner is not None
        if outer[0] == "dict":
            matches = set(outer[1]) == set(inner[1])
            keys = list(inner[1])
            items_p = [prefix[k] for k in keys] if matches else []
            items_t = list(inner[2])
        else:
            matches = outer[1] == inner[1] and len(outer[2]) == len(inner[2])
            items_p, items_t = list(outer[2]), list(inner[2])
    if not matches:
        raise ValueError(
            f"vmap {what} specification must be a tree prefix of the corresponding "
            f"value, got specification {prefix!r} for value tree "
            f"{tree_flatten(tree)[1]}"
        )
    out: list[Any] = []
    for p, t in zip(items_p, items_t, strict=True):
        out += _prefix_leaves(p, t, what)
    return out


def _check_axes(spec: Any, what: str) -> None:
    for leaf in tree_flatten(spec)[0]:
        if not isinstance(leaf, int) or isinstance(leaf, bool):
            raise TypeError(
                f"vmap {what} must be an int, None, or a (nested) tuple, list or dict of "
                f"them, got {leaf!r} ({type(leaf).__name__})"
            )


def _describe(leaf: Any) -> str:
    shape = shape_of(leaf)
    dtype = leaf.dtype if isinstance(leaf, Tracer) else np.result_type(leaf)
    return f"{dtype}{list(shape)}"


def vmap(
    f: Callable[..., Any],
    in_axes: Any = 0,
    out_axes: Any = 0,
    *,
    axis_size: int | None = None,
) -> Callable[..., Any]:
    """Vectorize ``f`` over an axis of its inputs: ``f`` of each example, stacked.

    ``vmap(f)(xs)`` equals ``stack([f(x) for x in xs])``, computed in one pass
    of ``f`` over the whole stack: each primitive runs once on the batch (its
    batching rule), not once per example.  JAX's ``jax.vmap``, with its
    signature and meaning.

    Parameters
    ----------
    f : callable
        A function of numbers and arrays (or pytrees of them) written with
        autodiff_ref's operations.
    in_axes : int, None or tuple
        The axis of each argument that runs over the examples; None for an
        argument that is the same for every example.  An int or None applies
        to every argument; a tuple has one entry per positional argument, each
        an int, None, or a tree prefix of that argument (a dict of axes for a
        dict argument). Negative axes count from the end.  Keyword arguments
        are mapped over their axis 0.
    out_axes : int, None, tuple or dict
        Where the batch axis goes in each output (a tree prefix of the
        output).  An output that does not depend on the batched inputs is
        broadcast along it; None returns it as it is (only for such outputs).
    axis_size : int, optional
        The number of examples, needed only when every ``in_axes`` is None.

    Returns
    -------
    callable
        Takes the batched arguments, returns the batched outputs.

    Raises
    ------
    ValueError
        If the mapped axes have different sizes, an axis is out of range, or
        ``in_axes`` does not match the arguments' structure.

    Examples
    --------
    >>> import numpy as np
    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> xs = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> ad.vmap(anp.sum)(xs)  # one sum per row
    array([ 3.,  7., 11.])
    >>> A = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> ad.vmap(lambda A, x: A @ x, in_axes=(None, 0))(A, xs)  # A x for each row x
    array([[ 1.,  3.],
           [ 3.,  7.],
           [ 5., 11.]])
    >>> ad.vmap(lambda x: 2.0 * x, out_axes=1)(xs)  # the examples along axis 1
    array([[ 2.,  6., 10.],
           [ 4.,  8., 12.]])
    >>> ad.vmap(ad.grad(lambda x: anp.sum(x**3)))(xs)  # per-example gradients
    array([[  3.,  12.],
           [ 27.,  48.],
           [ 75., 108.]])
    """
    require_callable(f, "vmap")
    if isinstance(in_axes, list):  # as JAX: a list of the positional arguments' axes
        in_axes = tuple(in_axes)
    if not (in_axes is None or isinstance(in_axes, int | tuple)):
        raise TypeError(
            "vmap in_axes must be an int, None, or a tuple of entries corresponding to "
            f"the positional arguments passed to the function, but got {in_axes!r}"
        )
    _check_axes(in_axes, "in_axes")
    _check_axes(out_axes, "out_axes")

    @functools.wraps(f)
    def batched(*args: Any, **kwargs: Any) -> Any:
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(
                "vmap in_axes must be an int, None, or a tuple of entries corresponding "
                f"to the positional arguments passed to the function, but got "
                f"len(in_axes)={len(in_axes)}, len(args)={len(args)}"
            )
        leaves, tree = tree_flatten((args, kwargs))
        axes = _prefix_leaves((in_axes, 0), (args, kwargs), "in_axes")
        size = _batch_size(leaves, axes, axis_size)
        trace = BatchTrace(size)
        try:
            inputs = [
                leaf if ax is None else trace.wrap(leaf, ax % len(shape_of(leaf)))
                for leaf, ax in zip(leaves, axes, strict=True)
            ]
            args_in, kwargs_in = tree_unflatten(tree, inputs)
            out = f(*args_in, **kwargs_in)
            out_leaves, out_tree = tree_flatten(out)
            out_dims = _prefix_leaves(out_axes, out, "out_axes")
            results = [
                _unbatched(trace, leaf, ax)
                for leaf, ax in zip(out_leaves, out_dims, strict=True)
            ]
        finally:
            trace.active = False
        return tree_unflatten(out_tree, results)

    return batched


def _batch_size(leaves: list[Any], axes: list[Any], axis_size: int | None) -> int:
    sizes = []
    for k, (leaf, ax) in enumerate(zip(leaves, axes, strict=True)):
        if ax is None:
            continue
        shape = shape_of(leaf)
        if not -len(shape) <= ax < len(shape):
            raise ValueError(
                f"vmap was requested to map its argument along axis {ax}, which implies "
                f"that its rank should be at least {ax + 1 if ax >= 0 else -ax}, but is "
                f"only {len(shape)} (its shape is {shape})"
            )
        sizes.append((k, ax, shape[ax], leaf))
    if not sizes:
        if axis_size is None:
            raise ValueError(
                "vmap must have at least one non-None value in in_axes (or be given "
                "axis_size=)"
            )
        return axis_size
    if len({s for _, _, s, _ in sizes}) > 1 or (
        axis_size is not None and sizes[0][2] != axis_size
    ):
        lines = [
            f"  * one axis had size {s}: axis {ax} of argument leaf {k} of type "
            f"{_describe(leaf)};"
            for k, ax, s, leaf in sizes
        ]
        if axis_size is not None:
            lines.append(f"  * axis_size was given as {axis_size};")
        raise ValueError(
            "vmap got inconsistent sizes for array axes to be mapped:\n"
            + "\n".join(lines)
        )
    return int(sizes[0][2])


def _unbatched(trace: BatchTrace, leaf: Any, out_axis: int | None) -> Any:
    """An output leaf with its batch axis at ``out_axis`` (broadcast if it has none)."""
    if isinstance(leaf, BatchTracer) and leaf._trace is trace:
        if out_axis is None:
            raise ValueError(
                "vmap has mapped output but out_axes is None: an output that depends on "
                "the batched inputs needs an out_axes entry (an int)"
            )
        val, dim = leaf.val, leaf.batch_dim
    elif out_axis is None:
        return leaf
    else:  # the same for every example: broadcast, as JAX does
        val, dim = rules.broadcast_to(leaf, shape=(trace.size, *shape_of(leaf))), 0
    ndim = len(shape_of(val))
    if not -ndim <= out_axis < ndim:
        raise ValueError(
            f"vmap out_axes specification {out_axis} is out of range for an output of "
            f"rank {ndim} (with the batch axis)"
        )
    return _moveaxis(val, dim, out_axis % ndim)
