"""The package's layers, read from its source: imports point down, none hides in a function.

The import graph is built with :mod:`ast` from the files of ``autodiff_ref`` (nothing
is imported), so a test failure names the file and line of the import that closes a
cycle or hides in a function body. The core sits at the bottom: it imports neither
the rules table nor the NumPy layer, which installs the operators of traced values
from above (as JAX's ``array_methods``).

An import under ``if TYPE_CHECKING:`` counts as an edge like any other. It does not
run, but a type checker follows it, and a cycle through it still says that two
modules each need the other (code generation and the program once did, for an
annotation: code generation now names what it reads with a Protocol instead).
Imports inside a function are refused outright: they hide a cycle from this graph
and from the reader, and run on every call.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

# The package that runs the tests, found without importing it: the checkout's, or the
# installed one when the sdist and wheel sessions test an installed package.
_SPEC = importlib.util.find_spec("autodiff_ref")
assert _SPEC is not None and _SPEC.submodule_search_locations
PACKAGE = Path(next(iter(_SPEC.submodule_search_locations))).resolve()


def _module_name(path: Path) -> str:
    parts = ["autodiff_ref", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
assert MODULES, f"no Python files under {PACKAGE}"  # else every test would be skipped


def _resolve(importer: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package's modules an import statement loads (names, not parents)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "autodiff_ref"]
    if node.level == 0:
        base = node.module or ""
    else:
        here = importer.split(".")
        if MODULES[importer].name != "__init__.py":
            here = here[:-1]  # a module's package
        here = here[: len(here) - (node.level - 1)]
        base = ".".join([*here, node.module] if node.module else here)
    if base.split(".")[0] != "autodiff_ref":
        return []
    # ``from . import rules`` loads the submodule rules; ``from .core import X`` loads core.
    submodules = [
        f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES
    ]
    return submodules or [base]


def _imports(module: str, source: str | None = None) -> list[tuple[str, int, bool]]:
    """(imported module, line, function-local) for each import of the package's own."""
    if source is None:
        source = MODULES[module].read_text(encoding="utf-8")
    tree = ast.parse(source)
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.extend((m, child.lineno, local) for m in _resolve(module, child))
            inner = isinstance(
                child,
                ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda,
            )
            visit(child, local or inner)

    visit(tree, False)
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[frozenset[str]] = []

    def connect(v: str) -> None:  # depth at most the number of modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                components.append(frozenset(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return components


def _edges(include_local: bool) -> dict[str, set[str]]:
    return {
        m: {t for t, _, local in found if t in MODULES and (include_local or not local)}
        for m, found in GRAPH.items()
    }


def test_the_graph_is_read_from_the_source() -> None:
    # The reader must see what it claims to check: known edges, both kinds.
    edges = _edges(include_local=True)
    assert "autodiff_ref.core" in edges["autodiff_ref.rules"]
    assert "autodiff_ref.numpy._ops" in edges["autodiff_ref.numpy._dispatch"]
    assert "autodiff_ref.rules" in edges["autodiff_ref.numpy._ops"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        frozenset("abc")
    ]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_core_imports_no_layer_above_it() -> None:
    imported = {t for t, _, _ in GRAPH["autodiff_ref.core"]}
    assert imported == set(), f"autodiff_ref.core imports {sorted(imported)}"


def _primitives_named(source: str) -> list[tuple[int, str]]:
    """Where a module's code reaches a primitive by name: (line, what), in order.

    A ``rules`` name (the table's module, or anything so called), an import of the
    rules table or of the NumPy layer, and a comparison with some ``.name``.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id == "rules":
            found.append((node.lineno, "the name rules"))
        elif isinstance(node, ast.Attribute) and node.attr == "rules":
            found.append((node.lineno, "an attribute rules"))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            # The package's modules the import names, as "autodiff_ref.x.y".
            names = [a.name for a in node.names]
            if isinstance(node, ast.Import):
                modules = names
            elif node.level:  # relative: from .x import y, or from . import x
                base = "autodiff_ref." + (node.module + "." if node.module else "")
                modules = [base + n for n in names]
            else:
                modules = [f"{node.module}.{n}" for n in names]
            for module in modules:
                parts = module.split(".")
                if parts[0] == "autodiff_ref" and parts[1:2] in (["rules"], ["numpy"]):
                    found.append((node.lineno, "an import of autodiff_ref." + parts[1]))
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Attribute) and o.attr == "name" for o in operands):
                found.append((node.lineno, "a comparison with .name"))
    return sorted(found)


def test_the_core_names_no_primitive() -> None:
    # Issue 22: the core is the mechanism (store rules, call them); every formula that
    # combines tangents with primitives (add, mul, sum_to) lives in the rules layer.
    source = MODULES["autodiff_ref.core"].read_text(encoding="utf-8")
    assert _primitives_named(source) == []


def test_the_primitive_name_reader_can_fail() -> None:
    source = (
        "import numpy as np\n"  # NumPy itself is not the NumPy layer
        "from . import rules\n"
        "from .numpy import sin\n"
        "import autodiff_ref.rules\n"
        "def f(prim, x):\n"
        "    if prim.name == 'sin':\n"
        "        return rules.add(x, x)\n"
        "    return autodiff_ref.rules.mul(x, x)\n"
    )
    assert _primitives_named(source) == [
        (2, "an import of autodiff_ref.rules"),
        (3, "an import of autodiff_ref.numpy"),
        (4, "an import of autodiff_ref.rules"),
        (6, "a comparison with .name"),
        (7, "the name rules"),
        (8, "an attribute rules"),
    ]


def test_the_reader_sees_type_checking_and_local_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from .program import Program\n"
        "def f():\n"
        "    from ..core import bind\n"
    )
    found = _imports("autodiff_ref.program.codegen", source)
    assert found == [
        ("autodiff_ref.program.program", 3, False),  # an edge, at module level
        ("autodiff_ref.core", 5, True),  # function-local
    ]


def test_no_import_cycle() -> None:
    cycles = _cycles(_edges(include_local=True))
    assert cycles == [], "import cycles: " + "; ".join(
        " -> ".join(sorted(c)) for c in cycles
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_function_local_import(module: str) -> None:
    for target, line, local in GRAPH[module]:
        assert not local, (
            f"{MODULES[module]}:{line} imports {target} inside a function; import it "
            "at the top of the module (move a helper to the module it belongs to if "
            "that makes a cycle)"
        )
