"""A fake ``autograd`` package made of autodiff_ref's names, for autograd's own tests.

:mod:`benchmarks.autograd_suite` writes this module out as ``autograd`` (and a
few submodules) in a scratch directory, so that HIPS autograd's test files run
unchanged against autodiff_ref. The mapping is by name only: ``autograd.numpy``
is :mod:`autodiff_ref.numpy` (NumPy itself for what it does not define: dtypes,
constants, ``random``); ``grad``, ``jacobian``, ``hessian`` and the rest are
autodiff_ref's transforms with autograd's ``argnum`` spelling; and
``autograd.test_util.check_grads`` is autograd's own check (forward and reverse
mode, to the given order, against central differences), written again on top of
``autodiff_ref.jvp`` and ``autodiff_ref.vjp``.

Complex numbers: autograd's VJP is JAX's (so autodiff_ref's), the transpose of
the JVP without conjugation (autograd's ``make_vjp(lambda z: 2j * z)(z)[0](1.0)``
is ``2j``, as JAX's), so ``make_vjp`` passes cotangents through unchanged;
autograd's check conjugates where its inner product needs it (``covector``).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from itertools import product
from typing import Any

import numpy as onp

import autodiff_ref as ad
from autodiff_ref.core import Tracer
from autodiff_ref.tree import tree_flatten, tree_unflatten

# -- unary_to_nary: autograd's argnum convention -----------------------------------


def _subst(args: tuple[Any, ...], argnum: Any, x: Any) -> tuple[Any, ...]:
    out = list(args)
    if isinstance(argnum, int):
        out[argnum] = x
    else:
        for i, xi in zip(argnum, x, strict=True):
            out[i] = xi
    return tuple(out)


def unary_to_nary(unary_operator: Callable[..., Any]) -> Callable[..., Any]:
    """autograd's decorator: ``op(fun, argnum=0, *op_args)(*args)``."""

    def nary_operator(
        fun: Callable[..., Any], argnum: Any = 0, *op_args: Any, **op_kwargs: Any
    ) -> Callable[..., Any]:
        def nary_f(*args: Any, **kwargs: Any) -> Any:
            def unary_f(x: Any) -> Any:
                return fun(*_subst(args, argnum, x), **kwargs)

            x = (
                args[argnum]
                if isinstance(argnum, int)
                else tuple(args[i] for i in argnum)
            )
            return unary_operator(unary_f, x, *op_args, **op_kwargs)

        # autograd's names: grad(foo, 1).__name__ == "grad_of_foo_wrt_argnum_1".
        op, name = unary_operator.__name__, getattr(fun, "__name__", "[unknown name]")
        nary_f.__name__ = f"{op}_of_{name}_wrt_argnum_{argnum}"
        nary_f.__doc__ = (
            f"    {op} of function {name} with respect to argument number {argnum}. "
            f"Takes the\n    same arguments as {name} but returns the {op}.\n    "
        )
        return nary_f

    nary_operator.__name__ = unary_operator.__name__
    nary_operator.__doc__ = unary_operator.__doc__
    return nary_operator


# -- vector spaces: what check_grads needs of its inputs and outputs ---------------


def _is_complex(leaf: Any) -> bool:
    return onp.iscomplexobj(leaf)


class VSpace:
    """The vector space of a value (a pytree of arrays): autograd's ``vspace``."""

    def __init__(self, value: Any) -> None:
        leaves, self.treedef = tree_flatten(value)
        arrays = [onp.asarray(ad.primal_value(leaf)) for leaf in leaves]
        self.shapes = [a.shape for a in arrays]
        self.complex = [_is_complex(a) for a in arrays]
        self.dtypes = [
            a.dtype if a.dtype.kind in "fc" else onp.dtype(float) for a in arrays
        ]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, VSpace)
            and self.treedef == other.treedef
            and self.shapes == other.shapes
            and self.complex == other.complex
        )

    def __repr__(self) -> str:
        return f"VSpace({self.treedef}, {self.shapes}, complex={self.complex})"

    def _build(self, make: Callable[[tuple[int, ...], bool, Any], Any]) -> Any:
        leaves = [
            make(s, c, d)
            for s, c, d in zip(self.shapes, self.complex, self.dtypes, strict=True)
        ]
        return tree_unflatten(self.treedef, leaves)

    def randn(self) -> Any:
        # NumPy's global generator, as autograd's vspace: its conftest seeds it.
        def make(shape: tuple[int, ...], cplx: bool, dtype: Any) -> Any:
            real = onp.array(onp.random.randn(*shape))  # noqa: NPY002
            imag = onp.array(onp.random.randn(*shape)) if cplx else 0  # noqa: NPY002
            return real + 1j * imag if cplx else real

        return self._build(make)

    def ones(self) -> Any:
        return self._build(lambda s, c, d: onp.ones(s) * (1 + 1j if c else 1.0))

    def zeros(self) -> Any:
        return self._build(lambda s, c, d: onp.zeros(s, dtype=complex if c else float))

    def _leaves(self, x: Any) -> list[Any]:
        return [onp.asarray(leaf) for leaf in tree_flatten(x)[0]]

    def add(self, x: Any, y: Any) -> Any:
        xs, ys = self._leaves(x), self._leaves(y)
        return tree_unflatten(
            self.treedef, [a + b for a, b in zip(xs, ys, strict=True)]
        )

    def scalar_mul(self, x: Any, a: float) -> Any:
        return tree_unflatten(self.treedef, [leaf * a for leaf in self._leaves(x)])

    def covector(self, x: Any) -> Any:
        return tree_unflatten(
            self.treedef, [onp.conj(leaf) for leaf in self._leaves(x)]
        )

    def inner_prod(self, x: Any, y: Any) -> float:
        pairs = zip(self._leaves(x), self._leaves(y), strict=True)
        return float(builtins.sum(onp.real(onp.vdot(a, b)) for a, b in pairs))


