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

Linear primitives (sum, reshape, indexing, matmul in each factor, ...) give
their transpose, which maps a cotangent back and returns the cotangents of all
arguments at once; their JVP is the primitive applied to the tangents
(``deflinear``/``defbilinear`` in JAX).  Every other primitive gives one JVP
(prod, max, inv, ..., qr), and reverse mode transposes it: no VJP is written
by hand.

Complex numbers follow JAX's conventions. A holomorphic primitive (exp, sin,
x * y, ...) has the same local derivative for complex arguments as for real
ones, and its transpose is a product by it, not by its conjugate. A primitive
that is not holomorphic is still linear over the reals near a point: ``real``,
``imag`` and ``conj`` are linear primitives with JAX's transposes, ``abs``
gives the two Wirtinger derivatives of that map
(:class:`~autodiff_ref.core.Wirtinger`), and ``angle`` its JVP ``Im(t / z)``.
A real argument's cotangent is real
(``cotangent_for``). Primitives that order their
arguments (maximum, minimum) refuse to differentiate complex ones; NumPy itself
refuses complex numbers in floor, ceil, mod, hypot, arctan2, logaddexp and
heaviside.

Conventions at non-differentiable points (the same in every mode):

* ``abs'(0) = sign(0) = 0`` -- the minimum-norm subgradient (JAX: 1);
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
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import core
from .arguments import refuse_complex
from .core import (
    NO_PARAMS,
    Deriv,
    Primitive,
    Tracer,
    UndefinedPrimal,
    Wirtinger,
    bind,
    primal_value,
    shape_of,
    substituting_impls,
)

__all__ = ["RULES"]

#: name -> primitive, in the order they are defined.
RULES: dict[str, Primitive] = {}


# == the rules a kind of primitive shares ==========================================
# JAX's standard_jvp and deflinear: one formula for a whole kind of primitive, written
# with this table's primitives. core.Primitive calls them (core.STANDARD_RULES, filled
# at the end of this module) and names no primitive itself.
def _times_local_derivative(
    d: Deriv,
    v: Any,
    ans: Any,
    args: Sequence[Any],
    params: dict[str, Any],
    transposed: bool = False,
) -> Any:
    """``v`` times an elementwise local derivative (a tangent, or with
    ``transposed=True`` a cotangent: a product is its own transpose, a
    :class:`~autodiff_ref.core.Wirtinger` pair is not)."""
    if d == 1:
        return v
    if d == -1:
        return neg(v)
    assert callable(d)
    local = d(ans, *args, **params)
    if type(local) is np.float64 and _narrower_than_float64(v):
        # A constant made of Python numbers (x / 2's local derivative is NumPy's
        # divide(1.0, 2), a float64 scalar, which would promote a float32 v): as
        # a Python number it takes v's float type, as NumPy 2 does with 1 / 2.
        local = local.item()
    if type(local) is not Wirtinger:
        return mul(local, v)
    if transposed:  # c ↦ dz c + conj(dzbar c)
        return add(mul(local.dz, v), conj(mul(local.dzbar, v)))
    term = add(mul(local.dz, v), mul(local.dzbar, conj(v)))
    return term if is_complex(ans) else real(term)


_FLOAT64, _COMPLEX128 = np.dtype(np.float64), np.dtype(np.complex128)


def is_complex(x: Any) -> bool:
    """Whether ``x`` (a value, a traced value or a staged one) has a complex dtype."""
    try:
        value = primal_value(x)
    except TypeError:  # a symbolic expression: a real scalar
        return False
    if isinstance(value, complex):
        return True
    dtype = getattr(value, "dtype", None)  # arrays, and abstract values
    if dtype is not None:
        return bool(np.dtype(dtype).kind == "c")
    return bool(np.iscomplexobj(value))


def cotangent_for(ct: Any, arg: Any) -> Any:
    """The cotangent ``ct`` of ``arg`` in ``arg``'s own dtype (JAX's rule).

    Where a real argument met a complex value (``x * 1j``), its cotangent comes
    out complex; the derivative with respect to a real input is real, the real
    part (the imaginary part pairs with a direction ``x`` cannot move in). The
    same goes for precision: a float32 argument's cotangent is float32 however
    wide the arithmetic after it. This is where promotion is undone, next to
    where broadcasting is (``sum_to``). Integer and boolean arguments (not
    differentiated) and values whose dtype is unknown are left as they are.
    """
    if (
        (type(ct) is float and type(arg) is float)
        or type(ct) is core.Zero
        or ct is None
    ):
        return ct  # (scalar graphs: nothing to convert)
    want = _dtype_or_none(arg)
    if want is None or want.kind not in "fc":
        return ct
    have = _dtype_or_none(ct)
    if have is None or have == want:
        return ct
    if have.kind == "c" and want.kind == "f":
        ct = real(ct)
        have = _dtype_or_none(ct)
    if have is not None and have != want:
        ct = astype(ct, dtype=want)
    return ct


def _narrower_than_float64(v: Any) -> bool:
    dtype = _dtype_or_none(v)
    return (
        dtype is not None
        and dtype.kind in "fc"
        and dtype.itemsize < 8 * (1 + (dtype.kind == "c"))
    )


def _dtype_or_none(x: Any) -> np.dtype | None:
    if type(x) is np.ndarray or type(x) is UndefinedPrimal:
        return np.dtype(x.dtype)
    if type(x) is float:
        return _FLOAT64
    if type(x) is complex:
        return _COMPLEX128
    if type(x) is int or type(x) is bool:
        return None
    try:
        value = primal_value(x)
    except TypeError:  # a symbolic expression: a real scalar
        return None
    if isinstance(value, Tracer):  # an abstract value knows its dtype
        return np.dtype(value.dtype)
    if type(value) is float:
        return _FLOAT64
    if type(value) is complex:
        return _COMPLEX128
    dtype = getattr(value, "dtype", None)
    return None if dtype is None else np.dtype(dtype)


def elementwise_jvp(
    derivs: Sequence[Deriv],
    tangents: Sequence[Any],
    ans: Any,
    args: Sequence[Any],
    params: dict[str, Any],
) -> Any:
    """The output tangent of an elementwise primitive (None: zero).

    Each tangent times its local derivative, summed and broadcast to the output.
    """
    out = None
    for i, t in enumerate(tangents):
        d = derivs[i]
        if t is None or d is None:
            continue
        term = _times_local_derivative(d, t, ans, args, params)
        out = term if out is None else add(out, term)
    if out is not None and shape_of(out) != shape_of(ans):
        out = broadcast_to(out, shape=shape_of(ans))
    return out


