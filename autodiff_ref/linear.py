"""linearize and linear_transpose: reverse mode as forward mode, then transposition.

:func:`linearize` runs a forward-mode pass with *concrete* primals and
*abstract* tangents: every primal value is computed at once, and every tangent
operation -- which the rules table makes a primitive applied to the tangents,
with primal values as constants -- is recorded as an equation.  What is left
is the tangent program, a linear function of the tangents.

:func:`linear_transpose` walks a linear program's equations backwards and
applies each primitive's transpose, which the rules table already carries: the
elementwise ones multiply by a local derivative that is a
constant here, and the linear ones (sum, matmul with a constant, indexing)
have their transposes written next to them (each returns the cotangents of
all its linear arguments at once).  ``vjp`` is then
``linear_transpose(linearize(f, x)[1], x)``: no formula is written twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import rules
from .arguments import (
    _as_input,
    _as_input_tree,
    _zeros_like,
    input_names,
)
from .core import (
    Primitive,
    Tracer,
    UndefinedPrimal,
    Zero,
    cotangent_for,
    primal_value,
    shape_of,
)
from .program.program import Program, trace_program
from .program.tracing import Equation, Var, aval_of, stand_in
from .reverse import transposed_jvp
from .transforms import jvp
from .tree import require_callable, tree_flatten, tree_unflatten

__all__ = ["linear_transpose", "linearize"]


def linearize(
    f: Callable[..., Any], *primals: Any, has_aux: bool = False
) -> tuple[Any, ...]:
    """``f(*primals)`` and its linearization there, as a program of the tangents.

    Returns ``(out, f_jvp)`` where ``f_jvp(*tangents)`` equals
    ``jvp(f, primals, tangents)[1]``.  ``f_jvp`` is a :class:`Program`: print
    it, read its ``source``, or transpose it with :func:`linear_transpose`.
    The tangents are structured like the primals; a dict's keys may come in
    another order (they are matched by key), but not be other keys.

    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and linearize
    returns ``(out, f_jvp, aux)``, ``aux`` undifferentiated (as in JAX).

    Examples
    --------
    >>> import autodiff_ref as ad
    >>> import autodiff_ref.numpy as anp
    >>> out, f_jvp = ad.linearize(anp.sin, 0.0)
    >>> float(out), float(f_jvp(2.0))
    (0.0, 2.0)
    >>> print(f_jvp)
    program f_jvp(x_dot: float)
    v   expression   type
    --  -----------  -------
    v1  1.0 × x_dot  float64
    return v1
    >>> out, f_jvp, aux = ad.linearize(lambda x: (anp.sin(x), x**2), 3.0, has_aux=True)
    >>> float(aux)
    9.0
    """
    require_callable(f, "linearize")
    if not primals:
        raise TypeError("linearize needs the point, e.g. linearize(f, 2.0)")
    points = tuple(_as_input_tree(p, "linearize") for p in primals)
    outs: list[Any] = []

    def f_jvp(*tangents: Any) -> Any:
        out, tangent, *aux = jvp(f, points, tangents, has_aux=has_aux)
        outs.append((out, *aux))
        return tangent

    # The tangents are traced like the primals (same shapes and dtypes); the primals
    # are constants to the program, so only tangent work is recorded.
    names = _names(f, len(points))
    f_jvp.__name__ = "f_jvp"
    program = trace_program(_named(f_jvp, names), points)
    out, *aux = outs[0]
    return (out, program, *aux)


def _names(f: Callable[..., Any], n: int) -> list[str]:
    return [
        f"{name}_dot" if name.isidentifier() else name for name in input_names(f, n)
    ]


def _named(g: Callable[..., Any], names: list[str]) -> Callable[..., Any]:
    """``g`` with a signature naming its parameters (the program's input names)."""
    import inspect

    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names]
    g.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return g


def _check_linear(program: Program) -> None:
    """Refuse a program that is not linear in its inputs, with the equation that is not.

    Each equation must satisfy ``prim(-2 u) = -2 prim(u)`` at random values ``u``
    of its variable arguments.  For a linear primitive this holds exactly
    (scaling by a power of two commutes with rounding) unless a constant is
    subnormal, hence the tiny tolerance; a nonlinear one (sin, x * y of two
    variables, x + 1) misses it by far, except by a coincidence of measure zero.
    """
    rng = np.random.default_rng(0)
    for k, eq in enumerate(program.equations):
        if not any(type(a) is Var for a in eq.args):
            continue
        values = []
        for a in eq.args:
            if type(a) is Var:
                u = rng.standard_normal(a.aval.shape).astype(a.aval.dtype)
                values.append(u if a.aval.kind == "array" else u[()])
            elif isinstance(a, Tracer):  # a value of an enclosing transform: its shape
                values.append(stand_in(aval_of(primal_value(a))))
            else:
                values.append(a)
        scaled = [
            -2.0 * v if type(a) is Var else v
            for a, v in zip(eq.args, values, strict=True)
        ]
        with np.errstate(all="ignore"):
            ok = np.allclose(
                np.asarray(eq.prim.impl(*scaled, **eq.params)),
                -2.0 * np.asarray(eq.prim.impl(*values, **eq.params)),
                rtol=1e-12,
                atol=1e-300,  # subnormal constants: their products lose bits
                equal_nan=True,
            )
        if not ok:
            raise ValueError(
                f"linear_transpose needs a linear function, but equation {k + 1} "
                f"({eq.prim.name}) is not linear in its variables; transpose the "
                "linearization instead: linear_transpose(linearize(f, x)[1], x)"
            )


