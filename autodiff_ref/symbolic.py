r"""Symbolic differentiation: expressions built by the primitives, differentiated by the rules.

An :class:`Expr` is a :class:`~autodiff_ref.core.Tracer` of the *symbolic
trace* (level 0, below every other trace).  Applying a primitive to an
expression -- ``x * y``, ``autodiff_ref.numpy.sin(x)``, ``np.exp(x)`` -- binds it to
that trace, which builds a call node instead of computing a number.

:func:`diff` walks an expression and, at each call ``prim(a1, ..., an)``,
adds up ``d_i * diff(a_i)`` where ``d_i`` is the local derivative from the
rules table (:mod:`autodiff_ref.rules`).  Those derivatives are themselves
written with primitives, so on expressions they build expressions: no
derivative formula appears in this module.  The chain rule is the same one
forward mode applies to dual numbers -- symbolic differentiation *is* forward
mode run on expressions instead of numbers (and indeed
``autodiff_ref.derivative(f, x)`` with a :class:`Symbol` ``x`` builds the
very same expression).

Nodes are *hash-consed*: building an expression equal to an existing one
returns the existing node, so an expression is a DAG and structural equality
is identity.  :func:`dag_size` counts distinct nodes; :func:`tree_size`
counts the nodes of the expression written out as a tree, where a shared
subexpression is counted every time it appears -- the gap between the two is
the *expression swell* of symbolic differentiation.

Construction applies only trivial identities (``x + 0``, ``x * 1``,
``x * 0``, ``--x``, folding of arithmetic on constants, ...), so derivatives
show the swell honestly; :func:`simplify` goes a little further.  All
traversals are loops over an explicit stack, so expressions thousands of
levels deep are fine.

Examples
--------
>>> from autodiff_ref.numpy import sin, cos
>>> from autodiff_ref.symbolic import diff, symbols, to_latex
>>> x, y = symbols("x y")
>>> f = sin(x) * y + x**3
>>> diff(f, x)
y*cos(x) + 3*x**2
>>> diff(f, x).evaluate(x=0.0, y=2.0)
2.0
>>> to_latex(diff(cos(x), x))
'-\\sin\\left(x\\right)'
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard, TypeVar

import numpy as np

from . import display
from . import rules as R
from .arguments import _is_int
from .core import Primitive, Trace, Tracer, bind

__all__ = [
    "PRINT_LIMIT",
    "Call",
    "Const",
    "Expr",
    "Symbol",
    "SymbolicTrace",
    "dag_size",
    "depth",
    "diff",
    "evaluate",
    "free_symbols",
    "lambdify",
    "simplify",
    "subexpressions",
    "symbols",
    "to_latex",
    "tree_size",
]


class SymbolicTrace(Trace):
    """The trace of symbolic expressions: applying a primitive builds a call node.

    There is one instance, at level 0, below user dual numbers (level 1) and
    every transform (levels 2 and up): a :class:`~autodiff_ref.Dual` whose
    primal is an expression runs forward mode over symbols.
    """

    def __init__(self) -> None:
        super().__init__(level=0)

    def process(self, prim: Primitive, args: Any, params: dict[str, Any]) -> Expr:
        if prim.derivs is None or params:
            supported = ", ".join(n for n, p in R.RULES.items() if p.derivs is not None)
            raise TypeError(
                f"{prim.name} is not supported on symbolic expressions: they are scalar "
                f"(one number each); supported are the elementwise primitives {supported}. "
                "For a vector, use a list of expressions"
            )
        return _call(prim, tuple(_as_expr(a) for a in args))


#: The one symbolic trace.
SYMBOLIC = SymbolicTrace()

# Hash-consing: key -> the one live node with that structure.  Weak values let
# expressions that nobody holds be freed.
_TABLE: weakref.WeakValueDictionary[tuple[Any, ...], Expr] = (
    weakref.WeakValueDictionary()
)


class Expr(Tracer):
    """A symbolic scalar expression: a :class:`Symbol`, a :class:`Const` or a :class:`Call`.

    Every expression has ``prim`` (the primitive of a call, None for a leaf)
    and ``args`` (a call's argument expressions, ``()`` for a leaf).
    Expressions are immutable and hash-consed, so ``==`` is structural
    equality (and as fast as ``is``).  They have no numeric value:
    :meth:`evaluate` them, or turn them into a function with :func:`lambdify`.
    """

    __slots__ = ("__weakref__", "_hash", "args", "prim")
    _trace = SYMBOLIC
    prim: Primitive | None
    args: tuple[Expr, ...]
    _hash: int

    def _inner(self) -> Any:
        raise TypeError(
            "a symbolic expression has no numeric value; use evaluate/lambdify, "
            "e.g. expr.evaluate(x=1.0) or lambdify(expr, x)(1.0)"
        )

    def _shape(self) -> tuple[int, ...]:
        return ()

    # -- structural equality (Tracer compares primal values, which we lack) --
    def __eq__(self, other: object) -> bool:
        return self is other  # hash-consed: equal structure means the same node

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __hash__(self) -> int:  # type: ignore[override]  # Tracer has none
        return self._hash

    def _refuse_order(self, other: Any) -> bool:
        raise TypeError(
            "symbolic expressions cannot be ordered (<, <=, >, >=): they have no value; "
            "evaluate them first, e.g. expr.evaluate(x=1.0) < 0"
        )

    __lt__ = __le__ = __gt__ = __ge__ = _refuse_order

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a symbolic expression is undefined; evaluate it first, "
            "e.g. bool(expr.evaluate(x=1.0)), or compare expressions with =="
        )

    def __float__(self) -> float:
        raise TypeError(
            "a symbolic expression has no numeric value; evaluate it first, "
            "e.g. float(expr.evaluate(x=1.0))"
        )

    __int__ = __complex__ = __float__

    # -- printing --------------------------------------------------------------
    def __str__(self) -> str:
        return _to_str(self)

    __repr__ = __str__

    def _repr_latex_(self) -> str:  # Jupyter and myst-nb display
        return f"${to_latex(self)}$"

    # -- conveniences --------------------------------------------------------------
    def evaluate(
        self, values: Mapping[Any, Any] | None = None, /, **kwargs: Any
    ) -> Any:
        """The value at a point: see :func:`evaluate`."""
        return evaluate(self, values, **kwargs)

    def diff(
        self, var: Symbol | str, order: int = 1, *, simplify: bool = False
    ) -> Expr:
        """The derivative with respect to ``var``: see :func:`diff`."""
        return diff(self, var, order, simplify=simplify)


def _is_identifier(name: object) -> bool:
    """A str that is a Python identifier (``object``: the annotation is not checked)."""
    return isinstance(name, str) and name.isidentifier()


class Symbol(Expr):
    """A named variable, e.g. ``Symbol("x")``; symbols with the same name are the same.

    >>> Symbol("x") is Symbol("x")
    True
    """

    __slots__ = ("name",)
    name: str

    def __new__(cls, name: str) -> Symbol:
        if not _is_identifier(name):
            raise ValueError(
                f"a symbol's name must be a Python identifier (so it can be passed as "
                f"evaluate(expr, {name}=...)), got {name!r}"
            )
        key = ("symbol", name)
        node = _TABLE.get(key)
        if node is None:
            node = object.__new__(cls)
            node.prim, node.args, node.name = None, (), name
            node._hash = hash(key)
            _TABLE[key] = node
        assert isinstance(node, Symbol)
        return node


class Const(Expr):
    """A number in an expression: a Python or NumPy scalar (bool, int, float, complex).

    >>> Const(2.5) * Symbol("x")
    2.5*x
    """

    __slots__ = ("value",)
    value: bool | int | float | complex

    def __new__(cls, value: Any) -> Const:
        if isinstance(value, np.generic) or (
            isinstance(value, np.ndarray) and value.ndim == 0
        ):
            value = value.item()
        if not isinstance(value, bool | int | float | complex):
            if isinstance(value, np.ndarray):
                raise TypeError(
                    f"symbolic expressions are scalar, but got an array of shape "
                    f"{value.shape}; build one expression per element (a list of them)"
                )
            raise TypeError(
                f"a symbolic constant must be a number, got {type(value).__name__}; "
                "convert it with float(...)"
            )
        # Keep the type (1 and 1.0 are different nodes) and tell -0.0 from 0.0.
        key = ("const", type(value), repr(value))
        node = _TABLE.get(key)
        if node is None:
            node = object.__new__(cls)
            node.prim, node.args, node.value = None, (), value
            node._hash = hash(key)
            _TABLE[key] = node
        assert isinstance(node, Const)
        return node


class Call(Expr):
    """A primitive applied to argument expressions; made by applying primitives to expressions.

    >>> from autodiff_ref.numpy import sin
    >>> e = sin(Symbol("x"))
    >>> isinstance(e, Call), e.prim.name, e.args
    (True, 'sin', (x,))
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Call:
        raise TypeError(
            "calls are made by applying primitives to expressions, e.g. sin(x) * y"
        )


def _intern_call(prim: Primitive, args: tuple[Expr, ...]) -> Expr:
    key = (prim, *args)
    node = _TABLE.get(key)
    if node is None:
        node = object.__new__(Call)
        node.prim, node.args = prim, args
        # Equality is by identity, and so is the primitive's part of the hash.
        node._hash = hash((prim, *(a._hash for a in args)))
        _TABLE[key] = node
    return node


def _as_expr(value: Any) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, Tracer):  # bind never sends a higher-level tracer here
        raise TypeError(f"cannot use a {type(value).__name__} as a symbolic constant")
    return Const(value)


