#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox==2026.10.20"]
# ///
"""Developer and CI entry points: ``nox -s docs tests``, ``nox -s browser``, ``nox -s lint``.

``nox -s notebooks`` runs the tutorial pages as readers download them, with only
the package installed.

``nox -s serve`` is a live preview of the site for writing it; ``nox -s minimums``
and ``nox -s sdist`` check the declared lowest versions and the source
distribution; ``nox -s lock`` refreshes uv.lock.

Tool versions are declared in ``[dependency-groups]`` of pyproject.toml (PEP 735)
and locked in uv.lock: every session but ``minimums`` and ``bench`` installs
exactly the locked versions (``uv sync --locked``); this file only decides what
to install and run.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tarfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import nox

# nox.project.dependency_groups appeared in nox 2025.02.09.
nox.needs_version = ">=2025.2.9"

# uv: it installs from uv.lock, which plain pip cannot read (install uv with
# `python3 -m pip install uv`, or nox[uv]).
nox.options.default_venv_backend = "uv"
# Re-use existing session venvs so re-runs are fast; install steps still run
# (and are near no-ops when nothing changed).
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).parent
DOCS = ROOT / "docs"
HTML = DOCS / "_build" / "html"
# Written by a strict docs build that succeeded, dated when that build started:
# `nox -s browser` re-uses the HTML only while no source is newer than this.
BUILD_STAMP = DOCS / "_build" / "html.strict-build-ok"
# What the docs build writes into docs/ itself (not sources).
GENERATED = ("_build", "auto_examples", "generated", "jupyter_execute")
# Debian's Chromium: Playwright drives it and never downloads a browser of its own.
CHROMIUM = "/usr/bin/chromium"
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

# Headless everywhere: no display on CI.
ENV = {"MPLBACKEND": "Agg"}


def _groups(*names: str) -> tuple[str, ...]:
    return nox.project.dependency_groups(PYPROJECT, *names)


def _sync(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Install exactly what uv.lock pins for ``groups`` (and the package, editable).

    ``--locked`` fails when pyproject.toml changed since uv.lock was written:
    run ``nox -s lock`` and commit uv.lock with the change.
    """
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--no-default-groups",
        *(f"--group={group}" for group in groups),
        *(() if project else ("--no-install-project",)),
        f"--python={session.virtualenv.location}",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


def _gallery_env() -> dict[str, str]:
    """Skip the gallery-script test when a strict build of these very sources ran them.

    sphinx-gallery executes every script in ``nox -s docs``; running them again
    in the tests of the same CI job would only repeat that work. Without a fresh
    build (``nox -s tests`` alone, or plain ``pytest``) the test runs them.
    """
    if _stale_because() is None:
        return {"AUTODIFF_REF_GALLERY_BUILT": str(BUILD_STAMP)}
    return {}


@nox.session(default=True)
def tests(session: nox.Session) -> None:
    """Run the test suite and the doctests with line and branch coverage (posargs to pytest).

    Coverage settings and the minimum (``fail_under``) are in [tool.coverage] of
    pyproject.toml; the minimum applies to the whole suite (no posargs) only.
    """
    _sync(session, "test")
    coverage = ["--cov=autodiff_ref", "--cov-report=term:skip-covered"]
    if session.posargs:  # a selection of the tests (-k dual) cannot reach the minimum
        coverage.append("--cov-fail-under=0")
    session.run("pytest", *coverage, *session.posargs, env={**ENV, **_gallery_env()})


@nox.session(default=True)
def lint(session: nox.Session) -> None:
    """Static checks: ruff lint, ruff format check, mypy on the package."""
    _sync(session, "lint", project=False)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # files = ["autodiff_ref"] in [tool.mypy]


@nox.session(default=True)
def docs(session: nox.Session) -> None:
    """Clean, strict HTML build of the Sphinx site (posargs go to sphinx-build)."""
    _sync(session, "docs")
    _build_docs(session, *session.posargs)


def _build_docs(session: nox.Session, *args: str) -> None:
    """The clean, strict build into docs/_build/html; stamped when it succeeds."""
    for generated in GENERATED:
        shutil.rmtree(DOCS / generated, ignore_errors=True)
    (DOCS / "sg_execution_times.rst").unlink(missing_ok=True)
    started = time.time()
    session.run(
        "sphinx-build",
        "-W",  # warnings are errors ...
        "-n",  # ... including unresolved references
        "--keep-going",  # but report all of them before failing
        "-j",  # pages are executed while they are read: read (and run) them in
        "auto",  # parallel, one process per core (85 s instead of 92 s on 2 cores)
        "-b",
        "html",
        *args,
        str(DOCS),
        str(HTML),
    )
    # Dated at the start: a source saved during the build makes the build stale.
    BUILD_STAMP.write_text(f"strict build of {HTML.relative_to(ROOT)} succeeded\n")
    os.utime(BUILD_STAMP, (started, started))


