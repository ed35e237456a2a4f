"""Raw errors turned into NumPy's own or clear ones (issue 18, item 6).

Each bad call used to fail deep inside the package with a message that named no
cause ("object of type 'float' has no len()", "could not convert string to
float", ZeroDivisionError, RecursionError).  Each test matches the message that
now names the argument and the fix.  Where a NumPy keyword is now supported, its
values are checked against NumPy and its derivatives against the other mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp

NOT_CALLABLE: dict[str, Callable[[], Any]] = {
    "jit": lambda: ad.jit(3),
    "linearize": lambda: ad.linearize(3, 1.0),
    "linear_transpose": lambda: ad.linear_transpose(3, 1.0),
    "make_program": lambda: ad.make_program(3),
    "jet": lambda: ad.jet(3, (1.0,), ((1.0,),)),
    "custom_jvp": lambda: ad.custom_jvp(3),
    "custom_vjp": lambda: ad.custom_vjp(3),
    "checkpoint": lambda: ad.checkpoint(3),
    "tree_map": lambda: ad.tree.tree_map(3, (1.0, 2.0)),
}


@pytest.mark.parametrize("name", list(NOT_CALLABLE))
def test_non_callables_are_refused_when_wrapped(name: str) -> None:
    with pytest.raises(
        TypeError,
        match=rf"^{name} needs a function as its first argument, but got an int",
    ):
        NOT_CALLABLE[name]()


def _traced(f: Callable[[Any], Any]) -> Callable[[np.ndarray], Any]:
    """f called on a traced value (grad's), where NumPy dispatches to autodiff_ref."""
    return lambda x: ad.grad(lambda v: anp.sum(f(v)))(x)


X = np.array([1.0, 2.0, 3.0])
# (call on plain values of autodiff_ref's spelling, on traced values, NumPy's message)
SHAPE_ERRORS = {
    "norm-fro-vector": (
        lambda x: np.linalg.norm(x, "fro"),
        r"Invalid norm order 'fro' for vectors",
    ),
    "norm-nuc-axis": (
        lambda x: np.linalg.norm(x, "nuc", axis=(0,)),
        r"Invalid norm order 'nuc' for vectors",
    ),
    "pad-negative": (lambda x: np.pad(x, -1), r"index can't contain negative values"),
    "pad-one-side": (
        lambda x: np.pad(x, ((1, -2),)),
        r"index can't contain negative values",
    ),
    "tile-negative": (lambda x: np.tile(x, -1), r"negative dimensions are not allowed"),
    "split-0": (
        lambda x: np.array_split(x, 0),
        r"number sections must be larger than 0",
    ),
    "split-negative": (
        lambda x: np.split(x, -1),
        r"number sections must be larger than 0",
    ),
}


@pytest.mark.parametrize("name", list(SHAPE_ERRORS))
def test_bad_shape_arguments_raise_numpys_value_error(name: str) -> None:
    f, message = SHAPE_ERRORS[name]
    with pytest.raises(ValueError, match=message):
        f(X)  # NumPy itself
    with pytest.raises(ValueError, match=message):
        _traced(f)(X)


def test_split_into_zero_sections_is_a_value_error_not_a_division_by_zero() -> None:
    # numpy.split(x, 0) itself divides by 0 first; array_split says what is wrong.
    for split in (anp.split, anp.array_split):
        with pytest.raises(ValueError, match="number sections must be larger than 0"):
            split(X, 0)


# -- high orders: no float factorial ----------------------------------------------------------
def test_the_200th_derivative_of_sin_is_finite() -> None:
    # d^200/dx^200 sin = sin (200 is a multiple of 4). About 200 rounding steps in the
    # series recurrence: a tolerance of 1e-12 relative (observed: one ulp).
    assert ad.derivative(anp.sin, 0.3, order=200) == pytest.approx(
        math.sin(0.3), rel=1e-12
    )


def test_jet_with_200_terms_gives_the_closed_forms() -> None:
    terms = (1.0,) + (0.0,) * 199  # the curve x(t) = x + t: the terms are derivatives
    _, out = ad.jet(anp.sin, (0.3,), (terms,))
    cycle = [math.cos(0.3), -math.sin(0.3), -math.cos(0.3), math.sin(0.3)]
    np.testing.assert_allclose(out, [cycle[k % 4] for k in range(200)], rtol=1e-12)
    # exp(2x): the k-th derivative 2**k exp(2x) reaches 1.6e60 * e**0.6.
    _, out = ad.jet(lambda x: anp.exp(2.0 * x), (0.3,), (terms,))
    want = [2.0 ** (k + 1) * math.exp(0.6) for k in range(200)]
    np.testing.assert_allclose(out, want, rtol=1e-12)


def test_jet_says_the_series_is_a_tuple_of_terms() -> None:
    with pytest.raises(TypeError, match=r"each series is a tuple of terms, got float"):
        ad.jet(anp.sin, (1.0,), (1.0,))


# -- pytrees, programs and arrays --------------------------------------------------------------
def test_a_list_that_contains_itself_is_named_not_a_recursion_error() -> None:
    cyclic: list[Any] = [1.0]
    cyclic.append(cyclic)
    with pytest.raises(
        ValueError, match=r"nested more than \d+ levels deep.*contain itself"
    ):
        ad.tree.tree_flatten(cyclic)
    with pytest.raises(ValueError, match=r"nested more than \d+ levels deep"):
        ad.grad(lambda t: t[0])(cyclic)


def test_very_deep_pytrees_are_refused_and_deep_enough_ones_work() -> None:
    deep: Any = 1.0
    for _ in range(ad.tree.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match=r"nested more than \d+ levels deep"):
        ad.tree.tree_flatten(deep)
    fine: Any = 2.0
    for _ in range(ad.tree.MAX_DEPTH - 1):
        fine = (fine,)
    leaves, treedef = ad.tree.tree_flatten(fine)
    assert leaves == [2.0]
    assert ad.tree.tree_unflatten(treedef, leaves) == fine


def test_tree_unflatten_needs_a_structure() -> None:
    with pytest.raises(
        TypeError, match=r"tree_unflatten needs the structure .* got str"
    ):
        ad.tree.tree_unflatten("x", [1.0])


def test_simplify_needs_a_program() -> None:
    with pytest.raises(TypeError, match=r"simplify takes a Program.*got int"):
        ad.simplify(3)


@pytest.mark.parametrize(
    "run",
    [
        lambda f: ad.grad(f)(1.0),
        lambda f: ad.jvp(f, (1.0,), (1.0,)),
        lambda f: ad.jet(f, (1.0,), ((1.0,),)),
        lambda f: ad.jit(f)(1.0),
        lambda f: ad.hessian(f)(1.0),
    ],
    ids=["grad", "jvp", "jet", "jit", "hessian"],
)
def test_writing_a_traced_value_into_a_numpy_array_says_so(run: Any) -> None:
    buffer = np.zeros(2)

    def f(x: Any) -> Any:
        buffer[0] = x
        return x

    with pytest.raises(TypeError, match=r"a NumPy array cannot hold a traced value"):
        run(f)


# -- NumPy's keyword arguments on traced values ------------------------------------------------
A = np.arange(1.0, 7.0).reshape(2, 3)
MASK = np.array([[True, False, True], [False, True, True]])
KEYWORDS: dict[str, Callable[[Any], Any]] = {
    "sum-where-initial": lambda x: np.sum(x, where=MASK, initial=2.0),
    "sum-axis-where": lambda x: np.sum(x, axis=0, where=MASK[0]),
    "sum-dtype": lambda x: np.sum(x, axis=1, dtype=np.float32),
    "mean-dtype": lambda x: np.mean(x, dtype=np.float32),
    "mean-where": lambda x: np.mean(x, axis=1, where=MASK),
    "cumsum-dtype": lambda x: np.cumsum(x, axis=1, dtype=np.float32),
    "sort-kind": lambda x: np.sort(x * x[::-1], axis=None, kind="heapsort"),
    "sort-stable": lambda x: np.sort(-x, stable=True),
}


def _central_directional(
    f: Callable[[Any], Any], x: np.ndarray, t: np.ndarray, h: float = 1e-6
) -> Any:
    return (np.asarray(f(x + h * t), float) - np.asarray(f(x - h * t), float)) / (2 * h)


@pytest.mark.parametrize("name", list(KEYWORDS))
def test_numpy_keywords_on_traced_values_mean_what_numpy_means(name: str) -> None:
    f = KEYWORDS[name]
    want = f(A)  # NumPy itself
    t = np.linspace(-1.0, 1.0, A.size).reshape(A.shape)
    value, tangent = ad.jvp(f, (A,), (t,))
    assert np.asarray(value).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(value, want)  # the same NumPy reductions, in order
    # Linear or quadratic functions of A: central differences have no truncation error,
    # only the rounding of values of size ~50: ~50 eps / h, i.e. ~1e-9 in float64
    # with h = 1e-6 and ~3e-4 in float32 with h = 1e-2.
    single = np.asarray(want).dtype == np.float32
    h, atol = (1e-2, 1e-3) if single else (1e-6, 1e-7)
    np.testing.assert_allclose(tangent, _central_directional(f, A, t, h), atol=atol)
    # Reverse mode agrees with forward mode: <grad of <c, f>, t> = <c, jvp(t)>.
    c = np.linspace(0.5, 1.5, np.size(want)).reshape(np.shape(want))
    (pulled,) = ad.vjp(f, A)[1](c.astype(np.asarray(want).dtype))
    assert np.sum(pulled * t) == pytest.approx(np.sum(c * tangent), rel=1e-6)


SYMMETRIC_BY_ONE_TRIANGLE = np.array(
    [[2.0, 1.0, 0.3], [5.0, 3.0, 0.2], [0.1, 0.7, 4.0]]
)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_the_triangle_numpy_reads(uplo: str) -> None:
    a = SYMMETRIC_BY_ONE_TRIANGLE
    w, v = anp.linalg.eigh(a, UPLO=uplo)
    want_w, want_v = np.linalg.eigh(a, UPLO=uplo)
    np.testing.assert_allclose(w, want_w, rtol=1e-14)
    np.testing.assert_allclose(np.abs(v), np.abs(want_v), rtol=1e-13, atol=1e-14)

    def eigenvalues(m: Any) -> Any:
        return np.linalg.eigvalsh(m, UPLO=uplo)

    forward, reverse = ad.jacfwd(eigenvalues)(a), ad.jacrev(eigenvalues)(a)
    np.testing.assert_allclose(reverse, forward, rtol=1e-12, atol=1e-14)
    # Against NumPy's own function: only the triangle it reads has a derivative.
    central = np.stack(
        [
            _central_directional(eigenvalues, a, np.eye(9)[k].reshape(3, 3))
            for k in range(9)
        ],
        axis=-1,
    ).reshape(3, 3, 3)
    np.testing.assert_allclose(forward, central, atol=1e-7)  # steps of 1e-6: ~1e-9
    with pytest.raises(ValueError, match="UPLO argument must be 'L' or 'U'"):
        anp.linalg.eigh(a, UPLO="X")


def test_cholesky_upper_is_the_transpose_numpy_returns() -> None:
    spd = np.array([[4.0, 2.0, 0.4], [2.0, 3.0, 0.5], [0.4, 0.5, 2.0]])
    upper = np.linalg.cholesky(spd, upper=True)
    np.testing.assert_allclose(anp.linalg.cholesky(spd, upper=True), upper, rtol=1e-15)

    def f(m: Any) -> Any:
        return np.linalg.cholesky((m + m.T) / 2, upper=True)

    lower_jacobian = ad.jacfwd(lambda m: np.linalg.cholesky((m + m.T) / 2))(spd)
    forward, reverse = ad.jacfwd(f)(spd), ad.jacrev(f)(spd)
    np.testing.assert_array_equal(forward, np.swapaxes(lower_jacobian, 0, 1))
    np.testing.assert_allclose(reverse, forward, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda x: np.sum(x, out=np.zeros(())),
            r"numpy.sum\(..., out=...\) cannot write",
        ),
        (
            lambda x: np.var(x, out=np.zeros(())),
            r"numpy.var\(..., out=...\) cannot write",
        ),
        (lambda x: np.cumsum(x, out=np.zeros(6)), r"numpy.cumsum\(..., out=...\)"),
        (lambda x: np.sort(x, kind="bogo"), r"sort kind must be one of"),
        (lambda x: np.sort(x, order="f"), r"order=\.\.\.\) sorts structured arrays"),
    ],
)
def test_numpy_keywords_without_a_meaning_here_are_refused_by_name(
    call: Any, message: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        _traced(call)(A)


# -- x // y: NumPy's floor_divide, derivative 0 (as JAX), consistent with mod -----------------
@pytest.mark.parametrize(
    "f",
    [
        lambda x: x // 2.0 + x,
        lambda x: 7.0 // x + x,
        lambda x: np.floor_divide(x, 0.1) + x,
    ],
    ids=["x // 2", "7 // x", "np.floor_divide"],
)
def test_floor_divide_has_numpys_value_and_derivative_zero(f: Any) -> None:
    x = np.array([1.0, 2.3, -5.5, 6.9])
    value, tangent = ad.jvp(f, (x,), (np.ones_like(x),))
    np.testing.assert_array_equal(value, f(x))  # NumPy's floor_divide, bit for bit
    np.testing.assert_array_equal(tangent, np.ones_like(x))  # d(x // c)/dx = 0
    np.testing.assert_array_equal(ad.grad(lambda v: anp.sum(f(v)))(x), np.ones_like(x))
    np.testing.assert_array_equal(ad.jit(f)(x), f(x))
    assert ad.grad(lambda s: s // 2 + s)(5.5) == 1.0  # the example, a float


def test_mod_and_floor_divide_are_consistent() -> None:
    # NumPy: x == y * (x // y) + x % y, so d(x % y)/dy = -(x // y). At x = 1, y = 0.1,
    # 1 // 0.1 is 9.0 while floor(1 / 0.1) is 10.0: the rule must use floor_divide.
    x = np.array([1.0, 2.3, -5.5, 6.9])
    y = 0.1
    assert ad.grad(lambda v: anp.sum(x % v))(y) == -np.sum(x // y)
    np.testing.assert_array_equal(ad.jvp(lambda v: x % v, (y,), (1.0,))[1], -(x // y))
