"""Extension points: stop_gradient, custom derivative rules, and checkpointing.

Each name here is JAX's, with JAX's meaning:

* :func:`~autodiff_ref.stop_gradient` is an entry of the rules table whose
  derivative is zero (``None``): its value passes through, its derivative
  does not, in every mode and at every order.
* :class:`~autodiff_ref.custom_jvp` and :class:`~autodiff_ref.custom_vjp`
  turn a user's function and the user's derivative rule into a
  :class:`~autodiff_ref.core.Primitive` made at run time.  Every trace sees
  it as it sees a table entry, by its name: the forward and reverse traces
  call its rules, and the evaluation trace (:func:`~autodiff_ref.trace_evaluation`)
  and the graph drawing (:func:`~autodiff_ref.draw_graph`) show one row or
  node named after the function.
* :func:`~autodiff_ref.checkpoint` makes a primitive of a whole function:
  reverse mode records one node for it (its inputs and output, not its
  interior) and runs the function again, under :func:`~autodiff_ref.vjp`,
  when the backward pass reaches it.  Memory is traded for time.

How reverse mode gets a VJP out of a ``custom_jvp`` rule: the rule's tangent
output is linear in the input tangents, so running the rule once with
tangents that are the inputs of a fresh reverse-mode trace records that
linear map on a small tape, and sweeping the tape backwards with the output
cotangent applies its transpose.  That is the VJP, exactly, with one run of
the rule (not one forward pass per input element).  The primals the rule sees
may themselves be traced by enclosing transforms, so this nests: ``hessian``
and ``grad(grad(f))`` of a ``custom_jvp`` function differentiate the rule.
It is :func:`autodiff_ref.reverse.transposed_jvp`, the same step that gives
the table's non-linear primitives (``inv``, ``eigh``, ...) their VJPs; it
refuses a rule that is not linear in the tangents.

A ``custom_vjp`` function (and a checkpointed one) has ``fwd`` and ``bwd``
rules instead: reverse mode runs ``fwd`` in the forward pass, keeps its
residuals with the tape, and hands them to ``bwd`` with the cotangent, which
returns the cotangents of all arguments at once.

A user-made primitive, like the table's, takes numbers and arrays as
positional arguments and returns one number or array.  Values to be
differentiated must be arguments, not variables the function closes over.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import display, rules
from .batching import BATCH_RULES, vmap
from .core import Primitive, Tracer, primal_value, shape_of, unique_name
from .program.abstract_eval import ABSTRACT_EVAL
from .program.tracing import abstract_eval_by_tracing
from .transforms import jvp, vjp
from .tree import require_callable, tree_flatten, tree_unflatten

__all__ = ["checkpoint", "custom_jvp", "custom_vjp", "stop_gradient"]


# -- stop_gradient ---------------------------------------------------------------
def stop_gradient(x: Any) -> Any:
    """The value of ``x``, with derivative zero: a constant to every transform.

    ``x`` may be a number, an array, a traced value, or a tuple or list of
    them.  The derivative is zero in forward, reverse and symbolic mode, at
    every order, because the rules table says so (the entry
    ``stop_gradient`` has local derivative ``None``).

    Parameters
    ----------
    x : number, ndarray, tuple or list
        The value to pass through: a number or array (traced or not), or a
        tuple or list of them.

    Returns
    -------
    number, ndarray, tuple or list
        A copy of ``x``'s value, not traced by any transform.

    Examples
    --------
    >>> import autodiff_ref as ad
    >>> ad.grad(lambda x: ad.stop_gradient(x) * x)(3.0)  # only the second x counts
    3.0
    >>> ad.derivative(lambda x: ad.stop_gradient(x**2), 3.0)
    0.0
    """
    leaves, treedef = tree_flatten(x)
    return tree_unflatten(treedef, [rules.stop_gradient(leaf) for leaf in leaves])


# -- what every user-made primitive shares ---------------------------------------
def _function_name(fun: Callable[..., Any]) -> str:
    name = getattr(fun, "__name__", "f")
    return "f" if name == "<lambda>" else name


def _positional(
    fun: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], what: str
) -> tuple[Any, ...]:
    """The arguments as positional ones (keyword arguments resolved by ``fun``'s signature)."""
    if not kwargs:
        return args
    bound = inspect.signature(fun).bind(*args, **kwargs)
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(
            f"{what}: keyword-only arguments {sorted(bound.kwargs)} cannot be passed to a "
            "function with a custom rule; make them positional, or close over them"
        )
    return bound.args


def _check_arguments(args: Sequence[Any], what: str) -> None:
    for k, a in enumerate(args):
        if isinstance(a, bool | np.bool_):
            raise TypeError(
                f"{what}: argument {k} is a boolean; pass numbers and arrays"
            )
        if isinstance(a, Tracer | numbers.Number | np.ndarray | np.generic):
            continue
        raise TypeError(
            f"{what}: argument {k} is a {type(a).__name__}; a function with a custom rule "
            "takes numbers and arrays as positional arguments. Pass each array as its own "
            "argument, and close over other values (e.g. with functools.partial)"
        )


def _single_output(out: Any, what: str) -> Any:
    """``out`` if it is one plain number or array; else a TypeError that says why not."""
    if isinstance(out, tuple | list | dict):
        raise TypeError(
            f"{what} returned a {type(out).__name__}; a function with a custom rule (or a "
            "checkpointed one) returns one number or array here: stack the outputs, or "
            "give each output its own function"
        )
    if isinstance(out, Tracer):
        # Its arguments were plain values, so the traced value came from a closure.
        raise TypeError(
            f"{what} closes over a value that a transform is differentiating; pass that "
            "value to the function as an argument instead"
        )
    if isinstance(out, bool | np.bool_) or not isinstance(
        out, numbers.Number | np.ndarray | np.generic
    ):
        raise TypeError(
            f"{what} returned a {type(out).__name__}; it must return a number or an array"
        )
    return out


def _zeros_like(x: Any) -> Any:
    """A zero tangent for ``x`` (same shape; a float, or complex for a complex ``x``)."""
    dtype = np.result_type(primal_value(x), float)
    shape = shape_of(x)
    if shape:
        return np.zeros(shape, dtype)
    return 0.0 if dtype == np.float64 else dtype.type(0)


def _check_shape(value: Any, expected: Any, what: str) -> None:
    if shape_of(value) != shape_of(expected):
        raise ValueError(
            f"{what} has shape {shape_of(value)} but should have shape {shape_of(expected)}"
        )


class _UserPrimitive:
    """What custom_jvp and custom_vjp share: a function, its primitive, and the calls."""

    kind = ""

    def __init__(self, fun: Callable[..., Any]) -> None:
        require_callable(fun, self.kind)
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.name = _function_name(fun)
        #: The primitive every transform sees, named after the function.
        self.primitive = self._make_primitive()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        what = f"{self.kind} function {self.name}"
        args = _positional(self.fun, args, kwargs, what)
        _check_arguments(args, what)
        return self.primitive(*args)

    def __repr__(self) -> str:
        return f"<{self.kind} function {self.name}>"

    def _impl(self, *args: Any) -> Any:
        return _single_output(self.fun(*args), f"{self.kind} function {self.name}")

    def _make_primitive(self) -> Primitive:
        raise NotImplementedError


def _traced_rule(user: _UserPrimitive) -> Any:
    # The rule keeps the function weakly: the table's weak key (the primitive) must
    # not be kept alive by its own value, or its name would never be given back.
    # Traced, the user's function gives abstract values (impl refuses them as closures).
    ref = weakref.ref(user)
    return abstract_eval_by_tracing(lambda *args: ref().fun(*args))  # type: ignore[union-attr]


# -- custom_jvp ------------------------------------------------------------------
class custom_jvp(_UserPrimitive):
    """A function with a forward-mode derivative rule of your own (JAX's ``custom_jvp``).

    Decorate the function, then register its rule with :meth:`defjvp`. The
    rule takes ``(primals, tangents)``, two tuples with one entry per
    argument, and returns ``(primal_out, tangent_out)``, where
    ``tangent_out`` must be linear in the tangents. Every transform uses the
    rule: forward mode pushes tangents through it, reverse mode transposes it
    (see :mod:`autodiff_ref.custom`), and nested transforms differentiate it.

    Use it when the derivative that the rules table would compute from your
    function's operations is unstable or wasteful, and you know a better
    formula for it (the derivative itself, not only its product with a
    cotangent).

    Parameters
    ----------
    fun : callable
        The function: numbers and arrays as positional arguments, one number
        or array out.

    Examples
    --------
    JAX's example: ``log(1 + exp(x))``, whose derivative as the rules table
    assembles it, ``exp(x) / (1 + exp(x))``, is ``nan`` once ``exp(x)``
    overflows (above about 709 in double precision; at 100 in JAX's float32):

    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> @ad.custom_jvp
    ... def log1pexp(x):
    ...     return anp.log(1.0 + anp.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (x_dot,) = primals, tangents
    ...     return log1pexp(x), (1.0 - 1.0 / (1.0 + anp.exp(x))) * x_dot
    >>> import numpy as np
    >>> with np.errstate(over="ignore"):  # the value overflows; the slope does not
    ...     ad.grad(log1pexp)(1000.0)
    1.0
    >>> ad.grad(log1pexp)(100.0)
    1.0
    >>> ad.derivative(log1pexp, 0.0, order=2)  # exp(x) / (1 + exp(x))**2 at 0
    0.25
    """

    kind = "custom_jvp"

    def __init__(self, fun: Callable[..., Any]) -> None:
        super().__init__(fun)
        self.jvp: Callable[[tuple[Any, ...], tuple[Any, ...]], Any] | None = None

    def defjvp(
        self, jvp: Callable[[tuple[Any, ...], tuple[Any, ...]], Any]
    ) -> Callable[[tuple[Any, ...], tuple[Any, ...]], Any]:
        """Register ``jvp(primals, tangents) -> (primal_out, tangent_out)``; returns ``jvp``."""
        if not callable(jvp):
            raise TypeError(f"defjvp needs a function, got {type(jvp).__name__}")
        self.jvp = jvp
        return jvp

    # -- the primitive's rules ----------------------------------------------------
    def _make_primitive(self) -> Primitive:
        # A JVP only: reverse mode linearizes and transposes it, like a table entry's
        # (autodiff_ref.reverse.transposed_jvp), and refuses a rule not linear in
        # the tangents.
        prim = Primitive(
            unique_name(self.name),
            self._impl,
            jvp=self._jvp_rule,
            doc=f"custom_jvp function {self.name}",
        )
        display.define(prim, label=self.name)  # printed by the user's name
        ABSTRACT_EVAL[prim] = _traced_rule(self)
        BATCH_RULES[prim] = _batch_custom_jvp(weakref.ref(self))
        return prim

    def _rule_output(
        self, primals: tuple[Any, ...], tangents: tuple[Any, ...], ans: Any
    ) -> Any:
        """The tangent output of the user's rule, after checking what it returned."""
        if self.jvp is None:
            raise TypeError(
                f"custom_jvp function {self.name} has no JVP rule: register one with "
                f"@{self.name}.defjvp before differentiating it"
            )
        out = self.jvp(primals, tangents)
        if not (isinstance(out, tuple | list) and len(out) == 2):
            raise TypeError(
                f"the JVP rule of {self.name} must return a pair (primal_out, tangent_out), "
                f"got {type(out).__name__}"
            )
        primal_out, tangent_out = out
        _check_shape(primal_out, ans, f"the primal output of {self.name}'s JVP rule")
        _check_shape(tangent_out, ans, f"the tangent output of {self.name}'s JVP rule")
        return tangent_out

    def _jvp_rule(self, tangents: Sequence[Any], ans: Any, *primals: Any) -> Any:
        # The rule expects a tangent for every argument: zeros stand for None.
        full = tuple(
            _zeros_like(p) if t is None else t
            for p, t in zip(primals, tangents, strict=True)
        )
        return self._rule_output(tuple(primals), full, ans)


# -- custom_vjp ------------------------------------------------------------------
class custom_vjp(_UserPrimitive):
    """A function with a reverse-mode derivative rule of your own (JAX's ``custom_vjp``).

    Decorate the function, then register its rule with
    ``f.defvjp(fwd, bwd)``: ``fwd(*args)`` returns ``(output, residuals)``
    and ``bwd(residuals, cotangent)`` returns a tuple with one cotangent per
    argument (``None`` for zero). Reverse mode (``grad``, ``vjp``,
    ``jacrev``, and reverse over reverse) uses the rule; forward mode cannot,
    and raises a TypeError.

    As in JAX, ``fwd`` runs in the forward pass, in place of the function:
    its output is the value the caller gets, and its residuals are kept on
    the tape until the backward pass hands them to ``bwd``. So ``fwd`` runs
    once per call, and a ``fwd`` that draws random numbers or has side effects
    agrees with the forward value. The residuals are traced by any enclosing
    transform, so ``bwd`` can itself be differentiated (``grad(grad(f))``,
    ``jacrev(jacrev(f))``).

    Use it to change what flows backwards (clip it, rescale it), or when only
    the product with a cotangent has a good formula.

    Parameters
    ----------
    fun : callable
        The function to give a reverse-mode rule; it takes numbers and arrays
        as positional arguments and returns one number or array.

    Examples
    --------
    Gradient clipping, from JAX's Autodiff Cookbook: the identity on its
    value, with the cotangent clipped to ``[lo, hi]`` on the way back.

    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> @ad.custom_vjp
    ... def clip_gradient(lo, hi, x):
    ...     return x
    >>> def clip_gradient_fwd(lo, hi, x):
    ...     return x, (lo, hi)
    >>> def clip_gradient_bwd(res, g):
    ...     lo, hi = res
    ...     return None, None, anp.minimum(anp.maximum(g, lo), hi)
    >>> clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)
    >>> ad.grad(lambda x: clip_gradient(-0.75, 0.75, anp.sin(x)))(0.0)  # cos 0, clipped
    0.75
    """

    kind = "custom_vjp"

    def __init__(self, fun: Callable[..., Any]) -> None:
        super().__init__(fun)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[[Any, Any], Any] | None = None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[[Any, Any], Any]) -> None:
        """Register ``fwd(*args) -> (output, residuals)`` and ``bwd(residuals, ct)``."""
        if not all(callable(f) for f in (fwd, bwd)):  # checked: not annotations
            raise TypeError("defvjp needs two functions, fwd and bwd")
        self.fwd, self.bwd = fwd, bwd

    # -- the primitive's rules ----------------------------------------------------
    def _make_primitive(self) -> Primitive:
        prim = Primitive(
            unique_name(self.name),
            self._impl,
            jvp=self._jvp_rule,
            fwd=self._fwd_rule,
            bwd=self._bwd_rule,
            doc=f"custom_vjp function {self.name}",
        )
        display.define(prim, label=self.name)  # printed by the user's name
        ABSTRACT_EVAL[prim] = _traced_rule(self)
        BATCH_RULES[prim] = _batch_custom_vjp(weakref.ref(self))
        return prim

    def _jvp_rule(self, tangents: Sequence[Any], ans: Any, *primals: Any) -> Any:
        raise TypeError(
            f"{self.name} is a custom_vjp function: it has a reverse-mode rule only, so "
            "forward mode (jvp, jacfwd, derivative, hessian, hvp, trace_evaluation) cannot "
            "differentiate it. Use reverse mode (grad, vjp, jacrev), or give it a "
            "forward-mode rule with custom_jvp instead (reverse mode can use that too)"
        )

    def _fwd_rule(self, *primals: Any) -> tuple[Any, Any]:
        """Reverse mode's forward pass: the user's ``fwd``, checked."""
        if self.fwd is None or self.bwd is None:
            raise TypeError(
                f"custom_vjp function {self.name} has no VJP rule: register one with "
                f"{self.name}.defvjp(fwd, bwd) before differentiating it"
            )
        out = self.fwd(*primals)
        if not (isinstance(out, tuple | list) and len(out) == 2):
            raise TypeError(
                f"the fwd of {self.name} must return a pair (output, residuals), "
                f"got {type(out).__name__}"
            )
        ans, residuals = out
        what = f"the output of {self.name}'s fwd"
        if not any(isinstance(p, Tracer) for p in primals):
            ans = _single_output(ans, what)
        elif isinstance(ans, tuple | list | dict):  # an enclosing transform's values
            _single_output(ans, what)
        return ans, residuals

    def _bwd_rule(self, residuals: Any, ct: Any, *primals: Any) -> tuple[Any, ...]:
        """Reverse mode's backward step: the user's ``bwd``, all cotangents at once."""
        assert self.bwd is not None  # _fwd_rule ran first
        cts = self.bwd(residuals, ct)
        if not (isinstance(cts, tuple | list) and len(cts) == len(primals)):
            got = len(cts) if isinstance(cts, tuple | list) else type(cts).__name__
            raise TypeError(
                f"the bwd of {self.name} must return a tuple of {len(primals)} cotangents, "
                f"one per argument (None for zero), got {got}"
            )
        for k, (c, p) in enumerate(zip(cts, primals, strict=True)):
            if c is not None:
                _check_shape(
                    c, p, f"the cotangent of argument {k} from {self.name}'s bwd"
                )
        return tuple(cts)


