"""The rules table: every primitive's value and derivative, written once.

Each line below pairs an operation's forward math (a NumPy function) with its
local derivative, micrograd-style.  Forward mode, reverse mode and symbolic
differentiation all read these entries; :data:`RULES` lists them for the docs.

Elementwise primitives give one local derivative per argument,
``d(ans, *args)``, where ``ans`` is the primitive's own output (handy for
``exp``, ``tanh``, ``sqrt``).  ``1`` and ``-1`` mark arguments that pass
straight through (maybe negated); ``None`` marks a zero derivative.  The
derivatives are written with the primitives themselves, so they can be
differentiated again.

Linear primitives (sum, reshape, indexing, matmul in each factor, ...) map a
tangent by applying themselves to it (``jvp``) and a cotangent by their
transpose (``vjp``).

Conventions at non-differentiable points (the same in every mode):

* ``abs'(0) = sign(0) = 0`` -- the smallest subgradient;
* ``maximum``/``minimum`` at a tie give each argument half the derivative
  (``heaviside(0) = 1/2``), so ``maximum(x, x)`` has derivative 1;
* ``sign`` and ``heaviside`` have derivative 0 everywhere (their impulse at 0
  is ignored).
* ``floor`` and ``ceil`` have derivative 0 everywhere, at their jumps too (the
  value is piecewise constant; the jump's impulse is ignored), as in JAX;
* ``mod(x, y) = x - y floor(x / y)`` has derivative 1 in ``x`` and
  ``-floor(x / y)`` in ``y`` everywhere, at its jumps the one-sided value from
  the right;
* ``max``/``min`` over an axis give the derivative to the selected elements,
  shared evenly at a tie (like ``maximum``); ``sort`` follows the (stable)
  sorting permutation;
* ``eigh`` and ``svd`` raise where two eigenvalues or singular values are equal
  (there the decomposition is not differentiable), ``inv``, ``solve``, ``det``
  and ``slogdet`` at a singular matrix; ``eigh`` and ``cholesky`` take symmetric
  input and let a tangent act through its symmetric part ``(dA + dA^T) / 2``.

Outside a function's domain the value is whatever NumPy gives (``log(-1.0)``
is ``nan`` with a ``RuntimeWarning``) and so is the derivative.  The
derivative of ``x ** y`` with respect to ``y`` is ``log(x) x**y``: it is only
computed when ``y`` is being differentiated, so integer powers of negative
bases (``(-2.0) ** 3``) differentiate fine in ``x``.  At a zero base it is
taken to be 0, as in JAX and autograd: ``0**y`` is the constant 0 for
``y > 0``, so its derivative is 0 there (for ``y < 0`` it is ``nan``).
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import core
from .core import Deriv, Primitive, Tracer, primal_value, shape_of

__all__ = ["RULES"]

#: name -> primitive, in the order they are defined.
RULES: dict[str, Primitive] = {}


def _elementwise(
    name: str, impl: Any, *derivs: Deriv, doc: str = "", linearity: str | None = None
) -> Primitive:
    RULES[name] = prim = Primitive(
        name, impl, derivs=derivs, doc=doc, linearity=linearity
    )
    return prim


def _linear(
    name: str,
    impl: Any,
    jvp: Any,
    vjp: Any,
    doc: str = "",
    linearity: str = "linear",
    vjp_reads_args: bool = True,
) -> Primitive:
    RULES[name] = prim = Primitive(
        name,
        impl,
        jvp=jvp,
        vjp=vjp,
        doc=doc,
        linearity=linearity,
        vjp_reads_args=vjp_reads_args,
    )
    return prim


# -- NumPy implementations that need care ------------------------------------
# Each means what NumPy's function of the same name means, complex numbers
# included (abs(3+4j) is 5.0).  The complex step needs analytic stand-ins for
# the kinks instead: autodiff_ref.numerical swaps them in while it evaluates.
# Python floats take a shortcut around NumPy's machinery: they are what scalar
# graphs are made of.  sign and heaviside return NumPy scalars even then: they
# have no derivative, so a traced caller gets them bare, and should still be
# able to call array methods on them (.sum(), .shape).
def _abs(x: Any) -> Any:
    if type(x) is float:
        return math.fabs(x)
    return np.abs(x)


def _sign(x: Any) -> Any:
    if type(x) is float:
        return np.float64(
            1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0 if x == 0.0 else x
        )
    return np.sign(x)


def _heaviside(x: Any) -> Any:
    if type(x) is float:
        return np.float64(1.0 if x > 0.0 else 0.0 if x < 0.0 else 0.5 + 0.0 * x)
    return np.heaviside(x, 0.5)


def _maximum(x: Any, y: Any) -> Any:
    if type(x) is float and type(y) is float:
        return x if x > y or x != x else y  # as NumPy: nan wins, ties give y
    return np.maximum(x, y)


def _minimum(x: Any, y: Any) -> Any:
    if type(x) is float and type(y) is float:
        return x if x < y or x != x else y  # as NumPy: nan wins, ties give y
    return np.minimum(x, y)


def _where(condition: Any, x: Any, y: Any) -> Any:
    return np.where(condition, x, y)[()]


def _power(x: Any, y: Any) -> Any:
    # NumPy refuses integers to negative integer powers; real maths does not.
    if isinstance(x, int) or (isinstance(x, np.ndarray) and x.dtype.kind in "biu"):
        x = np.asarray(x, dtype=float)[()]
    if type(y) in (int, float) and y == 1:  # x**1, which the power rule makes of x**2
        return (
            x.copy() if isinstance(x, np.ndarray) else x
        )  # never the caller's own array
    if isinstance(x, np.ndarray):
        return (
            x**y
        )  # ndarray's ** has fast paths (x**2 is a square) that np.power lacks
    return np.power(x, y)


def _reciprocal(x: Any) -> Any:
    # np.reciprocal of an integer is an integer (1/2 gives 0); real maths says 0.5.
    return np.divide(1.0, x)


def _minus_one(y: Any) -> Any:
    # The power rule's exponent y - 1, except 0 where a constant y is 0: there
    # y x**(y-1) = 0 * x**-1 is nan at x = 0 (so d³/dx³ x**2 was nan at 0),
    # while 0 * x**0 = 0 is the derivative of the constant x**0.
    if isinstance(y, Tracer):  # a differentiated exponent keeps the plain formula
        return sub(y, 1)
    if type(y) in (int, float):  # the common case, x**2: no array machinery
        return 0 if y == 0 else y - 1
    return np.where(np.equal(y, 0), 0, np.subtract(y, 1))[()]


def _nonzero_base(x: Any) -> Any:
    # d/dy x**y = log(x) x**y is 0 * log(0) = nan at a zero base, where the true
    # derivative of 0**y (y > 0) is 0.  A zero base is replaced by 1 inside the log
    # (JAX's choice), so the product is 0 there.  where(x, x, 1) is itself a
    # primitive expression, so every mode and every order sees the same fix.
    return where(x, x, 1.0)


# -- elementwise: value and local derivative(s) ------------------------------
# fmt: off
add: Primitive = _elementwise("add", operator.add, 1, 1, doc="x + y", linearity="linear")
sub: Primitive = _elementwise("sub", operator.sub, 1, -1, doc="x - y", linearity="linear")
neg: Primitive = _elementwise("neg", operator.neg, -1, doc="-x", linearity="linear")
mul: Primitive = _elementwise("mul", operator.mul,
                              lambda ans, x, y: y,
                              lambda ans, x, y: x, doc="x * y", linearity="bilinear")
div: Primitive = _elementwise("div", np.divide,
                              lambda ans, x, y: div(1.0, y),
                              lambda ans, x, y: neg(div(ans, y)), doc="x / y")
pow: Primitive = _elementwise("pow", _power,  # the operator's name
                              lambda ans, x, y: mul(y, pow(x, _minus_one(y))),
                              lambda ans, x, y: mul(log(_nonzero_base(x)), ans),
                              doc="x ** y")
reciprocal: Primitive = _elementwise("reciprocal", _reciprocal,
                                     lambda ans, x: neg(mul(ans, ans)), doc="1 / x")
exp: Primitive = _elementwise("exp", np.exp, lambda ans, x: ans)
log: Primitive = _elementwise("log", np.log, lambda ans, x: div(1.0, x))
sin: Primitive = _elementwise("sin", np.sin, lambda ans, x: cos(x))
cos: Primitive = _elementwise("cos", np.cos, lambda ans, x: neg(sin(x)))
tan: Primitive = _elementwise("tan", np.tan, lambda ans, x: add(1.0, mul(ans, ans)))
sqrt: Primitive = _elementwise("sqrt", np.sqrt, lambda ans, x: div(0.5, ans))
tanh: Primitive = _elementwise("tanh", np.tanh, lambda ans, x: sub(1.0, mul(ans, ans)))
abs: Primitive = _elementwise("abs", _abs, lambda ans, x: sign(x))
sign: Primitive = _elementwise("sign", _sign, None)
heaviside: Primitive = _elementwise("heaviside", _heaviside, None,
                                    doc="step: 0, 1/2 at 0, 1")
maximum: Primitive = _elementwise("maximum", _maximum,
                                  lambda ans, x, y: heaviside(sub(x, y)),
                                  lambda ans, x, y: heaviside(sub(y, x)))
minimum: Primitive = _elementwise("minimum", _minimum,
                                  lambda ans, x, y: heaviside(sub(y, x)),
                                  lambda ans, x, y: heaviside(sub(x, y)))
where: Primitive = _elementwise("where", _where,
                                None,
                                lambda ans, c, x, y: where(c, 1.0, 0.0),
                                lambda ans, c, x, y: where(c, 0.0, 1.0),
                                linearity="linear")  # in x and y, for a fixed condition
# fmt: on


# The identity whose derivative is 0 by definition, not the slope of its value: how a
# program says "treat this as a constant", in every mode and at every order.
def _copy(x: Any) -> Any:
    return (
        x if type(x) is float else np.array(x, copy=True)[()]
    )  # never the input itself


stop_gradient: Primitive = _elementwise(
    "stop_gradient", _copy, None, doc="x, derivative 0"
)


# -- linear primitives: the map itself (jvp) and its transpose (vjp) ---------
def _keepdims_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape of ``sum(x, axis, keepdims=True)`` for ``x`` of ``shape``."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``x`` down to ``shape``: the transpose of broadcasting."""
    x = np.asarray(x)
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    return np.sum(x, axis=axes).reshape(shape)[()] if axes else x.reshape(shape)[()]


