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
from collections.abc import Sequence
from typing import Any

import numpy as np

from .core import Deriv, Primitive, Tracer, shape_of

__all__ = ["RULES"]

#: name -> primitive, in the order they are defined.
RULES: dict[str, Primitive] = {}


def _elementwise(
    name: str, impl: Any, *derivs: Deriv, doc: str = "", linearity: str | None = None
) -> Primitive:
    RULES[name] = prim = Primitive(name, impl, derivs=derivs, doc=doc, linearity=linearity)
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
        return np.float64(1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0 if x == 0.0 else x)
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
        return x.copy() if isinstance(x, np.ndarray) else x  # never the caller's own array
    if isinstance(x, np.ndarray):
        return x**y  # ndarray's ** has fast paths (x**2 is a square) that np.power lacks
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
heaviside: Primitive = _elementwise("heaviside", _heaviside, None, doc="step: 0, 1/2 at 0, 1")
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
    return x if type(x) is float else np.array(x, copy=True)[()]  # never the input itself


stop_gradient: Primitive = _elementwise("stop_gradient", _copy, None, doc="x, derivative 0")


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
        p is None or p is Ellipsis or isinstance(p, slice | int | np.integer) for p in parts
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
        ct_shape = (*ct_shape[:-1], 1, ct_shape[-1]) if len(b_shape) > 1 else (1, *ct_shape)
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
    "matmul", np.matmul, jvp=_matmul_jvp, vjp=_matmul_vjp, doc="x @ y", linearity="bilinear"
)


def _zeros_where_none(ts: Sequence[Any], xs: Sequence[Any]) -> list[Any]:
    return [np.zeros(shape_of(x)) if t is None else t for t, x in zip(ts, xs, strict=True)]


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


def _concatenate_vjp(i: int, ct: Any, ans: Any, axis: int = 0, offsets: Any = None) -> Any:
    if offsets is None:
        raise TypeError(
            "rules.concatenate needs offsets=concatenate_offsets(xs, axis) to be "
            "differentiated in reverse mode; call autodiff_ref.concatenate, which passes them"
        )
    axis = axis % len(shape_of(ans))
    return getitem(ct, index=(slice(None),) * axis + (slice(offsets[i], offsets[i + 1]),))


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
