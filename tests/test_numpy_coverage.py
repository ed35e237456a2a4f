"""More of NumPy on traced values: each function called the way NumPy users write it.

Every case is a small program written with NumPy's own functions (``np.max``,
``np.linalg.norm``, ``x.ravel()``, ``x % 2``).  On plain arrays it runs NumPy
itself, which makes NumPy the independent reference: the value computed inside
``jvp``/``vjp`` must equal NumPy's (same shape, same numbers), and the
Jacobians of forward and reverse mode must equal central differences of NumPy's
function.  The ``autodiff_ref.<name>`` spelling is checked against NumPy too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_ref as ad
import autodiff_ref.numpy as anp

RNG = np.random.default_rng(1234)


def central_jacobian(f: Callable, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    out_shape = np.shape(f(x))
    jac = np.zeros(out_shape + x.shape)
    for idx in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[idx] = h
        jac[(Ellipsis, *idx)] = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (
            2 * h
        )
    return jac


def distinct(*shape: int) -> np.ndarray:
    """Random values with no ties and no zeros (away from max's and abs's kinks)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) + RNG.uniform(0.1, 0.9, n) - n / 2).reshape(shape) / 2


M34 = distinct(3, 4)
V5 = distinct(5)
T234 = distinct(2, 3, 4)
SQ = RNG.normal(size=(3, 3)) + 3 * np.eye(3)
_Q, _ = np.linalg.qr(RNG.normal(size=(3, 3)))
SPD = _Q @ np.diag([1.0, 2.5, 4.0]) @ _Q.T
B32 = RNG.normal(size=(3, 2))