sum: Primitive = _linear(
    "sum", lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    jvp=lambda ts, ans, x, axis=None, keepdims=False: sum(ts[0], axis=axis, keepdims=keepdims),
    vjp=lambda i, ct, ans, x, axis=None, keepdims=False: broadcast_to(
        reshape(ct, shape=_keepdims_shape(shape_of(x), axis)), shape=shape_of(x)),
    doc="sum over axis",
)  # fmt: skip
sum_to: Primitive = _linear(
    "sum_to", _sum_to,
    jvp=lambda ts, ans, x, shape: sum_to(ts[0], shape=shape),
    vjp=lambda i, ct, ans, x, shape: broadcast_to(ct, shape=shape_of(x)),
    doc="sum down to a shape (undoes broadcasting)",
)  # fmt: skip
broadcast_to: Primitive = _linear(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape)[()],
    jvp=lambda ts, ans, x, shape: broadcast_to(ts[0], shape=shape),
    vjp=lambda i, ct, ans, x, shape: sum_to(ct, shape=shape_of(x)),
    doc="broadcast to a shape",
)  # fmt: skip
reshape: Primitive = _linear(
    "reshape", lambda x, shape: np.reshape(x, shape)[()],
    jvp=lambda ts, ans, x, shape: reshape(ts[0], shape=shape),
    vjp=lambda i, ct, ans, x, shape: reshape(ct, shape=shape_of(x)),
    doc="same elements, new shape",
)  # fmt: skip
transpose: Primitive = _linear(
    "transpose", lambda x, axes=None: np.transpose(x, axes),
    jvp=lambda ts, ans, x, axes=None: transpose(ts[0], axes=axes),
    vjp=lambda i, ct, ans, x, axes=None: transpose(  # axes mod ndim: -1 is valid in NumPy
        ct, axes=None if axes is None else tuple(np.argsort(np.mod(axes, len(axes))))),
    doc="permute axes",
)  # fmt: skip
getitem: Primitive = _linear(
    "getitem", lambda x, index: np.asarray(x)[index],  # Python floats cannot be indexed
    jvp=lambda ts, ans, x, index: getitem(ts[0], index=index),
    vjp=lambda i, ct, ans, x, index: scatter_add(ct, index=index, shape=shape_of(x)),
    doc="x[index]",
)  # fmt: skip


