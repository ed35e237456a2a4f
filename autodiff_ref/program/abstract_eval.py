"""Abstract evaluation: each primitive's output type from its inputs' types alone.

Tracing (:mod:`autodiff_ref.program.tracing`) knows each value's shape, dtype
and Python kind (an :class:`Aval`), never its numbers.  To record an equation
it must know the type of the output, and asks :data:`ABSTRACT_EVAL`, keyed by
the primitive (JAX's ``abstract_eval``).  Running the primitive's NumPy code on
made-up numbers would be shorter, and wrong: ``inv`` of a matrix of ones is
singular, whatever the caller's matrix is.

Most primitives share a rule, so the table is filled by a few rule makers:
NumPy's own type resolution for the elementwise ones (``ufunc.resolve_dtypes``,
which knows that Python numbers are weak), axis/keepdims for the reductions,
and one rule each for the structural and linear-algebra primitives.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .. import rules as R
from ..core import Primitive

__all__ = ["ABSTRACT_EVAL", "PYTHON_KINDS", "Aval", "abstract_eval"]


class Aval(NamedTuple):
    """What a program knows about a value: its shape, dtype and Python kind.

    ``kind`` is ``"float"``, ``"int"``, ``"bool"`` or ``"complex"`` for a Python
    number, ``"scalar"`` for a NumPy scalar and ``"array"`` for an ndarray: the
    same arithmetic gives different types (and ``1.0 / 0.0`` raises for Python
    floats), so generated code must know which it has.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    kind: str

    def __str__(self) -> str:
        if self.kind in ("float", "int", "bool", "complex"):
            return self.kind
        if self.kind == "scalar":
            return str(self.dtype)
        return f"{self.dtype}[{','.join(map(str, self.shape))}]"


PYTHON_KINDS = {bool: "bool", int: "int", float: "float", complex: "complex"}
_KIND_OF_DTYPE = {"b": "bool", "i": "int", "f": "float", "c": "complex"}
_PYTHON_TYPE = {"bool": bool, "int": int, "float": float, "complex": complex}

#: Primitive -> ``rule(*avals, **params) -> Aval`` (a tuple of them for a primitive
#: with several results). Weak keys: a primitive made at run time (custom_jvp,
#: checkpoint) leaves the table when it is freed.
AbstractRule = Callable[..., "Aval | tuple[Aval, ...]"]
OneResultRule = Callable[..., Aval]  # the rule of a primitive with one result
ABSTRACT_EVAL: weakref.WeakKeyDictionary[Primitive, AbstractRule] = (
    weakref.WeakKeyDictionary()
)


def abstract_eval(
    prim: Primitive, avals: list[Aval], params: dict[str, Any]
) -> Aval | tuple[Aval, ...]:
    """The output type of ``prim`` applied to values of types ``avals`` (one per result)."""
    rule = ABSTRACT_EVAL.get(prim)
    if rule is None:
        raise NotImplementedError(
            f"primitive {prim.name!r} has no abstract-evaluation rule, so it cannot be "
            "staged (make_program, jit); add one to "
            "autodiff_ref.program.abstract_eval.ABSTRACT_EVAL"
        )
    return rule(*avals, **params)


def _is_python(a: Aval) -> bool:
    return a.kind in _PYTHON_TYPE


def _out(shape: tuple[int, ...], dtype: Any, python: bool = False) -> Aval:
    """An output type: a Python number if ``python``, else a NumPy scalar or array."""
    dtype = np.dtype(dtype)
    if python and dtype.kind in _KIND_OF_DTYPE:
        return Aval((), dtype, _KIND_OF_DTYPE[dtype.kind])
    return Aval(tuple(shape), dtype, "array" if shape else "scalar")


def _operand(a: Aval) -> Any:
    """What NumPy's type resolution takes for ``a``: Python numbers are weak."""
    return _PYTHON_TYPE[a.kind] if _is_python(a) and a.kind != "bool" else a.dtype


# -- rule makers -----------------------------------------------------------------
def _elementwise(
    ufunc: np.ufunc, *, python: bool = False, floats: bool = False
) -> OneResultRule:
    """Broadcast shapes; the dtype NumPy's ``ufunc`` gives for these operand types.

    ``python``: Python numbers in, a Python number out (the implementation takes
    Python's own arithmetic for them).  ``floats``: integers are promoted to
    float64 first (the implementation converts them: x**-1 is not 0).
    """

    def rule(*avals: Aval, **params: Any) -> Aval:
        shape = np.broadcast_shapes(*(a.shape for a in avals))
        operands = [_operand(a) for a in avals]
        if floats:
            operands = [
                float if o is int else np.dtype(float)
                if isinstance(o, np.dtype) and o.kind in "biu" else o
                for o in operands
            ]  # fmt: skip
        dtype = ufunc.resolve_dtypes((*operands, None))[-1]
        return _out(shape, dtype, python and all(_is_python(a) for a in avals))

    return rule


