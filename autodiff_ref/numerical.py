"""Numerical differentiation: finite differences, the complex step and Richardson extrapolation.

These methods only *evaluate* ``f``; they never look inside it.  That makes them the
independent reference the exact methods (symbolic, forward and reverse mode) are checked
against, and their errors are the reason those exact methods exist:

* ``"forward"`` / ``"backward"``: one-sided differences, error O(h) + round-off O(eps/h),
  so at best about ``sqrt(eps)`` ~ 1e-8 relative.
* ``"central"``: symmetric difference, error O(h**2) + O(eps/h), at best ``eps**(2/3)`` ~ 1e-11.
* ``"complex"``: the complex step ``Im f(x + i h) / h``; no subtraction, hence no
  cancellation, so it is accurate to ~eps, but ``f`` must accept complex numbers and be
  analytic (see :func:`complex_step_stand_ins` for the kinks of autodiff_ref).
* ``"richardson"``: central differences at halving steps, extrapolated to ``h = 0``;
  ~1e-13 with real arithmetic only, but needs ``f`` smooth on ``[x - h, x + h]`` for a
  fairly large ``h``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import rules
from .core import Primitive, evaluating_with

__all__ = [
    "complex_step_stand_ins",
    "derivative",
    "directional",
    "gradient",
    "hessian",
    "jacobian",
    "step_size",
]

# The method names, as a type: mypy then catches a misspelt method before runtime does.
Method = Literal["forward", "backward", "central", "complex", "richardson"]

_METHODS: tuple[str, ...] = ("forward", "backward", "central", "complex", "richardson")
_EPS = float(np.finfo(float).eps)

# Default steps at |x| <= 1; step_size() scales them by |x| for larger |x|.
_BASE_STEP: dict[str, float] = {
    # Truncation ~ |f''| h / 2 and round-off ~ eps |f| / h balance at h ~ sqrt(eps).
    "forward": _EPS ** (1 / 2),
    "backward": _EPS ** (1 / 2),
    # Truncation ~ |f'''| h**2 / 6 and round-off ~ eps |f| / h balance at h ~ eps**(1/3).
    "central": _EPS ** (1 / 3),
    # x + i h keeps x and h in separate components, so nothing cancels and h can be tiny:
    # the truncation error |f'''| h**2 / 6 ~ 1e-40 is far below eps.  1e-20 is the
    # customary choice (Squire & Trapp 1998; Martins et al. 2003).  The imaginary part
    # h f'(x) underflows only if |f'(x)| < ~1e-288.
    "complex": 1e-20,
    # Extrapolation removes the truncation error, so start where round-off is negligible:
    # with 0.1 and _RICHARDSON_LEVELS = 6 the smallest step is 0.1 / 32 ~ 3e-3, whose
    # round-off is ~eps / 3e-3 ~ 1e-13, while 0.1 is still small enough for the h**2 series
    # of smooth functions to converge quickly.  Smaller starts gain no accuracy and
    # larger ones need f to be smooth further away from x.
    "richardson": 0.1,
}
# Six central differences (steps h, h/2, ..., h/32) give a 6 x 6 Romberg table, i.e. the
# h**2, h**4, ..., h**10 error terms are eliminated; more levels only add round-off.
_RICHARDSON_LEVELS = 6
# Second differences have truncation ~ h**2 and round-off ~ eps / h**2: optimum eps**(1/4).
_HESSIAN_BASE_STEP: float = _EPS ** (1 / 4)
# Order p of the truncation error c * h**p, used to turn a comparison of steps h and h/2
# into an error estimate.
_ORDER = {"forward": 1, "backward": 1, "central": 2, "complex": 2}


# Analytic stand-ins for the kinks: they agree with the real functions on real
# numbers and are analytic away from the kink, so the complex step sees their
# slope.  NumPy's abs(3+4j) is the modulus 5.0, which throws the step away.
_STAND_INS: dict[Primitive, Callable[..., Any]] = {
    rules.abs: lambda x: np.asarray(np.where(np.real(x) < 0, -x, x))[()],
    rules.sign: lambda x: np.asarray(np.sign(np.real(x)))[()],
    rules.heaviside: lambda x: np.asarray(np.heaviside(np.real(x), 0.5))[()],
    rules.maximum: lambda x, y: np.asarray(np.where(np.real(x) >= np.real(y), x, y))[()],
    rules.minimum: lambda x, y: np.asarray(np.where(np.real(x) <= np.real(y), x, y))[()],
}  # fmt: skip


@contextlib.contextmanager
def complex_step_stand_ins() -> Iterator[None]:
    """Let autodiff_ref's kinks (abs, sign, maximum, ...) be complex-stepped, for a while.

    ``autodiff_ref.numpy.abs`` means what ``numpy.abs`` means, so ``abs(x + ih)`` is
    the modulus, a real number: the complex step of a function that uses it
    would silently be 0.  Inside this block the primitives ``abs``, ``sign``,
    ``heaviside``, ``maximum`` and ``minimum`` of :mod:`autodiff_ref.rules` are
    replaced by their analytic continuations from the real line (``abs(z)`` is
    ``-z`` where ``Re z < 0``), which have the right derivative away from their
    kinks.  :func:`derivative` and friends use it for ``method="complex"``.

    What the complex step still cannot differentiate: NumPy's own non-analytic
    functions called directly (``np.abs``, ``np.real``, ``np.conj``, ...),
    points exactly on a kink (it gives one side's slope, not autodiff_ref's
    convention there), and anything that compares or converts values.

    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> with complex_step_stand_ins():
    ...     slope = float(np.imag(anp.abs(-2.0 + 1e-20j)) / 1e-20)
    >>> slope, float(anp.abs(-2.0 + 1e-20j))
    (-1.0, 2.0)
    """
    with evaluating_with(_STAND_INS):
        yield


def step_size(x: float, method: Method = "central") -> float:
    """Return the default step ``h`` that ``method`` uses at the point ``x``.

    Parameters
    ----------
    x : float
        The point at which the derivative is taken.
    method : {"forward", "backward", "central", "complex", "richardson"}
        The differentiation method.

    Returns
    -------
    float
        ``sqrt(eps) * max(1, |x|)`` for the one-sided methods, ``eps**(1/3) * max(1, |x|)``
        for ``"central"``, ``1e-20`` for ``"complex"`` and ``0.1 * max(1, |x|)`` (the
        largest step of the table) for ``"richardson"``.  Steps scale with ``|x|`` because
        ``x + h`` is rounded relative to ``|x|``; the ``max(1, .)`` keeps ``h > 0`` at
        ``x = 0``.  The complex step does not scale: ``x`` and ``i h`` never mix.

    Examples
    --------
    >>> step_size(1.0, "forward")
    1.49e-08
    >>> step_size(1.0, "central")
    6.06e-06
    >>> step_size(1000.0, "central")
    0.00606
    >>> step_size(1000.0, "complex")
    1e-20
    """
    _check_method(method)
    return _default_step(_as_real_scalar(x, "x"), method)


@overload
def derivative(
    f: Callable[[Any], Any],
    x: float,
    h: float | None = ...,
    method: Method = ...,
    *,
    return_error: Literal[False] = ...,
) -> float: ...
@overload
def derivative(
    f: Callable[[Any], Any],
    x: float,
    h: float | None = ...,
    method: Method = ...,
    *,
    return_error: Literal[True],
) -> tuple[float, float]: ...
def derivative(
    f: Callable[[Any], Any],
    x: float,
    h: float | None = None,
    method: Method = "central",
    *,
    return_error: bool = False,
) -> float | tuple[float, float]:
    """Approximate the derivative ``f'(x)`` of a real scalar function.

    Parameters
    ----------
    f : callable
        Maps a number to a real number.  For ``method="complex"`` it must also accept a
        complex number and be analytic (built from NumPy ufuncs, ``+ - * / **``, ...);
        a function that discards the imaginary part (``abs``, ``np.real``) silently
        yields a wrong derivative, and so does a point where f is not real (``np.sqrt``
        or ``np.log`` of a negative number have complex values, not NaN).
    x : float
        The point.
    h : float, optional
        The step; default ``step_size(x, method)``.  For ``"richardson"`` it is the
        largest step of the table.
    method : {"central", "forward", "backward", "complex", "richardson"}
        See the module docstring for the accuracy of each.
    return_error : bool
        Also return an error estimate (see Returns).

    Returns
    -------
    value : float
        The approximation of ``f'(x)``.
    error : float
        Only if ``return_error``.  An estimate (not a bound) of ``|value - f'(x)|``:

        * finite differences: ``truncation + rounding``, where ``truncation`` is the
          Richardson estimate ``|D(h) - D(h/2)| * h**p / (h**p - (h/2)**p)`` of the
          ``c * h**p`` error term (``p = 1`` one-sided, ``p = 2`` central; costs extra
          evaluations of f) and ``rounding = eps * sum(|f values|) / (spread of the
          sample points)`` is the effect of one rounding error in each value of f.
        * complex step: the same truncation estimate (``p = 2``, negligible for the
          default step) plus ``eps * |value|``, since nothing cancels.
        * richardson: ``|T[n-1, n-1] - T[n-2, n-2]|``, the difference between the last
          two extrapolants (the diagonal of the table); no extra evaluations.

    Raises
    ------
    ValueError
        For ``h <= 0``, an unknown ``method``, a step too small to change ``x``, or
        if ``f`` does not return a scalar.
    TypeError
        If ``x`` is not a real number, or ``f`` rejects complex input under
        ``method="complex"``.

    Examples
    --------
    >>> import numpy as np
    >>> derivative(np.sin, 0.0)  # sin(h) / h = 1 - h**2 / 6 with h = 6e-6
    0.999999999994
    >>> derivative(np.exp, 1.0, method="complex")  # e, to every digit
    2.718281828459045
    >>> value, error = derivative(np.exp, 1.0, method="forward", return_error=True)
    >>> value  # only 8 digits of e = 2.718281828... are right
    2.71828...
    >>> bool(abs(value - np.e) < error < 1e-6)  # the estimate covers the true error
    True
    >>> value, error = derivative(np.log, 2.0, method="richardson", return_error=True)
    >>> abs(value - 0.5) < 1e-13, error < 1e-12
    (True, True)
    """
    x = _as_real_scalar(x, "x")
    # Wrapping f lets one engine serve scalar and array-valued functions alike.
    value, error = _differentiate(
        lambda t: _scalar_output(f(t), "derivative"), x, h, method, return_error
    )
    if return_error:
        assert error is not None
        return float(value), float(error)
    return float(value)


def gradient(
    f: Callable[[Any], Any],
    x: ArrayLike,
    h: float | None = None,
    method: Method = "central",
) -> NDArray[np.float64]:
    """Approximate the gradient of a scalar function of an array, one coordinate at a time.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a real scalar.
    x : array_like
        The point; any shape, including a scalar.
    h : float, optional
        The step for every coordinate; default ``step_size(x[i], method)`` per coordinate.
    method : {"central", "forward", "backward", "complex", "richardson"}
        As in `derivative`; each partial derivative is computed independently.

    Returns
    -------
    numpy.ndarray
        ``df/dx``, with the shape of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> gradient(lambda x: np.sum(x**2), [1.0, 2.0, 3.0], method="complex")
    array([2., 4., 6.])
    """
    point = _as_real_array(x)
    grad = np.empty(point.shape)
    for index in np.ndindex(point.shape):
        grad[index] = _partial(
            lambda y: _scalar_output(f(y), "gradient"), point, index, h, method
        )
    return grad


def jacobian(
    f: Callable[[Any], Any],
    x: ArrayLike,
    h: float | None = None,
    method: Method = "central",
) -> NDArray[np.float64]:
    """Approximate the Jacobian of an array function of an array, one input at a time.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a real array (of any, fixed, shape).
    x : array_like
        The point; any shape, including a scalar.
    h : float, optional
        The step for every input coordinate; default ``step_size(x[j], method)``.
    method : {"central", "forward", "backward", "complex", "richardson"}
        As in `derivative`.

    Returns
    -------
    numpy.ndarray
        ``J[i..., j...] = d f(x)[i...] / d x[j...]``, of shape ``out.shape + x.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> jacobian(lambda x: A @ x, [0.5, -1.0])
    array([[1., 2.],
           [3., 4.],
           [5., 6.]])
    >>> jacobian(np.exp, [0.0, 1.0], method="complex")
    array([[1.        , 0.        ],
           [0.        , 2.71828183]])
    """
    point = _as_real_array(x)
    # One derivative per input coordinate gives the columns of J, each of out's shape.
    columns = [
        _partial(lambda y: _real_output(f(y)), point, index, h, method)
        for index in np.ndindex(point.shape)
    ]
    if not columns:  # x has no elements: J is empty, but still needs out's shape
        return np.empty(np.shape(_real_output(f(point))) + point.shape)
    return np.stack(columns, axis=-1).reshape(columns[0].shape + point.shape)


def directional(
    f: Callable[[Any], Any],
    x: ArrayLike,
    v: ArrayLike,
    h: float | None = None,
    method: Method = "central",
) -> float | NDArray[np.float64]:
    """Approximate the derivative of ``t -> f(x + t v)`` at ``t = 0``.

    ``v`` is *not* normalised, so for scalar-valued ``f`` this is ``gradient(f, x) . v``
    and for array-valued ``f`` it is the Jacobian-vector product ``J v`` -- what forward
    mode computes exactly.  It costs one derivative, however large ``x`` is.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a real scalar or array.
    x, v : array_like
        The point and the direction, of the same shape.
    h : float, optional
        The step in ``t``.  Default ``step_size(max|x|, method) / max|v|``, so that the
        perturbation ``h v`` has the size a step in ``x`` itself would have.
    method : {"central", "forward", "backward", "complex", "richardson"}
        As in `derivative`.  ``x + h v`` is rounded, which limits one-sided methods to
        the ~1e-8 accuracy they have anyway.

    Returns
    -------
    float or numpy.ndarray
        A float for scalar-valued ``f``, otherwise an array of ``f``'s output shape.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: np.sum(x**2)  # gradient 2 x
    >>> directional(f, [1.0, 2.0], [3.0, 0.5], method="complex")  # 2*1*3 + 2*2*0.5
    8.0
    """
    point = _as_real_array(x)
    direction = _as_real_array(v, "v")
    if direction.shape != point.shape:
        raise ValueError(
            f"v must have the shape of x, {point.shape}; got {direction.shape}. "
            "Reshape v, or use jacobian(f, x) for all directions at once."
        )
    if h is None and method in _BASE_STEP:
        # Scale the step in t so that h * v is a sensible step in x.
        size = float(np.max(np.abs(direction), initial=0.0))
        h = step_size(float(np.max(np.abs(point), initial=0.0)), method) / (size or 1.0)
    value, _ = _differentiate(
        lambda t: _real_output(f(point + t * direction)),
        0.0,
        h,
        method,
        want_error=False,
    )
    return float(value) if value.ndim == 0 else value


def hessian(
    f: Callable[[Any], Any],
    x: ArrayLike,
    h: float | None = None,
) -> NDArray[np.float64]:
    """Approximate the Hessian of a scalar function by central differences of central differences.

    ``H[i, j] ~ (f(x + h_i e_i + h_j e_j) - f(x + h_i e_i - h_j e_j)
    - f(x - h_i e_i + h_j e_j) + f(x - h_i e_i - h_j e_j)) / (4 h_i h_j)``.
    Second differences divide round-off by ``h**2``, so this is *less accurate* than the
    first-derivative methods: about ``sqrt(eps)`` ~ 1e-8 relative at best.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a real scalar.
    x : array_like
        The point; any shape, including a scalar.
    h : float, optional
        The step for every coordinate; default ``eps**(1/4) * max(1, |x[i]|)``, which
        balances truncation ``O(h**2)`` against round-off ``O(eps / h**2)``.

    Returns
    -------
    numpy.ndarray
        Symmetric, of shape ``x.shape + x.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: x[0] ** 2 * x[1]  # Hessian [[2 x1, 2 x0], [2 x0, 0]]
    >>> np.round(hessian(f, [1.0, 3.0]), 6)
    array([[6., 2.],
           [2., 0.]])
    """
    point = _as_real_array(x)
    flat = point.ravel()
    n = flat.size
    if h is not None:
        _check_step(h)
    nominal = h if h is not None else _HESSIAN_BASE_STEP * np.maximum(1.0, np.abs(flat))
    # The representable-step trick, as in _finite_difference: use the steps actually taken.
    steps = (flat + nominal) - flat
    if np.any(steps == 0):
        raise ValueError(
            f"h={h!r} is too small to change some x[i] in floating point; use a larger h "
            "or h=None for the default."
        )

    def f_at(shift: NDArray[np.float64]) -> float:
        return float(_scalar_output(f((flat + shift).reshape(point.shape)), "hessian"))

    result = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i = np.zeros(n)
            e_j = np.zeros(n)
            e_i[i] = steps[i]
            e_j[j] = steps[j]
            second_difference = (
                f_at(e_i + e_j) - f_at(e_i - e_j) - f_at(e_j - e_i) + f_at(-e_i - e_j)
            )
            # Computing each pair once and mirroring makes H exactly symmetric.
            result[i, j] = result[j, i] = second_difference / (4 * steps[i] * steps[j])
    return result.reshape(point.shape + point.shape)


# --- the engine ---------------------------------------------------------------------------


def _differentiate(
    g: Callable[[Any], NDArray[Any]],
    x: float,
    h: float | None,
    method: str,
    want_error: bool,
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Differentiate ``g`` (scalar in, array out) at ``x``; return value and error estimate."""
    _check_method(method)
    if h is None:
        h = _default_step(x, method)
    else:
        _check_step(h)
    if method == "richardson":
        return _richardson(g, x, h)
    quotient = _complex_step if method == "complex" else _finite_difference
    value, step, rounding = quotient(g, x, h, method)
    if not want_error:
        return value, None
    # Compare with half the step: if D(h) = f' + c h**p, then
    # D(h) - D(h/2) = c (h**p - (h/2)**p) reveals the error c h**p of D(h).
    half_value, half_step, _ = quotient(g, x, step / 2, method)
    p = _ORDER[method]
    truncation = np.abs(value - half_value) * step**p / (step**p - half_step**p)
    return value, truncation + rounding


