"""The `type: github` entry of goalsync.yaml: validated here, built into a GitHubSource
(source.py) only when a command runs it, so that `validate` never loads PyGithub."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sync.base.contracts import Source, SourceTraits, check_base_url
from sync.base.secrets import read_secret

log = structlog.get_logger(__name__)

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
    reconcile_hours: float = Field(default=24, gt=0, le=24 * 366, allow_inf_nan=False)

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
        # Imported here: validating a config must not load PyGithub or requests.
        from connectors.github.source import GitHubSource

        token = read_secret(self.token_env)
        if token is None:
            log.warning(
                "github_anonymous",
                source=name,
                variable=self.token_env,
                hint="no token: anonymous requests, public repositories only, 60 an hour",
            )
        return GitHubSource(name, self, token)

    def traits(self) -> SourceTraits:
        return SourceTraits("github")
