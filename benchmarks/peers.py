"""The libraries compared, each behind the same small interface, imported lazily.

A benchmark function is written once, as ``fun(xp, params, *data)``, where
``xp`` holds the handful of array functions it needs in one library's
spelling. Each :class:`Library` turns NumPy inputs into its own arrays and
gives a plain call and a gradient call of ``fun``; outputs come back as NumPy
so every library's gradient can be checked against autodiff_ref's.

A peer that is not installed raises ImportError from :func:`load`: the caller
records it as skipped. ``nox -s bench`` installs them all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

import autodiff_ref as ad
import autodiff_ref.numpy as anp

# The gradient libraries compared on arrays (micrograd works on scalars only,
# numdifftools differentiates numerically: each has its own case).
NAMES = ("autodiff_ref", "autograd", "jax", "jax.jit", "torch")


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """Apply ``fn`` to every leaf of nested tuples and lists."""
    if isinstance(tree, tuple | list):
        return type(tree)(tree_map(fn, t) for t in tree)
    return fn(tree)


def leaves(tree: Any) -> list[Any]:
    if isinstance(tree, tuple | list):
        return [leaf for t in tree for leaf in leaves(t)]
    return [tree]


@dataclass
class Library:
    """One library: its array functions and how to call and differentiate with it."""

    name: str
    version: str
    xp: SimpleNamespace
    to_array: Callable[[Any], Any]
    to_numpy: Callable[[Any], np.ndarray]
    # make_grad(fun, params, data) -> a call returning the gradient for params.
    make_grad: Callable[[Callable, Any, tuple], Callable[[], Any]]
    block: Callable[[Any], Any] = lambda out: out  # wait for asynchronous results
    compile: Callable[[Callable], Callable] = lambda fn: fn  # jax.jit for "jax.jit"

    def calls(
        self, fun: Callable, params: Any, data: tuple
    ) -> tuple[Callable, Callable]:
        """Argument-free calls of ``fun`` and of its gradient on this library's arrays."""
        p = tree_map(self.to_array, params)
        d = tuple(self.to_array(a) for a in data)
        plain = self.compile(lambda q, *e: fun(self.xp, q, *e))
        return (lambda: self.block(plain(p, *d))), self.make_grad(fun, p, d)


def _ours() -> Library:
    xp = SimpleNamespace(
        tanh=anp.tanh, exp=anp.exp, log=anp.log, sin=anp.sin, sum=anp.sum,
        rowsum=lambda x: anp.sum(x, axis=1),
        const_rowmax=lambda x: ad.primal_value(x).max(axis=1, keepdims=True),
    )  # fmt: skip

    def make_grad(fun: Callable, p: Any, d: tuple) -> Callable[[], Any]:
        g = ad.grad(lambda q: fun(xp, q, *d))
        return lambda: g(p)

    return Library(
        "autodiff_ref", ad.__version__, xp, lambda a: a, np.asarray, make_grad
    )


def _autograd() -> Library:
    import autograd
    import autograd.numpy as anp
    from autograd.tracer import getval

    xp = SimpleNamespace(
        tanh=anp.tanh, exp=anp.exp, log=anp.log, sin=anp.sin, sum=anp.sum,
        rowsum=lambda x: anp.sum(x, axis=1),
        const_rowmax=lambda x: getval(x).max(axis=1, keepdims=True),
    )  # fmt: skip

    def make_grad(fun: Callable, p: Any, d: tuple) -> Callable[[], Any]:
        g = autograd.grad(lambda q: fun(xp, q, *d))
        return lambda: g(p)

    return Library(
        "autograd", _version("autograd"), xp, lambda a: a, np.asarray, make_grad
    )


def _jax(jit: bool) -> Library:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # float64, as NumPy and the others
    xp = SimpleNamespace(
        tanh=jnp.tanh, exp=jnp.exp, log=jnp.log, sin=jnp.sin, sum=jnp.sum,
        rowsum=lambda x: jnp.sum(x, axis=1),
        const_rowmax=lambda x: jax.lax.stop_gradient(jnp.max(x, axis=1, keepdims=True)),
    )  # fmt: skip
    wrap = jax.jit if jit else (lambda fn: fn)

    def make_grad(fun: Callable, p: Any, d: tuple) -> Callable[[], Any]:
        # The data are arguments, not constants XLA could fold into the program.
        g = wrap(jax.grad(lambda q, *e: fun(xp, q, *e)))
        return lambda: jax.block_until_ready(g(p, *d))

    return Library(
        "jax.jit" if jit else "jax", _version("jax"), xp,
        lambda a: jnp.asarray(a, dtype=jnp.float64), np.asarray, make_grad,
        block=jax.block_until_ready, compile=wrap,
    )  # fmt: skip


def _torch() -> Library:
    import torch

    set_torch_threads(torch)
    xp = SimpleNamespace(
        tanh=torch.tanh, exp=torch.exp, log=torch.log, sin=torch.sin, sum=torch.sum,
        rowsum=lambda x: torch.sum(x, dim=1),
        const_rowmax=lambda x: x.detach().amax(dim=1, keepdim=True),
    )  # fmt: skip

    def to_array(a: Any) -> Any:
        return (
            torch.from_numpy(a)
            if isinstance(a, np.ndarray)
            else torch.tensor(a, dtype=torch.float64)
        )

    def make_grad(fun: Callable, p: Any, d: tuple) -> Callable[[], Any]:
        q = tree_map(lambda t: t.detach().clone().requires_grad_(True), p)
        flat = leaves(q)

        def gradient() -> Any:
            grads = iter(torch.autograd.grad(fun(xp, q, *d), flat))
            return tree_map(lambda _: next(grads), q)

        return gradient

    return Library(
        "torch", torch.__version__, xp, to_array,
        lambda t: t.detach().numpy() if hasattr(t, "detach") else np.asarray(t), make_grad,
    )  # fmt: skip


# Set to one thread by nox -s bench (and by run.py when unset).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "XLA_FLAGS",
)


def set_torch_threads(torch: Any) -> None:
    """One intra-op and one inter-op thread, as every other library gets."""
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # allowed only once, before any parallel work
        pass


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def load(name: str) -> Library:
    """The library called ``name`` (one of :data:`NAMES`); ImportError if missing."""
    loaders: dict[str, Callable[[], Library]] = {
        "autodiff_ref": _ours,
        "autograd": _autograd,
        "jax": lambda: _jax(jit=False),
        "jax.jit": lambda: _jax(jit=True),
        "torch": _torch,
    }
    return loaders[name]()


def thread_settings() -> dict[str, Any]:
    """The thread limits in force: environment variables and PyTorch's own."""
    settings: dict[str, Any] = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    try:
        import torch

        set_torch_threads(torch)
        settings["torch.get_num_threads"] = torch.get_num_threads()
        settings["torch.get_num_interop_threads"] = torch.get_num_interop_threads()
    except ImportError:
        pass
    return settings
