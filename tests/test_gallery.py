"""Every gallery script runs standalone, as a reader would run it: ``python plot_x.py``.

Each script asserts its own claims, so a passing run means its numbers agree
with the independent checks it makes. The scripts run one after another in a
single fresh interpreter (one start-up, not twelve), each as ``__main__`` in an
empty working directory with matplotlib's settings reset, as a reader's run
would be.

A strict docs build (``nox -s docs``) runs every script already. When one of
these very sources has just succeeded, ``nox -s tests`` sets
``AUTODIFF_REF_GALLERY_BUILT`` and the run here is skipped rather than repeated.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))

# Runs in the child interpreter: each script in its own folder, failures collected.
RUNNER = r"""
import os, runpy, sys, tempfile, traceback
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

failed = []
for script in sys.argv[1:]:
    with tempfile.TemporaryDirectory() as cwd:
        os.chdir(cwd)  # scripts must not depend on the working directory
        matplotlib.rcdefaults()
        try:
            runpy.run_path(script, run_name="__main__")
        except BaseException:
            failed.append(script)
            print(f"--- {script} failed:\n{traceback.format_exc()}", file=sys.stderr)
        finally:
            plt.close("all")
            os.chdir(os.path.dirname(script))
print(f"{len(sys.argv) - 1 - len(failed)} scripts ran, {len(failed)} failed")
sys.exit(1 if failed else 0)
"""


def test_gallery_has_scripts() -> None:
    assert len(SCRIPTS) >= 1


def test_gallery_order_lists_every_script_once() -> None:
    # docs/conf.py orders the gallery along the learning path; read its list
    # without running conf.py (which needs the docs dependencies).
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text(encoding="utf-8"))
    (order,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", None) == "GALLERY_ORDER" for t in node.targets)
    ]
    assert sorted(order) == [script.name for script in SCRIPTS]


def test_gallery_scripts_run_standalone() -> None:
    built = os.environ.get("AUTODIFF_REF_GALLERY_BUILT")
    if built:
        pytest.skip(
            f"the strict docs build of these sources ran every script ({built})"
        )
    # The package is installed in the nox session; PYTHONPATH also lets a bare
    # `pytest` from a clone find it.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path}
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, SCRIPTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
