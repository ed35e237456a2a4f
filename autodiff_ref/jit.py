"""jit: trace a function to a program once per input signature, then run generated code.

The first call with a new *signature* -- the arguments' structure, each
array's shape and dtype (and Python-number kind), and the values of the static
arguments -- traces the function to a :class:`~autodiff_ref.program.Program`,
simplifies it and compiles its source.  Later calls with the same signature
run the compiled code directly: no tracers, no dispatch, one NumPy (or
:mod:`math`) call per equation.

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

from .core import Tracer, primal_value
from .program import Program, _static_positions, aval_of, hashable_treedef, simplify, trace_program

__all__ = ["jit"]


class Jitted:
    """A jitted function: call it like ``f``; ``traces`` counts the programs made."""

    def __init__(self, f: Callable[..., Any], static_argnums: int | Sequence[int]) -> None:
        functools.update_wrapper(self, f)
        self.fun = f
        self.static_argnums = static_argnums
        self.traces = 0
        self._cache: dict[Any, tuple[Program, Callable[..., Any]]] = {}

    def _signature(self, args: tuple[Any, ...]) -> tuple[Any, list[Any]]:
        from .transforms import _flatten

        static = _static_positions(self.static_argnums, len(args))
        dynamic = tuple(a for i, a in enumerate(args) if i not in static)
        leaves, tree = _flatten(dynamic)
        static_values = tuple((type(args[i]), args[i]) for i in sorted(static))
        try:
            hash(static_values)
        except TypeError:
            raise TypeError(
                "jit: static arguments are part of the cache key, so they must be hashable "
                "(numbers, strings, tuples); pass arrays as ordinary (traced) arguments"
            ) from None
        key = (
            hashable_treedef(tree),
            tuple(aval_of(primal_value(leaf)) for leaf in leaves),
            static_values,
        )
        return key, leaves

    def program(self, *args: Any) -> Program:
        """The (simplified) program that runs for arguments like ``args``."""
        key, _ = self._signature(args)
        return self._entry(key, args)[0]

    def _entry(self, key: Any, args: tuple[Any, ...]) -> tuple[Program, Callable[..., Any]]:
        entry = self._cache.get(key)
        if entry is None:
            program = simplify(trace_program(self.fun, args, self.static_argnums))
            self.traces += 1
            entry = self._cache[key] = (program, program.compile())
        return entry

    def __call__(self, *args: Any) -> Any:
        from .transforms import _unflatten

        key, leaves = self._signature(args)
        program, compiled = self._entry(key, args)
        if any(isinstance(leaf, Tracer) for leaf in leaves):
            # Under a transform (or inside another trace): its equations, bound again.
            outs = program.evaluate(leaves)
        else:
            result = compiled(*leaves)
            outs = [result] if len(program.outputs) == 1 else list(result)
        return _unflatten(program.out_tree, outs)

    def cache_clear(self) -> None:
        """Forget every program (the next call traces again)."""
        self._cache.clear()

    def __repr__(self) -> str:
        return f"<jit of {getattr(self.fun, '__name__', self.fun)!r}: {self.traces} trace(s)>"


def jit(f: Callable[..., Any], static_argnums: int | Sequence[int] = ()) -> Jitted:
    """Compile ``f``: trace it to a program once per input signature, then run the code.

    Parameters
    ----------
    f : callable
        Written with autodiff_ref's operations; its Python control flow must
        not depend on the values of its (non-static) arguments.
    static_argnums : int or tuple of int
        Arguments passed as they are and made part of the cache key: each new
        value traces a new program.

    Returns
    -------
    Jitted
        Called like ``f``.  A new structure, shape or dtype of the arguments
        traces again (``.traces`` counts the traces); values closed over by
        ``f`` are baked into the program when it is traced.

    Examples
    --------
    >>> import numpy as np
    >>> import autodiff_ref as ad
    >>> f = ad.jit(lambda x: ad.sum(ad.sin(x) ** 2))
    >>> float(f(np.zeros(3))), float(f(np.ones(3))) == float(np.sum(np.sin(np.ones(3)) ** 2))
    (0.0, True)
    >>> f.traces  # both calls had shape (3,) and dtype float64
    1
    >>> g = ad.grad(f)  # a transform runs f's program, equation by equation
    >>> g(np.zeros(2))
    array([0., 0.])
    >>> def relu(x):
    ...     return x if x > 0 else 0.0
    >>> ad.jit(relu)(1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    autodiff_ref.program.ConcretizationError: an if, while, and/or or bool() needs the value ...
    """
    return Jitted(f, static_argnums)