ZERO = Const(0.0)
ONE = Const(1.0)

# -- construction: trivial identities only -------------------------------------
# Arithmetic on constants is folded; calls like sin(2.0) are kept, to print as
# written and to be evaluated at full precision (or with complex numbers) later.
_FOLDABLE = frozenset(
    [R.add, R.sub, R.neg, R.mul, R.div, R.pow, R.reciprocal, R.abs, R.sign, R.heaviside,
     R.maximum, R.minimum, R.where]
)  # fmt: skip


def _is_number(e: Expr, value: float) -> TypeGuard[Const]:
    return isinstance(e, Const) and not isinstance(e.value, bool) and e.value == value


def _is_negative(e: Expr) -> TypeGuard[Const]:
    return isinstance(e, Const) and isinstance(e.value, int | float) and e.value < 0


def _fold(prim: Primitive, args: tuple[Expr, ...]) -> Expr | None:
    values = [a.value for a in args if isinstance(a, Const)]
    try:
        with np.errstate(all="ignore"):
            return Const(prim.impl(*values))
    except (ArithmeticError, TypeError, ValueError):
        return None


def _call(prim: Primitive, args: tuple[Expr, ...]) -> Expr:
    """``prim(*args)`` as a node, after constant folding and trivial identities."""
    if prim in _FOLDABLE and all(isinstance(a, Const) for a in args):
        folded = _fold(prim, args)
        if folded is not None:
            return folded
    if prim is R.neg:
        if args[0].prim is R.neg:  # --a = a
            return args[0].args[0]
    elif prim is R.add:
        a, b = args
        if _is_number(a, 0):
            return b
        if _is_number(b, 0):
            return a
        if b.prim is R.neg:  # a + (-b) = a - b
            return _call(R.sub, (a, b.args[0]))
        if a.prim is R.neg:  # (-a) + b = b - a
            return _call(R.sub, (b, a.args[0]))
        if _is_negative(b):  # a + (-2) = a - 2
            return _call(R.sub, (a, Const(-b.value)))
    elif prim is R.sub:
        a, b = args
        if _is_number(b, 0):
            return a
        if _is_number(a, 0):
            return _call(R.neg, (b,))
        if b.prim is R.neg:  # a - (-b) = a + b
            return _call(R.add, (a, b.args[0]))
        if _is_negative(b):
            return _call(R.add, (a, Const(-b.value)))
    elif prim is R.mul:
        a, b = args
        if _is_number(a, 0):
            return a
        if _is_number(b, 0):
            return b
        if _is_number(a, 1):
            return b
        if _is_number(b, 1):
            return a
        if _is_number(a, -1):
            return _call(R.neg, (b,))
        if _is_number(b, -1):
            return _call(R.neg, (a,))
    elif prim is R.div:
        a, b = args
        if _is_number(b, 1):
            return a
        if _is_number(a, 0):
            return a
        if _is_number(b, -1):
            return _call(R.neg, (a,))
    elif prim is R.pow:
        a, b = args
        if _is_number(b, 1) or _is_number(a, 1):
            return a
        if _is_number(b, 0):
            return Const(type(b.value)(1))
    return _intern_call(prim, args)