def linear_transpose(
    f_lin: Callable[..., Any] | Program, *primals: Any
) -> Callable[..., Any]:
    """The transpose of a linear function: cotangents of its output to those of its inputs.

    Parameters
    ----------
    f_lin : callable or Program
        Linear in its arguments (the ``f_jvp`` of :func:`linearize`, or any
        function written with linear operations).
    *primals : number or ndarray
        Example inputs: only their shapes and dtypes are used.

    Returns
    -------
    callable
        ``f_transpose(cotangent)`` returns a tuple with one cotangent per
        input, such that ``<f_transpose(c), t> = <c, f_lin(t)>`` for all ``t``
        and ``c`` (the dot-product test).

    Examples
    --------
    >>> import numpy as np
    >>> import autodiff_ref as ad
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> ad.linear_transpose(lambda v: A @ v, np.zeros(2))(np.array([1.0, 0.0]))
    (array([1., 2.]),)
    """
    require_callable(f_lin, "linear_transpose")
    program = f_lin if isinstance(f_lin, Program) else trace_program(f_lin, primals)
    _check_linear(program)

    def f_transpose(cotangent: Any) -> tuple[Any, ...]:
        ct_leaves, _ = tree_flatten(cotangent)
        if len(ct_leaves) != len(program.outputs):
            raise ValueError(
                f"the cotangent must be structured like f_lin's output "
                f"({len(program.outputs)} array(s)); got {len(ct_leaves)}"
            )
        cts: dict[int, Any] = {}

        def accumulate(var: Var, ct: Any) -> None:
            previous = cts.get(id(var))
            cts[id(var)] = ct if previous is None else rules.add(previous, ct)

        for out, ct in zip(program.outputs, ct_leaves, strict=True):
            ct = _as_input(ct, "linear_transpose")
            if type(out) is Var:
                if shape_of(ct) != out.aval.shape:
                    raise ValueError(
                        f"cotangent shape {shape_of(ct)} does not match the output shape "
                        f"{out.aval.shape}"
                    )
                accumulate(out, ct)
        for eq in reversed(program.equations):
            if eq.prim.multiple_results:  # a Zero for each result no cotangent reached
                parts = [cts.pop(id(v), None) for v in eq.outs]
                ct = None
                if any(c is not None for c in parts):
                    ct = tuple(
                        Zero(v.aval.shape, v.aval.dtype) if c is None else c
                        for c, v in zip(parts, eq.outs, strict=True)
                    )
            else:
                ct = cts.pop(id(eq.out), None)
            if ct is None:  # nothing downstream depends on this value
                continue
            linear = [i for i, a in enumerate(eq.args) if type(a) is Var]
            for i, contribution in zip(
                linear,
                _transpose(eq.prim, ct, _bound(eq), eq.args, eq.params, linear),
                strict=True,
            ):
                if contribution is not None:
                    accumulate(eq.args[i], contribution)
        leaves = [
            cts[id(v)] if id(v) in cts else _zeros_like(stand_in(v.aval))
            for v in program.inputs
        ]
        out = tree_unflatten(program.in_tree, leaves)
        return tuple(out)

    return f_transpose


def _transpose(
    prim: Primitive,
    ct: Any,
    out: Var | tuple[Var, ...],
    variables: Sequence[Any],
    params: dict[str, Any],
    linear: list[int],
) -> list[Any]:
    """The cotangents of the linear arguments of one equation, all at once.

    A transpose rule is handed an UndefinedPrimal for each linear argument (its
    shape and dtype); the other kinds of rule, which want values, get zeros there:
    a local derivative or JVP of a map linear in that argument does not depend on
    its value.
    """
    if prim.derivs is None and prim.transposes(linear):
        marked = [
            UndefinedPrimal(a.aval.shape, a.aval.dtype) if type(a) is Var else a
            for a in variables
        ]
        cts = prim.transpose(ct, marked, params, linear)
    else:
        args = [_zero(a) if type(a) is Var else a for a in variables]
        if prim.derivs is not None:
            cts = [prim.local_vjp(i, ct, _zero(out), args, params) for i in linear]
        else:  # a primitive given by its JVP (a user's rule, linear here)
            cts = transposed_jvp(prim, ct, _zero(out), args, params, linear)
    # Each cotangent in its variable's dtype (a real variable's is real).
    return [
        cotangent_for(c, variables[i].aval) if type(variables[i]) is Var else c
        for i, c in zip(linear, cts, strict=True)
    ]


def _bound(eq: Equation) -> Var | tuple[Var, ...]:
    """What the equation binds: a variable, or a tuple for several results."""
    return eq.outs if eq.prim.multiple_results else eq.out


def _zero(var: Var | tuple[Var, ...]) -> Any:
    if isinstance(var, tuple):  # the results of a primitive with several
        return tuple(_zero(v) for v in var)
    return Zero(var.aval.shape, var.aval.dtype).instantiate()
