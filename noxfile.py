#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox==2026.10.20"]
# ///
"""Developer and CI entry points: ``nox -s docs tests``, ``nox -s browser``, ``nox -s lint``.

``nox -s tests`` is the fast loop (no coverage); ``nox -s coverage`` measures
coverage and enforces its minimum; ``nox -s pythons`` runs the tests on every
supported Python this machine has; ``nox -s notebooks`` runs the tutorial pages
as readers download them, with only the package installed. ``nox -s serve`` is a
live preview of the site for writing it; ``nox -s minimums``, ``nox -s sdist``
and ``nox -s wheel`` check the declared lowest versions and the built
distributions; ``nox -s lock`` brings uv.lock in line with pyproject.toml;
``nox -s hooks`` installs the git pre-commit hook.

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

# uv: it installs from uv.lock, which plain pip cannot read. nox requires it:
# the README's quick start installs both into a venv (`python -m pip install nox uv`).
nox.options.default_venv_backend = "uv"
# Re-use existing session venvs so re-runs are fast; install steps still run
# (and are near no-ops when nothing changed).
nox.options.reuse_venv = "yes"
# Interpreters are found on this machine, never downloaded (by nox or by uv): a
# session for a Python the machine lacks is skipped with nox's message
# "Python interpreter 3.X not found", and CI does not fail for it.
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = False
os.environ["UV_PYTHON_DOWNLOADS"] = "never"

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
# The Pythons the package supports and is tested on, oldest first: the
# classifiers of pyproject.toml name the same (tests/test_project_files.py).
PYTHONS = ("3.11", "3.12", "3.13")

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


def _interpreter(version: str) -> str:
    """This machine's ``python{version}``: on PATH, else pyenv's newest ``{version}.N``.

    pyenv's shims answer only for the versions ``pyenv global`` selects, so a
    shim is passed over and pyenv's versions folder looked in instead. Without
    one, the bare version: nox then finds no interpreter and skips the session
    (nothing is downloaded, see nox.options above).
    """
    on_path = shutil.which(f"python{version}")
    if on_path and "shims" not in Path(on_path).parts:
        return on_path
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = [
        (int(path.parts[-3].rpartition(".")[2]), path)
        for path in versions.glob(f"{version}.*/bin/python{version}")
        if re.fullmatch(rf"{re.escape(version)}\.\d+", path.parts[-3])
    ]
    return str(max(found)[1]) if found else version


def _pytest(session: nox.Session, *args: str) -> None:
    """pytest with the project's settings, headless; posargs go to pytest."""
    session.run("pytest", *args, *session.posargs, env={**ENV, **_gallery_env()})


@nox.session(default=True)
def tests(session: nox.Session) -> None:
    """Run the test suite and the doctests (posargs to pytest), without coverage.

    The fast loop: measuring coverage makes a run about three times slower, so
    ``nox -s coverage`` measures it, with its minimum, in a session of its own.
    """
    _sync(session, "test")
    _pytest(session)


@nox.session(default=False)
def coverage(session: nox.Session) -> None:
    """The tests of ``nox -s tests`` with line and branch coverage; fails below the minimum.

    Coverage settings and the minimum (``fail_under``) are in [tool.coverage] of
    pyproject.toml; the minimum applies to the whole suite (no posargs) only.
    CI runs it after the README's quick start (``nox -s docs tests``).
    """
    _sync(session, "test", "coverage")
    options = ["--cov=autodiff_ref", "--cov-report=term:skip-covered"]
    if session.posargs:  # a selection of the tests (-k dual) cannot reach the minimum
        options.append("--cov-fail-under=0")
    _pytest(session, *options)


@nox.session(default=False)
@nox.parametrize("python", [_interpreter(v) for v in PYTHONS], ids=list(PYTHONS))
def pythons(session: nox.Session) -> None:
    """The tests (no coverage) on each supported Python this machine has.

    ``nox -s pythons`` runs them all; ``nox -s "pythons(3.13)"`` one. A Python
    the machine lacks is skipped with a message, never downloaded. posargs go
    to pytest.
    """
    _sync(session, "test")
    _pytest(session)


@nox.session(default=True)
def lint(session: nox.Session) -> None:
    """Static checks: ruff lint and format check, mypy, codespell, and the self-descriptions.

    mypy is strict ([tool.mypy]); tests/lint_self_descriptions.py checks the
    numbers [tool.repo-review.ignore] quotes, and that mypy stays strict;
    posargs go to that pytest.
    """
    _sync(session, "lint", project=False)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # files = ["autodiff_ref"] in [tool.mypy]
    session.run("codespell", "--check-hidden")  # the word list is [tool.codespell]
    session.run("pytest", "tests/lint_self_descriptions.py", *session.posargs)


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


# The pre-commit hooks that run a tool the lint group also pins: `nox -s lock`
# moves each hook's rev to the locked version, so the two never disagree.
HOOKS_FOLLOWING_THE_LOCK = {
    "ruff": "astral-sh/ruff-pre-commit",
    "codespell": "codespell-project/codespell",
}


