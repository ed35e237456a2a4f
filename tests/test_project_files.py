"""The files a user or packager looks for: licence, citation, changelog, README, tool pins."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import autodiff_ref

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_licence_file_and_metadata_agree() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "BSD-3-Clause"  # an SPDX expression (PEP 639)
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder" in text  # the third clause
    assert project["authors"]


def test_citation_cff_has_the_required_keys() -> None:
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    # Required by the Citation File Format 1.2.0 schema.
    assert citation["cff-version"] == "1.2.0"
    assert isinstance(citation["message"], str) and citation["message"]
    assert isinstance(citation["title"], str) and citation["title"]
    assert citation["authors"] and all(
        "name" in a or "family-names" in a for a in citation["authors"]
    )
    assert str(citation["version"]) == autodiff_ref.__version__
    assert citation["license"] == PYPROJECT["project"]["license"]


def test_changelog_has_the_released_version_and_an_unreleased_section() -> None:
    headings = re.findall(
        r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M
    )
    assert headings[0] == "Unreleased"
    assert any(h.startswith(f"{autodiff_ref.__version__} ") for h in headings)


def test_readme_python_example_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", readme, re.M | re.S)
    assert blocks, "the README shows the API in a ```python block"
    script = tmp_path / "readme_example.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    # The package is installed in the nox sessions; PYTHONPATH finds it in a clone too.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_pre_commit_runs_the_locked_ruff() -> None:
    config = yaml.safe_load(
        (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    )
    (ruff,) = [r for r in config["repos"] if r["repo"].endswith("/ruff-pre-commit")]
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked = {p["version"] for p in lock["package"] if p["name"] == "ruff"}
    # `nox -s lock` rewrites the rev after refreshing uv.lock.
    assert locked == {ruff["rev"].removeprefix("v")}
    assert {hook["id"] for hook in ruff["hooks"]} == {"ruff-check", "ruff-format"}
