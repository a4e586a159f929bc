"""sync.settings: GOALSYNC_ variables and secrets read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from sync.base.http_limits import Limits
from sync.settings import Settings, read_secret

VARIABLES = (
    "GOALSYNC_CONFIG",
    "GOALSYNC_STATE_DIR",
    "GOALSYNC_LOG_FORMAT",
    "GOALSYNC_LOG_LEVEL",
    "GOALSYNC_RETRY_BUDGET_S",
    "GOALSYNC_REQUEST_DEADLINE_S",
    "GOALSYNC_MAX_RESPONSE_MB",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env or goalsync.yaml


def test_defaults_without_any_variable() -> None:
    s = Settings()
    assert s.config == Path("goalsync.yaml")
    assert s.state_dir == Path(".goalsync")
    assert s.log_format == "auto"
    assert s.log_level == "info"
    assert s.retry_budget_s == 300.0


def test_goalsync_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOALSYNC_CONFIG", "/etc/goalsync/prod.yaml")
    monkeypatch.setenv("GOALSYNC_STATE_DIR", "/var/lib/goalsync")
    monkeypatch.setenv("GOALSYNC_LOG_FORMAT", "json")
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "debug")
    monkeypatch.setenv("GOALSYNC_RETRY_BUDGET_S", "12.5")
    s = Settings()
    assert s.config == Path("/etc/goalsync/prod.yaml")
    assert s.state_dir == Path("/var/lib/goalsync")
    assert s.log_format == "json"
    assert s.log_level == "debug"
    assert s.retry_budget_s == 12.5


def test_the_request_deadline_and_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().limits() == Limits(deadline_s=120.0, max_bytes=32 * 1024 * 1024)
    monkeypatch.setenv("GOALSYNC_REQUEST_DEADLINE_S", "2.5")
    monkeypatch.setenv("GOALSYNC_MAX_RESPONSE_MB", "0.5")
    assert Settings().limits() == Limits(deadline_s=2.5, max_bytes=512 * 1024)


def test_unprefixed_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG", "other.yaml")
    monkeypatch.setenv("STATE_DIR", "/tmp/other")
    monkeypatch.setenv("LOG_LEVEL", "error")
    s = Settings()
    assert s.config == Path("goalsync.yaml")
    assert s.state_dir == Path(".goalsync")
    assert s.log_level == "info"


def test_explicit_values_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOALSYNC_CONFIG", "from-env.yaml")
    assert Settings(config=Path("from-flag.yaml")).config == Path("from-flag.yaml")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GOALSYNC_LOG_FORMAT", "xml"),
        ("GOALSYNC_LOG_LEVEL", "loud"),
        ("GOALSYNC_RETRY_BUDGET_S", "0"),
        ("GOALSYNC_REQUEST_DEADLINE_S", "0"),
        ("GOALSYNC_REQUEST_DEADLINE_S", "inf"),
        ("GOALSYNC_MAX_RESPONSE_MB", "-1"),
        ("GOALSYNC_MAX_RESPONSE_MB", "nan"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_read_secret_strips_whitespace_and_hides_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_TOKEN", "  ghp_secretvalue\n")
    secret = read_secret("MY_TOKEN")
    assert isinstance(secret, SecretStr)
    assert secret.get_secret_value() == "ghp_secretvalue"
    assert "ghp_secretvalue" not in repr(secret)
    assert "ghp_secretvalue" not in str(secret)
    assert "ghp_secretvalue" not in f"{secret}"


@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_a_blank_secret_is_none(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MY_TOKEN", value)
    assert read_secret("MY_TOKEN") is None


def test_an_unset_secret_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_TOKEN", raising=False)
    assert read_secret("MY_TOKEN") is None
