"""What the CLI's imports cost a run's start-up: structlog comes in without rich's traceback and
pretty-printer (sync/__init__.py), and a console log still renders with structlog's console
renderer, a JSON log as JSON lines; the alerts' HTTP client only when an alert goes out."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from sync.log import configure_logging
from tests.interpreter import fresh_python

# Imported by structlog only for an exception formatter goalsync never uses.
UNUSED = ("rich.traceback", "rich.pretty", "pygments", "attr")


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_the_cli_imports_structlog_without_richs_tracebacks() -> None:
    code = (
        "import sys, io\n"
        "import sync.cli\n"
        "from sync.log import configure_logging\n"
        "configure_logging('json', stream=io.StringIO())\n"
        f"print([m for m in {UNUSED!r} if m in sys.modules])\n"
        "import rich.traceback, rich.pretty  # importable again once structlog is in\n"
    )
    assert fresh_python(code).strip() == "[]"


def test_the_cli_imports_no_http_client_for_the_alerts() -> None:
    code = "import sys, sync.cli; print('requests' in sys.modules)"
    assert fresh_python(code).strip() == "False"


def test_a_console_log_renders_with_structlogs_console_renderer() -> None:
    out = io.StringIO()
    configure_logging("console", "info", stream=out)
    assert isinstance(structlog.get_config()["processors"][-1], structlog.dev.ConsoleRenderer)
    log = structlog.get_logger("test")
    log.info("pulled", source="jira")
    try:
        raise ValueError("no such field")
    except ValueError:
        log.error("failed", exc_info=True)
    lines = out.getvalue().splitlines()
    assert "[info     ] pulled" in lines[0] and "source=jira" in lines[0]
    assert "[error    ] failed" in lines[1]
    assert "error='ValueError: no such field'" in lines[1]  # type and message, no traceback
    assert len(lines) == 2


def test_a_json_log_renders_json_lines() -> None:
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    structlog.get_logger("test").info("pulled", source="jira")
    entry = json.loads(out.getvalue())
    assert (entry["event"], entry["source"], entry["level"]) == ("pulled", "jira", "info")


def test_progress_bars_load_rich_progress_only_when_drawn() -> None:
    code = (
        "import sys, io, sync.cli, sync.run_cli\n"
        "print('rich.progress' in sys.modules)\n"
        "from sync.progress import TerminalProgress\n"
        "TerminalProgress()\n"
        "print('rich.progress' in sys.modules)\n"
    )
    assert fresh_python(code).split() == ["False", "True"]
