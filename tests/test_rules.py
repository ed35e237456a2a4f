"""Every entry of the rules table, checked against independent references.

For each primitive in :data:`autodiff_ref.rules.RULES` there are cases that draw
random valid arguments (seeded), and the Jacobian from forward mode (``jacfwd``)
and from reverse mode (``jacrev``) is compared with complex-step differences
(exact to rounding: the NumPy implementations accept complex input) and with
central differences.  The parametrization is built from ``RULES`` itself, so a
rule added without a test case fails here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import sympy as sp

import autodiff_ref as ad
import autodiff_ref.numpy as anp
from autodiff_ref import rules
from autodiff_ref.rules import RULES

Gen = np.random.Generator
SEEDS = (0, 1, 2)


# -- drawing arguments -----------------------------------------------------------
def _uniform(rng: Gen, lo: float, hi: float, shape: tuple[int, ...]) -> Any:
    """Uniform values; a Python float for shape ``()`` (scalars are tested as such)."""
    return float(rng.uniform(lo, hi)) if shape == () else rng.uniform(lo, hi, shape)


def _away_from_zero(rng: Gen, shape: tuple[int, ...]) -> Any:
    """Values with ``0.5 <= |x| <= 2`` and random sign: away from abs/sign's kink."""
    mag = rng.uniform(0.5, 2.0, shape)
    val = np.where(rng.random(shape) < 0.5, -mag, mag)
    return float(val) if shape == () else val


@dataclass
class Case:
    """Random arguments for one primitive; ``diff`` lists the differentiated ones.

    ``complex_step=False`` for primitives whose NumPy function is not the analytic
    continuation of its real version (floor, mod, svd, ...): they are checked against
    central differences and the other mode instead.  ``wrap`` maps the arguments
    before the primitive sees them (e.g. symmetrizes a matrix for eigh); it is
    written with autodiff_ref's functions, so it is differentiated too.
    """

    id: str
    draw: Callable[[Gen], list[Any]]
    diff: tuple[int, ...]
    params: dict
    complex_step: bool = True
    wrap: Callable[[list[Any]], list[Any]] | None = None

    def __repr__(self) -> str:
        return self.id


def unary(lo: float, hi: float) -> list[Case]:
    return [
        Case(f"shape{s}", lambda rng, s=s: [_uniform(rng, lo, hi, s)], (0,), {})
        for s in [(), (4,), (2, 3)]
    ]


# Scalar with scalar, equal shapes, and broadcasting both ways.
BINARY_SHAPES = [
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((), (2, 3)),
    ((2, 1), (1, 3)),
    ((4,), ()),
]


def binary(lo_x: float, hi_x: float, lo_y: float, hi_y: float) -> list[Case]:
    return [
        Case(
            f"{sx}x{sy}",
            lambda rng, sx=sx, sy=sy: [
                _uniform(rng, lo_x, hi_x, sx),
                _uniform(rng, lo_y, hi_y, sy),
            ],
            (0, 1),
            {},
        )
        for sx, sy in BINARY_SHAPES
    ]


def abs_like() -> list[Case]:
    return [
        Case(f"shape{s}", lambda rng, s=s: [_away_from_zero(rng, s)], (0,), {})
        for s in [(), (4,), (2, 3)]
    ]


def max_min_like() -> list[Case]:
    def draw(rng: Gen, sx: tuple[int, ...], sy: tuple[int, ...]) -> list[Any]:
        # The argument with the larger shape is the other plus a gap of at least
        # 0.5 either way, so no pair of broadcast elements is near a tie.
        if len(sx) >= len(sy):
            y = _uniform(rng, -2.0, 2.0, sy)
            return [y + _away_from_zero(rng, sx), y]
        x = _uniform(rng, -2.0, 2.0, sx)
        return [x, x + _away_from_zero(rng, sy)]

    return [
        Case(f"{sx}x{sy}", lambda rng, sx=sx, sy=sy: draw(rng, sx, sy), (0, 1), {})
        for sx, sy in [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((4,), ()), ((), (4,))]
    ]


def where_cases() -> list[Case]:
    def draw(rng: Gen, sc: tuple, sx: tuple, sy: tuple) -> list[Any]:
        cond = rng.random(sc) < 0.5 if sc else bool(rng.random() < 0.5)
        return [cond, _uniform(rng, -2, 2, sx), _uniform(rng, -2, 2, sy)]

    shapes = [
        ((4,), (4,), (4,)),
        ((2, 3), (3,), ()),
        ((), (), ()),
        ((2, 3), (2, 1), (3,)),
    ]
    return [
        Case(f"{sc}|{sx}|{sy}", lambda rng, s=(sc, sx, sy): draw(rng, *s), (1, 2), {})
        for sc, sx, sy in shapes
    ]