def _reduction(kind: str) -> OneResultRule:
    """Over ``axis`` (None: all), keeping them as length 1 with ``keepdims``.

    ``kind``: ``"sum"`` (booleans and small integers sum as the platform
    integer, like np.sum), ``"same"`` (max, min) or ``"bool"`` (all, any).
    """

    def rule(x: Aval, axis: Any = None, keepdims: bool = False) -> Aval:
        ndim = len(x.shape)
        axes = range(ndim) if axis is None else (axis,) if np.ndim(axis) == 0 else axis
        axes = {int(a) % ndim for a in axes} if ndim else set()
        shape = tuple(
            1 if i in axes else n
            for i, n in enumerate(x.shape)
            if keepdims or i not in axes
        )
        return _out(shape, _reduced_dtype(x.dtype, kind))

    return rule


def _reduced_dtype(dtype: np.dtype, kind: str) -> np.dtype:
    if kind == "bool":
        return np.dtype(bool)
    if kind == "sum" and dtype.kind in "bi":
        return np.result_type(dtype, np.intp)
    if kind == "sum" and dtype.kind == "u":
        return np.result_type(dtype, np.uintp)
    return dtype


def _linalg_dtype(*avals: Aval) -> np.dtype:
    """np.linalg computes in floating point: integers become float64."""
    dtype = np.result_type(*(a.dtype for a in avals))
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _square(what: str, a: Aval) -> tuple[int, int]:
    if len(a.shape) < 2:
        raise ValueError(f"{what} needs a matrix (at least 2 dimensions), got {a}")
    return a.shape[-2], a.shape[-1]


def _matmul(a: Aval, b: Aval) -> Aval:
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError("matmul: an operand is a scalar (use * instead)")
    lead_a, lead_b = sa[:-2], sb[:-2]
    rows = sa[-2:-1]  # () for a vector
    cols = sb[-1:] if len(sb) > 1 else ()
    inner_a, inner_b = sa[-1], sb[-2] if len(sb) > 1 else sb[-1]
    if inner_a != inner_b:
        raise ValueError(f"matmul: {a} @ {b} do not match in the inner dimension")
    shape = (*np.broadcast_shapes(lead_a, lead_b), *rows, *cols)
    return _out(shape, np.result_type(a.dtype, b.dtype))


def _getitem(x: Aval, index: Any) -> Aval:
    # NumPy's indexing rules are long (basic, advanced, mixed); they are asked of a
    # zero-strided view, which has the shape and no numbers of its own.
    view = np.broadcast_to(np.empty((), x.dtype), x.shape)[index]
    return _out(np.shape(view), x.dtype)