def _is_basic_index(index: Any) -> bool:
    """Ints, slices, Ellipsis and None only: each element is selected at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, slice | int | np.integer)
        for p in parts
    )


def _scatter_add(ct: Any, index: Any, shape: tuple[int, ...]) -> Any:
    dtype = np.result_type(ct)  # ct's own float type: float32 stays float32
    out = np.zeros(shape, dtype=dtype if dtype.kind in "fc" else np.float64)
    if _is_basic_index(index):
        out[index] = ct  # a view onto distinct elements: plain assignment, fast
    else:
        np.add.at(out, index, ct)  # repeated integer indices must accumulate
    return out


scatter_add: Primitive = _linear(
    "scatter_add", _scatter_add,
    jvp=lambda ts, ans, ct, index, shape: scatter_add(ts[0], index=index, shape=shape),
    vjp=lambda i, ct, ans, x, index, shape: getitem(ct, index=index),
    doc="zeros(shape) with x added at index (the transpose of x[index])",
)  # fmt: skip


def _matrix_transpose(x: Any) -> Any:
    nd = len(shape_of(x))
    return transpose(x, axes=(*range(nd - 2), nd - 1, nd - 2))


def _matmul_vjp(i: int, ct: Any, ans: Any, a: Any, b: Any) -> Any:
    # Treat vectors as matrices (a row for the left factor, a column for the
    # right one), as np.matmul does, then undo that and any batch broadcasting.
    a_shape, b_shape = shape_of(a), shape_of(b)
    a2 = reshape(a, shape=(1, *a_shape)) if len(a_shape) == 1 else a
    b2 = reshape(b, shape=(*b_shape, 1)) if len(b_shape) == 1 else b
    ct_shape = shape_of(ct)
    if len(a_shape) == 1:
        ct_shape = (
            (*ct_shape[:-1], 1, ct_shape[-1]) if len(b_shape) > 1 else (1, *ct_shape)
        )
    if len(b_shape) == 1:
        ct_shape = (*ct_shape, 1)
    ct2 = reshape(ct, shape=ct_shape)
    if i == 0:
        g, promoted, shape = matmul(ct2, _matrix_transpose(b2)), a2, a_shape
    else:
        g, promoted, shape = matmul(_matrix_transpose(a2), ct2), b2, b_shape
    # Sum over broadcast batch axes, then drop the axis a vector was given.
    g = sum_to(g, shape=shape_of(promoted))
    return g if shape_of(g) == shape else reshape(g, shape=shape)


def _matmul_jvp(ts: Sequence[Any], ans: Any, a: Any, b: Any) -> Any:
    ta, tb = ts
    if ta is None:
        return matmul(a, tb)
    if tb is None:
        return matmul(ta, b)
    return add(matmul(ta, b), matmul(a, tb))


# matmul is bilinear: linear in each factor with the other held fixed.
matmul: Primitive = _linear(
    "matmul",
    np.matmul,
    jvp=_matmul_jvp,
    vjp=_matmul_vjp,
    doc="x @ y",
    linearity="bilinear",
)


def _zeros_where_none(ts: Sequence[Any], xs: Sequence[Any]) -> list[Any]:
    return [
        np.zeros(shape_of(x)) if t is None else t for t, x in zip(ts, xs, strict=True)
    ]


def _stack_vjp(i: int, ct: Any, ans: Any, axis: int = 0) -> Any:
    axis = axis % len(shape_of(ans))
    return getitem(ct, index=(slice(None),) * axis + (i,))


def concatenate_offsets(xs: Sequence[Any], axis: int) -> tuple[int, ...]:
    """Where each piece starts along ``axis`` in ``concatenate(*xs)``, and the total.

    Computed once per call and carried in the call's params: if each piece's
    VJP summed the lengths of the pieces before it, the backward pass of n
    pieces would take n**2 / 2 steps.
    """
    starts = [0]
    for x in xs:
        shape = shape_of(x)
        starts.append(starts[-1] + (shape[axis] if shape else 1))
    return tuple(starts)


def _concatenate_vjp(
    i: int, ct: Any, ans: Any, axis: int = 0, offsets: Any = None
) -> Any:
    if offsets is None:
        raise TypeError(
            "rules.concatenate needs offsets=concatenate_offsets(xs, axis) to be "
            "differentiated in reverse mode; call autodiff_ref.numpy.concatenate, which "
            "passes them"
        )
    axis = axis % len(shape_of(ans))
    return getitem(
        ct, index=(slice(None),) * axis + (slice(offsets[i], offsets[i + 1]),)
    )


stack: Primitive = _linear(
    "stack", lambda *xs, axis=0: np.stack(xs, axis=axis),
    jvp=lambda ts, ans, *xs, axis=0: stack(*_zeros_where_none(ts, xs), axis=axis),
    vjp=_stack_vjp, doc="join along a new axis", vjp_reads_args=False,
)  # fmt: skip
concatenate: Primitive = _linear(
    "concatenate", lambda *xs, axis=0, offsets=None: np.concatenate(xs, axis=axis),
    jvp=lambda ts, ans, *xs, axis=0, offsets=None: concatenate(
        *_zeros_where_none(ts, xs), axis=axis, offsets=offsets),
    vjp=_concatenate_vjp, doc="join along an existing axis", vjp_reads_args=False,
)  # fmt: skip


# == More of NumPy: elementwise functions ======================================
# Each local derivative is written with the primitives, as above, so it can be
# differentiated again.  The piecewise-constant functions (floor, ceil) have
# derivative None (zero); mod's derivative ignores its jumps (see the module
# docstring).
_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _real_derivative(x: Any) -> float:
    """1 for real x; complex x has no complex derivative of real(x): refuse it."""
    try:
        value = primal_value(x)
    except TypeError:  # a symbolic expression: a real scalar
        return 1.0
    if np.iscomplexobj(value):
        raise TypeError(
            "real(z) of a complex z has no complex derivative (it is not holomorphic), "
            "so no tangent multiplier exists; differentiate it on real inputs, or write z "
            "as x + 1j * y with real x and y and differentiate in those"
        )
    return 1.0


# fmt: off
cosh: Primitive = _elementwise("cosh", np.cosh, lambda ans, x: sinh(x))
sinh: Primitive = _elementwise("sinh", np.sinh, lambda ans, x: cosh(x))
arcsin: Primitive = _elementwise("arcsin", np.arcsin,
                                 lambda ans, x: div(1.0, sqrt(sub(1.0, mul(x, x)))))
arccos: Primitive = _elementwise("arccos", np.arccos,
                                 lambda ans, x: div(-1.0, sqrt(sub(1.0, mul(x, x)))))
arctan: Primitive = _elementwise("arctan", np.arctan,
                                 lambda ans, x: div(1.0, add(1.0, mul(x, x))))
arcsinh: Primitive = _elementwise("arcsinh", np.arcsinh,
                                  lambda ans, x: div(1.0, sqrt(add(mul(x, x), 1.0))))
arccosh: Primitive = _elementwise("arccosh", np.arccosh,
                                  lambda ans, x: div(1.0, sqrt(sub(mul(x, x), 1.0))))
arctanh: Primitive = _elementwise("arctanh", np.arctanh,
                                  lambda ans, x: div(1.0, sub(1.0, mul(x, x))))
log1p: Primitive = _elementwise("log1p", np.log1p, lambda ans, x: div(1.0, add(1.0, x)),
                                doc="log(1 + x), accurate for small x")
expm1: Primitive = _elementwise("expm1", np.expm1, lambda ans, x: add(ans, 1.0),
                                doc="exp(x) - 1, accurate for small x")
log2: Primitive = _elementwise("log2", np.log2, lambda ans, x: div(1.0 / _LN2, x))
log10: Primitive = _elementwise("log10", np.log10, lambda ans, x: div(1.0 / _LN10, x))
exp2: Primitive = _elementwise("exp2", np.exp2, lambda ans, x: mul(ans, _LN2), doc="2 ** x")
hypot: Primitive = _elementwise("hypot", np.hypot,
                                lambda ans, x, y: div(x, ans),
                                lambda ans, x, y: div(y, ans), doc="sqrt(x**2 + y**2)")
logaddexp: Primitive = _elementwise("logaddexp", np.logaddexp,
                                    lambda ans, x, y: exp(sub(x, ans)),
                                    lambda ans, x, y: exp(sub(y, ans)),
                                    doc="log(exp(x) + exp(y)), without overflow")
arctan2: Primitive = _elementwise("arctan2", np.arctan2,  # the angle of the point (x, y)
                                  lambda ans, y, x: div(x, add(mul(x, x), mul(y, y))),
                                  lambda ans, y, x: neg(div(y, add(mul(x, x), mul(y, y)))),
                                  doc="arctan2(y, x): the angle of (x, y)")
floor: Primitive = _elementwise("floor", np.floor, None, doc="largest integer <= x")
ceil: Primitive = _elementwise("ceil", np.ceil, None, doc="smallest integer >= x")
mod: Primitive = _elementwise("mod", np.mod,  # x - y * floor(x / y), Python's %
                              1,
                              lambda ans, x, y: neg(floor(div(x, y))),
                              doc="x % y, with the sign of y")
real: Primitive = _elementwise("real", np.real, lambda ans, x: _real_derivative(x),
                               doc="the real part (x itself for real x)")
# fmt: on


# == More of NumPy: reductions and linear maps ==================================
#: Names of the primitives given by a JVP and a VJP that are *not* linear in
#: their arguments (prod, max, inv, ...): their rules use the output or the
#: arguments, like an elementwise local derivative does.
NONLINEAR: set[str] = set()


def _nonlinear(name: str, impl: Any, jvp: Any, vjp: Any, doc: str = "") -> Primitive:
    # Not _linear: nothing may take these rules for linear maps (Taylor mode's
    # shortcut for linear primitives would be wrong for them).
    NONLINEAR.add(name)
    RULES[name] = prim = Primitive(name, impl, jvp=jvp, vjp=vjp, doc=doc)
    return prim


def _axes_tuple(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple, maybe negative) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(
        sorted({a % ndim for a in ((axis,) if isinstance(axis, int) else axis)})
    )


def _spread(ct: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """A reduction's cotangent broadcast back to the shape of its argument."""
    shape = shape_of(x)
    if not keepdims:
        ct = reshape(ct, shape=_keepdims_shape(shape, axis))
    return broadcast_to(ct, shape=shape)