# id -> (program written with NumPy, input)
PROGRAMS: dict[str, tuple[Callable[[Any], Any], np.ndarray]] = {
    # reductions
    "np.max": (lambda x: np.max(x), M34),
    "np.amax-axis0": (lambda x: np.amax(x, axis=0), M34),
    "np.max-keepdims": (lambda x: np.max(x, axis=-1, keepdims=True), T234),
    "x.max()": (lambda x: x.max(axis=1), M34),
    "np.min-axes": (lambda x: np.min(x, axis=(0, 2)), T234),
    "x.min()": (lambda x: x.min(), M34),
    "np.amin": (lambda x: np.amin(x, axis=-2), M34),
    "softmax": (lambda x: np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x))), V5),
    "np.prod": (lambda x: np.prod(x, axis=1), M34),
    "x.prod()": (lambda x: x.prod(), V5),
    "np.mean": (lambda x: np.mean(x, axis=(0, -1), keepdims=True), T234),
    "x.mean()": (lambda x: x.mean(axis=0), M34),
    "np.var": (lambda x: np.var(x, axis=1), M34),
    "np.var-ddof": (lambda x: np.var(x, axis=0, ddof=1, keepdims=True), M34),
    "np.std": (lambda x: np.std(x), M34),
    "x.std()": (lambda x: x.std(axis=-1, ddof=1), T234),
    "np.cumsum": (lambda x: np.cumsum(x, axis=1), M34),
    "np.cumsum-flat": (lambda x: np.cumsum(x), M34),
    "x.cumsum()": (lambda x: x.cumsum(axis=-1), T234),
    "np.diff": (lambda x: np.diff(x), M34),
    "np.diff-n2-axis0": (lambda x: np.diff(x, n=2, axis=0), T234.reshape(4, 6)),
    "np.trace": (lambda x: np.trace(x), M34),
    "np.trace-offset": (lambda x: np.trace(x, offset=1, axis1=1, axis2=2), T234),
    "x.trace()": (lambda x: x.trace(offset=-1), M34),
    "np.diagonal": (lambda x: np.diagonal(x, 1), M34),
    # products
    "np.einsum-matmul": (lambda x: np.einsum("ij,jk->ik", x, x.T), M34),
    "np.einsum-implicit": (lambda x: np.einsum("ij,kj", x, x), M34),
    "np.einsum-ellipsis": (lambda x: np.einsum("...j,j->...", x, V5[:4]), T234),
    "np.einsum-trace": (lambda x: np.einsum("ii", x), SQ),
    "np.tensordot": (lambda x: np.tensordot(x, M34, axes=([1, 2], [0, 1])), T234),
    "np.tensordot-int": (lambda x: np.tensordot(x, x, axes=1), SQ),
    "np.outer": (lambda x: np.outer(x, V5), M34[:, :2]),
    "np.inner": (lambda x: np.inner(x, M34), M34),
    "np.kron": (lambda x: np.kron(x, np.array([[1.0, 2.0], [3.0, 4.0]])), M34),
    "np.kron-vector": (lambda x: np.kron(V5[:2], x), V5),
    "np.cross": (lambda x: np.cross(x, np.array([1.0, -2.0, 0.5])), M34[:, :3]),
    "np.cross-axis": (lambda x: np.cross(x[:3], x[:3] ** 2, axis=0), M34),
    # shapes
    "np.sort": (lambda x: np.sort(x, axis=0), M34),
    "np.sort-flat": (lambda x: np.sort(x, axis=None), M34),
    "np.repeat": (lambda x: np.repeat(x, 2, axis=1), M34),
    "np.repeat-list": (lambda x: np.repeat(x, [1, 0, 3, 2, 1]), V5),
    "x.repeat()": (lambda x: x.repeat(2), V5),
    "np.tile": (lambda x: np.tile(x, (2, 1, 3)), M34),
    "np.roll": (lambda x: np.roll(x, 2), M34),
    "np.roll-axes": (lambda x: np.roll(x, (1, -2), axis=(0, 1)), M34),
    "np.flip": (lambda x: np.flip(x, axis=1), M34),
    "np.flip-all": (lambda x: np.flip(x), T234),
    "np.rot90": (lambda x: np.rot90(x), M34),
    "np.rot90-k3": (lambda x: np.rot90(x, k=3, axes=(1, 2)), T234),
    "np.rot90-k2": (lambda x: np.rot90(x, 2), M34),
    "np.pad": (lambda x: np.pad(x, ((1, 0), (2, 1))), M34),
    "np.pad-value": (lambda x: np.pad(x, 2, constant_values=1.5), V5),
    "np.expand_dims": (lambda x: np.expand_dims(x, (0, -1)), M34),
    "np.squeeze": (lambda x: np.squeeze(x[:, None, :1]), M34),
    "x.squeeze()": (lambda x: x[None].squeeze(axis=0), M34),
    "np.swapaxes": (lambda x: np.swapaxes(x, 0, -1), T234),
    "x.swapaxes()": (lambda x: x.swapaxes(1, 2), T234),
    "np.moveaxis": (lambda x: np.moveaxis(x, 0, -1), T234),
    "np.moveaxis-many": (lambda x: np.moveaxis(x, [0, 1], [-1, 0]), T234),
    "np.rollaxis": (lambda x: np.rollaxis(x, 2, 1), T234),
    "np.rollaxis-start-end": (lambda x: np.rollaxis(x, 0, 3), T234),
    "np.std-one-per-slice": (lambda x: np.std(x[:1], axis=0), M34),
    "np.ravel": (lambda x: np.ravel(x), M34),
    "x.ravel()": (lambda x: x.ravel(), T234),
    "x.flatten()": (lambda x: x.flatten(), M34),
    "np.atleast_1d": (lambda x: np.atleast_1d(x[0, 0]), M34),
    "np.atleast_2d": (lambda x: np.atleast_2d(x), V5),
    "np.atleast_3d": (lambda x: np.atleast_3d(x), M34),
    "np.atleast_3d-vector": (lambda x: np.atleast_3d(x), V5),
    "np.vstack": (lambda x: np.vstack([x, x[0], np.ones(4)]), M34),
    "np.hstack": (lambda x: np.hstack([x, x[:, :1]]), M34),
    "np.hstack-vectors": (lambda x: np.hstack([x, V5]), V5),
    "np.append": (lambda x: np.append(x, x[0]), M34),
    "np.append-axis": (lambda x: np.append(x, x[:1], axis=0), M34),
    "np.split": (lambda x: np.stack(np.split(x, 2, axis=1)), M34),
    "np.split-indices": (lambda x: np.split(x, [1, 3])[1], V5),
    "np.array_split": (lambda x: np.array_split(x, 3)[2], V5),
    "np.diag-vector": (lambda x: np.diag(x, k=1), V5),
    "np.diag-matrix": (lambda x: np.diag(x, k=-1), M34),
    "np.tril": (lambda x: np.tril(x), M34),
    "np.triu": (lambda x: np.triu(x, k=1), T234),
    "np.select": (lambda x: np.select([x > 1, x < -1], [x**2, -x], default=x / 2), M34),
    "np.linspace": (lambda x: np.linspace(x[0], x[1], 5), V5),
    "np.linspace-arrays": (lambda x: np.linspace(x[0], x[1], 4, endpoint=False), M34),
    "np.clip": (lambda x: np.clip(x, -1.0, 1.0), M34),
    "x.clip()": (lambda x: x.clip(min=0.0), M34),
    "np.real": (lambda x: np.real(x), M34),
    "x.real": (lambda x: x.real * 2, M34),
    "x.astype": (lambda x: x.astype(np.float64) + x.astype("float64"), M34),
    # elementwise, through NumPy's ufuncs and operators
    "x % 2": (lambda x: x % 1.5, M34),
    "2 % x": (lambda x: 2.0 % x, M34),
    "np.mod": (lambda x: np.mod(x, -1.3), M34),
    "np.remainder": (lambda x: np.remainder(3.0, x), M34),
    "np.floor": (lambda x: np.floor(x) * x, M34),
    "np.ceil": (lambda x: np.ceil(x) * x, M34),
    "trig": (lambda x: np.cosh(x) + np.sinh(x) * np.arctan(x) + np.arcsinh(x), M34),
    "inverse trig": (
        lambda x: np.arcsin(x / 5) + np.arccos(x / 6) + np.arctanh(x / 7),
        M34,
    ),
    "np.arccosh": (lambda x: np.arccosh(x**2 + 1.5), M34),
    "np.sinc": (lambda x: np.sinc(x) + np.sinc(x / 3), M34),
    "logs": (lambda x: np.log1p(x**2) + np.log2(x**2) + np.log10(x**2), M34),
    "exps": (lambda x: np.expm1(x) + np.exp2(x), M34),
    "binary": (
        lambda x: np.hypot(x, 2.0) + np.logaddexp(x, x[0]) + np.arctan2(x, 1.5),
        M34,
    ),
    # linear algebra
    "np.linalg.norm": (lambda x: np.linalg.norm(x), M34),
    "norm-1": (lambda x: np.linalg.norm(x, 1), V5),
    "norm-inf": (lambda x: np.linalg.norm(x, np.inf), V5),
    "norm--inf": (lambda x: np.linalg.norm(x, -np.inf), V5),
    "norm-3": (lambda x: np.linalg.norm(x, 3), V5),
    "norm-axis": (lambda x: np.linalg.norm(x, axis=1, keepdims=True), M34),
    "norm-fro": (lambda x: np.linalg.norm(x, "fro"), M34),
    "norm-nuc": (lambda x: np.linalg.norm(x, "nuc"), M34),
    "norm-matrix-2": (lambda x: np.linalg.norm(x, 2), M34),
    "norm-matrix-1": (lambda x: np.linalg.norm(x, 1), M34),
    "norm-matrix-inf": (lambda x: np.linalg.norm(x, np.inf), M34),
    "norm-axes": (lambda x: np.linalg.norm(x, "nuc", axis=(2, 0)), T234),
    "np.linalg.inv": (lambda x: np.linalg.inv(x), SQ),
    "np.linalg.solve": (lambda x: np.linalg.solve(x, B32), SQ),
    "solve-vector": (lambda x: np.linalg.solve(SQ, x), V5[:3]),
    "np.linalg.det": (lambda x: np.linalg.det(x), SQ),
    "np.linalg.slogdet": (lambda x: np.linalg.slogdet(x)[1], SQ),
    "np.linalg.cholesky": (lambda x: np.linalg.cholesky((x + x.T) / 2), SPD),
    "np.linalg.eigh": (lambda x: np.linalg.eigh((x + x.T) / 2)[1] ** 2, SPD),
    "eigh-values": (lambda x: np.linalg.eigh((x + x.T) / 2).eigenvalues, SPD),
    "np.linalg.eigvalsh": (lambda x: np.linalg.eigvalsh((x + x.T) / 2), SPD),
    "np.linalg.svd": (lambda x: np.abs(np.linalg.svd(x, full_matrices=False)[0]), M34),
    "svd-values": (lambda x: np.linalg.svd(x, compute_uv=False), M34),
    "svd-square": (lambda x: np.linalg.svd(x)[2] ** 2, SQ),
    "np.linalg.qr": (lambda x: np.linalg.qr(x)[1], M34.T),
    "qr-Q": (lambda x: np.linalg.qr(x).Q, M34.T),
    "np.linalg.matrix_power": (lambda x: np.linalg.matrix_power(x, 3), SQ),
    "matrix_power-neg": (lambda x: np.linalg.matrix_power(x, -2), SQ),
    "np.linalg.trace": (lambda x: np.linalg.trace(x), T234),
    # issue 23: more of NumPy's everyday functions, and its other signatures
    "np.angle": (lambda x: np.angle(x) * x + np.angle(x, deg=True), V5),
    "np.column_stack": (lambda x: np.column_stack([x, x**2, V5]), V5),
    "np.column_stack-2d": (lambda x: np.column_stack([x, x[:, 0]]), M34),
    "np.deg2rad": (lambda x: np.deg2rad(x) + np.radians(x**2), V5),
    "np.rad2deg": (lambda x: np.rad2deg(x) * np.degrees(x), V5),
    "np.gradient": (lambda x: np.gradient(x), V5),
    "np.gradient-2d": (lambda x: np.stack(np.gradient(x, 0.5, 2.0)), M34),
    "np.gradient-coords": (
        lambda x: np.gradient(x, np.array([0.0, 0.5, 2.0, 2.5, 4.0]), edge_order=2),
        V5,
    ),
    "np.gradient-axis": (
        lambda x: np.gradient(x, np.array([1.0, 1.5, 3.5]), axis=1, edge_order=2),
        T234[:, :, 0],
    ),
    "np.hsplit": (lambda x: np.hsplit(x, [1, 3])[1], M34),
    "np.vsplit": (lambda x: np.vsplit(x, 2)[1], M34.T),
    "np.dsplit": (lambda x: np.dsplit(x, 2)[1], T234),
    "np.fabs": (lambda x: np.fabs(x) * x, V5),
    "np.fliplr": (lambda x: np.fliplr(x) * M34, M34),
    "np.flipud": (lambda x: np.flipud(x) * x, V5),
    "np.fmax": (lambda x: np.fmax(x, x[::-1] * 0.5) + np.fmin(x, 0.25), V5),
    "np.fmax-nan": (lambda x: np.fmax(x, np.array([np.nan, 1, np.nan, 2, 3.0])), V5),
    "np.logaddexp2": (lambda x: np.logaddexp2(x, x[::-1]), V5),
    "np.nan_to_num": (lambda x: np.nan_to_num(x * x), M34),
    "np.partition": (lambda x: np.partition(x, 2), V5),
    "np.partition-axis": (lambda x: np.partition(x, (0, 2), axis=0), M34),
    "np.real_if_close": (lambda x: np.real_if_close(x) ** 2, V5),
    "np.einsum-sublists": (lambda x: np.einsum(x, [0, 1], x, [2, 1], [0, 2]), M34),
    "np.einsum-sublist-sum": (lambda x: np.einsum(x, [Ellipsis, 1]), T234),
    "np.cross-axes": (
        lambda x: np.cross(x[:, :3], x[:, 1:], axisa=0, axisb=0, axisc=0),
        M34,
    ),
    "np.vstack-dtype": (lambda x: np.vstack([x, x], dtype=np.float64), V5),
    "np.linalg.eigh-U": (
        lambda x: np.linalg.eigh(x, UPLO="U")[0],
        SPD + np.tril(SQ, -1),
    ),
    "np.linalg.eigvalsh-U": (lambda x: np.linalg.eigvalsh(x, "U"), SPD),
    # reductions of Python lists of traced values
    "anp.sum-list": (lambda x: anp.sum([x[0], x[1] * 2]), M34),
    "anp.mean-list": (lambda x: anp.mean([x[0], x[1]], axis=0), M34),
    "anp.max-list": (lambda x: anp.max([x[0], x[1]]), V5),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_numpy_program_matches_numpy_and_central_differences(name: str) -> None:
    f, x = PROGRAMS[name]
    expected = np.asarray(f(x))  # plain input: NumPy itself
    value, tangent = ad.jvp(f, (x,), (np.ones_like(x),))
    value_rev, _ = ad.vjp(f, x)
    for got in (value, value_rev):
        assert np.shape(got) == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13)
    reference = central_jacobian(f, x)
    fwd, rev = ad.jacfwd(f)(x), ad.jacrev(f)(x)
    np.testing.assert_allclose(fwd, reference, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rev, fwd, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        tangent, fwd.reshape(*expected.shape, -1).sum(-1), atol=1e-12
    )