def elementwise_vjp(
    derivs: Sequence[Deriv],
    i: int,
    ct: Any,
    ans: Any,
    args: Sequence[Any],
    params: dict[str, Any],
) -> Any:
    """An elementwise primitive's cotangent for argument ``i`` (None: zero).

    The local Jacobian is diagonal, so it is its own transpose: the cotangent
    times the local derivative, summed back to the argument's shape where the
    argument was broadcast.
    """
    d = derivs[i]
    if d is None:
        return None
    term = _times_local_derivative(d, ct, ans, args, params, transposed=True)
    arg = args[i]
    if type(term) is float and type(arg) is float:  # scalar graphs: nothing to undo
        return term
    arg_shape = shape_of(arg)
    if shape_of(term) != arg_shape:  # undo broadcasting
        term = sum_to(term, shape=arg_shape)
    return cotangent_for(term, arg)


def multilinear_jvp(
    prim: Primitive,
    tangents: Sequence[Any],
    args: Sequence[Any],
    params: dict[str, Any],
) -> Any:
    """The JVP of a primitive linear in each argument: one term per tangent, summed."""
    out = None
    for k, t in enumerate(tangents):
        if t is None:
            continue
        term = bind(prim, (*args[:k], t, *args[k + 1 :]), params or NO_PARAMS)
        out = term if out is None else add(out, term)
    return out


def _elementwise(
    name: str, impl: Any, *derivs: Deriv, doc: str = "", linearity: str | None = None
) -> Primitive:
    RULES[name] = prim = Primitive(
        name, impl, derivs=derivs, doc=doc, linearity=linearity
    )
    return prim


def _linear(
    name: str, impl: Any, transpose: Any, doc: str = "", linearity: str = "linear"
) -> Primitive:
    """A linear (or bilinear) primitive: its transpose; its JVP follows from linearity.

    ``transpose(ct, *args, **params)`` returns one cotangent per argument; the
    arguments it transposes for are :class:`~autodiff_ref.core.UndefinedPrimal`
    (only their ``shape`` and ``dtype`` are known).
    """
    RULES[name] = prim = Primitive(
        name, impl, transpose=transpose, doc=doc, linearity=linearity
    )
    return prim


def _real_only(name: str, *derivs: Any) -> tuple[Any, ...]:
    """Local derivatives that hold for real arguments only (which side of a kink).

    Complex numbers have no order that makes them differentiable (NumPy compares
    them lexicographically), so these refuse them with
    :func:`~autodiff_ref.arguments.refuse_complex`, instead of a wrong number.
    """

    def checked(deriv: Any) -> Any:
        def local_derivative(ans: Any, *args: Any, **params: Any) -> Any:
            refuse_complex(f"the derivative of {name}", *args)
            return deriv(ans, *args, **params)

        return local_derivative

    return tuple(checked(d) for d in derivs)


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


def _one_zero(like: Any) -> tuple[Any, Any]:
    """1 and 0 in ``like``'s real float type: where(c, 1.0, 0.0) alone is float64."""
    try:
        dtype = core._dtype_of(like)
    except TypeError:  # a symbolic expression: a real scalar, any float type
        return 1.0, 0.0
    if dtype.kind != "f":
        return 1.0, 0.0
    return dtype.type(1.0), dtype.type(0.0)


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


def _complex_argument(x: Any) -> bool:
    """Whether ``x`` is complex and means it (not a complex step of a real number).

    Inside :func:`~autodiff_ref.numerical.complex_step_stand_ins` a complex value
    is a real input plus a tiny imaginary step, and the real rule is the one the
    step must see.
    """
    return is_complex(x) and not substituting_impls()


def _half_over_modulus(ans: Any) -> Any:
    # 1 / (2 |z|), and 0 where z = 0: there abs takes the derivative 0, as for reals.
    return where(ans, div(0.5, where(ans, ans, 1.0)), 0.0)


def _abs_derivative(ans: Any, x: Any) -> Any:
    # |z| = sqrt(z conj(z)): ∂/∂z = conj(z) / (2|z|), ∂/∂conj(z) = z / (2|z|), so the
    # tangent is Re(conj(z) t) / |z|. Real x: sign(x).
    if not _complex_argument(x):
        return sign(x)
    half = _half_over_modulus(ans)
    return Wirtinger(mul(conj(x), half), mul(x, half))


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
abs: Primitive = _elementwise("abs", _abs, lambda ans, x: _abs_derivative(ans, x))
sign: Primitive = _elementwise("sign", _sign, None)
heaviside: Primitive = _elementwise("heaviside", _heaviside, None,
                                    doc="step: 0, 1/2 at 0, 1")
maximum: Primitive = _elementwise("maximum", _maximum, *_real_only("maximum",
                                  lambda ans, x, y: heaviside(sub(x, y)),
                                  lambda ans, x, y: heaviside(sub(y, x))))
minimum: Primitive = _elementwise("minimum", _minimum, *_real_only("minimum",
                                  lambda ans, x, y: heaviside(sub(y, x)),
                                  lambda ans, x, y: heaviside(sub(x, y))))
