"""Gradient checking: exact derivatives against finite differences, in random directions.

:func:`~autodiff_ref.check_grads` works like ``check_grads`` in autograd and JAX.  It never
forms a Jacobian: it picks random directions and compares numbers that must
agree if the derivative rules are right.

* **Forward mode**: the JVP ``J v`` from :func:`~autodiff_ref.jvp` against the
  central difference ``(f(x + h v) - f(x - h v)) / 2h``.
* **Reverse mode**: the VJP ``u^T J`` from :func:`~autodiff_ref.vjp` can only
  be compared through a scalar: ``(u^T J) · v`` must equal ``u · (J v)``, with
  ``J v`` from a central difference (the *dot-product test*).
* **Higher orders**: the JVP map ``(x, v) -> J(x) v`` and the VJP map
  ``x -> J(x)^T u`` are functions too, built from the same rules, so checking
  *their* derivatives checks second derivatives (and so on, recursively).

Central differences are accurate to about ``eps**(2/3) ~ 1e-11`` relative,
far below the default tolerances, while a wrong rule is typically off by
order one.  :func:`~autodiff_ref.check_grad` is the simplest version: a gradient against
:func:`autodiff_ref.numerical.gradient`, coordinate by coordinate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import numerical
from .arguments import _as_input, _as_input_tree, _is_int
from .transforms import grad, jvp, vjp
from .tree import tree_flatten, tree_unflatten

__all__ = ["check_grad", "check_grads"]

_MODES = ("fwd", "rev")


def _flat(tree: Any) -> np.ndarray:
    """All the numbers of a pytree of numbers and arrays, as one float (or complex) vector."""
    leaves = tree_flatten(tree)[0]
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(leaf) + 0.0) for leaf in leaves])


def _random_like(tree: Any, rng: np.random.Generator) -> Any:
    """Standard normal numbers (complex ones for complex leaves) shaped like ``tree``."""
    leaves, treedef = tree_flatten(tree)

    def normal(leaf: Any) -> Any:
        shape = np.shape(leaf)
        x = rng.standard_normal(shape)
        if np.iscomplexobj(leaf):
            x = x + 1j * rng.standard_normal(shape)
        return x.astype(np.result_type(leaf, float)) if shape else x

    return tree_unflatten(treedef, [normal(leaf) for leaf in leaves])


def _numerical_jvp(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    tangents: tuple[Any, ...],
    eps: float | None,
) -> np.ndarray:
    """``J v`` by a central difference, flattened; ``f`` sees its arguments' structure.

    A complex number is two real ones, its real and imaginary parts, so the
    difference is taken in real arithmetic; for a holomorphic ``f`` (the only
    kind whose complex JVP and VJP are products with one complex Jacobian) the
    result is the same ``J v``.
    """
    leaves, treedef = tree_flatten(tuple(args))
    shapes = [np.shape(leaf) for leaf in leaves]
    is_complex = [np.iscomplexobj(leaf) for leaf in leaves]
    splits = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    point, direction = _flat(tuple(args)), _flat(tuple(tangents))
    n = point.size
    realify = any(is_complex)

    def f_flat(x: np.ndarray) -> np.ndarray:
        z = x[:n] + 1j * x[n:] if realify else x
        pieces = [
            (p if c else np.real(p)).reshape(s)[()]
            for p, s, c in zip(np.split(z, splits), shapes, is_complex, strict=True)
        ]
        out = _flat(f(*tree_unflatten(treedef, pieces)))
        return np.concatenate([np.real(out), np.imag(out)]) if realify else out

    if realify:
        point = np.concatenate([np.real(point), np.imag(point)])
        direction = np.concatenate([np.real(direction), np.imag(direction)])
    jv = np.atleast_1d(numerical.directional(f_flat, point, direction, h=eps))
    return jv[: jv.size // 2] + 1j * jv[jv.size // 2 :] if realify else jv


def _show(x: Any) -> str:
    x = np.asarray(x)
    return np.array2string(
        x if x.dtype.kind == "c" else x.astype(float), precision=12, separator=", "
    )


def _assert_close(
    exact: Any,
    approx: Any,
    rtol: float,
    atol: float,
    what: str,
    scale: Any = None,
    names: tuple[str, str] = ("exact (autodiff_ref)", "finite differences"),
) -> None:
    """Raise AssertionError with both values unless ``|exact - approx| <= atol + rtol scale``."""
    exact, approx = (
        np.asarray(exact) + 0.0,
        np.asarray(approx) + 0.0,
    )  # complex stays complex
    if scale is None:
        scale = np.maximum(np.abs(exact), np.abs(approx))
    error = np.abs(exact - approx)
    if exact.shape == approx.shape and np.all(error <= atol + rtol * scale):
        return  # NaN fails the test above, as it should
    worst = np.nanmax(error) if error.size and not np.all(np.isnan(error)) else np.nan
    width = max(map(len, names)) + 2
    raise AssertionError(
        f"check_grads: {what}\n"
        f"  {(names[0] + ':').ljust(width)}{_show(exact)}\n"
        f"  {(names[1] + ':').ljust(width)}{_show(approx)}\n"
        f"  max abs error {worst:.3g} exceeds atol={atol:g} + rtol={rtol:g} * |value|"
    )


def _check(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    order: int,
    modes: Sequence[str],
    level: int,
    what: str,
    eps: float | None,
    rtol: float,
    atol: float,
    rng: np.random.Generator,
) -> None:
    n = len(args)
    v = tuple(_random_like(a, rng) for a in args)
    direction = f"direction v = {_show(_flat(v))}"
    if "fwd" in modes:
        out, tangent = jvp(f, args, v)
        context = f"forward mode (JVP), order {level}, of {what}"
        _assert_close(
            _flat(out),
            _flat(f(*args)),
            rtol,
            atol,
            f"{context}: the primal output of jvp differs from f(*args)",
            names=("jvp(f, ...)[0]", "f(*args)"),
        )
        _assert_close(
            _flat(tangent),
            _numerical_jvp(f, args, v, eps),
            rtol,
            atol,
            f"{context}: J v differs, {direction}",
        )
        if order > 1:

            def f_jvp(*primals_and_tangents: Any) -> Any:
                return jvp(f, primals_and_tangents[:n], primals_and_tangents[n:])

            _check(
                f_jvp, args + v, order - 1, ("fwd",), level + 1,
                f"the JVP map (x, v) -> (f(x), J v) of {what}", eps, rtol, atol, rng,
            )  # fmt: skip
    if "rev" in modes:
        out, pullback = vjp(f, *args)
        u = _random_like(out, rng)
        # Complex numbers pair as Re(sum(u v)): the VJP is the transpose of the JVP,
        # which is linear over the reals (JAX's convention), not the conjugate one.
        exact = np.real(np.dot(_flat(v), _flat(pullback(u))))
        jv = _numerical_jvp(f, args, v, eps)
        terms = _flat(u) * jv
        # Cancellation in the sum makes the error relative to the terms' sizes.
        _assert_close(
            exact,
            np.real(np.sum(terms)),
            rtol,
            atol,
            f"reverse mode (VJP), order {level}, of {what}: (u^T J) · v differs from "
            f"u · (J v), {direction}, cotangent u = {_show(_flat(u))}",
            scale=np.sum(np.abs(terms)),
        )
        if order > 1:

            def f_vjp(*primals: Any) -> Any:
                return vjp(f, *primals)[1](u)

            _check(
                f_vjp, args, order - 1, ("rev",), level + 1,
                f"the VJP map x -> J(x)^T u of {what}", eps, rtol, atol, rng,
            )  # fmt: skip


def check_grads(
    f: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = _MODES,
    eps: float | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    rng: np.random.Generator | int | None = None,
) -> None:
    """Check ``f``'s derivatives up to ``order`` against central differences.

    Parameters
    ----------
    f : callable
        A function of ``len(args)`` numbers, arrays or pytrees of them (tuples,
        lists, dicts, namedtuples), returning the same kind of thing, written with
        autodiff_ref's operations.
    args : tuple
        The point, as ``grad`` would take it.  Complex numbers are allowed, and
        ``f`` need not be holomorphic (``abs``, ``real``, ...): a complex
        number is two real ones, so the finite differences are taken in real
        arithmetic, and the VJP is checked with the pairing ``Re(sum(u v))``.
    order : int
        The highest derivative order to check; ``order=2`` also checks the
        derivatives of the JVP and VJP maps (second derivatives).
    modes : tuple of {"fwd", "rev"}
        Which modes to check: forward (JVP against a finite difference),
        reverse (the dot-product test of the VJP).
    eps : float, optional
        The finite-difference step along each direction; by default
        :func:`autodiff_ref.numerical.directional` chooses it.
    rtol, atol : float
        The tolerance: each number may differ by ``atol + rtol * |value|``.
    rng : numpy.random.Generator or int, optional
        Where the random directions come from (default: seed 0, so a failure
        is reproducible).

    Raises
    ------
    AssertionError
        If a derivative disagrees; the message gives both values, the mode,
        the order and the random direction(s).

    Examples
    --------
    >>> import numpy as np
    >>> from autodiff_ref.numpy import sin, sum
    >>> check_grads(lambda x, y: sum(sin(x) * y), (np.array([0.5, 1.0]), 2.0))

    A rule with the wrong derivative is caught:

    >>> from autodiff_ref.core import Primitive
    >>> from autodiff_ref import rules
    >>> bad_sin = Primitive("bad_sin", np.sin, derivs=[lambda ans, x: rules.sin(x)])
    >>> check_grads(bad_sin, (0.5,))
    Traceback (most recent call last):
    ...
    AssertionError: check_grads: forward mode (JVP), order 1, of f: J v differs, ...
    """
    if not isinstance(args, tuple | list):
        raise TypeError(
            f"args must be a tuple of f's arguments, e.g. check_grads(f, (x,)); "
            f"got {type(args).__name__}"
        )
    if not _is_int(order) or order < 1:
        raise ValueError(f"order must be a positive int, got {order!r}")
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    if not modes or any(m not in _MODES for m in modes):
        raise ValueError(
            f'modes must be a non-empty tuple of "fwd" and "rev", got {modes!r}'
        )
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(0 if rng is None else rng)
    point = tuple(_as_input_tree(a, "check_grads") for a in args)
    _check(f, point, order, modes, 1, "f", eps, rtol, atol, rng)


def check_grad(
    f: Callable[[Any], Any],
    x: Any,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    method: numerical.Method = "central",
) -> None:
    """Check ``grad(f)(x)`` against :func:`autodiff_ref.numerical.gradient`.

    For a scalar function of one array: every partial derivative is compared
    with a finite difference (``method`` as in :mod:`autodiff_ref.numerical`;
    ``"complex"`` is more accurate when ``f`` accepts complex numbers).

    Examples
    --------
    >>> import numpy as np
    >>> from autodiff_ref.numpy import sum, tanh
    >>> check_grad(lambda x: sum(tanh(x) ** 2), np.array([0.1, -2.0, 3.0]))
    """
    x = _as_input(x, "check_grad")
    exact = grad(f)(x)
    approx = numerical.gradient(f, x, method=method)
    _assert_close(
        exact,
        approx,
        rtol,
        atol,
        f"grad(f)(x) differs from numerical.gradient ({method})",
    )
