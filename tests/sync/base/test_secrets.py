from __future__ import annotations

import io
import json

import pytest
import structlog

from sync.base import secrets
from sync.log import configure_logging


def test_read_secret_strips_registers_and_hides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODDLY_NAMED_VAR", "  canary-9f8e7d6c5b\n")
    value = secrets.read_secret("ODDLY_NAMED_VAR")
    assert value is not None
    assert value.get_secret_value() == "canary-9f8e7d6c5b"
    assert "canary" not in repr(value) and "canary" not in str(value)
    assert "canary-9f8e7d6c5b" in secrets.known()


def test_a_registered_secret_is_masked_in_logs_whatever_its_variable_is_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLAIN_NAME", "zz-registered-canary-31337")
    secrets.read_secret("PLAIN_NAME")  # the name has no secret word: only registration masks it
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    try:
        structlog.get_logger("t").error("failed", error="401 for token zz-registered-canary-31337")
    finally:
        structlog.reset_defaults()
    line = json.loads(out.getvalue().splitlines()[-1])
    assert "zz-registered-canary-31337" not in out.getvalue()
    assert line["error"] == "401 for token ***"


def test_blank_or_unset_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLANK_SECRET", "   ")
    monkeypatch.delenv("UNSET_SECRET", raising=False)
    assert secrets.read_secret("BLANK_SECRET") is None
    assert secrets.read_secret("UNSET_SECRET") is None
