"""Run every gallery script and every page's code cells in this one process.

``nox -s numerics`` runs this once per forced OpenBLAS kernel and thread count:
one interpreter per variant, no Sphinx and no Jupyter kernels, so four variants
cost about what one docs build does. It checks what the site's asserts check,
under rounding other than this machine's default.

- Each gallery script runs as ``__main__`` in an empty working directory, as
  tests/test_gallery.py runs it, under the build's time limit
  (docs/_ext/gallery_time_limit.py).
- Each page's code cells run in order in one namespace of an IPython shell (for
  ``%matplotlib`` and ``%config``), in the page's folder, as myst-nb runs them;
  each cell is compiled with the page as its file name and its own line numbers,
  so a failure names the page and the line.

``--kernel NAME`` first checks, with threadpoolctl, that NumPy's OpenBLAS really
uses that kernel (``OPENBLAS_CORETYPE`` is only a request), and that it runs
``--threads`` threads. Prints one line per file and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import runpy
import sys
import tempfile
import time
import traceback
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import threadpoolctl
from IPython.core.interactiveshell import InteractiveShell
from myst_nb.core.read import read_myst_markdown_notebook

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import gallery_time_limit  # noqa: E402

# OpenBLAS shares one set of kernels between some cores and names it after the
# first: forced to Prescott, it reports Katmai.
ALIASES = {"prescott": {"prescott", "katmai"}}
# myst-nb's limit per cell (nb_execution_timeout in docs/conf.py) for a whole page.
PAGE_SECONDS = 300.0


def openblas() -> dict[str, object]:
    """threadpoolctl's description of the OpenBLAS NumPy uses."""
    import numpy  # noqa: F401  (loads its OpenBLAS)

    found = [
        info
        for info in threadpoolctl.threadpool_info()
        if info.get("internal_api") == "openblas"
    ]
    if not found:
        sys.exit("NumPy uses no OpenBLAS here: forcing its kernel means nothing")
    return found[0]


def pages() -> list[Path]:
    """The MyST pages with code cells, sorted."""
    return sorted(
        path
        for path in DOCS.rglob("*.md")
        if not path.relative_to(DOCS).parts[0].startswith(("_", "jupyter_execute"))
        and "```{code-cell}" in path.read_text(encoding="utf-8")
    )


def run_script(script: Path) -> None:
    with tempfile.TemporaryDirectory() as cwd:
        os.chdir(cwd)  # scripts must not depend on the working directory
        matplotlib.rcdefaults()
        gallery_time_limit.start(str(script))
        try:
            runpy.run_path(str(script), run_name="__main__")
        finally:
            gallery_time_limit.stop()
            plt.close("all")
            os.chdir(ROOT)


def run_page(page: Path, shell: InteractiveShell) -> None:
    text = page.read_text(encoding="utf-8")
    notebook = read_myst_markdown_notebook(text, add_source_map=True, path=page)
    starts = notebook.metadata["source_map"]
    shell.reset(new_session=False)
    matplotlib.rcdefaults()
    os.chdir(page.parent)
    gallery_time_limit.start(str(page), PAGE_SECONDS, what="page")
    try:
        for cell, start in zip(notebook.cells, starts, strict=True):
            if cell.cell_type != "code":
                continue
            python = shell.transform_cell(_without_display_magics(cell.source))
            # The source map gives the (1-based) line of the directive: the code
            # follows it, after any options.
            offset = start + _options_lines(text, start)
            code = compile("\n" * offset + python, str(page), "exec")
            exec(code, shell.user_ns)
    finally:
        gallery_time_limit.stop()
        plt.close("all")
        os.chdir(ROOT)


def _without_display_magics(source: str) -> str:
    """The cell with ``%matplotlib`` and ``%config`` lines blanked.

    They choose how a kernel shows figures (inline, as SVG); here figures are
    drawn with Agg and not shown. Blank lines keep the line numbers.
    """
    return "\n".join(
        "" if line.startswith(("%matplotlib", "%config")) else line
        for line in source.split("\n")
    )


def _options_lines(text: str, start: int) -> int:
    """How many option lines (``:key: value`` or a ``---`` block) open a cell."""
    lines = text.splitlines()[start:]  # from the line after the directive
    if lines and lines[0].strip() == "---":
        return 1 + next(i for i, line in enumerate(lines[1:], 1) if line == "---")
    return next(i for i, line in enumerate(lines) if not line.startswith(":"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", help="the OpenBLAS kernel that must be in use")
    parser.add_argument("--threads", type=int, help="the OpenBLAS threads expected")
    parser.add_argument("-v", "--verbose", action="store_true", help="show output")
    parser.add_argument("files", nargs="*", type=Path, help="default: all")
    args = parser.parse_args()

    blas = openblas()
    print(
        f"OpenBLAS {blas.get('version')}: kernel {blas.get('architecture')}, "
        f"{blas.get('num_threads')} threads"
    )
    names = (
        ALIASES.get(args.kernel.lower(), {args.kernel.lower()})
        if args.kernel
        else set()
    )
    if args.kernel and str(blas.get("architecture")).lower() not in names:
        sys.exit(
            f"OPENBLAS_CORETYPE={args.kernel} was not applied (OpenBLAS uses "
            f"{blas.get('architecture')}): this CPU or this OpenBLAS lacks that kernel"
        )
    if args.threads and blas.get("num_threads") != args.threads:
        sys.exit(f"OpenBLAS runs {blas.get('num_threads')} threads, not {args.threads}")

    files = [f.resolve() for f in args.files] or [
        *sorted((DOCS / "examples").glob("plot_*.py")),
        *pages(),
    ]
    shell = InteractiveShell.instance()
    failed = []
    started = time.monotonic()
    for path in files:
        began = time.monotonic()
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                if path.suffix == ".py":
                    run_script(path)
                else:
                    run_page(path, shell)
        except BaseException:
            failed.append(path)
            print(f"FAILED {path.relative_to(ROOT)}\n{output.getvalue()[-3000:]}")
            print(traceback.format_exc())
        else:
            seconds = time.monotonic() - began
            print(f"ok     {path.relative_to(ROOT)} ({seconds:.1f} s)")
            if args.verbose:
                print(output.getvalue())
    total = time.monotonic() - started
    print(f"{len(files) - len(failed)} ran, {len(failed)} failed, in {total:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
