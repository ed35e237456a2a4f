"""Every gallery script runs standalone, as a reader would run it: ``python plot_x.py``.

Each script asserts its own claims, so a passing run means its numbers agree
with the independent checks it makes.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))


def test_gallery_has_scripts() -> None:
    assert len(SCRIPTS) >= 1


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_gallery_script_runs_standalone(script: Path, tmp_path: Path) -> None:
    # The package is installed in the nox session; PYTHONPATH also lets a bare
    # `pytest` from a clone find it.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,  # scripts must not depend on the working directory
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
