"""The numbers the project's descriptions of itself quote, counted again.

``[tool.repo-review.ignore]`` in pyproject.toml gives a reason for every check
of the Scientific Python Development Guide this project does not follow. A
reason that quotes a number (sessions CI runs) goes stale as the code moves,
so each one is checked here against a count made now; and a check the project
does follow (mypy's strict mode, MY101) stays on. Run by ``nox -s lint``
(``pytest tests/lint_self_descriptions.py``), after the static checks it describes.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _reasons() -> dict[str, str]:
    return _pyproject()["tool"]["repo-review"]["ignore"]


def nox_sessions(noxfile: str) -> set[str]:
    """The names of the sessions a noxfile defines (a parametrised one once)."""
    tree = ast.parse(noxfile)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(call) == "nox.session":
                    names.add(node.name)
    return names


def ci_sessions(script: str) -> set[str]:
    """The nox sessions a CI script runs: the words after ``-s`` on each command line.

    ``pythons(3.13)`` counts as ``pythons``. A line may call nox through a shell
    function (``limited 20 -s docs``); no other command in .ci/run takes ``-s``.
    """
    names = set()
    for line in script.splitlines():
        words = shlex.split(line, comments=True)
        if "-s" not in words:
            continue
        for word in words[words.index("-s") + 1 :]:
            if word.startswith("-"):
                break
            names.add(word.partition("(")[0])
    return names


def _check_ci_sessions(reason: str) -> None:
    quoted = re.search(r"runs (\d+) of the (\d+) nox sessions", reason)
    assert quoted, "GH100 says how many of the nox sessions CI runs"
    ran, of = map(int, quoted.groups())
    in_ci = ci_sessions((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    defined = nox_sessions((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    assert in_ci <= defined, (
        f".ci/run runs sessions noxfile.py lacks: {in_ci - defined}"
    )
    assert (ran, of) == (len(in_ci), len(defined))
    for left_out in defined - in_ci:  # each session CI leaves out is named, with why
        assert re.search(rf"\b{left_out}\b", reason), f"GH100 does not name {left_out}"


CHECKS: dict[str, Callable[[str], None]] = {
    "GH100": _check_ci_sessions,
}


def test_every_reason_that_quotes_a_number_is_checked() -> None:
    quoting = {code for code, reason in _reasons().items() if re.search(r"\d", reason)}
    assert quoting == set(CHECKS), "add a check for a reason that quotes a number"


def test_the_numbers_the_reasons_quote() -> None:
    reasons = _reasons()
    for code, check in CHECKS.items():
        check(reasons[code])


def test_mypy_is_strict_unless_a_reason_says_why() -> None:
    # The lint session runs plain ``mypy``: [tool.mypy] decides how strict it is.
    if "MY101" not in _reasons():
        assert _pyproject()["tool"]["mypy"].get("strict") is True


def test_sessions_are_read_from_the_commands_and_the_decorators() -> None:
    script = """
    # nox -s bench is not run here (a comment)
    python3 -m pip install nox
    python3 -m nox -s docs coverage  # the quick start, measured
    timeout 900 python3 -m nox -s "pythons(3.13)" --no-reuse-existing-virtualenvs
    limited 20 -s wheel
    """
    assert ci_sessions(script) == {"docs", "coverage", "pythons", "wheel"}
    noxfile = """
import nox
@nox.session(default=False)
@nox.parametrize("python", ["3.12"])
def pythons(session): ...
@nox.session
def lint(session): ...
def helper(session): ...
"""
    assert nox_sessions(noxfile) == {"pythons", "lint"}