where: Primitive = _elementwise("where", _where,
                                None,
                                lambda ans, c, x, y: where(c, *_one_zero(ans)),
                                lambda ans, c, x, y: where(c, *_one_zero(ans)[::-1]),
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


# -- linear primitives: the transpose (the JVP is the map itself) ------------
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
    # np.add.reduce is what np.sum calls for an ndarray, minus its Python wrapper:
    # reverse mode undoes every broadcast with this, so the wrapper showed.
    return (
        np.add.reduce(x, axis=axes).reshape(shape)[()] if axes else x.reshape(shape)[()]
    )


def _reshape(x: Any, shape: tuple[int, ...]) -> Any:
    # What np.reshape does, without its Python wrapper for the common inputs (an
    # ndarray, a float): a backward pass reshapes at every sum and product.
    if type(x) is np.ndarray:
        return x.reshape(shape)[()]
    if type(x) is float or isinstance(x, np.generic):
        return np.asarray(x).reshape(shape)[()]
    return np.reshape(x, shape)[()]


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    # np.broadcast_to's answer to an array already of that shape, a read-only view,
    # without its Python checks: a scalar output's sum is transposed this way.
    if type(x) is np.ndarray and x.shape == shape and shape:  # (0-d: a scalar below)
        view = x.view()
        view.flags.writeable = False
        return view
    return np.broadcast_to(x, shape)[()]


sum: Primitive = _linear(
    "sum", lambda x, axis=None, keepdims=False: (  # np.sum's own call for an ndarray
        np.add.reduce(x, axis=axis, keepdims=keepdims) if type(x) is np.ndarray
        else np.sum(x, axis=axis, keepdims=keepdims)),
    transpose=lambda ct, x, axis=None, keepdims=False: (broadcast_to(
        reshape(ct, shape=_keepdims_shape(x.shape, axis)), shape=x.shape),),
    doc="sum over axis",
)  # fmt: skip
sum_to: Primitive = _linear(
    "sum_to", _sum_to,
    transpose=lambda ct, x, shape: (broadcast_to(ct, shape=x.shape),),
    doc="sum down to a shape (undoes broadcasting)",
)  # fmt: skip
broadcast_to: Primitive = _linear(
    "broadcast_to", _broadcast_to,
    transpose=lambda ct, x, shape: (sum_to(ct, shape=x.shape),),
    doc="broadcast to a shape",
)  # fmt: skip
reshape: Primitive = _linear(
    "reshape", _reshape,
    transpose=lambda ct, x, shape: (reshape(ct, shape=x.shape),),
    doc="same elements, new shape",
)  # fmt: skip
transpose: Primitive = _linear(
    "transpose", lambda x, axes=None: (  # an ndarray's own method: np.transpose's work
        x.transpose(axes) if type(x) is np.ndarray else np.transpose(x, axes)),
    transpose=lambda ct, x, axes=None: (transpose(  # axes mod ndim: -1 is valid in NumPy
        ct, axes=None if axes is None else tuple(np.argsort(np.mod(axes, len(axes))))),),
    doc="permute axes",
)  # fmt: skip
getitem: Primitive = _linear(
    "getitem", lambda x, index: np.asarray(x)[index],  # Python floats cannot be indexed
    transpose=lambda ct, x, index: (scatter_add(ct, index=index, shape=x.shape),),
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
    transpose=lambda ct, x, index, shape: (getitem(ct, index=index),),
    doc="zeros(shape) with x added at index (the transpose of x[index])",
)  # fmt: skip


def _matrix_transpose(x: Any) -> Any:
    nd = len(shape_of(x))
    return transpose(x, axes=(*range(nd - 2), nd - 1, nd - 2))


def _matmul_transpose(ct: Any, a: Any, b: Any) -> tuple[Any, Any]:
    # One factor is the linear one (an UndefinedPrimal), the other a constant.
    # Treat vectors as matrices (a row for the left factor, a column for the
    # right one), as np.matmul does, then undo that and any batch broadcasting.
    a_shape, b_shape = shape_of(a), shape_of(b)
    ct_shape = given_ct_shape = shape_of(ct)
    if len(a_shape) == 1:
        ct_shape = (
            (*ct_shape[:-1], 1, ct_shape[-1]) if len(b_shape) > 1 else (1, *ct_shape)
        )
    if len(b_shape) == 1:
        ct_shape = (*ct_shape, 1)
    # (Reshapes and sums that would not change the shape are skipped: they would
    # only copy the numbers, and this runs for every product in a backward pass.)
    ct2 = ct if ct_shape == given_ct_shape else reshape(ct, shape=ct_shape)
    if type(a) is UndefinedPrimal:
        b2 = reshape(b, shape=(*b_shape, 1)) if len(b_shape) == 1 else b
        g, shape = matmul(ct2, _matrix_transpose(b2)), a_shape
        promoted = (1, *a_shape) if len(a_shape) == 1 else a_shape
    else:
        a2 = reshape(a, shape=(1, *a_shape)) if len(a_shape) == 1 else a
        g, shape = matmul(_matrix_transpose(a2), ct2), b_shape
        promoted = (*b_shape, 1) if len(b_shape) == 1 else b_shape
    # Sum over broadcast batch axes, then drop the axis a vector was given.
    g_shape = shape_of(g)
    if g_shape != promoted:
        g, g_shape = sum_to(g, shape=promoted), promoted
    g = g if g_shape == shape else reshape(g, shape=shape)
    return (g, None) if type(a) is UndefinedPrimal else (None, g)


# matmul is bilinear: linear in each factor with the other held fixed.
matmul: Primitive = _linear(
    "matmul", np.matmul, transpose=_matmul_transpose, doc="x @ y", linearity="bilinear"
)


def _stack_transpose(ct: Any, *xs: Any, axis: int = 0) -> tuple[Any, ...]:
    # One slice of the cotangent per piece: n pieces, n slices, read from ct's shape.
    axis = axis % len(shape_of(ct))
    lead = (slice(None),) * axis
    return tuple(
        getitem(ct, index=(*lead, k)) if type(x) is UndefinedPrimal else None
        for k, x in enumerate(xs)
    )


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


def _concatenate_transpose(
    ct: Any, *xs: Any, axis: int = 0, offsets: Any = None
) -> tuple[Any, ...]:
    if offsets is None:
        raise TypeError(
            "rules.concatenate needs offsets=concatenate_offsets(xs, axis) to be "
            "differentiated in reverse mode; call autodiff_ref.numpy.concatenate, which "
            "passes them"
        )
    axis = axis % len(shape_of(ct))
    lead = (slice(None),) * axis
    return tuple(
        getitem(ct, index=(*lead, slice(offsets[k], offsets[k + 1])))
        if type(x) is UndefinedPrimal
        else None
        for k, x in enumerate(xs)
    )


stack: Primitive = _linear(
    "stack", lambda *xs, axis=0: np.stack(xs, axis=axis),
    transpose=_stack_transpose, doc="join along a new axis",
)  # fmt: skip
concatenate: Primitive = _linear(
    "concatenate", lambda *xs, axis=0, offsets=None: np.concatenate(xs, axis=axis),
    transpose=_concatenate_transpose, doc="join along an existing axis",
)  # fmt: skip


# == More of NumPy: elementwise functions ======================================
# Each local derivative is written with the primitives, as above, so it can be
# differentiated again.  The piecewise-constant functions (floor, ceil) have
# derivative None (zero); mod's derivative ignores its jumps (see the module
# docstring).
_LN2, _LN10 = math.log(2.0), math.log(10.0)


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
floor_divide: Primitive = _elementwise("floor_divide", np.floor_divide, None, None,
                                       doc="x // y, the integer part of mod's division")
mod: Primitive = _elementwise("mod", np.mod,  # x - y * (x // y), Python's %
                              1,
                              lambda ans, x, y: neg(floor_divide(x, y)),
                              doc="x % y, with the sign of y")
# fmt: on


# real, imag and conj are linear over the reals (not complex-linear: no complex
# derivative), so each is its own JVP; their transposes are JAX's, for the pairing
# Re(sum(u v)): real's cotangent c goes back as c + 0i, imag's as -i c, conj's as
# conj(c). A real argument's cotangent is real (cotangent_for).
def _complex(x: Any) -> bool:
    return bool(np.dtype(x.dtype).kind == "c")


real: Primitive = _linear(
    "real", np.real,
    transpose=lambda ct, x: (astype(ct, dtype=x.dtype) if _complex(x) else ct,),
    doc="the real part (x itself for real x)",
)  # fmt: skip
imag: Primitive = _linear(
    "imag", np.imag,
    transpose=lambda ct, x: (mul(-1j, ct) if _complex(x) else None,),
    doc="the imaginary part (0 for real x)",
)  # fmt: skip
conj: Primitive = _linear(
    "conj", np.conj, transpose=lambda ct, x: (conj(ct),),
    doc="the complex conjugate (x itself for real x)",
)  # fmt: skip


# == More of NumPy: reductions and linear maps ==================================
#: Names of the primitives given by a JVP alone, *not* linear in their
#: arguments (prod, max, inv, ...): their rules use the output or the arguments,
#: like an elementwise local derivative does. Reverse mode transposes the JVP.
NONLINEAR: set[str] = set()


def _nonlinear(
    name: str,
    impl: Any,
    jvp: Any,
    doc: str = "",
    transpose: Any = None,
    linear_in: tuple[int, ...] | None = None,
    multiple_results: bool = False,
) -> Primitive:
    # Not _linear: nothing may take these rules for linear maps (Taylor mode's
    # shortcut for linear primitives would be wrong for them).
    NONLINEAR.add(name)
    RULES[name] = prim = Primitive(
        name,
        impl,
        jvp=jvp,
        doc=doc,
        transpose=transpose,
        linear_in=linear_in,
        multiple_results=multiple_results,
    )
    return prim


def _angle_jvp(ts: Sequence[Any], ans: Any, x: Any) -> Any:
    # angle(z) = Im log z, so its tangent is Im(t / z): linear over the reals in t.
    # A real x has angle 0 or pi, piecewise constant: tangent zero.
    return imag(div(ts[0], x)) if _complex_argument(x) else None


angle: Primitive = _nonlinear(
    "angle", np.angle, jvp=_angle_jvp,
    doc="the argument of z in (-pi, pi]: d angle = Im(dz / z)",
)  # fmt: skip


def _axes_tuple(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple, maybe negative) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(
        sorted({a % ndim for a in ((axis,) if isinstance(axis, int) else axis)})
    )


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
    doc="product over axis",
)  # fmt: skip