# -- traversals ------------------------------------------------------------------
def subexpressions(expr: Expr) -> list[Expr]:
    """The distinct nodes of ``expr``, each after its arguments, ending with ``expr``.

    >>> from autodiff_ref.numpy import sin
    >>> x = Symbol("x")
    >>> subexpressions(sin(x) * x)
    [x, sin(x), sin(x)*x]
    """
    expr = _as_expr(expr)
    order: list[Expr] = []
    seen: set[int] = set()
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((a, False) for a in reversed(node.args) if id(a) not in seen)
    return order


#: What a fold over an expression makes of each node (an Expr, a size, a depth).
_Folded = TypeVar("_Folded")


def _render(expr: Expr, node_fn: Callable[[Expr, list[_Folded]], _Folded]) -> _Folded:
    """Fold ``node_fn(node, [results of its args])`` over the DAG, once per node."""
    results: dict[Expr, _Folded] = {}
    for node in subexpressions(expr):
        results[node] = node_fn(node, [results[a] for a in node.args])
    return results[_as_expr(expr)]


def tree_size(expr: Expr) -> int:
    """The number of nodes of ``expr`` written out as a tree (shared parts count each time).

    >>> from autodiff_ref.numpy import sin
    >>> x = Symbol("x")
    >>> e = sin(x) * x
    >>> tree_size(e), tree_size(e * e)
    (4, 9)
    """
    return int(_render(expr, lambda node, sizes: 1 + sum(sizes)))


