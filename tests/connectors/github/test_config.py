from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from connectors.github.config import DEFAULT_IN_PROGRESS_LABELS
from connectors.github.source import GitHubSource, GitHubSourceConfig
from sync.base import secrets


def config(**data: Any) -> GitHubSourceConfig:
    return GitHubSourceConfig.model_validate({"type": "github"} | data)


def test_defaults() -> None:
    c = config(repos=["acme/web", "acme/api"])
    assert c.repos == ("acme/web", "acme/api")
    assert c.base_url == "https://api.github.com"
    assert c.token_env == "GITHUB_TOKEN"
    assert (
        c.in_progress_labels == DEFAULT_IN_PROGRESS_LABELS == ("in progress", "in-progress", "wip")
    )
    assert c.assigned_means_started is False


@pytest.mark.parametrize("repo", ["acme", "acme/", "/web", "acme/web/extra", ""])
def test_repos_must_be_owner_slash_name(repo: str) -> None:
    with pytest.raises(ValidationError, match="is not owner/name"):
        config(repos=["acme/web", repo])


def test_org_alone_is_a_scope() -> None:
    c = config(org="acme", topics=["billing"], name_pattern="pay-*")
    assert c.org == "acme"
    assert c.repos == ()


def test_org_or_repos_is_required() -> None:
    with pytest.raises(ValidationError, match="give repos"):
        config()
    with pytest.raises(ValidationError, match="give repos"):
        config(repos=[])


@pytest.mark.parametrize("extra", [{"topics": ["billing"]}, {"name_pattern": "pay-*"}])
def test_topics_and_name_pattern_need_an_org(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="add org"):
        config(repos=["acme/web"], **extra)


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost/api/v3", "http://localhost/api/v3"),
    ],
)
def test_base_url_https_or_loopback_http(url: str, kept: str) -> None:
    assert config(repos=["acme/web"], base_url=url).base_url == kept


@pytest.mark.parametrize(
    "url", ["http://ghe.example.com/api/v3", "ftp://ghe.example.com", "https://x:y@ghe.example.com"]
)
def test_other_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="base_url"):
        config(repos=["acme/web"], base_url=url)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        config(repos=["acme/web"], token="ghp_x")


def test_build_reads_the_token_from_the_configured_variable_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_GH", "  ghp_secret_value_123\n")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    source = config(repos=["acme/web"], token_env="ACME_GH").build("gh", tmp_path)
    assert isinstance(source, GitHubSource)
    assert source.name == "gh" and source.type == "github"
    token = source.settings.token
    assert token is not None and token.get_secret_value() == "ghp_secret_value_123"  # stripped
    assert "ghp_secret_value_123" in secrets.known()  # masked in logs from now on


def test_build_without_a_token_is_anonymous_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with capture_logs() as logs:
        source = config(repos=["acme/web"]).build("gh", tmp_path)
    assert isinstance(source, GitHubSource)
    assert source.settings.token is None
    warning = next(e for e in logs if e["event"] == "github_anonymous")
    assert warning["log_level"] == "warning"
    assert warning["source"] == "gh" and warning["variable"] == "GITHUB_TOKEN"


def test_build_keeps_the_enterprise_api_root(tmp_path: Path) -> None:
    source = config(repos=["acme/web"], base_url="https://ghe.example.com/api/v3/").build(
        "gh", tmp_path
    )
    assert isinstance(source, GitHubSource)
    assert source.settings.base_url == "https://ghe.example.com/api/v3"
