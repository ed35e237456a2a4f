"""How much arithmetic a computation takes: counted, not timed.

A timing says how long the gradient took; a count says how much work it had
to do however fast the Python around it. While :func:`counting` is active,
every primitive of the rules table tallies what its NumPy implementation
produced: the numbers it wrote into fresh arrays (a view, such as a slice or
a broadcast, writes none), the multiply-adds of matrix products, and the
number of calls. Count ``f`` and ``grad f`` and the ratio of the two is the
lowest ``time(grad f) / time(f)`` that a library evaluating one NumPy
operation per primitive can reach, with no overhead of its own: autograd,
PyTorch and JAX without ``jit`` work this way too. Only a compiler that fuses
operations (``jax.jit``) can go below it.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import rules
from .core import Primitive, evaluating_with, impl_of, shape_of
from .rules import RULES

__all__ = ["counting", "work"]


def _counted(
    prim: Primitive, impl: Callable[..., Any], tally: Counter[str]
) -> Callable[..., Any]:
    def counted(*args: Any, **params: Any) -> Any:
        out = impl(*args, **params)
        tally["calls"] += 1
        if (
            isinstance(out, np.ndarray) and out.flags.owndata
        ):  # views cost no arithmetic
            tally["written"] += out.size
        if prim is rules.matmul:
            tally["multiply_adds"] += (
                int(np.prod(shape_of(out))) * shape_of(args[0])[-1]
            )
        return out

    return counted


@contextlib.contextmanager
def counting() -> Iterator[Counter[str]]:
    """Tally the work of every primitive evaluated inside the ``with`` block.

    The counter has ``calls`` (primitive evaluations on plain values),
    ``written`` (numbers written into fresh arrays) and ``multiply_adds``
    (of matrix products). Only primitives are seen: on plain arrays ``x * y``
    is NumPy's own, so count a function while it is traced (inside ``vjp``:
    its forward pass evaluates each primitive once, as ``f`` does).

    >>> import numpy as np
    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> x = np.ones(1000)
    >>> with counting() as tally:
    ...     _ = ad.vjp(lambda v: anp.sum(anp.sin(v) * v), x)
    >>> tally["calls"], tally["written"]
    (3, 2000)
    """
    tally: Counter[str] = Counter()
    # An interpreter substitutes the counting code for the block's length: the
    # primitives themselves are never changed (core.evaluating_with).
    counted = {prim: _counted(prim, impl_of(prim), tally) for prim in RULES.values()}
    with evaluating_with(counted):
        yield tally


def work(fn: Callable[[], Any]) -> Counter[str]:
    """The tally of one call of ``fn`` (see :func:`counting`)."""
    with counting() as tally:
        fn()
    return tally