def _selection_weights(x: Any, ans: Any, axis: Any) -> Any:
    """Where ``x`` attains its max (or min) over ``axis``: 1/count there, 0 elsewhere.

    Computed from primal values, so the weights are constants: max and min are
    piecewise linear, and a tie shares the derivative evenly, as maximum does.
    Written with primitives (a comparison, where, sum), so a staged program
    computes them from its inputs' values, not from its trace's.
    """
    xv = primal_value(x)
    best = reshape(primal_value(ans), shape=_keepdims_shape(shape_of(xv), axis))
    hit = where(xv == best, *_one_zero(xv))
    return div(hit, sum(hit, axis=axis, keepdims=True))


def _selection(name: str, impl: Any, doc: str) -> Primitive:
    return _nonlinear(
        name, lambda x, axis=None, keepdims=False: impl(x, axis=axis, keepdims=keepdims),
        jvp=lambda ts, ans, x, axis=None, keepdims=False: sum(
            mul(_selection_weights(x, ans, axis), ts[0]), axis=axis, keepdims=keepdims),
        doc=doc,
    )  # fmt: skip


amax: Primitive = _selection("max", np.max, "largest element over axis (ties share)")
amin: Primitive = _selection("min", np.min, "smallest element over axis (ties share)")


# Values that choose a derivative's branch (the sorting permutation, the check
# that eigenvalues are distinct) are primitives of their own:
# a staged program computes them from the values it is run on, like every other
# equation. They are not derivative rules, so they are kept out of RULES (as the
# comparisons of autodiff_ref.program.tracing are): their derivatives are 0, or 1
# for the check, which passes its values through.
VALUE_CHOICES: dict[str, Primitive] = {}


def _value_choice(name: str, impl: Any, jvp: Any, doc: str) -> Primitive:
    VALUE_CHOICES[name] = prim = Primitive(name, impl, jvp=jvp, doc=doc)
    return prim


argsort: Primitive = _value_choice(
    "argsort", lambda x, axis: np.argsort(x, axis=axis, kind="stable"),
    jvp=lambda ts, ans, x, axis: None,
    doc="the stable sorting permutation along axis (derivative 0)",
)  # fmt: skip


def _reverse_along(x: Any, axis: int) -> Any:
    return getitem(x, index=(slice(None),) * axis + (slice(None, None, -1),))


cumsum: Primitive = _linear(
    "cumsum", lambda x, axis: np.cumsum(x, axis=axis),
    transpose=lambda ct, x, axis: (_reverse_along(  # the transpose sums from the end
        cumsum(_reverse_along(ct, axis % len(x.shape)), axis=axis),
        axis % len(x.shape)),),
    doc="running sum along an axis",
)  # fmt: skip


def _dtype_of(x: Any) -> np.dtype:
    return np.asarray(primal_value(x)).dtype


astype: Primitive = _linear(
    "astype", lambda x, dtype: np.asarray(x).astype(dtype)[()],
    # Back in x's dtype: from complex to real, the real part (cotangent_for).
    transpose=lambda ct, x, dtype: (cotangent_for(ct, x),),
    doc="convert to another float dtype",
)  # fmt: skip


# -- einsum: linear in each operand ----------------------------------------------
# Subscripts are kept in explicit form ("ij,jk->ik"): the transpose for operand
# i is another einsum, of the output cotangent with the other operands, whose
# output is operand i's subscripts.
def _einsum_transpose(ct: Any, *operands: Any, subscripts: str) -> tuple[Any, ...]:
    # Linear in each operand with the others fixed: exactly one is undefined.
    (i,) = [k for k, op in enumerate(operands) if type(op) is UndefinedPrimal]
    out: list[Any] = [None] * len(operands)
    out[i] = _einsum_operand_cotangent(i, ct, subscripts, operands)
    return tuple(out)


