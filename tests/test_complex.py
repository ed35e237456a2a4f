"""Complex numbers with JAX's conventions, against closed forms and JAX's results.

The conventions (JAX's autodiff cookbook, "Complex numbers and differentiation"):

* ``jvp`` and ``vjp`` take any function of complex inputs and outputs; the VJP
  is the *transpose* of the JVP (not its conjugate transpose) for the pairing
  ``<u, v> = Re(sum(u * v))``, so ``Re(u · (J v)) = Re((uᵀJ) · v)``;
* ``grad(f)(z)`` of a real ``f`` is ``vjp(f, z)[1](1.0)``: for
  ``f = x**2 + y**2`` at ``3 + 4j`` the cookbook shows ``6 - 8j``, the conjugate
  of the direction of steepest ascent ``∂f/∂x + i ∂f/∂y``;
* ``holomorphic=True`` gives the complex derivative; a complex output without
  it, or jacfwd of a complex input without it, is refused with JAX's words;
* a real input's cotangent is real.

Tolerances: each expected value here is a closed form evaluated in float64, a
few roundings from the computed one; ``rtol=1e-13`` allows some tens of them.
Central differences are good to about ``eps**(2/3)`` relative, so they are
compared with ``rtol=1e-6``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from test_rules import CASES, ZERO_BY_DEFINITION, Case, _joined

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref.rules import RULES

RTOL = 1e-13  # closed forms: a few roundings apart


def _re_im_squares(z: Any) -> Any:
    x, y = anp.real(z), anp.imag(z)
    return x**2 + y**2


# -- grad of real-valued functions of complex inputs -----------------------------------
def test_cookbook_example_gives_the_conjugate_gradient() -> None:
    # The cookbook's f(z) = x**2 + y**2 at z = 3 + 4j: grad(f)(z) = 6 - 8j.
    g = ad.grad(_re_im_squares)(3.0 + 4.0j)
    assert g == 6.0 - 8.0j  # exact: products and sums of small integers
    assert np.iscomplexobj(g)


def test_grad_is_vjp_of_one() -> None:
    z = np.array([1.0 - 2.0j, 0.5 + 0.25j])

    def f(z: Any) -> Any:
        return anp.sum(anp.abs(z) ** 3 + anp.real(anp.exp(z)))

    _, pull = ad.vjp(f, z)
    assert np.array_equal(ad.grad(f)(z), pull(1.0)[0])  # the same sweep


@pytest.mark.parametrize("z", [3.0 + 4.0j, -1.5 + 0.5j, 2.0 - 7.0j])
def test_grad_of_abs_squared_and_abs(z: complex) -> None:
    # |z|**2 = x**2 + y**2: gradient 2x + 2iy, conjugated: 2 conj(z).
    assert ad.grad(lambda z: anp.abs(z) ** 2)(z) == pytest.approx(2 * np.conj(z), RTOL)
    # |z|: gradient z / |z|, conjugated.
    assert ad.grad(anp.abs)(z) == pytest.approx(np.conj(z) / abs(z), rel=RTOL)


def test_grad_of_angle() -> None:
    # angle(x + iy) = atan2(y, x): gradient (-y + i x) / |z|**2, conjugated.
    z = 1.5 - 2.0j
    x, y = z.real, z.imag
    expected = np.conj((-y + 1j * x) / abs(z) ** 2)
    assert ad.grad(anp.angle)(z) == pytest.approx(expected, rel=RTOL)
    assert ad.grad(lambda z: anp.angle(z, deg=True))(z) == pytest.approx(
        expected * 180 / np.pi, rel=RTOL
    )


def test_gradient_descent_direction_is_minus_the_conjugate() -> None:
    """A small step along -conj(grad) lowers f by about |grad|**2 times the step."""
    z = 0.7 + 1.1j

    def f(z: Any) -> Any:
        return anp.abs(z - (0.2 + 0.3j)) ** 2 + anp.real(z) ** 3

    g = ad.grad(f)(z)
    step = 1e-6
    decrease = f(z) - f(z - step * np.conj(g))
    # First order: step |g|**2; the second-order term is of relative size ~1e-6.
    assert decrease == pytest.approx(step * abs(g) ** 2, rel=1e-5)


def test_value_and_grad_and_pytrees_of_complex_inputs() -> None:
    params = {"a": np.array([1.0 + 1.0j, 2.0 - 1.0j]), "b": 0.5}

    def f(p: dict) -> Any:
        return anp.sum(anp.abs(p["a"]) ** 2) * p["b"]

    value, g = ad.value_and_grad(f)(params)
    assert value == pytest.approx(0.5 * 7.0, rel=RTOL)
    assert g["a"] == pytest.approx(2 * 0.5 * np.conj(params["a"]), rel=RTOL)
    assert g["b"] == pytest.approx(7.0, rel=RTOL)
    assert not np.iscomplexobj(g["b"])  # a real input's cotangent is real


# -- holomorphic=True ------------------------------------------------------------------
HOLOMORPHIC = [
    (anp.sin, np.cos),
    (anp.exp, np.exp),
    (anp.log, lambda z: 1 / z),
    (anp.sqrt, lambda z: 0.5 / np.sqrt(z)),
    (anp.tanh, lambda z: 1 - np.tanh(z) ** 2),
    (lambda z: z**3, lambda z: 3 * z**2),
    (lambda z: 1 / (1 + z * z), lambda z: -2 * z / (1 + z * z) ** 2),
]


@pytest.mark.parametrize(("f", "df"), HOLOMORPHIC)
def test_holomorphic_grad_is_the_complex_derivative(f: Any, df: Any) -> None:
    z = 0.75 + 1.25j
    assert ad.grad(f, holomorphic=True)(z) == pytest.approx(df(z), rel=RTOL)
    _, g = ad.value_and_grad(f, holomorphic=True)(z)
    assert g == pytest.approx(df(z), rel=RTOL)


def test_holomorphic_jacobians_agree_and_match_the_derivative() -> None:
    z = np.array([0.5 + 1.0j, -1.0 + 0.25j, 2.0 - 0.5j])

    def f(z: Any) -> Any:
        return anp.sin(z) * z[0] + anp.exp(z[::-1])

    # ∂f_i/∂z_j = cos(z_i) z_0 [i = j] + sin(z_i) [j = 0] + exp(z_{2-i}) [j = 2-i]
    expected = np.diag(np.cos(z) * z[0]).astype(complex)
    expected[:, 0] += np.sin(z)
    expected[np.arange(3), 2 - np.arange(3)] += np.exp(z[::-1])
    for jac in (ad.jacfwd, ad.jacrev):
        got = jac(f, holomorphic=True)(z)
        assert got.dtype == complex
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-15)


def test_holomorphic_hessian() -> None:
    z = np.array([0.5 + 1.0j, -1.0 + 0.25j])

    def f(z: Any) -> Any:
        return anp.sum(z**3) + z[0] * z[1]

    expected = np.diag(6 * z) + np.array([[0, 1], [1, 0]])
    np.testing.assert_allclose(ad.hessian(f, holomorphic=True)(z), expected, rtol=RTOL)


def test_jacrev_of_a_real_function_of_complex_inputs_follows_grad() -> None:
    z = np.array([1.0 + 2.0j, -0.5 + 1.0j])
    rows = ad.jacrev(lambda z: anp.abs(z) ** 2)(z)
    np.testing.assert_allclose(rows, np.diag(2 * np.conj(z)), rtol=RTOL)


# -- refusals, with JAX's words --------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: ad.grad(anp.sin)(1.0 + 1.0j), "grad requires real-valued outputs"),
        (lambda: ad.jacrev(anp.sin)(1.0 + 1.0j), "jacrev requires real-valued outputs"),
        (lambda: ad.jacfwd(anp.abs)(1.0 + 1.0j), "jacfwd requires real-valued inputs"),
        (
            lambda: ad.grad(anp.sin, holomorphic=True)(1.0),
            "grad with holomorphic=True requires inputs with complex dtype",
        ),
        (
            lambda: ad.jacfwd(anp.sin, holomorphic=True)(np.ones(2)),
            "jacfwd with holomorphic=True requires inputs with complex dtype",
        ),
        (
            lambda: ad.jacrev(anp.abs, holomorphic=True)(np.ones(2) + 0j),
            "jacrev with holomorphic=True requires outputs with complex dtype",
        ),
        (
            lambda: ad.jacfwd(anp.abs, holomorphic=True)(np.ones(2) + 0j),
            "jacfwd with holomorphic=True requires outputs with complex dtype",
        ),
        (
            lambda: ad.grad(anp.abs, holomorphic=True)(1.0 + 1.0j),
            "grad with holomorphic=True requires outputs with complex dtype",
        ),
    ],
)
def test_refusals_say_what_to_do(call: Any, words: str) -> None:
    with pytest.raises(TypeError, match=words):
        call()


def test_jacfwd_takes_a_real_input_with_complex_outputs() -> None:
    # JAX checks jacfwd's outputs only with holomorphic=True: the columns are tangents.
    jac = ad.jacfwd(lambda x: x * (1.0 + 2.0j))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(jac, np.diag([1.0 + 2.0j, 1.0 + 2.0j]))


@pytest.mark.parametrize(
    "f", [lambda z: anp.maximum(z, 1.0), lambda z: anp.minimum(z, 1.0), anp.sign]
)
def test_functions_without_a_complex_derivative_refuse(f: Any) -> None:
    with pytest.raises(TypeError, match="complex"):
        ad.jvp(f, (1.0 + 1.0j,), (1.0 + 0.0j,))


# -- dtypes of cotangents --------------------------------------------------------------
def test_a_real_inputs_cotangent_is_real() -> None:
    _, pull = ad.vjp(lambda x: x * (1.0 + 2.0j), 2.0)
    (g,) = pull(1.0 + 1.0j)
    # Re((1 + 2i)(1 + i)) = 1 - 2 = -1
    assert g == -1.0 and not np.iscomplexobj(g)
    x = np.array([0.5, -1.5])
    _, pull = ad.vjp(lambda x: anp.exp(1j * x), x)
    (g,) = pull(np.array([1.0 + 0.5j, 2.0 - 1.0j]))
    assert g.dtype == np.float64
    u = np.array([1.0 + 0.5j, 2.0 - 1.0j])
    np.testing.assert_allclose(g, np.real(u * 1j * np.exp(1j * x)), rtol=RTOL)


def test_a_float32_inputs_cotangent_is_float32() -> None:
    x = np.array([0.5, 2.0], dtype=np.float32)
    _, pull = ad.vjp(lambda x: x * np.float64(3.0), x)
    (g,) = pull(np.ones(2))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.float32([3.0, 3.0]))
    _, pull = ad.vjp(lambda x: x * 1j, x)
    (g,) = pull(np.array([1j, 2j]))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.float32([-1.0, -2.0]))  # Re(i * i c)


# -- real, imag, conj: JAX's transposes ------------------------------------------------
def test_transposes_of_real_imag_conj() -> None:
    z = np.array([1.0 + 2.0j, -3.0 + 0.5j])
    c = np.array([0.25, -2.0])
    assert np.array_equal(ad.vjp(anp.real, z)[1](c)[0], c + 0j)  # complex(ct, 0)
    assert np.array_equal(ad.vjp(anp.imag, z)[1](c)[0], -1j * c)  # complex(0, -ct)
    cz = np.array([1.0 - 1.0j, 0.5j])
    assert np.array_equal(ad.vjp(anp.conj, z)[1](cz)[0], np.conj(cz))
    assert np.array_equal(ad.vjp(np.conjugate, z)[1](cz)[0], np.conj(cz))


def test_methods_and_numpy_functions_route() -> None:
    z = np.array([1.0 + 2.0j, -3.0 + 0.5j])
    t = np.array([0.5 - 1.0j, 1.0j])
    for f, tangent in [
        (lambda z: z.real, np.real(t)),
        (lambda z: z.imag, np.imag(t)),
        (lambda z: z.conj(), np.conj(t)),
        (lambda z: z.conjugate(), np.conj(t)),
        (np.real, np.real(t)),
        (np.imag, np.imag(t)),
        (np.conj, np.conj(t)),
    ]:
        out, tangent_out = ad.jvp(f, (z,), (t,))
        np.testing.assert_array_equal(out, f(z))
        np.testing.assert_array_equal(tangent_out, tangent)


# -- abs, angle, var, std: tangents against closed forms and central differences -------
def _central(f: Any, z: Any, v: Any, h: float = 1e-6) -> Any:
    return (f(z + h * v) - f(z - h * v)) / (2 * h)


Z = np.array([1.0 + 2.0j, -3.0 + 0.5j, 0.25 - 1.5j, 2.0 + 0.0j])


@pytest.mark.parametrize("direction", [1.0, 1.0j, 0.6 - 0.8j])
def test_abs_and_angle_tangents(direction: complex) -> None:
    t = direction * np.array([1.0, -0.5, 2.0, 0.75]) + 0j  # the primal's dtype
    _, dabs = ad.jvp(anp.abs, (Z,), (t,))
    np.testing.assert_allclose(dabs, np.real(np.conj(Z) * t) / np.abs(Z), rtol=RTOL)
    assert dabs.dtype == np.float64
    _, dangle = ad.jvp(anp.angle, (Z,), (t,))
    np.testing.assert_allclose(dangle, np.imag(t / Z), rtol=RTOL, atol=1e-16)
    for f in (np.abs, np.angle):
        np.testing.assert_allclose(
            ad.jvp(f, (Z,), (t,))[1], _central(f, Z, t), rtol=1e-6, atol=1e-9
        )


def test_abs_at_zero_takes_derivative_zero_as_for_reals() -> None:
    _, t = ad.jvp(anp.abs, (0j,), (1.0 + 1.0j,))
    assert t == 0.0
    assert ad.grad(anp.abs)(0j) == 0.0


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_and_std_of_complex_input(ddof: int) -> None:
    x = np.array([[1.0 + 2.0j, -3.0 + 0.5j, 0.5j], [2.0, 1.0 - 1.0j, -0.5 + 0.5j]])
    for f, ref in ((anp.var, np.var), (anp.std, np.std)):
        for axis in (None, 0, 1):
            out = f(x, axis=axis, ddof=ddof)
            np.testing.assert_allclose(out, ref(x, axis=axis, ddof=ddof), rtol=RTOL)
            assert not np.iscomplexobj(out)
            for t in (
                np.ones_like(x) * (0.3 - 0.2j),
                np.arange(6.0).reshape(2, 3) * 1j,
            ):

                def g(x: Any, f: Any = f, axis: Any = axis) -> Any:
                    return f(x, axis=axis, ddof=ddof)

                tangent = ad.jvp(g, (x,), (t,))[1]
                assert not np.iscomplexobj(tangent)
                np.testing.assert_allclose(
                    tangent, _central(g, x, t), rtol=1e-6, atol=1e-9
                )
    # var = sum |x - mean|**2 / (n - ddof): the gradient 2 (x - mean) / (n - ddof),
    # conjugated.
    n = x.size
    expected = 2 * np.conj(x - x.mean()) / (n - ddof)
    np.testing.assert_allclose(
        ad.grad(lambda x: anp.var(x, ddof=ddof))(x), expected, rtol=RTOL
    )


def test_issue_example_var_primal_is_numpys() -> None:
    # The issue's report: jvp of var of a complex array gave a complex primal.
    rng = np.random.default_rng(23)
    x = rng.normal(size=5) + 1j * rng.normal(size=5)
    out, _ = ad.jvp(anp.var, (x,), (np.ones(5) + 0j,))
    assert out == pytest.approx(np.var(x), rel=RTOL)
    assert not np.iscomplexobj(out)


# -- dot-product test on compositions --------------------------------------------------
COMPOSITIONS = [
    lambda z: anp.sum(anp.abs(z) ** 2 * anp.exp(z)),
    lambda z: anp.angle(z) * anp.conj(z) + anp.imag(z * z),
    lambda z: anp.std(z) + anp.real(anp.log(z)) * anp.abs(z),
    lambda z: anp.cumsum(anp.sin(z) * anp.conj(z[::-1])),
]


@pytest.mark.parametrize("f", COMPOSITIONS)
def test_vjp_is_the_transpose_of_jvp_and_jvp_matches_differences(f: Any) -> None:
    rng = np.random.default_rng(7)
    z = rng.normal(size=4) + 1j * rng.normal(size=4)
    v = rng.normal(size=4) + 1j * rng.normal(size=4)
    out, jv = ad.jvp(f, (z,), (v,))
    u = rng.normal(size=np.shape(out))
    if np.iscomplexobj(out):
        u = u + 1j * rng.normal(size=np.shape(out))
    (uj,) = ad.vjp(f, z)[1](u)
    lhs, rhs = np.real(np.sum(u * jv)), np.real(np.sum(uj * v))
    # Two sums of a few products each, of size ~ scale: rounding ~ 1e-15 scale.
    scale = np.sum(np.abs(u) * np.abs(jv)) + np.sum(np.abs(uj) * np.abs(v))
    assert abs(lhs - rhs) <= 1e-12 * scale
    for direction in (np.real(v) + 0j, 1j * np.imag(v)):  # real, imaginary
        np.testing.assert_allclose(
            ad.jvp(f, (z,), (direction,))[1],
            _central(f, z, direction),
            rtol=1e-6,
            atol=1e-8,
        )


# -- the whole rules table on complex input --------------------------------------------
# Each primitive of the table, on the arguments test_rules.py draws for it made complex
# (an imaginary part added to each differentiated argument): either it refuses, saying
# so, or its JVP matches central differences along real and along imaginary directions
# and its VJP is the JVP's transpose. No complex input may give a wrong number.
#: The decompositions: their inputs must be Hermitian (or have distinct singular
#: values), which made-complex random cases are not; tests/test_complex_linalg.py
#: checks each of them the same ways on inputs that meet its preconditions.
LINEAR_ALGEBRA = {"slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr"}
#: The primitive has no derivative at all (a traced caller gets sign's NumPy scalar
#: bare); its public function refuses to differentiate complex input.
PUBLIC_REFUSAL = {"sign": anp.sign}
#: What a refusal says: ours, or NumPy's for functions it defines on reals only.
REFUSED = (
    r"does not support complex input|not supported for the input types|"
    r"discards the imaginary part"
)


def _complex_table_params() -> list[Any]:
    return [
        pytest.param(name, case, id=f"{name}-{case.id}")
        for name in RULES
        if name not in LINEAR_ALGEBRA
        for case in CASES[name]
    ]


def _complexified(rng: np.random.Generator, x: Any) -> Any:
    """``x + i y`` with ``0.2 <= |y| <= 0.6``: off the real axis, so off branch cuts."""
    y = rng.uniform(0.2, 0.6, np.shape(x)) * rng.choice([-1.0, 1.0], np.shape(x))
    z = np.asarray(x, dtype=complex) + 1j * y
    return complex(z) if np.shape(x) == () else z


def _random_like(rng: np.random.Generator, x: Any) -> Any:
    """Random values of ``x``'s shape and kind (complex for complex ``x``)."""
    shape = np.shape(x)
    out = rng.normal(size=shape)
    if np.iscomplexobj(x):
        out = out + 1j * rng.normal(size=shape)
    return out[()] if shape else (complex(out) if np.iscomplexobj(x) else float(out))