# -- the autodiff_ref spelling means the NumPy function of the same name ----------
SAME_NAME = [
    ("max", (M34,), {"axis": 0}), ("amin", (M34,), {"axis": 1, "keepdims": True}),
    ("prod", (M34,), {"axis": -1}), ("var", (M34,), {"ddof": 1}), ("std", (M34,), {}),
    ("cumsum", (M34,), {}), ("diff", (M34,), {"axis": 0}), ("einsum", ("ij->j", M34), {}),
    ("tensordot", (M34, M34.T), {"axes": 1}), ("outer", (V5, V5), {}),
    ("inner", (M34, M34), {}), ("kron", (M34, SQ), {}), ("sort", (M34,), {"axis": None}),
    ("repeat", (M34, 2), {"axis": 0}), ("tile", (V5, 2), {}), ("roll", (V5, -1), {}),
    ("flip", (M34,), {}), ("rot90", (M34, 3), {}), ("pad", (V5, (1, 2)), {}),
    ("expand_dims", (V5, 0), {}), ("squeeze", (M34[None],), {}),
    ("swapaxes", (T234, 0, 2), {}), ("moveaxis", (T234, -1, 0), {}), ("ravel", (M34,), {}),
    ("atleast_2d", (V5,), {}), ("vstack", ([V5, V5],), {}), ("hstack", ([M34, M34],), {}),
    ("append", (V5, M34), {}), ("diag", (V5,), {}), ("tril", (M34, -1), {}),
    ("triu", (M34,), {}), ("linspace", (0.0, V5), {"num": 3}), ("clip", (V5, 0.0, 1.0), {}),
    ("cosh", (V5,), {}), ("arctan2", (V5, M34[:, :1]), {}), ("mod", (V5, 0.7), {}),
    ("remainder", (V5, -0.7), {}), ("floor", (V5,), {}), ("logaddexp", (V5, 1.0), {}),
    ("real", (V5,), {}), ("sinc", (V5,), {}),
    ("angle", (V5,), {"deg": True}), ("column_stack", ([V5, V5],), {}),
    ("deg2rad", (V5,), {}), ("rad2deg", (V5,), {}), ("degrees", (V5,), {}),
    ("radians", (V5,), {}), ("gradient", (M34, 2.0), {"edge_order": 2}),
    ("fabs", (V5,), {}), ("fliplr", (M34,), {}), ("flipud", (M34,), {}),
    ("fmax", (V5, np.nan), {}), ("fmin", (np.nan, V5), {}), ("logaddexp2", (V5, 1.0), {}),
    ("nan_to_num", (np.array([np.nan, np.inf, -np.inf, 1.0]),), {}),
    ("partition", (M34, 1), {"axis": 0}), ("real_if_close", (V5,), {}),
    ("einsum", (M34, [0, 1], [1]), {}),
    ("cross", (M34[:, :3], M34[:, 1:]), {"axisa": 0, "axisb": 0, "axisc": 0}),
    ("vstack", ([V5, V5],), {"dtype": np.float32}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "args", "kwargs"), SAME_NAME, ids=[c[0] for c in SAME_NAME]
)
def test_autodiff_ref_function_equals_numpy_function(
    name: str, args: tuple, kwargs: dict
):
    ours = getattr(anp, name)(*args, **kwargs)
    theirs = getattr(np, name)(*args, **kwargs)
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)  # einsum sums in another order


