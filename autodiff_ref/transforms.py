"""Function transforms in JAX's shape: jvp, vjp, grad, jacfwd, jacrev, hessian.

Each transform gives the function's inputs a fresh tag (a new trace), calls
the function, and unwraps the outputs.  Forward transforms wrap inputs in
:class:`~autodiff_ref.Dual` numbers; reverse transforms wrap them in
:class:`~autodiff_ref.reverse.Node` objects that record a tape.  Because
each call has its own tag, transforms nest in any order -- ``grad(grad(f))``,
``jacfwd(grad(f))``, ``derivative(grad(f), x)`` -- without perturbation
confusion.

Inputs and outputs may be numbers, NumPy arrays, or (nested) tuples and lists
of them, as in JAX: ``grad(loss)([W, b])`` returns ``[dW, db]``. A list is a
container, not an array: ``grad(f)([1.0, 2.0])`` returns a list of two numbers.
Integer inputs are differentiated as floats (``grad(f)(3)`` is ``grad(f)(3.0)``);
boolean inputs are refused.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import rules
from .core import Tracer, shape_of
from .dual import Dual, ForwardTrace
from .reverse import Node, ReverseTrace, backward
from .taylor import taylor_leaves

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

ArgNums = int | Sequence[int]


@contextlib.contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a tape is recorded or swept.

    A tape holds one container object per operation, and the collector would
    rescan the growing tape over and over (about 45% of the time of a scalar
    graph) looking for cycles it does not have: reference counting frees the
    tape once its last user is gone. Other garbage is collected as usual when
    the pause ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- tuples and lists of arrays ("pytrees" with two kinds of node) -----------
def _flatten(tree: Any) -> tuple[list[Any], Any]:
    if isinstance(tree, tuple | list):
        leaves: list[Any] = []
        defs = []
        for child in tree:
            child_leaves, child_def = _flatten(child)
            leaves.extend(child_leaves)
            defs.append((len(child_leaves), child_def))
        return leaves, (type(tree), defs)
    return [tree], None


def _unflatten(treedef: Any, leaves: Sequence[Any]) -> Any:
    if treedef is None:
        return leaves[0]
    kind, defs = treedef
    children, start = [], 0
    for count, child_def in defs:
        children.append(_unflatten(child_def, leaves[start : start + count]))
        start += count
    return kind(children)


# -- checking inputs -----------------------------------------------------------
def _as_input(x: Any, transform: str) -> Any:
    """A differentiable input: floats and float arrays as they are, ints as floats."""
    if isinstance(x, Tracer):
        return x
    if isinstance(x, bool | np.bool_):
        raise TypeError(
            f"{transform} cannot differentiate with respect to a boolean; "
            "pass a float, or move the flag out of the differentiated arguments (argnums)"
        )
    if isinstance(x, numbers.Integral):
        return float(x)
    if isinstance(x, numbers.Number):
        return x
    try:
        arr = np.asarray(x)
    except TypeError:
        raise
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{transform} needs numbers or arrays as inputs: {exc}") from None
    if arr.dtype.kind == "b":
        raise TypeError(
            f"{transform} cannot differentiate with respect to a boolean array; "
            "convert it with x.astype(float) if you mean it"
        )
    if arr.dtype.kind in "iu":
        return arr.astype(float)
    if arr.dtype.kind not in "fc":
        raise TypeError(
            f"{transform} needs numbers or numeric arrays as inputs, "
            f"got {type(x).__name__} (dtype {arr.dtype})"
        )
    return arr


def _input_leaves(x: Any, transform: str) -> tuple[list[Any], Any]:
    """The leaves of an input (an array, or a tuple/list of them) and its structure."""
    leaves, treedef = _flatten(x)
    return [_as_input(leaf, transform) for leaf in leaves], treedef


def _as_input_tree(x: Any, transform: str) -> Any:
    """An input with every leaf checked (and integers made floats)."""
    leaves, treedef = _input_leaves(x, transform)
    return _unflatten(treedef, leaves)


def _array_only(xs: Sequence[Any], transform: str) -> None:
    if any(isinstance(x, tuple | list) for x in xs):
        raise TypeError(
            f"{transform} differentiates with respect to arrays; for a tuple or list of "
            "arrays, pass them as separate arguments and list them in argnums"
        )


def _ones_like(x: Any) -> Any:
    shape = shape_of(x)
    return np.ones(shape) if shape else 1.0


def _zeros_like(x: Any) -> Any:
    shape = shape_of(x)
    return np.zeros(shape) if shape else 0.0


def _check_tuple(name: str, value: Any, example: str) -> tuple:
    if not isinstance(value, tuple | list):
        raise TypeError(f"{name} must be a tuple, e.g. {example}; got {type(value).__name__}")
    return tuple(value)


def _normalize_argnums(f: Callable, argnums: ArgNums, transform: str) -> tuple[int, ...]:
    nums: tuple[Any, ...] = (argnums,) if isinstance(argnums, int) else ()
    if isinstance(argnums, Sequence):  # anything else stays () and is refused just below
        nums = tuple(argnums)
    if not nums or not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}")
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return nums
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return nums
    arity = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    for i in nums:
        if not -arity <= i < arity:
            raise ValueError(
                f"{transform}: argnums {i} is out of range for "
                f"{getattr(f, '__name__', 'f')}, which takes {arity} positional "
                f"argument{'s' if arity != 1 else ''} (valid: 0 to {arity - 1})"
            )
    return nums


def _split_args(
    args: Sequence[Any], nums: tuple[int, ...], transform: str
) -> tuple[list[Any], Callable[..., list[Any]]]:
    """The differentiated arguments, and a way to put new values in their places."""
    n = len(args)
    for i in nums:
        if not -n <= i < n:
            raise ValueError(
                f"{transform}: argnums {i} is out of range: the function was called "
                f"with {n} positional argument{'s' if n != 1 else ''}"
            )
    positions = [i % n for i in nums]
    if len(set(positions)) != len(positions):  # the later one would silently win
        raise ValueError(
            f"{transform}: argnums {nums} names the same argument more than once; "
            "list each argument once"
        )

    def with_values(*values: Any) -> list[Any]:
        full = list(args)
        for i, v in zip(positions, values, strict=True):
            full[i] = v
        return full

    return [_as_input_tree(args[i], transform) for i in positions], with_values


# -- auxiliary outputs (has_aux) --------------------------------------------------
def _with_aux(f: Callable, transform: str) -> tuple[Callable, Callable[[], Any]]:
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
    f: Callable, primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False
) -> tuple[Any, ...]:
    """Jacobian-vector product: ``f(*primals)`` and its derivative along ``tangents``.

    Parameters
    ----------
    f : callable
        A function of ``len(primals)`` arrays.
    primals, tangents : tuple
        The point, and a direction of the same shapes.
    has_aux : bool
        If True, ``f`` returns ``(output, aux)``: ``aux`` is returned as a
        third value, undifferentiated.

    Returns
    -------
    primal_out : array
        ``f(*primals)``.
    tangent_out : array
        ``J(primals) @ tangents``, shaped like ``primal_out``.

    Examples
    --------
    >>> from autodiff_ref import jvp, sin
    >>> jvp(sin, (0.0,), (2.0,))
    (0.0, 2.0)
    >>> jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.0))  # d/dx (x y) = y
    (12.0, 4.0)
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
        t_leaves, t_def = _input_leaves(t, "jvp")
        if p_def != t_def:
            raise ValueError(
                f"jvp: tangent {k} is not structured like its primal (a tuple or list of "
                "arrays needs a tuple or list of tangents of the same length)"
            )
        for p_leaf, t_leaf in zip(p_leaves, t_leaves, strict=True):
            if shape_of(p_leaf) != shape_of(t_leaf):
                raise ValueError(
                    f"jvp: tangent {k} has shape {shape_of(t_leaf)} but its primal has shape "
                    f"{shape_of(p_leaf)}; tangents must have their primal's shape"
                )
        duals = [Dual._new(pl, tl, trace) for pl, tl in zip(p_leaves, t_leaves, strict=True)]
        inputs.append(_unflatten(p_def, duals))
    treedef, primal_leaves, tangent_leaves = _run_forward(f, inputs, trace)
    tangent_leaves = [
        _zeros_like(p) if t is None else t
        for p, t in zip(primal_leaves, tangent_leaves, strict=True)
    ]
    return _unflatten(treedef, primal_leaves), _unflatten(treedef, tangent_leaves)