def dag_size(expr: Expr) -> int:
    """The number of distinct nodes of ``expr`` (its size as a hash-consed DAG).

    >>> from autodiff_ref.numpy import sin
    >>> x = Symbol("x")
    >>> e = sin(x) * x
    >>> dag_size(e), dag_size(e * e)
    (3, 4)
    """
    return len(subexpressions(expr))


def depth(expr: Expr) -> int:
    """The number of calls on the longest path from ``expr`` down to a leaf (a leaf has 0).

    >>> from autodiff_ref.numpy import sin
    >>> x = Symbol("x")
    >>> depth(x), depth(sin(sin(x)) * x)
    (0, 3)
    """
    return int(_render(expr, lambda node, depths: 1 + max(depths) if depths else 0))


def free_symbols(expr: Expr) -> tuple[Symbol, ...]:
    """The symbols ``expr`` contains, sorted by name.

    >>> x, y = symbols("x y")
    >>> free_symbols(y * x + y)
    (x, y)
    """
    found = [n for n in subexpressions(expr) if isinstance(n, Symbol)]
    return tuple(sorted(found, key=lambda s: s.name))


def symbols(names: str) -> tuple[Symbol, ...]:
    """Symbols from names separated by spaces or commas.

    >>> x, y = symbols("x y")
    >>> (t,) = symbols("t")
    >>> x, y, t
    (x, y, t)
    """
    found = tuple(Symbol(n) for n in names.replace(",", " ").split())
    if not found:
        raise ValueError(f'no symbol names in {names!r}; write e.g. symbols("x y")')
    return found


# -- differentiation ---------------------------------------------------------------
def _diff_once(expr: Expr, var: Symbol) -> Expr:
    derivs: dict[Expr, Expr] = {}  # memo: each shared node is differentiated once
    for node in subexpressions(expr):
        if node.prim is None:
            derivs[node] = ONE if node is var else ZERO
            continue
        assert node.prim.derivs is not None
        out: Expr | None = None
        for arg, d in zip(node.args, node.prim.derivs, strict=True):
            darg = derivs[arg]
            if d is None or _is_number(darg, 0):
                continue
            if d == 1:
                term = darg
            elif d == -1:
                term = R.neg(darg)
            else:  # the local derivative, built from the rules table on expressions
                assert callable(d)
                term = R.mul(_as_expr(d(node, *node.args)), darg)
            out = term if out is None else R.add(out, term)
        derivs[node] = ZERO if out is None else out
    return derivs[expr]


