"""Jira Cloud and Data Center source (`type: jira`).

The config model is complete and validates; the live connector (search paging, changelog bulk
fetch, incremental cursor) is issue 4 and not built yet, so building one is a config error that
says so before any request is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync.contracts import Source, check_base_url
from sync.errors import ConfigError


class JiraSourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["jira"]
    url: str
    jql: str = Field(min_length=1)
    points_field: str = "auto"
    email_env: str = "JIRA_EMAIL"
    token_env: str | None = None  # default: JIRA_API_TOKEN on Cloud, JIRA_PAT on Data Center
    lookback_minutes: int = Field(default=10, ge=0, le=24 * 60)
    reconcile_hours: float = Field(default=24, gt=0)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_base_url(value)

    def build(self, name: str, base_dir: Path) -> Source:
        del base_dir
        raise ConfigError(
            f"source {name!r} (type jira): the live Jira connector is not available yet in this "
            "version; use a file source with format jira_search (a saved search export) for now"
        )
