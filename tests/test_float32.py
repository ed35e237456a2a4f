"""float32 in, float32 out: every rule of the table under every transform.

For each primitive of :data:`autodiff_ref.rules.RULES`, the cases of
``tests/test_rules.py`` are drawn again with their float arguments cast to
float32. The value, the JVP's tangent, the VJP's cotangent, ``grad``, ``jacfwd``,
``jacrev`` and ``jit(grad)`` must all be float32 (a float64 constant inside a
rule silently promotes them), and ``jacfwd``'s numbers must be the float64
Jacobian at the same (float32-representable) point, to float32's precision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_rules import CASES, Case, _joined  # tests/ is on sys.path

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.rules import RULES

F32 = np.dtype(np.float32)

#: float32's rounding (ε ≈ 1.2e-7) in the few dozen operations of a rule, times the
#: condition of the cases (well-conditioned matrices, eigenvalues and singular values
#: apart by at least 0.5 relative to their size): 1e-4 of the Jacobian's largest entry
#: is a hundred times that, and a float64 constant left in a rule shows in the dtype
#: checks, not here.
RTOL32 = 1e-4


def _to32(x: Any) -> Any:
    if isinstance(x, float):
        return np.float32(x)
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x.astype(np.float32)
    return x


def _out_dtype(name: str, case: Case) -> np.dtype:
    # astype converts on purpose: its result has the dtype it is asked for.
    return np.dtype(case.params["dtype"]) if name == "astype" else F32


def _float_leaves(tree: Any) -> list[Any]:
    leaves = ad.tree.tree_leaves(tree)
    return [x for x in leaves if np.asarray(x).dtype.kind == "f"]


def _assert_dtype(tree: Any, dtype: np.dtype, what: str) -> None:
    leaves = _float_leaves(tree)
    assert leaves, f"{what}: no float result"
    got = [np.asarray(x).dtype for x in leaves]
    assert all(d == dtype for d in got), f"{what}: {got}, expected {dtype}"


PARAMS = [
    pytest.param(name, case, id=f"{name}-{case.id}")
    for name in RULES
    for case in CASES[name]
]


def _function(name: str, case: Case, args: list[Any]) -> Callable[..., Any]:
    prim = RULES[name]

    def f(*xs: Any) -> Any:
        full = list(args)
        for k, x in zip(case.diff, xs, strict=True):
            full[k] = x
        out = prim(*(case.wrap(full) if case.wrap else full), **case.params)
        return _joined(prim, out)

    return f


@pytest.mark.parametrize(("name", "case"), PARAMS)
def test_float32_in_float32_out(name: str, case: Case) -> None:
    rng = np.random.default_rng([0, *name.encode()])
    args = [_to32(a) for a in case.draw(rng)]
    f = _function(name, case, args)
    primals = [args[k] for k in case.diff]
    out_dtype = _out_dtype(name, case)
    if np.iscomplexobj(f(*primals)):  # fft's: complex64, and its real part float32
        assert np.result_type(f(*primals)) == np.complex64
        f = _real_part(f)

    out = f(*primals)
    _assert_dtype(out, out_dtype, "value")
    tangents = [np.ones_like(x) for x in primals]
    _, tangent = ad.jvp(f, primals, tangents)
    _assert_dtype(tangent, out_dtype, "jvp tangent")
    _, pullback = ad.vjp(f, *primals)
    _assert_dtype(pullback(np.ones_like(out)), F32, "vjp cotangent")

    def total(*xs: Any) -> Any:
        return anp.sum(f(*xs))

    argnums = tuple(range(len(primals)))
    _assert_dtype(ad.grad(total, argnums)(*primals), F32, "grad")
    _assert_dtype(ad.jit(ad.grad(total, argnums))(*primals), F32, "jit(grad)")
    # jacrev's rows are cotangents: the input's type (astype's float64 too, as in JAX).
    _assert_dtype(ad.jacrev(f, argnums)(*primals), F32, "jacrev")
    jac32 = ad.jacfwd(f, argnums)(*primals)
    _assert_dtype(jac32, out_dtype, "jacfwd")

    # The same point in float64 (float32 numbers are exact in float64).
    args64 = [a.astype(np.float64) if _is32(a) else a for a in args]
    f64 = _function(name, case, args64)
    if np.iscomplexobj(f64(*[args64[k] for k in case.diff])):
        f64 = _real_part(f64)
    jac64 = ad.jacfwd(f64, argnums)(*[args64[k] for k in case.diff])
    for j32, j64 in zip(jac32, jac64, strict=True):
        scale = max(float(np.max(np.abs(j64), initial=0.0)), 1.0)
        np.testing.assert_allclose(j32, j64, rtol=RTOL32, atol=RTOL32 * scale)


def _real_part(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *xs: anp.real(f(*xs))


def _is32(x: Any) -> bool:
    return isinstance(x, np.ndarray | np.generic) and x.dtype == F32


def _spd32() -> np.ndarray:
    a = np.random.default_rng(3).normal(size=(3, 3))
    return (a @ a.T + 3 * np.eye(3)).astype(np.float32)


def _square32() -> np.ndarray:
    return np.random.default_rng(4).normal(size=(3, 3)).astype(np.float32)


#: The public functions issue 23 found returning float64 for float32 input.
PUBLIC = {
    "cholesky": (anp.linalg.cholesky, _spd32),
    "eigh": (lambda a: anp.linalg.eigh(a)[1], _spd32),
    "eigvalsh": (anp.linalg.eigvalsh, _spd32),
    "svd": (lambda a: anp.linalg.svd(a)[0], _square32),
    "svd values": (lambda a: anp.linalg.svd(a, compute_uv=False), _square32),
    "qr": (lambda a: anp.linalg.qr(a)[1], _square32),
    "norm 2": (lambda a: anp.linalg.norm(a, 2), _square32),
    "norm nuc": (lambda a: anp.linalg.norm(a, "nuc"), _square32),
    "det": (anp.linalg.det, _square32),
    "slogdet": (lambda a: anp.linalg.slogdet(a)[1], _square32),
    "matrix_power 0": (lambda a: anp.linalg.matrix_power(a, 0), _square32),
    "matrix_power 3": (lambda a: anp.linalg.matrix_power(a, 3), _square32),
}


@pytest.mark.parametrize("name", PUBLIC)
def test_public_linalg_functions_keep_float32(name: str) -> None:
    f, draw = PUBLIC[name]
    a = draw()
    _assert_dtype(f(a), F32, "value")
    _assert_dtype(ad.jvp(f, (a,), (np.ones_like(a),))[1], F32, "jvp")
    _assert_dtype(ad.jacfwd(f)(a), F32, "jacfwd")
    _assert_dtype(ad.jacrev(f)(a), F32, "jacrev")
    _assert_dtype(ad.jit(ad.grad(lambda x: anp.sum(f(x))))(a), F32, "jit(grad)")


def test_matrix_power_zero_is_numpys_identity_in_the_input_dtype() -> None:
    for a in (_square32(), np.arange(4).reshape(2, 2)):
        got = anp.linalg.matrix_power(a, 0)
        want = np.linalg.matrix_power(a, 0)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def _ulps_apart(g: np.ndarray, ulps: int) -> np.ndarray:
    """``g`` with one off-diagonal entry moved ``ulps`` units in the last place."""
    g = g.copy()
    for _ in range(ulps):
        g[0, 1] = np.nextafter(g[0, 1], np.inf, dtype=g.dtype)
    return g


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_symmetry_check_accepts_rounding_in_the_matrixs_own_precision(
    dtype: type,
) -> None:
    a = np.random.default_rng(5).normal(size=(4, 4)).astype(dtype)
    gram = a @ a.T + 4 * np.eye(4, dtype=dtype)
    gram = (gram + gram.T) / 2  # exactly symmetric, then 4 ulps off: rounding
    rounded = _ulps_apart(gram, 4)
    assert rounded[0, 1] != rounded[1, 0]  # the check has something to accept
    np.testing.assert_array_equal(
        anp.linalg.cholesky(rounded), np.linalg.cholesky(rounded)
    )
    w = ad.jacfwd(anp.linalg.eigvalsh)(rounded)
    assert w.dtype == dtype
    # Asymmetry well beyond rounding (1e-3 of the scale) is still refused.
    off = gram.copy()
    off[0, 1] += 1e-3 * np.max(np.abs(gram))
    for f, what in ((anp.linalg.cholesky, "cholesky"), (anp.linalg.eigh, "eigh")):
        with pytest.raises(ValueError, match=f"{what} needs a symmetric matrix"):
            f(off)