def _run_forward(
    f: Callable, inputs: Sequence[Any], trace: ForwardTrace
) -> tuple[Any, list[Any], list[Any]]:
    """Call ``f`` on dual inputs of ``trace``; split each output leaf into primal and tangent.

    The tangent is None for an output that does not depend on the inputs.
    """
    try:
        out = f(*inputs)
    finally:
        trace.active = False
    leaves, treedef = _flatten(out)
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
    this gives the derivatives elementwise.

    Examples
    --------
    >>> from autodiff_ref import derivative, sin
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
    if not isinstance(order, int) or isinstance(order, bool) or order < 0:
        raise ValueError(f"order must be a non-negative int, got {order!r}")
    if order == 0:
        return f(x)
    x = _as_input(x, "derivative")
    if order == 1:
        return jvp(f, (x,), (_ones_like(x),))[1]
    # The curve x + t: its series is (1, 0, 0, ...), and the k-th term out is f^(k)(x).
    terms = (_ones_like(x),) + (_zeros_like(x),) * (order - 1)
    treedef, _, term_leaves = taylor_leaves(f, (x,), (terms,))
    return _unflatten(treedef, [leaf_terms[-1] for leaf_terms in term_leaves])


def _basis(shape: tuple[int, ...]) -> list[Any]:
    """The unit arrays of ``shape``, in C order."""
    size = int(np.prod(shape))
    eye = np.eye(size)
    return [eye[k].reshape(shape) if shape else 1.0 for k in range(size)]