def test_split_returns_the_pieces_numpy_returns() -> None:
    for ours, theirs in zip(anp.array_split(V5, 3), np.array_split(V5, 3), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match="equal division"):
        anp.split(V5, 2)


def test_linalg_functions_equal_numpy() -> None:
    np.testing.assert_allclose(anp.linalg.inv(SQ), np.linalg.inv(SQ), rtol=1e-15)
    np.testing.assert_allclose(anp.linalg.det(SQ), np.linalg.det(SQ), rtol=1e-15)
    sign, logdet = anp.linalg.slogdet(SQ)
    assert (sign, logdet) == tuple(np.linalg.slogdet(SQ))
    for ours, theirs in zip(anp.linalg.svd(SQ), np.linalg.svd(SQ), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-15)
    for ord_ in (None, 1, 2, np.inf, -np.inf, 0, 3):
        assert anp.linalg.norm(V5, ord_) == pytest.approx(
            np.linalg.norm(V5, ord_), rel=1e-15
        )
    for ord_ in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        assert anp.linalg.norm(M34, ord_) == pytest.approx(
            np.linalg.norm(M34, ord_), rel=1e-14
        )


# -- ties, zeros and the conventions ------------------------------------------------------
def test_max_ties_share_the_derivative_like_maximum() -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    expected = np.array([[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    for g in (
        ad.grad(lambda v: np.sum(np.max(v, axis=1)))(x),
        ad.jacfwd(lambda v: v.max(1))(x),
    ):
        np.testing.assert_allclose(
            np.reshape(g, (-1, 2, 3)).sum(0), expected, rtol=1e-15
        )
    # as maximum does for two arguments:
    assert ad.grad(lambda v: np.max(v))(np.array([1.0, 1.0])).tolist() == [0.5, 0.5]


def test_prod_is_exact_where_elements_are_zero() -> None:
    x = np.array([2.0, 0.0, 5.0, 0.0])
    np.testing.assert_array_equal(ad.grad(np.prod)(x), [0.0, 0.0, 0.0, 0.0])
    y = np.array([2.0, 0.0, 5.0])
    np.testing.assert_array_equal(ad.grad(np.prod)(y), [0.0, 10.0, 0.0])
    # second derivatives: d²/dx1 dx2 prod = x0 (nothing divided by zero)
    np.testing.assert_array_equal(
        ad.hessian(np.prod)(y)[1], [5.0, 0.0, 2.0]
    )  # x2, 0, x0


def test_floor_ceil_and_mod_derivative_conventions() -> None:
    # floor and ceil are piecewise constant: derivative 0, also at the jumps.
    for f in (anp.floor, anp.ceil):
        for x0 in (1.5, 2.0, -3.0):
            assert ad.derivative(f, x0) == 0.0 and ad.grad(f)(x0) == 0.0
    # mod: 1 in x, -floor(x / y) in y; at a jump the one-sided value of the right.
    assert ad.grad(lambda x, y: x % y, argnums=(0, 1))(7.5, 2.0) == (1.0, -3.0)
    assert ad.grad(lambda x, y: x % y, argnums=(0, 1))(6.0, 2.0) == (1.0, -3.0)


@pytest.mark.parametrize("x0", [0.0, 0.02, -0.6, 0.999, 1.0, 2.5])
def test_sinc_derivatives_match_sympy_at_and_near_zero(x0: float) -> None:
    import sympy as sp

    t = sp.Symbol("t")
    expr = sp.sin(sp.pi * t) / (sp.pi * t)
    for order in range(7):
        d = sp.diff(expr, t, order)
        exact = float(
            sp.limit(d, t, 0) if x0 == 0 else d.subs(t, sp.Float(x0, 40)).evalf(30)
        )
        for ours in (
            ad.derivative(anp.sinc, x0, order=order),
            _nested_grad(anp.sinc, order)(x0),
        ):
            assert ours == pytest.approx(exact, rel=1e-12, abs=1e-12), (
                order,
                ours,
                exact,
            )


def _nested_grad(f: Callable, order: int) -> Callable:
    for _ in range(order):
        f = ad.grad(f)
    return f


def test_sort_follows_the_permutation() -> None:
    x = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(ad.jacrev(np.sort)(x), np.eye(3)[[1, 2, 0]])


def test_higher_order_through_new_rules() -> None:
    # d²/dx² of log(sum exp) = diag(p) - p p^T, through logaddexp.
    x = np.array([0.3, -1.2])
    p = np.exp(x) / np.exp(x).sum()
    h = ad.hessian(lambda v: anp.logaddexp(v[0], v[1]))(x)
    np.testing.assert_allclose(h, np.diag(p) - np.outer(p, p), rtol=1e-14)
    # d²/dA² log det A, contracted with dA twice, = -tr(A^-1 dA A^-1 dA)
    d = RNG.normal(size=(3, 3))
    second = ad.jvp(lambda a: ad.jvp(lambda b: anp.linalg.slogdet(b)[1], (a,), (d,))[1],
                    (SQ,), (d,))[1]  # fmt: skip
    ainv_d = np.linalg.solve(SQ, d)
    assert second == pytest.approx(-np.trace(ainv_d @ ainv_d), rel=1e-12)


# -- linear algebra against closed forms ----------------------------------------------------
def test_jacobi_formula_for_the_determinant() -> None:
    # d det(A) = det(A) tr(A^-1 dA), and grad det = det(A) A^-T.
    d = RNG.normal(size=(3, 3))
    _, tangent = ad.jvp(np.linalg.det, (SQ,), (d,))
    expected = np.linalg.det(SQ) * np.trace(np.linalg.solve(SQ, d))
    assert tangent == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(
        ad.grad(np.linalg.det)(SQ), np.linalg.det(SQ) * np.linalg.inv(SQ).T, rtol=1e-13
    )


def test_differential_of_the_inverse() -> None:
    # d(A^-1) = -A^-1 dA A^-1, in forward mode and (transposed) in reverse mode.
    d = RNG.normal(size=(3, 3))
    inv = np.linalg.inv(SQ)
    _, tangent = ad.jvp(np.linalg.inv, (SQ,), (d,))
    np.testing.assert_allclose(tangent, -inv @ d @ inv, rtol=1e-13, atol=1e-15)
    w = RNG.normal(size=(3, 3))  # grad <W, A^-1> = -A^-T W A^-T
    g = ad.grad(lambda a: np.sum(w * np.linalg.inv(a)))(SQ)
    np.testing.assert_allclose(g, -inv.T @ w @ inv.T, rtol=1e-13, atol=1e-15)


def test_gradient_of_log_det_is_the_inverse_transpose() -> None:
    np.testing.assert_allclose(
        ad.grad(lambda a: np.linalg.slogdet(a)[1])(SQ), np.linalg.inv(SQ).T, rtol=1e-13
    )
    # For a symmetric positive definite matrix, through Cholesky: log det = 2 sum log diag L.
    g = ad.grad(
        lambda a: 2 * np.sum(np.log(np.diagonal(np.linalg.cholesky((a + a.T) / 2))))
    )
    np.testing.assert_allclose(g(SPD), np.linalg.inv(SPD), rtol=1e-12)


def test_least_squares_gradient_and_minimum() -> None:
    # loss(x) = |A x - b|² / 2 has gradient A^T (A x - b); its zero solves the normal
    # equations, and the solution found with linalg.solve has zero gradient.
    a, b = RNG.normal(size=(6, 3)), RNG.normal(size=6)
    x0 = RNG.normal(size=3)

    def loss(x: Any) -> Any:
        r = a @ x - b
        return 0.5 * np.sum(r * r)

    np.testing.assert_allclose(ad.grad(loss)(x0), a.T @ (a @ x0 - b), rtol=1e-13)
    x_star = anp.linalg.solve(a.T @ a, a.T @ b)
    np.testing.assert_allclose(x_star, np.linalg.lstsq(a, b, rcond=None)[0], rtol=1e-12)
    np.testing.assert_allclose(ad.grad(loss)(x_star), 0.0, atol=1e-12)
    # and the solution's derivative in b is the pseudo-inverse
    np.testing.assert_allclose(
        ad.jacrev(lambda v: anp.linalg.solve(a.T @ a, a.T @ v))(b),
        np.linalg.pinv(a),
        rtol=1e-11,
    )


def test_eigenvalue_and_singular_value_gradients() -> None:
    # d w_k = v_k^T dA v_k, d s_k = u_k^T dA v_k.
    _, v = np.linalg.eigh(SPD)
    for k in range(3):
        g = ad.grad(lambda a, k=k: np.linalg.eigvalsh((a + a.T) / 2)[k])(SPD)
        np.testing.assert_allclose(g, np.outer(v[:, k], v[:, k]), atol=1e-13)
    u, _, vh = np.linalg.svd(M34, full_matrices=False)
    g = ad.grad(lambda a: np.linalg.norm(a, "nuc"))(M34)
    np.testing.assert_allclose(g, u @ vh, atol=1e-13)  # the nuclear norm's gradient


def test_matrix_power_and_solve_against_numpy() -> None:
    d = RNG.normal(size=(3, 3))
    _, t = ad.jvp(lambda a: np.linalg.matrix_power(a, 2), (SQ,), (d,))
    np.testing.assert_allclose(t, d @ SQ + SQ @ d, rtol=1e-13)
    assert np.array_equal(anp.linalg.matrix_power(SQ, 0), np.eye(3))


# -- where a derivative does not exist, or the input is wrong: clear errors ---------------
def test_singular_matrix_is_refused_by_inv_and_solve() -> None:
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(np.linalg.LinAlgError, match="inv: the matrix is singular"):
        ad.grad(lambda a: np.sum(np.linalg.inv(a)))(singular)
    with pytest.raises(np.linalg.LinAlgError, match="solve: the matrix is singular"):
        anp.linalg.solve(singular, np.ones(2))


def test_non_symmetric_input_to_eigh_and_cholesky_is_refused() -> None:
    with pytest.raises(ValueError, match="eigh needs a symmetric matrix"):
        ad.jacfwd(lambda a: np.linalg.eigh(a)[0])(M34[:, :3])
    with pytest.raises(ValueError, match="cholesky needs a symmetric matrix"):
        anp.linalg.cholesky(SQ)


def test_repeated_eigenvalues_and_singular_values_are_refused() -> None:
    with pytest.raises(ValueError, match=r"derivative of eigh does not exist.*equal"):
        ad.grad(lambda a: np.linalg.eigh(a)[0][0])(np.eye(3))
    with pytest.raises(ValueError, match=r"derivative of svd does not exist.*equal"):
        ad.jacfwd(lambda a: np.linalg.svd(a)[1])(2 * np.eye(2))
    with pytest.raises(ValueError, match="full_matrices=False"):
        ad.grad(lambda a: np.sum(np.linalg.svd(a)[0]))(M34)


def test_unsupported_numpy_functions_are_named_in_full() -> None:
    pattern = (
        r"numpy\.linalg\.eig has no derivative rule.*custom_jvp.*"
        r'"How to write a custom derivative rule"'
    )
    with pytest.raises(TypeError, match=pattern):
        ad.grad(lambda a: np.sum(np.linalg.eig(a)[0]))(SQ)
    with pytest.raises(TypeError, match=r"numpy\.fft\.hfft has no derivative rule"):
        ad.jacfwd(lambda x: np.fft.hfft(x))(V5)
    with pytest.raises(TypeError, match=r"numpy\.cumprod has no derivative rule"):
        ad.grad(lambda x: np.sum(np.cumprod(x)))(V5)


@pytest.mark.parametrize(
    ("method", "match"),
    [
        (
            "cumprod",
            r"no method \.cumprod\(\) of numpy\.ndarray.*primal_value\(x\)\.cumprod",
        ),
        ("tolist", r"no method \.tolist\(\) of numpy\.ndarray"),
        ("item", r"no method \.item\(\) of numpy\.ndarray"),
        ("byteswap", r"no method \.byteswap\(\) of numpy\.ndarray"),
    ],
)
def test_ndarray_methods_traced_values_lack_are_named(method: str, match: str) -> None:
    for transform in (ad.grad, ad.jacfwd):
        with pytest.raises(AttributeError, match=match) as info:
            transform(lambda x, m=method: getattr(x, m)())(V5)
        assert "'Node' object has no attribute" not in str(info.value)


def test_index_answers_come_from_primal_values() -> None:
    def f(x: Any) -> Any:
        assert x.argmax() == np.argmax(V5) and np.argmin(x) == np.argmin(V5)
        assert (x > 0).any() and np.all(np.argsort(x) == np.argsort(V5))
        return x[x.argmax()] * 2

    np.testing.assert_array_equal(ad.grad(f)(V5), 2 * (np.arange(5) == np.argmax(V5)))


def test_the_methods_users_reach_for_exist() -> None:
    f = lambda x: x.ravel().max() + x.flatten().min() + x.mean() + x.squeeze().prod()  # noqa: E731
    g = ad.grad(f)(M34[None])
    np.testing.assert_allclose(g, central_jacobian(f, M34[None]), rtol=1e-6, atol=1e-8)
    with pytest.raises(TypeError, match=r"astype\(int64\) of a traced value.*floor"):
        ad.grad(lambda x: np.sum(x.astype(np.int64)))(V5)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda x: np.r_[x, x],
            r"numpy\.r_ / numpy\.c_ .*tried to convert a \w+ to a NumPy",
        ),
        (
            lambda x: np.c_[x, x],
            r"numpy\.r_ / numpy\.c_ .*autodiff_ref\.numpy\.concatenate",
        ),
        (
            lambda x: np.mean([x[0], x[1]]),
            r"numpy\.mean of a list .*autodiff_ref\.numpy\.mean\(\[\.\.\.\]\)",
        ),
        (
            lambda x: np.sum([x[0], x[1]]),
            r"numpy\.sum of a list .*autodiff_ref\.numpy\.sum\(\[\.\.\.\]\)",
        ),
        (lambda x: np.int64(x[0]), r"numpy\.int64.*in `.*np\.int64\(x\[0\]\)"),
        (lambda x: np.float64(x[0]), r"numpy\.float64"),
        (lambda x: int(x[0]), r"int\(\) of a \w+ would drop its derivative"),
    ],
    ids=["r_", "c_", "mean-list", "sum-list", "int64", "float64", "int"],
)
def test_conversions_say_which_was_attempted(call: Callable, match: str) -> None:
    for transform in (ad.grad, ad.jacfwd):
        with pytest.raises(TypeError, match=match):
            transform(lambda x: anp.sum(call(x)))(V5)