@pytest.mark.parametrize(("name", "case"), _complex_table_params())
def test_every_primitive_on_complex_input_is_right_or_refuses(
    name: str, case: Case
) -> None:
    prim = RULES[name]
    rng = np.random.default_rng([23, *name.encode()])
    args = case.draw(rng)
    zs = [_complexified(rng, args[k]) for k in case.diff]
    if name in PUBLIC_REFUSAL:
        with pytest.raises(TypeError, match=REFUSED):
            ad.jvp(PUBLIC_REFUSAL[name], (zs[0],), (_random_like(rng, zs[0]),))
        return

    def f(*diff_args: Any) -> Any:
        full = list(args)
        for k, z in zip(case.diff, diff_args, strict=True):
            full[k] = z
        out = prim(*(case.wrap(full) if case.wrap else full), **case.params)
        return _joined(prim, out)

    vs = [_random_like(rng, z) for z in zs]
    try:
        out, jv = ad.jvp(f, tuple(zs), tuple(vs))
        u = _random_like(rng, out)
        ujs = ad.vjp(f, *zs)[1](u)
    except (TypeError, np.exceptions.ComplexWarning) as error:
        assert re.search(REFUSED, str(error)), str(error)
        return
    np.testing.assert_allclose(out, f(*zs), rtol=1e-15, atol=0)  # the same arithmetic
    for uj, z in zip(ujs, zs, strict=True):
        assert np.result_type(uj) == np.result_type(z)  # a cotangent has z's dtype
    # The dot-product test for the pairing Re(sum(u v)): two sums of products of
    # size ~ scale, so their rounding is ~1e-15 scale per term.
    lhs = np.real(np.sum(u * jv))
    rhs = sum(np.real(np.sum(uj * v)) for uj, v in zip(ujs, vs, strict=True))
    scale = np.sum(np.abs(u) * np.abs(jv)) + sum(
        np.sum(np.abs(uj) * np.abs(v)) for uj, v in zip(ujs, vs, strict=True)
    )
    assert abs(lhs - rhs) <= 1e-12 * max(scale, 1.0)
    if name in ZERO_BY_DEFINITION:  # stop_gradient: 0 by definition, not its slope
        assert not np.any(jv)
        return
    for part in (np.real, np.imag):  # real directions, then imaginary ones
        directions = [
            np.asarray(part(v)) * (1.0 if part is np.real else 1j) + 0j for v in vs
        ]
        directions = [d[()] if d.ndim == 0 else d for d in directions]
        h = 1e-6  # central differences: ~1e-9 relative for these smooth functions
        plus = f(*(z + h * d for z, d in zip(zs, directions, strict=True)))
        minus = f(*(z - h * d for z, d in zip(zs, directions, strict=True)))
        tangent = ad.jvp(f, tuple(zs), tuple(directions))[1]
        np.testing.assert_allclose(
            tangent, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-7
        )


