"""Each tutorial page as a Jupyter notebook that a reader downloads and runs.

A tutorial page is a MyST notebook (``docs/tutorials/*.md``). The reader's
notebook is that page less what only the build needs:

- code cells tagged ``remove-cell`` (``from myst_nb import glue`` and the
  ``glue(...)`` calls that put computed numbers into the prose) are dropped;
- code cells tagged ``jax`` (the same computation in JAX, beside the idea)
  become Markdown cells that show the code: the notebook promises to run with
  ``pip install ".[plot]"`` and a Jupyter kernel only, and JAX is not in that;
- MyST roles and directives Jupyter cannot render become plain Markdown, and
  the glued numbers are written into the prose;
- solutions (``hide-cell``) stay collapsed in JupyterLab (``source_hidden``).

Used twice, with one conversion (:func:`reader_notebook`):

- by the docs build (:func:`setup`, a Sphinx extension): the *executed* notebook
  myst-nb wrote, with its outputs, goes to ``_downloads/notebooks/<page>.ipynb``
  in the HTML output, and each tutorial page links to it under its title;
- by ``nox -s notebooks`` (tests/notebooks/run_tutorials.py): the pages are
  converted from their sources (:func:`read_myst`, no Sphinx, no myst-nb) and
  executed in an environment with only the package, matplotlib and a kernel.

Plain dictionaries in the nbformat 4 layout throughout: nothing here imports
Sphinx, myst-nb or nbformat at module level.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# Tutorial pages: docs/tutorials/*.md except the path's index.
FOLDER = "tutorials"
# Where the notebooks go in the HTML output, and the link's text.
OUTPUT = Path("_downloads") / "notebooks"
LINK_TEXT = "Download this page as a Jupyter notebook"

NOTEBOOK_METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}
JAX_NOTE = (
    "**Optional: the same in JAX.** This cell needs JAX (`pip install jax`), which "
    "this notebook does not assume, so it is shown here as text. When the site was "
    "built it ran, and its checks passed. To run it, paste it into a code cell."
)

_CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_OPTIONS_YAML = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_TAGS = re.compile(r"^\s*:?tags:\s*\[([^\]]*)\]", re.M)
_OPTION_LINE = re.compile(r"\A(?::[\w-]+:[^\n]*\n)+")


def _cell(kind: str, source: str, tags: list[str] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": kind,
        "metadata": {"tags": tags} if tags else {},
        "source": source,
    }
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def read_myst(text: str) -> dict[str, Any]:
    """A MyST notebook page (``file_format: mystnb``) as an unexecuted notebook.

    Code cells are the ``{code-cell}`` blocks, with the tags their options give;
    the Markdown between them becomes one Markdown cell each.
    """
    text = _FRONT_MATTER.sub("", text, count=1)
    cells: list[dict[str, Any]] = []
    position = 0
    for match in _CODE_CELL.finditer(text):
        markdown = text[position : match.start()].strip()
        if markdown:
            cells.append(_cell("markdown", markdown))
        body = match[1]
        options = _OPTIONS_YAML.match(body) or _OPTION_LINE.match(body)
        tags: list[str] = []
        if options:
            found = _TAGS.search(options[0])
            if found:
                tags = [tag.strip().strip("'\"") for tag in found[1].split(",")]
            body = body[options.end() :]
        cells.append(_cell("code", body.strip("\n"), [t for t in tags if t]))
        position = match.end()
    markdown = text[position:].strip()
    if markdown:
        cells.append(_cell("markdown", markdown))
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def glued_text(glue: Mapping[str, Any], key: str, spec: str) -> str:
    """What ``{glue:text}`key:spec``` shows: myst-nb's formatting of the glued text."""
    text = glue[key]["data"]["text/plain"]
    try:
        value: Any = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if not spec:
        return str(value)
    if spec[-1] in "bcdoxX":
        value = int(value)
    elif spec[-1] in "eEfFgGn%":
        value = float(value)
    elif spec[-1] == "s":
        value = str(value)
    return format(value, spec)


