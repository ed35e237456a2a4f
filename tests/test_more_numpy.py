"""Issue 23's functions and signatures: NumPy's meaning, edge cases and conventions.

The generated cases (tests/test_numpy_coverage.py) check each function's value and
Jacobians against NumPy and central differences; here are the parts those do not
reach: NumPy's own edge cases and errors, and the documented derivative
conventions (NaN in fmax, ties, replaced values), each against a closed form.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp

RNG = np.random.default_rng(2023)
V = RNG.normal(size=5)
M = RNG.normal(size=(3, 4))


# -- r_ and c_ ------------------------------------------------------------------------
INDEX_TRICKS = {
    "r_ arrays and numbers": lambda r, c, x: r[x, 0.5, x**2],
    "r_ a range": lambda r, c, x: r[0:3, x],
    "r_ a linspace": lambda r, c, x: r[-1:1:4j, x, 2],
    "r_ '-1'": lambda r, c, x: r["-1", M, x[None, :4] * M],
    "r_ '0,2'": lambda r, c, x: r["0,2", x, x],
    "r_ '0,2,0'": lambda r, c, x: r["0,2,0", x, x],
    "r_ '1,3,-1'": lambda r, c, x: r["1,3,-1", x, x],
    "r_ '1,2,0'": lambda r, c, x: r["1,2,0", x[:3], M],
    "r_ a traced scalar": lambda r, c, x: r[x[0], x],
    "c_ vectors": lambda r, c, x: c[x, x**2],
    "c_ a matrix": lambda r, c, x: c[M, x[:3]],
    "c_ a number": lambda r, c, x: c[x[:1], M[:1], 1.5],
}


@pytest.mark.parametrize("name", list(INDEX_TRICKS))
def test_index_tricks_equal_numpys_and_differentiate(name: str) -> None:
    f = INDEX_TRICKS[name]
    want = f(np.r_, np.c_, V)
    ours = lambda x: f(anp.r_, anp.c_, x)  # noqa: E731
    value, tangent = ad.jvp(ours, (V,), (np.ones(5),))
    assert np.shape(value) == want.shape and np.result_type(value) == want.dtype
    np.testing.assert_array_equal(value, want)  # the same numbers, moved
    # Linear in x (but x**2): the tangent is NumPy's function of the tangent.
    expected = (f(np.r_, np.c_, V + 1e-6) - f(np.r_, np.c_, V - 1e-6)) / 2e-6
    np.testing.assert_allclose(tangent, expected, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(
        ad.jacrev(ours)(V), ad.jacfwd(ours)(V), rtol=1e-15, atol=0
    )


def test_index_tricks_refuse_what_they_cannot_make() -> None:
    with pytest.raises(ValueError, match=r"np\.matrix"):
        anp.r_["r", V, V]
    with pytest.raises(ValueError, match=r"np\.matrix"):
        anp.c_["c", V]
    with pytest.raises(ValueError, match="unknown special directive"):
        anp.r_["x", V]
    with pytest.raises(ValueError, match="first entry"):
        anp.r_[V, "0"]
    with pytest.raises(TypeError, match="linspace"):
        ad.grad(lambda x: anp.sum(anp.r_[0:x:3j]))(1.0)


# -- fmax, fmin: NaN and ties ---------------------------------------------------------
@pytest.mark.parametrize(("ours", "theirs"), [(anp.fmax, np.fmax), (anp.fmin, np.fmin)])
def test_fmax_fmin_ignore_nan_and_give_it_no_derivative(ours: Any, theirs: Any) -> None:
    x = np.array([np.nan, 1.0, np.nan, 2.0, 0.5])
    y = np.array([3.0, np.nan, np.nan, 2.0, -0.5])
    np.testing.assert_array_equal(ours(x, y), theirs(x, y))  # NaN where both are
    for jac in (ad.jacfwd, ad.jacrev):
        dx, dy = jac(ours, argnums=(0, 1))(x, y)
        # Closed form: the non-NaN argument gets 1; at the tie (index 3) each gets
        # 1/2, as maximum's convention says; at the ordinary pair (index 4) the
        # larger (fmax) or smaller (fmin) gets 1; where both are NaN, NaN.
        chosen_x = 1.0 if theirs is np.fmax else 0.0
        want_x = np.array([0.0, 1.0, np.nan, 0.5, chosen_x])
        want_y = np.array([1.0, 0.0, np.nan, 0.5, 1.0 - chosen_x])
        np.testing.assert_array_equal(np.diag(dx), want_x)
        np.testing.assert_array_equal(np.diag(dy), want_y)


# -- partition ------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_partition_values_are_numpys_and_follow_the_selected_elements(
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 9))
    for kth, axis in [(3, -1), ((0, 5, 8), 1), (2, 0), (10, None)]:
        want = np.partition(x, kth, axis=axis)
        np.testing.assert_array_equal(anp.partition(x, kth, axis=axis), want)
        jac = ad.jacfwd(lambda a, k=kth, ax=axis: anp.partition(a, k, axis=ax))(x)
        # Each output element is one input element: the Jacobian is the 0/1
        # matrix of where each value came from, found by the values themselves.
        flat = x.ravel()
        rows = jac.reshape(want.size, flat.size)
        np.testing.assert_array_equal(rows.sum(axis=1), np.ones(want.size))
        np.testing.assert_array_equal(flat[rows.argmax(axis=1)], want.ravel())
    with pytest.raises(ValueError, match="kth"):
        anp.partition(V, 5)


# -- gradient --------------------------------------------------------------------------
GRADIENTS = [
    ((), {}),
    ((0.5,), {}),
    ((0.5, 2.0), {"edge_order": 2}),
    ((np.array([0.0, 1.0, 3.0]), np.array([0.0, 0.5, 0.75, 2.0])), {}),
    ((np.array([0.0, 1.0, 3.0]), 1.5), {"edge_order": 2}),
    ((np.array([0, 1, 2, 4]),), {"axis": 1}),  # integer coordinates
    ((np.array([0.0, 2.0, 4.0, 6.0]),), {"axis": -1, "edge_order": 2}),  # uniform
    ((), {"axis": (1, 0)}),
]


@pytest.mark.parametrize(("spacing", "kw"), GRADIENTS)
def test_gradient_equals_numpys_and_its_jacobian_is_its_own_weights(
    spacing: tuple, kw: dict
) -> None:
    want = np.gradient(M, *spacing, **kw)
    got = anp.gradient(M, *spacing, **kw)
    assert type(got) is type(want)
    for g, w in zip(got if isinstance(got, tuple) else [got],
                    want if isinstance(want, tuple) else [want], strict=True):  # fmt: skip
        np.testing.assert_array_equal(g, w)  # NumPy's operations, in NumPy's order

    def first(a: Any) -> Any:
        out = anp.gradient(a, *spacing, **kw)
        return out[0] if isinstance(out, tuple) else out

    # Linear in M: column j of the Jacobian is gradient of the j-th unit array.
    jac = ad.jacrev(first)(M).reshape(-1, M.size)
    units = np.eye(M.size).reshape(M.size, *M.shape)
    reference = []
    for u in units:
        out = np.gradient(u, *spacing, **kw)
        reference.append(np.ravel(out[0] if isinstance(out, tuple) else out))
    np.testing.assert_allclose(jac, np.array(reference).T, rtol=1e-15, atol=1e-15)


def test_gradient_refuses_what_numpy_refuses() -> None:
    with pytest.raises(ValueError, match="too small"):
        anp.gradient(np.ones(2), edge_order=2)
    with pytest.raises(ValueError, match="greater than 2"):
        anp.gradient(M, edge_order=3)
    with pytest.raises(TypeError, match="invalid number of arguments"):
        anp.gradient(M, 1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="must match the length"):
        anp.gradient(M, np.arange(3.0), np.arange(3.0))
    with pytest.raises(TypeError, match="spacings cannot be traced"):
        ad.grad(lambda h: anp.sum(anp.gradient(M, h, 1.0)))(1.0)
    assert anp.gradient(np.array([1, 4, 9])).dtype == np.float64  # integers as NumPy


# -- the other functions' conventions ---------------------------------------------------
def test_nan_to_num_replaces_values_and_their_derivatives() -> None:
    x = np.array([np.nan, np.inf, -np.inf, 2.0])
    np.testing.assert_array_equal(anp.nan_to_num(x), np.nan_to_num(x))
    np.testing.assert_array_equal(
        anp.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0),
        np.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0),
    )
    for jac in (ad.jacfwd, ad.jacrev):
        np.testing.assert_array_equal(jac(anp.nan_to_num)(x), np.diag([0, 0, 0, 1.0]))
        # A traced replacement gets the derivative where it is used.
        np.testing.assert_array_equal(
            jac(lambda p: anp.nan_to_num(x, posinf=p))(3.0), [0.0, 1.0, 0.0, 0.0]
        )
    x32 = np.array([np.inf], dtype=np.float32)  # the dtype's own largest number
    value, _ = ad.jvp(anp.nan_to_num, (x32,), (np.ones(1, np.float32),))
    np.testing.assert_array_equal(value, np.nan_to_num(x32))


def test_logaddexp2_is_numpys_and_its_gradient_the_base_2_softmax() -> None:
    x, y = RNG.normal(size=4), RNG.normal(size=4)
    np.testing.assert_allclose(anp.logaddexp2(x, y), np.logaddexp2(x, y), rtol=1e-15)
    gx, gy = ad.grad(lambda a, b: anp.sum(anp.logaddexp2(a, b)), argnums=(0, 1))(x, y)
    # d/dx log2(2**x + 2**y) = 2**x / (2**x + 2**y): a few roundings.
    np.testing.assert_allclose(gx, 2**x / (2**x + 2**y), rtol=1e-14)
    np.testing.assert_allclose(gy, 2**y / (2**x + 2**y), rtol=1e-14)
    assert np.isfinite(anp.logaddexp2(2000.0, 2000.0))  # no overflow


def test_angle_of_real_input_is_piecewise_constant() -> None:
    x = np.array([-2.0, -0.0, 0.0, 3.0])
    np.testing.assert_array_equal(anp.angle(x), np.angle(x))
    np.testing.assert_array_equal(anp.angle(x, deg=True), np.angle(x, deg=True))
    for jac in (ad.jacfwd, ad.jacrev):
        np.testing.assert_array_equal(jac(anp.angle)(x), np.zeros((4, 4)))
    # Complex input: the tangent Im(t / z), Im(1 / i) = -1 (tests/test_complex.py).
    assert ad.jvp(anp.angle, (np.array([1j]),), (np.array([1.0 + 0j]),))[1] == -1.0


def test_fabs_and_real_if_close_take_real_input() -> None:
    assert anp.fabs(np.array([-3])).dtype == np.fabs(np.array([-3])).dtype  # float
    with pytest.raises(TypeError):
        anp.fabs(np.array([1j]))  # NumPy's own refusal
    with pytest.raises(TypeError, match="fabs takes real input"):
        ad.jvp(anp.fabs, (np.array([1j]),), (np.array([1.0 + 0j]),))
    np.testing.assert_array_equal(
        anp.real_if_close(np.array([1 + 1e-20j])),
        np.real_if_close(np.array([1 + 1e-20j])),
    )
    assert ad.derivative(anp.real_if_close, 2.0) == 1.0


def test_splits_and_flips_refuse_too_few_dimensions() -> None:
    for f, x, match in [
        (anp.hsplit, np.float64(1.0), "1 or more"),
        (anp.vsplit, V, "2 or more"),
        (anp.dsplit, M, "3 or more"),
        (anp.fliplr, V, ">= 2-d"),
        (anp.flipud, np.float64(1.0), ">= 1-d"),
    ]:
        with pytest.raises(ValueError, match=match):
            f(x, 1) if "split" in f.__name__ else f(x)
    assert [p.shape for p in anp.hsplit(V, [2])] == [(2,), (3,)]


# -- signatures ---------------------------------------------------------------------------
def test_einsum_operand_lists() -> None:
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
    for args in [(a, [0, 1], b, [1, 2]), (a, [0, 1], b, [1, 2], [2, 0]),
                 (a, [Ellipsis, 1], b, [1, 2], [Ellipsis, 2]), (a, [1, 0], [])]:  # fmt: skip
        np.testing.assert_allclose(anp.einsum(*args), np.einsum(*args), rtol=1e-14)
    g = ad.grad(lambda x: anp.sum(anp.einsum(x, [0, 1], b, [1, 2], [0, 2])))(a)
    np.testing.assert_allclose(g, np.ones((2, 4)) @ b.T, rtol=1e-14)  # closed form
    with pytest.raises(ValueError, match="valid range"):
        anp.einsum(a, [0, 60])


def test_cross_with_axis_keywords() -> None:
    a, b = RNG.normal(size=(3, 2)), RNG.normal(size=(2, 3))
    np.testing.assert_allclose(
        anp.cross(a, b, axisa=0, axisb=1, axisc=0),
        np.cross(a, b, axisa=0, axisb=1, axisc=0),
        rtol=1e-15,
    )
    c = RNG.normal(size=(3, 2))
    np.testing.assert_allclose(
        anp.cross(a, c, axis=0), np.cross(a, c, axis=0), rtol=1e-15
    )
    # d/da (a x b) . w = b x w (the scalar triple product), closed form.
    w = RNG.normal(size=(2, 3))
    g = ad.grad(lambda x: anp.sum(anp.cross(x, b, axisa=0) * w))(a)
    np.testing.assert_allclose(g, np.cross(b, w).T, rtol=1e-14, atol=1e-15)


def test_stack_dtype_and_casting_as_numpy() -> None:
    for f, g in [(anp.vstack, np.vstack), (anp.hstack, np.hstack)]:
        got = ad.jvp(lambda x, f=f: f([x, x], dtype=np.float32), (V,), (V,))[0]
        assert got.dtype == g([V, V], dtype=np.float32).dtype == np.float32
        with pytest.raises(TypeError, match="according to the rule 'same_kind'"):
            f([V, V], dtype=np.int64)
        with pytest.raises(TypeError, match="according to the rule 'safe'"):
            g([V, V], dtype=np.float32, casting="safe")
            f([V, V], dtype=np.float32, casting="safe")
    np.testing.assert_array_equal(
        anp.concatenate([V, V], dtype=np.float32),
        np.concatenate([V, V], dtype=np.float32),
    )


# -- array, asarray: nested lists of traced values, as numpy.array builds them ------------
def test_array_of_nested_lists_stacks_traced_values() -> None:
    x = 1.5

    def f(x: Any) -> Any:
        return anp.array([[x, 2.0], [x**2, x / 2.0]])

    # On a plain number it is numpy.array of the same list: the same numbers.
    np.testing.assert_array_equal(f(x), np.array([[x, 2.0], [x**2, x / 2.0]]))
    # Closed form: d/dx [[x, 2], [x**2, x/2]] = [[1, 0], [2x, 1/2]] (each entry one
    # rounding at most, and these are exact in binary: equal).
    for jac in (ad.jacfwd, ad.jacrev):
        np.testing.assert_array_equal(jac(f)(x), [[1.0, 0.0], [2 * x, 0.5]])
        assert jac(f)(x).shape == np.array([[x, 2.0], [x, x]]).shape


def test_array_of_traced_arrays_has_numpys_shape_and_block_jacobian() -> None:
    def f(v: Any) -> Any:
        return anp.array([[v, 2.0 * v], (v, v)])

    np.testing.assert_array_equal(f(V), np.array([[V, 2.0 * V], (V, V)]))
    eye = np.eye(5)  # each block's Jacobian is 1 or 2 times the identity, exactly
    want = np.array([[eye, 2 * eye], [eye, eye]])
    for jac in (ad.jacfwd, ad.jacrev):
        np.testing.assert_array_equal(jac(f)(V), want)


def test_array_dtype_ndmin_and_asarray_as_numpys() -> None:
    x = 0.75
    assert (
        ad.jacfwd(lambda x: anp.array(x, ndmin=2))(x).shape
        == np.array(x, ndmin=2).shape
    )
    value, tangent = ad.jvp(lambda x: anp.array([x, x], dtype=np.float32), (x,), (1.0,))
    assert value.dtype == tangent.dtype == np.float32
    np.testing.assert_array_equal(tangent, [1.0, 1.0])
    with pytest.raises(TypeError, match=r"astype\(int64\)"):
        ad.grad(lambda x: anp.array([x, x], dtype=np.int64).sum())(x)
    # asarray of a traced value is that value (traced values are never written to).
    seen = []
    ad.grad(lambda x: seen.append(anp.asarray(x) is x) or x)(x)
    assert seen == [True]
    # d/dx sum([x, 3x]) = 4 (closed form; exact in binary).
    assert ad.grad(lambda x: anp.asarray([x, 3.0 * x]).sum())(x) == 4.0
    np.testing.assert_array_equal(anp.asarray([1, 2]), np.asarray([1, 2]))
    assert anp.asarray([1, 2]).dtype == np.asarray([1, 2]).dtype


def test_where_of_a_condition_alone_is_nonzero() -> None:
    condition = M > 0
    for got, want in zip(anp.where(condition), np.nonzero(condition), strict=True):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="either both or neither"):
        anp.where(condition, M)


# -- rollaxis, std over one element ------------------------------------------------------
def test_rollaxis_is_numpys_for_every_axis_and_start() -> None:
    t = RNG.normal(size=(2, 3, 4))
    for axis in range(-3, 3):
        for start in range(-3, 4):
            np.testing.assert_array_equal(
                anp.rollaxis(t, axis, start), np.rollaxis(t, axis, start)
            )
    for start in (-4, 4):
        with pytest.raises(np.exceptions.AxisError):
            np.rollaxis(t, 0, start)
        with pytest.raises(np.exceptions.AxisError):
            anp.rollaxis(t, 0, start)


def test_std_over_one_element_is_constant_zero() -> None:
    # The deviation of one element from its own mean is 0 for every x: the derivative
    # is exactly 0 (central differences of numpy.std give 0 too), not 0 * inf = nan.
    h = 1e-6
    assert (np.std(3.5 + h) - np.std(3.5 - h)) / (2 * h) == 0.0
    assert ad.grad(anp.std)(3.5) == 0.0
    assert ad.derivative(anp.std, 3.5) == 0.0
    rows = M[:1]
    for jac in (ad.jacfwd, ad.jacrev):
        np.testing.assert_array_equal(
            jac(lambda x: anp.std(x, axis=0))(rows), np.zeros((4, 1, 4))
        )
    # Over more than one element it is still sqrt(var): NumPy's value.
    np.testing.assert_allclose(anp.std(M, axis=0), np.std(M, axis=0), rtol=1e-15)


def test_numpys_array_of_traced_values_points_to_ours() -> None:
    def by_numpy(x: Any) -> Any:
        return np.array([x, 2.0 * x])

    with pytest.raises(TypeError, match=r"autodiff_ref\.numpy\.array of the same list"):
        ad.grad(lambda x: by_numpy(x).sum())(1.0)
    # ... and the suggestion works: d/dx (x + 2x) = 3 (closed form; exact in binary).
    assert ad.grad(lambda x: anp.array([x, 2.0 * x]).sum())(1.0) == 3.0
