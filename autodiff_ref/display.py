"""How each primitive is written: one table, keyed by the Primitive object.

The evaluation trace, program listings, graph drawings and symbolic
expressions all print primitives; they all read :data:`NOTATION`, so ``log``
is ``ln`` everywhere and a change of symbol is made once.  A primitive that is
not in the table is written as a call with its own name, ``name(x, axis=0)``.
Modules that make primitives of their own (the program tracer's comparisons)
add them with :func:`define`, as JAX's modules fill its rule tables.
"""

from __future__ import annotations

import numbers
import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import rules as R
from .core import Primitive

__all__ = [
    "NOTATION",
    "Notation",
    "define",
    "expression",
    "index_text",
    "label",
    "latex_function",
    "notation",
    "number_text",
    "symbol",
]


class Notation(NamedTuple):
    """How one primitive is written.

    ``function`` is its name in a call (``ln(x)``); ``infix`` the operator
    written between two operands in tables and listings (``×`` for mul), and
    ``python`` the same operator in Python source (``*``), as code generation
    and ``str`` of a symbolic expression write it; ``prefix`` the operator
    written before one operand (``-`` for neg, ``1 /`` and a space for reciprocal);
    ``latex`` the LaTeX of the function (``\\sin``; None:
    ``\\operatorname{name}``).  None means the primitive is not written that way.
    ``label`` is the name a row of a table shows, when it is not the primitive's
    own (a user's rule, registered under a unique name, shows the user's name).
    """

    function: str
    infix: str | None = None
    python: str | None = None
    prefix: str | None = None
    latex: str | None = None
    label: str | None = None


#: Primitive -> how it is written; primitives not listed are calls by name.  Weak
#: keys: a primitive made at run time (a user's rule) leaves with its last user.
NOTATION: weakref.WeakKeyDictionary[Primitive, Notation] = weakref.WeakKeyDictionary()


def define(prim: Primitive, **how: str) -> None:
    """Say how ``prim`` is written (keywords: the fields of :class:`Notation`)."""
    NOTATION[prim] = Notation(**{"function": prim.name, **how})


def notation(prim: Primitive) -> Notation:
    """How ``prim`` is written: its entry, else a call by its name."""
    found = NOTATION.get(prim)
    return Notation(prim.name) if found is None else found


for _prim, _infix, _python in [
    (R.add, "+", "+"), (R.sub, "-", "-"), (R.mul, "×", "*"), (R.div, "/", "/"),
    (R.pow, "**", "**"), (R.matmul, "@", "@"),
]:  # fmt: skip
    define(_prim, infix=_infix, python=_python)
define(R.neg, prefix="-")
define(R.reciprocal, prefix="1 / ")
define(R.log, function="ln", latex=r"\log")
for _prim, _latex in [
    (R.sin, r"\sin"), (R.cos, r"\cos"), (R.tan, r"\tan"), (R.tanh, r"\tanh"),
    (R.sign, r"\operatorname{sign}"), (R.heaviside, "H"), (R.maximum, r"\max"),
    (R.minimum, r"\min"), (R.stop_gradient, r"\operatorname{stop\_gradient}"),
]:  # fmt: skip
    define(_prim, latex=_latex)


def label(prim: Primitive) -> str:
    """The name a table row shows for ``prim``: its own, or the user's for their rule."""
    return notation(prim).label or prim.name


def symbol(prim: Primitive) -> str:
    """The short symbol of a primitive: ``×`` for mul, ``ln`` for log, its name otherwise.

    >>> from autodiff_ref import rules
    >>> symbol(rules.mul), symbol(rules.log), symbol(rules.sin), symbol(rules.neg)
    ('×', 'ln', 'sin', '-')
    """
    how = notation(prim)
    if how.infix is not None:
        return how.infix
    if how.prefix is not None:
        return how.prefix.replace(" ", "")
    return how.function


def latex_function(prim: Primitive) -> str:
    r"""The LaTeX of a primitive written as a function: ``\sin``, ``\operatorname{erf}``."""
    how = notation(prim)
    return how.latex if how.latex is not None else rf"\operatorname{{{how.function}}}"


def expression(
    prim: Primitive,
    operands: Sequence[str],
    params: dict[str, Any],
    *,
    labelled: bool = False,
) -> str:
    """Write ``prim`` applied to ``operands`` (already formatted strings).

    ``labelled=True`` (tables for readers) writes a user's rule by the user's name
    rather than its unique registered one (program listings).

    >>> from autodiff_ref import rules
    >>> expression(rules.mul, ["v_{-1}", "v_0"], {})
    'v_{-1} × v_0'
    >>> expression(rules.log, ["v_{-1}"], {})
    'ln(v_{-1})'
    >>> expression(rules.sum, ["v_1"], {"axis": 0, "keepdims": False})
    'sum(v_1, axis=0)'
    """
    how = notation(prim)
    if how.infix is not None and len(operands) == 2 and not params:
        return f"{operands[0]} {how.infix} {operands[1]}"
    if how.prefix is not None and len(operands) == 1 and not params:
        return f"{how.prefix}{operands[0]}"
    if prim is R.getitem or prim is R.result:  # result k of several: v_1[k]
        return f"{operands[0]}[{index_text(params['index'])}]"
    # Leave out parameters at their "nothing special" values (axis=None, keepdims=False).
    shown = [
        f"{k}={v!r}" for k, v in params.items() if v is not None and v is not False
    ]  # fmt: skip
    name = (how.label or how.function) if labelled else how.function
    return f"{name}({', '.join([*operands, *shown])})"


def number_text(value: Any, precision: int = 4, style: str = "f") -> str:
    """A number with ``precision`` digits (fixed ``"f"`` or general ``"g"``), or a short array.

    >>> number_text(0.693147), number_text(2.0, style="g")
    ('0.6931', '2')
    >>> number_text(np.array([1.0, 2.5]))
    '[1.0000, 2.5000]'
    """
    if type(value) is tuple:  # the results of a primitive with several
        return "(" + ", ".join(number_text(v, precision, style) for v in value) + ")"
    if np.ndim(value) == 0:
        x = np.asarray(value).item()
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            return str(x)
        x = float(x)
        if style == "f" and x != 0 and np.isfinite(x) and not 1e-3 <= abs(x) < 1e7:
            return (
                f"{x:.{precision}e}"  # fixed point would show 0.0000 or too many digits
            )
        return f"{x:.{precision}{style}}"
    text = np.array2string(
        np.asarray(value),
        precision=precision,
        separator=", ",
        threshold=6,
        edgeitems=2,
        max_line_width=10**6,
        floatmode="fixed" if style == "f" else "maxprec",
        suppress_small=True,
    )
    return " ".join(line.strip() for line in text.splitlines())


def index_text(index: Any) -> str:
    """``x[index]`` as written in Python: ``1``, ``1:3``, ``..., 0``."""
    if not isinstance(index, tuple):
        index = (index,)
    parts = []
    for i in index:
        if isinstance(i, slice):
            start = "" if i.start is None else i.start
            stop = "" if i.stop is None else i.stop
            step = "" if i.step is None else f":{i.step}"
            parts.append(f"{start}:{stop}{step}")
        elif i is Ellipsis:
            parts.append("...")
        elif i is None:
            parts.append("None")
        else:
            parts.append(number_text(i, style="g"))
    return ", ".join(parts)
