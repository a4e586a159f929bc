"""The layer contracts of DESIGN.md ("Layout"), as `make lint` checks them with import-linter:
every module of sync/ outside sync/base/ is named in the contracts (a new module cannot slip
past them), and a contract that is broken fails the check, naming the import."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def top_of_sync() -> set[str]:
    """sync's own modules and packages, but the bottom (sync.base)."""
    out = {f"sync.{p.stem}" for p in (REPO / "sync").glob("*.py") if p.stem != "__init__"}
    out |= {f"sync.{p.name}" for p in (REPO / "sync").iterdir() if (p / "__init__.py").exists()}
    return out - {"sync.base"}


def test_every_module_above_the_bottom_is_named_in_the_contracts() -> None:
    by_name = {c["name"]: c for c in CONTRACTS}
    bottom = by_name["sync.base is the bottom: it imports nothing else of the project"]
    assert set(bottom["forbidden_modules"]) == top_of_sync() | {"connectors", "mappings"}
    sides = by_name["connectors and mappings import only sync.base of sync/"]
    assert set(sides["forbidden_modules"]) == top_of_sync()
    systems = by_name["each outside system's subpackage is independent of the others"]
    packages = {p.name for p in (REPO / "connectors").iterdir() if (p / "__init__.py").exists()}
    assert {m.removeprefix("connectors.") for m in systems["modules"]} == packages


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for package in ("sync", "connectors", "mappings"):
        shutil.copytree(
            REPO / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy2(REPO / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_contracts_hold_and_fail_when_broken(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    kept = lint(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "4 kept, 0 broken" in kept.stdout
    # The bottom reaching up, and one outside system reaching into another: both are caught.
    errors = tree / "sync" / "base" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport sync.store  # noqa\n")
    files = tree / "connectors" / "files" / "csvdir.py"
    files.write_text(files.read_text() + "\nimport connectors.jira.parse  # noqa\n")
    broken = lint(tree)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    # The bottom importing sync.store also makes connectors reach sync.store through it.
    assert "1 kept, 3 broken" in broken.stdout, broken.stdout
    assert "sync.base.errors -> sync.store" in broken.stdout
    assert "connectors.files.csvdir -> connectors.jira.parse" in broken.stdout