def _einsum_operand_cotangent(
    i: int, ct: Any, subscripts: str, operands: Sequence[Any]
) -> Any:
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
            extra_ops.append(_like(np.ones(sizes[letter]), ct))
    # A letter repeated in operand i read a diagonal: its transpose writes one,
    # through an identity matrix per extra occurrence.
    out_letters = []
    seen: set[str] = set()
    for letter in target:
        if letter in seen:
            fresh = next(unused)
            extra_terms.append(letter + fresh)
            extra_ops.append(_like(np.eye(sizes[letter]), ct))
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


# Linear in each operand, but not in all of them together (einsum("i,i->", x, x) is
# quadratic): multilinear, transposed one operand at a time, like matmul.
einsum: Primitive = _linear(
    "einsum", lambda *operands, subscripts: np.einsum(subscripts, *operands),
    transpose=_einsum_transpose, linearity="multilinear",
    doc="Einstein summation (linear in each operand)",
)  # fmt: skip


def _result_jvp(
    ts: Sequence[Any], ans: Any, results: tuple[Any, ...], index: int
) -> Any:
    return None if ts[0] is None else ts[0][index]


#: Result ``index`` of a primitive with several results, as the tape records it:
#: the primitive's node holds the tuple, and one node of this primitive per result
#: picks its part.  The backward pass gathers the parts' cotangents into one tuple
#: for the primitive (a :class:`~autodiff_ref.core.Zero` for a part whose cotangent
#: never arrives), so its JVP is transposed once for all of them.  Not in RULES:
#: no user calls it, and only reverse mode's tape records it.
result = Primitive(
    "result",
    lambda results, index: results[index],
    jvp=_result_jvp,
    doc="result k of a primitive with several results",
)


# == Linear algebra (Giles 2008, "Collected matrix derivative results") =========
# Matrices may come in stacks (..., m, n), as in np.linalg.  The rules solve
# linear systems with the `solve` primitive instead of forming inverses, except
# where the inverse itself is the derivative (det, slogdet).  Decompositions
# (slogdet, eigh, svd, qr) are primitives with several results: their value is a
# tuple of arrays, as NumPy returns it, and their JVP a tuple of tangents.
def _like(constant: np.ndarray, x: Any) -> np.ndarray:
    """A constant in ``x``'s real float type: float32 stays float32, not float64."""
    dtype = core._dtype_of(x)
    return constant.astype(dtype) if dtype.kind == "f" else constant


def _eye(n: int, like: Any) -> np.ndarray:
    return _like(np.eye(n), like)


def _conj(x: Any) -> Any:
    """The complex conjugate; a real ``x`` itself (no equation: conj is the identity)."""
    return conj(x) if is_complex(x) else x


def _real_part(x: Any) -> Any:
    """The real part; a real ``x`` itself (no equation: real is the identity)."""
    return real(x) if is_complex(x) else x


def _i_imag(x: Any) -> Any:
    """``i Im(x) = (x - conj(x)) / 2``, complex to complex (no real value in between)."""
    return mul(0.5, sub(x, conj(x)))


def _adjoint(x: Any) -> Any:
    """The conjugate transpose x^H of a (stack of) matrices: x^T for real x."""
    return _matrix_transpose(_conj(x))


def _hermitian_part(x: Any) -> Any:
    """The Hermitian part (x + x^H) / 2 of a (stack of) square matrices."""
    return mul(0.5, add(x, _adjoint(x)))


def _diagonal(m: Any) -> Any:
    """The diagonal of each square matrix, as a vector."""
    return sum(mul(m, _eye(shape_of(m)[-1], m)), axis=-1)


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
    # Rounding leaves a computed Gram matrix asymmetric by up to about n ε of its
    # scale (a sum of n products per entry), in the matrix's own precision:
    # 64 n ε, and never below the 1e-10 float64 matrices have always had.
    eps = np.finfo(a.dtype).eps if a.dtype.kind in "fc" else np.finfo(float).eps
    rtol = max(1e-10, 64 * a.shape[-1] * float(eps))
    if np.any(np.abs(a - np.conj(np.swapaxes(a, -1, -2))) > rtol * scale):
        raise ValueError(
            f"{what} needs a symmetric matrix (Hermitian if complex; NumPy would silently "
            "read only its lower triangle); symmetrize it first, e.g. (A + A.conj().T) / 2"
        )


def _distinct(
    values: Any, what: str, nonzero: bool = False, only_zero: bool = False
) -> Any:
    """``values``, after refusing a decomposition whose derivative does not exist.

    A check of values, so it is a primitive of its own (the identity, derivative 1):
    a staged program runs it on its inputs' values, and raises when they call it.
    """
    v = np.sort(np.asarray(values), axis=-1)
    tol = 64 * np.finfo(float).eps * np.max(np.abs(v), initial=0.0)
    if not only_zero and v.shape[-1] > 1 and np.any(np.diff(v, axis=-1) <= tol):
        raise ValueError(
            f"the derivative of {what} does not exist here: two of its values are equal "
            f"(values {v.tolist()}), so the basis of their shared subspace is not unique "
            "and the ordered values have only one-sided derivatives"
        )
    if nonzero and np.any(np.abs(v) <= tol):
        raise ValueError(
            f"the derivative of {what} of a non-square or complex matrix does not exist "
            f"with a zero singular value (values {v.tolist()})"
        )
    return values


require_distinct: Primitive = _value_choice(
    "require_distinct", _distinct, jvp=lambda ts, ans, values, **params: ts[0],
    doc="the values, refused where two are equal (a derivative of eigh, svd)",
)  # fmt: skip


