"""The files a user or packager looks for: licence, citation, changelog, README, tool pins."""

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
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


def _released() -> list[tuple[str, str]]:
    """The (version, date) of every release the changelog lists."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(r"^## (\d+\.\d+\.\d+) - (\d{4}-\d{2}-\d{2})$", changelog, re.M)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in version.split(".dev")[0].split("."))


def test_changelog_claims_no_release_beyond_the_version() -> None:
    headings = re.findall(
        r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M
    )
    assert headings[0] == "Unreleased"
    assert len(headings) == 1 + len(_released())  # every other heading is a release
    version = autodiff_ref.__version__
    released = [v for v, _ in _released()]
    if ".dev" in version:  # between releases: the next one is newer than all of them
        assert all(_version_key(v) < _version_key(version) for v in released)
    else:  # a release: its own section, dated
        assert released[0] == version


def test_citation_dates_a_release_only() -> None:
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    dates = dict(_released())
    if ".dev" in autodiff_ref.__version__:
        assert "date-released" not in citation
    else:
        assert str(citation["date-released"]) == dates[autodiff_ref.__version__]


@pytest.mark.skipif(
    not (ROOT / ".git").exists(), reason="a git checkout has the tags (an sdist none)"
)
def test_every_release_in_the_changelog_is_tagged() -> None:
    tags = subprocess.run(
        ["git", "tag", "--list", "v*"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    ).stdout.split()
    assert {f"v{version}" for version, _ in _released()} <= set(tags)


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


def test_pre_commit_runs_the_locked_ruff_and_codespell() -> None:
    config = yaml.safe_load(
        (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    )
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    hooks = {
        "ruff-pre-commit": {"ruff-check", "ruff-format"},
        "codespell": {"codespell"},
    }
    for repo, ids in hooks.items():
        (entry,) = [r for r in config["repos"] if r["repo"].endswith(f"/{repo}")]
        name = repo.removesuffix("-pre-commit")
        locked = {p["version"] for p in lock["package"] if p["name"] == name}
        # `nox -s lock` rewrites the rev after refreshing uv.lock.
        assert locked == {entry["rev"].removeprefix("v")}, name
        assert {hook["id"] for hook in entry["hooks"]} == ids


def _noxfile_pythons() -> tuple[str, ...]:
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    (value,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "PYTHONS"
    ]
    return tuple(ast.literal_eval(value))


def test_classifiers_name_the_tested_pythons_and_a_status() -> None:
    classifiers = PYPROJECT["project"]["classifiers"]
    prefix = "Programming Language :: Python :: 3."
    declared = tuple(c.removeprefix("Programming Language :: Python :: ")
                     for c in classifiers if c.startswith(prefix))  # fmt: skip
    assert declared == _noxfile_pythons()  # nox -s pythons tests each one
    lowest = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert declared[0] == lowest
    assert sum(c.startswith("Development Status :: ") for c in classifiers) == 1


def test_ci_runs_the_newest_tested_python() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f'-s "pythons({_noxfile_pythons()[-1]})"' in script


@pytest.mark.skipif(
    "AUTODIFF_REF_INSTALLED_IN" not in os.environ,
    reason="nox -s sdist and nox -s wheel set it: they test an installed package",
)
def test_the_package_tested_is_the_installed_one() -> None:
    environment = Path(os.environ["AUTODIFF_REF_INSTALLED_IN"]).resolve()
    imported = Path(autodiff_ref.__file__).resolve()
    assert imported.is_relative_to(environment), imported
    assert not (ROOT / "autodiff_ref").exists()  # no source copy beside the tests


def test_readme_and_contributing_describe_every_nox_session() -> None:
    from lint_self_descriptions import nox_sessions  # tests/ is on sys.path

    sessions = nox_sessions((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert {"tests", "coverage", "wheel", "lock"} <= sessions
    for name in sorted(sessions):
        assert f"| `nox -s {name}` |" in contributing, name  # a row of its table
        assert re.search(rf"\bnox -s {name}\b", readme), name
