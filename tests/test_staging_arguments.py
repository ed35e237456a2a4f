"""Arguments of staged functions: jit's pytrees and keywords, linearize's aux and dicts."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp

Params = collections.namedtuple("Params", "w b")
rng = np.random.default_rng(10)
W, B, X = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal(3)


def loss(params, batch, extra, *, scale=1.0, offset=None):
    """A dict, a namedtuple and None (an empty subtree) as arguments, and keywords."""
    assert extra is None
    h = anp.tanh(batch["x"] @ params.w + params.b)
    out = scale * anp.sum(h**2)
    return out if offset is None else out + offset["c"]


def close(got, want):
    # The jitted code runs the same primitives in the same order, but calls math
    # for Python floats where the eager code calls NumPy: last bits of values of
    # order 1, through a dozen roundings.
    for g, w in zip(
        ad.tree.tree_flatten(got)[0], ad.tree.tree_flatten(want)[0], strict=True
    ):
        np.testing.assert_allclose(g, w, rtol=1e-14, atol=1e-14)


def test_jit_takes_dicts_namedtuples_none_and_keywords():
    fast = ad.jit(loss)
    params, batch = Params(W, B), {"x": X}
    close(fast(params, batch, None), loss(params, batch, None))
    for scale in (2.0, -0.5):  # a traced keyword: one program for both values
        close(
            fast(params, batch, None, scale=scale),
            loss(params, batch, None, scale=scale),
        )
    assert fast.traces == 2  # without, then with the keyword
    # Keywords in another order are the same call.
    offset = {"c": 1.5}
    a = fast(params, batch, None, offset=offset, scale=2.0)
    b = fast(params, batch, None, scale=2.0, offset=offset)
    assert a == b and fast.traces == 3
    close(a, loss(params, batch, None, scale=2.0, offset=offset))
    # A new structure (another dict key) traces again; a transform sees the pytrees.
    close(
        ad.grad(fast)(params, batch, None, scale=2.0),
        ad.grad(loss)(params, batch, None, scale=2.0),
    )


def test_jit_keywords_are_not_positional_dicts():
    # f(x, {"k": v}) and f(x, k=v) are different calls: different cache entries.
    def f(x, k=None, **kw):
        return x * 2.0 if k is not None and not kw else x * 3.0

    fast = ad.jit(f)
    assert fast(1.0, {"k": 0.0}) == f(1.0, {"k": 0.0}) == 2.0
    assert fast(1.0, j=0.0) == f(1.0, j=0.0) == 3.0
    assert fast.traces == 2


def test_jit_static_arguments_with_pytrees():
    f = ad.jit(lambda d, n: anp.sum(d["a"] ** n), static_argnums=1)
    d = {"a": X}
    for n in (2, 3):
        close(f(d, n), np.sum(X**n))
    assert f.traces == 2
    g = ad.jit(lambda d, n, scale=1.0: scale * anp.sum(d["a"] ** n), static_argnums=-1)
    close(g(d, 2), np.sum(X**2))
    with pytest.raises(ValueError, match="from the start"):
        g(d, 2, scale=2.0)  # -1 would name the keywords' dict


def test_linearize_has_aux_returns_the_aux_undifferentiated():
    def f(x):
        return anp.sin(x) * x, {"norm": anp.sum(x**2), "first": x[0]}

    out, f_jvp, aux = ad.linearize(f, X, has_aux=True)
    want_out, want_tangent, want_aux = ad.jvp(f, (X,), (B[[0, 1, 0]],), has_aux=True)
    np.testing.assert_array_equal(out, want_out)  # the same operations
    np.testing.assert_array_equal(f_jvp(B[[0, 1, 0]]), want_tangent)
    assert aux.keys() == want_aux.keys()
    for k in aux:
        assert not isinstance(aux[k], ad.core.Tracer)
        np.testing.assert_array_equal(aux[k], want_aux[k])
    assert aux["norm"] == np.sum(X**2)  # the same sum, in the same order
    with pytest.raises(TypeError, match="pair"):
        ad.linearize(anp.sin, X, has_aux=True)


def test_linearize_matches_dict_tangents_by_key():
    def f(p):
        return anp.tanh(X @ p["w"] + p["b"])

    point = {"w": W, "b": B}
    _, f_jvp = ad.linearize(f, point)
    tangent = {"w": np.ones_like(W), "b": np.full(2, 0.5)}
    reordered = {"b": tangent["b"], "w": tangent["w"]}
    want = ad.jvp(f, (point,), (tangent,))[1]
    np.testing.assert_array_equal(f_jvp(tangent), want)
    np.testing.assert_array_equal(f_jvp(reordered), want)
    with pytest.raises(TypeError, match="same dict keys"):
        f_jvp({"w": tangent["w"], "c": tangent["b"]})