def _gap_inverse(w: Any) -> Any:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal and 0 on it."""
    n = shape_of(w)[-1]
    gap = sub(_row(w), _column(w))
    eye = np.eye(n, dtype=bool)
    return where(eye, 0.0, div(1.0, where(eye, 1.0, gap)))


inv: Primitive = _nonlinear(
    "inv", _inv,
    jvp=lambda ts, ans, a: neg(matmul(ans, matmul(ts[0], ans))),
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


def _solve_transpose(ct: Any, a: Any, b: Any) -> tuple[None, Any]:
    # Linear in B for a fixed A (its JVP in B is solve itself): B̄ = A^-T X̄.
    return None, sum_to(solve(_matrix_transpose(a), ct), shape=b.shape)


solve: Primitive = _nonlinear(
    "solve", _solve, jvp=_solve_jvp, transpose=_solve_transpose, linear_in=(1,),
    doc="X = A^-1 B for B of shape (..., n, k): dX = A^-1 (dB - dA X)",
)  # fmt: skip


def _adjugate(a: Any) -> Any:
    """adj(A) = det(A) A^-1, from the SVD A = U diag(s) V^H, without inverting.

    det(A) A^-1 = det(U) det(V^H) V diag(p) U^H with p_i the product of the other
    singular values: no division, so it holds where A is singular too (rank n - 1
    leaves one p_i nonzero; rank n - 2 or less makes every p_i, and adj(A), zero).
    """
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.where(np.eye(n, dtype=bool), np.ones((), s.dtype), s[..., None, :])
    p = np.prod(others, axis=-1)  # p_i = prod_{j != i} s_j
    phase = np.linalg.det(u) * np.linalg.det(vh)  # |phase| = 1: a sign for real A
    if not np.iscomplexobj(phase):
        phase = np.sign(phase)
    v = np.conj(np.swapaxes(vh, -1, -2))
    uh = np.conj(np.swapaxes(u, -1, -2))
    return (phase[..., None, None] * v * p[..., None, :]) @ uh


def _adjugate_jvp(ts: Sequence[Any], ans: Any, a: Any) -> Any:
    # A adj(A) = det(A) I: dA adj + A d adj = tr(adj dA) I, so
    # d adj = A^-1 (tr(adj dA) I - dA adj), where A is invertible.
    t = ts[0]
    n = shape_of(a)[-1]
    rate = reshape(_trace(matmul(ans, t)), shape=(*shape_of(a)[:-2], 1, 1))
    return solve(a, sub(mul(rate, _eye(n, t)), matmul(t, ans)))


adjugate: Primitive = _nonlinear(
    "adjugate", _adjugate, jvp=_adjugate_jvp,
    doc="adj(A) = det(A) A^-1 (det's gradient, transposed): "
    "d adj = A^-1 (tr(adj dA) I - dA adj)",
)  # fmt: skip
det: Primitive = _nonlinear(
    "det", np.linalg.det,
    # Jacobi's formula with the adjugate, which exists where A is singular too.
    jvp=lambda ts, ans, a: sum(mul(_matrix_transpose(adjugate(a)), ts[0]), axis=(-2, -1)),
    doc="determinant: d det = tr(adj(A) dA)",
)  # fmt: skip


def _slogdet(a: Any) -> tuple[Any, Any]:
    sign, logabsdet = np.linalg.slogdet(a)
    return sign, logabsdet


def _slogdet_jvp(ts: Sequence[Any], ans: Any, a: Any) -> tuple[Any, Any]:
    # log det A = log|det A| + i arg(det A), and d log det A = tr(A^-1 dA) (Jacobi):
    # its real part moves log|det A|, its imaginary part turns the sign, a phase.
    # A real sign is piecewise constant: the imaginary part is 0, the tangent None.
    sign = ans[0]
    d = _trace(solve(a, ts[0]))
    if not is_complex(sign):
        return None, d
    return mul(sign, _i_imag(d)), real(d)


slogdet: Primitive = _nonlinear(
    "slogdet", _slogdet, jvp=_slogdet_jvp, multiple_results=True,
    doc="(sign, log |det A|): d log |det A| = Re tr(A^-1 dA), "
    "d sign = i sign Im tr(A^-1 dA)",
)  # fmt: skip


def _cholesky(a: Any) -> Any:
    _check_symmetric(a, "cholesky")
    return np.linalg.cholesky(a)


def _phi(x: Any) -> Any:
    """The lower triangle with the diagonal halved (the map of Cholesky's derivative)."""
    n = shape_of(x)[-1]
    return mul(x, _like(np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n), x))


def _cholesky_jvp(ts: Sequence[Any], ans: Any, a: Any) -> Any:
    # A = L L^H: dL = L Φ(L^-1 dA L^-H), dA's Hermitian part (A is Hermitian);
    # L^-1 dA L^-H is Hermitian too, so Φ's halved diagonal is real, as L's is.
    inner = solve(ans, _adjoint(solve(ans, _hermitian_part(ts[0]))))
    return matmul(ans, _phi(inner))


cholesky: Primitive = _nonlinear(
    "cholesky", _cholesky, jvp=_cholesky_jvp,
    doc="A = L L^H for Hermitian positive definite A: dL = L Φ(L^-1 dA L^-H)",
)  # fmt: skip


def _eigh(a: Any) -> tuple[Any, Any]:
    _check_symmetric(a, "eigh")
    w, v = np.linalg.eigh(a)
    return w, v


def _projected(u: Any, t: Any, v: Any) -> Any:
    """``U^H dA V``: the tangent in the bases of a decomposition (diag: the values')."""
    return matmul(_adjoint(u), matmul(t, v))


def _shared_in_clusters(values: Any, tangents: Any) -> Any:
    """Each value's tangent averaged over the values equal to it (to rounding).

    At repeated eigenvalues (or singular values) the basis of their subspace is
    arbitrary, and so is each one's diag(V^T dA V); their sum, the trace over
    the subspace, is not. Shared evenly, as max shares a tie, the tangents give
    every function symmetric in the values its derivative (the nuclear norm, a
    sum of eigenvalues), and are diag(V^T dA V) itself where the values are
    distinct. The weights are computed from values, as max's are.
    """
    vv = primal_value(values)
    dtype = core._dtype_of(vv)
    eps = float(np.finfo(dtype if dtype.kind in "fc" else float).eps)
    tol = mul(64 * eps, amax(abs(vv), axis=-1, keepdims=True))
    near = abs(sub(_row(vv), _column(vv))) <= _column(tol)
    hit = where(near, *_one_zero(vv))
    weights = div(hit, sum(hit, axis=-1, keepdims=True))
    return sum(mul(weights, _row(tangents)), axis=-1)


def _eigh_jvp(ts: Sequence[Any], ans: Any, a: Any) -> tuple[Any, Any]:
    # A = V diag(w) V^H: dw = Re diag(P), dV = V (F ∘ P), P = V^H dA V.  P is
    # Hermitian, so its diagonal is real; F's zero diagonal fixes each column's
    # phase (Re (V^H dV)_ii = 0 from V^H V = I, Im (V^H dV)_ii = 0 by choice), as JAX.
    w, v = ans
    w = require_distinct(w, what="eigh")
    p = _projected(v, _hermitian_part(ts[0]), v)
    return _real_part(_diagonal(p)), matmul(v, mul(_gap_inverse(w), p))


