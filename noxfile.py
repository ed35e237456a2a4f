"""Developer and CI entry points: ``nox -s docs tests`` and ``nox -s lint``.

Tool versions live in ``[dependency-groups]`` of pyproject.toml (PEP 735);
this file only decides what to install and run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

# nox.project.dependency_groups appeared in nox 2025.02.09.
nox.needs_version = ">=2025.2.9"

# uv when it is installed (much faster), plain virtualenv otherwise.
nox.options.default_venv_backend = "uv|virtualenv"
# Re-use existing session venvs so re-runs are fast; install steps still run
# (and are near no-ops when nothing changed).
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "lint", "docs"]

ROOT = Path(__file__).parent
DOCS = ROOT / "docs"
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

# Headless everywhere: no display on CI.
ENV = {"MPLBACKEND": "Agg"}


def _groups(*names: str) -> tuple[str, ...]:
    return nox.project.dependency_groups(PYPROJECT, *names)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite and the package doctests (``pytest``, posargs passed on)."""
    session.install("-e", ".", *_groups("test"))
    session.run("pytest", *session.posargs, env=ENV)
    # --- further test steps go here -------------------------------------
    # e.g. doctests of the documentation pages (--doctest-glob="docs/*.md")
    # and running every gallery script in docs/examples/ standalone.


@nox.session
def lint(session: nox.Session) -> None:
    """Static checks: ruff lint, ruff format check, mypy on the package."""
    session.install(*_groups("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # files = ["autodiff_ref"] in [tool.mypy]


@nox.session
def docs(session: nox.Session) -> None:
    """Clean, strict HTML build of the Sphinx site (posargs go to sphinx-build)."""
    session.install("-e", ".", *_groups("docs"))
    for generated in ("_build", "auto_examples", "generated", "jupyter_execute"):
        shutil.rmtree(DOCS / generated, ignore_errors=True)
    (DOCS / "sg_execution_times.rst").unlink(missing_ok=True)
    session.run(
        "sphinx-build",
        "-W",  # warnings are errors ...
        "-n",  # ... including unresolved references
        "--keep-going",  # but report all of them before failing
        "-b",
        "html",
        *session.posargs,
        str(DOCS),
        str(DOCS / "_build" / "html"),
        env=ENV,
    )