def _reshape(x: Aval, shape: Any) -> Aval:
    shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    size = int(np.prod(x.shape, dtype=int))
    if -1 in shape:
        known = int(np.prod([n for n in shape if n != -1], dtype=int))
        shape = tuple(size // known if n == -1 else n for n in shape)
    if int(np.prod(shape, dtype=int)) != size:
        raise ValueError(f"cannot reshape a value of type {x} into shape {shape}")
    return _out(shape, x.dtype)


def _transpose(x: Aval, axes: Any = None) -> Aval:
    order = range(len(x.shape))[::-1] if axes is None else axes
    # np.transpose returns an array, 0-d ones included
    return Aval(tuple(x.shape[a] for a in order), x.dtype, "array")


def _joined(*xs: Aval, axis: int = 0, new: bool) -> Aval:
    shapes = [x.shape for x in xs]
    dtype = np.result_type(*(_operand(x) for x in xs))
    first = list(shapes[0])
    if new:
        axis = axis % (len(first) + 1)
        return _out((*first[:axis], len(xs), *first[axis:]), dtype)
    axis = axis % len(first)
    first[axis] = sum(s[axis] for s in shapes)
    return _out(tuple(first), dtype)


def _einsum(*operands: Aval, subscripts: str) -> Aval:
    inputs, output = subscripts.replace(" ", "").split("->")
    sizes: dict[str, int] = {}
    for letters, a in zip(inputs.split(","), operands, strict=True):
        for letter, n in zip(letters, a.shape, strict=True):
            sizes[letter] = max(sizes.get(letter, 1), n)
    dtype = np.result_type(*(a.dtype for a in operands))
    return _out(tuple(sizes[c] for c in output), dtype)


def _cumsum(x: Aval, axis: Any = None) -> Aval:
    shape = (int(np.prod(x.shape, dtype=int)),) if axis is None else x.shape
    return Aval(shape, _reduced_dtype(x.dtype, "sum"), "array")


def _solve(a: Aval, b: Aval) -> Aval:
    _square("solve", a)
    # NumPy 2: b is a vector only when it has one dimension.
    if len(b.shape) == 1:
        shape = (*a.shape[:-2], b.shape[0])
    else:
        shape = (*np.broadcast_shapes(a.shape[:-2], b.shape[:-2]), *b.shape[-2:])
    return _out(shape, _linalg_dtype(a, b))


def _same_matrix(what: str) -> OneResultRule:
    def rule(a: Aval) -> Aval:
        _square(what, a)
        return _out(a.shape, _linalg_dtype(a))

    return rule


def _determinant(a: Aval) -> Aval:
    _square("det", a)
    return _out(a.shape[:-2], _linalg_dtype(a))


def _real_dtype(dtype: np.dtype) -> np.dtype:
    """complex128 -> float64 (the real part's type); a real dtype itself."""
    return np.empty((), dtype).real.dtype


def _slogdet(a: Aval) -> tuple[Aval, Aval]:  # (sign, log|det|): a real log|det|
    sign = _determinant(a)
    return sign, _out(sign.shape, _real_dtype(sign.dtype))


def _eigh(a: Aval) -> tuple[Aval, Aval]:  # (w, V): real eigenvalues
    m, n = _square("eigh", a)
    stack, dtype = a.shape[:-2], _linalg_dtype(a)
    return _out((*stack, n), _real_dtype(dtype)), _out((*stack, m, n), dtype)


def _svd(a: Aval) -> tuple[Aval, Aval, Aval]:  # (U, s, Vh), reduced
    m, n = _square("svd", a)
    k = min(m, n)
    stack, dtype = a.shape[:-2], _linalg_dtype(a)
    return (
        _out((*stack, m, k), dtype),
        _out((*stack, k), _real_dtype(dtype)),  # singular values are real
        _out((*stack, k, n), dtype),
    )


def _pinv(a: Aval) -> Aval:  # the pseudo-inverse: (..., n, m) for (..., m, n)
    m, n = _square("pinv", a)
    return _out((*a.shape[:-2], n, m), _linalg_dtype(a))


def _qr(a: Aval) -> tuple[Aval, Aval]:  # (Q, R), reduced, for m >= n
    m, n = _square("qr", a)
    if m < n:
        raise ValueError(
            f"the derivative of qr needs at least as many rows as columns, got {m} x {n} "
            "(R's extra columns make Q non-unique); differentiate qr of the transpose"
        )
    stack, dtype = a.shape[:-2], _linalg_dtype(a)
    return _out((*stack, m, n), dtype), _out((*stack, n, n), dtype)


def _scatter_add(ct: Aval, index: Any, shape: tuple[int, ...]) -> Aval:
    return Aval(tuple(shape), ct.dtype if ct.dtype.kind in "fc" else np.dtype(float),
                "array")  # fmt: skip


def _like(x: Aval) -> Aval:
    """The type of ``x`` itself (a copy)."""
    return x if x.shape or _is_python(x) else Aval((), x.dtype, "scalar")


_PYTHON_ONE = Aval((), np.dtype(float), "float")

# -- the table -------------------------------------------------------------------
_ELEMENTWISE_UFUNCS = {
    R.div: np.divide, R.exp: np.exp, R.log: np.log, R.sin: np.sin, R.cos: np.cos,
    R.tan: np.tan, R.sqrt: np.sqrt, R.tanh: np.tanh, R.cosh: np.cosh,
    R.sinh: np.sinh, R.arcsin: np.arcsin, R.arccos: np.arccos, R.arctan: np.arctan,
    R.arcsinh: np.arcsinh, R.arccosh: np.arccosh, R.arctanh: np.arctanh,
    R.log1p: np.log1p, R.expm1: np.expm1, R.log2: np.log2, R.log10: np.log10,
    R.exp2: np.exp2, R.hypot: np.hypot, R.logaddexp: np.logaddexp,
    R.arctan2: np.arctan2, R.floor: np.floor, R.ceil: np.ceil,
    R.floor_divide: np.floor_divide, R.mod: np.mod, R.sign: np.sign,
}  # fmt: skip
# Python's own arithmetic for Python numbers (operator.add, math.fabs, ...).
_PYTHON_ARITHMETIC = {
    R.add: np.add, R.sub: np.subtract, R.mul: np.multiply, R.neg: np.negative,
    R.abs: np.absolute, R.maximum: np.maximum, R.minimum: np.minimum,
}  # fmt: skip

for _prim, _ufunc in _ELEMENTWISE_UFUNCS.items():
    ABSTRACT_EVAL[_prim] = _elementwise(_ufunc)
for _prim, _ufunc in _PYTHON_ARITHMETIC.items():
    ABSTRACT_EVAL[_prim] = _elementwise(_ufunc, python=True)
ABSTRACT_EVAL.update({
    R.pow: _elementwise(np.power, floats=True),
    R.reciprocal: lambda x: _elementwise(np.divide)(_PYTHON_ONE, x),  # 1.0 / x
    R.heaviside: lambda x: _elementwise(np.heaviside, floats=True)(x, _PYTHON_ONE),
    R.where: lambda c, x, y: _out(
        np.broadcast_shapes(c.shape, x.shape, y.shape), _elementwise(np.add)(x, y).dtype),
    R.real: lambda x: Aval(x.shape, _real_dtype(x.dtype),
                           "array" if x.kind == "array" else x.kind),
    R.imag: lambda x: Aval(x.shape, np.empty((), x.dtype).imag.dtype,
                           "array" if x.kind == "array" else x.kind),
    R.conj: _elementwise(np.conjugate),
    R.angle: lambda x: _out(x.shape, np.angle(np.zeros((), x.dtype)).dtype),
    R.stop_gradient: _like,
    R.argsort: lambda x, axis: Aval(x.shape, np.dtype(np.intp), "array"),
    R.require_distinct: lambda x, what, **checks: x,  # x itself
    R.require_full_rank: lambda a: a,  # a itself
    R.sum: _reduction("sum"),
    R.prod: _reduction("sum"),
    R.amax: _reduction("same"),
    R.amin: _reduction("same"),
    R.cumsum: _cumsum,
    R.sum_to: lambda x, shape: _out(shape, x.dtype),
    R.broadcast_to: lambda x, shape: _out(
        np.broadcast_shapes(x.shape, tuple(shape)), x.dtype),
    R.reshape: _reshape,
    R.transpose: _transpose,
    R.getitem: _getitem,
    R.scatter_add: _scatter_add,
    R.matmul: _matmul,
    R.stack: lambda *xs, axis=0: _joined(*xs, axis=axis, new=True),
    R.concatenate: lambda *xs, axis=0, offsets=None: _joined(*xs, axis=axis, new=False),
    R.astype: lambda x, dtype: _out(x.shape, dtype),
    R.einsum: _einsum,
    R.inv: _same_matrix("inv"),
    R.cholesky: _same_matrix("cholesky"),
    R.solve: _solve,
    R.adjugate: _same_matrix("adjugate"),
    R.det: _determinant,
    R.slogdet: _slogdet,
    R.result: lambda results, index: results[index],  # result k's own type
    R.eigh: _eigh,
    R.svd: _svd,
    R.eigvalsh: lambda a: _eigh(a)[0],
    R.svdvals: lambda a: _svd(a)[1],
    R.qr: _qr,
    R.pinv: _pinv,
})  # fmt: skip


# np.fft: NumPy's types (complex of the input's precision; irfft real).
def _complex_of(dtype: np.dtype) -> np.dtype:
    return np.result_type(dtype, np.complex64)


def _resized(x: Aval, axis: int, n: int) -> tuple[int, ...]:
    return (*x.shape[:axis], n, *x.shape[axis + 1 :])


ABSTRACT_EVAL.update({
    R.fft: lambda x, axis, inverse, norm: _out(x.shape, _complex_of(x.dtype)),
    R.rfft: lambda x, axis, norm: _out(
        _resized(x, axis, x.shape[axis] // 2 + 1), _complex_of(x.dtype)),
    R.irfft: lambda x, n, axis, norm: _out(
        _resized(x, axis, n), np.empty((), _complex_of(x.dtype)).real.dtype),
    R.argpartition: lambda x, kth, axis: Aval(x.shape, np.dtype(np.intp), "array"),
})  # fmt: skip


def comparison_rule(*avals: Aval) -> Aval:
    """``x < y`` and the like: broadcast shapes, booleans (Python's for numbers)."""
    return _elementwise(np.less, python=True)(*avals)


REDUCTIONS = {"max": _reduction("same"), "min": _reduction("same"),
              "all": _reduction("bool"), "any": _reduction("bool")}  # fmt: skip
