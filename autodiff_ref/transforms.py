"""Function transforms in JAX's shape: jvp, vjp, grad, jacfwd, jacrev, hessian.

Each transform gives the function's inputs a fresh tag (a new trace), calls
the function, and unwraps the outputs.  Forward transforms wrap inputs in
:class:`~autodiff_ref.Dual` numbers; reverse transforms wrap them in
:class:`~autodiff_ref.reverse.Node` objects that record a tape.  Because
each call has its own tag, transforms nest in any order -- ``grad(grad(f))``,
``jacfwd(grad(f))``, ``derivative(grad(f), x)`` -- without perturbation
confusion.

Inputs, outputs, tangents and cotangents may be numbers, NumPy arrays, or
pytrees of them (:mod:`autodiff_ref.tree`: nested tuples, lists, dicts and
namedtuples), as in JAX: ``grad(loss)({"w": W, "b": b})`` returns
``{"w": dW, "b": db}``. A list is a container, not an array:
``grad(f)([1.0, 2.0])`` returns a list of two numbers. Integer inputs are
differentiated as floats (``grad(f)(3)`` is ``grad(f)(3.0)``); boolean inputs
are refused. Complex numbers follow JAX's conventions: ``jvp`` and ``vjp`` take
any function (the VJP is the transpose of the JVP, not its conjugate
transpose), ``grad`` and ``jacrev`` of a real function of complex inputs give
the conjugate of the direction of steepest ascent, ``holomorphic=True`` gives
the complex derivative, and the rest is refused as JAX refuses it. Derivatives
keep the inputs' dtype (a real input's cotangent is real, float32 in, float32
out). Keyword arguments pass through undifferentiated.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Sequence
from typing import Any, Literal, overload

import numpy as np

from . import rules
from .arguments import (  # the checks every transform shares
    ArgNums,
    _as_input,
    _check_input_dtypes,
    _check_output_dtype,
    _check_outputs,
    _check_scalar_output,
    _check_tuple,
    _dtype,
    _float_dtype,
    _input_leaves,
    _is_int,
    _normalize_argnums,
    _ones_like,
    _split_args,
    _split_args_flat,
    _zeros_like,
    array_writes_explained,
)
from .core import Tracer, cotangent_for, primal_value, shape_of
from .dual import Dual, ForwardTrace
from .reverse import Node, ReverseTrace, backward
from .taylor import taylor_leaves
from .tree import PyTreeDef, tree_flatten, tree_leaves_like, tree_unflatten

__all__ = [
    "derivative",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacrev",
    "jvp",
    "value_and_grad",
    "vjp",
]


class cycle_collector_paused:
    """Pause Python's cycle collector while a tape is recorded or swept.

    A tape holds one container object per operation, and the collector would
    rescan the growing tape over and over (about 45% of the time of a scalar
    graph) looking for cycles it does not have: reference counting frees the
    tape once its last user is gone. Other garbage is collected as usual when
    the pause ends. (A class, not a generator with contextlib: entered twice
    per gradient, and a generator's context manager costs several times more.)
    """

    __slots__ = ("was_enabled",)

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self.was_enabled:
            gc.enable()


# -- auxiliary outputs (has_aux) --------------------------------------------------
def _with_aux(
    f: Callable[..., Any], transform: str
) -> tuple[Callable[..., Any], Callable[[], Any]]:
    """``f`` returning only its output, and a way to read the ``aux`` it returned.

    For ``has_aux=True``: ``f`` returns ``(output, aux)``; the transform
    differentiates the output, and ``aux`` is handed back once the transform
    has returned, with that transform's tracers taken off (see :func:`_lower`).
    """
    box: list[Any] = []

    @functools.wraps(f)
    def main(*args: Any, **kwargs: Any) -> Any:
        result = f(*args, **kwargs)
        if not (isinstance(result, tuple | list) and len(result) == 2):
            raise TypeError(
                f"{transform}(..., has_aux=True) needs f to return a pair (output, aux), "
                f"got {type(result).__name__}; return e.g. (loss, {{'accuracy': acc}})"
            )
        box[:] = [result[1]]
        return result[0]

    def aux() -> Any:
        return _lower(box[0])

    return main, aux


def _lower(x: Any) -> Any:
    """``x``, at any depth of tuples, lists and dicts, without the tracers of
    transforms that have returned.

    A transform's trace is inactive once it returns, and its level is above
    every trace still running, so its tracers are the outermost wrappers:
    unwrapping them leaves plain values, or values of the enclosing transforms
    (which those transforms unwrap in turn when they return).
    """
    if isinstance(x, Tracer):
        while isinstance(x, Tracer) and not x._trace.active:
            x = x._inner()
        return x
    if isinstance(x, dict):
        return type(x)((k, _lower(v)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # a namedtuple
        return type(x)(*(_lower(v) for v in x))
    if isinstance(x, tuple | list):
        return type(x)(_lower(v) for v in x)
    return x


# -- forward mode --------------------------------------------------------------
def jvp(
    f: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    has_aux: bool = False,
) -> tuple[Any, ...]:
    """Jacobian-vector product: ``f(*primals)`` and its derivative along ``tangents``.

    Parameters
    ----------
    f : callable
        A function of ``len(primals)`` arrays (or pytrees of arrays).
    primals, tangents : tuple
        The point, and a direction of the same structure, shapes and dtypes.
    has_aux : bool
        If True, ``f`` returns ``(output, aux)``: ``aux`` is returned as a
        third value, undifferentiated.

    Returns
    -------
    primal_out : array
        ``f(*primals)`` (a pytree of arrays if ``f`` returns one).
    tangent_out : array
        ``J(primals) @ tangents``, structured like ``primal_out``.

    Examples
    --------
    >>> from autodiff_ref import jvp
    >>> from autodiff_ref.numpy import sin
    >>> jvp(sin, (0.0,), (2.0,))
    (0.0, 2.0)
    >>> jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.0))  # d/dx (x y) = y
    (12.0, 4.0)
    >>> jvp(lambda p: p["w"] * p["b"], ({"w": 2.0, "b": 3.0},), ({"w": 1.0, "b": 0.0},))
    (6.0, 3.0)
    """
    if has_aux:
        main, aux = _with_aux(f, "jvp")
        return (*jvp(main, primals, tangents), aux())
    primals = _check_tuple("jvp's primals", primals, "jvp(f, (x,), (v,))")
    tangents = _check_tuple("jvp's tangents", tangents, "jvp(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp got {len(primals)} primals but {len(tangents)} tangents; give one tangent each"
        )
    trace = ForwardTrace()
    inputs = []
    for k, (p, t) in enumerate(zip(primals, tangents, strict=True)):
        p_leaves, p_def = _input_leaves(p, "jvp")
        t_leaves = tree_leaves_like(p_def, t, f"tangent {k} of jvp")
        t_leaves = [_as_input(leaf, "jvp") for leaf in t_leaves]
        for p_leaf, t_leaf in zip(p_leaves, t_leaves, strict=True):
            if shape_of(p_leaf) != shape_of(t_leaf):
                raise ValueError(
                    f"jvp: tangent {k} has shape {shape_of(t_leaf)} but its primal has shape "
                    f"{shape_of(p_leaf)}; tangents must have their primal's shape"
                )
            p_type, t_type = _dtype(p_leaf), _dtype(t_leaf)
            if p_type is not None and t_type is not None and p_type != t_type:
                raise TypeError(  # as JAX: a silent cast would hide a precision bug
                    f"jvp: primal {k} has dtype {p_type}, so its tangent must have dtype "
                    f"{p_type} too, but it has dtype {t_type}; convert one of them"
                )
        duals = [
            Dual._new(pl, tl, trace) for pl, tl in zip(p_leaves, t_leaves, strict=True)
        ]
        inputs.append(tree_unflatten(p_def, duals))
    treedef, primal_leaves, tangent_leaves = _run_forward(f, inputs, trace)
    tangent_leaves = [
        _zeros_like(p) if t is None else t
        for p, t in zip(primal_leaves, tangent_leaves, strict=True)
    ]
    return tree_unflatten(treedef, primal_leaves), tree_unflatten(
        treedef, tangent_leaves
    )


def _run_forward(
    f: Callable[..., Any], inputs: Sequence[Any], trace: ForwardTrace
) -> tuple[PyTreeDef, list[Any], list[Any]]:
    """Call ``f`` on dual inputs of ``trace``; split each output leaf into primal and tangent.

    The tangent is None for an output that does not depend on the inputs.
    """
    try:
        with array_writes_explained():
            out = f(*inputs)
    finally:
        trace.active = False
    leaves, treedef = tree_flatten(out)
    _check_outputs(leaves, out)
    primals, tangents = [], []
    for leaf in leaves:
        ours = isinstance(leaf, Dual) and leaf._trace is trace
        primals.append(leaf.primal if ours else leaf)
        tangents.append(leaf.tangent if ours else None)
    return treedef, primals, tangents


def derivative(f: Callable[[Any], Any], x: Any, order: int = 1) -> Any:
    """The ``order``-th derivative of a function of one variable at ``x``, exactly.

    Order 1 is one forward-mode pass (:func:`jvp`).  Higher orders push a
    truncated Taylor series through ``f`` (:func:`~autodiff_ref.jet`), which
    gets every derivative up to ``order`` at once, exact to rounding, at a cost
    that grows with the square of the order (nesting first-order passes would
    double it with each order).  For an array ``x`` and an elementwise ``f``
    this gives the derivatives elementwise; a function that is not elementwise
    (``sum``, ``x[::-1]``) is refused, since its derivative is a Jacobian: use
    :func:`grad` or :func:`jacfwd`.  JAX has no ``derivative``: there, nest
    ``jax.grad`` or use ``jax.experimental.jet.jet``.

    Examples
    --------
    >>> from autodiff_ref import derivative
    >>> from autodiff_ref.numpy import sin
    >>> derivative(lambda x: x**3, 2.0)
    12.0
    >>> derivative(lambda x: x**3, 2.0, order=2)
    12.0
    >>> float(derivative(sin, 0.0, order=3))
    -1.0

    Perturbations of nested calls do not mix:

    >>> derivative(lambda x: x * derivative(lambda y: x + y, 1.0), 1.0)
    1.0
    """
    if not _is_int(order) or order < 0:
        raise ValueError(f"order must be a non-negative int, got {order!r}")
    if order == 0:
        return f(x)
    x = _as_input(x, "derivative")
    array = not isinstance(x, Tracer) and int(np.prod(shape_of(x))) > 1
    if order == 1:
        return (
            _elementwise_derivative(f, x)
            if array
            else jvp(f, (x,), (_ones_like(x),))[1]
        )
    if array:
        _elementwise_derivative(f, x)  # refuses an f that is not elementwise
    # The curve x + t: its series is (1, 0, 0, ...), and the k-th term out is f^(k)(x).
    terms = (_ones_like(x),) + (_zeros_like(x),) * (order - 1)
    treedef, _, term_leaves = taylor_leaves(f, (x,), (terms,))
    return tree_unflatten(treedef, [leaf_terms[-1] for leaf_terms in term_leaves])


def _elementwise_derivative(f: Callable[[Any], Any], x: Any) -> Any:
    """``f'(x)`` elementwise, refusing an ``f`` whose Jacobian is not diagonal.

    One pass pushes two directions: ones, whose image is ``f'(x)`` if ``f`` is
    elementwise, and a random positive direction ``r``, whose image must then be
    ``f'(x) * r``. Any output element that depends on another input element breaks
    that (for all but a measure-zero set of ``r``), so it costs one extra tangent,
    not the whole Jacobian.
    """
    direction = np.random.default_rng(0).uniform(1.0, 2.0, shape_of(x)).astype(x.dtype)
    trace = ForwardTrace(batch=2)
    tangents = np.stack([np.ones_like(x), direction])
    treedef, primals, pushed = _run_forward(f, [Dual._new(x, tangents, trace)], trace)
    slopes = []
    for primal, tangent in zip(primals, pushed, strict=True):
        if tangent is None:
            slopes.append(_zeros_like(primal))
            continue
        ones_image, r_image = primal_value(tangent[0]), primal_value(tangent[1])
        expected = ones_image * direction if shape_of(primal) == shape_of(x) else None
        if expected is None or not _agree(r_image, expected):
            raise ValueError(
                "derivative(f, x) with an array x is the elementwise derivative, but f is "
                f"not elementwise (its output of shape {shape_of(primal)} does not depend on "
                f"each element of x of shape {shape_of(x)} alone); use grad for a scalar f, "
                "or jacfwd (or jacrev) for the whole Jacobian"
            )
        slopes.append(ones_image)
    return tree_unflatten(treedef, slopes)


def _agree(a: Any, b: Any) -> bool:
    """Equal up to the rounding of the two tangents' different summation orders."""
    both = np.isfinite(a) & np.isfinite(b)
    scale = np.max(np.abs(b[both]), initial=0.0)
    return bool(np.allclose(a[both], b[both], rtol=1e-9, atol=1e-12 * scale))