def _finite_difference(
    g: Callable[[Any], NDArray[Any]], x: float, h: float, method: str
) -> tuple[NDArray[np.float64], float, NDArray[np.float64]]:
    """The difference quotient, the step actually taken, and its round-off estimate."""
    # All three methods are the slope (g(upper) - g(lower)) / (upper - lower).
    lower = x if method == "forward" else x - h
    upper = x if method == "backward" else x + h
    # The trick h = (x + h) - x: f is evaluated at the *rounded* points, whose distance
    # is not the requested 2h or h.  Dividing by the requested step would add a relative
    # error up to eps |x| / h (~1e-8 for one-sided defaults, as large as the method's own
    # error); dividing by the computed spread, which is exact or off by one rounding,
    # removes it.
    spread = upper - lower
    if spread == 0:
        raise ValueError(
            f"h={h!r} is too small to change x={x!r} in floating point; use a larger h, "
            f"e.g. step_size(x, {method!r}) = {_default_step(x, method):.3g}."
        )
    g_upper, g_lower = g(upper), g(lower)
    if np.iscomplexobj(g_upper) or np.iscomplexobj(g_lower):
        raise TypeError(
            f"f returned complex values for real x; method={method!r} differentiates real "
            "functions. Differentiate the real and imaginary parts separately."
        )
    # One rounding error in each value of g, divided by the spread.
    rounding = _EPS * (np.abs(g_upper) + np.abs(g_lower)) / spread
    step = spread / 2 if method == "central" else spread
    return (g_upper - g_lower) / spread, step, rounding