def pow_cases() -> list[Case]:
    cases = binary(0.3, 2.5, -2.0, 2.0)  # positive base: both derivatives exist
    # Integer exponents on negative bases: only the base is differentiated.
    for y in (3.0, 2, -2, np.array([1.0, 2.0, 3.0, 4.0])):
        cases.append(
            Case(
                f"negbase**{np.asarray(y).tolist()}",
                lambda rng, y=y: [-_uniform(rng, 0.5, 2.0, (4,)), y],
                (0,),
                {},
            )
        )
    # A constant base, 2 ** x.
    cases.append(Case("2**x", lambda rng: [2.0, _uniform(rng, -2, 2, (3,))], (1,), {}))
    return cases


def one_input(in_shape: tuple[int, ...], /, **params: Any) -> Case:
    name = ",".join(f"{k}={v!r}" for k, v in params.items()) or "default"
    return Case(
        f"{in_shape}:{name}", lambda rng: [_uniform(rng, -2, 2, in_shape)], (0,), params
    )


def getitem_cases() -> list[Case]:
    indices = [
        2,
        -1,
        slice(1, 3),
        (slice(None), 2),
        (slice(None, None, 2), slice(1, None)),
        (-1, slice(None, None, -1)),
        np.array([0, 2, 0, 0]),  # fancy, with a repeated index: cotangents must add up
        (np.array([0, 0, 3]), np.array([1, 1, 4])),
        (1, np.array([4, 4, 0])),
        np.array([True, False, True, True]),
        Ellipsis,
        (Ellipsis, 1),
        (None, 1),
        (2, 3),
    ]
    return [one_input((4, 5), index=i) for i in indices] + [
        one_input((5,), index=np.array([[1, 1], [4, 0]]))
    ]


def scatter_add_cases() -> list[Case]:
    specs = [
        ((3,), np.array([0, 2, 0]), (4,)),  # repeated index accumulates
        ((3,), (slice(None), 1), (3, 4)),
        ((), 2, (5,)),
        ((2, 2), (np.array([[0, 1], [1, 1]]),), (3,)),
        ((2, 5), slice(1, 3), (4, 5)),
    ]
    return [
        Case(
            f"{cs}->{shape}",
            lambda rng, cs=cs: [_uniform(rng, -2, 2, cs)],
            (0,),
            {"index": index, "shape": shape},
        )
        for cs, index, shape in specs
    ]


def matmul_cases() -> list[Case]:
    shapes = [
        ((3,), (3,)),
        ((2, 3), (3,)),
        ((3,), (3, 4)),
        ((2, 3), (3, 4)),
        ((5, 2, 3), (3, 4)),
        ((2, 3), (5, 3, 4)),
        ((5, 2, 3), (5, 3, 4)),
        ((2, 1, 2, 3), (4, 3, 2)),  # batch axes broadcast against each other
        ((3,), (5, 3, 4)),
        ((5, 2, 3), (3,)),
    ]
    return [
        Case(
            f"{sa}@{sb}",
            lambda rng, sa=sa, sb=sb: [
                _uniform(rng, -2, 2, sa),
                _uniform(rng, -2, 2, sb),
            ],
            (0, 1),
            {},
        )
        for sa, sb in shapes
    ]


def join_cases(
    shapes: list[tuple[int, ...]], axes: list[int], offsets: bool = False
) -> list[Case]:
    """Cases of stack or concatenate; concatenate also gets where each piece starts."""

    def params(axis: int) -> dict:
        if not offsets:
            return {"axis": axis}
        ndim = len(shapes[0])
        starts = rules.concatenate_offsets([np.empty(s) for s in shapes], axis % ndim)
        return {"axis": axis, "offsets": starts}

    return [
        Case(
            f"{shapes}:axis={axis}",
            lambda rng: [_uniform(rng, -2, 2, s) for s in shapes],
            tuple(range(len(shapes))),
            params(axis),
        )
        for axis in axes
    ]