def _prod_of_others(x: Any, axis: Any) -> Any:
    """Each element's partner product: the product of the *other* elements on its axes.

    No division by the element itself (which fails where it is 0): the reduced
    axes are flattened to length n and the n products with one factor replaced
    by 1 are taken with ``prod`` itself, so this is differentiable again.
    """
    shape = shape_of(x)
    axes = _axes_tuple(axis, len(shape))
    kept = tuple(a for a in range(len(shape)) if a not in axes)
    moved = transpose(x, axes=kept + axes)
    moved_shape = shape_of(moved)
    n = int(np.prod([shape[a] for a in axes], dtype=int))
    flat = reshape(moved, shape=(*moved_shape[: len(kept)], n))
    rows = broadcast_to(
        reshape(flat, shape=(*shape_of(flat)[:-1], 1, n)),
        shape=(*shape_of(flat)[:-1], n, n),
    )
    others = prod(where(np.eye(n, dtype=bool), 1.0, rows), axis=-1)
    unflat = reshape(others, shape=moved_shape)
    return transpose(unflat, axes=tuple(np.argsort(kept + axes)))


prod: Primitive = _nonlinear(
    "prod", lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    jvp=lambda ts, ans, x, axis=None, keepdims=False: sum(
        mul(_prod_of_others(x, axis), ts[0]), axis=axis, keepdims=keepdims),
    vjp=lambda i, ct, ans, x, axis=None, keepdims=False: mul(
        _spread(ct, x, axis, keepdims), _prod_of_others(x, axis)),
    doc="product over axis",
)  # fmt: skip