def _basis(shape: tuple[int, ...], dtype: Any = float) -> list[Any]:
    """The unit arrays of ``shape``, in C order."""
    size = int(np.prod(shape))
    eye = np.eye(size, dtype=dtype)
    return [eye[k].reshape(shape) if shape else eye[k, 0] for k in range(size)]


def _push_basis(
    f: Callable[..., Any], xs: Sequence[Any]
) -> tuple[PyTreeDef, list[Any], list[list[Any]]]:
    """``f(*xs)`` and, per output leaf, its derivative along each unit direction of each x.

    All directions go through ``f`` in one pass: the inputs' tangents are the
    identity, stacked along a leading batch axis of ``n`` directions (``n`` is
    the number of input elements; each input gets its own columns of it).
    Returns the output structure, the output leaves, and per output leaf one
    Jacobian ``out.shape + x.shape`` per input.
    """
    sizes = [int(np.prod(shape_of(x))) for x in xs]
    n = sum(sizes)
    if n == 0:  # nothing to differentiate: f's value, and empty Jacobians
        treedef, primals, _ = _run_forward(f, xs, ForwardTrace())
        empty = [[np.zeros(shape_of(p) + shape_of(x)) for x in xs] for p in primals]
        return treedef, primals, empty
    eye = np.eye(n, dtype=np.result_type(*(_float_dtype(x) for x in xs)))
    trace = ForwardTrace(batch=n if n > 1 else None)  # one direction: a plain JVP
    duals, start = [], 0
    for x, size in zip(xs, sizes, strict=True):
        columns = eye[:, start : start + size].reshape((n, *shape_of(x)))
        duals.append(Dual._new(x, columns if n > 1 else columns[0], trace))
        start += size
    treedef, primals, tangents = _run_forward(f, duals, trace)
    jacobians = []
    for primal, tangent in zip(primals, tangents, strict=True):
        out_shape = shape_of(primal)
        if tangent is None:  # the output does not depend on the inputs
            jacobians.append([np.zeros(out_shape + shape_of(x), eye.dtype) for x in xs])
            continue
        if n == 1:  # a plain JVP: the tangent is the one column, of the one nonempty x
            blocks = [
                rules.reshape(tangent, shape=out_shape + shape_of(x))
                if size
                else np.zeros(out_shape + shape_of(x), eye.dtype)
                for x, size in zip(xs, sizes, strict=True)
            ]
            jacobians.append(blocks)
            continue
        # (n, *out_shape) -> (*out_shape, n), then each input's columns, shaped like it
        moved = rules.transpose(tangent, axes=(*range(1, len(out_shape) + 1), 0))
        blocks, start = [], 0
        for x, size in zip(xs, sizes, strict=True):
            mine = (..., slice(start, start + size))  # this input's columns
            block = moved if size == n else rules.getitem(moved, index=mine)
            blocks.append(rules.reshape(block, shape=out_shape + shape_of(x)))
            start += size
        jacobians.append(blocks)
    return treedef, primals, jacobians


