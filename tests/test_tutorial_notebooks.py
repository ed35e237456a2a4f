"""The conversion of a tutorial page into the notebook a reader downloads.

docs/_ext/tutorial_notebooks.py is both a Sphinx extension (the build writes the
executed notebooks) and the converter ``nox -s notebooks`` runs; these tests
check the conversion itself, on small pages and on every tutorial page.
``nox -s notebooks`` then executes the pages in an environment with only the
package, matplotlib and a Jupyter kernel.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import tutorial_notebooks as tn  # noqa: E402  (docs/_ext is not a package)

PAGES = sorted(p for p in (DOCS / "tutorials").glob("*.md") if p.stem != "index")

SMALL_PAGE = """---
file_format: mystnb
---

# Title

See {doc}`derivatives` and {func}`~autodiff_ref.numerical.derivative`; a
{term}`gradient <gradient vector>`. The error is {glue:text}`err:.1e`.

```{index} ! dual number
```

```{code-cell} ipython3
import numpy as np
```

```{code-cell} ipython3
:tags: [remove-cell]

from myst_nb import glue
glue("err", 0.000123, display=False)
```

:::{dropdown} Hint
Use the product rule.
:::

```{code-cell} ipython3
---
tags: [hide-cell, jax]
mystnb:
  code_prompt_show: "Show solution"
---
import jax
```

```{code-cell} ipython3
---
tags: [hide-cell]
---
x = 2
```
"""


def test_read_myst_splits_cells_and_reads_both_tag_syntaxes() -> None:
    nb = tn.read_myst(SMALL_PAGE)
    kinds = [cell["cell_type"] for cell in nb["cells"]]
    assert kinds == ["markdown", "code", "code", "markdown", "code", "code"]
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    assert code[0]["source"] == "import numpy as np"
    assert code[1]["metadata"]["tags"] == ["remove-cell"]
    assert code[1]["source"].startswith("from myst_nb import glue")
    assert code[2]["metadata"]["tags"] == ["hide-cell", "jax"]
    assert code[2]["source"] == "import jax"
    assert code[3]["metadata"]["tags"] == ["hide-cell"]
    assert "file_format" not in nb["cells"][0]["source"]


def test_reader_notebook_drops_build_only_code_and_shows_jax_as_text() -> None:
    glue = {"err": {"data": {"text/plain": "0.000123"}}}
    titles = {"derivatives": "What is a derivative?"}
    reader = tn.reader_notebook(tn.read_myst(SMALL_PAGE), glue, titles.__getitem__)
    sources = [cell["source"] for cell in reader["cells"]]
    assert not any("myst_nb" in source or "glue(" in source for source in sources)
    first = sources[0]
    assert "*What is a derivative?*" in first
    assert "`derivative`" in first and "{func}" not in first
    assert "a\ngradient." in first  # the term's shown text, not its target
    assert "The error is 1.2e-04." in first  # glued and formatted as on the page
    assert "{index}" not in first
    assert "**Hint.** Use the product rule." in sources[2]
    jax_cell = reader["cells"][3]
    assert jax_cell["cell_type"] == "markdown"
    assert jax_cell["source"].startswith(tn.JAX_NOTE)
    assert "```python\nimport jax\n```" in jax_cell["source"]
    solution = reader["cells"][4]
    assert solution["cell_type"] == "code"
    assert solution["metadata"]["jupyter"] == {"source_hidden": True}
    ids = [cell["id"] for cell in reader["cells"]]
    assert len(set(ids)) == len(ids) == 5


@pytest.mark.parametrize(
    ("text", "spec", "shown"),
    [("0.000123", ".1e", "1.2e-04"), ("7", "", "7"), ("0.875", ".1%", "87.5%")],
)
def test_glued_text_formats_as_myst_nb_does(text: str, spec: str, shown: str) -> None:
    assert tn.glued_text({"k": {"data": {"text/plain": text}}}, "k", spec) == shown


def test_every_tutorial_page_is_converted() -> None:
    assert len(PAGES) == len(
        tn.tutorial_docnames([f"tutorials/{p.stem}" for p in PAGES])
    )
    assert len(PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_a_readers_notebook_has_no_build_only_code(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    reader = tn.reader_notebook(tn.read_myst(text))
    code = [cell["source"] for cell in reader["cells"] if cell["cell_type"] == "code"]
    assert code, page.name
    for source in code:
        assert "myst_nb" not in source and "glue(" not in source, source
        assert not source.startswith("%"), source  # Jupyter magics are build settings
    # The same number of code cells as the page, less its hidden build-only ones.
    cells = tn.read_myst(text)["cells"]
    removed = [c for c in cells if "remove-cell" in c["metadata"].get("tags", [])]
    jax = [c for c in cells if "jax" in c["metadata"].get("tags", [])]
    all_code = [c for c in cells if c["cell_type"] == "code"]
    assert len(code) == len(all_code) - len(removed) - len(jax)
    for cell in reader["cells"]:
        if cell["cell_type"] == "markdown":
            left = re.findall(r"\{(?!glue:text\})[a-z:]+\}`", cell["source"])
            assert not left, (page.name, left)