@nox.session(venv_backend="none", default=False)
def lock(session: nox.Session) -> None:
    """Bring uv.lock in line with pyproject.toml, moving no pin that need not move.

    Run it after changing a dependency: only what the change requires is
    resolved again. ``nox -s lock -- --upgrade`` moves every pin to the newest
    version pyproject.toml allows (posargs go to ``uv lock``). Also moves the
    ruff and codespell hooks of .pre-commit-config.yaml to the locked versions
    (tests/test_project_files.py checks they agree). Commit both files.
    """
    session.run("uv", "lock", *session.posargs, external=True)
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    config = ROOT / ".pre-commit-config.yaml"
    text = config.read_text(encoding="utf-8")
    for name, repo in HOOKS_FOLLOWING_THE_LOCK.items():
        (locked,) = {p["version"] for p in lock["package"] if p["name"] == name}
        pattern = rf"({re.escape(repo)}\n\s+rev: )v[^\s]+"
        text = re.sub(pattern, rf"\g<1>v{locked}", text)
        session.log(f"pre-commit runs {name} {locked}")
    config.write_text(text, encoding="utf-8")


@nox.session(default=False)
def hooks(session: nox.Session) -> None:
    """Install the git pre-commit hook (.pre-commit-config.yaml), with the locked pre-commit.

    pre-commit comes from the ``hooks`` dependency group, installed into this
    session's venv; the hook it writes into .git/hooks runs that pre-commit,
    so nothing else needs installing. posargs go to ``pre-commit install``.
    """
    _sync(session, "hooks", project=False)
    session.run("pre-commit", "install", *session.posargs)


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


# OpenBLAS kernels for nox -s numerics: Prescott (SSE3, no FMA) runs on every
# x86-64; then the first of these, with the CPU features it needs, that is not
# the default kernel. Sandybridge (AVX, no fused multiply-add) rounds unlike the
# FMA kernels most machines pick. OpenBLAS accepts a kernel the CPU lacks (and
# dies of an illegal instruction), hence the check of /proc/cpuinfo.
OTHER_KERNELS = {
    "Sandybridge": {"avx"},
    "Haswell": {"avx2", "fma"},
    "SkylakeX": {"avx512f"},
}
# Asks threadpoolctl which kernel NumPy's OpenBLAS uses.
KERNEL_IN_USE = (
    "import numpy, threadpoolctl; print(next(i['architecture'] for i in "
    "threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas'))"
)


def _cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux), or none when they cannot be read."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return set()
    for line in cpuinfo.read_text(encoding="utf-8").splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


@nox.session(default=False)
def numerics(session: nox.Session) -> None:
    """The gallery scripts, the pages' code and the tests under other BLAS rounding.

    NumPy's OpenBLAS is forced to the Prescott kernel and to a second one the
    CPU supports (threadpoolctl says which it really uses), each with 1 and 2
    threads; every gallery script and every page's code cells run once per
    variant in one process (tests/run_docs_code.py), then the test suite runs
    with Prescott and 1 thread. An assert that holds only with the default
    kernel's rounding fails here. posargs go to pytest.
    """
    _sync(session, "test", "docs", "numerics")

    default = str(
        session.run("python", "-c", KERNEL_IN_USE, silent=True, log=False)
    ).strip()
    flags = _cpu_flags()
    second = [
        kernel
        for kernel, needs in OTHER_KERNELS.items()
        if kernel.lower() != default.lower() and needs <= flags
    ][:1]
    if not second:
        session.warn(
            f"no kernel besides Prescott and the default ({default}) runs here"
        )
    started = time.monotonic()
    for kernel in ("Prescott", *second):
        for threads in ("1", "2"):
            session.log(f"OPENBLAS_CORETYPE={kernel} OPENBLAS_NUM_THREADS={threads}")
            session.run(
                "python", "tests/run_docs_code.py", "--kernel", kernel,
                "--threads", threads,
                env={**ENV, "OPENBLAS_CORETYPE": kernel, "OPENBLAS_NUM_THREADS": threads},
            )  # fmt: skip
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={
            **ENV,
            "OPENBLAS_CORETYPE": "Prescott",
            "OPENBLAS_NUM_THREADS": "1",
            # The gallery scripts ran above, under every variant.
            "AUTODIFF_REF_GALLERY_BUILT": "nox -s numerics, under each kernel",
        },
    )
    session.log(f"numerics: {time.monotonic() - started:.0f} s")


def _unpacked_sdist(session: nox.Session, out: Path) -> Path:
    """Build the sdist into ``out``/dist and unpack it into ``out``/unpacked."""
    for old in ("dist", "unpacked"):
        shutil.rmtree(out / old, ignore_errors=True)
    session.run("uv", "build", "--sdist", "--out-dir", str(out / "dist"))
    (archive,) = (out / "dist").glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(out / "unpacked", filter="data")
    (source,) = (out / "unpacked").iterdir()
    return source