def _push_basis(f: Callable[[Any], Any], x: Any) -> tuple[Any, list[Any]]:
    """``f(x)`` and, per output leaf, its derivative along every unit direction of ``x``.

    All directions go through ``f`` in one pass: the tangent of ``x`` is the
    identity, stacked along a leading batch axis of ``x.size`` directions.
    """
    in_shape = shape_of(x)
    n = int(np.prod(in_shape))
    trace = ForwardTrace(batch=n)
    treedef, primals, tangents = _run_forward(
        f, [Dual._new(x, np.eye(n).reshape((n, *in_shape)), trace)], trace
    )
    jacobians = []
    for primal, tangent in zip(primals, tangents, strict=True):
        out_shape = shape_of(primal)
        if tangent is None:  # the output does not depend on x
            jacobians.append(np.zeros(out_shape + in_shape))
            continue
        # (n, *out_shape) -> (*out_shape, n) -> (*out_shape, *in_shape)
        moved = rules.transpose(tangent, axes=(*range(1, len(out_shape) + 1), 0))
        jacobians.append(rules.reshape(moved, shape=out_shape + in_shape))
    return _unflatten(treedef, primals), jacobians


def jacfwd(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """The Jacobian of ``f`` by forward mode: one column per input element.

    The columns are the JVPs along the unit directions of the input. They are
    pushed through ``f`` together, as a batch of tangents in a single forward
    pass: elementwise operations handle the whole batch at once; linear
    operations without a batched form go one column at a time.

    The result has shape ``out.shape + in.shape``; with a tuple ``argnums``,
    a tuple of such Jacobians.

    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and the result is
    ``(jacobian, aux)``.

    Examples
    --------
    >>> import numpy as np
    >>> from autodiff_ref import jacfwd, sin
    >>> jacfwd(lambda x: x[0] * x[1] + x)(np.array([2.0, 3.0]))
    array([[4., 2.],
           [3., 3.]])
    """
    nums = _normalize_argnums(f, argnums, "jacfwd")
    if has_aux:
        return _aux_returned(jacfwd, f, argnums, "jacfwd")

    @functools.wraps(f)
    def jacobian(*args: Any) -> Any:
        xs, with_values = _split_args(args, nums, "jacfwd")
        _array_only(xs, "jacfwd")
        jacobians = []
        for k, x in enumerate(xs):

            def f_k(xk: Any, k: int = k) -> Any:
                return f(*with_values(*xs[:k], xk, *xs[k + 1 :]))

            if not shape_of(x):  # one direction: a plain JVP
                out, tangent = jvp(f_k, (x,), (1.0,))
                jacobians.append(tangent)
                continue
            out, per_leaf = _push_basis(f_k, x)
            jacobians.append(_unflatten(_flatten(out)[1], per_leaf))
        return jacobians[0] if isinstance(argnums, int) else tuple(jacobians)

    return jacobian


# -- reverse mode --------------------------------------------------------------
def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
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
    flat = [_input_leaves(p, "vjp") for p in primals]
    trace = ReverseTrace()
    try:
        nodes = [[trace.new_input(leaf) for leaf in leaves] for leaves, _ in flat]
        with cycle_collector_paused():
            out = f(
                *(_unflatten(treedef, ns) for ns, (_, treedef) in zip(nodes, flat, strict=True))
            )
    except BaseException:
        trace.tape = None  # break the trace <-> tape cycle: free the graph without the gc
        raise
    finally:
        trace.active = False
    tape, trace.tape = trace.tape, None  # only vjp_fn keeps the graph alive
    assert tape is not None
    leaves, treedef = _flatten(out)
    out_primal = _unflatten(
        treedef, [leaf.value if isinstance(leaf, Node) and leaf._trace is trace else leaf
                  for leaf in leaves]
    )  # fmt: skip

    def vjp_fn(cotangent: Any) -> tuple:
        ct_leaves, ct_def = _flatten(cotangent)
        if ct_def != treedef:
            raise ValueError(
                "the cotangent must have the structure of f's output "
                f"({len(leaves)} array(s)); got {len(ct_leaves)}"
            )
        input_cts: dict[int, Any] = {}
        for leaf, ct in zip(leaves, ct_leaves, strict=True):
            ct = _as_input(ct, "vjp_fn")
            if shape_of(ct) != shape_of(leaf):
                raise ValueError(
                    f"cotangent shape {shape_of(ct)} does not match the output shape "
                    f"{shape_of(leaf)}; pass one cotangent entry per output entry"
                )
            if not (isinstance(leaf, Node) and leaf._trace is trace):
                continue  # this output does not depend on the inputs
            with cycle_collector_paused():
                cts = backward(tape, leaf, ct)
            for k, c in cts.items():
                input_cts[k] = c if k not in input_cts else rules.add(input_cts[k], c)
        return tuple(
            _unflatten(treedef, [input_cts.get(n.index, _zeros_like(n.value)) for n in ns])
            for ns, (_, treedef) in zip(nodes, flat, strict=True)
        )

    return out_primal, vjp_fn


def value_and_grad(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
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
            value, gradient = value_and_grad(main, argnums)(*args, **kwargs)
            return (value, aux()), gradient

        return with_aux

    @functools.wraps(f)
    def value_and_gradient(*args: Any) -> tuple[Any, Any]:
        xs, with_values = _split_args(args, nums, "grad")
        out, vjp_fn = vjp(lambda *v: f(*with_values(*v)), *xs)
        if isinstance(out, tuple | list) or shape_of(out) != ():
            shape = "a tuple" if isinstance(out, tuple | list) else f"shape {shape_of(out)}"
            raise TypeError(
                f"grad needs a scalar output, but f returned {shape}; "
                "use jacrev (the whole Jacobian) or vjp (one cotangent) instead"
            )
        cts = vjp_fn(1.0)
        return out, cts[0] if isinstance(argnums, int) else cts

    return value_and_gradient


def grad(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar-valued ``f`` by reverse mode.

    Parameters
    ----------
    f : callable
        Returns a scalar.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to.
    has_aux : bool
        If True, ``f`` returns a pair ``(output, aux)``: only ``output`` is
        differentiated, and ``aux`` (any numbers, arrays or containers of
        them) comes back as plain values: the result is ``(gradient, aux)``.

    Returns
    -------
    callable
        Takes ``f``'s arguments; returns the gradient, shaped like the
        argument (a tuple of them for a tuple ``argnums``).

    Examples
    --------
    >>> import numpy as np
    >>> from autodiff_ref import grad, sin, sum
    >>> grad(sin)(0.0)
    1.0
    >>> grad(lambda x: sum(x**2))(np.array([1.0, 2.0, 3.0]))
    array([2., 4., 6.])
    >>> grad(lambda x: (x**2, x + 1), has_aux=True)(3.0)  # (gradient, aux)
    (6.0, 4.0)
    >>> grad(grad(lambda x: x**3))(2.0)
    12.0
    """
    value_and_gradient = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        value, g = value_and_gradient(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return gradient


def jacrev(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """The Jacobian of ``f`` by reverse mode: one backward pass per output element (row).

    >>> import numpy as np
    >>> from autodiff_ref import jacrev
    >>> jacrev(lambda x: x[0] * x[1] + x)(np.array([2.0, 3.0]))
    array([[4., 2.],
           [3., 3.]])

    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and the result is
    ``(jacobian, aux)``.
    """
    nums = _normalize_argnums(f, argnums, "jacrev")
    if has_aux:
        return _aux_returned(jacrev, f, argnums, "jacrev")

    @functools.wraps(f)
    def jacobian(*args: Any) -> Any:
        xs, with_values = _split_args(args, nums, "jacrev")
        _array_only(xs, "jacrev")
        out, vjp_fn = vjp(lambda *v: f(*with_values(*v)), *xs)
        if isinstance(out, tuple | list):
            raise TypeError("jacrev needs f to return one array; stack the outputs first")
        out_shape = shape_of(out)
        rows = [vjp_fn(e) for e in _basis(out_shape)]
        jacobians = []
        for k, x in enumerate(xs):
            if not out_shape:
                jacobians.append(rows[0][k])
                continue
            stacked = rules.stack(*[r[k] for r in rows], axis=0)
            jacobians.append(rules.reshape(stacked, shape=out_shape + shape_of(x)))
        return jacobians[0] if isinstance(argnums, int) else tuple(jacobians)

    return jacobian


def hessian(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """The Hessian of a scalar ``f``, forward-over-reverse: ``jacfwd(grad(f))``.

    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and the result is
    ``(hessian, aux)``.

    >>> import numpy as np
    >>> from autodiff_ref import hessian
    >>> hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    return jacfwd(grad(f, argnums, has_aux), argnums, has_aux)


def hvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """Hessian-vector product ``H(primals) @ tangents``, without forming ``H``.

    Forward-over-reverse: the JVP of the gradient, at the cost of a few
    evaluations of ``f``.  With several primals, the gradient is taken with
    respect to all of them and a tuple is returned.

    >>> import numpy as np
    >>> from autodiff_ref import hvp
    >>> hvp(lambda x: x[0] ** 2 * x[1], (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    array([4., 2.])
    """
    primals = _check_tuple("hvp's primals", primals, "hvp(f, (x,), (v,))")
    argnums: ArgNums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(f, argnums), primals, tangents)[1]


def _aux_returned(transform: Callable, f: Callable, argnums: ArgNums, name: str) -> Callable:
    """``transform(f, argnums)`` for an ``f`` returning ``(output, aux)``: ``(result, aux)``."""

    @functools.wraps(f)
    def with_aux(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        main, aux = _with_aux(f, name)  # per call: calls may nest
        return transform(main, argnums)(*args, **kwargs), aux()

    return with_aux
