"""autodiff_ref.numpy: one list makes the namespace, the dispatch and the old spellings."""

from __future__ import annotations

import builtins
import warnings

import numpy as np
import pytest

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.core import Tracer
from autodiff_ref.numpy import _dispatch, _fft, _linalg, _ops

#: What autodiff_ref exported before the NumPy functions moved (0.1.0's __all__ and
#: its "more of NumPy" list), written out here as the record of what must keep working.
OLD_TOP_LEVEL_NUMPY = """
    abs add amax amin append arccos arccosh arcsin arcsinh arctan arctan2 arctanh
    array_split astype atleast_1d atleast_2d atleast_3d ceil clip concatenate cos cosh
    cross cumsum diag diagonal diff divide dot einsum exp exp2 expand_dims expm1 flip
    floor hstack hypot inner kron linspace log log1p log2 log10 logaddexp matmul max
    maximum mean min minimum mod moveaxis multiply negative outer pad power prod ravel
    real reciprocal remainder repeat reshape roll rot90 select sign sin sinc sinh sort
    split sqrt square squeeze stack std subtract sum swapaxes tan tanh tensordot tile
    transpose tril triu var vstack where
""".split()


def test_the_namespace_is_the_one_list() -> None:
    assert anp.__all__ == [*_ops.__all__, "fft", "linalg"]
    for name in _ops.__all__:
        assert getattr(anp, name) is getattr(_ops, name)
    assert anp.linalg.__all__ == _linalg.__all__
    for name in _linalg.__all__:
        assert getattr(anp.linalg, name) is getattr(_linalg, name)
    assert anp.fft.__all__ == _fft.__all__
    for name in _fft.__all__:
        assert getattr(anp.fft, name) is getattr(_fft, name)


def test_every_name_is_numpys() -> None:
    # A public function means what NumPy's function of the same name means.
    for name in _ops.__all__:
        assert hasattr(np, name), name
    for name in _linalg.__all__:
        assert hasattr(np.linalg, name) or name.endswith("Result"), name
    for name in _fft.__all__:
        assert hasattr(np.fft, name), name


def test_numpy_functions_on_traced_values_are_routed_by_the_same_list() -> None:
    for name in _ops.__all__:
        theirs = getattr(np, name)
        routes = (
            _dispatch._UFUNCS if isinstance(theirs, np.ufunc) else _dispatch._FUNCTIONS
        )
        assert theirs in routes, name
    for name in _linalg.__all__:
        if not name.endswith("Result"):
            assert getattr(np.linalg, name) in _dispatch._FUNCTIONS, name
    for name in _fft.__all__:
        assert getattr(np.fft, name) in _dispatch._FUNCTIONS, name


def test_np_function_gives_the_anp_derivative() -> None:
    # Independent reference: d/dx sum(sinh(x) * x) = cosh(x) x + sinh(x), closed form.
    x = np.array([0.3, -1.2, 2.0])
    by_numpy = ad.grad(lambda x: np.sum(np.sinh(x) * x))(x)
    by_anp = ad.grad(lambda x: anp.sum(anp.sinh(x) * x))(x)
    closed_form = np.cosh(x) * x + np.sinh(x)
    # Same primitives in the same order: equal to the bit. The closed form rounds
    # differently: a few ulps.
    assert np.array_equal(by_numpy, by_anp)
    np.testing.assert_allclose(by_anp, closed_form, rtol=1e-14)


def test_the_top_level_holds_transforms_and_tools_only() -> None:
    for name in ad.__all__:
        assert name not in OLD_TOP_LEVEL_NUMPY, name
    # No builtin is shadowed by `from autodiff_ref import *`.
    assert not set(ad.__all__) & set(dir(builtins))
    assert "trace" not in ad.__all__ and "flatten" not in ad.__all__
    assert "trace_evaluation" in ad.__all__
    # ... nor NumPy: `from autodiff_ref import *` after `import numpy` keeps NumPy.
    assert "numpy" not in ad.__all__


@pytest.mark.parametrize("name", OLD_TOP_LEVEL_NUMPY)
def test_old_top_level_names_warn_and_still_work(name: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"use autodiff_ref\.numpy\.{name}\b"):
        old = getattr(ad, name)
    assert old is getattr(anp, name)


@pytest.mark.parametrize(
    ("name", "new", "value"),
    [
        ("trace", r"autodiff_ref\.trace_evaluation", ad.trace_evaluation),
        ("flatten", r"autodiff_ref\.numpy\.ravel", anp.ravel),
        ("linalg", r"autodiff_ref\.numpy\.linalg", anp.linalg),
        ("ops", r"autodiff_ref\.numpy\b", anp),
    ],
)
def test_moved_names_warn_with_their_new_spelling(
    name: str, new: str, value: object
) -> None:
    with pytest.warns(DeprecationWarning, match=new):
        assert getattr(ad, name) is value


def test_from_import_of_an_old_name_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"autodiff_ref\.numpy\.sin"):
        # ``from autodiff_ref import sin``, spelled so that respelling leaves it alone
        __import__("autodiff_ref", fromlist=["sin"])


def test_unknown_names_are_still_attribute_errors() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning on the way
        with pytest.raises(AttributeError, match="no attribute 'sine'"):
            ad.sine  # noqa: B018


def test_operators_and_methods_come_from_the_numpy_layer() -> None:
    # Installed from above the core: the functions live in autodiff_ref.numpy.
    for name in (
        "__add__",
        "__rmul__",
        "__getitem__",
        "__array_ufunc__",
        "sum",
        "reshape",
    ):
        assert getattr(Tracer, name).__module__ == "autodiff_ref.numpy._array_methods"
    # ... and do what NumPy's do: d/dx of x.T @ x[::-1] + x.sum() (closed form).
    x = np.array([1.0, 2.0, 3.0])
    g = ad.grad(lambda x: x.T @ x[::-1] + x.sum())(x)
    np.testing.assert_array_equal(g, 2 * x[::-1] + 1)  # small integers: exact
