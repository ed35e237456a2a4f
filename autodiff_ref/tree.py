"""Pytrees: nested containers of arrays, flattened to a list of leaves and a structure.

Every transform accepts its inputs, outputs, tangents and cotangents as
*pytrees*, as JAX does: ``grad(loss)({"w": W, "b": b})`` returns
``{"w": dW, "b": db}``.  The containers are tuples, lists, dicts (any
hashable keys), namedtuples and the classes registered with
:func:`register_pytree_node`, nested in any way; ``None`` is an empty
subtree (it has no leaves).  Anything else is a *leaf*.

One difference from JAX: a dict is flattened in its *insertion order*, not
with its keys sorted, so a gradient comes back with its keys in the order the
caller wrote them.  Two dicts with the same keys in a different order have
different structures (``!=``), but a tangent or cotangent may still list its
keys in any order: it is matched to its primal's structure by key
(:func:`tree_leaves_like`).

>>> leaves, treedef = tree_flatten({"w": (1.0, 2.0), "b": None, "c": [3.0]})
>>> leaves
[1.0, 2.0, 3.0]
>>> treedef
PyTreeDef({'w': (*, *), 'b': None, 'c': [*]})
>>> tree_unflatten(treedef, [10.0, 20.0, 30.0])
{'w': (10.0, 20.0), 'b': None, 'c': [30.0]}
>>> tree_map(lambda x: 2 * x, {"a": 1.0, "b": [2.0]})
{'a': 2.0, 'b': [4.0]}
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = [
    "PyTreeDef",
    "register_pytree_node",
    "tree_flatten",
    "tree_leaves",
    "tree_leaves_like",
    "tree_map",
    "tree_unflatten",
]


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class PyTreeDef:
    """The structure of a pytree: its containers, with a ``*`` for each leaf.

    ``kind`` is ``"leaf"``, ``"none"``, ``"tuple"``, ``"list"``, ``"dict"``,
    ``"namedtuple"`` or ``"custom"``; ``meta`` is a dict's keys, a namedtuple's
    class, or a registered class with its auxiliary data ``(cls, aux_data)``;
    ``children`` are the structures of the items.  Structures compare with
    ``==`` and hash, so they can be checked and used as keys.
    """

    __slots__ = ("children", "kind", "meta", "num_leaves")

    def __init__(
        self, kind: str, meta: Any = None, children: tuple[PyTreeDef, ...] = ()
    ):
        self.kind, self.meta, self.children = kind, meta, children
        self.num_leaves: int = (
            1 if kind == "leaf" else sum(c.num_leaves for c in children)
        )

    def _key(self) -> tuple[str, Any, tuple[PyTreeDef, ...]]:
        return (self.kind, self.meta, self.children)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PyTreeDef) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"PyTreeDef({self._show()})"

    def _show(self) -> str:
        items = [c._show() for c in self.children]
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        if self.kind == "list":
            return "[" + ", ".join(items) + "]"
        if self.kind == "dict":
            return (
                "{"
                + ", ".join(
                    f"{k!r}: {v}" for k, v in zip(self.meta, items, strict=True)
                )
                + "}"
            )
        if self.kind == "custom":
            cls, aux = self.meta
            return f"CustomNode({cls.__name__}[{aux!r}], [{', '.join(items)}])"
        inner = ", ".join(items) + (
            "," if len(items) == 1 and self.kind == "tuple" else ""
        )
        return (
            f"{self.meta.__name__}({inner})"
            if self.kind == "namedtuple"
            else f"({inner})"
        )

    @property
    def is_leaf(self) -> bool:
        """True for the structure of a single leaf (no container around it)."""
        return self.kind == "leaf"


LEAF = PyTreeDef("leaf")
_NONE = PyTreeDef("none")

#: Registered container classes: cls -> (flatten, unflatten).
_REGISTRY: dict[type, tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]] = {}


def _is_callable(f: object) -> bool:
    """callable(f), for arguments whose annotation says Callable: a caller may not."""
    return callable(f)


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Sequence[Any], Any]],
    unflatten_func: Callable[[Any, Sequence[Any]], Any],
) -> None:
    """Make instances of ``nodetype`` containers, as JAX's function of the same name.

    ``flatten_func(x)`` returns ``(children, aux_data)``: the values inside
    ``x`` (each a pytree itself) and whatever else is needed to rebuild it,
    which must be hashable and comparable with ``==`` (it is part of the
    structure). ``unflatten_func(aux_data, children)`` rebuilds an instance.
    Every transform then takes, returns and differentiates such objects.

    Parameters
    ----------
    nodetype : type
        The class (exactly this class: subclasses are not included).
    flatten_func : callable
        ``x -> (children, aux_data)``.
    unflatten_func : callable
        ``(aux_data, children) -> x``.

    Examples
    --------
    >>> import autodiff_ref as ad
    >>> class Point:
    ...     def __init__(self, x, y):
    ...         self.x, self.y = x, y
    >>> register_pytree_node(
    ...     Point, lambda p: ((p.x, p.y), None), lambda aux, xy: Point(*xy)
    ... )
    >>> g = ad.grad(lambda p: p.x * p.y)(Point(2.0, 3.0))
    >>> g.x, g.y
    (3.0, 2.0)
    """
    if not isinstance(nodetype, type):
        raise TypeError(f"register_pytree_node needs a class, got {nodetype!r}")
    if nodetype in (tuple, list, dict, type(None)) or nodetype in _REGISTRY:
        raise ValueError(f"{nodetype.__name__} is already a pytree node type")
    if not (_is_callable(flatten_func) and _is_callable(unflatten_func)):
        raise TypeError("register_pytree_node needs two functions: flatten, unflatten")
    _REGISTRY[nodetype] = (flatten_func, unflatten_func)


def _children(tree: Any) -> tuple[str, Any, Sequence[Any]] | None:
    """``(kind, meta, items)`` of a container, or None for a leaf."""
    kind = type(tree)
    if kind is tuple:
        return "tuple", None, tree
    if kind is list:
        return "list", None, tree
    if kind is dict:
        return "dict", tuple(tree), tuple(tree.values())
    if _is_namedtuple(tree):
        return "namedtuple", kind, tree
    registered = _REGISTRY.get(kind) if _REGISTRY else None  # leaves are many
    if registered is not None:
        children, aux = registered[0](tree)
        return "custom", (kind, aux), tuple(children)
    return None


# The walks below are module-level functions that pass their accumulators along:
# a recursive closure is a reference cycle (the function holds the cell that holds
# it), which would keep every leaf -- a reverse-mode graph -- alive until the gc runs.
def tree_flatten(tree: Any) -> tuple[list[Any], PyTreeDef]:
    """The leaves of ``tree`` (depth first, dicts in insertion order) and its structure.

    >>> tree_flatten([1.0, (2.0, None)])
    ([1.0, 2.0], PyTreeDef([*, (*, None)]))
    """
    leaves: list[Any] = []
    return leaves, _flatten_into(tree, leaves, 0)


#: How deeply containers may nest: far beyond any real argument, and well inside
#: Python's recursion limit, so a list that contains itself is named, not a crash.
MAX_DEPTH = 200


def _flatten_into(node: Any, leaves: list[Any], depth: int) -> PyTreeDef:
    if node is None:
        return _NONE
    node_type = type(node)
    if (node_type is np.ndarray or node_type is float) and node_type not in _REGISTRY:
        leaves.append(node)  # the common leaves, without _children's lookups
        return LEAF
    parts = _children(node)
    if parts is None:
        leaves.append(node)
        return LEAF
    if depth >= MAX_DEPTH:
        raise ValueError(
            f"a pytree (tuples, lists, dicts) nested more than {MAX_DEPTH} levels deep, "
            f"here a {type(node).__name__}: does a container contain itself? Pass the "
            "arrays in a flat tuple or dict, or stack them into one array"
        )
    kind, meta, items = parts
    return PyTreeDef(
        kind, meta, tuple([_flatten_into(item, leaves, depth + 1) for item in items])
    )


def tree_unflatten(treedef: PyTreeDef, leaves: Sequence[Any]) -> Any:
    """The tree of structure ``treedef`` with ``leaves`` in its leaves' places.

    >>> leaves, treedef = tree_flatten({"a": 1.0, "b": (2.0, 3.0)})
    >>> tree_unflatten(treedef, ["x", "y", "z"])
    {'a': 'x', 'b': ('y', 'z')}
    """
    if not isinstance(treedef, PyTreeDef):
        raise TypeError(
            "tree_unflatten needs the structure that tree_flatten returns (a PyTreeDef) "
            f"as its first argument, got {type(treedef).__name__} ({treedef!r:.40})"
        )
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"{treedef} has {treedef.num_leaves} leaves, but {len(leaves)} were given"
        )
    return _build(treedef, iter(leaves))


def _build(node: PyTreeDef, leaves: Iterator[Any]) -> Any:
    if node.kind == "leaf":
        return next(leaves)
    if node.kind == "none":
        return None
    items = [_build(c, leaves) for c in node.children]
    if node.kind == "tuple":
        return tuple(items)
    if node.kind == "list":
        return items
    if node.kind == "dict":
        return dict(zip(node.meta, items, strict=True))
    if node.kind == "custom":
        cls, aux = node.meta
        return _REGISTRY[cls][1](aux, items)
    return node.meta(*items)  # a namedtuple's class


def tree_leaves(tree: Any) -> list[Any]:
    """The leaves of ``tree``, as :func:`tree_flatten` orders them.

    >>> tree_leaves({"a": [1.0, 2.0], "b": None})
    [1.0, 2.0]
    """
    return tree_flatten(tree)[0]


def tree_leaves_like(treedef: PyTreeDef, tree: Any, what: str = "tree") -> list[Any]:
    """The leaves of ``tree`` in the order of ``treedef``, which it must have.

    A dict may list its keys in any order: its items are taken by key. Any other
    difference raises a ValueError that shows both structures.

    >>> _, treedef = tree_flatten({"w": 1.0, "b": 2.0})
    >>> tree_leaves_like(treedef, {"b": 20.0, "w": 10.0})
    [10.0, 20.0]
    """
    leaves: list[Any] = []
    if not _leaves_like(treedef, tree, leaves):
        raise ValueError(
            f"the {what} must have the structure {treedef}, but it has the structure "
            f"{tree_flatten(tree)[1]}"
        )
    return leaves


def _leaves_like(node: PyTreeDef, sub: Any, leaves: list[Any]) -> bool:
    if node.kind == "leaf":
        if sub is None or _children(sub) is not None:
            return False
        leaves.append(sub)
        return True
    if node.kind == "none":
        return sub is None
    parts = _children(sub)
    if parts is None or parts[0] != node.kind:
        return False
    kind, meta, items = parts
    if kind == "dict":
        if set(meta) != set(node.meta):
            return False
        items = [sub[k] for k in node.meta]
    elif meta != node.meta or len(items) != len(node.children):
        return False
    return all(
        _leaves_like(c, item, leaves)
        for c, item in zip(node.children, items, strict=True)
    )


# -- a function argument, checked when it is given ----------------------------------
# tree_map is the lowest function of the package that takes a function, so the check
# (worded once for every transform) lives here, below autodiff_ref.arguments.
def describe(x: Any) -> str:
    """``x`` in an error message: its type with an article, and its repr cut short."""
    text, kind = repr(x), type(x).__name__
    article = "an" if kind[0] in "aeiouAEIOU" else "a"
    return f"{article} {kind} ({text if len(text) <= 60 else text[:57] + '...'})"


def require_callable(f: Any, transform: str) -> None:
    """Refuse a non-callable ``f`` when it is wrapped, not later when it is called."""
    if not callable(f):
        raise TypeError(
            f"{transform} needs a function as its first argument, but got "
            f"{describe(f)}; pass the function itself, e.g. {transform}(f), "
            f"not {transform}(f(x))"
        )


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """``f`` applied to each leaf of ``tree`` (and the matching leaves of ``rest``).

    >>> tree_map(lambda x, y: x + y, (1.0, [2.0]), (10.0, [20.0]))
    (11.0, [22.0])
    """
    require_callable(f, "tree_map")
    leaves, treedef = tree_flatten(tree)
    others = [tree_leaves_like(treedef, r, "tree given to tree_map") for r in rest]
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others, strict=True)])