# -- the other transforms carry the same conventions -----------------------------------
def test_jit_linearize_and_linear_transpose_agree_with_vjp_and_jvp() -> None:
    z = np.array([3.0 + 4.0j, 1.0 - 2.0j])
    t = np.array([1.0 + 1.0j, 2.0 - 0.5j])
    u = np.array([1.0, -2.0])

    def f(z: Any) -> Any:
        return anp.abs(z) * 2.0 + anp.angle(z) + anp.real(anp.conj(z) * anp.imag(z))

    def loss(z: Any) -> Any:
        return anp.sum(f(z) ** 2)

    # A jitted program runs the same operations in the same order: equal.
    assert np.array_equal(ad.jit(ad.grad(loss))(z), ad.grad(loss)(z))
    _, lin = ad.linearize(f, z)
    np.testing.assert_allclose(lin(t), ad.jvp(f, (z,), (t,))[1], rtol=RTOL)
    (pulled,) = ad.linear_transpose(lin, z)(u)
    np.testing.assert_allclose(pulled, ad.vjp(f, z)[1](u)[0], rtol=RTOL)
    # A real input's transpose is real: Re((1 + 2i) c).
    (real_ct,) = ad.linear_transpose(lambda x: x * (1 + 2j), np.ones(2))(
        np.array([1.0 + 1.0j, 1.0j])
    )
    np.testing.assert_array_equal(real_ct, [-1.0, -2.0])


