"""Simplification: a program with the same values and fewer equations.

Constant folding, exact algebraic identities, exact rewrites that save work,
common-subexpression elimination and dead-code elimination.  The identities and
rewrites are tables keyed by the Primitive object (:data:`_IDENTITIES`,
:data:`_REWRITES`), so a user's rule named ``mul`` is never taken for ``mul``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import rules as R
from ..core import NO_PARAMS, Primitive, bind
from .program import Program
from .tracing import Aval, Equation, Var, stand_in

__all__ = ["simplify"]

_NO_RULE = object()


def _all_equal(value: Any, target: float) -> bool:
    """Whether a constant is ``target`` everywhere (zeros: with ``target``'s sign)."""
    if type(value) in (int, float) or (
        isinstance(value, np.ndarray | np.generic) and value.dtype.kind in "if"
    ):
        negative_zero = math.copysign(1.0, target) < 0
        return bool(np.all(value == target)) and (
            target != 0 or bool(np.all(np.signbit(value) == negative_zero))
        )
    return False


# An identity gets the (resolved) arguments, whether an argument may stand for the
# output (same shape, dtype and kind), and assume_finite; it returns what the output
# equals, or _NO_RULE.
_Identity = Callable[[tuple[Any, ...], Callable[[Any], bool], bool], Any]


def _mul_identity(
    args: tuple[Any, ...], same: Callable[[Any], bool], finite: bool
) -> Any:
    for a, b in (args, args[::-1]):
        if same(a) and _all_equal(b, 1.0):  # x * 1 = x for every x, nan and inf too
            return a
        if finite and type(a) is Var and _all_equal(b, 0.0):
            return _ZERO  # x * 0 = 0 for finite x (inf * 0 is nan)
    return _NO_RULE


def _add_identity(
    args: tuple[Any, ...], same: Callable[[Any], bool], finite: bool
) -> Any:
    for a, b in (args, args[::-1]):
        if same(a) and _all_equal(b, -0.0):  # x + (-0) = x for every x
            return a
        if finite and same(a) and _all_equal(b, 0.0):  # but -0.0 + 0.0 = +0.0
            return a
    return _NO_RULE


def _right_unit(unit: float) -> _Identity:
    """``x op unit = x`` (x / 1, and x - 0 even for x = -0.0)."""

    def identity(
        args: tuple[Any, ...], same: Callable[[Any], bool], finite: bool
    ) -> Any:
        return args[0] if same(args[0]) and _all_equal(args[1], unit) else _NO_RULE

    return identity


def _pow_identity(
    args: tuple[Any, ...], same: Callable[[Any], bool], finite: bool
) -> Any:
    exponent = args[1]
    if type(exponent) in (int, float) and exponent == 1 and same(args[0]):
        return args[0]
    return _NO_RULE


def _same_shape_identity(
    args: tuple[Any, ...], same: Callable[[Any], bool], finite: bool
) -> Any:
    return args[0] if same(args[0]) else _NO_RULE  # a reshape to its own shape


#: A zero of the output's type (x * 0 for finite x).
_ZERO = object()

_IDENTITIES: dict[Primitive, _Identity] = {
    R.mul: _mul_identity,
    R.div: _right_unit(1.0),
    R.sub: _right_unit(0.0),
    R.add: _add_identity,
    R.pow: _pow_identity,
    R.reshape: _same_shape_identity,
    R.broadcast_to: _same_shape_identity,
    R.sum_to: _same_shape_identity,
}


def _identity(eq: Equation, args: tuple[Any, ...], assume_finite: bool) -> Any:
    """What the equation's output equals without computing it, or _NO_RULE."""
    rule = _IDENTITIES.get(eq.prim)
    if rule is None:
        return _NO_RULE
    out = eq.out.aval

    def same(a: Any) -> bool:  # ``a`` may stand for the output: same shape, dtype, kind
        return type(a) is Var and a.aval == out

    found = rule(args, same, assume_finite)
    return stand_in(out, fill=0) if found is _ZERO else found


_ARITHMETIC = (R.add, R.sub, R.mul, R.div)


def _scalar_constants(eq: Equation, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """A constant array of one repeated value, as that value, where that changes nothing.

    ``x * full(shape, c)`` equals ``x * c`` element for element when ``x``
    already has the output's shape and dtype; the scalar saves reading the array
    (a gradient's seed, broadcast, is such an array).
    """
    if eq.prim not in _ARITHMETIC:
        return args
    out = eq.out.aval
    if not any(type(a) is Var and a.aval == out for a in args):
        return args
    new = list(args)
    for k, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.size > 1 and a.dtype == out.dtype:
            first = a.flat[0]
            # -0.0 and 0.0 are equal but not the same constant (1 / x tells them
            # apart): the signs must match too, of both parts of a complex number.
            parts = (a.real, a.imag) if a.dtype.kind == "c" else (a,)
            if np.all(a == first) and all(
                np.all(np.signbit(p) == np.signbit(p.flat[0])) for p in parts
            ):
                new[k] = a.dtype.type(first)
    return tuple(new)


# A rewrite gets the equation and the kept equations defining variables (by id);
# it returns the equations to keep instead, or None to keep the equation.
_Rewrite = Callable[[Equation, dict[int, Equation]], "list[Equation] | None"]


def _defined_by(
    v: Any, prim: Primitive, aval: Aval, definition: dict[int, Equation]
) -> Equation | None:
    """The kept equation ``v = prim(...)`` with ``v`` of ``aval``, or None."""
    inner = definition.get(id(v)) if type(v) is Var else None
    if inner is None or inner.prim is not prim or inner.out.aval != aval:
        return None
    return inner


def _rewrite_mul(
    eq: Equation, definition: dict[int, Equation]
) -> list[Equation] | None:
    """``c * (p * x)`` is ``(c p) * x`` for ``|c| >= 1`` and ``p`` a power of two >= 1."""
    for c, v in (eq.args, eq.args[::-1]):
        inner = _defined_by(v, R.mul, eq.out.aval, definition)
        # |c| >= 1: else p * x could overflow where (c p) * x does not.
        if inner is None or not _is_scalar_constant(c) or not abs(c) >= 1:
            continue
        for p, x in (inner.args, inner.args[::-1]):
            if _is_power_of_two(p):
                with np.errstate(all="ignore"):
                    product = c * p
                if np.isfinite(product) and type(product) is type(c * 1.0):
                    return [Equation(R.mul, (product, x), NO_PARAMS, eq.out)]
    return None


def _rewrite_neg(
    eq: Equation, definition: dict[int, Equation]
) -> list[Equation] | None:
    """``-(c * x)`` is ``(-c) * x``."""
    inner = _defined_by(eq.args[0], R.mul, eq.out.aval, definition)
    if inner is None:
        return None
    a, b = inner.args
    for c, x in ((a, b), (b, a)):
        if type(c) in (int, float) or isinstance(c, np.generic):
            return [Equation(R.mul, (-c, x), NO_PARAMS, eq.out)]
    return None


def _rewrite_add(
    eq: Equation, definition: dict[int, Equation]
) -> list[Equation] | None:
    """``scatter_add(a, i) + scatter_add(b, i)`` is ``scatter_add(a + b, i)``."""
    left, right = (
        _defined_by(a, R.scatter_add, eq.out.aval, definition) for a in eq.args
    )
    if left is None or right is None:
        return None
    a, b = left.args[0], right.args[0]
    if not (
        left.params["shape"] == right.params["shape"]
        and _same_basic_index(left.params["index"], right.params["index"])
        and type(a) is Var
        and type(b) is Var
        and a.aval == b.aval
    ):
        return None
    total = Var(a.aval)
    return [
        Equation(R.add, (a, b), NO_PARAMS, total),
        Equation(R.scatter_add, (total,), left.params, eq.out),
    ]


_REWRITES: dict[Primitive, _Rewrite] = {
    R.mul: _rewrite_mul,
    R.neg: _rewrite_neg,
    R.add: _rewrite_add,
}


def _rewrite(eq: Equation, definition: dict[int, Equation]) -> list[Equation]:
    """Exact rewrites that save work, given the kept equations defining the arguments.

    * ``-(c * x)`` is ``(-c) * x``: rounding is symmetric, so the two agree bit
      for bit, and one operation is saved (reverse mode writes ``-(2 * v)``).
    * ``c * (p * x)`` is ``(c p) * x`` when ``p`` is a power of two and both
      are at least 1 in size: ``p * x`` is exact (doubling loses no bits, even
      below the normal range) and overflows only where ``(c p) * x`` does too,
      so both round ``c p x`` once.  (The power rule writes ``2 * x``.)
    * ``scatter_add(a, i) + scatter_add(b, i)`` is ``scatter_add(a + b, i)``
      for a basic index ``i`` (no element selected twice): outside ``i`` both
      are ``0 + 0``; inside, both are ``a + b``.  One zero array fewer.
    """
    rule = _REWRITES.get(eq.prim)
    new = None if rule is None else rule(eq, definition)
    return [eq] if new is None else new


def _is_scalar_constant(c: Any) -> bool:
    return type(c) in (int, float) or (
        isinstance(c, np.generic) and c.dtype.kind in "if"
    )


def _is_power_of_two(p: Any) -> bool:
    """A constant ``p`` with ``|p| = 2**k``, ``k >= 0``: ``p * x`` is exact, barring overflow."""
    if not _is_scalar_constant(p) or not np.isfinite(p) or abs(p) < 1:
        return False
    mantissa, _ = math.frexp(abs(float(p)))
    return mantissa == 0.5


def _same_basic_index(i: Any, j: Any) -> bool:
    try:
        return bool(_freeze(i) == _freeze(j)) and R._is_basic_index(i)
    except TypeError:
        return False


def _freeze(value: Any) -> Any:
    """A hashable key for a constant or params value (arrays by identity)."""
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in sorted(value.items()))
    if isinstance(value, tuple | list):
        return (type(value), tuple(_freeze(v) for v in value))
    if isinstance(value, slice):
        return (slice, _freeze(value.start), _freeze(value.stop), _freeze(value.step))
    if type(value) is float:
        return (float, value, math.copysign(1.0, value))  # 0.0 and -0.0 differ
    if isinstance(value, np.ndarray | np.generic):
        return ("array", id(value))
    hash(value)
    return (type(value), value)


def simplify(program: Program, *, assume_finite: bool = False) -> Program:
    """A program with the same values and fewer equations.

    Four passes, in one sweep and then a backward one:

    * **constant folding**: an equation whose arguments are all constants is
      computed now (with the primitive's own implementation);
    * **exact identities**: ``x * 1``, ``x / 1``, ``x - 0``, ``x ** 1`` and
      reshapes to the same shape are ``x``, for every ``x`` including
      ``nan``, ``inf`` and ``-0.0``;
    * **common-subexpression elimination**: the same primitive on the same
      arguments with the same parameters is computed once;
    * **dead-code elimination**: equations no output depends on are dropped.

    With ``assume_finite=True`` it also uses ``x * 0 = 0`` and ``x + 0 = x``.
    They hold for finite ``x`` only (``inf * 0`` is ``nan``, ``-0.0 + 0.0`` is
    ``+0.0``), which is why they are not the default; they are what deletes
    the tangent lines of an input whose tangent is zero.

    Examples
    --------
    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> def f(x1, x2):
    ...     return anp.log(x1) + x1 * x2 - anp.sin(x2)
    >>> def tangent(x1, x2):  # the derivative in x1 only: x2's tangent is 0
    ...     return ad.jvp(f, (x1, x2), (1.0, 0.0))[1]
    >>> program = ad.make_program(tangent)(2.0, 5.0)
    >>> len(program), len(simplify(program)), len(simplify(program, assume_finite=True))
    (15, 7, 2)
    """
    if not isinstance(program, Program):
        raise TypeError(
            "simplify takes a Program, made by make_program(f)(*args) or "
            f"jit(f).program(*args); got {type(program).__name__} ({program!r:.40}) "
            "(autodiff_ref.symbolic.simplify simplifies symbolic expressions)"
        )
    replaced: dict[int, Any] = {}

    def resolve(a: Any) -> Any:
        return replaced.get(id(a), a) if type(a) is Var else a

    seen: dict[Any, tuple[Var, ...]] = {}
    kept: list[Equation] = []
    definition: dict[int, Equation] = {}

    def keep(eq: Equation) -> None:
        try:
            key: Any = (id(eq.prim), _freeze(args_key(eq.args)), _freeze(eq.params))
        except TypeError:  # an unhashable parameter: leave this one alone
            key = None
        if key is not None and key in seen:
            for var, same in zip(eq.outs, seen[key], strict=True):
                replaced[id(var)] = same
            return
        if key is not None:
            seen[key] = eq.outs
        kept.append(eq)
        for var in eq.outs:
            definition[id(var)] = eq

    for eq in program.equations:
        args = tuple(resolve(a) for a in eq.args)
        if not any(type(a) is Var for a in args):
            value = bind(eq.prim, args, eq.params)  # plain values: impl
            parts = value if eq.prim.multiple_results else (value,)
            for var, part in zip(eq.outs, parts, strict=True):
                replaced[id(var)] = part
            continue
        args = _scalar_constants(eq, args)
        same = _identity(eq, args, assume_finite)
        if same is not _NO_RULE:
            replaced[id(eq.out)] = same
            continue
        for new in _rewrite(eq._replace(args=args), definition):
            keep(new)
    outputs = [resolve(o) for o in program.outputs]
    live = {id(o) for o in outputs if type(o) is Var}
    alive: list[Equation] = []
    for eq in reversed(kept):
        if any(id(var) in live for var in eq.outs):
            alive.append(eq)
            live.update(id(a) for a in eq.args if type(a) is Var)
    return program.replace(alive[::-1], outputs)


def args_key(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Arguments as a hashable key: variables by identity, constants by value."""
    return tuple(("var", id(a)) if type(a) is Var else a for a in args)
