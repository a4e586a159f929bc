from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.jira import JiraSourceConfig
from sync.errors import ConfigError


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


def test_build_says_the_live_connector_is_not_available_yet(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config().build("jira", tmp_path)
    message = str(info.value)
    assert "'jira'" in message
    assert "not available yet" in message
    assert "jira_search" in message
