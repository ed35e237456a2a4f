"""Dual numbers ``a + b ε`` with ``ε² = 0``: forward mode by operator overloading.

A :class:`Dual` carries a *primal* ``a`` and a *tangent* ``b``.  Every
operation on it goes through :func:`autodiff_ref.core.bind` to the rules
table, which computes the output primal with NumPy and the output tangent
with the primitive's derivative, so ``f(a + b ε) = f(a) + f'(a) b ε``.

Each dual belongs to a trace (its *tag*).  Duals you create yourself share
one tag, so they combine as the textbook algebra says; each forward-mode
transform (:func:`~autodiff_ref.jvp`, :func:`~autodiff_ref.derivative`, ...)
uses a fresh tag, so nested derivatives never confuse their perturbations.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .core import Primitive, Trace, Tracer, bind, primal_value, shape_of

__all__ = ["Dual", "ForwardTrace", "derivatives_from_matrix", "jordan_block"]


class ForwardTrace(Trace):
    """A forward-mode tag: pushes tangents through each primitive.

    With ``batch=n`` every tangent of this trace has a leading axis of ``n``
    directions, pushed through the function together in one pass.
    """

    def __init__(self, level: int | None = None, batch: int | None = None) -> None:
        super().__init__(level)
        self.batch = batch

    def process(
        self, prim: Primitive, args: Sequence[Any], params: dict[str, Any]
    ) -> Any:
        primals, tangents = [], []
        for a in args:
            if isinstance(a, Dual) and a._trace is self:
                primals.append(a.primal)
                tangents.append(a.tangent)
            else:  # a constant, or a value of an outer transform: zero tangent here
                primals.append(a)
                tangents.append(None)
        ans = bind(prim, primals, params)
        tangent = prim.jvp(tangents, ans, primals, params, self.batch)
        if tangent is None:  # the output does not depend on our inputs
            return ans
        if prim.multiple_results:  # a dual per result that depends on our inputs
            return tuple(
                a if t is None else Dual._new(a, t, self)
                for a, t in zip(ans, tangent, strict=True)
            )
        return Dual._new(ans, tangent, self)


#: The tag shared by every dual number made with ``Dual(a, b)``.
USER_TAG = ForwardTrace(level=1)


def _check_numeric(x: Any, what: str) -> None:
    # Booleans have no tangent space (and NumPy refuses -bool), as in the transforms.
    if isinstance(x, bool | np.bool_) or (
        isinstance(x, np.ndarray) and x.dtype.kind == "b"
    ):
        raise TypeError(
            f"the {what} of a Dual cannot be a boolean; convert it with float(x) "
            "or x.astype(float)"
        )
    if isinstance(x, Tracer | numbers.Number | np.number):
        return
    if isinstance(x, np.ndarray) and x.dtype.kind in "iufc":
        return
    raise TypeError(
        f"the {what} of a Dual must be a number or a numeric NumPy array, "
        f"not {type(x).__name__}; convert it with numpy.asarray(..., dtype=float)"
    )


class Dual(Tracer):
    """A dual number ``primal + tangent·ε``, with ``ε² = 0``.

    Parameters
    ----------
    primal, tangent : number or ndarray
        The value and its derivative (the coefficient of ε).  Arrays must
        have the same shape: each element carries its own tangent.
    tag : autodiff_ref.dual.ForwardTrace, optional
        Which perturbation ε this is.  Leave it out: transforms pass their own.

    Examples
    --------
    >>> from autodiff_ref import Dual
    >>> from autodiff_ref.numpy import sin
    >>> x = Dual(3.0, 1.0)
    >>> x * x
    Dual(primal=9.0, tangent=6.0)
    >>> y = sin(Dual(0.0, 1.0))
    >>> float(y.primal), float(y.tangent)
    (0.0, 1.0)
    >>> x.to_matrix()
    array([[3., 1.],
           [0., 3.]])
    """

    __slots__ = ("_trace", "primal", "tangent")

    def __init__(
        self, primal: Any, tangent: Any, tag: ForwardTrace | None = None
    ) -> None:
        _check_numeric(primal, "primal")
        _check_numeric(tangent, "tangent")
        if shape_of(primal) != shape_of(tangent):
            raise ValueError(
                f"tangent shape {shape_of(tangent)} differs from primal shape "
                f"{shape_of(primal)}; give each element of the primal one tangent "
                "(e.g. numpy.ones_like(primal))"
            )
        tag = USER_TAG if tag is None else tag
        for part in (primal, tangent):
            if isinstance(part, Tracer) and part._trace.level > tag.level:
                # Its tag is below the transform's, so the transform would unwrap it
                # from the inside out: the dual's tangent would leak out of it.
                raise TypeError(
                    "Dual(primal, tangent) was given a value traced by a transform "
                    "(jvp, grad, jacfwd, ...) that is still running; a user-made dual "
                    "shares one tag below every transform, so the transform could not see "
                    "through it. Inside a transformed function, nest autodiff_ref.jvp (or "
                    "derivative) instead of making duals by hand"
                )
        self.primal = primal
        self.tangent = tangent
        self._trace = tag

    @classmethod
    def _new(cls, primal: Any, tangent: Any, trace: ForwardTrace) -> Dual:
        # The fast path used by traces: inputs are already known to be valid.
        d = object.__new__(cls)
        d.primal, d.tangent, d._trace = primal, tangent, trace
        return d

    @property
    def tag(self) -> Trace:
        """The perturbation this dual belongs to."""
        return self._trace

    def _inner(self) -> Any:
        return self.primal

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r})"

    def dual_conjugate(self) -> Dual:
        """The dual conjugate ``a - b ε``; ``x * x.dual_conjugate()`` is ``a²``.

        Not ``conjugate``: that is NumPy's complex conjugate, which a function
        differentiated by :func:`~autodiff_ref.jvp` may call on its dual inputs.

        >>> x = Dual(2.0, 5.0)
        >>> x * x.dual_conjugate()
        Dual(primal=4.0, tangent=0.0)
        """
        assert isinstance(self._trace, ForwardTrace)
        return Dual._new(self.primal, -self.tangent, self._trace)

    # -- the matrix form: a + b ε  <->  [[a, b], [0, a]] ---------------------
    def to_matrix(self) -> np.ndarray:
        """The 2 x 2 real matrix ``[[a, b], [0, a]]`` of a scalar dual.

        Matrix sum, product and inverse then match dual ``+``, ``*`` and ``/``:
        ``ε`` is the nilpotent matrix ``[[0, 1], [0, 0]]``.
        """
        a, b = primal_value(self.primal), primal_value(self.tangent)
        if np.ndim(a) != 0:
            raise ValueError(
                "to_matrix needs a scalar dual; convert each element separately"
            )
        return np.array([[a, b], [0.0, a]], dtype=np.result_type(a, b, float))

    @classmethod
    def from_matrix(cls, m: Any) -> Dual:
        """The dual ``a + b ε`` of a matrix ``[[a, b], [0, a]]``.

        >>> import numpy as np
        >>> Dual.from_matrix(np.array([[2.0, 7.0], [0.0, 2.0]]))
        Dual(primal=2.0, tangent=7.0)
        """
        m = np.asarray(m)
        if m.shape != (2, 2) or m[1, 0] != 0 or m[0, 0] != m[1, 1]:
            raise ValueError(
                "a dual number's matrix has the form [[a, b], [0, a]] "
                f"(equal diagonal, zero below it); got {m.tolist()!r}"
            )
        return cls(m[0, 0].item(), m[0, 1].item())


def jordan_block(x: float, n: int) -> np.ndarray:
    """The n x n matrix ``x I + N`` with ``N`` the nilpotent shift (``N**n = 0``).

    For a function ``f`` with a power series, ``f(x I + N)`` is upper
    triangular and Toeplitz with ``f^(k)(x) / k!`` on its k-th superdiagonal:
    the n = 2 case is the matrix form of a dual number.

    >>> jordan_block(2.0, 3)
    array([[2., 1., 0.],
           [0., 2., 1.],
           [0., 0., 2.]])
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return float(x) * np.eye(n) + np.eye(n, k=1)


def derivatives_from_matrix(fm: Any) -> np.ndarray:
    """Read ``[f(x), f'(x), ..., f^(n-1)(x)]`` off ``f(jordan_block(x, n))``.

    >>> import numpy as np
    >>> J = jordan_block(2.0, 4)
    >>> derivatives_from_matrix(J @ J @ J)  # x**3 at 2: 8, 12, 12, 6
    array([ 8., 12., 12.,  6.])
    """
    fm = np.asarray(fm)
    n = fm.shape[0]
    factorials = np.cumprod([1.0, *range(1, n)])
    derivatives: np.ndarray = fm[0, :] * factorials  # NumPy's stubs say Any
    return derivatives