def _selection_weights(x: Any, ans: Any, axis: Any) -> np.ndarray:
    """Where ``x`` attains its max (or min) over ``axis``: 1/count there, 0 elsewhere.

    Computed from primal values, so the weights are constants: max and min are
    piecewise linear, and a tie shares the derivative evenly, as maximum does.
    """
    xv = np.asarray(primal_value(x))
    best = np.reshape(primal_value(ans), _keepdims_shape(xv.shape, axis))
    hit = (xv == best).astype(float)
    return hit / np.sum(hit, axis=axis, keepdims=True)


def _selection(name: str, impl: Any, doc: str) -> Primitive:
    return _nonlinear(
        name, lambda x, axis=None, keepdims=False: impl(x, axis=axis, keepdims=keepdims),
        jvp=lambda ts, ans, x, axis=None, keepdims=False: sum(
            mul(_selection_weights(x, ans, axis), ts[0]), axis=axis, keepdims=keepdims),
        vjp=lambda i, ct, ans, x, axis=None, keepdims=False: mul(
            _spread(ct, x, axis, keepdims), _selection_weights(x, ans, axis)),
        doc=doc,
    )  # fmt: skip


amax: Primitive = _selection("max", np.max, "largest element over axis (ties share)")
amin: Primitive = _selection("min", np.min, "smallest element over axis (ties share)")


def _reverse_along(x: Any, axis: int) -> Any:
    return getitem(x, index=(slice(None),) * axis + (slice(None, None, -1),))


cumsum: Primitive = _linear(
    "cumsum", lambda x, axis: np.cumsum(x, axis=axis),
    jvp=lambda ts, ans, x, axis: cumsum(ts[0], axis=axis),
    vjp=lambda i, ct, ans, x, axis: _reverse_along(  # the transpose sums from the end
        cumsum(_reverse_along(ct, axis % len(shape_of(x))), axis=axis),
        axis % len(shape_of(x))),
    doc="running sum along an axis",
)  # fmt: skip


def _dtype_of(x: Any) -> np.dtype:
    return np.asarray(primal_value(x)).dtype


astype: Primitive = _linear(
    "astype", lambda x, dtype: np.asarray(x).astype(dtype)[()],
    jvp=lambda ts, ans, x, dtype: astype(ts[0], dtype=dtype),
    vjp=lambda i, ct, ans, x, dtype: astype(ct, dtype=_dtype_of(x)),
    doc="convert to another float dtype",
)  # fmt: skip


# -- einsum: linear in each operand ----------------------------------------------
# Subscripts are kept in explicit form ("ij,jk->ik"): the transpose for operand
# i is another einsum, of the output cotangent with the other operands, whose
# output is operand i's subscripts.
def _einsum_transpose(i: int, ct: Any, subscripts: str, operands: Sequence[Any]) -> Any:
    inputs, output = subscripts.split("->")
    terms = inputs.split(",")
    target = terms[i]
    sizes: dict[str, int] = {}
    for term, op in zip(terms, operands, strict=True):
        sizes.update(zip(term, shape_of(op), strict=True))
    others = [
        (t, op) for k, (t, op) in enumerate(zip(terms, operands, strict=True)) if k != i
    ]
    present = set(output).union(*[set(t) for t, _ in others])
    unused = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  if c not in subscripts)  # fmt: skip
    extra_terms: list[str] = []
    extra_ops: list[np.ndarray] = []
    # A letter only operand i has was summed over: its transpose broadcasts.
    for letter in dict.fromkeys(target):
        if letter not in present:
            extra_terms.append(letter)
            extra_ops.append(np.ones(sizes[letter]))
    # A letter repeated in operand i read a diagonal: its transpose writes one,
    # through an identity matrix per extra occurrence.
    out_letters = []
    seen: set[str] = set()
    for letter in target:
        if letter in seen:
            fresh = next(unused)
            extra_terms.append(letter + fresh)
            extra_ops.append(np.eye(sizes[letter]))
            out_letters.append(fresh)
        else:
            seen.add(letter)
            out_letters.append(letter)
    spec = (
        ",".join([output, *(t for t, _ in others), *extra_terms])
        + "->"
        + "".join(out_letters)
    )
    return einsum(ct, *(op for _, op in others), *extra_ops, subscripts=spec)


