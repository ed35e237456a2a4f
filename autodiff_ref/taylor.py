"""Taylor mode: push a truncated Taylor series through a function (JAX's ``jet``).

A dual number ``a + b ε`` with ``ε² = 0`` carries one derivative.  Truncate
at ``ε^(n+1) = 0`` instead and a value carries ``n``: it becomes a polynomial
``x(t) = x_0 + x_1 t + ... + x_n t^n`` whose coefficients are *normalised*
derivatives, ``x_k = x^(k)(0) / k!``.  This module computes the coefficients
of ``y(t) = f(x(t))`` for a whole program ``f``, one primitive at a time.

Nothing here is a new derivative formula.  For a primitive ``y = φ(x)`` the
rules table gives the first-order rule ``y' = φ'(x) x'`` (its ``jvp``).  The
same identity holds between *series*: evaluate the jvp with series in place of
numbers and the output is the series of ``y'``; its ``(k-1)``-th coefficient is
``k y_k``.  The series ``φ'(x)`` may depend on ``y`` itself (``exp' = exp``),
but only through coefficients below ``k``, so every coefficient is computed
lazily, when it is first needed, from lower ones.  Three shortcuts follow from
the ``linearity`` the table records, and change no result:

* ``"linear"`` primitives (add, sum, indexing, ...) map each coefficient on
  its own: ``y_k = jvp(x_k)`` at the primal point;
* ``"bilinear"`` ones (mul, matmul) take the Cauchy product
  ``y_k = Σ_i f(a_i, b_{k-i})``;
* a quotient ``a / b`` is taken as ``a · (1/b)``, with ``1/b`` from the
  ``reciprocal`` rule (``-ans²``), and a power ``x ** p`` as ``exp(p log x)``
  (for a positive base; see ``_same_value`` below).  These are identities between
  values, not derivative formulas: ``div``'s rule divides its own output
  again, and ``pow``'s raises ``x`` to ``p - 1``, so through their own rules
  every order would make a new quotient or power, and the cost would grow as
  ``n³`` instead of ``n²``.

Every coefficient is computed with the primitives of :mod:`autodiff_ref.rules`,
so coefficients may themselves be traced by an outer transform: ``grad`` of a
function that calls ``jet`` works.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import rules
from .arguments import _as_input, array_writes_explained
from .core import ConcretizationError, Primitive, Trace, Tracer, bind, shape_of
from .tree import require_callable, tree_flatten, tree_unflatten

__all__ = ["jet"]


class TaylorTrace(Trace):
    """A Taylor-mode tag: every value of this trace is a lazily computed series."""

    def __init__(self) -> None:
        super().__init__()
        # Structurally equal calls share one series: sin's series needs cos's,
        # which needs sin's again; reusing the first sin closes that loop, so
        # each primitive costs O(n) per coefficient instead of a new chain.
        self._memo: dict[Any, Series] = {}
        self.series: list[
            Series
        ] = []  # in creation order, for the order-by-order sweep

    def process(
        self, prim: Primitive, args: Sequence[Any], params: dict[str, Any]
    ) -> Any:
        primals = [
            a.primal if isinstance(a, Series) and a._trace is self else a for a in args
        ]
        if all(p is a for p, a in zip(primals, args, strict=True)):
            return bind(prim, primals, params)  # no series among the arguments
        key = _memo_key(prim, args, params)
        if key is not None and key in self._memo:
            return self._memo[key]
        ans = bind(prim, primals, params)
        if prim.multiple_results:
            out: Any = _results(self, ans, prim, tuple(args), params)
        else:
            out = Series(self, ans, prim, tuple(args), params)
        if key is not None:
            self._memo[key] = out
        return out


def _memo_key(prim: Primitive, args: Sequence[Any], params: dict[str, Any]) -> Any:
    """A hashable description of a call, or None when its parameters are not hashable."""
    parts: list[tuple[Any, ...]] = []
    for a in args:
        if isinstance(a, int | float | complex | bool):
            parts.append(("value", type(a), a))
        else:  # the series keeps its arguments alive, so their ids stay valid
            parts.append(("id", id(a)))
    try:
        frozen = tuple(sorted(params.items()))
        hash(frozen)
    except TypeError:
        return None
    return (prim, tuple(parts), frozen)  # by identity: names are for printing


class Series(Tracer):
    """A value ``x_0 + x_1 t + x_2 t² + ...`` whose coefficients are computed on demand.

    ``coefficient(k)`` returns ``x_k`` (``None`` stands for zero). Coefficient 0
    is the primal value, computed when the series is made.
    """

    _trace: TaylorTrace
    __slots__ = (
        "_coefficients",
        "_derivative",
        "_same",
        "_trace",
        "args",
        "params",
        "prim",
        "primal",
    )

    def __init__(
        self,
        trace: TaylorTrace,
        primal: Any,
        prim: Primitive | None,
        args: tuple[Any, ...] = (),
        params: dict[str, Any] | None = None,
        coefficients: Sequence[Any] | None = None,
    ) -> None:
        self._trace = trace
        self.primal = primal
        self.prim = prim  # None for an input, whose coefficients are given
        self.args = args
        self.params = params or {}
        self._coefficients: list[Any] = [primal, *(coefficients or ())]
        self._derivative: Any = _UNSET  # the series of dy/dt, made on first use
        self._same: Any = _UNSET  # div and pow: the same value through other rules
        trace.series.append(self)

    def _inner(self) -> Any:
        return self.primal

    def __repr__(self) -> str:
        return f"Series(primal={self.primal!r}, known={self._coefficients[1:]!r})"

    def coefficient(self, k: int) -> Any:
        """The ``k``-th normalised Taylor coefficient, ``x^(k)(0) / k!`` (None: zero)."""
        known = self._coefficients
        while len(known) <= k:
            known.append(self._next(len(known)))
        return known[k]

    def _next(self, k: int) -> Any:
        prim = self.prim
        if prim is None:  # an input: coefficients past the given ones are zero
            return None
        if prim.linearity == "linear":
            return _linear_coefficient(self, k)
        if prim.linearity == "bilinear":
            return _cauchy_coefficient(self, k)
        if prim is rules.div or prim is rules.pow:  # see the module docstring
            if self._same is _UNSET:
                self._same = _same_value(self)
            if self._same is not None:
                return _coefficient_of(self._same, k, self._trace)
        # The general recurrence: y' = jvp(x'), so y_k = (y')_{k-1} / k.
        if self._derivative is _UNSET:
            self._derivative = _derivative_series(self)
        d = _coefficient_of(self._derivative, k - 1, self._trace)
        return None if d is None else rules.div(d, float(k))


_UNSET = object()


def _coefficient_of(x: Any, k: int, trace: TaylorTrace) -> Any:
    """Coefficient ``k`` of ``x``: a series of ``trace``, or a constant (zero past 0)."""
    if isinstance(x, Series) and x._trace is trace:
        return x.coefficient(k)
    return x if k == 0 else None


def _shifted(x: Series) -> Series:
    """The series of ``dx/dt``: coefficient ``j`` is ``(j + 1) x_{j+1}``."""
    shifted = x._trace._memo.get(("d/dt", id(x)))
    if shifted is None:
        shifted = _ShiftedSeries(x)
        x._trace._memo[("d/dt", id(x))] = shifted
    return shifted


class _ShiftedSeries(Series):
    __slots__ = ("source",)

    def __init__(self, source: Series) -> None:
        c1 = source.coefficient(1)
        super().__init__(
            source._trace, _zeros_like(source.primal) if c1 is None else c1, None
        )
        self.source = source

    def _next(self, k: int) -> Any:
        c = self.source.coefficient(k + 1)
        return None if c is None else rules.mul(c, float(k + 1))  # exact: an integer


def _same_value(y: Series) -> Any:
    """The series of ``a / b`` or ``x ** p``, written with primitives whose rules close.

    ``a / b`` is ``a * (1/b)``.  ``x ** p`` is ``exp(p log x)`` where ``x > 0``,
    and ``s**p exp(p log(s x))`` with ``s = sign(x)`` where ``x < 0`` and ``p``
    is a constant negative integer.  None where the general recurrence through
    ``pow``'s own rule is used instead: a constant exponent 0, 1, 2, ... (whose
    chain of rules ends), or a zero base.
    """
    a, b = y.args
    if y.prim is rules.div:
        return rules.mul(a, rules.reciprocal(b))
    constant = not isinstance(b, Tracer)
    integer = constant and bool(np.all(np.equal(np.mod(b, 1), 0)))
    if integer and np.all(np.greater_equal(b, 0)):
        # x**p, p = 0, 1, 2, ...: pow's own rule ends at x**0 after p steps, and
        # keeps a polynomial's high terms exactly zero.
        return None
    base = a.primal if isinstance(a, Series) else a
    try:  # the identities hold for some bases only: which, the values say
        positive = bool(np.all(np.greater(np.real(base), 0)))
        nonzero = bool(np.all(np.not_equal(base, 0)))
    except (
        ConcretizationError
    ):  # traced without values (make_program, jit): pow's own rule
        return None
    if positive:
        return rules.exp(rules.mul(b, rules.log(a)))
    if integer and nonzero:
        s = np.sign(np.real(base))
        return rules.mul(
            np.power(s, b), rules.exp(rules.mul(b, rules.log(rules.mul(s, a))))
        )
    return None


def _derivative_series(y: Series, ans: Any = None) -> Any:
    """``dy/dt`` as a series: the primitive's own jvp, evaluated on series.

    ``ans`` is the call's value as series: ``y`` itself, or the tuple of series
    of a primitive with several results (then the answer is a tuple too).
    """
    trace = y._trace
    prim = y.prim
    assert prim is not None
    tangents = [_shifted(a) if isinstance(a, Series) and a._trace is trace else None
                for a in y.args]  # fmt: skip
    return prim.jvp(tangents, y if ans is None else ans, y.args, y.params)


class _Call:
    """One call of a primitive with several results: its series and their derivatives."""

    __slots__ = ("derivatives", "results")

    def __init__(self) -> None:
        self.results: tuple[Series, ...] = ()
        self.derivatives: Any = _UNSET  # the tuple of dy/dt series, made on first use


class _ResultSeries(Series):
    """One result of a primitive with several results (eigh's eigenvalues, ...)."""

    __slots__ = ("call", "index")

    def __init__(
        self, trace: TaylorTrace, primal: Any, prim: Primitive, args: tuple[Any, ...],
        params: dict[str, Any], call: _Call, index: int,
    ) -> None:  # fmt: skip
        super().__init__(trace, primal, prim, args, params)
        self.call, self.index = call, index

    def _next(self, k: int) -> Any:
        # The general recurrence, y_k = (y')_{k-1} / k, with one JVP for all results.
        call = self.call
        if call.derivatives is _UNSET:
            call.derivatives = _derivative_series(self, call.results)
        d = None if call.derivatives is None else call.derivatives[self.index]
        d = None if d is None else _coefficient_of(d, k - 1, self._trace)
        return None if d is None else rules.div(d, float(k))


def _results(
    trace: TaylorTrace,
    ans: tuple[Any, ...],
    prim: Primitive,
    args: tuple[Any, ...],
    params: dict[str, Any],
) -> tuple[Series, ...]:
    """The series of each result of a primitive with several results."""
    call = _Call()
    call.results = tuple(
        _ResultSeries(trace, v, prim, args, params, call, k) for k, v in enumerate(ans)
    )
    return call.results


def _linear_coefficient(y: Series, k: int) -> Any:
    """``y_k`` of a locally linear primitive: its jvp applied to the ``k``-th coefficients."""
    trace = y._trace
    prim = y.prim
    assert prim is not None
    primals, coefficients = [], []
    for a in y.args:
        if isinstance(a, Series) and a._trace is trace:
            primals.append(a.primal)
            coefficients.append(a.coefficient(k))
        else:
            primals.append(a)
            coefficients.append(None)
    if all(c is None for c in coefficients):
        return None
    return prim.jvp(coefficients, y.primal, primals, y.params)


def _cauchy_coefficient(y: Series, k: int) -> Any:
    """``y_k = Σ_i f(a_i, b_{k-i})`` for a primitive linear in each of its two arguments."""
    trace = y._trace
    prim = y.prim
    assert prim is not None
    a, b = y.args
    total = None
    for i in range(k + 1):
        ai = _coefficient_of(a, i, trace)
        if ai is None:
            continue
        bk = _coefficient_of(b, k - i, trace)
        if bk is None:
            continue
        term = prim(ai, bk, **y.params)
        total = term if total is None else rules.add(total, term)
    return total


def _zeros_like(x: Any) -> Any:
    shape = shape_of(x)
    return np.zeros(shape) if shape else 0.0


def _check_series(primals: Sequence[Any], series: Sequence[Any]) -> int:
    if not isinstance(primals, tuple | list) or not isinstance(series, tuple | list):
        raise TypeError(
            "jet takes a tuple of primals and a tuple of series, one series per primal: "
            "jet(f, (x,), ((dx, ddx),))"
        )
    if len(primals) != len(series):
        raise ValueError(f"jet got {len(primals)} primals but {len(series)} series")
    for s in series:  # jet(f, (x,), (dx,)) for jet(f, (x,), ((dx,),)): say which
        if not isinstance(s, tuple | list):
            raise TypeError(
                f"each series is a tuple of terms, got {type(s).__name__} ({s!r:.40}); "
                "for one term write jet(f, (x,), ((dx,),)), with the series in a tuple"
            )
    orders = {len(s) for s in series}
    if len(orders) != 1:
        raise ValueError(
            f"every series must have the same number of terms, got lengths {sorted(orders)}"
        )
    for p, s in zip(primals, series, strict=True):
        for term in s:
            if shape_of(term) != shape_of(p):
                raise ValueError(
                    f"a series term has shape {shape_of(term)} but its primal has shape "
                    f"{shape_of(p)}; every term must have its primal's shape"
                )
    return orders.pop()


def _scaled_factorials(n: int) -> list[float]:
    """``k! / s**k`` for ``k = 0 .. n``, each rounded once, where ``s = 2**m ~ n / e``.

    The coefficients inside are those of ``x(s u)`` rather than ``x(t)``: ``x_k =
    x^(k)(0) s**k / k!``.  Without the scale, ``k!`` overflows a float above
    ``k = 170`` and ``sin``'s ``x^(200) / 200!`` (about 1e-375) underflows to 0,
    though the derivative itself is finite.  ``s**k / k!`` stays between about
    ``1 / n`` and ``e**s``, and a power of two rescales every coefficient and
    every product of them exactly, so orders below 6 (``s = 1``) and all others
    within float range give the same bits as unscaled coefficients.
    """
    m = max(0, int(math.log2(max(n, 1) / math.e)))
    # Python divides integers with one correct rounding, and never overflows them.
    return [math.factorial(k) / 2 ** (m * k) for k in range(n + 1)]


def taylor_leaves(
    f: Callable[..., Any], primals: Sequence[Any], series: Sequence[Sequence[Any]]
) -> tuple[Any, list[Any], list[list[Any]]]:
    """:func:`jet`'s work: the output's structure, its primal leaves and each leaf's terms."""
    n = _check_series(primals, series)

    trace = TaylorTrace()
    inputs = []
    divisors = _scaled_factorials(n)
    for p, terms in zip(primals, series, strict=True):
        p = _as_input(p, "jet")
        # derivatives in, normalised coefficients inside: x_k = x^(k)(0) / k! (scaled)
        coefficients = [rules.div(_as_input(t, "jet"), divisors[k])
                        for k, t in enumerate(terms, start=1)]  # fmt: skip
        inputs.append(Series(trace, p, None, coefficients=coefficients))
    # A coefficient is computed from lower ones on demand, so the recursion is as
    # deep as the order times the chain of rules a primitive needs.
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 20_000))
    try:
        with array_writes_explained():
            out = f(*inputs)
        leaves, treedef = tree_flatten(out)
        # Order by order over the series f made, in the order it made them: each
        # coefficient then finds the lower ones it needs already computed, which
        # keeps the recursion shallow. Series made while computing coefficients
        # (the chain of derivatives a rule may need) are computed only as far as
        # they are needed.
        made_by_f = list(trace.series)
        for k in range(1, n + 1):
            for s in made_by_f:
                s.coefficient(k)
        primal_leaves, term_leaves = [], []
        for leaf in leaves:
            if isinstance(leaf, Series) and leaf._trace is trace:
                primal_leaves.append(leaf.primal)
                terms = []
                for k in range(1, n + 1):
                    c = leaf.coefficient(k)
                    terms.append(
                        _zeros_like(leaf.primal) if c is None
                        else rules.mul(c, divisors[k])
                    )  # fmt: skip
                term_leaves.append(terms)
            else:
                primal_leaves.append(leaf)
                term_leaves.append([_zeros_like(leaf) for _ in range(n)])
    finally:
        sys.setrecursionlimit(old_limit)
        trace.active = False
        trace.series.clear()
        trace._memo.clear()
    return treedef, primal_leaves, term_leaves