# -- batching: a user rule batches as a user rule of the vmapped functions ----------
# vmap of a function with a custom rule keeps the rule: the batched call is one call of
# a new custom function (the vmapped function, with the vmapped rule), so a transform
# around vmap still differentiates by the user's rule, not through the function.
def _batch_custom_jvp(ref: Any) -> Any:
    def rule(
        prim: Primitive,
        size: int,
        vals: Sequence[Any],
        dims: Sequence[Any],
        params: Any,
    ) -> tuple[Any, int]:
        user = ref()
        axes = tuple(dims)
        batched = custom_jvp(vmap(user.fun, in_axes=axes))
        user_jvp = user.jvp
        if user_jvp is not None:
            batched.defjvp(
                lambda primals, tangents: vmap(user_jvp, in_axes=(axes, axes))(
                    primals, tangents
                )
            )
        return batched(*vals), 0

    return rule


def _batch_custom_vjp(ref: Any) -> Any:
    def rule(
        prim: Primitive,
        size: int,
        vals: Sequence[Any],
        dims: Sequence[Any],
        params: Any,
    ) -> tuple[Any, int]:
        user = ref()
        axes = tuple(dims)
        batched = custom_vjp(vmap(user.fun, in_axes=axes))
        user_fwd, user_bwd = user.fwd, user.bwd
        if user_fwd is not None and user_bwd is not None:

            def bwd(residuals: Any, ct: Any) -> tuple[Any, ...]:
                cts = vmap(user_bwd)(residuals, ct)  # each example's, along axis 0
                # An argument shared by the examples gets the sum of their cotangents.
                return tuple(
                    c if c is None else rules.sum(c, axis=0) if d is None
                    else _from_front(c, d)
                    for c, d in zip(cts, axes, strict=True)
                )  # fmt: skip

            batched.defvjp(vmap(user_fwd, in_axes=axes), bwd)
        return batched(*vals), 0

    return rule


