"""sync.log: secrets from the environment never reach the log; JSON lines off a terminal."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from sync.log import REDACTED, Redactor, configure_logging, secret_values

CANARY = "canary-7f3a9c1e5b2d"


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_secret_values_are_those_of_variables_whose_name_has_a_secret_word() -> None:
    env = {
        "JIRA_API_TOKEN": "tok-123456",
        "GITHUB_TOKEN": "ghp_abcdef",
        "JIRA_PAT": "pat-abcdef",
        "DB_PASSWORD": "hunter2hunter2",
        "CLIENT_SECRET": "s3cr3t-value",
        "OPENAI_API_KEY": "sk-999999",
        "JIRA_EMAIL": "dana@example.com",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": "/work/main/src",
        "KEYBOARD_LAYOUT": "de-nodeadkeys",  # "KEY" must be a word, not a prefix
        "TOKENIZERS_PARALLELISM": "false-ish",
        "HOME": "/home/dana",
        "SHORT_TOKEN": "abc",  # too short to redact safely
        "BLANK_SECRET": "   ",
    }
    found = secret_values(env)
    assert set(found) == {
        "tok-123456",
        "ghp_abcdef",
        "pat-abcdef",
        "hunter2hunter2",
        "s3cr3t-value",
        "sk-999999",
        "dana@example.com",
    }
    assert found == sorted(found, key=len, reverse=True)  # longest first


def test_secret_values_strip_whitespace_like_read_secret_does() -> None:
    assert secret_values({"GITHUB_TOKEN": "  ghp_abcdef\n"}) == ["ghp_abcdef"]


def test_secret_values_read_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOALSYNC_TEST_API_TOKEN", CANARY)
    assert CANARY in secret_values()


def test_the_redactor_masks_secrets_in_nested_values_and_exceptions() -> None:
    redactor = Redactor(["tok-123456", "dana@example.com"])
    event: dict[str, Any] = {
        "event": "source_failed tok-123456",
        "error": "401 for dana@example.com with tok-123456",
        "headers": {"Authorization": "Bearer tok-123456", "n": 3},
        "urls": ["https://x/?t=tok-123456", "https://ok"],
        "pair": ("tok-123456", None),
        "exc": ValueError("bad token tok-123456"),
        "count": 7,
    }
    out = redactor(None, "error", event)
    text = repr(out)
    assert "tok-123456" not in text and "dana@example.com" not in text
    assert out["error"] == f"401 for {REDACTED} with {REDACTED}"
    assert out["headers"] == {"Authorization": f"Bearer {REDACTED}", "n": 3}
    assert out["urls"] == [f"https://x/?t={REDACTED}", "https://ok"]
    assert out["pair"] == (REDACTED, None)
    assert out["exc"] == f"ValueError: bad token {REDACTED}"
    assert out["count"] == 7


def test_the_redactor_masks_a_longer_secret_before_one_it_contains() -> None:
    redactor = Redactor(["abcdef"])
    redactor.add("abcdef-ghijkl")
    assert redactor.redact("x abcdef-ghijkl y abcdef") == f"x {REDACTED} y {REDACTED}"
    redactor.add("abc")  # too short: would mask ordinary words
    assert redactor.redact("abc") == "abc"


def test_path_values_are_not_treated_as_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
    monkeypatch.setenv("PYTHONPATH", "/opt/goalsync/lib")
    stream = io.StringIO()
    configure_logging("auto", "info", stream=stream)
    structlog.get_logger("t").info("started", where="/opt/goalsync/lib", bin="/usr/bin")
    line = json.loads(stream.getvalue())
    assert line["where"] == "/opt/goalsync/lib" and line["bin"] == "/usr/bin"


def test_json_lines_off_a_terminal_and_the_canary_never_appears(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOALSYNC_CANARY_TOKEN", CANARY)
    stream = io.StringIO()
    configure_logging("auto", "info", stream=stream)
    log = structlog.get_logger("test")
    log.info("pulling", url=f"https://api.example.com/?access_token={CANARY}")
    log.error("source_failed", error=f"401 Unauthorized: token {CANARY} rejected")
    log.warning("nested", detail={"headers": [f"Bearer {CANARY}"]})
    try:
        raise RuntimeError(f"request with {CANARY} failed")
    except RuntimeError:
        log.exception("crashed")
    log.error("as_value", exc=ValueError(f"bad {CANARY}"))

    output = stream.getvalue()
    assert CANARY not in output
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["event"] for line in lines] == [
        "pulling",
        "source_failed",
        "nested",
        "crashed",
        "as_value",
    ]
    assert lines[0]["level"] == "info" and "timestamp" in lines[0]
    assert lines[1]["error"] == f"401 Unauthorized: token {REDACTED} rejected"
    assert lines[2]["detail"] == {"headers": [f"Bearer {REDACTED}"]}
    # An exception is its type and message only (no traceback), redacted too.
    assert lines[3]["error"] == f"RuntimeError: request with {REDACTED} failed"
    assert "Traceback" not in output
    assert lines[4]["exc"] == f"ValueError: bad {REDACTED}"


def test_a_terminal_gets_the_console_format_and_json_can_be_forced() -> None:
    tty = FakeTTY()
    configure_logging("auto", "info", stream=tty)
    structlog.get_logger("t").info("hello_console", n=1)
    text = tty.getvalue()
    assert "hello_console" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])

    forced = FakeTTY()
    configure_logging("json", "info", stream=forced)
    structlog.get_logger("t").info("hello_json", n=1)
    assert json.loads(forced.getvalue())["event"] == "hello_json"

    console = io.StringIO()
    configure_logging("console", "info", stream=console)
    structlog.get_logger("t").info("plain")
    assert "plain" in console.getvalue()
    assert "\x1b[" not in console.getvalue()  # no colours off a terminal


def test_the_level_filters_events() -> None:
    stream = io.StringIO()
    configure_logging("json", "warning", stream=stream)
    log = structlog.get_logger("t")
    log.info("quiet")
    log.debug("quieter")
    log.warning("loud")
    assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == ["loud"]


def test_configure_logging_returns_the_redactor_for_the_clis_own_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", CANARY)
    redactor = configure_logging("json", "info", stream=io.StringIO())
    assert redactor.redact(f"goalsync: bad {CANARY}") == f"goalsync: bad {REDACTED}"


def test_bound_context_is_redacted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)
    structlog.contextvars.bind_contextvars(source=f"gh-{CANARY}")
    structlog.get_logger("t").info("x")
    assert CANARY not in stream.getvalue()
    assert json.loads(stream.getvalue())["source"] == f"gh-{REDACTED}"


def test_a_console_defaults_to_warnings_and_json_lines_to_info() -> None:
    tty = FakeTTY()
    redactor = configure_logging("auto", None, stream=tty)
    structlog.get_logger("t").info("quiet_in_a_terminal")
    structlog.get_logger("t").warning("shown_in_a_terminal")
    assert redactor.level == "warning"
    assert "quiet_in_a_terminal" not in tty.getvalue()
    assert "shown_in_a_terminal" in tty.getvalue()

    stream = io.StringIO()
    assert configure_logging("auto", None, stream=stream).level == "info"
    structlog.get_logger("t").info("kept_for_machines")
    assert json.loads(stream.getvalue())["event"] == "kept_for_machines"


def test_verbose_raises_the_default_and_an_explicit_level_wins() -> None:
    assert configure_logging("console", None, stream=FakeTTY(), verbose=1).level == "info"
    assert configure_logging("console", None, stream=FakeTTY(), verbose=2).level == "debug"
    assert configure_logging("console", "error", stream=FakeTTY(), verbose=2).level == "error"