def vspace(value: Any) -> VSpace:
    """The vector space of ``value``."""
    return VSpace(value)


# -- the differential operators, by name -------------------------------------------


def core_make_vjp(
    fun: Callable[[Any], Any], x: Any
) -> tuple[Callable[[Any], Any], Any]:
    """``(vjp, fun(x))``: autograd's convention for complex values is JAX's.

    ``autograd.core.make_vjp``; ``autograd.make_vjp`` is its n-ary form.
    """
    ans, pullback = ad.vjp(fun, x)

    def vjp(g: Any) -> Any:
        return pullback(g)[0]

    return vjp, ans


def core_make_jvp(fun: Callable[[Any], Any], x: Any) -> Callable[[Any], Any]:
    """``v -> (fun(x), J v)``: ``autograd.core.make_jvp``."""

    def jvp(v: Any) -> Any:
        return ad.jvp(fun, (x,), (v,))

    return jvp


make_vjp = unary_to_nary(core_make_vjp)
make_jvp = unary_to_nary(core_make_jvp)


@unary_to_nary
def grad(fun: Callable[[Any], Any], x: Any) -> Any:
    """
    Returns a function which computes the gradient of a scalar function: ``ad.grad``.

    (autograd's docstring, with its first line break, begins so: its tests read it.)
    """
    return ad.grad(fun)(x)


@unary_to_nary
def elementwise_grad(fun: Callable[[Any], Any], x: Any) -> Any:
    """The VJP with a cotangent of ones: the derivative of an elementwise function."""
    vjp, ans = core_make_vjp(fun, x)
    return vjp(vspace(ans).ones())


@unary_to_nary
def deriv(fun: Callable[[Any], Any], x: Any) -> Any:
    """The JVP along ones."""
    return core_make_jvp(fun, x)(vspace(x).ones())[1]


@unary_to_nary
def jacobian(fun: Callable[[Any], Any], x: Any) -> Any:
    """The Jacobian, out.shape + in.shape: ``ad.jacrev``."""
    return ad.jacrev(fun)(x)


@unary_to_nary
def hessian(fun: Callable[[Any], Any], x: Any) -> Any:
    """The Hessian: ``ad.hessian``."""
    return ad.hessian(fun)(x)


@unary_to_nary
def holomorphic_grad(fun: Callable[[Any], Any], x: Any) -> Any:
    """The complex derivative of a holomorphic function: ``grad(holomorphic=True)``."""
    return ad.grad(fun, holomorphic=True)(x)  # type: ignore[call-arg]


@unary_to_nary
def value_and_grad(fun: Callable[[Any], Any], x: Any) -> Any:
    """``(fun(x), grad(fun)(x))``: ``ad.value_and_grad``."""
    return ad.value_and_grad(fun)(x)


@unary_to_nary
def grad_and_aux(fun: Callable[[Any], Any], x: Any) -> Any:
    """``(grad, aux)`` of ``fun`` returning ``(output, aux)``: ``grad(has_aux=True)``."""
    return ad.grad(fun, has_aux=True)(x)


@unary_to_nary
def make_hvp(fun: Callable[[Any], Any], x: Any) -> Any:
    """``(v -> H v, grad(fun)(x))``, the VJP of the gradient."""
    return core_make_vjp(ad.grad(fun), x)


