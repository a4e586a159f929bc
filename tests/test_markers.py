"""The fast layer stays fast: a test module that starts goalsync as its own process (the CLI's
subprocess helpers, `python -m sync.cli`) is marked `integration`, or lives in a directory that
tests/conftest.py marks so. `make unit` leaves those to `make test`."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import INTEGRATION_DIRS

TESTS = Path(__file__).resolve().parent
# What starts the CLI as a process: the helpers of tests/cli/helpers.py, or the module itself.
SPAWNS = re.compile(
    r"from tests\.cli\.helpers import [^\n]*\b(goalsync|run_in_terminal)\b|\"-m\", \"sync\.cli\""
)
MARKED = "pytest.mark.integration"


def spawning_modules_outside_the_integration_dirs(root: Path) -> dict[Path, bool]:
    """Each test module that starts the CLI, outside the integration directories -> marked?"""
    found: dict[Path, bool] = {}
    dirs = [root / d.name for d in INTEGRATION_DIRS]
    for path in sorted(root.rglob("test_*.py")):
        if any(path.is_relative_to(d) for d in dirs):
            continue
        text = path.read_text(encoding="utf-8")
        if SPAWNS.search(text):
            found[path.relative_to(root)] = MARKED in text
    return found


def test_every_module_that_starts_the_cli_is_marked_integration() -> None:
    found = spawning_modules_outside_the_integration_dirs(TESTS)
    assert Path("cli/test_newcomer.py") in found  # the check sees the modules it is about
    unmarked = [str(p) for p, marked in found.items() if not marked]
    assert not unmarked, f"start the CLI as a process but are not marked integration: {unmarked}"


def test_an_unmarked_module_that_starts_the_cli_is_caught(tmp_path: Path) -> None:
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "test_new.py").write_text(
        "from tests.cli.helpers import REPO, goalsync\n", encoding="utf-8"
    )
    (tmp_path / "e2e").mkdir()
    (tmp_path / "e2e" / "test_run.py").write_text(
        'CMD = [sys.executable, "-m", "sync.cli"]\n', encoding="utf-8"
    )
    assert spawning_modules_outside_the_integration_dirs(tmp_path) == {
        Path("cli/test_new.py"): False
    }