CASES: dict[str, list[Case]] = {
    "add": binary(-2, 2, -2, 2),
    "sub": binary(-2, 2, -2, 2),
    "neg": unary(-2, 2),
    "mul": binary(-2, 2, -2, 2),
    "div": binary(-2, 2, 0.5, 2.0) + binary(-2, 2, -2.0, -0.5)[:2],
    "pow": pow_cases(),
    "reciprocal": unary(0.5, 2.0) + unary(-2.0, -0.5)[1:2],
    "exp": unary(-2, 2),
    "log": unary(0.2, 3.0),
    "sin": unary(-3, 3),
    "cos": unary(-3, 3),
    "tan": unary(-1.2, 1.2),
    "sqrt": unary(0.2, 3.0),
    "tanh": unary(-2, 2),
    "abs": abs_like(),
    "sign": abs_like(),
    "heaviside": abs_like(),
    "maximum": max_min_like(),
    "minimum": max_min_like(),
    "where": where_cases(),
    "stop_gradient": unary(-3.0, 3.0),
    "sum": [
        one_input((2, 3, 4)),
        one_input((2, 3, 4), axis=0),
        one_input((2, 3, 4), axis=-1),
        one_input((2, 3, 4), axis=(0, 2)),
        one_input((2, 3, 4), axis=1, keepdims=True),
        one_input((2, 3, 4), axis=None, keepdims=True),
        one_input((2, 3, 4), axis=(-1, 0), keepdims=True),
        one_input((4,), axis=0),
        one_input((), axis=None),
    ],
    "sum_to": [
        one_input((2, 3, 4), shape=(3, 4)),
        one_input((2, 3, 4), shape=(3, 1)),
        one_input((2, 3, 4), shape=(1, 3, 1)),
        one_input((2, 3, 4), shape=(4,)),
        one_input((2, 3, 4), shape=()),
        one_input((2, 3, 4), shape=(2, 3, 4)),
        one_input((3,), shape=(1,)),
    ],
    "broadcast_to": [
        one_input((3,), shape=(2, 3)),
        one_input((), shape=(2, 2)),
        one_input((2, 1), shape=(3, 2, 4)),
        one_input((1, 3), shape=(1, 3)),
    ],
    "reshape": [
        one_input((2, 3, 4), shape=(6, 4)),
        one_input((2, 3, 4), shape=(24,)),
        one_input((2, 3, 4), shape=(4, 3, 2)),
        one_input((), shape=(1, 1)),
        one_input((1, 1), shape=()),
    ],
    "transpose": [
        one_input((2, 3)),
        one_input((2, 3, 4)),
        one_input((2, 3, 4), axes=(1, 0, 2)),
        one_input((2, 3, 4), axes=(2, 0, 1)),
        one_input((2, 3, 4), axes=(0, -1, 1)),  # negative axes are valid in NumPy
        one_input((2, 3, 4), axes=(-1, -3, -2)),
    ],
    "getitem": getitem_cases(),
    "scatter_add": scatter_add_cases(),
    "matmul": matmul_cases(),
    "stack": join_cases([(2, 3), (2, 3), (2, 3)], [0, 1, 2, -1, -3])
    + join_cases([(), (), ()], [0, -1]),
    "concatenate": join_cases([(2, 3), (2, 1), (2, 2)], [1, -1], offsets=True)
    + join_cases([(2, 3), (1, 3)], [0, -2], offsets=True)
    + join_cases([(3,), (2,)], [0], offsets=True),
}


# -- the rules appended for more of NumPy ------------------------------------------
def no_complex_step(cases: list[Case]) -> list[Case]:
    for case in cases:
        case.complex_step = False
    return cases


def away_from_integers(rng: Gen, shape: tuple[int, ...]) -> Any:
    """Values at least 0.1 from an integer: away from floor's and ceil's jumps."""
    val = rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape)
    return float(val) if shape == () else val


def mod_cases() -> list[Case]:
    def draw(
        rng: Gen, sx: tuple[int, ...], sy: tuple[int, ...], sign: float
    ) -> list[Any]:
        y = sign * _uniform(rng, 0.5, 2.0, sy)
        # x / y at least 0.1 from an integer: away from the jumps.
        q = away_from_integers(rng, np.broadcast_shapes(sx, sy))
        x = np.broadcast_to(q * y, np.broadcast_shapes(sx, sy))
        return [float(x) if np.shape(x) == () else np.array(x), y]

    shapes = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((4,), ())]
    return [
        Case(f"{sx}x{sy}:{sign:+}", lambda rng, sx=sx, sy=sy, s=sign: draw(rng, sx, sy, s),
             (0, 1), {}, complex_step=False)
        for sx, sy in shapes
        for sign in (1.0, -1.0)
    ]  # fmt: skip


def selection_cases() -> list[Case]:
    return [
        one_input((2, 3, 4)),
        one_input((2, 3, 4), axis=0),
        one_input((2, 3, 4), axis=-1, keepdims=True),
        one_input((2, 3, 4), axis=(0, 2)),
        one_input((5,), axis=0),
        one_input((), axis=None),
    ]


def prod_cases() -> list[Case]:
    def with_zeros(
        rng: Gen,
    ) -> list[Any]:  # one and two zeros in a row: no division by x
        x = rng.uniform(-2, 2, (3, 4))
        x[0, 1] = 0.0
        x[1, 0] = x[1, 2] = 0.0
        return [x]

    return [
        *selection_cases(),
        Case("zeros:axis=1", with_zeros, (0,), {"axis": 1}),
        Case("zeros:all", with_zeros, (0,), {}),
    ]


def operands(*shapes: tuple[int, ...], subscripts: str) -> Case:
    return Case(
        subscripts,
        lambda rng: [_uniform(rng, -2, 2, s) for s in shapes],
        tuple(range(len(shapes))),
        {"subscripts": subscripts},
    )


def well_conditioned(rng: Gen, shape: tuple[int, ...]) -> np.ndarray:
    """Random square matrices, 3 I plus noise: far from singular."""
    return rng.normal(size=shape) + 3 * np.eye(shape[-1])