def _arrange(
    out_def: PyTreeDef,
    per_leaf: list[list[Any]],
    in_defs: list[PyTreeDef],
    argnums: ArgNums,
) -> Any:
    """Jacobian blocks nested as JAX nests them: the output's structure outside, then
    the tuple of ``argnums`` (if it is a tuple), then each argument's structure."""
    counts = [d.num_leaves for d in in_defs]
    arranged = []
    for blocks in per_leaf:
        per_arg, start = [], 0
        for d, count in zip(in_defs, counts, strict=True):
            per_arg.append(tree_unflatten(d, blocks[start : start + count]))
            start += count
        arranged.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
    return tree_unflatten(out_def, arranged)


def jacfwd(
    f: Callable[..., Any],
    argnums: ArgNums = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The Jacobian of ``f`` by forward mode: one column per input element.

    The columns are the JVPs along the unit directions of the inputs. They are
    pushed through ``f`` together, as a batch of tangents in a single forward
    pass: elementwise operations handle the whole batch at once; linear
    operations without a batched form go one column at a time.

    The result has shape ``out.shape + in.shape``. For pytrees and a tuple
    ``argnums`` it is nested as in JAX: the output's structure outside, then
    the tuple of arguments, then each argument's structure.

    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and the result is
    ``(jacobian, aux)``. Complex inputs need ``holomorphic=True`` (then the
    outputs must be complex too, and the result is the complex derivative), as
    in JAX; for other functions of complex inputs, use :func:`jvp`.

    Examples
    --------
    >>> import numpy as np
    >>> from autodiff_ref import jacfwd
    >>> from autodiff_ref.numpy import sin
    >>> jacfwd(lambda x: x[0] * x[1] + x)(np.array([2.0, 3.0]))
    array([[4., 2.],
           [3., 3.]])

    Tuple outputs and tuple ``argnums``: ``J[i][j]`` is output i by argument j.

    >>> J = jacfwd(lambda x, y: (x * y, x + y), argnums=(0, 1))(2.0, 3.0)
    >>> [[float(J[i][j]) for j in range(2)] for i in range(2)]
    [[3.0, 2.0], [1.0, 1.0]]
    """
    nums = _normalize_argnums(f, argnums, "jacfwd")
    if has_aux:
        return _aux_returned(jacfwd, f, argnums, "jacfwd", holomorphic)

    @functools.wraps(f)
    def jacobian(*args: Any, **kwargs: Any) -> Any:
        xs, with_values = _split_args(args, nums, "jacfwd")
        flat = [_input_leaves(x, "jacfwd") for x in xs]
        _check_input_dtypes([x for ls, _ in flat for x in ls], "jacfwd", holomorphic)
        in_defs = [d for _, d in flat]

        def f_leaves(*leaves: Any) -> Any:
            trees, start = [], 0
            for d in in_defs:
                trees.append(tree_unflatten(d, leaves[start : start + d.num_leaves]))
                start += d.num_leaves
            return f(*with_values(*trees), **kwargs)

        leaves = [leaf for ls, _ in flat for leaf in ls]
        out_def, outs, per_leaf = _push_basis(f_leaves, leaves)
        if holomorphic:
            for out in outs:
                _check_output_dtype(out, "jacfwd", holomorphic)
        return _arrange(out_def, per_leaf, in_defs, argnums)

    return jacobian


# -- reverse mode --------------------------------------------------------------
class _Recording:
    """One run of ``f`` on reverse-mode inputs: its tape, and sweeps from its outputs."""

    def __init__(
        self,
        f: Callable[..., Any],
        primals: Sequence[Any],
        transform: str = "vjp",
        flat: list[tuple[list[Any], PyTreeDef]] | None = None,
    ) -> None:
        # flat: the primals' leaves and structures from _split_args_flat, which
        # checked and copied every leaf already (then primals is not read).
        if flat is None:
            flat = [_input_leaves(p, transform) for p in primals]
        trace = ReverseTrace()
        try:
            nodes = [[trace.new_input(leaf) for leaf in leaves] for leaves, _ in flat]
            with cycle_collector_paused(), array_writes_explained():
                out = f(
                    *(
                        tree_unflatten(d, ns)
                        for ns, (_, d) in zip(nodes, flat, strict=True)
                    )
                )
        except BaseException:
            trace.tape = (
                None  # break the trace <-> tape cycle: free the graph without the gc
            )
            raise
        finally:
            trace.active = False
        self.tape, trace.tape = (
            trace.tape,
            None,
        )  # only this recording keeps the graph alive
        self.trace, self.nodes, self.in_defs = trace, nodes, [d for _, d in flat]
        self.leaves, self.treedef = tree_flatten(out)
        _check_outputs(self.leaves, out)
        self.out = tree_unflatten(
            self.treedef, [self.value(k) for k in range(len(self.leaves))]
        )

    def value(self, k: int) -> Any:
        """Output leaf ``k`` without its node."""
        leaf = self.leaves[k]
        return leaf.value if self.depends(k) else leaf

    def depends(self, k: int) -> bool:
        """Whether output leaf ``k`` was computed from the inputs."""
        leaf = self.leaves[k]
        return isinstance(leaf, Node) and leaf._trace is self.trace

    def sweep(self, k: int, ct: Any) -> dict[int, Any]:
        """The input cotangents, by tape index, of output leaf ``k`` given its cotangent."""
        if not self.depends(k):
            return {}
        assert self.tape is not None
        with cycle_collector_paused():
            return backward(self.tape, self.leaves[k], ct)

    def input_trees(self, cts: dict[int, Any]) -> tuple[Any, ...]:
        """One cotangent per primal, structured like it (zeros where nothing flowed)."""
        return tuple(
            tree_unflatten(d, [cotangent_for(cts[n.index], n.value) if n.index in cts
                               else _zeros_like(n.value) for n in ns])
            for ns, d in zip(self.nodes, self.in_defs, strict=True)
        )  # fmt: skip


# vjp's result has two items, or three with has_aux: typed per call, so a caller
# gets vjp_fn's type (it returns one cotangent per primal).
@overload
def vjp(
    f: Callable[..., Any], *primals: Any, has_aux: Literal[False] = False
) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]: ...
@overload
def vjp(
    f: Callable[..., Any], *primals: Any, has_aux: Literal[True]
) -> tuple[Any, Callable[[Any], tuple[Any, ...]], Any]: ...
@overload
def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool) -> tuple[Any, ...]: ...
def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """Vector-Jacobian product: ``f(*primals)`` and a function pulling cotangents back.

    Runs ``f`` once, recording a tape; ``vjp_fn(cotangent)`` sweeps it
    backwards and returns one cotangent per primal, as a tuple.  ``vjp_fn``
    may be called many times (once per Jacobian row, say).  With
    ``has_aux=True``, ``f`` returns ``(output, aux)`` and ``vjp`` returns
    ``(output, vjp_fn, aux)``.

    Examples
    --------
    >>> import numpy as np
    >>> from autodiff_ref import vjp
    >>> out, vjp_fn = vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> vjp_fn(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    """
    if has_aux:
        main, aux = _with_aux(f, "vjp")
        return (*vjp(main, *primals), aux())
    return _vjp(_Recording(f, primals, "vjp"))


def _vjp(rec: _Recording) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """:func:`vjp` of a recording."""

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        ct_leaves = tree_leaves_like(
            rec.treedef, cotangent, "cotangent given to vjp_fn"
        )
        input_cts: dict[int, Any] = {}
        for k, ct in enumerate(ct_leaves):
            # A cotangent takes its output's dtype (the real part for a real output).
            ct = cotangent_for(_as_input(ct, "vjp_fn"), rec.leaves[k])
            if shape_of(ct) != shape_of(rec.leaves[k]):
                raise ValueError(
                    f"cotangent shape {shape_of(ct)} does not match the output shape "
                    f"{shape_of(rec.leaves[k])}; pass one cotangent entry per output entry"
                )
            for i, c in rec.sweep(k, ct).items():
                input_cts[i] = c if i not in input_cts else rules.add(input_cts[i], c)
        return rec.input_trees(input_cts)

    return rec.out, vjp_fn


def value_and_grad(
    f: Callable[..., Any],
    argnums: ArgNums = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """Like :func:`grad`, but return ``(f(*args), gradient)`` from one pass.

    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and the result is
    ``((output, aux), gradient)``, as in JAX.

    >>> from autodiff_ref import value_and_grad
    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    >>> value_and_grad(lambda x: (x**2, {"half": x / 2}), has_aux=True)(3.0)
    ((9.0, {'half': 1.5}), 6.0)
    """
    nums = _normalize_argnums(f, argnums, "grad")
    if has_aux:

        @functools.wraps(f)
        def with_aux(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
            main, aux = _with_aux(f, "value_and_grad")  # per call: calls may nest
            value, gradient = value_and_grad(main, argnums, False, holomorphic)(
                *args, **kwargs
            )
            return (value, aux()), gradient

        return with_aux

    @functools.wraps(f)
    def value_and_gradient(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        flat, with_values = _split_args_flat(args, nums, "grad")
        _check_input_dtypes([x for ls, _ in flat for x in ls], "grad", holomorphic)
        rec = _Recording(lambda *v: f(*with_values(*v), **kwargs), (), "grad", flat)
        out = rec.out
        _check_scalar_output(out, "grad", holomorphic)
        # vjp_fn's sweep, without its checks of a cotangent made right here: one
        # output leaf, a scalar, so its seed is a one of the output's float type.
        cts = rec.input_trees(rec.sweep(0, _ones_like(out)))
        return out, cts[0] if isinstance(argnums, int) else cts

    return value_and_gradient


def grad(
    f: Callable[..., Any],
    argnums: ArgNums = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The gradient of a scalar-valued ``f`` by reverse mode.

    Parameters
    ----------
    f : callable
        Returns a real scalar.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to. Keyword
        arguments are passed to ``f`` and not differentiated.
    has_aux : bool
        If True, ``f`` returns a pair ``(output, aux)``: only ``output`` is
        differentiated, and ``aux`` (any numbers, arrays or containers of
        them) comes back as plain values: the result is ``(gradient, aux)``.
    holomorphic : bool
        If True, ``f`` is promised to be holomorphic (complex inputs, a complex
        output): the result is the complex derivative ``f'(z)``. Without it a
        complex output is refused, as in JAX.

    Returns
    -------
    callable
        Takes ``f``'s arguments; returns the gradient, structured like the
        argument (a tuple of them for a tuple ``argnums``).

    Notes
    -----
    Complex inputs follow JAX's convention: ``grad(f)(z)`` is
    ``vjp(f, z)[1](1.0)``, which for a real-valued ``f`` is the *conjugate* of
    the direction of steepest ascent ``∂f/∂x + i ∂f/∂y``; gradient descent
    steps along ``-conj(grad(f)(z))``.

    Examples
    --------
    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> from autodiff_ref.numpy import sin, sum
    >>> grad(sin)(0.0)
    1.0
    >>> grad(lambda x: sum(x**2))(np.array([1.0, 2.0, 3.0]))
    array([2., 4., 6.])
    >>> grad(lambda x: (x**2, x + 1), has_aux=True)(3.0)  # (gradient, aux)
    (6.0, 4.0)
    >>> grad(grad(lambda x: x**3))(2.0)
    12.0
    >>> grad(lambda p: p["w"] * p["b"])({"w": 2.0, "b": 3.0})
    {'w': 3.0, 'b': 2.0}

    A real function of a complex input (``|z|**2 = x**2 + y**2``: the
    gradient ``2x + 2iy``, conjugated), and a holomorphic one (``sin' = cos``):

    >>> from autodiff_ref.numpy import cos, imag, real
    >>> complex(grad(lambda z: real(z) ** 2 + imag(z) ** 2)(3.0 + 4.0j))
    (6-8j)
    >>> bool(grad(sin, holomorphic=True)(1.0 + 2.0j) == cos(1.0 + 2.0j))
    True
    """
    value_and_gradient = value_and_grad(f, argnums, has_aux, holomorphic)

    @functools.wraps(f)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        value, g = value_and_gradient(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return gradient


def jacrev(
    f: Callable[..., Any],
    argnums: ArgNums = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The Jacobian of ``f`` by reverse mode: one backward pass per output element (row).

    Nested as :func:`jacfwd` nests it, for pytrees and tuple ``argnums`` alike.

    >>> import numpy as np
    >>> from autodiff_ref import jacrev
    >>> jacrev(lambda x: x[0] * x[1] + x)(np.array([2.0, 3.0]))
    array([[4., 2.],
           [3., 3.]])

    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and the result is
    ``(jacobian, aux)``. Complex outputs need ``holomorphic=True`` (and complex
    inputs), as in JAX; the rows of a real function of complex inputs follow
    :func:`grad`'s convention.
    """
    nums = _normalize_argnums(f, argnums, "jacrev")
    if has_aux:
        return _aux_returned(jacrev, f, argnums, "jacrev", holomorphic)

    @functools.wraps(f)
    def jacobian(*args: Any, **kwargs: Any) -> Any:
        flat, with_values = _split_args_flat(args, nums, "jacrev")
        _check_input_dtypes([x for ls, _ in flat for x in ls], "jacrev", holomorphic)
        rec = _Recording(lambda *v: f(*with_values(*v), **kwargs), (), "jacrev", flat)
        inputs = [n for ns in rec.nodes for n in ns]
        per_leaf = []
        for k, out_leaf in enumerate(rec.leaves):
            _check_output_dtype(rec.value(k), "jacrev", holomorphic)
            out_shape = shape_of(out_leaf)
            # One backward pass per element of this output: row e_i^T J of each input.
            rows = [rec.sweep(k, e) for e in _basis(out_shape, _float_dtype(out_leaf))]
            blocks = []
            for n in inputs:
                zero = _zeros_like(n.value)
                entries = [row.get(n.index, zero) for row in rows]
                if not out_shape:
                    blocks.append(entries[0])
                elif not entries:  # an empty output: an empty Jacobian
                    blocks.append(
                        np.zeros(out_shape + shape_of(n.value), _float_dtype(n.value))
                    )
                else:
                    stacked = rules.stack(*entries, axis=0)
                    blocks.append(
                        rules.reshape(stacked, shape=out_shape + shape_of(n.value))
                    )
            per_leaf.append(blocks)
        return _arrange(rec.treedef, per_leaf, rec.in_defs, argnums)

    return jacobian


def hessian(
    f: Callable[..., Any],
    argnums: ArgNums = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The Hessian of a scalar ``f``, forward-over-reverse: ``jacfwd(grad(f))``.

    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and the result is
    ``(hessian, aux)``.

    >>> import numpy as np
    >>> from autodiff_ref import hessian
    >>> hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    return jacfwd(grad(f, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """Hessian-vector product ``H(primals) @ tangents``, without forming ``H``.

    Forward-over-reverse: the JVP of the gradient, at the cost of a few
    evaluations of ``f``.  With several primals, the gradient is taken with
    respect to all of them and a tuple is returned.  JAX has no ``hvp``; this
    is the JAX Autodiff Cookbook's ``jvp(grad(f), primals, tangents)[1]``.

    >>> import numpy as np
    >>> from autodiff_ref import hvp
    >>> hvp(lambda x: x[0] ** 2 * x[1], (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    array([4., 2.])
    """
    primals = _check_tuple("hvp's primals", primals, "hvp(f, (x,), (v,))")
    argnums: ArgNums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(f, argnums), primals, tangents)[1]


def _aux_returned(
    transform: Callable[..., Any],
    f: Callable[..., Any],
    argnums: ArgNums,
    name: str,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """``transform(f, argnums)`` for an ``f`` returning ``(output, aux)``: ``(result, aux)``."""

    @functools.wraps(f)
    def with_aux(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        main, aux = _with_aux(f, name)  # per call: calls may nest
        return transform(main, argnums, holomorphic=holomorphic)(*args, **kwargs), aux()

    return with_aux
