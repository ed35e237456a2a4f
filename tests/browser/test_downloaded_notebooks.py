"""Every notebook the site offers for download runs top to bottom, as a reader would run it.

The notebooks are the ones in the built site (``_downloads/**/*.ipynb``: the
gallery's, and the tutorial pages' in ``_downloads/notebooks/``), not their
sources: what is tested is what readers get. Each runs in a fresh
``python3`` kernel of this environment (the docs dependencies and
autodiff_ref), in an empty working folder. Runs in ``nox -s browser``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

SITE = Path(os.environ.get("AUTODIFF_REF_SITE", "."))
NOTEBOOKS = sorted((SITE / "_downloads").glob("**/*.ipynb"))
GALLERY_PAGES = sorted((SITE / "auto_examples").glob("plot_*.html"))


def test_every_gallery_page_has_its_notebook() -> None:
    # A gallery page links its notebook (check_site.py checks the link); the
    # notebook itself must be in the build under the page's name.
    assert GALLERY_PAGES, f"no gallery pages in {SITE / 'auto_examples'}"
    names = {nb.stem for nb in NOTEBOOKS}
    assert {page.stem for page in GALLERY_PAGES} <= names, sorted(names)


def _run(nb: nbformat.NotebookNode, cwd: Path) -> None:
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()  # raises CellExecutionError with the cell and its traceback


def test_a_failing_cell_fails_the_run(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("x / 0")]
    )
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        _run(nb, tmp_path)


TUTORIAL_PAGES = sorted(
    page
    for page in (SITE / "tutorials").glob("*.html")
    if page.stem not in ("index", "search")
)


def test_every_tutorial_page_has_its_notebook() -> None:
    # Written by docs/_ext/tutorial_notebooks.py and linked under each page's title.
    assert TUTORIAL_PAGES, f"no tutorial pages in {SITE / 'tutorials'}"
    notebooks = {nb.stem for nb in (SITE / "_downloads" / "notebooks").glob("*.ipynb")}
    assert {page.stem for page in TUTORIAL_PAGES} == notebooks, sorted(notebooks)
    for page in TUTORIAL_PAGES:
        html = page.read_text(encoding="utf-8")
        assert f"_downloads/notebooks/{page.stem}.ipynb" in html, page.name


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(notebook: Path, tmp_path: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells, f"{notebook.name} has no code to run"
    _run(nb, tmp_path)
    for cell in code_cells:
        assert cell.execution_count is not None, cell.source[:80]
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert not errors, json.dumps(errors, indent=1)[:2000]
