"""A quiet terminal: in a terminal `run` and `plan` show warnings and errors only, then the
summary; `-v` adds the info lines, `-vv` the debug ones; an explicit `--log-level` (or
GOALSYNC_LOG_LEVEL) wins; JSON logs for machines keep info.

The terminal is real: the CLI runs under a pseudo-terminal (the stdlib's `pty`, nothing to
install), on the demo config with its paths pointed into a temp folder.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import REPO, clean_env, run_in_terminal

pytestmark = pytest.mark.integration  # the CLI as its own process, on a pseudo-terminal

DEMO = REPO / "examples" / "demo"
AS_OF = "2026-11-16T09:00:00Z"
SUMMARY = "goalsync: 3 goals, "
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demo config, reading the demo's data and writing into tmp_path/out."""
    text = (DEMO / "goalsync.yaml").read_text(encoding="utf-8")
    text = text.replace("path: data/", f"path: {DEMO}/data/")
    text = text.replace("../../out/", f"{tmp_path}/out/")
    assert "../../out" not in text and str(tmp_path) in text
    config = tmp_path / "goalsync.yaml"
    config.write_text(text, encoding="utf-8")
    return config


def in_terminal(root: Path, *args: str, extra: dict[str, str] | None = None) -> tuple[int, str]:
    """`goalsync ARGS` with stdin, stdout and stderr on a pseudo-terminal; the screen's text."""
    env = clean_env(root, extra)
    env.pop("GOALSYNC_LOG_FORMAT")  # auto: the console format, as a person gets it
    code, drawn = run_in_terminal(root, *args, env=env)
    return code, ANSI.sub("", drawn)


def log_lines(screen: str, level: str) -> list[str]:
    """The console log's lines of `level` shown before the summary."""
    before = screen.split(SUMMARY)[0]
    return [line for line in before.splitlines() if f"[{level}" in line]


def run_args(config: Path, *extra: str) -> list[str]:
    state = config.parent / "state"
    return ["run", "--config", str(config), "--state-dir", str(state), "--as-of", AS_OF, *extra]


def test_run_in_a_terminal_shows_no_info_lines_before_the_summary(demo: Path) -> None:
    code, screen = in_terminal(demo.parent, *run_args(demo))
    assert code == 0, screen
    assert SUMMARY in screen, screen
    assert log_lines(screen, "info") == [], screen
    assert "run_started" not in screen and "sink_written" not in screen
    assert (demo.parent / "out" / "status.xlsx").is_file()  # it did run


def test_plan_in_a_terminal_shows_no_info_lines_either(demo: Path) -> None:
    state = demo.parent / "state"
    code, screen = in_terminal(
        demo.parent, "plan", "--config", str(demo), "--state-dir", str(state), "--as-of", AS_OF
    )
    assert code == 0, screen
    assert "nothing was written" in screen
    assert [line for line in screen.splitlines() if "[info" in line] == [], screen


def test_v_shows_the_info_lines(demo: Path) -> None:
    code, screen = in_terminal(demo.parent, *run_args(demo, "-v"))
    assert code == 0, screen
    shown = log_lines(screen, "info")
    assert any("run_started" in line for line in shown), screen
    assert any("run_finished" in line for line in shown), screen
    assert log_lines(screen, "debug") == []


def test_vv_shows_debug_too(demo: Path) -> None:
    code, screen = in_terminal(demo.parent, *run_args(demo, "-vv"))
    assert code == 0, screen
    assert any("run_started" in line for line in log_lines(screen, "info")), screen
    assert any("log_level" in line and "debug" in line for line in log_lines(screen, "debug"))


def test_an_explicit_log_level_wins_over_the_terminal_default(demo: Path) -> None:
    code, screen = in_terminal(demo.parent, *run_args(demo, "--log-level", "info"))
    assert code == 0, screen
    assert any("run_started" in line for line in log_lines(screen, "info")), screen
    code, screen = in_terminal(demo.parent, *run_args(demo), extra={"GOALSYNC_LOG_LEVEL": "info"})
    assert any("run_started" in line for line in log_lines(screen, "info")), screen
    # ... and over -v: --log-level error with -v shows no info
    code, screen = in_terminal(demo.parent, *run_args(demo, "-v", "--log-level", "error"))
    assert code == 0 and log_lines(screen, "info") == [], screen


def test_json_logs_for_machines_keep_info(demo: Path) -> None:
    env = clean_env(demo.parent)  # GOALSYNC_LOG_FORMAT=json, output captured: no terminal
    done = subprocess.run(
        [sys.executable, "-m", "sync.cli", *run_args(demo)],
        cwd=demo.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    events = [line for line in done.stderr.splitlines() if line.startswith("{")]
    assert any('"run_started"' in e and '"level": "info"' in e for e in events), done.stderr
