"""Reverse mode (``vjp``, ``grad``): every structural op, fan-out, deep graphs, memory, errors.

References are independent of the rules table: closed forms written out here, and
complex-step Jacobians of the same functions run on plain complex NumPy arrays (no tracer
is involved, so only the NumPy implementations run; the step is exact to rounding and, for
the linear ops, exact outright).  A cotangent ``ct`` must pull back to ``J^T ct``.
"""

from __future__ import annotations

import gc
import re
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.reverse import Node

RNG_SEED = 20240601


def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


def cs_jacobian(f: Callable[..., Any], args: tuple[Any, ...], k: int) -> np.ndarray:
    """d f / d args[k] by the complex step, shaped ``out.shape + args[k].shape``."""
    h = 1e-30
    x = np.asarray(args[k], dtype=float)
    columns = []
    for e in np.eye(x.size):
        xs = list(args)
        xs[k] = x + 1j * h * e.reshape(x.shape)
        with ad.numerical.complex_step_stand_ins():  # abs(z) would be |z|
            columns.append(np.imag(f(*xs)) / h)
    out_shape = np.shape(columns[0]) if columns else ()
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


def pullback(jac: np.ndarray, ct: Any, in_shape: tuple[int, ...]) -> np.ndarray:
    """``J^T ct``: contract the output axes of ``jac`` with the cotangent."""
    ct = np.asarray(ct, dtype=float)
    return np.tensordot(ct, jac, axes=ct.ndim).reshape(in_shape)


def assert_vjp_matches_complex_step(f: Callable[..., Any], *args: Any) -> None:
    """vjp of ``f`` with a random cotangent, for every argument, against ``J^T ct``."""
    out, vjp_fn = ad.vjp(f, *args)
    np.testing.assert_allclose(out, f(*args), rtol=1e-15, atol=0)
    ct = rng().normal(size=np.shape(out))
    cts = vjp_fn(ct)
    assert len(cts) == len(args)
    for k, (arg, got) in enumerate(zip(args, cts, strict=True)):
        assert np.shape(got) == np.shape(arg), f"cotangent {k} has the wrong shape"
        want = pullback(cs_jacobian(f, args, k), ct, np.shape(arg))
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def randn(*shape: int) -> Any:
    """Seeded normal values; a Python float for no shape."""
    values = rng().normal(size=shape)
    return float(values) if shape == () else values


# -- scalars and arrays of many shapes ------------------------------------------------------------
def test_vjp_of_scalar_functions_against_closed_forms() -> None:
    x, y = 0.7, -1.3
    out, vjp_fn = ad.vjp(lambda a, b: anp.sin(a) * b + anp.exp(a * b), x, y)
    assert out == pytest.approx(np.sin(x) * y + np.exp(x * y), rel=1e-15)
    dx, dy = vjp_fn(2.0)
    assert dx == pytest.approx(2.0 * (np.cos(x) * y + y * np.exp(x * y)), rel=1e-15)
    assert dy == pytest.approx(2.0 * (np.sin(x) + x * np.exp(x * y)), rel=1e-15)