def _complex_step(
    g: Callable[[Any], NDArray[Any]], x: float, h: float, method: str
) -> tuple[NDArray[np.float64], float, NDArray[np.float64]]:
    """``Im g(x + i h) / h``, the step, and its round-off estimate ``eps |value|``."""
    try:
        # A ComplexWarning means f cast x + ih to a real number (e.g. math.exp of a NumPy
        # complex scalar), discarding h: the result would silently be 0, so fail instead.
        with warnings.catch_warnings(), complex_step_stand_ins():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            image = g(complex(x, h))
    except (TypeError, np.exceptions.ComplexWarning) as error:
        raise TypeError(
            "method='complex' evaluates f at x + i*h, so f must accept complex numbers: "
            "build f from NumPy ufuncs (np.sin, np.exp, ...) or autodiff_ref functions, "
            f"not math.* (which only take reals). Original error: {error}. "
            "For real-only f use method='central'."
        ) from error
    # f(x + ih) = f(x) + i h f'(x) - h**2 f''(x) / 2 - i h**3 f'''(x) / 6 + ...:
    # the imaginary part is h f'(x) to O(h**3), with no subtraction of nearly equal values.
    value = np.imag(image) / h
    return value, h, _EPS * np.abs(value)


def _richardson(
    g: Callable[[Any], NDArray[Any]], x: float, h: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Extrapolate central differences at steps h, h/2, ..., to step 0 (Romberg table)."""
    steps: list[float] = []
    previous_row: list[NDArray[np.float64]] = []
    diagonal: list[NDArray[np.float64]] = []
    for level in range(_RICHARDSON_LEVELS):
        estimate, step, _ = _finite_difference(g, x, h / 2**level, "central")
        steps.append(step)
        # Central differences have an error series in h**2 only.  Column k of the table
        # eliminates the h**(2k) term (Neville's scheme for a polynomial in h**2 evaluated
        # at 0).  Using the actual steps keeps this exact even though the rounded steps
        # are not exactly halved.
        row = [estimate]
        for k in range(1, level + 1):
            ratio = (steps[level - k] / step) ** 2
            row.append(row[k - 1] + (row[k - 1] - previous_row[k - 1]) / (ratio - 1))
        previous_row = row
        diagonal.append(row[-1])
    return diagonal[-1], np.abs(diagonal[-1] - diagonal[-2])


# --- input checking and helpers -------------------------------------------------------------


def _default_step(x: float, method: str) -> float:
    if method == "complex":
        return _BASE_STEP[method]
    return _BASE_STEP[method] * max(1.0, abs(x))


def _check_method(method: str) -> None:
    if method not in _METHODS:
        valid = ", ".join(repr(name) for name in _METHODS)
        raise ValueError(f"unknown method {method!r}; valid methods are {valid}.")


def _check_step(h: object) -> None:
    step = _as_real_scalar(h, "h")
    if not step > 0:  # also rejects NaN
        raise ValueError(
            f"h must be positive; got {h!r}. Pass a small positive step, "
            "or h=None for the default step_size(x, method)."
        )
    if not np.isfinite(step):
        raise ValueError(
            f"h must be finite; got {h!r}. Pass h=None for the default step."
        )


def _as_real_scalar(value: object, name: str) -> float:
    array = _as_real_array(value, name)
    if array.ndim != 0:
        raise TypeError(
            f"{name} must be a real number, got an array of shape {array.shape}; "
            "for array x use gradient (scalar f) or jacobian (array f)."
        )
    return float(array)


def _as_real_array(value: object, name: str = "x") -> NDArray[np.float64]:
    # Strings, None, objects and complex numbers all end up with the wrong dtype kind.
    # bool is rejected too: differentiating at True is almost certainly a mistake.
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real number or array of real numbers; got {value!r} "
            f"({type(value).__name__}). Convert it with float(...) or np.asarray(..., float)."
        )
    return array.astype(np.float64)


def _real_output(value: object) -> NDArray[Any]:
    # Complex values are allowed through: they are the point of the complex step.
    array = np.asarray(value)
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"f must return numbers; got {value!r} ({type(value).__name__})."
        )
    return array


def _scalar_output(value: object, caller: str) -> NDArray[Any]:
    array = _real_output(value)
    if array.ndim != 0:
        raise ValueError(
            f"{caller} needs f to return a scalar, but it returned an array of shape "
            f"{array.shape}; use jacobian(f, x) for array-valued f."
        )
    return array


def _partial(
    f: Callable[[Any], NDArray[Any]],
    point: NDArray[np.float64],
    index: tuple[int, ...],
    h: float | None,
    method: str,
) -> NDArray[np.float64]:
    """Differentiate ``f`` with respect to the single coordinate ``point[index]``."""
    value, _ = _differentiate(
        lambda t: f(_replace(point, index, t)),
        float(point[index]),
        h,
        method,
        want_error=False,
    )
    return value


def _replace(
    point: NDArray[np.float64], index: tuple[int, ...], t: float | complex
) -> NDArray[Any]:
    """Return a copy of ``point`` with ``point[index] = t`` (complex if ``t`` is)."""
    result = point.astype(np.result_type(point, t))
    result[index] = t
    return result