def _test_installed(session: nox.Session, tree: Path, python: str) -> None:
    """Run the tests in ``tree`` against the autodiff_ref installed for ``python``.

    ``tree`` is an unpacked sdist: its autodiff_ref/ is removed first, so that
    the folder pytest runs in (and puts on sys.path) holds no importable copy
    of the package. The package's doctests are collected from the installed
    files; tests/test_project_files.py checks ``autodiff_ref.__file__``.
    """
    shutil.rmtree(tree / "autodiff_ref")
    session.chdir(tree)
    where = [python, "-c", "import autodiff_ref; print(autodiff_ref.__file__)"]
    imported = Path(session.run(*where, silent=True, external=True).strip())
    environment = Path(python).parents[1]
    if not imported.is_relative_to(environment):
        session.error(
            f"imported {imported}, not the package installed in {environment}"
        )
    session.log(f"testing the installed package: {imported.parent}")
    session.run(
        python, "-m", "pytest", "-c", "pyproject.toml", "--rootdir", ".",
        "tests", "benchmarks", "docs", str(imported.parent), *session.posargs,
        env={**ENV, **_gallery_env(), "AUTODIFF_REF_INSTALLED_IN": str(environment)},
        external=True,
    )  # fmt: skip


@nox.session(default=False)
def sdist(session: nox.Session) -> None:
    """Build the source distribution, install it and run its tests against the install.

    The package is installed (not editable) from the unpacked sdist, with the
    locked test dependencies, so a file the tests need and the sdist lacks
    fails here; the tests import the installed package, not the unpacked
    source. posargs go to pytest.
    """
    _sync(session, "test", project=False)
    source = _unpacked_sdist(session, Path(session.create_tmp()).resolve())
    session.install("--no-deps", "--reinstall-package=autodiff_ref", str(source))
    _test_installed(session, source, str(Path(session.bin) / "python"))


@nox.session(default=False)
def wheel(session: nox.Session) -> None:
    """Build the wheel and sdist, check them, and test the wheel installed in a fresh venv.

    ``twine check --strict`` validates both distributions' metadata (the
    ``release`` group). The wheel goes into a new venv with only the locked
    test dependencies, and the tests of the unpacked sdist run against it from
    a folder where no copy of the source is importable. posargs go to pytest.
    """
    _sync(session, "release", project=False)
    tmp = Path(session.create_tmp()).resolve()
    source = _unpacked_sdist(session, tmp)
    session.run("uv", "build", "--wheel", "--out-dir", str(tmp / "dist"))
    (built,) = (tmp / "dist").glob("*.whl")
    (archive,) = (tmp / "dist").glob("*.tar.gz")
    session.run("twine", "check", "--strict", str(built), str(archive))

    fresh = tmp / "fresh-venv"
    shutil.rmtree(fresh, ignore_errors=True)
    session.run("uv", "venv", "--python", sys.executable, str(fresh))
    session.run(
        "uv", "sync", "--locked", "--no-default-groups", "--group=test",
        "--no-install-project", f"--python={fresh}",
        env={"UV_PROJECT_ENVIRONMENT": str(fresh)},
    )  # fmt: skip
    session.run("uv", "pip", "install", "--no-deps", f"--python={fresh}", str(built))
    _test_installed(session, source, str(fresh / "bin" / "python"))


# One thread for every library, NumPy's BLAS and XLA included: the machine has
# two cores, and a library that took both would be compared with one that
# cannot. PyTorch's own pools are set in benchmarks/run.py.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


@nox.session(default=False)
def autograd_suite(session: nox.Session) -> None:
    """HIPS autograd's own test suites run against autodiff_ref (names mapped).

    Not run by default or by CI: it downloads autograd's sdist (a pinned version,
    kept in nox's cache) from PyPI, whose tests it runs through a fake ``autograd``
    package made of autodiff_ref's names (benchmarks/autograd_shim.py). Prints
    passed / applicable per file and what does not apply, with the reason. posargs
    go to ``benchmarks/autograd_suite.py``, e.g. ``-- test_linalg.py`` or ``-- --json
    out.json``.
    """
    _sync(session, "test")
    # The version the figures refer to: benchmarks.autograd_suite.AUTOGRAD_VERSION.
    version = "1.9.1"
    cache = Path(session.cache_dir)
    sdist = cache / f"autograd-{version}.tar.gz"
    if not sdist.exists():
        # pip through uv (nox needs uv anyway): the session environment has no pip.
        session.run(
            "uv", "tool", "run", "pip", "download", f"autograd=={version}",
            "--no-binary", ":all:", "--no-deps", "--dest", str(cache),
            external=True,
        )  # fmt: skip
    session.run(
        "python", "-m", "benchmarks.autograd_suite", "--sdist", str(sdist),
        *session.posargs, env=ENV,
    )  # fmt: skip


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
