"""Code generation: a program written out as the source of a Python function.

Each equation becomes one line.  How a primitive is written is a table keyed by
the Primitive object (:data:`_STATEMENTS`): an operator, a NumPy or ``math``
call, indexing; a primitive that is not in it (a user's rule, a linear-algebra
primitive) calls its own implementation, passed to the function as a global.
"""

from __future__ import annotations

import itertools
import linecache
import math
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import numpy as np

from .. import display
from .. import rules as R
from ..core import Primitive
from .tracing import COMPARISONS, Aval, Equation, Var, aval_of

__all__ = ["compile_source", "to_source"]


class ProgramLike(Protocol):
    """What code generation reads of a :class:`~autodiff_ref.Program`.

    A structural type, not the class: :mod:`autodiff_ref.program.program` imports
    this module to compile its programs, so this module does not import it back.
    """

    name: str
    inputs: list[Var]
    equations: list[Equation]
    outputs: list[Any]
    out_tree: Any

    def names(self) -> dict[int, str]: ...


_SCALAR_KINDS = ("float", "int", "scalar")


def _is_literal(value: Any) -> bool:
    """Whether ``repr(value)`` reads back as an equal value of the same type."""
    if value is None or value is Ellipsis or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) in (tuple, list):
        return all(_is_literal(v) for v in value)
    if type(value) is slice:
        return all(_is_literal(v) for v in (value.start, value.stop, value.step))
    return False


class _Writer:
    """Names constants that cannot be written as literals, and the functions called."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"np": np, "math": math}
        self._ids: dict[int, str] = {}

    def constant(self, value: Any) -> str:
        if _is_literal(value):
            return repr(value)
        if id(value) not in self._ids:
            name = f"c{len(self._ids)}"
            self._ids[id(value)] = name
            self.namespace[name] = value
        return self._ids[id(value)]

    def function(self, prim: Primitive) -> str:
        key = id(prim.impl)
        if key not in self._ids:
            name = (
                f"{prim.name}_impl"
                if prim.name.isidentifier()
                else f"impl{len(self._ids)}"
            )
            while name in self.namespace:
                name += "_"
            self._ids[key] = name
            self.namespace[name] = prim.impl
        return self._ids[key]


def _index_text(index: Any, writer: _Writer) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    if not all(_is_literal(p) for p in parts):
        return writer.constant(index)
    out = []
    for p in parts:
        if type(p) is slice:
            text = "" if p.start is None else repr(p.start)
            text += ":" + ("" if p.stop is None else repr(p.stop))
            text += "" if p.step is None else ":" + repr(p.step)
            out.append(text)
        else:
            out.append("..." if p is Ellipsis else repr(p))
    return ", ".join(out) + (
        "," if isinstance(index, tuple) and len(index) == 1 else ""
    )


def _call(
    function: str, operands: list[str], params: dict[str, Any], writer: _Writer
) -> str:
    keywords = [f"{k}={writer.constant(v)}" for k, v in params.items()]
    return f"{function}({', '.join([*operands, *keywords])})"


class _Site(NamedTuple):
    """What writing one equation needs: its operands' text and abstract values."""

    eq: Equation
    operands: list[str]
    avals: list[Aval]
    writer: _Writer
    numpy_typed: bool  # an operand is a NumPy scalar or array: NumPy's arithmetic
    scalar_floats: bool  # real scalars to a float64 and math allowed: math's functions


# A writer returns the right-hand side, or None for the generic call of the impl.
_Statement = Callable[[_Site], "str | None"]


def _infix(site: _Site) -> str | None:
    if site.eq.params:
        return None
    python = display.notation(site.eq.prim).python
    return f"{site.operands[0]} {python} {site.operands[1]}"


def _neg(site: _Site) -> str:
    return f"-{site.operands[0]}"


def _div(site: _Site) -> str:
    a, b = site.operands
    if site.numpy_typed or site.scalar_floats:
        return f"{a} / {b}"
    return f"np.divide({a}, {b})"  # Python's / raises on a zero Python float


def _reciprocal(site: _Site) -> str:
    (a,) = site.operands
    return (
        f"1.0 / {a}"
        if site.numpy_typed or site.scalar_floats
        else f"np.divide(1.0, {a})"
    )


def _pow(site: _Site) -> str | None:
    exponent = site.eq.args[1]
    if type(exponent) in (int, float) and exponent == 1:
        return site.operands[0]  # what the implementation returns: x itself
    if site.scalar_floats:
        return f"math.pow({site.operands[0]}, {site.operands[1]})"
    if site.avals[0].kind == "array" and site.avals[0].dtype.kind in "fc":
        return f"{site.operands[0]} ** {site.operands[1]}"
    return None