SHAPES = [(), (1,), (5,), (2, 3), (3, 1), (2, 1, 4), (2, 3, 2, 2), (0,), (2, 0)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_vjp_elementwise_on_many_shapes(shape: tuple[int, ...]) -> None:
    x = randn(*shape)
    ct = rng().uniform(-2, 2, size=shape)
    out, vjp_fn = ad.vjp(lambda v: anp.sin(v) * anp.exp(v), x)
    assert np.shape(out) == shape
    (got,) = vjp_fn(ct)
    assert np.shape(got) == shape
    want = ct * np.exp(x) * (np.cos(x) + np.sin(x))  # (sin e^x)' = e^x (cos + sin)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_vjp_of_several_primals_with_one_output() -> None:
    a, b, c = randn(3), randn(3), 1.5
    _, vjp_fn = ad.vjp(lambda a, b, c: a * b * c, a, b, c)
    ct = np.array([1.0, -2.0, 0.5])
    da, db, dc = vjp_fn(ct)
    np.testing.assert_allclose(da, ct * b * c, rtol=1e-15)
    np.testing.assert_allclose(db, ct * a * c, rtol=1e-15)
    assert dc == pytest.approx(np.sum(ct * a * b), rel=1e-14)


def test_vjp_of_the_identity_returns_the_cotangent() -> None:
    ct = randn(2, 3)
    out, vjp_fn = ad.vjp(lambda v: v, np.ones((2, 3)))
    np.testing.assert_array_equal(out, np.ones((2, 3)))
    np.testing.assert_array_equal(vjp_fn(ct)[0], ct)


# -- broadcasting: cotangents are summed back to each input's shape -------------------------------
def test_broadcast_vector_with_matrix() -> None:
    a, b = np.array([1.0, 2.0, 3.0]), np.arange(6.0).reshape(2, 3) + 1
    ct = np.array([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    da, db = ad.vjp(lambda a, b: a * b, a, b)[1](ct)
    assert da.shape == (3,) and db.shape == (2, 3)
    np.testing.assert_allclose(da, (ct * b).sum(axis=0), rtol=1e-15)
    np.testing.assert_allclose(db, ct * a, rtol=1e-15)


def test_broadcast_column_with_row() -> None:
    a, b = np.array([[2.0], [-1.0]]), np.array([[1.0, 3.0, 5.0]])
    ct = np.arange(6.0).reshape(2, 3)
    da, db = ad.vjp(lambda a, b: a * b + a, a, b)[1](ct)
    assert da.shape == (2, 1) and db.shape == (1, 3)
    np.testing.assert_allclose(
        da, (ct * (b + 1)).sum(axis=1, keepdims=True), rtol=1e-15
    )
    np.testing.assert_allclose(db, (ct * a).sum(axis=0, keepdims=True), rtol=1e-15)


def test_broadcast_scalar_with_matrix() -> None:
    m = np.arange(6.0).reshape(2, 3)
    ct = np.ones((2, 3))
    ds, dm = ad.vjp(lambda s, m: s * m - s, 2.0, m)[1](ct)
    assert np.shape(ds) == () and dm.shape == (2, 3)
    assert ds == pytest.approx(m.sum() - 6.0, rel=1e-15)
    np.testing.assert_allclose(dm, 2.0 * ct, rtol=1e-15)


BROADCAST_PAIRS = [
    ((3,), (2, 3)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((4, 1, 3), (2, 1)),
    ((1,), (3,)),
    ((1, 1), (2, 2)),
]
BINARY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "mix": lambda a, b: anp.sin(a * b) + a / (b * b + 1.0),
}


@pytest.mark.parametrize("op", list(BINARY_OPS), ids=str)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_broadcasting_binary_ops_against_complex_step(
    op: str, shapes: tuple[tuple[int, ...], tuple[int, ...]]
) -> None:
    g = rng()
    # Positive operands keep pow real; away from 0 keeps div well conditioned.
    a = g.uniform(0.5, 2.0, shapes[0])[()]
    b = g.uniform(0.5, 2.0, shapes[1])[()]
    assert_vjp_matches_complex_step(BINARY_OPS[op], a, b)


# -- indexing and slicing -------------------------------------------------------------------------
def test_getitem_closed_forms() -> None:
    x = np.arange(5.0) + 1.0

    def pull(f: Callable[[Any], Any], ct: Any) -> np.ndarray:
        return ad.vjp(f, x)[1](np.asarray(ct, dtype=float)[()])[0]

    np.testing.assert_array_equal(pull(lambda v: v[0], 3.0), [3, 0, 0, 0, 0])
    np.testing.assert_array_equal(pull(lambda v: v[1:], [1, 2, 3, 4]), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(
        pull(lambda v: v[::-1], [1, 2, 3, 4, 5]), [5, 4, 3, 2, 1]
    )
    np.testing.assert_array_equal(pull(lambda v: v[-1], 2.0), [0, 0, 0, 0, 2])
    # Repeated indices accumulate: x[0] is used twice.
    np.testing.assert_array_equal(
        pull(lambda v: v[[0, 0, 1]], [1, 10, 100]), [11, 100, 0, 0, 0]
    )
    mask = x > 2.5
    np.testing.assert_array_equal(pull(lambda v: v[mask], [1, 2, 3]), [0, 0, 1, 2, 3])
    # Indexing a traced value with a mask computed from it: comparisons act on the primal.
    np.testing.assert_array_equal(
        pull(lambda v: v[v > 2.5], [1, 2, 3]), [0, 0, 1, 2, 3]
    )


@pytest.mark.parametrize("index", [None, (), Ellipsis, (None, None)], ids=repr)
def test_indexing_a_traced_scalar(index: Any) -> None:
    # Python float inputs stay Python floats, which cannot be indexed: the rule uses np.asarray.
    out, vjp_fn = ad.vjp(lambda v: v[index] * v, 3.0)
    np.testing.assert_array_equal(out, np.float64(9.0)[index])
    assert vjp_fn(np.full(np.shape(out), 2.0)) == (12.0,)
    assert ad.grad(lambda v: anp.sum(v[index] * v * v))(3.0) == 27.0


def test_column_slice_of_a_matrix() -> None:
    m = np.arange(12.0).reshape(3, 4)
    g = ad.grad(lambda v: anp.sum(v[:, 2] ** 2))(m)
    want = np.zeros((3, 4))
    want[:, 2] = 2 * m[:, 2]
    np.testing.assert_array_equal(g, want)


def test_grad_of_repeated_fancy_index_counts_each_use() -> None:
    x = np.array([1.0, 2.0, 3.0])
    g = ad.grad(lambda v: anp.sum(v[[0, 0, 2, 0]] * v[[2, 1, 1, 0]]))(x)
    # Sum = x0 x2 + x0 x1 + x2 x1 + x0²: d/dx0 = x2 + x1 + 2 x0, d/dx1 = x0 + x2, d/dx2 = x0 + x1
    np.testing.assert_allclose(g, [3 + 2 + 2, 1 + 3, 1 + 2], rtol=1e-15)


MATRIX = np.arange(24.0).reshape(4, 6) / 7.0 - 1.0
INDEXES: list[Any] = [
    0,
    -1,
    slice(1, None),
    slice(None, None, -1),
    (slice(None), 2),
    (1, slice(None, None, -2)),
    (Ellipsis, 3),
    (slice(None), None),
    [0, 0, 3],
    (np.array([1, 0, 1]), slice(2, 5)),
    (0, [2, 2, 5]),
    ([0, 3, 3], [1, 1, 5]),
    MATRIX > 0.3,
    (MATRIX[:, 0] > 0.0,),
]


@pytest.mark.parametrize("index", INDEXES, ids=lambda i: repr(i)[:30])
def test_getitem_against_complex_step(index: Any) -> None:
    assert_vjp_matches_complex_step(lambda v: v[index] * 2.0, MATRIX)


# -- reductions -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("axis", "keepdims"),
    [(None, False), (None, True), (0, False), (1, True), (-1, False), (-1, True), ((0, -1), False),
     ((-3, 1), True), ((0, 1, 2), False)],
)  # fmt: skip
def test_sum_and_mean_axes(axis: Any, keepdims: bool) -> None:
    x = randn(2, 3, 4)
    for name, f, ref in [("sum", anp.sum, np.sum), ("mean", anp.mean, np.mean)]:
        out, vjp_fn = ad.vjp(lambda v, f=f: f(v, axis=axis, keepdims=keepdims), x)
        want_out = ref(x, axis=axis, keepdims=keepdims)
        np.testing.assert_allclose(out, want_out, rtol=1e-14, err_msg=name)
        ct = rng().normal(size=np.shape(want_out))
        (got,) = vjp_fn(ct)
        # The pullback of a sum copies the cotangent along the summed axes; a mean divides.
        spread = np.broadcast_to(
            ct if keepdims else np.expand_dims(ct, _axes(axis, 3)), x.shape
        )
        count = x.size / np.size(want_out)
        np.testing.assert_allclose(
            got, spread / (count if name == "mean" else 1.0), rtol=1e-14
        )


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in np.atleast_1d(axis))


def test_numpy_reductions_and_methods_are_differentiated() -> None:
    x = randn(2, 3)
    np.testing.assert_allclose(ad.grad(lambda v: np.sum(v * v))(x), 2 * x, rtol=1e-15)
    np.testing.assert_allclose(ad.grad(lambda v: np.mean(v))(x), np.full((2, 3), 1 / 6))
    np.testing.assert_allclose(ad.grad(lambda v: v.sum())(x), np.ones((2, 3)))
    g = ad.grad(lambda v: anp.sum(np.mean(v, axis=0) * np.array([0.0, 1.0, 2.0])))(x)
    np.testing.assert_allclose(g, np.tile([0.0, 0.5, 1.0], (2, 1)), rtol=1e-15)


# -- matmul ---------------------------------------------------------------------------------------
def test_matmul_2d_closed_form() -> None:
    a, b = randn(2, 3), randn(3, 4)
    ct = rng().normal(size=(2, 4))
    da, db = ad.vjp(lambda a, b: a @ b, a, b)[1](ct)
    np.testing.assert_allclose(da, ct @ b.T, rtol=1e-14)
    np.testing.assert_allclose(db, a.T @ ct, rtol=1e-14)


def test_matmul_vector_closed_forms() -> None:
    a, b, m = np.array([1.0, 2.0]), np.array([3.0, -4.0]), np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(ad.vjp(lambda a, b: a @ b, a, b)[1](2.0), (2 * b, 2 * a))
    ct = np.array([1.0, -1.0, 2.0])
    da, dm = ad.vjp(lambda a, m: a @ m, a, m)[1](ct)  # (2,) @ (2, 3) -> (3,)
    np.testing.assert_allclose(da, m @ ct)
    np.testing.assert_allclose(dm, np.outer(a, ct))
    dm, db = ad.vjp(lambda m, b: m.T @ b, m, b)[1](ct)  # (3, 2) @ (2,) -> (3,)
    np.testing.assert_allclose(dm, np.outer(b, ct))
    np.testing.assert_allclose(db, m @ ct)


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_shapes_against_complex_step(
    shapes: tuple[tuple[int, ...], tuple[int, ...]],
) -> None:
    g = rng()
    a, b = g.normal(size=shapes[0]), g.normal(size=shapes[1])
    assert_vjp_matches_complex_step(lambda a, b: a @ b, a, b)
    assert_vjp_matches_complex_step(anp.matmul, a, b)


# -- stack, concatenate, reshape, transpose -------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
def test_stack_axes(axis: int) -> None:
    a, b, c = randn(2, 3), randn(2, 3) + 1, randn(2, 3) - 1
    assert_vjp_matches_complex_step(
        lambda a, b, c: anp.stack([a, b * c, c], axis=axis), a, b, c
    )
    ct = np.arange(18.0).reshape(np.stack([a, b, c], axis=axis).shape)
    da, db, dc = ad.vjp(lambda a, b, c: anp.stack([a, b, c], axis=axis), a, b, c)[1](ct)
    for k, got in enumerate((da, db, dc)):
        np.testing.assert_array_equal(got, np.take(ct, k, axis=axis))


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_concatenate_axes(axis: int) -> None:
    a, b = randn(2, 3), rng().normal(size=(2, 3)) * 2
    b = b if axis in (1, -1) else b[:1]  # unequal sizes along the joined axis
    a = a if axis in (0, -2) else a[:, :2]
    assert_vjp_matches_complex_step(
        lambda a, b: anp.concatenate([a, b * b], axis=axis), a, b
    )
    out = np.concatenate([a, b], axis=axis)
    ct = np.arange(out.size, dtype=float).reshape(out.shape)
    da, db = ad.vjp(lambda a, b: anp.concatenate([a, b], axis=axis), a, b)[1](ct)
    split = a.shape[axis]
    np.testing.assert_array_equal(da, np.take(ct, range(split), axis=axis))
    np.testing.assert_array_equal(
        db, np.take(ct, range(split, out.shape[axis]), axis=axis)
    )


def test_stack_of_traced_scalars_and_constants() -> None:
    g = ad.grad(
        lambda t: anp.sum(anp.stack([t, 1.0, t * t]) * np.array([1.0, 5.0, 2.0]))
    )(3.0)
    assert g == 1.0 + 2.0 * 2 * 3.0


@pytest.mark.parametrize(
    "shape", [(6, 4), (-1,), (4, -1), (2, -1, 3), (24,), (1, 24)], ids=str
)
def test_reshape_including_minus_one(shape: tuple[int, ...]) -> None:
    x = randn(2, 3, 4)
    want_shape = np.reshape(x, shape).shape
    for f in (
        lambda v: anp.reshape(v, shape),
        lambda v: v.reshape(shape),
        lambda v: v.reshape(*shape),
    ):
        out, vjp_fn = ad.vjp(f, x)
        assert np.shape(out) == want_shape
        ct = np.arange(24.0).reshape(want_shape)
        np.testing.assert_array_equal(vjp_fn(ct)[0], ct.reshape(2, 3, 4))


@pytest.mark.parametrize(
    "axes", [None, (1, 2, 0), (2, 0, 1), (0, 2, 1), (-1, 0, 1), (-2, -1, 0)]
)
def test_transpose_axes(axes: Any) -> None:
    x = randn(2, 3, 4)
    out, vjp_fn = ad.vjp(lambda v: anp.transpose(v, axes), x)
    np.testing.assert_array_equal(out, np.transpose(x, axes))
    ct = np.arange(24.0).reshape(np.shape(out))
    (got,) = vjp_fn(ct)
    # The transpose of a permutation is the inverse permutation.
    inverse = None if axes is None else np.argsort(np.mod(axes, 3))
    np.testing.assert_array_equal(got, np.transpose(ct, inverse))


def test_dot_T_of_a_matrix() -> None:
    m = randn(2, 3)
    ct = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(ad.vjp(lambda v: v.T, m)[1](ct)[0], ct.T)
    # m.T @ m is used twice: d/dm sum((m^T m) * W) = m (W + W^T)
    w = randn(3, 3)
    g = ad.grad(lambda v: anp.sum((v.T @ v) * w))(m)
    np.testing.assert_allclose(g, m @ (w + w.T), rtol=1e-14)


# -- Python control flow on primal values ---------------------------------------------------------
def test_comparisons_give_plain_bools_so_if_and_while_work() -> None:
    seen: list[Any] = []

    def f(x: Any) -> Any:
        seen.extend([x > 0, x <= 1.0, x == 0.5, x != 0.5])
        if x > 0:
            return x * x
        return -x

    assert ad.grad(f)(3.0) == 6.0
    assert ad.grad(f)(-3.0) == -1.0
    assert all(type(s) in (bool, np.bool_) for s in seen)

    def doubling(x: Any) -> Any:
        # 1.5 -> 3 -> 6 -> 12: three doublings; bounded for positive x (< 1100)
        while x < 10.0:
            x = x * 2.0
        return x

    assert ad.grad(doubling)(1.5) == 8.0
    assert ad.grad(doubling)(0.1) == 128.0  # 0.1 * 2**7 = 12.8


def test_newton_iteration_in_a_while_loop() -> None:
    # sqrt(a) by Newton's method to convergence; d sqrt(a)/da = 1 / (2 sqrt(a)).
    def newton_sqrt(a: Any) -> Any:
        x = a
        for _ in range(100):  # a few steps converge; the bound is for safety
            value, target = ad.primal_value(x), ad.primal_value(a)
            if abs(value**2 - target) <= 1e-15 * target:
                return x
            x = 0.5 * (x + a / x)
        raise AssertionError(f"Newton's method for sqrt({a}) did not converge")

    for a in (2.0, 9.0, 0.3):
        assert ad.grad(newton_sqrt)(a) == pytest.approx(0.5 / np.sqrt(a), rel=1e-12)


def test_where_selects_the_cotangent() -> None:
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    g = ad.grad(lambda v: anp.sum(anp.where(v > 0, v * v, -3.0 * v)))(x)
    np.testing.assert_array_equal(g, np.where(x > 0, 2 * x, -3.0))


# -- fan-out --------------------------------------------------------------------------------------
def test_fan_out_adds_contributions() -> None:
    x = np.array([-1.0, 0.0, 2.5])
    _, vjp_fn = ad.vjp(lambda v: v * v + v, x)
    np.testing.assert_array_equal(vjp_fn(np.ones(3))[0], 2 * x + 1)
    assert ad.grad(lambda v: v * v + v)(4.0) == 9.0


def test_diamond_graph() -> None:
    # x -> a = sin x -> (b = a², c = exp a) -> y = b c: y' = cos x (2a e^a + a² e^a)
    def f(x: Any) -> Any:
        a = anp.sin(x)
        return (a * a) * anp.exp(a)

    for x in (-1.1, 0.3, 2.0):
        a = np.sin(x)
        want = np.cos(x) * np.exp(a) * (2 * a + a * a)
        assert ad.grad(f)(x) == pytest.approx(want, rel=1e-14)


def test_value_used_a_thousand_times() -> None:
    def f(x: Any) -> Any:
        total = 0.0
        for k in range(1, 1001):
            total = total + anp.sin(k * x)
        return total

    x = 0.3
    k = np.arange(1, 1001)
    assert ad.grad(f)(x) == pytest.approx(
        np.sum(k * np.cos(k * x)), rel=1e-12, abs=1e-10
    )
    # The same node fed straight into a thousand products.
    g = ad.grad(lambda v: anp.sum(anp.stack([v * float(c) for c in k])))(np.array(2.0))
    assert g == pytest.approx(k.sum(), rel=1e-15)


# -- the scalar shortcut of the backward pass agrees with the general one -------------------------
def _every_elementwise_op(x: Any, y: Any) -> Any:
    a = anp.maximum(x * y - 0.5, anp.minimum(x, 0.2)) + anp.abs(x - y) / (1.0 + y * y)
    b = (
        anp.exp(-x) * anp.sin(y)
        + anp.cos(x)
        - anp.tanh(a)
        + anp.sqrt(y) ** x
        + anp.log(y)
    )
    return (
        anp.tan(0.3 * b) + anp.reciprocal(2.0 + a * a) + anp.where(x > y, a, b) - (-b)
    )


@pytest.mark.parametrize("point", [(0.7, 1.3), (1.5, 0.4), (0.1, 0.9), (0.2, 0.2)])
def test_scalar_graphs_match_the_same_function_on_0d_and_1_element_arrays(
    point: tuple[float, float],
) -> None:
    """Python floats take a shortcut in the backward pass; arrays take the general path."""
    grad = ad.grad(_every_elementwise_op, argnums=(0, 1))
    want = ad.grad(lambda x, y: anp.sum(_every_elementwise_op(x, y)), argnums=(0, 1))(
        np.array([point[0]]), np.array([point[1]])
    )
    for args in (point, tuple(np.array(v) for v in point)):
        got = grad(*args)
        for g, w in zip(got, want, strict=True):
            assert np.shape(g) == ()
            assert float(g) == pytest.approx(float(w[0]), rel=1e-13)
    if point == (0.2, 0.2):
        return  # ties in maximum, minimum and abs: the convention, which the complex step lacks
    # and the general path is right: against the complex step on plain NumPy
    for k in range(2):
        assert float(want[k][0]) == pytest.approx(
            float(cs_jacobian(_every_elementwise_op_numpy, point, k)), rel=1e-12
        )


def _every_elementwise_op_numpy(x: Any, y: Any) -> Any:
    # The complex step needs the analytic functions, so the same formula in NumPy terms.
    def re(v: Any) -> Any:
        return np.real(v)

    a = np.where(
        re(x * y - 0.5) >= re(np.where(re(x) <= 0.2, x, 0.2)),
        x * y - 0.5,
        np.where(re(x) <= 0.2, x, 0.2),
    )
    a = a + np.where(re(x - y) < 0, y - x, x - y) / (1.0 + y * y)
    b = np.exp(-x) * np.sin(y) + np.cos(x) - np.tanh(a) + np.sqrt(y) ** x + np.log(y)
    return np.tan(0.3 * b) + 1 / (2.0 + a * a) + np.where(re(x) > re(y), a, b) + b


def test_scalar_graph_with_complex_and_0d_cotangents() -> None:
    """vjp_fn of a float graph takes any scalar cotangent, as the general path does.

    A real input's cotangent is real (JAX's convention): a complex cotangent's
    imaginary part pairs with a direction the real inputs cannot move in.
    """
    out, vjp_fn = ad.vjp(lambda x, y: anp.sin(x) * y + x, 0.5, 2.0)
    assert out == pytest.approx(np.sin(0.5) * 2.0 + 0.5, rel=1e-15)
    for ct in (1.0, np.array(3.0), 1j, 2.0 - 1j, np.float64(-2.0)):
        gx, gy = vjp_fn(ct)
        assert not np.iscomplexobj(gx) and not np.iscomplexobj(gy)
        assert gx == pytest.approx((2.0 * np.cos(0.5) + 1.0) * ct.real, rel=1e-15)
        assert gy == pytest.approx(np.sin(0.5) * ct.real, rel=1e-15)


# -- deep graphs and memory -----------------------------------------------------------------------
def test_a_million_operations_deep_chain() -> None:
    """No RecursionError, and exact: the backward sweep is a loop, not a recursion.

    The gradient of x c^N is c^N; the sweep multiplies the seed 1.0 by c N times,
    which is the same float operation sequence as evaluating f at 1.0.
    """
    n, c = 10**6, 1.0000001

    def f(x: Any) -> Any:
        for _ in range(n):
            x = x * c
        return x

    value, slope = ad.value_and_grad(f)(2.0)
    assert slope == pytest.approx(c**n, rel=1e-9)
    assert value == pytest.approx(2.0 * c**n, rel=1e-9)


def test_deep_alternating_chain_against_its_recurrence() -> None:
    # x_{k+1} = sin(x_k) + 0.5: dx_N/dx_0 is the product of cos(x_k).
    n = 20_000

    def f(x: Any) -> Any:
        for _ in range(n):
            x = anp.sin(x) + 0.5
        return x

    x, slope = 0.3, 1.0
    for _ in range(n):
        slope *= np.cos(x)
        x = np.sin(x) + 0.5
    assert ad.grad(f)(0.3) == pytest.approx(slope, rel=1e-10, abs=1e-300)
    assert ad.derivative(f, 0.3) == pytest.approx(slope, rel=1e-10, abs=1e-300)


class _GcDisabled:
    """Run a block without the cyclic garbage collector: only reference counting frees."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


def _capturing(refs: list[weakref.ref], depth: int = 3) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        y = x
        for _ in range(depth):
            y = anp.sin(y) * x
        if isinstance(
            y, Node
        ):  # the reverse-mode graph, whatever transforms are outside
            refs.append(weakref.ref(y))
            refs.append(weakref.ref(x))
        return y

    return f


def test_graph_is_freed_when_grad_returns_without_the_gc() -> None:
    """What we found: the graph is freed by reference counting alone.

    While ``f`` runs there is a cycle -- each node points to its trace and the
    trace's tape points to every node -- but :func:`~autodiff_ref.vjp` cuts it
    (``trace.tape = None``) as soon as ``f`` returns, so the only owner of the
    tape is ``vjp_fn``'s closure; ``grad`` drops ``vjp_fn`` on return, and every
    node dies at once.  The cyclic collector is disabled here to prove it is
    not needed.
    """
    refs: list[weakref.ref] = []
    with _GcDisabled():
        assert ad.grad(_capturing(refs))(0.7) == pytest.approx(
            ad.derivative(_capturing([]), 0.7), rel=1e-14
        )
        assert refs and all(r() is None for r in refs)

        refs.clear()
        ad.grad(_capturing(refs, depth=20_000))(0.7)  # a long chain too
        assert all(r() is None for r in refs)

        refs.clear()
        ad.jacrev(_capturing(refs))(np.array([0.1, 0.2]))
        ad.hessian(lambda v: anp.sum(_capturing(refs)(v)))(np.array([0.1, 0.2]))
        assert all(r() is None for r in refs)


def test_vjp_fn_owns_the_graph_until_it_is_dropped() -> None:
    refs: list[weakref.ref] = []
    with _GcDisabled():
        _, vjp_fn = ad.vjp(_capturing(refs), 0.7)
        assert all(r() is not None for r in refs)
        first = vjp_fn(1.0)
        assert vjp_fn(1.0) == first  # the graph survives a backward sweep
        del vjp_fn
        assert all(r() is None for r in refs)


def test_graph_is_freed_when_f_raises() -> None:
    refs: list[weakref.ref] = []

    def bad(x: Any) -> Any:
        _capturing(refs)(x)
        raise KeyError("boom")

    with _GcDisabled():
        with pytest.raises(KeyError, match="boom"):
            ad.grad(bad)(0.7)
        assert refs and all(r() is None for r in refs)


# -- vjp_fn: several cotangents, shapes, structure ------------------------------------------------
def test_vjp_fn_called_many_times_gives_jacobian_rows() -> None:
    def f(v: Any) -> Any:
        return anp.stack([v[0] * v[1], anp.sin(v[2]), v[0] + v[2] ** 2])

    x = np.array([0.5, -1.0, 2.0])
    _, vjp_fn = ad.vjp(f, x)
    jac = np.array(
        [[x[1], x[0], 0.0], [0.0, 0.0, np.cos(x[2])], [1.0, 0.0, 2 * x[2]]]
    )  # fmt: skip
    rows = [vjp_fn(e)[0] for e in np.eye(3)]
    np.testing.assert_allclose(rows, jac, rtol=1e-15)
    # Linear in the cotangent, and repeat calls do not accumulate state.
    c1, c2 = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 0.0])
    np.testing.assert_allclose(
        vjp_fn(c1 + 2 * c2)[0], jac.T @ (c1 + 2 * c2), rtol=1e-14
    )
    np.testing.assert_allclose(vjp_fn(c1)[0], jac.T @ c1, rtol=1e-14)


@pytest.mark.parametrize(
    ("out_shape", "bad"),
    [((3,), (4,)), ((3,), ()), ((2, 3), (3, 2)), ((), (1,)), ((3,), (1, 3))],
)
def test_cotangent_of_the_wrong_shape(
    out_shape: tuple[int, ...], bad: tuple[int, ...]
) -> None:
    x = np.ones(out_shape)[()]
    _, vjp_fn = ad.vjp(lambda v: v * 2.0, x)
    pattern = rf"{_re(bad)}.*{_re(out_shape)}"
    with pytest.raises(ValueError, match=pattern):
        vjp_fn(np.ones(bad)[()])


def _re(shape: tuple[int, ...]) -> str:
    return re.escape(str(shape))


def test_cotangent_of_the_wrong_structure() -> None:
    _, vjp_fn = ad.vjp(lambda v: (v * 2.0, anp.sum(v)), np.ones(3))
    with pytest.raises(
        ValueError, match=r"structure PyTreeDef\(\(\*, \*\)\).*PyTreeDef\(\*\)"
    ):
        vjp_fn(np.ones(3))
    with pytest.raises(ValueError, match="structure"):
        vjp_fn((np.ones(3), 1.0, 1.0))


def test_outputs_independent_of_the_input_give_zero_cotangents() -> None:
    x = np.ones((2, 3))
    out, vjp_fn = ad.vjp(lambda v: np.arange(4.0), x)
    np.testing.assert_array_equal(out, np.arange(4.0))
    (got,) = vjp_fn(np.ones(4))
    assert got.shape == (2, 3)
    np.testing.assert_array_equal(got, 0.0)

    _, vjp_fn = ad.vjp(lambda a, b: a * 3.0, 2.0, np.ones(4))
    da, db = vjp_fn(1.0)
    assert da == 3.0
    assert db.shape == (4,)
    np.testing.assert_array_equal(db, 0.0)

    # Depends only through a zero-derivative op (sign): zero too.
    (got,) = ad.vjp(lambda v: anp.sign(v) * 2.0, np.array([-1.0, 2.0]))[1](np.ones(2))
    np.testing.assert_array_equal(got, [0.0, 0.0])
    assert ad.grad(lambda v: 5.0)(1.0) == 0.0


def test_tuple_and_list_outputs_take_matching_cotangents() -> None:
    x = np.array([1.0, 2.0, 3.0])
    out, vjp_fn = ad.vjp(lambda v: (v * v, anp.sum(v), 7.0), x)
    assert isinstance(out, tuple) and len(out) == 3
    np.testing.assert_array_equal(out[0], x * x)
    assert out[1] == 6.0 and out[2] == 7.0
    (got,) = vjp_fn((np.array([1.0, 0.0, 2.0]), 10.0, 3.0))
    np.testing.assert_array_equal(got, 2 * x * [1.0, 0.0, 2.0] + 10.0)

    out, vjp_fn = ad.vjp(lambda a, b: [a * b, (a + b, b)], 2.0, 3.0)
    assert isinstance(out, list) and isinstance(out[1], tuple)
    da, db = vjp_fn([1.0, (10.0, 100.0)])
    assert (da, db) == (3.0 + 10.0, 2.0 + 10.0 + 100.0)


# -- in-place assignment --------------------------------------------------------------------------
def test_in_place_assignment_is_refused_with_advice() -> None:
    def f(x: Any) -> Any:
        x[0] = 1.0
        return anp.sum(x)

    with pytest.raises(TypeError, match=r"in place.*where.*stack.*concatenate"):
        ad.grad(f)(np.ones(3))


def test_the_suggested_rewrite_works() -> None:
    # What the message suggests: build x with its first entry replaced.
    def f(x: Any) -> Any:
        y = anp.where(np.arange(3) == 0, 1.0, x)
        return anp.sum(y * y)

    np.testing.assert_array_equal(
        ad.grad(f)(np.array([5.0, 2.0, 3.0])), [0.0, 4.0, 6.0]
    )