def diff(
    expr: Expr, var: Symbol | str, order: int = 1, *, simplify: bool = False
) -> Expr:
    """The ``order``-th derivative of ``expr`` with respect to the symbol ``var``.

    The chain rule over the expression's DAG, with each local derivative taken
    from :mod:`autodiff_ref.rules`.  The result is simplified only by the
    trivial identities applied to every new node, unless ``simplify=True``
    (which applies :func:`simplify` after each order).

    Examples
    --------
    >>> from autodiff_ref.numpy import exp, tanh
    >>> x, y = symbols("x y")
    >>> diff(x**4, x, order=2)
    4*(3*x**2)
    >>> diff(x**4, x, order=2, simplify=True)
    12*x**2
    >>> diff(exp(x * y), y)
    exp(x*y)*x
    >>> diff(tanh(x), x)
    1.0 - tanh(x)*tanh(x)
    >>> diff(x * x, x), diff(x * x, x, simplify=True)
    (x + x, 2*x)
    """
    if not _is_int(order) or order < 0:
        raise ValueError(f"order must be a non-negative int, got {order!r}")
    if isinstance(var, str):
        var = Symbol(var)
    if not isinstance(var, Symbol):
        raise TypeError(
            f"can only differentiate with respect to a Symbol, got {type(var).__name__} "
            f"{var!r}; make one with Symbol('x') or symbols('x y')"
        )
    result = _as_expr(expr)
    for _ in range(order):
        result = _diff_once(result, var)
        if simplify:
            result = _simplify(result)
    return result


# -- simplification --------------------------------------------------------------
def _lead(e: Expr) -> tuple[Const, Expr] | None:
    """Split a product whose leftmost factor is a constant: ``2*x*y -> (2, x*y)``."""
    spine = []
    node = e
    while node.prim is R.mul:
        spine.append(node.args[1])
        node = node.args[0]
    if not spine or not isinstance(node, Const):
        return None
    rest = spine.pop()
    while spine:
        rest = _simp(R.mul, (rest, spine.pop()))
    return node, rest


def _attach(c: Const, product: Expr) -> Expr:
    """``c * product`` with ``c`` moved to the leftmost factor (a loop: products can be long)."""
    spine = []
    node = product
    while node.prim is R.mul:
        spine.append(node.args[1])
        node = node.args[0]
    out = _simp(R.mul, (c, node))
    while spine:
        out = _simp(R.mul, (out, spine.pop()))
    return out


def _simp(prim: Primitive, args: tuple[Expr, ...]) -> Expr:
    """A node built from simplified args, rewritten until no rule applies.

    Products keep their one constant factor leftmost (``-6*x*sin(x)``) and
    signs outside; each rule makes the expression smaller or moves a
    constant or a sign outwards, so rewriting stops.
    """
    e = _call(prim, args)
    if e.prim is None:
        return e
    p, (a, *rest) = e.prim, e.args
    b = rest[0] if rest else a
    if p is R.sub and a is b:
        return ZERO
    if p is R.div and a is b:
        return ONE
    if p is R.add and a is b:
        return _simp(R.mul, (Const(2), a))
    if p is R.mul:
        if a is b:
            return _simp(R.pow, (a, Const(2)))
        if isinstance(b, Const):  # constants first: x*2 = 2*x
            return _simp(R.mul, (b, a))
        if (
            isinstance(a, Const) and b.prim is R.mul
        ):  # down the left spine: 2*(x*y) = 2*x*y
            return _attach(a, b)
        lead = _lead(b)
        if lead is not None:  # out of the right factor: x*(2*y) = 2*(x*y)
            return _simp(R.mul, (lead[0], _simp(R.mul, (a, lead[1]))))
    if p in (R.mul, R.div) and (a.prim is R.neg or b.prim is R.neg):  # signs outside
        unsigned = tuple(x.args[0] if x.prim is R.neg else x for x in (a, b))
        inner = _simp(p, unsigned)
        return (
            inner if (a.prim is R.neg) == (b.prim is R.neg) else _simp(R.neg, (inner,))
        )
    if p is R.neg:
        lead = _lead(a)
        if lead is not None:  # -(2*x) = -2*x
            return _simp(R.mul, (_call(R.neg, (lead[0],)), lead[1]))
        if a.prim is R.sub:  # -(a - b) = b - a
            return _simp(R.sub, (a.args[1], a.args[0]))
    return e