#: Primitives that are one NumPy ufunc (and one ``math`` function on floats).
_UFUNC_NAMES: dict[Primitive, str] = {
    R.exp: "exp", R.log: "log", R.sin: "sin", R.cos: "cos", R.tan: "tan", R.sqrt: "sqrt",
    R.tanh: "tanh",
}  # fmt: skip


def _function(site: _Site) -> str:
    name = _UFUNC_NAMES[site.eq.prim]
    return f"{'math' if site.scalar_floats else 'np'}.{name}({site.operands[0]})"


def _abs(site: _Site) -> str | None:
    if site.scalar_floats:
        return f"math.fabs({site.operands[0]})"
    aval = site.avals[0]
    if aval.dtype.kind in "fi" and aval.kind != "float":
        return f"np.abs({site.operands[0]})"
    return None


def _sum(site: _Site) -> str:
    return _call("np.sum", site.operands, site.eq.params, site.writer)


def _getitem(site: _Site) -> str | None:
    if site.avals[0].kind != "array":
        return None
    return f"{site.operands[0]}[{_index_text(site.eq.params['index'], site.writer)}]"


def _array_only(write: _Statement) -> _Statement:
    """``write`` where the output is an array; else the impl (its ``[()]`` matters for 0-d)."""

    def statement(site: _Site) -> str | None:
        return write(site) if site.eq.out.aval.kind == "array" else None

    return statement


def _reshape(site: _Site) -> str:
    shape = site.writer.constant(site.eq.params["shape"])
    if site.avals[0].kind == "array":
        return f"{site.operands[0]}.reshape({shape})"
    # The shape goes by position: NumPy 2.0 (the oldest we support) names it
    # ``newshape``, 2.1 and later ``shape``.
    return f"np.reshape({site.operands[0]}, {shape})"


def _numpy_call(name: str) -> _Statement:
    def statement(site: _Site) -> str:
        return _call(f"np.{name}", site.operands, site.eq.params, site.writer)

    return statement


def _where(site: _Site) -> str:
    return f"np.where({', '.join(site.operands)})"


def _stack(site: _Site) -> str:
    axis = site.eq.params.get("axis", 0)
    return f"np.stack(({', '.join(site.operands)},), axis={axis!r})"


#: Primitive -> how its equation is written; absent: a call of its implementation.
_STATEMENTS: dict[Primitive, _Statement] = {
    **{p: _infix for p in (R.add, R.sub, R.mul, R.matmul, *COMPARISONS.values())},
    R.neg: _neg,
    R.div: _div,
    R.reciprocal: _reciprocal,
    R.pow: _pow,
    **{p: _function for p in _UFUNC_NAMES},
    R.abs: _abs,
    R.sum: _sum,
    R.getitem: _getitem,
    R.reshape: _array_only(_reshape),
    R.transpose: _array_only(_numpy_call("transpose")),
    R.broadcast_to: _array_only(_numpy_call("broadcast_to")),
    R.where: _array_only(_where),
    R.stack: _array_only(_stack),
}


def _statement(
    eq: Equation, operands: list[str], writer: _Writer, use_math: bool
) -> str:
    """The right-hand side of ``out = ...`` for one equation."""
    write = _STATEMENTS.get(eq.prim)
    if write is not None:
        avals = [a.aval if type(a) is Var else aval_of(a) for a in eq.args]
        scalar_floats = (
            use_math
            and eq.out.aval.shape == ()
            and eq.out.aval.dtype == np.float64
            and all(v.kind in _SCALAR_KINDS and v.dtype.kind in "if" for v in avals)
        )
        numpy_typed = any(v.kind in ("scalar", "array") for v in avals)
        text = write(_Site(eq, operands, avals, writer, numpy_typed, scalar_floats))
        if text is not None:
            return text
    return _call(writer.function(eq.prim), operands, eq.params, writer)


def _is_basic_scatter(eq: Equation) -> bool:
    return (
        eq.prim is R.scatter_add
        and eq.out.aval.kind == "array"
        and R._is_basic_index(eq.params["index"])
        and all(_is_literal(p) for p in _index_parts(eq.params["index"]))
    )


def _index_parts(index: Any) -> tuple[Any, ...]:
    return index if isinstance(index, tuple) else (index,)


