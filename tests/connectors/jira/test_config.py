from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import responses
import structlog
from pydantic import ValidationError

from connectors.jira.source import JiraSource, JiraSourceConfig
from sync.base import secrets


def config(**overrides: Any) -> JiraSourceConfig:
    data: dict[str, Any] = {
        "type": "jira",
        "url": "https://acme.atlassian.net",
        "jql": "project in (PAY, CORE)",
    } | overrides
    return JiraSourceConfig.model_validate(data)


def test_defaults() -> None:
    c = config()
    assert c.url == "https://acme.atlassian.net"
    assert c.points_field == "auto"
    assert c.email_env == "JIRA_EMAIL"
    assert c.token_env is None
    assert c.lookback_minutes == 10
    assert c.reconcile_hours == 24


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://acme.atlassian.net/", "https://acme.atlassian.net"),
        ("https://jira.example.com/jira", "https://jira.example.com/jira"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_https_urls_and_loopback_http_are_accepted(url: str, kept: str) -> None:
    assert config(url=url).url == kept


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://acme.atlassian.net", "must use https"),
        ("http://10.0.0.5:8080", "must use https"),
        ("http://127.0.0.1.nip.io", "must use https"),
        ("ftp://acme.atlassian.net", "must be an http(s) URL"),
        ("acme.atlassian.net", "must be an http(s) URL"),
        ("https://", "must be an http(s) URL"),
        ("https://me:secret@acme.atlassian.net", "must not carry credentials"),
    ],
)
def test_other_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(ValidationError) as info:
        config(url=url)
    assert why in str(info.value)
    assert "secret" not in str(info.value)  # the input is not echoed


@pytest.mark.parametrize(
    "overrides",
    [{"jql": ""}, {"lookback_minutes": -1}, {"reconcile_hours": 0}, {"projects": ["PAY"]}],
)
def test_invalid_values_and_unknown_keys_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        config(**overrides)


ENV = ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "MY_TOKEN", "BOT_EMAIL")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_build_reads_cloud_email_and_api_token_and_makes_no_request(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("JIRA_EMAIL", "bot@acme.example")
    env.setenv("JIRA_API_TOKEN", "  atl-token-123456\n")  # pasted with a newline
    with responses.RequestsMock() as mock:
        source = config().build("jira", tmp_path)
        assert len(mock.calls) == 0
    assert isinstance(source, JiraSource) and source.name == "jira" and source.type == "jira"
    assert source.auth.mode == "basic"
    assert source.auth.token is not None
    assert source.auth.token.get_secret_value() == "atl-token-123456"
    assert source.auth.describe() == "JIRA_EMAIL and JIRA_API_TOKEN"
    assert "atl-token-123456" in secrets.known()  # masked in every log line


def test_build_reads_a_data_center_personal_access_token(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("JIRA_PAT", "pat-0123456789")
    source = config(url="https://jira.acme.example").build("core", tmp_path)
    assert source.auth.mode == "bearer"
    assert source.auth.describe() == "JIRA_PAT"


def test_with_both_set_a_cloud_host_uses_basic_and_another_host_the_pat(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("JIRA_EMAIL", "bot@acme.example")
    env.setenv("JIRA_API_TOKEN", "atl-token-123456")
    env.setenv("JIRA_PAT", "pat-0123456789")
    assert config().build("jira", tmp_path).auth.mode == "basic"
    assert config(url="https://jira.acme.example").build("j", tmp_path).auth.mode == "bearer"


def test_other_variable_names(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("BOT_EMAIL", "bot@acme.example")
    env.setenv("MY_TOKEN", "tok-0123456789")
    basic = config(email_env="BOT_EMAIL", token_env="MY_TOKEN").build("jira", tmp_path)
    assert basic.auth.mode == "basic" and basic.auth.describe() == "BOT_EMAIL and MY_TOKEN"
    bearer = config(token_env="MY_TOKEN").build("jira", tmp_path)
    assert bearer.auth.mode == "bearer" and bearer.auth.describe() == "MY_TOKEN"


def test_no_secret_means_anonymous_with_a_warning(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with structlog.testing.capture_logs() as logs:
        source = config().build("jira", tmp_path)
    assert source.auth.mode == "anonymous"
    warning = next(e for e in logs if e["event"] == "jira_anonymous")
    assert warning["log_level"] == "warning" and warning["source"] == "jira"
    assert "JIRA_EMAIL and JIRA_API_TOKEN" in warning["reason"] and "JIRA_PAT" in warning["reason"]


def test_an_email_without_a_token_is_anonymous_too(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("JIRA_EMAIL", "bot@acme.example")
    assert config().build("jira", tmp_path).auth.mode == "anonymous"