def _from_front(x: Any, dim: int) -> Any:
    order = list(range(1, len(shape_of(x))))
    order.insert(dim, 0)
    return x if dim == 0 else rules.transpose(x, axes=tuple(order))


def _batch_checkpoint(fun: Callable[..., Any]) -> Any:
    def rule(
        prim: Primitive,
        size: int,
        vals: Sequence[Any],
        dims: Sequence[Any],
        params: Any,
    ) -> tuple[Any, int]:
        return checkpoint(vmap(fun, in_axes=tuple(dims)))(*vals), 0

    return rule


# -- checkpoint --------------------------------------------------------------------
def checkpoint(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun``, recomputed in the backward pass instead of stored (JAX's ``checkpoint``).

    Reverse mode records one node for a call of the checkpointed function:
    its inputs and its output, not the values inside it. When the backward
    pass reaches that node, it runs ``fun`` again under :func:`~autodiff_ref.vjp`
    on the saved inputs and pulls the cotangent back through that short tape,
    which is freed at once. The gradients are the same to the last bit; the
    price is one more evaluation of ``fun``. Checkpointing the segments of a
    long chain keeps the tape's memory proportional to the number of
    segments plus the length of one segment, rather than to the number of
    operations (``sqrt(n)`` segments of ``sqrt(n)`` operations each is the
    classic choice). Forward mode and nesting work as for any primitive.

    Parameters
    ----------
    fun : callable
        Numbers and arrays as positional arguments, one number or array out.

    Returns
    -------
    callable
        The checkpointed function, a primitive named ``checkpoint(fun)``.

    Examples
    --------
    >>> import numpy as np
    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> def layer(x):
    ...     return anp.tanh(x) * 2.0
    >>> saved = ad.checkpoint(layer)
    >>> x = np.array([0.1, 0.2])
    >>> bool(np.array_equal(ad.grad(lambda v: anp.sum(saved(v)))(x),
    ...                     ad.grad(lambda v: anp.sum(layer(v)))(x)))
    True
    >>> # One row of the evaluation trace for the whole function:
    >>> ad.trace_evaluation(saved, 0.5).rows[-1].expression
    'checkpoint(layer)(v_0)'
    """
    require_callable(fun, "checkpoint")
    if not callable(fun):
        raise TypeError(f"checkpoint needs a function, got {type(fun).__name__}")
    name = f"checkpoint({_function_name(fun)})"

    def impl(*args: Any) -> Any:
        return _single_output(fun(*args), name)

    def jvp_rule(tangents: Sequence[Any], ans: Any, *primals: Any) -> Any:
        full = tuple(
            _zeros_like(p) if t is None else t
            for p, t in zip(primals, tangents, strict=True)
        )
        return jvp(fun, tuple(primals), full)[1]

    def fwd(*primals: Any) -> tuple[Any, tuple[Any, ...]]:
        # The value (dispatched: the primals may be an enclosing transform's), and
        # the inputs as the only residuals: nothing inside fun is kept.
        return prim(*primals), primals

    def bwd(saved: tuple[Any, ...], ct: Any, *primals: Any) -> tuple[Any, ...]:
        # Re-run fun on its saved inputs with a tape, sweep it, and let the tape go.
        return vjp(fun, *saved)[1](ct)

    prim = Primitive(
        unique_name(name),
        impl,
        jvp=jvp_rule,
        fwd=fwd,
        bwd=bwd,
        doc=f"{name}: recomputed",
    )
    display.define(prim, label=name)  # printed by the user's name
    ABSTRACT_EVAL[prim] = abstract_eval_by_tracing(fun)
    BATCH_RULES[prim] = _batch_checkpoint(fun)

    @functools.wraps(fun)
    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        args = _positional(fun, args, kwargs, name)
        _check_arguments(args, name)
        return prim(*args)

    checkpointed.primitive = prim  # type: ignore[attr-defined]
    return checkpointed
