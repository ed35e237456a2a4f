"""Linear algebra, as ``numpy.linalg``: differentiable in every mode.

``inv``, ``solve``, ``det``, ``slogdet``, ``cholesky``, ``eigh``, ``svd`` and
``qr`` are primitives of :mod:`autodiff_ref.rules` (their derivatives follow
Giles 2008, "Collected matrix derivative results for forward and reverse mode
algorithmic differentiation"); ``norm``, ``matrix_power`` and ``trace`` are
compositions of primitives.  Stacks of matrices ``(..., m, n)`` work as in
NumPy.

Where a derivative does not exist, the rules raise rather than return a
number: ``eigh`` and ``svd`` at repeated eigenvalues or singular values (the
shared subspace has no unique basis), ``svd`` of a non-square matrix with a
zero singular value, ``inv``, ``solve``, ``det`` and ``slogdet`` at a singular
matrix.  ``eigh`` and ``cholesky`` refuse non-symmetric input (NumPy would
read only the lower triangle) and differentiate along symmetric perturbations:
a tangent ``dA`` acts through its symmetric part ``(dA + dA^T) / 2``.

Complex matrices follow JAX's conventions: ``inv``, ``solve``, ``det`` and
``matrix_power`` are holomorphic; ``slogdet``'s sign is a phase; ``eigh`` and
``cholesky`` take Hermitian matrices (``A == A^H``) and a tangent's Hermitian
part ``(dA + dA^H) / 2``; ``svd``'s ``U`` and ``Vh`` are unique only up to a
phase per singular value, and its derivative fixes it as JAX's does; ``qr``
keeps ``R``'s diagonal real, as LAPACK does.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import rules
from ..core import _dtype_of, primal_value, shape_of
from . import _ops as ops

__all__ = [
    "EighResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "matrix_power",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "trace",
]

ArrayLike = Any


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)``, as numpy.linalg.slogdet returns."""

    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    """``(eigenvalues, eigenvectors)``, as numpy.linalg.eigh returns."""

    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    """``(U, S, Vh)``, as numpy.linalg.svd returns."""

    U: Any
    S: Any
    Vh: Any


class QRResult(NamedTuple):
    """``(Q, R)``, as numpy.linalg.qr returns."""

    Q: Any
    R: Any


