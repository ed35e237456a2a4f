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
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
SCRIPTS = sorted(EXAMPLES.glob("plot_*.py"))
# docs/_ext/gallery_time_limit.py: the time limit each script runs under.
EXT = ROOT / "docs" / "_ext"

# Runs in the child interpreter: each script in its own folder, failures collected.
# Each script gets the build's time limit (docs/_ext/gallery_time_limit.py).
RUNNER = r"""
import os, runpy, sys, tempfile, traceback
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import gallery_time_limit

failed = []
for script in sys.argv[1:]:
    with tempfile.TemporaryDirectory() as cwd:
        os.chdir(cwd)  # scripts must not depend on the working directory
        matplotlib.rcdefaults()
        try:
            gallery_time_limit.start(script)
            runpy.run_path(script, run_name="__main__")
        except BaseException:
            failed.append(script)
            print(f"--- {script} failed:\n{traceback.format_exc()}", file=sys.stderr)
        finally:
            gallery_time_limit.stop()
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


def _run(
    scripts: list[Path], extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The scripts run by RUNNER in one fresh interpreter."""
    # The package is installed in the nox session; PYTHONPATH also lets a bare
    # `pytest` from a clone find it, and the runner find the time limit.
    path = os.pathsep.join(
        p for p in (str(ROOT), str(EXT), os.environ.get("PYTHONPATH")) if p
    )
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": path, **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, scripts)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # beyond the per-script limits of the runner itself
    )


def test_gallery_scripts_run_standalone() -> None:
    built = os.environ.get("AUTODIFF_REF_GALLERY_BUILT")
    if built:
        pytest.skip(f"the gallery scripts already ran with these sources ({built})")
    result = _run(SCRIPTS)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"


# A script that hangs: its third line sleeps far past the tiny limit below.
HANGING = "import time\n\ntime.sleep(300)  # hangs\nprint('never printed')\n"


def test_a_script_past_its_time_limit_fails_naming_itself_and_its_line(
    tmp_path: Path,
) -> None:
    script = tmp_path / "plot_hangs.py"
    script.write_text(HANGING, encoding="utf-8")
    started = time.monotonic()
    result = _run([script], {"AUTODIFF_REF_GALLERY_TIME_LIMIT": "1"})
    # Stopped at the limit (plus the interpreter's start), long before the sleep ends.
    assert time.monotonic() - started < 120
    assert result.returncode == 1
    assert "never printed" not in result.stdout
    assert (
        "the gallery script plot_hangs.py ran longer than its time limit of 1 s"
        in result.stderr
    )
    assert f"{script}, line 3: time.sleep(300)  # hangs" in result.stderr
    assert "0 scripts ran, 1 failed" in result.stdout


def test_the_build_hook_stops_a_script_as_sphinx_gallery_runs_it(
    tmp_path: Path,
) -> None:
    # sphinx-gallery compiles each block with the script's path as its file name
    # and calls reset(gallery_conf, fname, when) before and after it.
    script = tmp_path / "plot_hangs.py"
    script.write_text(HANGING, encoding="utf-8")
    code = compile(HANGING, str(script), "exec")
    sys.path.insert(0, str(EXT))
    try:
        import gallery_time_limit
    finally:
        sys.path.remove(str(EXT))
    monkeypatched = pytest.MonkeyPatch()
    monkeypatched.setattr(gallery_time_limit, "SECONDS", 0.5)
    try:
        gallery_time_limit.reset({}, "plot_hangs.py", when="before")
        with pytest.raises(gallery_time_limit.ScriptTimeout) as raised:
            exec(code, {"__name__": "__main__"})
    finally:
        gallery_time_limit.reset({}, "plot_hangs.py", when="after")
        monkeypatched.undo()
    assert "plot_hangs.py ran longer than its time limit of 0.5 s" in str(raised.value)
    assert f"{script}, line 3: time.sleep(300)" in str(raised.value)


def test_the_docs_build_gives_every_gallery_script_the_time_limit() -> None:
    # Read sphinx_gallery_conf without running conf.py (docs dependencies).
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text(encoding="utf-8"))
    (conf,) = [
        {
            key.value: value
            for key, value in zip(node.value.keys, node.value.values, strict=True)
            if isinstance(key, ast.Constant)
        }
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", None) == "sphinx_gallery_conf" for t in node.targets)
    ]
    assert "gallery_time_limit.reset" in ast.literal_eval(conf["reset_modules"])
    assert ast.literal_eval(conf["reset_modules_order"]) == "both"
