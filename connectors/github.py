"""GitHub source (`type: github`): issues and pull requests of repositories.

The config model is complete and validates; the live connector (paging, ETags, events stream,
rate limits) is issue 5 and not built yet, so building one is a config error that says so
before any request is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sync.contracts import Source, check_base_url
from sync.errors import ConfigError

DEFAULT_IN_PROGRESS_LABELS = ("in progress", "in-progress", "wip")


class GitHubSourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["github"]
    repos: tuple[str, ...] = ()
    org: str | None = None
    topics: tuple[str, ...] = ()
    name_pattern: str | None = None
    base_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"  # noqa: S105 (the name of a variable, not a secret)
    in_progress_labels: tuple[str, ...] = DEFAULT_IN_PROGRESS_LABELS
    assigned_means_started: bool = False
    lookback_minutes: int = Field(default=10, ge=0, le=24 * 60)
    reconcile_hours: float = Field(default=24, gt=0)

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_base_url(value)

    @field_validator("repos")
    @classmethod
    def _repo_names(cls, repos: tuple[str, ...]) -> tuple[str, ...]:
        for repo in repos:
            owner, _, name = repo.partition("/")
            if not owner or not name or "/" in name:
                raise ValueError(f"{repo!r} is not owner/name")
        return repos

    @model_validator(mode="after")
    def _scope(self) -> GitHubSourceConfig:
        if not self.repos and not self.org:
            raise ValueError("give repos: [owner/name, ...] or org: <name>")
        if (self.topics or self.name_pattern) and not self.org:
            raise ValueError("topics and name_pattern filter an org's repositories: add org")
        return self

    def build(self, name: str, base_dir: Path) -> Source:
        del base_dir
        raise ConfigError(
            f"source {name!r} (type github): the live GitHub connector is not available yet in "
            "this version; use a file source with format github_issues (a saved issues export)"
        )
