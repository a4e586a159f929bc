from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.github import DEFAULT_IN_PROGRESS_LABELS, GitHubSourceConfig
from sync.errors import ConfigError


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


def test_build_says_the_live_connector_is_not_available_yet(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config(repos=["acme/web"]).build("gh", tmp_path)
    message = str(info.value)
    assert "'gh'" in message
    assert "not available yet" in message
    assert "github_issues" in message