eigh: Primitive = _nonlinear(
    "eigh", _eigh, jvp=_eigh_jvp, multiple_results=True,
    doc="A = V diag(w) V^H, results (w, V): dw = diag(V^H dA V), dV = V (F ∘ V^H dA V)",
)  # fmt: skip


def _eigvalsh(a: Any) -> Any:
    _check_symmetric(a, "eigvalsh")
    return np.linalg.eigvalsh(a)


def _eigvalsh_jvp(ts: Sequence[Any], ans: Any, a: Any) -> Any:
    # dw = Re diag(V^H dA V), shared within repeated values: no eigenvector tangent,
    # so no refusal (the eigenvectors' derivatives are what need distinct values).
    v = eigh(a)[1]
    p = _projected(v, _hermitian_part(ts[0]), v)
    return _shared_in_clusters(ans, _real_part(_diagonal(p)))


eigvalsh: Primitive = _nonlinear(
    "eigvalsh", _eigvalsh, jvp=_eigvalsh_jvp,
    doc="eigenvalues w of Hermitian A: dw = Re diag(V^H dA V), shared where values repeat",
)  # fmt: skip


def _svd(a: Any) -> tuple[Any, Any, Any]:
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u, s, vh


def _svd_jvp(ts: Sequence[Any], ans: Any, a: Any) -> tuple[Any, Any, Any]:
    m, n = shape_of(a)[-2:]
    k = m if m < n else n
    u, s, vh = ans
    v = _adjoint(vh)
    # A complex pair (u_i, v_i) is unique up to a shared phase, fixed through 1 / s_i
    # below: a zero singular value leaves it free.
    s = require_distinct(s, what="svd", nonzero=m != n or is_complex(a))
    t = ts[0]
    dp = _projected(u, t, v)
    f = _gap_inverse(mul(s, s))  # 1 / (s_j² - s_i²)
    dph = _adjoint(dp)
    du_in_u = mul(f, add(mul(dp, _row(s)), mul(_column(s), dph)))
    if is_complex(dp):  # (for real dA this term is 0: dP's diagonal is real)
        # The phase: Im diag(U^H dU) = Im diag(dP) / s, with Im diag(V^H dV) = 0,
        # JAX's choice; only functions blind to the shared phase are unique.
        phase = div(_i_imag(_diagonal(dp)), s)
        du_in_u = add(du_in_u, mul(_eye(k, s), _row(phase)))
    du = matmul(u, du_in_u)
    dv = matmul(v, mul(f, add(mul(_column(s), dp), mul(dph, _row(s)))))
    if m > k:  # the part of dA outside U's columns
        du = add(du, div(sub(matmul(t, v), matmul(u, dp)), _row(s)))
    if n > k:
        dv = add(dv, div(sub(matmul(_adjoint(t), u), matmul(v, dph)), _row(s)))
    return du, _real_part(_diagonal(dp)), _adjoint(dv)


svd: Primitive = _nonlinear(
    "svd", _svd, jvp=_svd_jvp, multiple_results=True,
    doc="A = U diag(s) V^H, reduced, results (U, s, V^H), after Townsend (2016)",
)  # fmt: skip


def _full_rank(a: Any) -> Any:
    """``a``, after refusing a matrix whose pseudo-inverse has no derivative.

    Where ``a`` loses rank, a perturbation can raise it, and the pseudo-inverse
    jumps (1 / s for a singular value s that was 0): a value check, so it is a
    primitive of its own (the identity), run by a staged program on its inputs.
    """
    s = np.linalg.svd(np.asarray(a), compute_uv=False)
    cutoff = 1e-15 * np.max(s, axis=-1, keepdims=True)  # NumPy's default rcond
    if np.any(s <= cutoff):
        raise ValueError(
            "the derivative of pinv does not exist at a matrix without full rank (a "
            f"perturbation can raise the rank, and the pseudo-inverse jumps; singular "
            f"values {s.tolist()}); differentiate a regularized solve instead, e.g. "
            "autodiff_ref.numpy.linalg.solve(A.T @ A + lam * I, A.T)"
        )
    return a


require_full_rank: Primitive = _value_choice(
    "require_full_rank", _full_rank, jvp=lambda ts, ans, a: ts[0],
    doc="the matrix, refused where its rank is not full (a derivative of pinv)",
)  # fmt: skip


def _pinv_jvp(ts: Sequence[Any], ans: Any, a: Any) -> Any:
    # Golub and Pereyra (1973), for A of full (constant) rank, X = A^+:
    # dX = -X dA X + X X^H dA^H (I - A X) + (I - X A) dA^H X^H X.
    a = require_full_rank(a)
    t, x = ts[0], ans
    th, xh = _adjoint(t), _adjoint(x)
    inside = neg(matmul(x, matmul(t, x)))
    left = matmul(x, matmul(xh, sub(th, matmul(matmul(th, a), x))))
    right = matmul(sub(th, matmul(x, matmul(a, th))), matmul(xh, x))
    return add(inside, add(left, right))


pinv: Primitive = _nonlinear(
    "pinv", np.linalg.pinv, jvp=_pinv_jvp,
    doc="X = A^+ for A of full rank: dX = -X dA X + X X^H dA^H (I - A X) "
    "+ (I - X A) dA^H X^H X",
)  # fmt: skip


def _svdvals(a: Any) -> Any:
    return np.linalg.svd(a, compute_uv=False)


def _svdvals_jvp(ts: Sequence[Any], ans: Any, a: Any) -> Any:
    # ds = Re diag(U^H dA V), shared within repeated values (no singular vectors'
    # tangents); a zero singular value is refused where svd refuses it.
    m, n = shape_of(a)[-2:]
    u, s, vh = svd(a)
    s = require_distinct(s, what="svd", nonzero=m != n or is_complex(a), only_zero=True)
    return _shared_in_clusters(
        s, _real_part(_diagonal(_projected(u, ts[0], _adjoint(vh))))
    )


svdvals: Primitive = _nonlinear(
    "svdvals", _svdvals, jvp=_svdvals_jvp,
    doc="singular values s: ds = Re diag(U^H dA V), shared where values repeat",
)  # fmt: skip


def _qr(a: Any) -> tuple[Any, Any]:
    m, n = np.shape(a)[-2:]
    if m < n:
        raise ValueError(
            f"the derivative of qr needs at least as many rows as columns, got {m} x {n} "
            "(R's extra columns make Q non-unique); differentiate qr of the transpose"
        )
    q, r = np.linalg.qr(a)
    return q, r


def _strictly_lower(x: Any) -> Any:
    n = shape_of(x)[-1]
    return mul(x, _like(np.tril(np.ones((n, n)), -1), x))


