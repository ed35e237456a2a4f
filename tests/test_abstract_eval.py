"""Every primitive's abstract-evaluation rule, and jit of every primitive, table-wide.

Driven from the registry (``core.PRIMITIVES``): a primitive added without an
abstract-evaluation rule, or without an input recipe here, fails a test.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import core
from autodiff_ref import rules as R
from autodiff_ref.program.abstract_eval import ABSTRACT_EVAL, abstract_eval
from autodiff_ref.program.tracing import COMPARISONS, VALUE_ONLY, aval_of

rng = np.random.default_rng(19)
U = rng.uniform(0.2, 0.8, (2, 3))  # inside every elementwise function's domain
V = rng.uniform(0.2, 0.8, (3,))
M = rng.standard_normal((3, 3)) + 3.0 * np.eye(3)  # well conditioned (cond ~ 3)
SPD = M @ M.T
# Symmetric with eigenvalues 1, 2, 4: gaps of 1 or more, so eigh's derivative is tame.
Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
SYM = Q @ np.diag([1.0, 2.0, 4.0]) @ Q.T
TALL = rng.standard_normal((3, 2))

_UNARY_DOMAIN = {R.arccosh: 1.0 + U}  # arccosh needs x > 1
# primitive -> (differentiable arguments, constant keyword params). Every argument
# is differentiated (a float array); params are passed as they are.
RECIPES: dict[core.Primitive, tuple[tuple, dict]] = {
    R.where: ((U > 0.5, U, V), {}),  # the condition is not float: see _float_args
    R.sum: ((U,), {"axis": 1, "keepdims": True}),
    R.prod: ((U,), {"axis": 0}),
    R.amax: ((U,), {"axis": 1}),
    R.amin: ((U,), {}),
    R.cumsum: ((U,), {"axis": 1}),
    R.sum_to: ((U,), {"shape": (3,)}),
    R.broadcast_to: ((V,), {"shape": (2, 3)}),
    R.reshape: ((U,), {"shape": (3, -1)}),
    R.transpose: ((U,), {"axes": (1, 0)}),
    R.getitem: ((U,), {"index": (slice(None), np.array([0, 2, 2]))}),
    R.scatter_add: ((V,), {"index": np.array([0, 1, 1]), "shape": (2,)}),
    R.matmul: ((U, M), {}),
    R.stack: ((V, V[::-1]), {"axis": 1}),
    R.concatenate: ((U, U[:1]), {"axis": 0, "offsets": (0, 2, 3)}),
    R.astype: ((U,), {"dtype": np.float64}),
    R.einsum: ((U, M), {"subscripts": "ij,jk->ik"}),
    R.inv: ((M,), {}),
    R.solve: ((M, TALL), {}),
    R.adjugate: ((M,), {}),
    R.det: ((M,), {}),
    R.slogdet: ((M,), {}),
    R.cholesky: ((SPD,), {}),
    R.eigh: ((SYM,), {}),
    R.svd: ((TALL,), {}),
    R.eigvalsh: ((SYM,), {}),
    R.svdvals: ((TALL,), {}),
    R.qr: ((TALL,), {}),
    R.pinv: ((TALL,), {}),
    R.require_full_rank: ((TALL,), {}),
    R.require_distinct: ((V,), {"what": "eigh"}),
    R.argsort: ((U,), {"axis": 1}),
    **{p: ((U,), {}) for p in (R.real, R.imag, R.conj, R.angle)},  # linear, or a JVP
    **{p: ((U,), {"axis": 1}) for p in VALUE_ONLY.values()},
    R.argpartition: ((U,), {"kth": 1, "axis": 1}),
    R.fft: ((U,), {"axis": 1, "inverse": False, "norm": "ortho"}),
    R.rfft: ((U,), {"axis": 0, "norm": "backward"}),
    R.irfft: ((U,), {"n": 5, "axis": 1, "norm": "forward"}),
}


def _recipe(prim: core.Primitive) -> tuple[tuple, dict]:
    if prim in RECIPES:
        return RECIPES[prim]
    n = len(prim.derivs or ())
    if prim in COMPARISONS.values() or n == 2:
        return (U, V), {}
    if n == 1:
        return (_UNARY_DOMAIN.get(prim, U),), {}
    raise AssertionError(f"no input recipe for {prim.name}: add one to RECIPES")


# The package's primitives: the rules table, and the comparisons and value-only
# reductions that tracing adds (those made at run time or by tests come and go).
_TABLE = [
    *R.RULES.values(), *R.VALUE_CHOICES.values(), *COMPARISONS.values(),
    *VALUE_ONLY.values(),
]  # fmt: skip


_REGISTRY_WITHOUT_RULES = """
import importlib, pkgutil
import autodiff_ref
from autodiff_ref import core
from autodiff_ref.program.abstract_eval import ABSTRACT_EVAL
for module in pkgutil.walk_packages(autodiff_ref.__path__, "autodiff_ref."):
    importlib.import_module(module.name)