def simplify(expr: Expr) -> Expr:
    """``expr`` with a few more identities than construction applies; idempotent.

    Besides constant folding and the ``0``/``1`` identities, it rewrites
    ``a - a`` to 0, ``a / a`` to 1, ``a + a`` to ``2*a``, ``a * a`` to
    ``a**2``, gathers constant factors in front and pulls signs out of
    products and quotients.  It does not expand, factor or collect terms:
    it is a light clean-up, not a computer algebra system.

    >>> from autodiff_ref.numpy import sin
    >>> x = Symbol("x")
    >>> simplify(x * 2 * (-sin(x)) * 3 + (x - x))
    -6*x*sin(x)
    """
    return _simplify(expr)


def _simplify(expr: Expr) -> Expr:  # diff's flag shadows the name simplify
    return _render(
        expr,
        lambda node, args: node if node.prim is None else _simp(node.prim, tuple(args)),
    )


# -- evaluation --------------------------------------------------------------------
def _environment(
    values: Mapping[Any, Any] | None, kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    env = {
        (k.name if isinstance(k, Symbol) else k): v for k, v in (values or {}).items()
    }
    env.update(kwargs)
    return env


def evaluate(
    expr: Expr, values: Mapping[Any, Any] | None = None, /, **kwargs: Any
) -> Any:
    """The value of ``expr`` with each symbol replaced by a value.

    Values are passed by name (``x=1.0``) or as a mapping from symbols or
    names.  Each call's primitive is bound to the values, so they may be
    floats, NumPy arrays, complex numbers, dual numbers, reverse-mode nodes --
    or expressions, which substitutes them.

    >>> from autodiff_ref.numpy import sin
    >>> x, y = symbols("x y")
    >>> evaluate(x * y + 1, x=2.0, y=3.0)
    7.0
    >>> evaluate(sin(x), {x: 1j}).imag  # sinh(1)
    1.1752011936438014
    >>> evaluate(x * y, x=x, y=x + 1)  # substitution
    x*(x + 1)
    """
    env = _environment(values, kwargs)
    results: dict[Expr, Any] = {}
    for node in subexpressions(expr):
        if isinstance(node, Symbol):
            if node.name not in env:
                raise TypeError(
                    f"no value for symbol {node.name!r}; pass one, e.g. "
                    f"evaluate(expr, {node.name}=1.0)"
                )
            results[node] = env[node.name]
        elif isinstance(node, Const):
            results[node] = node.value
        else:
            assert node.prim is not None
            results[node] = bind(node.prim, [results[a] for a in node.args], {})
    return results[_as_expr(expr)]


def lambdify(expr: Expr, *params: Symbol | str) -> Callable[..., Any]:
    """A Python function of ``params`` (symbols or names) computing ``expr``.

    The function binds each primitive on its arguments, so the transforms can
    differentiate it: ``grad(lambdify(e, x, y), argnums=(0, 1))``.

    >>> from autodiff_ref import grad
    >>> from autodiff_ref.numpy import sin
    >>> x, y = symbols("x y")
    >>> f = lambdify(sin(x) * y, x, y)
    >>> f(0.0, 2.0), grad(f, argnums=(0, 1))(0.0, 2.0)
    (0.0, (2.0, 0.0))
    """
    expr = _as_expr(expr)
    names = [p.name if isinstance(p, Symbol) else Symbol(p).name for p in params]
    if len(set(names)) != len(names):
        raise ValueError(f"lambdify got a symbol twice: {names}")
    missing = [s.name for s in free_symbols(expr) if s.name not in names]
    if missing:
        raise ValueError(
            f"the expression depends on {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not among the parameters {names}; "
            f"pass them too, e.g. lambdify(expr, {', '.join(names + missing)})"
        )
    # Compile the DAG into a straight-line program: one step per distinct node.
    order = subexpressions(expr)
    slot = {node: i for i, node in enumerate(order)}
    program: list[tuple[int, Any, tuple[int, ...]]] = []
    for node in order:
        if isinstance(node, Symbol):
            program.append((0, names.index(node.name), ()))
        elif isinstance(node, Const):
            program.append((1, node.value, ()))
        else:
            program.append((2, node.prim, tuple(slot[a] for a in node.args)))

    def function(*args: Any) -> Any:
        if len(args) != len(names):
            raise TypeError(
                f"this function takes {len(names)} arguments ({names}), got {len(args)}"
            )
        values: list[Any] = []
        for kind, what, arg_slots in program:
            if kind == 0:
                values.append(args[what])
            elif kind == 1:
                values.append(what)
            else:
                values.append(bind(what, [values[i] for i in arg_slots], {}))
        return values[-1]

    function.__name__ = function.__qualname__ = "lambdified"
    function.__doc__ = f"({', '.join(names)}) -> {expr}"
    function.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names]
    )
    return function