def spd(rng: Gen, shape: tuple[int, ...]) -> np.ndarray:
    """Symmetric positive definite matrices with well-separated eigenvalues."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.normal(size=shape))
    w = np.arange(1.0, n + 1) * 1.5 + rng.uniform(0, 0.5, shape[:-1])
    return q @ (w[..., :, None] * np.swapaxes(q, -1, -2))


def symmetrize(xs: list[Any]) -> list[Any]:
    return [(xs[0] + anp.swapaxes(xs[0], -1, -2)) / 2, *xs[1:]]


def matrices(
    draw: Callable[[Gen, tuple[int, ...]], Any], *shapes: tuple[int, ...], **kw: Any
):
    return [
        Case(f"{shape}", lambda rng, shape=shape: [draw(rng, shape)], (0,), {}, **kw)
        for shape in shapes
    ]


CASES.update(
    {
        "cosh": unary(-2, 2),
        "sinh": unary(-2, 2),
        "arcsin": unary(-0.9, 0.9),
        "arccos": unary(-0.9, 0.9),
        "arctan": unary(-2, 2),
        "arcsinh": unary(-2, 2),
        "arccosh": unary(1.2, 3.0),
        "arctanh": unary(-0.9, 0.9),
        "log1p": unary(-0.5, 2.0),
        "expm1": unary(-2, 2),
        "log2": unary(0.2, 3.0),
        "log10": unary(0.2, 3.0),
        "exp2": unary(-2, 2),
        "hypot": no_complex_step(binary(0.3, 2, -2, -0.3)),
        "logaddexp": no_complex_step(binary(-2, 2, -2, 2)),
        "arctan2": no_complex_step(
            binary(-2, 2, 0.3, 2) + binary(0.3, 2, -2, -0.3)[:3]
        ),
        "floor": no_complex_step(
            [
                Case(
                    f"shape{s}", lambda rng, s=s: [away_from_integers(rng, s)], (0,), {}
                )
                for s in [(), (4,), (2, 3)]
            ]
        ),
        "ceil": no_complex_step(
            [
                Case(
                    f"shape{s}", lambda rng, s=s: [away_from_integers(rng, s)], (0,), {}
                )
                for s in [(), (4,), (2, 3)]
            ]
        ),
        "floor_divide": mod_cases(),  # x / y away from integers: away from the jumps
        "mod": mod_cases(),
        "angle": no_complex_step(abs_like()),  # 0 or pi: away from the jump at 0
        "real": no_complex_step(unary(-2, 2)),
        "imag": no_complex_step(unary(-2, 2)),  # 0 for real x: derivative 0
        "conj": no_complex_step(unary(-2, 2)),  # x for real x: not analytic
        "prod": prod_cases(),
        "max": selection_cases(),
        "min": selection_cases(),
        "cumsum": [
            one_input((2, 3, 4), axis=0),
            one_input((2, 3, 4), axis=-1),
            one_input((2, 3, 4), axis=1),
            one_input((5,), axis=0),
        ],
        "astype": [
            Case(
                "float32->float64",
                lambda rng: [rng.uniform(-2, 2, 3).astype(np.float32)],
                (0,),
                {"dtype": np.dtype(np.float64)},
                complex_step=False,
            )
        ],
        "einsum": [
            operands((2, 3), (3, 4), subscripts="ij,jk->ik"),
            operands((3, 3), subscripts="ii->"),
            operands((3, 3), subscripts="ii->i"),
            operands((2, 3), subscripts="ij->"),
            operands((2, 3), subscripts="ij->ji"),
            operands((2, 3), (3,), subscripts="ij,j->i"),
            operands((4,), (4,), subscripts="i,i->"),
            operands((3,), (2,), subscripts="i,j->ij"),
            operands((2, 3, 4), (2, 4, 5), subscripts="ijk,ikl->ijl"),
            operands((2, 3), (2, 3), (3,), subscripts="ij,ij,j->i"),
            operands((3, 3), (3,), subscripts="ii,i->i"),
        ],
        "inv": matrices(well_conditioned, (1, 1), (3, 3), (2, 3, 3)),
        "solve": [
            Case(
                f"{sa},{sb}",
                lambda rng, sa=sa, sb=sb: [
                    well_conditioned(rng, sa),
                    rng.normal(size=sb),
                ],
                (0, 1),
                {},
            )
            for sa, sb in [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((2, 2), (2, 2))]
        ],
        "det": matrices(well_conditioned, (1, 1), (3, 3), (2, 3, 3)),
        # From an SVD, which is not analytic in A (it conjugates): no complex step.
        "adjugate": matrices(
            well_conditioned, (1, 1), (3, 3), (2, 3, 3), complex_step=False
        ),
        "slogdet": matrices(well_conditioned, (3, 3), (2, 3, 3), complex_step=False),
        "cholesky": matrices(
            spd, (3, 3), (2, 3, 3), complex_step=False, wrap=symmetrize
        ),
        "eigh": matrices(spd, (3, 3), (2, 4, 4), complex_step=False, wrap=symmetrize),
        "eigvalsh": matrices(
            spd, (3, 3), (2, 4, 4), complex_step=False, wrap=symmetrize
        ),
        "svdvals": matrices(
            lambda rng, s: rng.normal(size=s),
            (3, 3),
            (4, 2),
            (2, 4),
            (2, 3, 2),
            complex_step=False,
        ),
        "svd": matrices(
            lambda rng, s: rng.normal(size=s),
            (3, 3),
            (4, 2),
            (2, 4),
            (2, 3, 2),
            complex_step=False,
        ),
        # np.linalg.pinv of a complex matrix conjugates: no complex step.
        "pinv": matrices(
            lambda rng, s: rng.normal(size=s),
            (3, 3),
            (4, 2),
            (2, 4),
            (2, 4, 3),
            complex_step=False,
        ),
        "qr": matrices(
            lambda rng, s: rng.normal(size=s),
            (3, 3),
            (4, 2),
            (2, 3, 2),
            complex_step=False,
        ),
    }
)


def transform_cases(name: str, **params: Any) -> list[Case]:
    """np.fft's primitives on (2, 5) and (4, 3) inputs, along each axis, with each norm.

    Real inputs; no complex step (fft and rfft give complex outputs, and irfft reads
    the conjugates of its input: none is the analytic continuation the step needs),
    so central differences and the other mode.  irfft reads n // 2 + 1 entries: its
    input's length along the axis follows from n.
    """
    cases = []
    for shape, axis in [((2, 5), 1), ((4, 3), 0), ((6,), 0)]:
        for norm in ("backward", "ortho", "forward"):
            kw = {"axis": axis, "norm": norm, **params}
            in_shape = shape
            if name == "irfft":
                kw["n"] = shape[axis] + 1  # odd n from (2, 5): 6; even: 5, 7
                in_shape = (*shape[:axis], kw["n"] // 2 + 1, *shape[axis + 1 :])
            cases.append(
                Case(
                    f"{in_shape}:{kw}",
                    lambda rng, s=in_shape: [_uniform(rng, -2, 2, s)],
                    (0,),
                    kw,
                    complex_step=False,
                )
            )
    return cases


CASES.update(
    {
        "fft": transform_cases("fft", inverse=False)
        + transform_cases("fft", inverse=True)[::2],
        "rfft": transform_cases("rfft"),
        "irfft": transform_cases("irfft"),
    }
)

PARAMS = [
    pytest.param(name, case, seed, id=f"{name}-{case.id}-seed{seed}")
    for name in RULES  # iterate over the table, so a rule without cases is reported
    for case in CASES.get(name, [None])  # type: ignore[list-item]
    for seed in SEEDS
]


#: Rules whose derivative is 0 by definition while their value varies (so the
#: references below are zero, not differences of the value).
ZERO_BY_DEFINITION = {"stop_gradient"}


def test_cases_cover_the_whole_table() -> None:
    missing = sorted(set(RULES) - set(CASES))
    stale = sorted(set(CASES) - set(RULES))
    assert not missing, f"rules without test cases: {missing}"
    assert not stale, f"test cases for rules that no longer exist: {stale}"
    assert all(CASES[name] for name in RULES)


# -- independent references ----------------------------------------------------------
def _perturbed(
    args: list[Any], k: int, idx: tuple[int, ...], delta: complex
) -> list[Any]:
    x = np.array(args[k], dtype=complex if isinstance(delta, complex) else float)
    x[idx] += delta
    new = list(args)
    new[k] = x[()] if x.ndim == 0 else x
    return new


def complex_step_jacobian(
    f: Callable, args: list[Any], k: int, h: float = 1e-20
) -> np.ndarray:
    """d f / d args[k] by the complex step: Im f(x + i h e_j) / h, no cancellation."""
    shape = np.shape(args[k])
    out_shape = np.shape(f(*args))
    jac = np.zeros(out_shape + shape)
    for idx in np.ndindex(*shape):
        with ad.numerical.complex_step_stand_ins():  # abs(z) would be |z|
            jac[(Ellipsis, *idx)] = np.imag(f(*_perturbed(args, k, idx, 1j * h))) / h
    return jac


def central_difference_jacobian(f: Callable, args: list[Any], k: int) -> np.ndarray:
    """d f / d args[k] by central differences with a step scaled to each entry."""
    x = np.asarray(args[k], dtype=float)
    value = f(*args)
    dtype = np.result_type(value, float)  # complex for a complex output (np.fft)
    jac = np.zeros(np.shape(value) + x.shape, dtype=dtype)
    for idx in np.ndindex(*x.shape):
        h = 1e-6 * max(1.0, abs(float(x[idx])))
        plus = np.asarray(f(*_perturbed(args, k, idx, h)), dtype=dtype)
        minus = np.asarray(f(*_perturbed(args, k, idx, -h)), dtype=dtype)
        jac[(Ellipsis, *idx)] = (plus - minus) / (2 * h)
    return jac


def _joined(prim: Any, out: Any) -> Any:
    """One array of all results (eigh's w and V, ...): one Jacobian checks them all."""
    if not prim.multiple_results:
        return out
    return anp.concatenate([anp.ravel(r) for r in out])


def _as_tuple(j: Any, n: int) -> tuple:
    assert isinstance(j, tuple) and len(j) == n, (
        f"expected a tuple of {n} Jacobians, got {j!r}"
    )
    return j


def reverse_jacobian_of_complex_output(
    f: Callable, args: list[Any], diff: tuple[int, ...]
) -> tuple[np.ndarray, ...]:
    """Reverse mode's Jacobian of a complex output of real inputs, from vjp.

    jacrev pulls back real cotangents only; in JAX's pairing Re(sum(ct * y)) a real
    input's cotangent is Re(J^T ct), so ct = e_i gives Re J_i and ct = 1j e_i gives
    -Im J_i: the two pullbacks give the whole row.
    """
    value, pullback = ad.vjp(lambda *xs: f(*xs), *args)
    rows: list[list[Any]] = [[] for _ in diff]
    for idx in np.ndindex(*np.shape(value)):
        unit = np.zeros(np.shape(value), dtype=complex)
        unit[idx] = 1.0
        re, im = pullback(unit), pullback(1j * unit)
        re = re if isinstance(re, tuple) else (re,)
        im = im if isinstance(im, tuple) else (im,)
        for row, k in zip(rows, diff, strict=True):
            row.append(np.asarray(re[k]) - 1j * np.asarray(im[k]))
    return tuple(
        np.reshape(row, np.shape(value) + np.shape(args[k]))
        for row, k in zip(rows, diff, strict=True)
    )


@pytest.mark.parametrize(("name", "case", "seed"), PARAMS)
def test_jacobian_matches_complex_step_and_central_differences(
    name: str, case: Case | None, seed: int
) -> None:
    assert case is not None, f"rule {name!r} has no test case: add one to CASES"
    prim = RULES[name]
    rng = np.random.default_rng([seed, *name.encode()])
    args = case.draw(rng)

    def f(*xs: Any) -> Any:
        out = prim(*(case.wrap(list(xs)) if case.wrap else xs), **case.params)
        return _joined(prim, out)

    expected_value = f(*args)
    fwd = _as_tuple(ad.jacfwd(f, argnums=case.diff)(*args), len(case.diff))
    if np.iscomplexobj(expected_value):  # jacrev pulls back real cotangents only
        rev = reverse_jacobian_of_complex_output(f, args, case.diff)
    else:
        rev = _as_tuple(ad.jacrev(f, argnums=case.diff)(*args), len(case.diff))
    for k, jf, jr in zip(case.diff, fwd, rev, strict=True):
        cs = complex_step_jacobian(f, args, k) if case.complex_step else None
        cd = central_difference_jacobian(f, args, k)
        if (
            name in ZERO_BY_DEFINITION
        ):  # no difference quotient sees a derivative set to 0
            cs = cd = np.zeros_like(cs)
        expected_shape = np.shape(expected_value) + np.shape(args[k])
        assert np.shape(jf) == expected_shape, f"jacfwd shape for argument {k}"
        assert np.shape(jr) == expected_shape, f"jacrev shape for argument {k}"
        if cs is not None:
            np.testing.assert_allclose(
                jf, cs, rtol=1e-12, atol=1e-14, err_msg=f"jacfwd, arg {k}"
            )
            np.testing.assert_allclose(
                jr, cs, rtol=1e-12, atol=1e-14, err_msg=f"jacrev, arg {k}"
            )
        else:  # the two modes agree to rounding, and with central differences
            np.testing.assert_allclose(
                jr, jf, rtol=1e-10, atol=1e-12, err_msg=f"modes, arg {k}"
            )
        np.testing.assert_allclose(
            jf, cd, rtol=1e-6, atol=1e-8, err_msg=f"central, arg {k}"
        )


@pytest.mark.parametrize(("name", "case", "seed"), PARAMS)
def test_value_matches_numpy_under_both_modes(
    name: str, case: Case | None, seed: int
) -> None:
    """The primal computed inside jvp/vjp is the plain NumPy value."""
    assert case is not None, f"rule {name!r} has no test case: add one to CASES"
    prim = RULES[name]
    rng = np.random.default_rng([seed, *name.encode()])
    args = case.draw(rng)
    wrap = case.wrap or (lambda xs: xs)
    plain = prim.impl(*wrap(list(args)), **case.params)
    k = case.diff[0]
    ones = np.ones_like(args[k]) if np.shape(args[k]) else 1.0

    def f(x: Any) -> Any:
        return prim(
            *wrap([x if i == k else a for i, a in enumerate(args)]), **case.params
        )

    value_fwd, _ = ad.jvp(f, (args[k],), (ones,))
    value_rev, _ = ad.vjp(f, args[k])
    if prim.multiple_results:  # a tuple of results, each NumPy's
        assert isinstance(plain, tuple) and len(value_fwd) == len(plain)
        for fwd, rev, value in zip(value_fwd, value_rev, plain, strict=True):
            np.testing.assert_array_equal(fwd, value)
            np.testing.assert_array_equal(rev, value)
        return
    np.testing.assert_array_equal(value_fwd, plain)
    np.testing.assert_array_equal(value_rev, plain)


# -- repeated indices, checked against an explicit count -------------------------------------
def test_getitem_with_repeated_indices_counts_each_use() -> None:
    idx = np.array([0, 2, 0, 0, 3])
    x = np.linspace(1.0, 2.0, 5)
    g = ad.grad(lambda v: anp.sum(rules.getitem(v, index=idx)))(x)
    np.testing.assert_array_equal(g, np.bincount(idx, minlength=5).astype(float))


# -- conventions at kinks -----------------------------------------------------------------
def _both_modes(f: Callable, x: Any) -> list[Any]:
    return [ad.derivative(f, x), ad.grad(f)(x), ad.jacfwd(f)(x), ad.jacrev(f)(x)]


def test_abs_derivative_at_zero_is_zero() -> None:
    for d in _both_modes(anp.abs, 0.0):
        assert d == 0.0
    x = np.array([-1.5, 0.0, 2.0])
    np.testing.assert_array_equal(ad.jacfwd(anp.abs)(x), np.diag([-1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(ad.jacrev(anp.abs)(x), np.diag([-1.0, 0.0, 1.0]))


@pytest.mark.parametrize("op", [anp.maximum, anp.minimum])
def test_maximum_minimum_ties_split_the_derivative(op: Callable) -> None:
    for jac in (ad.jacfwd, ad.jacrev):
        assert jac(op, argnums=(0, 1))(1.5, 1.5) == (0.5, 0.5)
    assert ad.grad(op, argnums=(0, 1))(-0.25, -0.25) == (0.5, 0.5)
    # d/dx op(x, x) = 1/2 + 1/2 = 1, the derivative of x itself
    for d in _both_modes(lambda x: op(x, x), 0.7):
        assert d == 1.0
    # Arrays with some ties: ties get 1/2, the others 1 or 0.
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 0.0, 5.0])
    win = np.array([0.5, 1.0, 0.0]) if op is anp.maximum else np.array([0.5, 0.0, 1.0])
    for jac in (ad.jacfwd, ad.jacrev):
        jx, jy = jac(op, argnums=(0, 1))(x, y)
        np.testing.assert_array_equal(jx, np.diag(win))
        np.testing.assert_array_equal(jy, np.diag(1.0 - win))


@pytest.mark.parametrize("op", [anp.sign, rules.heaviside])
@pytest.mark.parametrize("x", [-2.0, 0.0, 3.0])
def test_sign_and_heaviside_have_zero_derivative(op: Callable, x: float) -> None:
    for d in _both_modes(op, x):
        assert d == 0.0
    arr = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(ad.jacfwd(op)(arr), np.zeros((3, 3)))
    np.testing.assert_array_equal(ad.jacrev(op)(arr), np.zeros((3, 3)))


def test_heaviside_value_at_zero_is_one_half() -> None:
    np.testing.assert_array_equal(
        rules.heaviside(np.array([-1.0, 0.0, 1.0])), [0.0, 0.5, 1.0]
    )


def test_log_of_negative_values_is_nan_with_a_warning_in_every_mode() -> None:
    x = np.array([-1.0, -4.0])
    with pytest.warns(RuntimeWarning, match="invalid value"):
        value = anp.log(x)
    assert np.isnan(value).all()
    # Forward and reverse mode give the same value and warning; the derivative is
    # whatever the rule's formula 1/x gives there (as in NumPy and JAX), in both modes.
    with pytest.warns(RuntimeWarning, match="invalid value"):
        value_fwd, tangent = ad.jvp(anp.log, (x,), (np.ones(2),))
    with pytest.warns(RuntimeWarning, match="invalid value"):
        g = ad.grad(lambda v: anp.sum(anp.log(v)))(x)
    assert np.isnan(value_fwd).all()
    np.testing.assert_array_equal(tangent, 1.0 / x)
    np.testing.assert_array_equal(g, 1.0 / x)


def test_sqrt_of_negative_values_is_nan_with_nan_derivative() -> None:
    x = np.array([-1.0, 4.0])
    with pytest.warns(RuntimeWarning, match="invalid value"):
        value, tangent = ad.jvp(anp.sqrt, (x,), (np.ones(2),))
    with pytest.warns(RuntimeWarning, match="invalid value"):
        g = ad.grad(lambda v: anp.sum(anp.sqrt(v)))(x)
    np.testing.assert_array_equal(value, [np.nan, 2.0])
    np.testing.assert_array_equal(tangent, [np.nan, 0.25])
    np.testing.assert_array_equal(g, [np.nan, 0.25])


def test_log_at_zero_is_minus_infinity_with_infinite_derivative() -> None:
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        value, tangent = ad.jvp(anp.log, (np.array([0.0]),), (np.ones(1),))
    np.testing.assert_array_equal(value, [-np.inf])
    np.testing.assert_array_equal(tangent, [np.inf])


def test_pow_with_negative_base_differentiates_in_the_base_only() -> None:
    # Integer exponent: d/dx x**3 = 3 x**2, no log(x) (hence no warning) is computed.
    assert ad.derivative(lambda x: x**3, -2.0) == 12.0
    assert ad.grad(lambda x: x**3)(-2.0) == 12.0
    assert ad.grad(lambda x: x**-2)(-2.0) == 0.25  # -2 x**-3
    # The exponent's derivative log(x) x**y does not exist for x < 0: nan with a warning.
    with pytest.warns(RuntimeWarning, match="invalid value"):
        dy = ad.grad(lambda y: (-2.0) ** y)(3.0)
    assert math.isnan(dy)


# -- higher order through the table, against SymPy's closed forms --------------------------
_X = sp.Symbol("x")
HIGHER = [
    ("exp", anp.exp, sp.exp(_X), 0.7),
    ("log", anp.log, sp.log(_X), 1.3),
    ("sin", anp.sin, sp.sin(_X), 0.9),
    ("cos", anp.cos, sp.cos(_X), -0.4),
    ("tan", anp.tan, sp.tan(_X), 0.6),
    ("sqrt", anp.sqrt, sp.sqrt(_X), 2.2),
    ("tanh", anp.tanh, sp.tanh(_X), 0.3),
    ("reciprocal", anp.reciprocal, 1 / _X, -1.7),
    ("x**3", lambda x: x**3, _X**3, -1.4),
    ("x**-2", lambda x: x**-2, _X**-2, 0.8),
    ("x**0.5", lambda x: x**0.5, _X ** sp.Rational(1, 2), 1.9),
    ("2**x", lambda x: 2.0**x, 2**_X, 0.35),
]


@pytest.mark.parametrize(
    ("f", "expr", "x0"), [p[1:] for p in HIGHER], ids=[p[0] for p in HIGHER]
)
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_higher_derivatives_match_closed_forms(
    f: Callable, expr: Any, x0: float, order: int
):
    expected = float(sp.diff(expr, _X, order).subs(_X, x0))
    fwd = ad.derivative(f, x0, order=order)
    g = f
    for _ in range(order):
        g = ad.grad(g)
    rev = g(x0)
    mixed = ad.derivative(ad.grad(f), x0, order=order - 1)  # forward over reverse
    for got in (fwd, rev, mixed):
        assert not isinstance(got, ad.Dual)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("f", "expr", "x0"), [p[1:] for p in HIGHER], ids=[p[0] for p in HIGHER]
)
def test_second_derivatives_of_arrays_are_elementwise(
    f: Callable, expr: Any, x0: float
) -> None:
    xs = x0 * np.array([0.9, 1.0, 1.1])
    d2 = sp.lambdify(_X, sp.diff(expr, _X, 2), "numpy")
    np.testing.assert_allclose(ad.derivative(f, xs, order=2), d2(xs), rtol=1e-12)


def test_order_zero_is_the_function_itself() -> None:
    assert ad.derivative(anp.exp, 0.5, order=0) == np.exp(0.5)


@pytest.mark.parametrize("p", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_powers_differentiated_at_zero_past_their_degree(p: int, order: int) -> None:
    # d^k/dx^k x**p at 0 is p! for k == p and 0 otherwise: never 0 * 0**-1 = nan.
    expected = float(math.factorial(p)) if order == p else 0.0
    assert ad.derivative(lambda x: x**p, 0.0, order=order) == expected
    g = lambda x: x**p  # noqa: E731
    for _ in range(order):
        g = ad.grad(g)
    assert g(0.0) == expected
    # An array of exponents, elementwise.
    ps = np.arange(5)
    got = ad.derivative(lambda x: x**ps, np.zeros(5), order=order)
    np.testing.assert_array_equal(
        got, np.where(ps == order, [math.factorial(k) for k in ps], 0)
    )


def test_hessian_of_pow_in_base_and_exponent() -> None:
    x0, y0 = 1.5, 2.5
    x, y = sp.symbols("x y")
    expr = x**y
    expected = [
        [float(sp.diff(expr, a, b).subs({x: x0, y: y0})) for b in (x, y)]
        for a in (x, y)
    ]
    h = ad.hessian(lambda v: v[0] ** v[1])(np.array([x0, y0]))
    np.testing.assert_allclose(h, expected, rtol=1e-13)
    hf = ad.jacfwd(ad.jacfwd(lambda v: v[0] ** v[1]))(np.array([x0, y0]))
    np.testing.assert_allclose(hf, expected, rtol=1e-13)


@pytest.mark.parametrize("name", ["abs", "sign", "heaviside", "maximum", "minimum"])
def test_python_float_shortcuts_match_numpy(name: str) -> None:
    """The float fast paths of the kink primitives agree with NumPy, nan and -0.0 included."""
    prim = rules.RULES[name]
    specials = [2.0, -1.5, 0.0, -0.0, float("nan"), float("inf"), -float("inf")]
    reference = {
        "abs": np.abs,
        "sign": np.sign,
        "heaviside": lambda x: np.heaviside(x, 0.5),
        "maximum": np.maximum,
        "minimum": np.minimum,
    }[name]
    arity = 2 if name in ("maximum", "minimum") else 1
    cases = (
        [(x, y) for x in specials for y in specials]
        if arity == 2
        else [(x,) for x in specials]
    )
    for args in cases:
        ours, theirs = prim.impl(*args), reference(*args)
        assert type(ours) is float or np.ndim(ours) == 0
        np.testing.assert_equal(ours, theirs, err_msg=f"{name}{args}")