def _einsum_jvp(ts: Sequence[Any], ans: Any, *operands: Any, subscripts: str) -> Any:
    out = None
    for k, t in enumerate(ts):
        if t is None:
            continue
        term = einsum(*operands[:k], t, *operands[k + 1 :], subscripts=subscripts)
        out = term if out is None else add(out, term)
    return out


# Linear in each operand, but not in all of them together (einsum("i,i->", x, x) is
# quadratic): not made with _linear, whose primitives may be taken for linear maps.
RULES["einsum"] = einsum = Primitive(
    "einsum", lambda *operands, subscripts: np.einsum(subscripts, *operands),
    jvp=_einsum_jvp,
    vjp=lambda i, ct, ans, *operands, subscripts: _einsum_transpose(
        i, ct, subscripts, operands),
    doc="Einstein summation (linear in each operand)",
)  # fmt: skip


# == Linear algebra (Giles 2008, "Collected matrix derivative results") =========
# Matrices may come in stacks (..., m, n), as in np.linalg.  The rules solve
# linear systems with the `solve` primitive instead of forming inverses, except
# where the inverse itself is the derivative (det, slogdet).  Decompositions
# with several outputs (eigh, svd, qr) are one primitive whose value packs the
# outputs into one array along the row axis; autodiff_ref.numpy.linalg unpacks them.
def _eye(n: int) -> np.ndarray:
    return np.eye(n)


def _sym(x: Any) -> Any:
    """The symmetric part (x + x^T) / 2 of a (stack of) square matrices."""
    return mul(0.5, add(x, _matrix_transpose(x)))


def _diagonal(m: Any) -> Any:
    """The diagonal of each square matrix, as a vector."""
    return sum(mul(m, _eye(shape_of(m)[-1])), axis=-1)


def _diagonal_matrix(v: Any) -> Any:
    n = shape_of(v)[-1]
    return mul(reshape(v, shape=(*shape_of(v)[:-1], 1, n)), _eye(n))


def _as_matrix_batch(c: Any) -> Any:
    """A stack of scalars (...) reshaped to (..., 1, 1), to scale a stack of matrices."""
    return reshape(c, shape=(*shape_of(c), 1, 1))


def _trace(m: Any) -> Any:
    return sum(_diagonal(m), axis=-1)


def _row(v: Any) -> Any:
    """A stack of vectors (..., k) as rows (..., 1, k): scales a matrix's columns."""
    return reshape(v, shape=(*shape_of(v)[:-1], 1, shape_of(v)[-1]))


def _column(v: Any) -> Any:
    return reshape(v, shape=(*shape_of(v), 1))


def _right_solve(b: Any, a: Any) -> Any:
    """``b a^{-1}``, by solving ``a^T z^T = b^T``."""
    return _matrix_transpose(solve(_matrix_transpose(a), _matrix_transpose(b)))


def _singular(what: str) -> np.linalg.LinAlgError:
    return np.linalg.LinAlgError(
        f"{what}: the matrix is singular (not invertible), so there is no unique "
        "answer (and no derivative); check the matrix's rank, or use a least-squares "
        "formulation such as autodiff_ref.numpy.linalg.solve(A.T @ A + lam * I, A.T @ b)"
    )


def _inv(a: Any) -> Any:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError as e:
        raise _singular("inv") from e


def _solve(a: Any, b: Any) -> Any:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError as e:
        raise _singular("solve") from e