print(sorted(name for name, p in core.PRIMITIVES.items() if p not in ABSTRACT_EVAL))
"""


def test_every_registered_primitive_has_an_abstract_rule():
    # A fresh interpreter that imports every module of the package: its registry
    # holds the package's own primitives and nothing the other tests made by hand
    # (those are traced through their NumPy code: see the next test).
    fresh = subprocess.run(
        [sys.executable, "-c", _REGISTRY_WITHOUT_RULES],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert fresh.stdout.strip() == "[]"
    missing = [p.name for p in _TABLE if p not in ABSTRACT_EVAL]
    assert missing == []
    assert set(R.RULES.values()) <= set(_TABLE)  # the whole table is driven


def test_a_primitive_made_by_hand_is_staged_through_its_numpy_code():
    square = core.Primitive(
        core.unique_name("hand_square"), np.square, derivs=[lambda ans, x: 2.0 * x]
    )
    assert square not in ABSTRACT_EVAL
    f = ad.jit(lambda x: anp.sum(square(x)))
    np.testing.assert_array_equal(f(U), np.sum(np.square(U)))  # same operations
    np.testing.assert_array_equal(ad.jit(ad.grad(f))(U), 2.0 * U)  # 2 x, exactly


def test_custom_rules_have_a_traced_abstract_rule():
    f = ad.custom_jvp(lambda x: anp.sum(x**2, axis=0))
    f.defjvp(lambda p, t: (f(p[0]), anp.sum(2.0 * p[0] * t[0], axis=0)))
    g = ad.checkpoint(lambda x: anp.sin(x))
    for h in (f, g):
        assert h.primitive in ABSTRACT_EVAL  # registered where the primitive is made
        assert ad.jit(h)(U).shape == h(U).shape
    np.testing.assert_array_equal(ad.jit(f)(U), f(U))  # same operations, same order


def _kinds(x):
    """The same value as each Python kind the primitive may be given."""
    yield x
    if np.ndim(x) == 0 or x.dtype.kind != "f":
        return
    yield x.astype(np.float32)
    yield x[(0,) * x.ndim]  # a NumPy scalar
    yield np.asarray(x[(0,) * x.ndim])  # a 0-d array
    yield float(x[(0,) * x.ndim])  # a Python float
    yield np.rint(x * 4).astype(int)  # integers


@pytest.mark.parametrize("prim", _TABLE, ids=lambda p: p.name)
def test_abstract_rule_gives_the_type_numpy_gives(prim):
    # The rule's (shape, dtype, kind) against the implementation run on real inputs.
    args, params = _recipe(prim)
    variants = [args]
    if prim.derivs is not None or prim in COMPARISONS.values():  # elementwise: kinds
        for k in range(len(args)):
            variants += [
                (*args[:k], v, *args[k + 1 :])
                for v in list(_kinds(args[k]))[1:]
                if not (prim is R.where and k == 0)
            ]
    for variant in variants:
        with np.errstate(all="ignore"):
            try:
                out = prim.impl(*variant, **params)
                # One type per result for a primitive with several (eigh's w and V).
                want = (
                    tuple(aval_of(o) for o in out)
                    if prim.multiple_results
                    else aval_of(out)
                )
            except (TypeError, ValueError):  # NumPy refuses the kind (sign of a bool)
                continue
        assert abstract_eval(prim, [aval_of(a) for a in variant], params) == want, (
            variant
        )


def _float_args(prim, args):
    return [k for k, a in enumerate(args) if np.result_type(a).kind == "f"]


def _close(got, want):
    # jit runs the same primitives as f, but its generated code calls math for
    # Python floats and its simplifier may fold constants: last-bit differences,
    # relative to the size of the values (all of order 1-10 here) times a few
    # dozen roundings.
    for g, w in zip(
        ad.tree.tree_flatten(got)[0], ad.tree.tree_flatten(want)[0], strict=True
    ):
        scale = max(1.0, float(np.max(np.abs(w), initial=0.0)))
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-13 * scale)


@pytest.mark.parametrize("prim", _TABLE, ids=lambda p: p.name)
def test_every_primitive_jitted_equals_unjitted(prim):
    args, params = _recipe(prim)

    def f(*xs):
        out = prim(*xs, **params)
        if prim.multiple_results:  # one vector of all results: one derivative for all
            return anp.concatenate([anp.ravel(r) for r in out])
        return out

    if prim.multiple_results:  # the tuple of results itself, jitted
        _close(ad.jit(lambda *xs: prim(*xs, **params))(*args), prim(*args, **params))
    _close(ad.jit(f)(*args), f(*args))
    diff = _float_args(prim, args)
    out_kind = np.result_type(f(*args)).kind
    if out_kind != "f" or (prim.derivs is not None and all(
            prim.derivs[k] is None for k in diff)):  # fmt: skip
        return  # no derivative to compare (comparisons, floor, all, ...)

    def scalar(*xs):
        return anp.sum(f(*xs))

    grad = ad.grad(scalar, argnums=tuple(diff))
    _close(ad.jit(grad)(*args), grad(*args))
    jac = ad.jacfwd(f, argnums=diff[0])
    _close(ad.jit(jac)(*args), jac(*args))


def test_value_checks_raise_when_the_program_runs_not_when_it_is_traced():
    # eigh's derivative does not exist at a repeated eigenvalue; jit traces on types
    # only, so the program traced at SYM must raise for a degenerate input, at run time.
    g = ad.jit(ad.grad(lambda a: anp.sum(anp.linalg.eigh(a)[1][:, 0])))
    _close(g(SYM), ad.grad(lambda a: anp.sum(anp.linalg.eigh(a)[1][:, 0]))(SYM))
    with pytest.raises(ValueError, match="two of its values are equal"):
        g(np.eye(3))
    assert g.traces == 1  # the same program ran, and refused


def test_jit_of_max_gradient_follows_the_argmax_of_each_input():
    # The weights of max's derivative are computed from the input's values at run
    # time: a program traced once must move them with the maximum.
    g = ad.jit(ad.grad(lambda x: anp.max(x)))
    for x in (np.array([3.0, 1.0, 2.0]), np.array([1.0, 3.0, 3.0])):
        np.testing.assert_array_equal(g(x), (x == x.max()) / np.sum(x == x.max()))
    assert g.traces == 1


_ZEROS_AND_TIES = np.array([[0.0, 0.3, -1.2, 0.3], [2.0, 0.0, 0.0, -0.5]])
_WITH_NAN = np.array([np.nan, 0.3, 1.0, -1.0])  # fmax/fmin: NaN, a tie, each side
_SPECIAL = np.array([np.inf, 1.0, -np.inf, np.nan])  # what nan_to_num replaces
# Functions whose derivative (or value) chooses a branch by the input's value.
BRANCHING = {
    "sinc": (anp.sinc, np.array([0.0, 0.4, -0.9, 1.0, 2.5])),
    "sort": (lambda x: anp.sort(x, axis=1), _ZEROS_AND_TIES),
    "sort_axis0": (lambda x: anp.sort(x, axis=0), _ZEROS_AND_TIES),
    "norm_ord0": (lambda x: anp.linalg.norm(x, ord=0, axis=1), _ZEROS_AND_TIES),
    "max": (lambda x: anp.max(x, axis=1), _ZEROS_AND_TIES),
    "min": (anp.min, _ZEROS_AND_TIES),
    "inv": (anp.linalg.inv, M),
    "solve": (lambda a: anp.linalg.solve(a, V), M),
    "cholesky": (anp.linalg.cholesky, SPD),
    "det": (anp.linalg.det, M),
    "slogdet": (lambda a: anp.linalg.slogdet(a)[1], M),
    "slogdet_sign": (lambda a: anp.linalg.slogdet(a)[0] * anp.sum(a), -M),
    "qr": (lambda a: anp.linalg.qr(a)[0], TALL),
    "matrix_power_-2": (lambda a: anp.linalg.matrix_power(a, -2), M),
    "eigh": (lambda a: anp.linalg.eigh(a)[1], SYM),
    "svd": (lambda a: anp.linalg.svd(a, full_matrices=False)[1], TALL),
    "norm_2": (lambda a: anp.linalg.norm(a, ord=2), M),
    "norm_nuc": (lambda a: anp.linalg.norm(a, ord="nuc"), M),
    "partition": (lambda x: anp.partition(x, 2, axis=1), _ZEROS_AND_TIES),
    "partition_flat": (lambda x: anp.partition(x, (1, 5), axis=None), _ZEROS_AND_TIES),
    "fmax_nan": (lambda x: anp.fmax(x, _WITH_NAN), _ZEROS_AND_TIES),
    "fmin_nan": (lambda x: anp.fmin(_WITH_NAN, x), _ZEROS_AND_TIES),
    "nan_to_num": (
        lambda x: anp.nan_to_num(  # finite stand-ins: the test's sums cannot overflow
            anp.where(np.isfinite(_SPECIAL), x, _SPECIAL),
            nan=0.5,
            posinf=4.0,
            neginf=-4.0,
        ),
        _ZEROS_AND_TIES,
    ),
    "angle": (lambda x: anp.angle(x) * x, _ZEROS_AND_TIES - 0.1),
}


@pytest.mark.parametrize("name", BRANCHING)
def test_branching_functions_jitted_equal_unjitted(name):
    f, x = BRANCHING[name]
    _close(ad.jit(f)(x), f(x))
    grad = ad.grad(lambda x: anp.sum(f(x) * np.arange(1.0, 1.0 + np.size(f(x))).reshape(
        np.shape(f(x)))))  # fmt: skip
    _close(ad.jit(grad)(x), grad(x))
    jac = ad.jacfwd(f)
    _close(ad.jit(jac)(x), jac(x))


def test_value_choices_have_the_derivatives_of_piecewise_constants_and_the_identity():
    # Closed forms: argsort and argpartition are piecewise constant (derivative 0
    # away from ties); require_distinct and require_full_rank pass their values through.
    assert set(R.VALUE_CHOICES.values()) == {
        R.argsort, R.argpartition, R.require_distinct, R.require_full_rank}  # fmt: skip
    np.testing.assert_array_equal(
        ad.jacrev(lambda x: R.argsort(x, axis=0) * x)(V), np.diag(np.argsort(V))
    )
    np.testing.assert_array_equal(
        ad.jacrev(lambda x: R.argpartition(x, kth=1, axis=0) * x)(V),
        np.diag(np.argpartition(V, 1)),
    )
    for jac in (ad.jacfwd, ad.jacrev):
        np.testing.assert_array_equal(
            jac(lambda v: R.require_distinct(v, what="eigh"))(V), np.eye(3)
        )
        np.testing.assert_array_equal(
            jac(R.require_full_rank)(TALL).reshape(6, 6), np.eye(6)
        )
    with pytest.raises(ValueError, match="two of its values are equal"):
        R.require_distinct(np.array([1.0, 2.0, 1.0]), what="eigh")
    with pytest.raises(ValueError, match="without full rank"):
        R.require_full_rank(np.ones((3, 2)))