def hessian_tensor_product(
    fun: Callable[..., Any], argnum: int = 0
) -> Callable[..., Any]:
    """``(*args, v) -> H v``: the gradient of ``tensordot(grad(fun), v)``."""
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args: Any, **kwargs: Any) -> Any:
        args, vector = args[:-1], args[-1]
        return ad.numpy.tensordot(fun_grad(*args, **kwargs), vector, onp.ndim(vector))

    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(
    fun: Callable[..., Any], argnum: int = 0
) -> Callable[..., Any]:
    """``(*args, v) -> vᵀ J``."""

    def vector_dot_fun(*args: Any, **kwargs: Any) -> Any:
        args, vector = args[:-1], args[-1]
        out = fun(*args, **kwargs)
        return ad.numpy.tensordot(vector, out, onp.ndim(vector))  # as autograd

    return jacobian(vector_dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


def make_ggnvp(
    f: Callable[..., Any],
    g: Callable[[Any], Any] = lambda x: 1.0 / 2 * ad.numpy.sum(x**2, axis=-1),
    f_argnum: int = 0,
) -> Callable[..., Any]:
    """Generalised Gauss-Newton-vector products ``Jᵀ H_g J v``, as autograd builds them."""

    @unary_to_nary
    def _make_ggnvp(f: Callable[[Any], Any], x: Any) -> Callable[[Any], Any]:
        f_vjp, f_x = core_make_vjp(f, x)
        g_hvp, grad_g_x = core_make_vjp(ad.grad(g), f_x)
        f_jvp, _ = core_make_vjp(f_vjp, vspace(grad_g_x).zeros())

        def ggnvp(v: Any) -> Any:
            return f_vjp(g_hvp(f_jvp(v)))

        return ggnvp

    return _make_ggnvp(f, f_argnum)


checkpoint = ad.checkpoint


def isbox(x: Any) -> bool:
    """Whether ``x`` is a traced value (autograd's Box)."""
    return isinstance(x, Tracer)


# -- autograd.test_util, as autograd defines it ------------------------------------

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def scalar_close(a: float, b: float) -> bool:
    return bool(abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL)


def _numerical_jvp(f: Callable[[Any], Any], x: Any) -> Callable[[Any], Any]:
    y = f(x)
    x_vs, y_vs = vspace(x), vspace(y)

    def jvp(v: Any) -> Any:
        # (f(x + v eps/2) - f(x - v eps/2)) / eps
        f_plus = f(x_vs.add(x, x_vs.scalar_mul(v, EPS / 2)))
        f_minus = f(x_vs.add(x, x_vs.scalar_mul(v, -EPS / 2)))
        return y_vs.scalar_mul(
            y_vs.add(f_plus, y_vs.scalar_mul(f_minus, -1.0)), 1 / EPS
        )

    return jvp


def check_vjp(f: Callable[[Any], Any], x: Any) -> None:
    vjp, y = core_make_vjp(f, x)
    jvp = _numerical_jvp(f, x)
    x_vs, y_vs = vspace(x), vspace(y)
    x_v, y_v = x_vs.randn(), y_vs.randn()
    vjp_y = x_vs.covector(vjp(y_vs.covector(y_v)))
    assert vspace(vjp_y) == x_vs, f"VSpace mismatch: {vspace(vjp_y)} vs {x_vs}"
    exact = x_vs.inner_prod(x_v, vjp_y)
    numeric = y_vs.inner_prod(y_v, jvp(x_v))
    assert scalar_close(numeric, exact), (
        f"VJP check: analytic {exact}, numeric {numeric}"
    )


def check_jvp(f: Callable[[Any], Any], x: Any) -> None:
    jvp = core_make_jvp(f, x)
    x_v = vspace(x).randn()
    check_equivalent(jvp(x_v)[1], _numerical_jvp(f, x)(x_v))


def check_equivalent(x: Any, y: Any) -> None:
    x_vs, y_vs = vspace(x), vspace(y)
    assert x_vs == y_vs, f"VSpace mismatch:\nx: {x_vs}\ny: {y_vs}"
    v = x_vs.randn()
    assert scalar_close(x_vs.inner_prod(x, v), x_vs.inner_prod(y, v)), (
        f"Value mismatch:\nx: {x}\ny: {y}"
    )


@unary_to_nary
def check_grads(
    f: Callable[[Any], Any], x: Any, modes: Any = ("fwd", "rev"), order: int = 2
) -> None:
    assert all(m in ("fwd", "rev") for m in modes)
    if "fwd" in modes:
        check_jvp(f, x)
        if order > 1:

            def jvp_f(x: Any, v: Any) -> Any:
                return core_make_jvp(f, x)(v)[1]

            check_grads(jvp_f, (0, 1), modes, order=order - 1)(x, vspace(x).randn())
    if "rev" in modes:
        check_vjp(f, x)
        if order > 1:

            def vjp_f(x: Any, v: Any) -> Any:
                return core_make_vjp(f, x)[0](v)

            check_grads(vjp_f, (0, 1), modes, order=order - 1)(x, vspace(f(x)).randn())


def combo_check(
    fun: Callable[..., Any], *args: Any, **kwargs: Any
) -> Callable[..., None]:
    """Check the gradients at every combination of the given args and kwargs."""

    def _combo_check(*args_lists: Any, **kwargs_lists: Any) -> None:
        kwarg_key_vals = [[(k, x) for x in xs] for k, xs in kwargs_lists.items()]
        for _args in product(*args_lists):
            for _kwargs in product(*kwarg_key_vals):
                check_grads(fun, *args, **kwargs)(*_args, **dict(_kwargs))

    return _combo_check
