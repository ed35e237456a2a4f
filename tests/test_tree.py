"""Pytrees as users write them (issue 10, section 2): dicts, namedtuples and None.

The structure functions are checked on their own, then every transform with
dict and namedtuple inputs, outputs, tangents and cotangents, against closed
forms (worked out in the comments) and JAX's documented nesting of Jacobians:
the output's structure outside, the argument's structure inside.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.core import Primitive
from autodiff_ref.tree import (
    PyTreeDef,
    tree_flatten,
    tree_leaves,
    tree_leaves_like,
    tree_map,
    tree_unflatten,
)

Params = collections.namedtuple("Params", "w b")


# -- the structure functions ---------------------------------------------------------------------
TREES = [
    1.0,
    None,
    (),
    [1.0, (2.0, None), {"a": 3.0}],
    {"w": np.ones(2), 7: [None, 4.0], ("k", 1): 5.0},
    Params(w=np.zeros(3), b=(1.0, 2.0)),
    {"outer": {"inner": Params(1.0, [2.0])}},
]


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_flatten_then_unflatten_gives_the_tree_back(tree: Any) -> None:
    leaves, treedef = tree_flatten(tree)
    assert treedef.num_leaves == len(leaves)
    rebuilt = tree_unflatten(treedef, leaves)
    assert tree_flatten(rebuilt)[1] == treedef
    assert type(rebuilt) is type(tree)
    assert all(a is b for a, b in zip(tree_leaves(rebuilt), leaves, strict=True))


def test_leaves_come_depth_first_with_dicts_in_insertion_order() -> None:
    tree = {"z": 1.0, "a": (2.0, [3.0, None]), "m": Params(4.0, 5.0)}
    assert tree_leaves(tree) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert repr(tree_flatten(tree)[1]) == (
        "PyTreeDef({'z': *, 'a': (*, [*, None]), 'm': Params(*, *)})"
    )
    assert tree_leaves(None) == [] and tree_leaves((None, None)) == []


def test_structures_compare_and_hash() -> None:
    a = tree_flatten({"x": (1.0, 2.0)})[1]
    b = tree_flatten({"x": (np.ones(3), "anything")})[1]
    assert a == b and hash(a) == hash(b)
    assert a != tree_flatten({"x": [1.0, 2.0]})[1]  # a list is not a tuple
    assert a != tree_flatten({"y": (1.0, 2.0)})[1]
    assert tree_flatten(Params(1.0, 2.0))[1] != tree_flatten((1.0, 2.0))[1]
    assert isinstance(a, PyTreeDef) and not a.is_leaf and tree_flatten(1.0)[1].is_leaf


def test_leaves_like_matches_dicts_by_key_and_reports_mismatches() -> None:
    treedef = tree_flatten({"w": 1.0, "b": (2.0, 3.0)})[1]
    assert tree_leaves_like(treedef, {"b": (20.0, 30.0), "w": 10.0}) == [
        10.0,
        20.0,
        30.0,
    ]
    with pytest.raises(
        ValueError, match=r"\{'w': \*, 'b': \(\*, \*\)\}.*\{'w': \*, 'b': \*\}"
    ):
        tree_leaves_like(treedef, {"w": 1.0, "b": 2.0})
    with pytest.raises(ValueError, match="leaves"):
        tree_unflatten(treedef, [1.0])


def test_tree_map_applies_to_matching_leaves() -> None:
    got = tree_map(lambda x, y: x * y, {"a": 2.0, "b": [3.0]}, {"b": [10.0], "a": 5.0})
    assert got == {"a": 10.0, "b": [30.0]}


# -- transforms with dicts, namedtuples and None ----------------------------------------------
def product(p: Any) -> Any:
    return p["w"] * p["b"]


def test_grad_of_a_dict_is_a_dict_in_the_callers_key_order() -> None:
    assert ad.grad(product)({"w": 2.0, "b": 3.0}) == {"w": 3.0, "b": 2.0}
    got = ad.grad(product)({"b": 3.0, "w": 2.0})
    assert list(got) == ["b", "w"] and got == {"w": 3.0, "b": 2.0}
    assert ad.value_and_grad(product)({"w": 2.0, "b": 3.0}) == (
        6.0,
        {"w": 3.0, "b": 2.0},
    )


def test_grad_of_a_namedtuple_is_a_namedtuple() -> None:
    # loss = sum((w x + b)**2) at x = (1, 2): d/dw = sum(2 r x), d/db = sum(2 r), r = w x + b.
    x = np.array([1.0, 2.0])
    params = Params(w=0.5, b=np.array([1.0, -1.0]))
    got = ad.grad(lambda p: anp.sum((p.w * x + p.b) ** 2))(params)
    r = 0.5 * x + params.b
    assert isinstance(got, Params)
    assert got.w == pytest.approx(np.sum(2 * r * x), rel=1e-15)
    np.testing.assert_allclose(got.b, 2 * r, rtol=1e-15)


def test_none_is_an_empty_subtree() -> None:
    assert ad.grad(lambda p: p[0] * 2.0)((1.0, None)) == (2.0, None)
    assert ad.grad(lambda p: p["a"] ** 2)({"a": 3.0, "unused": None}) == {
        "a": 6.0,
        "unused": None,
    }


def test_jvp_with_dict_primals_tangents_and_outputs() -> None:
    # f = {"s": w + b, "p": w b}; along (dw, db) = (1, 10): ds = 11, dp = b + 10 w = 23.
    out, tangent = ad.jvp(
        lambda p: {"s": p["w"] + p["b"], "p": p["w"] * p["b"]},
        ({"w": 2.0, "b": 3.0},),
        ({"b": 10.0, "w": 1.0},),  # keys in another order: matched by key
    )
    assert out == {"s": 5.0, "p": 6.0} and tangent == {"s": 11.0, "p": 23.0}


def test_vjp_with_a_dict_output_and_cotangent() -> None:
    out, vjp_fn = ad.vjp(lambda x: {"double": 2 * x, "square": x * x}, 3.0)
    assert out == {"double": 6.0, "square": 9.0}
    assert vjp_fn({"square": 1.0, "double": 10.0}) == (26.0,)  # 10 * 2 + 1 * 2 x


@pytest.mark.parametrize("jacobian", [ad.jacfwd, ad.jacrev])
def test_jacobians_of_dicts_nest_output_outside_input_inside(jacobian: Any) -> None:
    # d{"a": x, "b": 2x}/dx = {"a": 1, "b": 2}; d(a b)/d{"b", "a"} = {"b": a, "a": b}.
    got = jacobian(lambda x: {"a": x, "b": 2 * x})(1.0)
    assert list(got) == ["a", "b"] and [float(v) for v in got.values()] == [1.0, 2.0]
    got = jacobian(lambda p: p["a"] * p["b"])({"b": 1.0, "a": 2.0})
    assert list(got) == ["b", "a"] and [float(v) for v in got.values()] == [2.0, 1.0]
    # A vector in a dict, a dict out: blocks of shape out.shape + in.shape.
    x = np.array([1.0, 2.0, 3.0])
    got = jacobian(lambda p: {"sq": p["v"] ** 2, "sum": anp.sum(p["v"])})({"v": x})
    np.testing.assert_array_equal(got["sq"]["v"], np.diag(2 * x))
    np.testing.assert_array_equal(got["sum"]["v"], np.ones(3))


@pytest.mark.parametrize("jacobian", [ad.jacfwd, ad.jacrev])
def test_jacobians_with_tuple_argnums_and_pytree_arguments(jacobian: Any) -> None:
    # f(p, y) = p.w * y + p.b: d/dp = Params(y, 1), d/dy = p.w.
    got = jacobian(lambda p, y: p.w * y + p.b, argnums=(0, 1))(Params(2.0, 5.0), 3.0)
    assert isinstance(got, tuple) and isinstance(got[0], Params)
    assert [float(got[0].w), float(got[0].b), float(got[1])] == [3.0, 1.0, 2.0]


def test_hessian_and_hvp_of_a_dict() -> None:
    # f = x**2 y: f_xx = 2 y, f_xy = 2 x, f_yy = 0, at (x, y) = (1, 2).
    def f(p: Any) -> Any:
        return p["x"] ** 2 * p["y"]

    h = ad.hessian(f)({"x": 1.0, "y": 2.0})
    assert {k: {j: float(v) for j, v in row.items()} for k, row in h.items()} == {
        "x": {"x": 4.0, "y": 2.0},
        "y": {"x": 2.0, "y": 0.0},
    }
    got = ad.hvp(f, ({"x": 1.0, "y": 2.0},), ({"x": 1.0, "y": 0.0},))
    assert {k: float(v) for k, v in got.items()} == {"x": 4.0, "y": 2.0}


def test_check_grads_accepts_what_grad_accepts() -> None:
    ad.check_grads(product, ({"w": 2.0, "b": 3.0},))
    ad.check_grads(
        lambda p, q: (p.w * anp.sin(p.b), {"k": q[0] ** 2}),
        (Params(np.ones(2), 0.5), [1.5, None]),
    )
    # A wrong rule (sin's derivative taken to be sin) is still caught inside a dict.
    bad_sin = Primitive("tree_bad_sin", np.sin, derivs=[lambda ans, x: ad.rules.sin(x)])
    with pytest.raises(AssertionError, match="differs"):
        ad.check_grads(lambda p: bad_sin(p["w"]) * p["b"], ({"w": 0.5, "b": 2.0},))


def test_check_grads_accepts_complex_inputs() -> None:
    ad.check_grads(anp.sin, (1 + 2j,))
    ad.check_grads(
        lambda z, x: anp.sum(anp.exp(z) * x),
        (np.array([1 + 2j, 0.5 - 1j]), np.array([0.3, 0.4])),
    )
    # Not holomorphic, but linear over the reals near each point: checked as well.
    ad.check_grads(lambda z: anp.abs(z) ** 2, (1 + 2j,), order=2)
    ad.check_grads(
        lambda z: anp.sum(anp.abs(z) * anp.angle(z) + anp.var(z)),
        (np.array([1 + 2j, -0.5 + 1j]),),
        order=2,
    )

    # A wrong VJP fails: the conjugate of abs's transpose, as a custom rule.
    @ad.custom_vjp
    def conjugated_abs(z: Any) -> Any:
        return anp.abs(z)

    conjugated_abs.defvjp(
        lambda z: (anp.abs(z), z), lambda z, ct: (ct * z / anp.abs(z),)
    )
    with pytest.raises(AssertionError, match="reverse mode"):
        ad.check_grads(conjugated_abs, (1 + 2j,), modes=("rev",))


# -- user classes registered as containers (JAX's register_pytree_node) ----------------
class _Params:
    """A user's parameter object: two arrays and a name that is not differentiated."""

    def __init__(self, w: Any, b: Any, name: str = "layer") -> None:
        self.w, self.b, self.name = w, b, name