# -- printing ----------------------------------------------------------------------
# Printing walks the tree (not the DAG: a shared part is written each time), one
# token at a time from an explicit stack, so time and memory are linear in the
# output.  A child is parenthesised when it binds more loosely than its place needs.
_ADD, _MUL, _FRAC, _NEG, _POW, _ATOM = 10, 20, 25, 30, 40, 50
_PREC = {R.add: _ADD, R.sub: _ADD, R.mul: _MUL, R.div: _MUL, R.neg: _NEG, R.pow: _POW}

#: Expressions with more tree nodes than this print as a summary (``str``) or
#: are refused (``to_latex``): written out they would be gigantic.
PRINT_LIMIT = 100_000

Part = str | Expr


def _emit(expr: Expr, parts: Callable[[Expr], list[Part]]) -> str:
    out: list[str] = []
    stack: list[Part] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        else:
            stack.extend(reversed(parts(item)))
    return "".join(out)


def _number_str(v: Any) -> str:
    return repr(v)  # 1.0 stays 1.0: the constant 1 is a different node


def _number_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))  # in LaTeX, 1.0 reads better as 1
    return repr(v)


def _str_prec(node: Expr) -> int:
    if isinstance(node, Const):
        return _NEG if _number_str(node.value).startswith("-") else _ATOM
    return _ATOM if node.prim is None else _PREC.get(node.prim, _ATOM)


def _str_parts(node: Expr) -> list[Part]:
    """Python syntax: reading the string back builds the same tree."""
    if isinstance(node, Symbol):
        return [node.name]
    if isinstance(node, Const):
        return [_number_str(node.value)]

    def wrap(arg: Expr, needed: int, paren_negative: bool = True) -> list[Part]:
        prec = _str_prec(arg)
        return (
            ["(", arg, ")"]
            if prec < needed or (paren_negative and prec == _NEG)
            else [arg]
        )

    assert node.prim is not None
    prim, args = node.prim, node.args
    if prim in (R.add, R.sub, R.mul, R.div):
        prec = _PREC[prim]  # left-associative: the right operand must bind tighter
        op = str(display.notation(prim).python)
        op = f" {op} " if prec == _ADD else op  # x + y, but x*y
        return [*wrap(args[0], prec, False), op, *wrap(args[1], prec + 1)]
    if prim is R.neg:
        return ["-", *wrap(args[0], _POW, False)]
    if prim is R.pow:  # right-associative: the base must bind tighter
        return [*wrap(args[0], _POW + 1), "**", *wrap(args[1], _POW)]
    parts: list[Part] = [f"{prim.name}("]  # Python syntax: the function's own name
    for i, a in enumerate(args):
        parts += [", ", a] if i else [a]
    return [*parts, ")"]


def _to_str(expr: Expr) -> str:
    size = tree_size(expr)
    if size > PRINT_LIMIT:
        return (
            f"<expression of {size} nodes as a tree ({dag_size(expr)} distinct): "
            f"too large to print (PRINT_LIMIT = {PRINT_LIMIT})>"
        )
    return _emit(expr, _str_parts)


_GREEK = set(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma "
    "tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega".split()
)


def _symbol_latex(name: str) -> str:
    base, _, sub = name.partition("_")
    if base in _GREEK:
        base = "\\" + base
    elif len(base) != 1:
        return (
            rf"\mathrm{{{name}}}"
            if not sub or not base
            else rf"\mathrm{{{base}}}_{{{sub}}}"
        )
    return f"{base}_{{{sub}}}" if sub else base


