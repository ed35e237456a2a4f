"""What the transforms take and give: inputs checked and copied, outputs checked.

The transforms of :mod:`autodiff_ref.transforms` share these checks, so each
refusal is worded once: a boolean, string or ragged input, an output that is
not differentiable data, a complex number where only a real one makes sense,
an ``argnums`` out of range.  They also fix the dtypes of derivatives: a
derivative has its input's float type (float32 in, float32 out).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .core import Tracer, primal_value, shape_of, substituting_impls
from .tree import PyTreeDef, describe, tree_flatten, tree_leaves, tree_unflatten

ArgNums = int | Sequence[int]


def _as_input(x: Any, transform: str) -> Any:
    """A differentiable input: floats and float arrays, ints as floats, arrays copied.

    The copy means no output of a transform is the caller's own array (the
    identity function's jvp would otherwise hand back its argument).
    """
    # The common cases first, answered as the general path below would answer them.
    if type(x) is float:
        return x
    if type(x) is np.ndarray and x.dtype.kind in "fc":
        return np.array(x)  # a copy in the same memory order (K), as below
    if isinstance(x, Tracer):
        return x
    if isinstance(x, bool | np.bool_):
        raise TypeError(
            f"{transform} cannot differentiate with respect to a boolean; "
            "pass a float, or move the flag out of the differentiated arguments (argnums)"
        )
    if isinstance(x, numbers.Integral):
        return float(x)
    if isinstance(x, numbers.Number):
        return x
    try:
        arr = np.array(x)
    except TypeError:
        raise
    except Exception as exc:  # ragged lists and the like
        raise TypeError(
            f"{transform} needs numbers or arrays as inputs: {exc}"
        ) from None
    if arr.dtype.kind == "b":
        raise TypeError(
            f"{transform} cannot differentiate with respect to a boolean array; "
            "convert it with x.astype(float) if you mean it"
        )
    if arr.dtype.kind in "iu":
        return arr.astype(float)
    if arr.dtype.kind not in "fc":
        raise TypeError(
            f"{transform} needs numbers or numeric arrays as inputs, "
            f"got {type(x).__name__} (dtype {arr.dtype})"
        )
    return arr


def _input_leaves(x: Any, transform: str) -> tuple[list[Any], PyTreeDef]:
    """The leaves of an input (an array, or a pytree of them) and its structure."""
    leaves, treedef = tree_flatten(x)
    return [_as_input(leaf, transform) for leaf in leaves], treedef


def _as_input_tree(x: Any, transform: str) -> Any:
    """An input with every leaf checked (and integers made floats)."""
    leaves, treedef = _input_leaves(x, transform)
    return tree_unflatten(treedef, leaves)


def _is_data(leaf: Any) -> bool:
    """Whether an output leaf is a number, a numeric array or a traced value."""
    if isinstance(leaf, Tracer | numbers.Number):
        return True
    return isinstance(leaf, np.ndarray | np.generic) and leaf.dtype.kind in "biufc"


def _check_outputs(leaves: Sequence[Any], out: Any) -> None:
    """Refuse outputs that are not differentiable data, naming what was returned."""
    for leaf in leaves:
        if not _is_data(leaf):
            where = "" if leaf is out else f" inside its output {describe(out)}"
            raise TypeError(
                f"f returned {describe(leaf)}{where}, which is not "
                "differentiable data; return numbers, arrays, or tuples, lists, dicts "
                "or namedtuples of them"
            )


def _value(x: Any) -> Any:
    """The plain value inside ``x``; None for a symbolic expression, which has none."""
    try:
        return primal_value(x)
    except TypeError:
        return None


def _dtype(x: Any) -> np.dtype | None:
    """The dtype of a NumPy value; None for Python numbers, which take any float type."""
    x = _value(x)
    if isinstance(x, Tracer):  # an abstract value (a staged program's): its type only
        # float64 stays None, as for Python numbers: its seeds are the Python 1.0 and
        # 0.0 that simplify folds away; float32 and the others keep their type.
        variable = getattr(x, "variable", None)  # a ProgramValue's (not vmap's)
        if variable is None:
            return None
        python_number = variable.aval.kind in ("bool", "int", "float", "complex")
        return None if python_number or x.dtype == np.float64 else x.dtype
    return x.dtype if isinstance(x, np.ndarray | np.generic) else None


def _float_dtype(x: Any) -> np.dtype:
    """The dtype derivatives of ``x`` get: its own if inexact, else float64."""
    if type(x) is np.ndarray:  # the common case, without the general lookups
        dtype = x.dtype
        return dtype if dtype.kind in "fc" else np.dtype(float)
    dtype = _dtype(x)
    if dtype is None:
        return np.dtype(complex if isinstance(_value(x), complex) else float)
    return dtype if dtype.kind in "fc" else np.dtype(float)


def _ones_like(x: Any) -> Any:
    if not shape_of(x) and _dtype(x) is None:  # scalar graphs stay Python numbers
        return 1.0 + 0j if isinstance(_value(x), complex) else 1.0
    return np.ones(shape_of(x), dtype=_float_dtype(x))[()]


def _zeros_like(x: Any) -> Any:
    if not shape_of(x) and _dtype(x) is None:
        return 0j if isinstance(_value(x), complex) else 0.0
    return np.zeros(shape_of(x), dtype=_float_dtype(x))[()]


def _check_input_dtypes(
    leaves: Sequence[Any], transform: str, holomorphic: bool = False
) -> None:
    """JAX's checks of the inputs' dtypes for grad, jacfwd and jacrev, and its words.

    ``holomorphic=True`` needs complex inputs. Without it, grad and jacrev take
    complex inputs (of a real-valued function: JAX's convention gives the
    conjugate of the direction of steepest ascent), and jacfwd refuses them: its
    columns would push only real directions through.
    """
    for x in leaves:
        dtype = _float_dtype(x)
        if holomorphic and dtype.kind != "c":
            raise TypeError(
                f"{transform} with holomorphic=True requires inputs with complex "
                f"dtype, but got {dtype.name}."
            )
        if not holomorphic and dtype.kind == "c" and transform == "jacfwd":
            raise TypeError(
                "jacfwd requires real-valued inputs (input dtype that is a sub-dtype "
                f"of np.floating), but got {dtype.name}. For holomorphic "
                "differentiation, pass holomorphic=True. For differentiation of "
                "non-holomorphic functions involving complex inputs or integer inputs, "
                "use autodiff_ref.jvp directly."
            )


def _check_output_dtype(out: Any, transform: str, holomorphic: bool = False) -> None:
    """JAX's check of an output's dtype: complex exactly when ``holomorphic``.

    jacfwd checks only holomorphic outputs (a real function may have complex
    values: its columns are the tangents); grad and jacrev need a real output
    unless ``holomorphic``, since the cotangent of a complex output is a choice.
    """
    dtype = _float_dtype(out)
    if holomorphic and dtype.kind != "c":
        raise TypeError(
            f"{transform} with holomorphic=True requires outputs with complex dtype, "
            f"but got {dtype.name}."
        )
    if not holomorphic and dtype.kind == "c" and transform != "jacfwd":
        raise TypeError(
            f"{transform} requires real-valued outputs (output dtype that is a "
            f"sub-dtype of np.floating), but got {dtype.name}. For holomorphic "
            "differentiation, pass holomorphic=True. For differentiation of "
            "non-holomorphic functions involving complex outputs, use "
            "autodiff_ref.vjp directly."
        )


def _is_complex(leaf: Any) -> bool:
    value = _value(leaf)  # None for a symbolic expression: a real scalar
    if isinstance(value, complex | np.complexfloating):
        return True
    return getattr(value, "dtype", np.dtype(float)).kind == "c"


def _kind_of(leaf: Any) -> str:
    value = _value(leaf)
    dtype = getattr(value, "dtype", None)
    shape = shape_of(leaf)
    if dtype is None:
        return f"a {type(value).__name__} number"
    return f"a {dtype} array of shape {shape}" if shape else f"a {dtype} number"


def refuse_complex(function: str, *values: Any) -> None:
    """Refuse complex input to ``function``, which would give a wrong number for it.

    The one check of every function that does not handle complex numbers yet
    (those that need a conjugate, a modulus or a complex eigen-decomposition):
    a clear error instead of a silently wrong value or derivative.  Inside
    :func:`~autodiff_ref.numerical.complex_step_stand_ins` a complex number is a
    complex *step* of a real input, and every function is the analytic
    continuation of its real version, which is what the step needs: no refusal.
    """
    if substituting_impls():
        return
    for leaf in tree_leaves(list(values)):
        if _is_complex(leaf):
            raise TypeError(
                f"{function} does not support complex input yet (got {_kind_of(leaf)}): "
                "it would give a wrong value or derivative; "
                "write the function in the real and imaginary parts as separate real "
                "arrays instead (x + 1j * y with real x and y)"
            )


class array_writes_explained:
    """Around a call of the user's function: say so when it wrote a tracer into an array.

    ``a[0] = x`` with a traced ``x`` makes NumPy call ``float(x)``, which refuses
    (it would drop the derivative); but a tracer can be indexed, so NumPy takes it
    for a sequence and replaces that refusal with "setting an array element with a
    sequence", keeping the refusal only as the cause.  Put the cause back in front.
    (A class, not a generator with contextlib: it is entered once per gradient, and
    the generator's context manager cost more than the small gradients' operations.)
    """

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if kind is None or not issubclass(kind, ValueError):
            return
        # A tracer's (or an abstract value's) refusal of float():
        cause = error.__cause__
        if not (isinstance(cause, TypeError) and "array element with a" in str(error)):
            return
        raise TypeError(
            "a NumPy array cannot hold a traced value (a[i] = x writes float(x) into "
            "it): that would drop its derivative; build the array from traced values "
            "with autodiff_ref.numpy.stack, autodiff_ref.numpy.concatenate or "
            "autodiff_ref.numpy.where "
            f"instead. NumPy said: {error} ({cause})"
        ) from error


def _check_tuple(name: str, value: Any, example: str) -> tuple[Any, ...]:
    if not isinstance(value, tuple | list):
        raise TypeError(
            f"{name} must be a tuple, e.g. {example}; got {type(value).__name__}"
        )
    return tuple(value)


def _is_int(value: object) -> bool:
    """An int that is not a bool: what ``order``, ``argnums`` and the like must be.

    Annotations are not checked at run time, so a user's argument is; the test
    takes an ``object`` because mypy, trusting the annotation, would call an
    inline ``isinstance(order, int)`` redundant (``redundant-expr``).
    """
    return isinstance(value, int) and not isinstance(value, bool)


def _normalize_argnums(
    f: Callable[..., Any], argnums: ArgNums, transform: str
) -> tuple[int, ...]:
    nums: tuple[Any, ...] = (argnums,) if isinstance(argnums, int) else ()
    if isinstance(
        argnums, Sequence
    ):  # anything else stays () and is refused just below
        nums = tuple(argnums)
    if not nums or not all(_is_int(i) for i in nums):
        raise TypeError(
            f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}"
        )
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return nums
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return nums
    arity = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    for i in nums:
        if not -arity <= i < arity:
            raise ValueError(
                f"{transform}: argnums {i} is out of range for "
                f"{getattr(f, '__name__', 'f')}, which takes {arity} positional "
                f"argument{'s' if arity != 1 else ''} (valid: 0 to {arity - 1})"
            )
    return nums


def _split_args(
    args: Sequence[Any], nums: tuple[int, ...], transform: str
) -> tuple[list[Any], Callable[..., list[Any]]]:
    """The differentiated arguments, and a way to put new values in their places."""
    flat, with_values = _split_args_flat(args, nums, transform)
    return [tree_unflatten(d, leaves) for leaves, d in flat], with_values


def _split_args_flat(
    args: Sequence[Any], nums: tuple[int, ...], transform: str
) -> tuple[list[tuple[list[Any], PyTreeDef]], Callable[..., list[Any]]]:
    """:func:`_split_args` with each argument as its checked leaves and structure.

    For a transform that works on the leaves (reverse mode records one node per
    leaf): the arguments are flattened once, not once to check them and again
    to record them.
    """
    n = len(args)
    for i in nums:
        if not -n <= i < n:
            raise ValueError(
                f"{transform}: argnums {i} is out of range: the function was called "
                f"with {n} positional argument{'s' if n != 1 else ''}"
            )
    positions = [i % n for i in nums]
    if len(set(positions)) != len(positions):  # the later one would silently win
        raise ValueError(
            f"{transform}: argnums {nums} names the same argument more than once; "
            "list each argument once"
        )

    def with_values(*values: Any) -> list[Any]:
        full = list(args)
        for i, v in zip(positions, values, strict=True):
            full[i] = v
        return full

    return [_input_leaves(args[i], transform) for i in positions], with_values


def _check_scalar_output(out: Any, transform: str, holomorphic: bool = False) -> None:
    # A traced value or an array is a leaf: only other outputs need flattening.
    if out is None or (
        not isinstance(out, Tracer | np.ndarray) and not tree_flatten(out)[1].is_leaf
    ):
        shown = "None" if out is None else f"a {type(out).__name__}"
        raise TypeError(
            f"{transform} needs a real scalar output, but f returned {shown}; "
            "use jacrev (the whole Jacobian) or vjp (one cotangent) instead"
        )
    if shape_of(out) != ():
        raise TypeError(
            f"{transform} needs a scalar output, but f returned shape {shape_of(out)}; "
            "use jacrev (the whole Jacobian) or vjp (one cotangent) instead"
        )
    value = _value(out)
    kind = getattr(value, "dtype", np.dtype(float)).kind
    if isinstance(value, bool | numbers.Integral) or kind in "biu":
        raise TypeError(
            f"{transform} needs a real floating-point scalar output, but f returned "
            f"{value!r} (type {type(value).__name__}), which has no derivative; "
            "return a float (a "
            "comparison or an integer count is constant almost everywhere: "
            "differentiate a smooth stand-in for it instead)"
        )
    _check_output_dtype(out, transform, holomorphic)


def input_names(
    f: Callable[..., Any], n: int, names: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Names for ``f``'s ``n`` inputs: ``names``, else its parameter names, else x1..xn.

    >>> input_names(lambda x, y: x * y, 2)
    ('x', 'y')
    >>> input_names(lambda *a: a[0], 2)
    ('x1', 'x2')
    """
    if names is not None:
        names = tuple(names)
        if len(names) != n or not all(isinstance(s, str) for s in names):
            raise ValueError(f"names must be {n} strings, one per input; got {names!r}")
        return names
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        params = []
    positional = [
        p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) >= n:
        return tuple(positional[:n])
    return tuple(f"x{k}" for k in range(1, n + 1))