def _qr_jvp(ts: Sequence[Any], ans: Any, a: Any) -> tuple[Any, Any]:
    # C = Q^H dA R^-1; Ω = L - L^H with L its strict lower triangle (Q^H dQ is
    # anti-Hermitian); dQ = Q Ω + (I - Q Q^H) dA R^-1; dR = (C - Ω) R.
    q, r = ans
    d = _right_solve(ts[0], r)
    c = matmul(_adjoint(q), d)
    low = _strictly_lower(c)
    omega = sub(low, _adjoint(low))
    if is_complex(c):  # (for real dA this term is 0)
        # Ω's diagonal i Im diag(C) keeps R's diagonal real, as LAPACK makes it (JAX).
        omega = add(omega, mul(_eye(shape_of(c)[-1], c), _i_imag(c)))
    dq = add(matmul(q, omega), sub(d, matmul(q, c)))
    dr = matmul(sub(c, omega), r)
    return dq, dr


qr: Primitive = _nonlinear(
    "qr", _qr, jvp=_qr_jvp, multiple_results=True,
    doc="A = Q R, reduced, m >= n, results (Q, R)",
)  # fmt: skip


# == np.fft: linear maps, each transposed by another transform ====================
# JAX's convention: the transpose, not the adjoint (no conjugation), in the bilinear
# pairing sum(u * v).  The DFT matrix is symmetric, so a complex transform's transpose
# is the same transform; rfft and irfft are parts of it, transposed by the other part
# (JAX's _rfft_transpose and _irfft_transpose).  The axis is non-negative and a
# length n (NumPy's n=, s=) is cut or padded outside, by indexing: the primitives
# transform the whole axis.
def _along(axis: int, part: Any) -> tuple[Any, ...]:
    return (slice(None),) * axis + (part,)


def _real_input(x: Any, ct: Any) -> Any:
    """A cotangent for ``x``: its real part if ``x`` is real.

    The transpose of the inclusion of real numbers in the complex ones is the real
    part (JAX's convention): a real input gets a real cotangent.
    """
    return ct if np.dtype(x.dtype).kind == "c" else real(ct)


def _fft(x: Any, axis: int, inverse: bool, norm: Any) -> Any:
    return (np.fft.ifft if inverse else np.fft.fft)(x, axis=axis, norm=norm)


fft: Primitive = _linear(
    "fft", _fft,
    transpose=lambda ct, x, axis, inverse, norm: (
        _real_input(x, fft(ct, axis=axis, inverse=inverse, norm=norm)),),
    doc="discrete Fourier transform along an axis (inverse=True: the inverse one)",
)  # fmt: skip


def _rfft_transpose(ct: Any, x: Any, axis: int, norm: str) -> tuple[Any]:
    # rfft(x) is the first m = n // 2 + 1 entries of fft(x), so its transpose is
    # Re(F^T pad(ct)), with Re(F^T pad(ct))_k = Re(sum_j ct_j w^-jk) for
    # w = exp(2 pi i / n).  irfft(c)_k is Re(sum_j d_j c_j w^jk) with each entry but
    # the first (and, for even n, the last) counted twice (d_j = 2): so the transpose
    # is irfft(ct / d) read at -k mod n, with the norm of the same scale.  A real
    # cotangent, by a map that is linear over the reals (differentiable again).
    n = x.shape[axis]
    flipped = np.mod(-np.arange(n), n)
    y = irfft(mul(ct, _hermitian_weights(n, axis, ct, 0.5)), n=n, axis=axis,
              norm=_SWAPPED_NORM[norm])  # fmt: skip
    return (getitem(y, index=_along(axis, flipped)),)


#: irfft's scale with a norm is rfft's with the other: 1/n, 1/sqrt(n), 1 against 1,
#: 1/sqrt(n), 1/n.
_SWAPPED_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _hermitian_weights(n: int, axis: int, like: Any, other: float) -> np.ndarray:
    """1 for the entries irfft reads once (the first; the last for even n), else
    ``other``, lined up with ``axis`` of ``like`` and in its precision."""
    m = n // 2 + 1
    value = primal_value(like)  # a Tracer (staged) knows its dtype; arrays do too
    dtype = value.dtype if hasattr(value, "dtype") else np.result_type(value)
    weight = np.full(m, other, dtype=np.finfo(dtype).dtype)  # float32 stays float32
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0
    return weight.reshape((m,) + (1,) * (len(shape_of(like)) - axis - 1))


rfft: Primitive = _linear(
    "rfft", lambda x, axis, norm: np.fft.rfft(x, axis=axis, norm=norm),
    transpose=_rfft_transpose,
    doc="the discrete Fourier transform of real input: its n // 2 + 1 first entries",
)  # fmt: skip


def _irfft_transpose(ct: Any, x: Any, n: int, axis: int, norm: str) -> tuple[Any]:
    # irfft(x) = scale * sum over all n frequencies of the Hermitian extension of x,
    # which holds x_j and conj(x_j) for each j but the first (and, for even n, the
    # last).  In the pairing Re(sum(x_bar * x)) with a real ct, this transposes to
    # the first n // 2 + 1 entries of ifft(ct) (the same scale as irfft's, norm for
    # norm: conj(w^jk) sums become w^-jk), each weighted 2 but those read once.
    m = n // 2 + 1
    y = getitem(
        fft(ct, axis=axis, inverse=True, norm=norm), index=_along(axis, slice(0, m))
    )
    return (_real_input(x, mul(y, _hermitian_weights(n, axis, ct, 2.0))),)


irfft: Primitive = _linear(
    "irfft", lambda x, n, axis, norm: np.fft.irfft(x, n=n, axis=axis, norm=norm),
    transpose=_irfft_transpose,
    doc="the inverse of rfft: n real values from n // 2 + 1 Fourier coefficients",
)  # fmt: skip


# == partition's selection: a value choice, as sort's permutation is ================
argpartition: Primitive = _value_choice(
    "argpartition", lambda x, kth, axis: np.argpartition(x, kth, axis=axis),
    jvp=lambda ts, ans, x, kth, axis: None,
    doc="the permutation numpy.partition applies along axis (derivative 0)",
)  # fmt: skip


# The core sits below this table and does not import it: the rules every elementwise
# or multilinear primitive shares go to the core by kind, never by primitive.
core.STANDARD_RULES.update(
    elementwise_jvp=elementwise_jvp,
    elementwise_vjp=elementwise_vjp,
    multilinear_jvp=multilinear_jvp,
)
