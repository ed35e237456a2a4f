"""Run HIPS autograd's own test suites against autodiff_ref, through a mapping of names.

autograd's source distribution on PyPI holds its tests. This script unpacks
them, writes a fake ``autograd`` package (:mod:`benchmarks.autograd_shim`: its
names are autodiff_ref's) next to them, runs each test file with pytest in its
own process (under a time limit), and reports per file: passed / applicable,
where a test is applicable unless it is listed in :data:`EXCLUDED` with the
reason it does not apply.

    python -m benchmarks.autograd_suite --sdist autograd-1.9.1.tar.gz [--json out.json]

``nox -s autograd_suite`` downloads the sdist (a pinned version) and runs this.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

#: The version whose tests the figures refer to (nox -s autograd_suite downloads it).
AUTOGRAD_VERSION = "1.9.1"

#: The files counted apart: the issue's targets name them.
APART = ("test_linalg.py", "test_fft.py", "test_scipy.py")

#: Whole files that do not apply, and why.
EXCLUDED_FILES = {
    "test_logic.py": "autograd-only API: autograd.extend.primitive, primitive_vjps",
    "test_misc.py": "autograd-only API: autograd.misc (flatten, const_graph), tracer",
    "test_tests.py": "autograd-only API: defvjp (tests of check_grads on a wrong rule)",
    "test_vspaces.py": "autograd-only API: autograd.core.vspace internals",
    "test_scipy.py": "autograd.scipy: autodiff_ref has no scipy namespace",
    "test_performance.py": "no tests (timing scripts)",
}

#: Single tests that do not apply (a regular expression on the test's name), and why.
EXCLUDED_TESTS = {
    r"test_graphs\.py::test_singleton_array_output": (
        "deliberate: grad of a size-1 array output (JAX, and autodiff_ref, "
        "require a scalar)"
    ),
    r"test_jacobian\.py::test_jacobian_against_grad": (
        "deliberate: grad of a size-1 array output (shape (1, 1))"
    ),
    r"test_graphs\.py::test_assignment_raises_error": (
        "autograd-only behaviour: the error type of item assignment on a Box"
    ),
    r"test_graphs\.py::test_(complex_)?mutating_outgrad": (
        "autograd-only API: mutates the cotangent array autograd hands to a rule"
    ),
    r"test_wrappers\.py::test_(multigrad_dict|grad_named|make_jvp_and_hvp_dict)": (
        "autograd-only API: multigrad_dict / grad_named"
    ),
    r"test_wrappers\.py::test_deprecated": "autograd-only API: deprecation shims",
    r"test_wrappers\.py::test_(checkpoint_correctness|hessian_matrix_product)": (
        "autograd-only API: counts autograd's primitive calls / its vspace"
    ),
    r"test_builtins\.py::": "autograd-only API: autograd.builtins.isinstance on Boxes",
    r"test_(dict|list|tuple)\.py::test_isinstance": (
        "autograd-only API: autograd.builtins.isinstance on Boxes"
    ),
    r"test_complex\.py::test_(real_type|real_if_close_type)": (
        "deliberate: JAX's convention (grad of a real function of complex input)"
    ),
    r"test_linalg\.py::test_eigvalh_lower(_broadcasting|_complex)?$": (
        "deliberate: eigh of a non-symmetric matrix without UPLO is refused (NumPy "
        "would read its lower triangle silently); eigh(a, 'L') reads it"
    ),
    r"test_numpy\.py::test_(make_)?diagonal$": (
        "autograd-only API: np.make_diagonal (NumPy has no such function; "
        "anp.diagonal and anp.diag are NumPy's)"
    ),
    r"test_numpy\.py::test_cast_to_int$": (
        "deliberate: np.int64(x) of a traced x is refused (the cast would drop the "
        "derivative); index with autodiff_ref.primal_value(x).astype(int)"
    ),
    r"test_wrappers\.py::test_custom_where_dtypes\[(int|float|list)-": (
        "deliberate: NumPy's result types (np.where(True, 1, 2) is a 0-d int64 "
        "array in NumPy and autodiff_ref, a Python int in autograd)"
    ),
    r"test_fft\.py::test_rfftn_odd_not_implemented$": (
        "autograd-only limitation: autograd raises NotImplementedError for rfftn of "
        "odd length; autodiff_ref differentiates it (tests/test_fft.py checks it)"
    ),
    r"test_linalg\.py::test_pinv$": (
        "deliberate: pinv's derivative at a matrix without full rank (pinv(XᵀX) with X "
        "wider than tall) is refused: it exists only along perturbations that keep the "
        "rank; this test's full-rank half passes"
    ),
    r"test_direct\.py::test_grad_complex_output": (
        "deliberate: grad of a complex output (JAX refuses it)"
    ),
}

SHIM_FILES = {
    "autograd/__init__.py": """\