def jet(
    f: Callable[..., Any], primals: Sequence[Any], series: Sequence[Sequence[Any]]
) -> tuple[Any, list[Any]]:
    """Push truncated Taylor series through ``f``: JAX's ``jax.experimental.jet.jet``.

    Parameters
    ----------
    f : callable
        A function of ``len(primals)`` numbers or arrays, returning one.
    primals : tuple
        The point ``x(0)``.
    series : tuple
        For each primal, a tuple of the terms ``(x'(0), x''(0), ..., x^(n)(0))`` of a curve
        through it (derivatives, as in JAX, not divided by ``k!``).

    Returns
    -------
    primal_out : number or array
        ``f(*primals)``.
    series_out : list
        ``[y'(0), ..., y^(n)(0)]`` for ``y(t) = f(x(t))`` (for a tuple of outputs,
        a tuple of such lists).

    Examples
    --------
    With the curve ``x(t) = x + t`` (terms ``1, 0, 0, ...``) the output terms are
    the derivatives of ``f`` at ``x``:

    >>> from autodiff_ref import jet
    >>> from autodiff_ref.numpy import sin, exp
    >>> jet(lambda x: x**3, (2.0,), ((1.0, 0.0, 0.0, 0.0),))
    (8.0, [12.0, 12.0, 6.0, 0.0])

    JAX's own example: the second term is ``f''(x) h1² + f'(x) h2``.

    >>> jet(lambda x: x**3, (2.0,), ((3.0, 5.0),))
    (8.0, [36.0, 168.0])
    """
    require_callable(f, "jet")
    treedef, primal_leaves, term_leaves = taylor_leaves(f, primals, series)
    # As JAX: the output's structure, each leaf a list of its n terms.
    return tree_unflatten(treedef, primal_leaves), tree_unflatten(treedef, term_leaves)