def test_jet_of_abs_along_a_complex_line() -> None:
    # |z + s| for real s: sqrt((3 + s)**2 + 16), derivatives 3/5 and 16/125 at s = 0.
    value, (d1, d2) = ad.jet(anp.abs, (3.0 + 4.0j,), ((1.0 + 0.0j, 0.0j),))
    assert value == 5.0
    assert d1 == pytest.approx(0.6, rel=RTOL) and d2 == pytest.approx(0.128, rel=RTOL)


def test_vmap_of_complex_gradients_and_tangents() -> None:
    zs = np.array([3.0 + 4.0j, -1.0 + 0.5j, 0.25 - 2.0j])
    per_example = ad.vmap(ad.grad(lambda z: anp.abs(z) ** 2 + anp.angle(z)))(zs)
    expected = 2 * np.conj(zs) + np.conj((-zs.imag + 1j * zs.real) / np.abs(zs) ** 2)
    np.testing.assert_allclose(per_example, expected, rtol=RTOL)
    ts = np.array([1.0j, 1.0, 0.5 - 0.5j])
    tangents = ad.vmap(
        lambda z, t: ad.jvp(lambda z: anp.real(anp.conj(z) * anp.imag(z)), (z,), (t,))[
            1
        ]
    )(zs, ts)
    # Re(conj(z) Im z) = x y: tangent y Re t + x Im t
    np.testing.assert_allclose(
        tangents, zs.imag * ts.real + zs.real * ts.imag, rtol=RTOL
    )