def _check_symmetric(a: Any, what: str) -> None:
    a = np.asarray(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError(
            f"{what} needs square matrices, got shape {a.shape}"
        )
    scale = np.max(np.abs(a), initial=0.0)
    if np.any(np.abs(a - np.swapaxes(a, -1, -2)) > 1e-10 * scale):
        raise ValueError(
            f"{what} needs a symmetric matrix (NumPy would silently read only its lower "
            "triangle); symmetrize it first, e.g. (A + A.T) / 2"
        )


def _require_distinct(values: Any, what: str, nonzero: bool = False) -> None:
    """Refuse a decomposition whose derivative does not exist: repeated values."""
    v = np.sort(np.asarray(primal_value(values)), axis=-1)
    tol = 64 * np.finfo(float).eps * np.max(np.abs(v), initial=0.0)
    if v.shape[-1] > 1 and np.any(np.diff(v, axis=-1) <= tol):
        raise ValueError(
            f"the derivative of {what} does not exist here: two of its values are equal "
            f"(values {v.tolist()}), so the basis of their shared subspace is not unique "
            "and the ordered values have only one-sided derivatives"
        )
    if nonzero and np.any(np.abs(v) <= tol):
        raise ValueError(
            f"the derivative of {what} of a non-square matrix does not exist with a zero "
            f"singular value (values {v.tolist()})"
        )


def _pack_rows(*parts: Any) -> Any:
    """(Stacks of) matrices joined along their rows: each added into zeros at its rows.

    The packed tangent of eigh, svd and qr; linear, with indexing as its transpose.
    """
    shape = shape_of(parts[0])
    total = 0
    for part in parts:
        total += shape_of(part)[-2]
    out, start = None, 0
    for part in parts:
        stop = start + shape_of(part)[-2]
        index = (Ellipsis, slice(start, stop), slice(None))
        term = scatter_add(part, index=index, shape=(*shape[:-2], total, shape[-1]))
        out, start = term if out is None else add(out, term), stop
    return out


def _gap_inverse(w: Any) -> Any:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal and 0 on it."""
    n = shape_of(w)[-1]
    gap = sub(_row(w), _column(w))
    eye = np.eye(n, dtype=bool)
    return where(eye, 0.0, div(1.0, where(eye, 1.0, gap)))


inv: Primitive = _nonlinear(
    "inv", _inv,
    jvp=lambda ts, ans, a: neg(matmul(ans, matmul(ts[0], ans))),
    vjp=lambda i, ct, ans, a: neg(matmul(_matrix_transpose(ans),
                                         matmul(ct, _matrix_transpose(ans)))),
    doc="inverse matrix C = A^-1: dC = -C dA C",
)  # fmt: skip


def _solve_jvp(ts: Sequence[Any], ans: Any, a: Any, b: Any) -> Any:
    ta, tb = ts  # dX = A^-1 (dB - dA X)
    rhs = (
        tb
        if ta is None
        else neg(matmul(ta, ans))
        if tb is None
        else sub(tb, matmul(ta, ans))
    )
    return solve(a, rhs)


def _solve_vjp(i: int, ct: Any, ans: Any, a: Any, b: Any) -> Any:
    b_bar = solve(_matrix_transpose(a), ct)  # B̄ = A^-T X̄, Ā = -B̄ X^T
    if i == 1:
        return sum_to(b_bar, shape=shape_of(b))
    return sum_to(neg(matmul(b_bar, _matrix_transpose(ans))), shape=shape_of(a))


solve: Primitive = _nonlinear(
    "solve", _solve, jvp=_solve_jvp, vjp=_solve_vjp,
    doc="X = A^-1 B for B of shape (..., n, k): dX = A^-1 (dB - dA X)",
)  # fmt: skip
det: Primitive = _nonlinear(
    "det", np.linalg.det,
    jvp=lambda ts, ans, a: mul(ans, _trace(solve(a, ts[0]))),  # Jacobi's formula
    vjp=lambda i, ct, ans, a: mul(
        _as_matrix_batch(mul(ct, ans)), _matrix_transpose(inv(a))
    ),
    doc="determinant: d det = det tr(A^-1 dA)",
)  # fmt: skip
slogdet: Primitive = _nonlinear(
    "slogdet", lambda a: np.linalg.slogdet(a)[1],
    jvp=lambda ts, ans, a: _trace(solve(a, ts[0])),
    vjp=lambda i, ct, ans, a: mul(_as_matrix_batch(ct), _matrix_transpose(inv(a))),
    doc="log |det A|: d = tr(A^-1 dA)",
)  # fmt: skip


def _cholesky(a: Any) -> Any:
    _check_symmetric(a, "cholesky")
    return np.linalg.cholesky(a)


def _phi(x: Any) -> Any:
    """The lower triangle with the diagonal halved (the map of Cholesky's derivative)."""
    n = shape_of(x)[-1]
    return mul(x, np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n))


def _cholesky_jvp(ts: Sequence[Any], ans: Any, a: Any) -> Any:
    # A = L L^T: dL = L Φ(L^-1 dA L^-T), dA's symmetric part (A is symmetric).
    inner = solve(ans, _matrix_transpose(solve(ans, _sym(ts[0]))))
    return matmul(ans, _phi(inner))


def _cholesky_vjp(i: int, ct: Any, ans: Any, a: Any) -> Any:
    # The transpose of the map above: Ā = sym(L^-T Φ(L^T L̄) L^-1).
    lt = _matrix_transpose(ans)
    z = solve(lt, _phi(matmul(lt, ct)))
    return _sym(_matrix_transpose(solve(lt, _matrix_transpose(z))))


cholesky: Primitive = _nonlinear(
    "cholesky", _cholesky, jvp=_cholesky_jvp, vjp=_cholesky_vjp,
    doc="A = L L^T for symmetric positive definite A: dL = L Φ(L^-1 dA L^-T)",
)  # fmt: skip


def _eigh(a: Any) -> Any:
    _check_symmetric(a, "eigh")
    w, v = np.linalg.eigh(a)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _eigh_parts(packed: Any) -> tuple[Any, Any]:
    return getitem(packed, index=(Ellipsis, 0, slice(None))), getitem(
        packed, index=(Ellipsis, slice(1, None), slice(None))
    )


def _eigh_jvp(ts: Sequence[Any], ans: Any, a: Any) -> Any:
    # A = V diag(w) V^T: dw = diag(P), dV = V (F ∘ P), P = V^T dA V.
    w, v = _eigh_parts(ans)
    _require_distinct(w, "eigh")
    p = matmul(_matrix_transpose(v), matmul(_sym(ts[0]), v))
    dv = matmul(v, mul(_gap_inverse(w), p))
    return _pack_rows(_row(_diagonal(p)), dv)


def _eigh_vjp(i: int, ct: Any, ans: Any, a: Any) -> Any:
    # Ā = V (diag(w̄) + F ∘ (V^T V̄)) V^T, symmetrized.
    w, v = _eigh_parts(ans)
    _require_distinct(w, "eigh")
    w_bar, v_bar = _eigh_parts(ct)
    inner = add(
        _diagonal_matrix(w_bar),
        mul(_gap_inverse(w), matmul(_matrix_transpose(v), v_bar)),
    )
    return _sym(matmul(v, matmul(inner, _matrix_transpose(v))))


eigh: Primitive = _nonlinear(
    "eigh", _eigh, jvp=_eigh_jvp, vjp=_eigh_vjp,
    doc="A = V diag(w) V^T (packed [w; V]): dw = diag(V^T dA V), dV = V (F ∘ V^T dA V)",
)  # fmt: skip


def _svd(a: Any) -> Any:
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([u, s[..., None, :], np.swapaxes(vh, -1, -2)], axis=-2)


def _svd_parts(packed: Any, m: int) -> tuple[Any, Any, Any]:
    rows = (Ellipsis, slice(None, m), slice(None)), (Ellipsis, m, slice(None))
    u, s = getitem(packed, index=rows[0]), getitem(packed, index=rows[1])
    return u, s, getitem(packed, index=(Ellipsis, slice(m + 1, None), slice(None)))


def _svd_jvp(ts: Sequence[Any], ans: Any, a: Any) -> Any:
    m, n = shape_of(a)[-2:]
    k = m if m < n else n
    u, s, v = _svd_parts(ans, m)
    _require_distinct(s, "svd", nonzero=m != n)
    t = ts[0]
    dp = matmul(_matrix_transpose(u), matmul(t, v))  # U^T dA V
    f = _gap_inverse(mul(s, s))  # 1 / (s_j² - s_i²)
    dpt = _matrix_transpose(dp)
    du = matmul(u, mul(f, add(mul(dp, _row(s)), mul(_column(s), dpt))))
    dv = matmul(v, mul(f, add(mul(_column(s), dp), mul(dpt, _row(s)))))
    if m > k:  # the part of dA outside U's columns
        du = add(du, div(sub(matmul(t, v), matmul(u, dp)), _row(s)))
    if n > k:
        dv = add(dv, div(sub(matmul(_matrix_transpose(t), u), matmul(v, dpt)), _row(s)))
    return _pack_rows(du, _row(_diagonal(dp)), dv)


def _svd_vjp(i: int, ct: Any, ans: Any, a: Any) -> Any:
    m, n = shape_of(a)[-2:]
    k = m if m < n else n
    u, s, v = _svd_parts(ans, m)
    _require_distinct(s, "svd", nonzero=m != n)
    u_bar, s_bar, v_bar = _svd_parts(ct, m)
    ut, vt = _matrix_transpose(u), _matrix_transpose(v)
    f = _gap_inverse(mul(s, s))
    utu = matmul(ut, u_bar)
    vtv = matmul(vt, v_bar)
    j = mul(f, sub(utu, _matrix_transpose(utu)))
    kk = mul(f, sub(vtv, _matrix_transpose(vtv)))
    inner = add(add(mul(j, _row(s)), _diagonal_matrix(s_bar)), mul(_column(s), kk))
    out = matmul(u, matmul(inner, vt))
    if m > k:
        out = add(out, matmul(div(sub(u_bar, matmul(u, utu)), _row(s)), vt))
    if n > k:
        out = add(
            out, matmul(u, _matrix_transpose(div(sub(v_bar, matmul(v, vtv)), _row(s))))
        )
    return out


svd: Primitive = _nonlinear(
    "svd", _svd, jvp=_svd_jvp, vjp=_svd_vjp,
    doc="A = U diag(s) V^T, reduced (packed [U; s; V]), after Townsend (2016)",
)  # fmt: skip


def _qr(a: Any) -> Any:
    m, n = np.shape(a)[-2:]
    if m < n:
        raise ValueError(
            f"the derivative of qr needs at least as many rows as columns, got {m} x {n} "
            "(R's extra columns make Q non-unique); differentiate qr of the transpose"
        )
    q, r = np.linalg.qr(a)
    return np.concatenate([q, r], axis=-2)


def _qr_parts(packed: Any, m: int) -> tuple[Any, Any]:
    return getitem(packed, index=(Ellipsis, slice(None, m), slice(None))), getitem(
        packed, index=(Ellipsis, slice(m, None), slice(None))
    )


def _strictly_lower(x: Any) -> Any:
    n = shape_of(x)[-1]
    return mul(x, np.tril(np.ones((n, n)), -1))


def _qr_jvp(ts: Sequence[Any], ans: Any, a: Any) -> Any:
    # C = Q^T dA R^-1; Ω = L - L^T with L its strict lower triangle (Q^T dQ is
    # antisymmetric); dQ = Q Ω + (I - Q Q^T) dA R^-1; dR = (C - Ω) R.
    q, r = _qr_parts(ans, shape_of(a)[-2])
    d = _right_solve(ts[0], r)
    c = matmul(_matrix_transpose(q), d)
    low = _strictly_lower(c)
    omega = sub(low, _matrix_transpose(low))
    dq = add(matmul(q, omega), sub(d, matmul(q, c)))
    dr = matmul(sub(c, omega), r)
    return _pack_rows(dq, dr)


def _qr_vjp(i: int, ct: Any, ans: Any, a: Any) -> Any:
    # The JVP above, transposed step by step.
    q, r = _qr_parts(ans, shape_of(a)[-2])
    q_bar, r_bar = _qr_parts(ct, shape_of(a)[-2])
    qt_qbar = matmul(_matrix_transpose(q), q_bar)
    rbar_rt = matmul(r_bar, _matrix_transpose(r))
    omega_bar = sub(qt_qbar, rbar_rt)
    c_bar = add(sub(rbar_rt, qt_qbar),
                _strictly_lower(sub(omega_bar, _matrix_transpose(omega_bar))))  # fmt: skip
    d_bar = add(q_bar, matmul(q, c_bar))
    return _matrix_transpose(solve(r, _matrix_transpose(d_bar)))


qr: Primitive = _nonlinear(
    "qr", _qr, jvp=_qr_jvp, vjp=_qr_vjp,
    doc="A = Q R, reduced, m >= n (packed [Q; R])",
)  # fmt: skip


# core's Primitive.jvp and .vjp combine tangents with this table's primitives; the
# core sits below the table and does not import it, so the table installs itself.
core.rules = sys.modules[__name__]