def _square(a: Any, what: str) -> None:
    shape = shape_of(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError(
            f"{what}: last 2 dimensions of the array must be square, got shape {shape}"
        )


def _adjoint(x: Any) -> Any:
    """The conjugate transpose of (a stack of) matrices; the transpose for real ``x``."""
    return ops.swapaxes(rules.conj(x) if rules.is_complex(x) else x, -1, -2)


def _abs_squared(x: Any) -> Any:
    """``|x|**2`` elementwise, as ``x * conj(x)``, real (for real ``x``: ``x * x``)."""
    if rules.is_complex(x):
        return rules.real(rules.mul(x, rules.conj(x)))
    return rules.mul(x, x)


def inv(a: ArrayLike) -> Any:
    """The inverse matrix; ``d(A^-1) = -A^-1 dA A^-1``.

    >>> import numpy as np
    >>> from autodiff_ref import jvp
    >>> A, dA = np.array([[2.0, 0.0], [0.0, 4.0]]), np.eye(2)
    >>> jvp(inv, (A,), (dA,))[1]
    array([[-0.25  , -0.    ],
           [-0.    , -0.0625]])
    """
    _square(a, "inv")
    return rules.inv(a)


def solve(a: ArrayLike, b: ArrayLike) -> Any:
    """The solution ``x`` of ``a @ x = b``; ``b`` is a vector if 1-D, else (stacks of) matrices.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> grad(lambda b: ops.sum(solve(A, b)))(np.array([1.0, 2.0]))  # A^-T 1
    array([0.4, 0.2])
    """
    _square(a, "solve")
    if len(shape_of(b)) == 1:
        column = rules.reshape(b, shape=(*shape_of(b), 1))
        return rules.reshape(rules.solve(a, column), shape=shape_of(b))
    return rules.solve(a, b)


def det(a: ArrayLike) -> Any:
    """The determinant; its gradient is ``det(A) A^-T`` (Jacobi's formula).

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(det)(np.array([[2.0, 1.0], [1.0, 3.0]]))
    array([[ 3., -1.],
           [-1.,  2.]])
    """
    _square(a, "det")
    return rules.det(a)


def slogdet(a: ArrayLike) -> SlogdetResult:
    """``(sign, log|det A|)``; ``d log|det A| = Re tr(A^-1 dA)``.

    A real sign is piecewise constant; a complex one is a phase, turned by
    ``d sign = i sign Im tr(A^-1 dA)``.
    """
    _square(a, "slogdet")
    return SlogdetResult(*rules.slogdet(a))


def cholesky(a: ArrayLike, *, upper: bool = False) -> Any:
    """The lower-triangular ``L`` with ``L @ L.conj().T == a``, for Hermitian (real:
    symmetric) positive definite ``a``.

    With ``upper=True`` (NumPy 2's keyword), the upper-triangular ``L.conj().T``
    instead.
    """
    _square(a, "cholesky")
    lower = rules.cholesky(a)
    return _adjoint(lower) if upper else lower


def _triangle(a: Any, UPLO: str | None) -> Any:
    """The symmetric matrix NumPy's ``eigh(a, UPLO)`` reads: one triangle, mirrored.

    ``None`` (the default here) takes ``a`` as it is, which must be symmetric, and
    derivatives are symmetric; ``"L"`` or ``"U"`` read only that triangle, as NumPy
    does, so only that triangle has derivatives.  A complex matrix's other triangle
    is the conjugate, and its diagonal's imaginary part is read as 0 (NumPy's words).
    """
    if UPLO is None:
        return a
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")  # NumPy's words
    if rules.is_complex(a):
        strict = ops.tril(a, -1) if UPLO == "L" else ops.triu(a, 1)
        real_part = rules.mul(0.5, rules.add(a, rules.conj(a)))  # complex, imag 0
        diagonal = rules.mul(real_part, np.eye(shape_of(a)[-1]))
        return rules.add(rules.add(strict, _adjoint(strict)), diagonal)
    if UPLO == "L":
        return rules.add(ops.tril(a), ops.swapaxes(ops.tril(a, -1), -1, -2))
    return rules.add(ops.triu(a), ops.swapaxes(ops.triu(a, 1), -1, -2))


def eigh(a: ArrayLike, UPLO: str | None = None) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of a symmetric (complex: Hermitian) matrix.

    The derivative does not exist at repeated eigenvalues, where it raises.  A
    complex eigenvector is unique only up to a phase ``e^{i theta}``; its tangent
    takes JAX's choice (``V^H dV`` has a zero diagonal), which is not NumPy's, so
    only functions blind to the phase (``|V|``, ``v v^H``) have derivatives that
    match their values.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(lambda a: eigh(a)[0][-1])(np.array([[2.0, 1.0], [1.0, 2.0]]))  # v v^T
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """
    _square(a, "eigh")
    return EighResult(*rules.eigh(_triangle(a, UPLO)))


def eigvalsh(a: ArrayLike, UPLO: str | None = None) -> Any:
    """The eigenvalues of a symmetric matrix, ascending (``UPLO`` as for :func:`eigh`).

    Differentiable at repeated eigenvalues too, with their tangents shared evenly
    (as ``max`` shares a tie): functions symmetric in the values, such as their
    sum, get their derivative; only the eigenvectors need distinct values.
    """
    _square(a, "eigvalsh")
    return rules.eigvalsh(_triangle(a, UPLO))


def svd(a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """The singular value decomposition ``a = U @ diag(S) @ Vh``.

    Only the reduced decomposition is differentiable (the extra columns of a full
    ``U`` or ``Vh`` are not unique): pass ``full_matrices=False`` for non-square
    matrices.  The derivative does not exist at repeated singular values (nor,
    for complex or non-square matrices, at a zero one).  A complex pair
    ``(U[:, k], Vh[k])`` is unique only up to a shared phase; the tangents take
    JAX's choice (``Vh dVh^H`` has a zero diagonal), which is not NumPy's, so only
    functions blind to the phase (``s``, ``U[:, k] Vh[k]``, ``|U|``) have
    derivatives that match their values.
    """
    m, n = shape_of(a)[-2:]
    if full_matrices and compute_uv and m != n:
        raise ValueError(
            "svd(full_matrices=True) of a non-square matrix is not differentiable (the extra "
            "columns of U or Vh are not unique); pass full_matrices=False"
        )
    if not compute_uv:  # the values alone: differentiable where they repeat too
        return rules.svdvals(a)
    u, s, vh = rules.svd(a)
    return SVDResult(u, s, vh)


def svdvals(a: ArrayLike) -> Any:
    """The singular values, descending."""
    return svd(a, compute_uv=False)


def pinv(a: ArrayLike) -> Any:
    """The Moore-Penrose pseudo-inverse (NumPy's default cutoff).

    Differentiable where ``a`` has full rank (Golub and Pereyra's formula); at a
    matrix without full rank the derivative does not exist, and it raises.

    >>> import numpy as np
    >>> from autodiff_ref import jvp
    >>> a = np.array([[2.0], [0.0]])  # pinv([[2], [t]]) = [[2, t]] / (4 + t**2)
    >>> jvp(pinv, (a,), (np.array([[0.0], [1.0]]),))[1]
    array([[0.  , 0.25]])
    """
    return rules.pinv(ops._array_arg(a))


def qr(a: ArrayLike, mode: str = "reduced") -> Any:
    """The QR decomposition ``a = Q @ R`` (``mode="reduced"`` or ``"r"``), for ``m >= n``."""
    if mode not in ("reduced", "r"):
        raise ValueError(
            f"qr(mode={mode!r}) is not differentiable here; use 'reduced' or 'r'"
        )
    q, r = rules.qr(a)
    return r if mode == "r" else QRResult(q, r)


def matrix_power(a: ArrayLike, n: int) -> Any:
    """``a`` multiplied by itself ``n`` times, by repeated squaring (inverted if ``n < 0``)."""
    _square(a, "matrix_power")
    if not isinstance(n, int | np.integer):
        raise TypeError("matrix_power: the exponent must be an integer")
    if n < 0:
        a, n = inv(a), -n
    size = shape_of(a)[-1]
    if n == 0:
        # NumPy's identity has a's dtype (float32 stays float32, integers stay integers).
        eye = np.eye(size, dtype=_dtype_of(a))
        return np.broadcast_to(eye, shape_of(a)).copy()
    result = None
    square = a
    while n:
        if n & 1:
            result = square if result is None else rules.matmul(result, square)
        n >>= 1
        if n:
            square = rules.matmul(square, square)
    return result


def trace(x: ArrayLike, offset: int = 0) -> Any:
    """Sum of each matrix's diagonal over the last two axes (numpy.linalg.trace)."""
    return ops.trace(x, offset=offset, axis1=-2, axis2=-1)


def _vector_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:
    if ord is None or ord == 2:
        return rules.sqrt(rules.sum(_abs_squared(x), axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return ops.max(rules.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return ops.min(rules.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the count of non-zeros: piecewise constant
        nonzero = rules.where(primal_value(x) != 0, 1.0, 0.0)  # staged: a comparison
        return rules.sum(nonzero, axis=axis, keepdims=keepdims)
    if ord == 1:
        return rules.sum(rules.abs(x), axis=axis, keepdims=keepdims)
    p = float(ord)
    return rules.pow(
        rules.sum(rules.pow(rules.abs(x), p), axis=axis, keepdims=keepdims), 1.0 / p
    )


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, int], keepdims: bool) -> Any:
    ndim = len(shape_of(x))
    row, col = (a % ndim for a in axes)
    if ord is None or ord == "fro":
        return rules.sqrt(
            rules.sum(_abs_squared(x), axis=(row, col), keepdims=keepdims)
        )
    if ord in (1, -1, np.inf, -np.inf):
        reduce = ops.max if ord in (1, np.inf) else ops.min
        summed, other = (row, col) if ord in (1, -1) else (col, row)
        sums = rules.sum(rules.abs(x), axis=summed, keepdims=True)
        out = reduce(sums, axis=other, keepdims=True)
    elif ord in ("nuc", 2, -2):
        rest = [k for k in range(ndim) if k not in (row, col)]
        s = svdvals(rules.transpose(x, axes=(*rest, row, col)))
        reduction: dict[Any, Any] = {"nuc": rules.sum, 2: ops.max, -2: ops.min}
        out = reduction[ord](s, axis=-1)
        out = rules.reshape(out, shape=tuple(1 if k in (row, col) else n
                                              for k, n in enumerate(shape_of(x))))  # fmt: skip
    else:
        raise ValueError(f"Invalid norm order {ord!r} for matrices")
    if keepdims:
        return out
    return rules.reshape(
        out, shape=tuple(n for k, n in enumerate(shape_of(x)) if k not in (row, col))
    )


def norm(
    x: ArrayLike, ord: Any = None, axis: Any = None, keepdims: bool = False
) -> Any:
    """Vector or matrix norm, as ``numpy.linalg.norm``.

    Vectors: ``ord`` None/2, 1, inf, -inf, 0 or any p.  Matrices (2-D, or
    ``axis`` a pair): None/"fro", "nuc", 1, -1, 2, -2, inf, -inf.  The 2-norm's
    derivative at 0 does not exist (it is nan there, as in JAX).  Complex input
    works for the norms made of ``|x|**2`` and of singular values (vector None/2,
    matrix None/"fro"/"nuc"/2/-2); the others need ``abs``'s complex derivative.

    >>> import numpy as np
    >>> from autodiff_ref import grad
    >>> grad(norm)(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    """
    x = ops._array_arg(x)
    ndim = len(shape_of(x))
    if axis is None:
        if ord is None:
            out = _vector_norm(ops.ravel(x), None, None, False)
            return rules.reshape(out, shape=(1,) * ndim) if keepdims else out
        if ndim == 1:
            if isinstance(ord, str):  # "fro" and "nuc" are matrix norms (NumPy's words)
                raise ValueError(f"Invalid norm order {ord!r} for vectors")
            return _vector_norm(x, ord, 0, keepdims)
        if ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError("Improper number of dimensions to norm.")
    if isinstance(axis, int | np.integer):
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order {ord!r} for vectors")
        return _vector_norm(x, ord, int(axis), keepdims)
    axis = tuple(axis)
    if len(axis) == 1:
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order {ord!r} for vectors")
        return _vector_norm(x, ord, axis, keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError("Improper number of dimensions to norm.")