ad.tree.register_pytree_node(
    _Params, lambda p: ((p.w, p.b), p.name), lambda name, wb: _Params(*wb, name=name)
)


def _loss(p: _Params) -> Any:
    return anp.sum(anp.tanh(p.w) * p.b) + anp.sum(p.b**2)


def test_a_registered_class_goes_through_grad_jvp_and_vjp() -> None:
    rng = np.random.default_rng(7)
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    p = _Params(w, b, name="first")
    # Closed form: d/dw = (1 - tanh(w)^2) b, d/db = tanh(w) + 2 b.
    dw, db = (1 - np.tanh(w) ** 2) * b, np.tanh(w) + 2 * b
    g = ad.grad(_loss)(p)
    assert isinstance(g, _Params) and g.name == "first"
    np.testing.assert_allclose(g.w, dw, rtol=1e-14)
    np.testing.assert_allclose(g.b, db, rtol=1e-14)
    t = _Params(np.ones(3), np.zeros(3), name="first")
    value, slope = ad.jvp(_loss, (p,), (t,))
    np.testing.assert_allclose(slope, np.sum(dw), rtol=1e-14)
    value_r, vjp_fn = ad.vjp(_loss, p)
    assert value_r == value
    (ct,) = vjp_fn(2.0)
    np.testing.assert_allclose(ct.b, 2 * db, rtol=1e-14)
    # A registered class as an output: the Jacobian-vector product keeps it.
    doubled = ad.jvp(lambda q: _Params(2 * q.w, q.b * q.b, q.name), (p,), (t,))[1]
    assert isinstance(doubled, _Params)
    np.testing.assert_array_equal(doubled.w, 2 * np.ones(3))
    np.testing.assert_array_equal(doubled.b, np.zeros(3))


def test_a_registered_class_is_part_of_the_structure() -> None:
    leaves, treedef = ad.tree.tree_flatten(_Params(1.0, (2.0, 3.0), name="n"))
    assert leaves == [1.0, 2.0, 3.0]
    assert repr(treedef) == "PyTreeDef(CustomNode(_Params['n'], [*, (*, *)]))"
    assert treedef != ad.tree.tree_flatten(_Params(1.0, (2.0, 3.0), name="m"))[1]
    rebuilt = ad.tree.tree_unflatten(treedef, [4.0, 5.0, 6.0])
    assert (rebuilt.w, rebuilt.b, rebuilt.name) == (4.0, (5.0, 6.0), "n")
    with pytest.raises(ValueError, match="already a pytree node type"):
        ad.tree.register_pytree_node(_Params, lambda p: ((), None), lambda a, c: None)
    with pytest.raises(ValueError, match="already a pytree node type"):
        ad.tree.register_pytree_node(dict, lambda p: ((), None), lambda a, c: None)