def plain_markdown(
    text: str,
    glue: Mapping[str, Any] | None = None,
    title: Callable[[str], str] | None = None,
) -> str:
    """MyST Markdown as Markdown that Jupyter renders.

    ``glue`` holds the glued values ({glue:text} roles whose key it lacks stay
    as they are); ``title`` gives the title of a page named by a {doc} role.
    """

    def glued(match: re.Match[str]) -> str:
        key, spec = match[1].rsplit(":", 1) if ":" in match[1] else (match[1], "")
        if glue is None or key not in glue:
            return match[0]
        return glued_text(glue, key, spec)

    def named(match: re.Match[str]) -> str:
        role, content = match[1], match[2]
        labelled = re.fullmatch(r"(.*?)\s*<([^>]*)>", content, re.S)
        label, target = (labelled[1], labelled[2]) if labelled else ("", content)
        if role == "doc":
            shown = label or (title(target) if title else target)
            return f"*{shown}*"
        if role == "term":
            return label or target
        if role.startswith("cite"):
            return "(see the bibliography on the site)"
        shown = label or target.lstrip("~")
        if target.startswith("~"):
            shown = shown.rsplit(".", 1)[-1]
        return f"`{shown}`"

    text = re.sub(r"\{glue:text\}`([^`]*)`", glued, text)
    text = re.sub(r"\{([a-z:]+)\}`([^`]*)`", named, text)
    # Index entries are for the site's index page only.
    text = re.sub(r"^```\{index\}[^\n]*\n```[ \t]*\n?", "", text, flags=re.M)
    # A dropdown (a hint) becomes a bold lead-in to its content.
    text = re.sub(
        r"^:::\{dropdown\}\s*([^\n]*)\n(.*?)^:::[ \t]*$",
        lambda m: f"**{m[1]}.** {m[2].strip()}",
        text,
        flags=re.S | re.M,
    )
    return text


def reader_notebook(
    notebook: Mapping[str, Any],
    glue: Mapping[str, Any] | None = None,
    title: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """The notebook a reader gets: build-only cells out, JAX cells as text (see above)."""
    cells = []
    for cell in notebook["cells"]:
        metadata = dict(cell.get("metadata", {}))
        tags = list(metadata.get("tags", []))
        source = _source(cell)
        if cell["cell_type"] == "code" and "remove-cell" in tags:
            continue
        if cell["cell_type"] == "code" and "jax" in tags:
            cells.append(_cell("markdown", f"{JAX_NOTE}\n\n```python\n{source}\n```"))
            continue
        if cell["cell_type"] == "markdown":
            cells.append(_cell("markdown", plain_markdown(source, glue, title)))
            continue
        if cell["cell_type"] != "code":
            continue
        kept = _cell("code", source, tags)
        kept["metadata"].update(
            {k: v for k, v in metadata.items() if k not in ("tags", "mystnb")}
        )
        if {"hide-cell", "hide-input"} & set(tags):
            kept["metadata"]["jupyter"] = {"source_hidden": True}
        kept["outputs"] = list(cell.get("outputs", []))
        kept["execution_count"] = cell.get("execution_count")
        cells.append(kept)
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"  # nbformat 4.5: every cell has an id
    return {
        "cells": cells,
        "metadata": NOTEBOOK_METADATA,
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def tutorial_docnames(docnames: list[str] | set[str]) -> list[str]:
    """The tutorial pages among a build's documents, in name order."""
    return sorted(
        name
        for name in docnames
        if name.startswith(f"{FOLDER}/") and name != f"{FOLDER}/index"
    )


# -- The Sphinx extension ------------------------------------------------------


def _link_under_title(app: Any, doctree: Any) -> None:
    """Put the notebook's download link under the title of each tutorial page."""
    from docutils import nodes

    docname = app.env.docname
    if docname not in tutorial_docnames([docname]):
        return
    sections = list(doctree.findall(nodes.section))
    if not sections:
        return
    name = docname.rsplit("/", 1)[-1]
    href = "../" * docname.count("/") + f"{OUTPUT.as_posix()}/{name}.ipynb"
    html = (
        '<p class="tutorial-notebook">'
        f'<a class="reference download" href="{href}" download="{name}.ipynb">'
        f"{LINK_TEXT}</a> (<code>{name}.ipynb</code>): it runs with the package "
        'and matplotlib installed (<code>pip install ".[plot]"</code>) and a '
        "Jupyter kernel.</p>"
    )
    title = sections[0].next_node(nodes.title)
    title.parent.insert(
        title.parent.index(title) + 1, nodes.raw("", html, format="html")
    )


def _write_notebooks(app: Any, exception: Exception | None) -> None:
    """Write the reader's notebook of every executed tutorial page into the output."""
    if exception is not None or getattr(app.builder, "format", "") != "html":
        return
    executed = Path(app.env.mystnb_config.output_folder)
    out = Path(app.outdir) / OUTPUT
    out.mkdir(parents=True, exist_ok=True)

    def title(target: str, docname: str) -> str:
        resolved = str(Path(docname).parent / target).replace("\\", "/")
        parts: list[str] = []
        for part in resolved.split("/"):
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        node = app.env.titles.get("/".join(parts))
        return node.astext() if node is not None else target

    for docname in tutorial_docnames(app.env.found_docs):
        notebook_path = executed / f"{docname}.ipynb"
        glue_path = executed / f"{docname}.glue.json"
        notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
        glue = (
            json.loads(glue_path.read_text(encoding="utf-8"))
            if glue_path.is_file()
            else {}
        )
        reader = reader_notebook(
            notebook, glue, lambda target, d=docname: title(target, d)
        )
        name = docname.rsplit("/", 1)[-1]
        (out / f"{name}.ipynb").write_text(
            json.dumps(reader, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-read", _link_under_title)
    app.connect("build-finished", _write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