from builtins import dict, isinstance, list, tuple, type
from benchmarks.autograd_shim import (
    checkpoint, deriv, elementwise_grad, grad, grad_and_aux, hessian,
    hessian_tensor_product, hessian_vector_product, holomorphic_grad, jacobian,
    make_ggnvp, make_hvp, make_jvp, make_vjp, tensor_jacobian_product,
    value_and_grad, vector_jacobian_product,
)
""",
    "autograd/core.py": """\
from benchmarks.autograd_shim import core_make_jvp as make_jvp
from benchmarks.autograd_shim import core_make_vjp as make_vjp
from benchmarks.autograd_shim import vspace
""",
    "autograd/wrap_util.py": "from benchmarks.autograd_shim import unary_to_nary\n",
    "autograd/builtins.py": "from builtins import dict, isinstance, list, tuple, type\n",
    "autograd/tracer.py": "from benchmarks.autograd_shim import isbox\n",
    "autograd/test_util.py": """\
from benchmarks.autograd_shim import (
    check_equivalent, check_grads, check_jvp, check_vjp, combo_check, scalar_close,
)
""",
    # autograd.numpy is autodiff_ref.numpy; NumPy's own names (dtypes, constants)
    # for what it does not define, as autograd.numpy re-exports them.
    "autograd/numpy/__init__.py": """\
import numpy as _np
import autodiff_ref.numpy as _anp
from . import fft, linalg, random

def __getattr__(name):
    try:
        return getattr(_anp, name)
    except AttributeError:
        return getattr(_np, name)
""",
    "autograd/numpy/linalg.py": """\
import numpy.linalg as _np
import autodiff_ref.numpy as _anp
from .linalg_helpers import T, _dot

def __getattr__(name):
    try:
        return getattr(_anp.linalg, name)
    except AttributeError:
        return getattr(_np, name)
""",
    # autograd.numpy.linalg's two private helpers, which its tests call.
    "autograd/numpy/linalg_helpers.py": """\
import autodiff_ref.numpy as _anp

def T(x):
    return _anp.swapaxes(x, -1, -2)

def _dot(a, b):
    return _anp.matmul(a, b)
""",
    "autograd/numpy/fft.py": """\
import numpy.fft as _np
import autodiff_ref.numpy as _anp

def __getattr__(name):
    try:
        return getattr(_anp.fft, name)
    except AttributeError:
        return getattr(_np, name)
""",
    "autograd/numpy/random.py": "from numpy.random import *\n",
}


def excluded_reason(test: str) -> str | None:
    """Why ``file.py::test_name`` does not apply, or None."""
    file = test.split("::")[0]
    if file in EXCLUDED_FILES:
        return EXCLUDED_FILES[file]
    for pattern, reason in EXCLUDED_TESTS.items():
        if re.match(pattern, test):
            return reason
    return None


def _outcomes(junit: Path, file: str) -> dict[str, str]:
    """``{file::test: "passed" | "failed" | "skipped"}`` from pytest's JUnit XML."""
    out = {}
    for case in ET.parse(junit).iter("testcase"):
        name = f"{file}::{case.get('name')}"
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            out[name] = "failed"
        elif "skipped" in kinds:
            out[name] = "skipped"
        else:
            out[name] = "passed"
    return out