def _sources() -> Iterator[Path]:
    """Every file the site is built from: docs/ (less build output) and the package."""
    for path in DOCS.rglob("*"):
        parts = path.relative_to(DOCS).parts
        if parts[0] in GENERATED or parts[-1] == "sg_execution_times.rst":
            continue
        if (
            "__pycache__" in parts
            or ".ipynb_checkpoints" in parts
            or not path.is_file()
        ):
            continue
        yield path
    for path in (ROOT / "autodiff_ref").rglob("*"):
        if "__pycache__" not in path.parts and path.is_file():
            yield path


def _stale_because() -> str | None:
    """Why docs/_build/html cannot be re-used as it is (None: it is fresh)."""
    if not BUILD_STAMP.is_file() or not (HTML / "index.html").is_file():
        return "no strict build of the site (nox -s docs) to re-use"
    built = BUILD_STAMP.stat().st_mtime
    newer = [path for path in _sources() if path.stat().st_mtime > built]
    if newer:
        more = f" and {len(newer) - 1} more files" if len(newer) > 1 else ""
        return f"{newer[0].relative_to(ROOT)}{more} changed since the last strict build"
    return None


def _chromium(session: nox.Session) -> str:
    """Debian's Chromium, installed with apt-get when missing and running as root."""
    if not Path(CHROMIUM).is_file() and os.geteuid() == 0 and shutil.which("apt-get"):
        session.log(f"{CHROMIUM} is missing: installing Debian's chromium package")
        apt_env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-qq", external=True, env=apt_env)
        session.run(
            "apt-get", "install", "-y", "-qq", "chromium", external=True, env=apt_env
        )
    if not Path(CHROMIUM).is_file():
        session.error(
            f"nox -s browser needs Chromium at {CHROMIUM}: install Debian's package "
            "with `sudo apt-get install chromium` (Playwright's browser download is not used)"
        )
    return CHROMIUM


def _npm(session: nox.Session) -> None:
    """axe-core at the version package-lock.json pins, into node_modules/ (npm ci)."""
    if not shutil.which("npm") and os.geteuid() == 0 and shutil.which("apt-get"):
        session.log("npm is missing: installing Debian's npm package")
        apt_env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-qq", external=True, env=apt_env)
        session.run(
            "apt-get", "install", "-y", "-qq", "npm", external=True, env=apt_env
        )
    if not shutil.which("npm"):
        session.error(
            "nox -s browser needs npm (Node.js) for axe-core: apt-get install npm"
        )
    session.run(
        "npm",
        "ci",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--silent",
        external=True,
    )


@nox.session(default=False)
def browser(session: nox.Session) -> None:
    """The built site checked in headless Chromium, offline; the site's notebooks run.

    Re-uses docs/_build/html when a strict build is newer than every source,
    else builds it. Screenshots go to docs/_build/screenshots/. posargs go to
    tests/browser/check_site.py (e.g. ``--page index.html``).
    """
    chromium = _chromium(session)
    _sync(session, "docs", "browser")
    _npm(session)
    stale = _stale_because()
    if stale:
        session.log(f"building the site: {stale}")
        _build_docs(session)
    else:
        session.log(f"re-using {HTML.relative_to(ROOT)}: newer than every source")
    session.run(
        "python",
        "tests/browser/check_site.py",
        str(HTML),
        "--screenshots",
        str(DOCS / "_build" / "screenshots"),
        "--chromium",
        chromium,
        *session.posargs,
    )
    # The checker's own test on a broken site, and the downloadable notebooks.
    session.run("pytest", "tests/browser", env={"AUTODIFF_REF_SITE": str(HTML)})


# Fresh every time: what a reader has after installing the package is the point.
@nox.session(reuse_venv=False, default=False)
def notebooks(session: nox.Session) -> None:
    """Every tutorial page, as the notebook a reader downloads, run top to bottom.

    The environment holds only what the install how-to and the notebooks' own
    note ask a reader for: the package with matplotlib (``pip install ".[plot]"``)
    and a Jupyter kernel, at the newest versions a reader would get. posargs go to
    tests/notebooks/run_tutorials.py (page names, ``--keep DIR``).
    """
    session.install(".[plot]", "ipykernel", "nbclient", "nbformat")
    session.run("python", "tests/notebooks/run_tutorials.py", *session.posargs)


@nox.session(default=False)
def serve(session: nox.Session) -> None:
    """Live preview at http://127.0.0.1:8000, rebuilt on every save (Ctrl-C stops it).

    Watches docs/ and autodiff_ref/; builds into docs/_build/serve, apart from
    the strict build. posargs go to sphinx-autobuild (e.g. ``--port 8001``).
    """
    _sync(session, "docs", "serve")
    session.run(
        "sphinx-autobuild",
        "--host",
        "127.0.0.1",
        "--port",
        "8000",
        "--watch",
        str(ROOT / "autodiff_ref"),
        # Written by the build itself: watching them would rebuild for ever.
        *(f"--ignore={DOCS / generated}" for generated in GENERATED),
        f"--ignore={DOCS / 'sg_execution_times.rst'}",
        "--re-ignore=/(__pycache__|\\.ipynb_checkpoints)/",
        *session.posargs,
        str(DOCS),
        str(DOCS / "_build" / "serve"),
    )