# -- random NumPy programs (Hypothesis): NumPy is the reference ----------------------------
ARRAY_STEPS: list[tuple[str, Callable[[Any], Any]]] = [
    ("cumsum", lambda a: np.cumsum(a, axis=-1)),
    ("flip", lambda a: np.flip(a, axis=0)),
    ("roll", lambda a: np.roll(a, 1, axis=-1)),
    ("sort", lambda a: np.sort(a, axis=-1)),
    ("swapaxes", lambda a: np.swapaxes(a, 0, -1)),
    ("max", lambda a: a * np.max(a, axis=0, keepdims=True)),
    ("min", lambda a: a - a.min(axis=-1, keepdims=True)),
    ("prod", lambda a: a + np.prod(np.tanh(a), axis=-1, keepdims=True)),
    (
        "mean/var",
        lambda a: (a - a.mean(axis=0)) / (1 + np.var(a, axis=0)),
    ),  # std: kink at 0
    ("einsum", lambda a: np.einsum("ij,ij->i", a, a)[:, None] * a / 10),
    ("norm", lambda a: a / np.linalg.norm(np.stack([a, a * 0 + 1]), axis=0)),  # never 0
    ("repeat", lambda a: np.repeat(a, 2, axis=0)[1::2]),
    ("rot90", lambda a: np.rot90(a)),
    ("tril", lambda a: np.tril(a, 1) + np.triu(a, 2) * 0.5),
    ("elementwise", lambda a: np.sinh(a / 2) + np.arctan(a) + np.logaddexp(a, 0.3)),
    ("hypot/arctan2", lambda a: np.hypot(a, 1.0) - np.arctan2(a, 2.0)),
    ("mod", lambda a: np.mod(a, 7.3) + np.floor(a / 11.0)),
    ("outer-inner", lambda a: np.inner(a, a) @ a / 10),
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(ARRAY_STEPS), min_size=1, max_size=4),
    st.integers(0, 2**32 - 1),
)
def test_random_numpy_programs_match_numpy_and_central_differences(steps, seed) -> None:
    x = np.random.default_rng(seed).normal(size=(3, 4))

    def program(a: Any) -> Any:
        for _, step in steps:
            a = step(a)
        return a

    expected = program(x)
    value, _ = ad.jvp(program, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    fwd, rev = ad.jacfwd(program)(x), ad.jacrev(program)(x)
    np.testing.assert_allclose(rev, fwd, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fwd, central_jacobian(program, x), rtol=1e-5, atol=1e-6)


# -- second order, through every nesting of the modes --------------------------------------
SECOND_ORDER: dict[str, tuple[Callable[[Any], Any], np.ndarray]] = {
    "prod": (lambda x: np.prod(x, axis=0), M34[:2, :2]),
    "max": (lambda x: np.max(x, axis=1) * x[:, 0], M34[:2, :3]),
    "cumsum": (lambda x: np.cumsum(x**2), V5[:3]),
    "einsum": (lambda x: np.einsum("ij,jk,ki->i", x, x, x), SQ[:2, :2]),
    "inv": (np.linalg.inv, SQ[:2, :2]),
    "solve": (lambda x: np.linalg.solve(x, x[:, :1] ** 2), SQ[:2, :2]),
    "det": (np.linalg.det, SQ),
    "slogdet": (lambda x: np.linalg.slogdet(x)[1], SQ),
    "cholesky": (lambda x: np.linalg.cholesky((x + x.T) / 2), SPD[:2, :2] + np.eye(2)),
    "eigh": (
        lambda x: np.linalg.eigh((x + x.T) / 2)[1],
        SPD[:2, :2] + np.diag([0, 3.0]),
    ),
    "svd": (lambda x: np.linalg.svd(x, full_matrices=False)[0] ** 2, M34[:3, :2]),
    "qr": (lambda x: np.linalg.qr(x)[1], M34[:3, :2]),
    "norm": (lambda x: np.linalg.norm(x, "nuc"), M34[:2, :3]),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_derivatives_agree_in_every_nesting(name: str) -> None:
    f, x = SECOND_ORDER[name]
    weights = np.cos(np.arange(np.size(f(x)))).reshape(np.shape(f(x)))

    def scalar(v: Any) -> Any:
        return np.sum(np.sin(f(v)) * weights)

    fwd_rev = ad.jacfwd(ad.grad(scalar))(x)
    rev_rev = ad.jacrev(ad.grad(scalar))(x)
    fwd_fwd = ad.jacfwd(ad.jacfwd(scalar))(x)
    np.testing.assert_allclose(rev_rev, fwd_rev, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(fwd_fwd, fwd_rev, rtol=1e-10, atol=1e-11)
    by_differences = central_jacobian(lambda v: ad.grad(scalar)(v), x)
    np.testing.assert_allclose(fwd_rev, by_differences, rtol=1e-6, atol=1e-7)


def test_real_of_a_complex_value_is_linear_over_the_reals() -> None:
    # real is not holomorphic, but linear over the reals: its tangent is real(t).
    assert anp.real(3 + 4j) == 3.0
    assert ad.jvp(anp.real, (1 + 2j,), (1j,)) == (1.0, 0.0)
    assert ad.jvp(anp.real, (1 + 2j,), (2 - 1j,)) == (1.0, 2.0)


def test_higher_derivatives_along_a_line_match_closed_forms() -> None:
    # derivative(order=k) of t -> F(A + t B): polynomials and the Neumann series.
    x, b = np.array([1.0, 2.0, 3.0]), RNG.normal(size=(3, 3))
    assert ad.derivative(lambda t: anp.prod(x * t), 1.0, order=3) == pytest.approx(
        6 * np.prod(x)
    )
    quadratic = ad.derivative(lambda t: anp.einsum("i,i->", x * t, x * t), 1.0, order=2)
    assert quadratic == pytest.approx(2 * x @ x)
    third = ad.derivative(lambda t: anp.linalg.det(SQ + t * b), 0.0, order=3)
    assert third == pytest.approx(6 * np.linalg.det(b), rel=1e-10)
    second = ad.derivative(lambda t: anp.linalg.inv(SQ + t * b), 0.0, order=2)
    inv = np.linalg.inv(SQ)
    np.testing.assert_allclose(
        second, 2 * inv @ b @ inv @ b @ inv, rtol=1e-11, atol=1e-13
    )
    top = ad.derivative(
        lambda t: anp.max(x * t + t**2), 1.0, order=2
    )  # the last element's
    assert top == 2.0


def test_clip_without_bounds_returns_a_as_numpy_2_4_does() -> None:
    # NumPy 2.1+ documents clip(a, None, None) as a (2.0 raised); the value is a
    # new array equal to a, and the derivative that of the identity.
    a = np.array([1.5, -2.0, 0.0])
    got = anp.clip(a, None, None)
    np.testing.assert_array_equal(got, a)
    assert got is not a and got.dtype == a.dtype
    if np.lib.NumpyVersion(np.__version__) >= "2.1.0":
        np.testing.assert_array_equal(got, np.clip(a, None, None))
    np.testing.assert_array_equal(
        ad.jacfwd(lambda x: anp.clip(x, None, None))(a), np.eye(3)
    )
    np.testing.assert_array_equal(
        ad.grad(lambda x: anp.sum(anp.clip(x, None, None)))(a), np.ones(3)
    )
    assert anp.clip(2.5, None, None) == 2.5
