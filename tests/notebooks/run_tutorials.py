"""Run every tutorial page as a reader's notebook, in an environment with only the package.

``nox -s notebooks`` makes a fresh venv with ``pip install ".[plot]"`` and a
Jupyter kernel (ipykernel, nbclient, nbformat) and nothing else, then runs this
script: each page of docs/tutorials/ is converted to the notebook a reader
downloads (docs/_ext/tutorial_notebooks.py, the conversion the docs build uses)
and executed top to bottom in a fresh kernel, in an empty working folder. A
cell that raises fails the run; so does a page that still needs something the
reader was not told to install (myst_nb, JAX, SciPy, ...).

Usage: ``python tests/notebooks/run_tutorials.py [PAGE ...] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import tutorial_notebooks  # noqa: E402  (found through the path just added)

# A cell may train a small network or sweep 121 steps: generous, but bounded.
CELL_TIMEOUT = 300


def pages(names: list[str]) -> list[Path]:
    folder = ROOT / "docs" / tutorial_notebooks.FOLDER
    found = sorted(p for p in folder.glob("*.md") if p.stem != "index")
    if names:
        found = [p for p in found if p.stem in names]
        missing = set(names) - {p.stem for p in found}
        if missing:
            raise SystemExit(f"no tutorial page named {sorted(missing)}")
    return found


def run(page: Path, keep: Path | None) -> None:
    notebook = tutorial_notebooks.reader_notebook(
        tutorial_notebooks.read_myst(page.read_text(encoding="utf-8"))
    )
    nb = nbformat.from_dict(notebook)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{page.name}: no code cells"
    for cell in code:
        assert "myst_nb" not in cell.source, (
            f"{page.name}: build-only code\n{cell.source}"
        )
    with tempfile.TemporaryDirectory() as empty:
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            # Quiet: no "running over TCP without encryption" (it listens on localhost).
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            resources={"metadata": {"path": empty}},
        )
        client.execute()  # raises CellExecutionError, naming the cell and its error
    ran = [cell for cell in code if cell.execution_count is not None]
    assert len(ran) == len(code), (
        f"{page.name}: {len(code) - len(ran)} cells did not run"
    )
    warnings = [
        out.text
        for cell in code
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stderr"
    ]
    assert not warnings, f"{page.name}: output on stderr\n" + "\n".join(warnings)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, keep / f"{page.stem}.ipynb")
    print(f"{page.stem}: {len(code)} code cells ran", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="page names (default: every page)")
    parser.add_argument("--keep", type=Path, help="write the executed notebooks here")
    args = parser.parse_args()
    for page in pages(args.pages):
        run(page, args.keep)


if __name__ == "__main__":
    main()