@nox.session(venv_backend="none", default=False)
def lock(session: nox.Session) -> None:
    """Refresh uv.lock to the newest versions pyproject.toml allows (posargs go to uv lock).

    Also moves .pre-commit-config.yaml's ruff to the locked ruff, so the hook
    and the lint session never disagree (tests/test_project_files.py checks it).
    Commit both files.
    """
    session.run("uv", "lock", "--upgrade", *session.posargs, external=True)
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    (ruff,) = {p["version"] for p in lock["package"] if p["name"] == "ruff"}
    config = ROOT / ".pre-commit-config.yaml"
    text = config.read_text(encoding="utf-8")
    pattern = r"(astral-sh/ruff-pre-commit\n\s+rev: )v[^\s]+"
    config.write_text(re.sub(pattern, rf"\g<1>v{ruff}", text), encoding="utf-8")
    session.log(f"uv.lock refreshed; pre-commit runs ruff {ruff}")


# lowest-direct versions must be resolved afresh: a re-used venv would keep newer ones.
@nox.session(reuse_venv=False, default=False)
def minimums(session: nox.Session) -> None:
    """The tests and the strict docs build with the lowest versions pyproject.toml declares.

    The package's dependencies and the test group, then the docs group, are
    installed at their lowest allowed versions (uv's lowest-direct; their own
    dependencies at the newest that fit), so a minimum declared in
    pyproject.toml is one that works. The docs are built into the session's own
    folder with the gallery scripts not run (plot_gallery=0): ``nox -s docs``
    runs them. posargs go to pytest.
    """
    package = PYPROJECT["project"]["dependencies"]
    session.install("--resolution=lowest-direct", "-e", ".", *package, *_groups("test"))
    session.run("uv", "pip", "list", f"--python={session.virtualenv.location}")
    session.run("pytest", *session.posargs, env={**ENV, **_gallery_env()})

    session.install("--resolution=lowest-direct", "-e", ".", *package, *_groups("docs"))
    session.run("uv", "pip", "list", f"--python={session.virtualenv.location}")
    out = Path(session.create_tmp()) / "html"
    shutil.rmtree(out, ignore_errors=True)
    session.run(
        "sphinx-build", "-W", "-n", "--keep-going", "-j", "auto", "-D", "plot_gallery=0",
        "-b", "html", str(DOCS), str(out),
    )  # fmt: skip


@nox.session(default=False)
def sdist(session: nox.Session) -> None:
    """Build the source distribution, unpack it and run the tests inside it (posargs to pytest).

    The package is installed from the unpacked sdist (not the clone), with the
    locked test dependencies, so a file the tests need and the sdist lacks fails here.
    """
    _sync(session, "test", project=False)
    tmp = Path(session.create_tmp())
    for old in ("dist", "unpacked"):
        shutil.rmtree(tmp / old, ignore_errors=True)
    session.run("uv", "build", "--sdist", "--out-dir", str(tmp / "dist"))
    (archive,) = (tmp / "dist").glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp / "unpacked", filter="data")
    (source,) = (tmp / "unpacked").iterdir()
    session.install("--no-deps", "--reinstall-package=autodiff_ref", str(source))
    session.chdir(source)
    session.run("pytest", *session.posargs, env={**ENV, **_gallery_env()})


# One thread for every library, NumPy's BLAS and XLA included: the machine has
# two cores, and a library that took both would be compared with one that
# cannot. PyTorch's own pools are set in benchmarks/run.py.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


# pip, not uv: pip's configuration on these machines finds the CPU build of
# torch 2.13.0 on the local disk, where uv (or an unpinned torch) would fetch a
# CUDA build of several GB.
@nox.session(venv_backend="virtualenv", default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks against autograd, JAX, PyTorch, micrograd and numdifftools.

    Not run by default or by CI: it takes minutes. Writes benchmarks/results.json
    and one plot per case (benchmarks/plots/). posargs go to ``benchmarks/run.py``,
    e.g. ``nox -s bench -- --cases cheap_gradient --repeats 5`` or ``-- --with-builds``
    (also times ``nox -s docs`` and ``nox -s tests``).
    """
    session.install("torch==2.13.0")  # pinned: the CPU wheel (see above)
    session.install("-e", ".", *_groups("bench"))
    session.run(
        "python",
        "-m",
        "benchmarks.run",
        *session.posargs,
        # --with-builds runs nox again, with the interpreter that runs this nox.
        env={**ENV, **ONE_THREAD, "BENCH_NOX_PYTHON": sys.executable},
    )


if __name__ == "__main__":
    nox.main()
