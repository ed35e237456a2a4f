"""jit: trace a function to a program once per input signature, then run generated code.

The first call with a new *signature* -- the arguments' structure, each
array's shape and dtype (and Python-number kind), and the values of the static
arguments -- traces the function to a :class:`~autodiff_ref.program.Program`,
simplifies it and compiles its source.  Later calls with the same signature
run the compiled code directly: no tracers, no dispatch, one NumPy (or
``math``) call per equation.

Called on values of an enclosing transform (``grad(jit(f))``), a jitted
function does not run its compiled code, which knows nothing of tangents or
tapes: it runs its program's equations through that transform instead, one
:func:`~autodiff_ref.core.bind` each.  The equations are the primitives ``f``
applied, so the transform differentiates them exactly as it would ``f``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .core import Tracer, primal_value, substituting_impls
from .program.program import Program, _static_positions, trace_program
from .program.simplification import simplify
from .program.tracing import aval_of
from .tree import require_callable, tree_flatten, tree_unflatten

__all__ = ["jit"]

_NUMBERS = (float, int, bool, complex)


def _key(x: Any, leaves: list[Any]) -> Any:
    """The part of the cache key for one argument; its leaves are appended to ``leaves``.

    The type, shape and dtype of every leaf, and the tuples and lists around
    them: everything the program depends on, and nothing else.
    """
    t = type(x)
    if t is np.ndarray:
        leaves.append(x)
        return (x.shape, x.dtype)
    if t in _NUMBERS:
        leaves.append(x)
        return t
    if t is tuple or t is list:  # (loops, not generators: this runs on every call)
        parts: list[Any] = [t]
        for child in x:
            parts.append(_key(child, leaves))
        return tuple(parts)
    if x is None:  # an empty subtree: no leaves
        return None
    children, treedef = tree_flatten(x)  # dicts, namedtuples, registered classes
    if len(children) != 1 or children[0] is not x:
        return (treedef, tuple([_key(child, leaves) for child in children]))
    leaves.append(x)
    return aval_of(primal_value(x))  # NumPy scalars, tracers (refuses anything else)


class Jitted:
    """A jitted function: call it like ``f``; ``traces`` counts the programs made."""

    def __init__(
        self, f: Callable[..., Any], static_argnums: int | Sequence[int]
    ) -> None:
        functools.update_wrapper(self, f)
        self.fun = f
        self.static_argnums = static_argnums
        self.traces = 0
        self._cache: dict[Any, tuple[Program, Callable[..., Any]]] = {}

        def with_keywords(*args: Any) -> Any:  # keyword arguments: a last dict argument
            return f(*args[:-1], **args[-1])

        with_keywords.__name__ = getattr(f, "__name__", "f")  # the program's name
        self._with_keywords = with_keywords

    def _signature(self, args: tuple[Any, ...]) -> tuple[Any, list[Any], bool]:
        """The cache key of a call, the leaves of its traced arguments, and whether
        one of them is a tracer (a value of an enclosing transform)."""
        leaves: list[Any] = []
        if self.static_argnums == ():
            key = tuple([_key(a, leaves) for a in args])
        else:
            static = _static_positions(self.static_argnums, len(args))
            key = tuple(
                ("static", type(a), a) if i in static else _key(a, leaves)
                for i, a in enumerate(args)
            )
            try:
                hash(key)
            except TypeError:
                raise TypeError(
                    "jit: static arguments are part of the cache key, so they must be "
                    "hashable (numbers, strings, tuples); pass arrays as traced arguments"
                ) from None
        traced = False
        for leaf in leaves:
            if isinstance(leaf, Tracer):
                traced = True
                break
        return key, leaves, traced

    def _keywords_last(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        """``args`` and then the keyword arguments as one dict (sorted: one order)."""
        nums = self.static_argnums
        if any(i < 0 for i in ((nums,) if isinstance(nums, int) else nums)):
            # They would count from the keywords' dict, not from the last positional.
            raise ValueError(
                "jit: with keyword arguments, give static_argnums as positions from the "
                f"start (0, 1, ...), not from the end ({nums!r})"
            )
        return (*args, dict(sorted(kwargs.items())))

    def program(self, *args: Any, **kwargs: Any) -> Program:
        """The (simplified) program that runs for arguments like ``args``, ``kwargs``."""
        if kwargs:
            args = self._keywords_last(args, kwargs)
        key = self._signature(args)[0]
        return self._entry(("keywords", key) if kwargs else key, args, bool(kwargs))[0]

    def _entry(
        self, key: Any, args: tuple[Any, ...], keywords: bool = False
    ) -> tuple[Program, Callable[..., Any]]:
        entry = self._cache.get(key)
        if entry is None:
            fun = self._with_keywords if keywords else self.fun
            program = simplify(trace_program(fun, args, self.static_argnums))
            self.traces += 1
            if program.captured:  # it holds values of a transform now running: use once
                return program, program.evaluate
            entry = self._cache[key] = (program, program.compile())
        return entry

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:  # traced like JAX's: one more argument, a dict
            args = self._keywords_last(args, kwargs)
        key, leaves, traced = self._signature(args)
        if kwargs:
            key = ("keywords", key)  # not the same call as a dict passed positionally
        if substituting_impls():
            # Inside numerical.complex_step_stand_ins(): the compiled code calls the
            # primitives' own NumPy code, and a program traced here may record the
            # stand-ins' dtypes, so neither is cached or run; the interpreter is.
            fun = self._with_keywords if kwargs else self.fun
            program = simplify(trace_program(fun, args, self.static_argnums))
            return tree_unflatten(program.out_tree, program.evaluate(leaves))
        entry = self._cache.get(key)
        program, compiled = (
            self._entry(key, args, bool(kwargs)) if entry is None else entry
        )
        if traced or program.captured:  # under a transform: its equations, bound again
            return tree_unflatten(program.out_tree, program.evaluate(leaves))
        return compiled(*leaves)

    def cache_clear(self) -> None:
        """Forget every program (the next call traces again)."""
        self._cache.clear()

    def __repr__(self) -> str:
        return f"<jit of {getattr(self.fun, '__name__', self.fun)!r}: {self.traces} trace(s)>"


def jit(
    f: Callable[..., Any], static_argnums: int | Sequence[int] = ()
) -> Callable[..., Any]:
    """Compile ``f``: trace it to a program once per input signature, then run the code.

    Parameters
    ----------
    f : callable
        Written with autodiff_ref's operations; its Python control flow must
        not depend on the values of its (non-static) arguments.  Its arguments
        may be pytrees (tuples, lists, dicts, namedtuples, ``None``, registered
        classes) of numbers and arrays, and may be passed by keyword: keyword
        arguments are traced like positional ones (as in JAX), their names part
        of the cache key.
    static_argnums : int or tuple of int
        Arguments passed as they are and made part of the cache key: each new
        value traces a new program.

    Returns
    -------
    callable
        Called like ``f``.  A new structure, shape or dtype of the arguments
        traces again (its ``traces`` attribute counts the traces, and
        ``program(*args)`` returns the program that runs); values closed over by
        ``f`` are baked into the program when it is traced.

    Examples
    --------
    >>> import numpy as np
    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> f = ad.jit(lambda x: anp.sum(anp.sin(x) ** 2))
    >>> expected = float(np.sum(np.sin(np.ones(3)) ** 2))
    >>> float(f(np.zeros(3))), float(f(np.ones(3))) == expected
    (0.0, True)
    >>> f.traces  # both calls had shape (3,) and dtype float64
    1
    >>> g = ad.grad(f)  # a transform runs f's program, equation by equation
    >>> g(np.zeros(2))
    array([0., 0.])
    >>> def loss(params, x, *, scale=1.0):  # a dict argument and a keyword argument
    ...     return scale * anp.sum((params["w"] * x + params["b"]) ** 2)
    >>> fast = ad.jit(loss)
    >>> p = {"w": np.array([1.0, 2.0]), "b": 0.5}
    >>> x = np.ones(2)
    >>> [float(fast(p, x, scale=s)) == float(loss(p, x, scale=s)) for s in (2.0, 3.0)]
    [True, True]
    >>> fast.traces  # the same structure, shapes and keywords: one program
    1
    >>> def relu(x):
    ...     return x if x > 0 else 0.0
    >>> ad.jit(relu)(1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    autodiff_ref.core.ConcretizationError: an if, while, ... needs the value ...
    """
    require_callable(f, "jit")
    return Jitted(f, static_argnums)
