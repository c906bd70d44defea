"""The dependency rules of the tree hold, and the code is lint- and type-clean."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("spread", "spreadgate", "gateway", "processor", "responder")
# What each package may import from the project (spreadgate.cli runs the components).
ALLOWED = {
    "spread": {"spread"},
    "spreadgate": {"spreadgate", "spread"},
    "gateway": {"gateway", "spreadgate", "spread"},
    "processor": {"processor", "spreadgate", "spread"},
    "responder": {"responder", "spreadgate", "spread"},
}


def project_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
        found |= {n.split(".")[0] for n in names if n.split(".")[0] in PACKAGES}
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_what_the_layering_allows(package: str) -> None:
    wrong = {}
    for path in (REPO / package).rglob("*.py"):
        if path.name == "cli.py" and package == "spreadgate":
            continue  # the command line starts every component
        extra = project_imports(path) - ALLOWED[package]
        if extra:
            wrong[str(path.relative_to(REPO))] = sorted(extra)
    assert wrong == {}


def run(tool: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *tool], cwd=REPO, capture_output=True, text=True, check=False,
                          timeout=600)


def test_ruff_finds_nothing() -> None:
    result = run(["ruff", "check", *PACKAGES, "tests", "bench"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing() -> None:
    result = run(["mypy", "--strict", *PACKAGES])
    assert result.returncode == 0, result.stdout + result.stderr