def run_file(tests: Path, file: str, timeout: float) -> dict[str, str]:
    """Run one test file in its own process, bounded by ``timeout`` seconds."""
    junit = tests / f".{file}.xml"
    cmd = [sys.executable, "-m", "pytest", file, "-q", "-p", "no:cacheprovider"]
    cmd += [f"--junitxml={junit}", "-W", "ignore"]
    try:
        subprocess.run(
            cmd, cwd=tests, timeout=timeout, capture_output=True, check=False
        )
    except subprocess.TimeoutExpired:
        return {f"{file}::(timed out after {timeout:.0f} s)": "failed"}
    if not junit.exists():  # the file did not even import
        return {f"{file}::(collection)": "failed"}
    return _outcomes(junit, file)


def unpack(sdist: Path, into: Path) -> Path:
    """Unpack the sdist's tests and write the fake autograd package beside them."""
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if "/tests/" in m.name]
        tar.extractall(into, members=members, filter="data")
    tests = next(into.glob("*/tests"))
    for rel, text in SHIM_FILES.items():
        path = tests / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # autograd's conftest seeds NumPy's generator before each test: kept.
    return tests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, required=True)
    parser.add_argument("--json", type=Path, help="write every outcome here")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per file")
    parser.add_argument("files", nargs="*", help="only these test files")
    args = parser.parse_args(argv)
    repo = Path(__file__).resolve().parents[1]
    outcomes: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tests = unpack(args.sdist, Path(scratch))
        (tests / "benchmarks").symlink_to(repo / "benchmarks")
        files = args.files or sorted(p.name for p in tests.glob("test_*.py"))
        for file in files:
            outcomes.update(run_file(tests, file, args.timeout))
    report(outcomes)
    if args.json:
        args.json.write_text(json.dumps(outcomes, indent=1, sort_keys=True))
    return 0


def _applies(name: str, outcomes: dict[str, str]) -> bool:
    # A test autograd itself skips (pytest.skip) does not count either way.
    return excluded_reason(name) is None and outcomes[name] != "skipped"


def _tally(names: list[str], outcomes: dict[str, str]) -> tuple[int, int]:
    applicable = [n for n in names if _applies(n, outcomes)]
    return sum(outcomes[n] == "passed" for n in applicable), len(applicable)


def report(outcomes: dict[str, str]) -> None:
    """Print passed / applicable per file, the groups, and what was excluded."""
    by_file: dict[str, list[str]] = {}
    for name in outcomes:
        by_file.setdefault(name.split("::")[0], []).append(name)
    print(f"{'file':28} passed / applicable  (not counted)")
    for file, names in sorted(by_file.items()):
        passed, applicable = _tally(names, outcomes)
        print(f"{file:28} {passed:4d} / {applicable:<4d}  ({len(names) - applicable})")
    groups = {"main suites": [f for f in by_file if f not in APART]}
    groups |= {f: [f] for f in APART if f in by_file}
    for group, files in groups.items():
        names = [n for f in files for n in by_file[f]]
        passed, applicable = _tally(names, outcomes)
        share = 100 * passed / applicable if applicable else float("nan")
        print(f"{group}: {passed}/{applicable} = {share:.1f}%")
    print("\nexcluded (not applicable):")
    for name in sorted(outcomes):
        reason = excluded_reason(name)
        if reason is not None:
            print(f"  {name}: {reason}")
    print("\nfailed (or skipped by autograd):")
    for name in sorted(outcomes):
        if outcomes[name] == "skipped":
            print(f"  {name}: skipped by autograd's own test")
        elif outcomes[name] != "passed" and excluded_reason(name) is None:
            print(f"  {name}")


if __name__ == "__main__":
    sys.exit(main())