def to_source(program: ProgramLike, use_math: bool) -> tuple[str, dict[str, Any]]:
    """The program as a function's source, and the globals that source reads."""
    names = program.names()
    writer = _Writer()

    def operand(a: Any) -> str:
        if type(a) is Var:
            return names[id(a)]
        text = writer.constant(a)
        return f"({text})" if text.startswith("-") else text

    arguments = ", ".join(names[id(v)] for v in program.inputs)
    lines = [f"def {program.name}({arguments}):"]
    reusable = _reusable_buffers(program)
    for k, eq in enumerate(program.equations):
        out = ", ".join(names[id(v)] for v in eq.outs)  # several results: unpacked
        operands = [operand(a) for a in eq.args]
        if _is_basic_scatter(
            eq
        ):  # what _scatter_add does, without the call and the check
            shape = writer.constant(eq.params["shape"])
            dtype = writer.constant(eq.out.aval.dtype.name)
            index = _index_text(eq.params["index"], writer)
            lines.append(f"    {out} = np.zeros({shape}, {dtype})")
            lines.append(f"    {out}[{index}] = {operands[0]}")
            continue
        buffer = reusable.get(k)
        if buffer is not None:  # write into an array nothing reads any more
            ufunc = _UFUNCS[eq.prim]
            if eq.prim is R.reciprocal:
                operands = ["1.0", *operands]
            lines.append(
                f"    {out} = {ufunc}({', '.join(operands)}, out={names[id(buffer)]})"
            )
            continue
        lines.append(f"    {out} = {_statement(eq, operands, writer, use_math)}")
    outs = iter([operand(o) for o in program.outputs])
    lines.append(f"    return {_structure(program.out_tree, outs, writer)}")
    return "\n".join(lines) + "\n", writer.namespace


# Primitives computed by one NumPy ufunc, which can write into a given array.
_UFUNCS: dict[Primitive, str] = {
    R.add: "np.add", R.sub: "np.subtract", R.mul: "np.multiply", R.div: "np.divide",
    R.neg: "np.negative", R.reciprocal: "np.divide",
    **{p: f"np.{name}" for p, name in _UFUNC_NAMES.items()},
}  # fmt: skip
# Primitives whose generated code returns a new array (not a view of an argument).
_FRESH = {*_UFUNCS, R.pow, R.matmul, R.scatter_add, R.where, R.stack, R.concatenate}


def _makes_new_array(eq: Equation) -> bool:
    """Whether the equation's code makes a new array (x ** 1 is x itself)."""
    if eq.prim is R.pow and type(eq.args[1]) in (int, float) and eq.args[1] == 1:
        return False
    return eq.prim in _FRESH


def _owned_arrays(program: ProgramLike) -> tuple[set[int], dict[int, int]]:
    """The arrays the program made and never views (by id), and each variable's last reader."""
    last_use: dict[int, int] = {}
    owned: set[int] = set()
    for k, eq in enumerate(program.equations):
        fresh = _makes_new_array(eq)
        for a in eq.args:
            if type(a) is Var:
                last_use[id(a)] = k
                if not fresh:  # it may be viewed (x[1:], a reshape): never overwrite it
                    owned.discard(id(a))
        if fresh and eq.out.aval.kind == "array":
            owned.add(id(eq.out))
    owned.difference_update(id(o) for o in program.outputs if type(o) is Var)
    return owned, last_use


def _reusable_buffers(program: ProgramLike) -> dict[int, Var]:
    """For each equation that can write into the array of an argument, that argument.

    The array must be one the program made itself (not an input, and never
    looked at through a view such as ``x[1:]``), of the output's shape and
    dtype, and this equation must be its last reader.  Writing into it gives
    the same numbers and saves allocating (and first touching) a new array,
    which is much of the cost of an elementwise operation on a large array.
    """
    owned, last_use = _owned_arrays(program)
    reusable: dict[int, Var] = {}
    for k, eq in enumerate(program.equations):
        if eq.prim not in _UFUNCS:
            continue
        out = eq.out.aval
        if out.kind != "array" or out.dtype.kind != "f":
            continue
        for a in eq.args:
            if (
                type(a) is Var
                and id(a) in owned
                and last_use[id(a)] == k
                and a.aval == out
            ):
                reusable[k] = a
                owned.add(id(eq.out))  # the same array, under a new name
                break
    return reusable


def _structure(treedef: Any, leaves: Any, writer: _Writer) -> str:
    """The output's containers (a pytree's structure) written around its leaves' names."""
    kind = treedef.kind
    if kind == "leaf":
        return str(next(leaves))
    if kind == "none":
        return "None"
    parts = [_structure(child, leaves, writer) for child in treedef.children]
    if kind == "list":
        return f"[{', '.join(parts)}]"
    if kind == "dict":
        items = (
            f"{writer.constant(k)}: {p}"
            for k, p in zip(treedef.meta, parts, strict=True)
        )
        return "{" + ", ".join(items) + "}"
    if kind == "namedtuple":
        return f"{writer.constant(treedef.meta)}({', '.join(parts)})"
    return f"({', '.join(parts)}{',' if len(parts) == 1 else ''})"


_sources = itertools.count()


def compile_source(
    source: str, namespace: dict[str, Any], name: str
) -> Callable[..., Any]:
    """Compile generated source and return the function ``name`` it defines."""
    namespace = dict(namespace)
    filename = f"<autodiff_ref program {next(_sources)}>"
    exec(compile(source, filename, "exec"), namespace)  # our own generated code
    # Keep the text findable for tracebacks and inspect.getsource.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    function: Callable[..., Any] = namespace[name]  # the source defines it with def
    return function