def _number_latex(v: Any) -> str:
    if isinstance(v, bool):
        return rf"\mathrm{{{v}}}"
    if isinstance(v, complex):
        return rf"\left({_number_latex(v.real)} + {_number_latex(v.imag)} i\right)"
    if isinstance(v, float) and not math.isfinite(v):
        return r"\mathrm{NaN}" if math.isnan(v) else ("-" if v < 0 else "") + r"\infty"
    s = _number_text(v)
    if "e" in s:  # 1e-20 -> 1 \cdot 10^{-20}
        mantissa, exponent = s.split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    return s


def _latex_prec(node: Expr) -> int:
    if isinstance(node, Const):
        return _NEG if _number_latex(node.value).startswith("-") else _ATOM
    if node.prim is None:
        return _ATOM
    prim = node.prim
    if prim is R.mul and node.args[0] is node.args[1]:  # printed as a power
        return _POW
    if prim is R.div or prim is R.reciprocal:
        return _FRAC
    return _POW if prim is R.exp or prim is R.sqrt else _PREC.get(prim, _ATOM)


Wrap = Callable[..., list[Part]]

#: Primitives LaTeX writes in a layout of their own (not as ``name(args)``).
_LATEX_LAYOUTS: dict[Primitive, Callable[[tuple[Expr, ...], Wrap], list[Part]]] = {
    R.div: lambda a, wrap: [r"\frac{", a[0], "}{", a[1], "}"],
    R.reciprocal: lambda a, wrap: [r"\frac{1}{", a[0], "}"],
    R.neg: lambda a, wrap: ["-", *wrap(a[0], _MUL, False)],
    R.pow: lambda a, wrap: [*wrap(a[0], _ATOM), "^{", a[1], "}"],
    R.exp: lambda a, wrap: ["e^{", a[0], "}"],
    R.sqrt: lambda a, wrap: [r"\sqrt{", a[0], "}"],
    R.abs: lambda a, wrap: [r"\left|", a[0], r"\right|"],
}


def _latex_parts(node: Expr) -> list[Part]:
    if isinstance(node, Symbol):
        return [_symbol_latex(node.name)]
    if isinstance(node, Const):
        return [_number_latex(node.value)]

    def wrap(arg: Expr, needed: int, paren_negative: bool = True) -> list[Part]:
        prec = _latex_prec(arg)
        if prec < needed or (paren_negative and prec == _NEG):
            return [r"\left(", arg, r"\right)"]
        return [arg]

    assert node.prim is not None
    prim, args = node.prim, node.args
    if prim is R.mul and args[0] is args[1]:  # a*a reads better as a^2
        return [*wrap(args[0], _ATOM), "^{2}"]
    if prim is R.add or prim is R.sub:
        op = f" {display.notation(prim).python} "
        return [*wrap(args[0], _ADD, False), op, *wrap(args[1], _ADD + 1)]
    if prim is R.mul:
        # Juxtapose (2 x, x y) unless a number would run into the left factor.
        right = args[1]
        number = isinstance(right, Const) or (
            right.prim is R.pow and isinstance(right.args[0], Const)
        )
        sep = r" \cdot " if number else " "
        return [*wrap(args[0], _MUL, False), sep, *wrap(right, _MUL + 1)]
    layout = _LATEX_LAYOUTS.get(prim)
    if layout is not None:
        return layout(args, wrap)
    parts: list[Part] = [display.latex_function(prim) + r"\left("]
    for i, a in enumerate(args):
        parts += [", ", a] if i else [a]
    return [*parts, r"\right)"]


def to_latex(expr: Expr) -> str:
    r"""LaTeX for ``expr`` (without the surrounding ``$``).

    >>> from autodiff_ref.numpy import exp, sqrt, tanh
    >>> x, y = symbols("x y")
    >>> to_latex(exp(x) / sqrt(y))
    '\\frac{e^{x}}{\\sqrt{y}}'
    >>> print(to_latex(diff(tanh(x), x)))
    1 - \tanh\left(x\right)^{2}
    """
    expr = _as_expr(expr)
    size = tree_size(expr)
    if size > PRINT_LIMIT:
        raise ValueError(
            f"the expression has {size} nodes as a tree (more than PRINT_LIMIT = "
            f"{PRINT_LIMIT}); print a smaller one, e.g. simplify it or show tree_size/dag_size"
        )
    return _emit(expr, _latex_parts)
