"""The `type: jira` entry of goalsync.yaml: validated here, built into a JiraSource (source.py)
only when a command runs it, so that `validate` never loads the `jira` library."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync.base.contracts import SourceTraits, check_base_url

if TYPE_CHECKING:
    from connectors.jira.source import JiraSource

NATIVE_CLAUSE = "jql"  # the select clause key a Jira source runs itself, as an extra search


class JiraSourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["jira"]
    url: str
    jql: str = Field(min_length=1)
    points_field: str = "auto"
    email_env: str = "JIRA_EMAIL"
    token_env: str | None = None  # default: JIRA_API_TOKEN on Cloud, JIRA_PAT on Data Center
    lookback_minutes: int = Field(default=10, ge=0, le=24 * 60)
    # A year at most: `timedelta(hours=1e300)` overflows. Finite, like every config number.
    reconcile_hours: float = Field(default=24, gt=0, le=24 * 366, allow_inf_nan=False)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_base_url(value)

    def build(self, name: str, base_dir: Path) -> JiraSource:
        """Reads the credentials (the only place they are read); makes no request."""
        del base_dir
        # Imported here: validating a config must not load the `jira` library.
        from connectors.jira.client import resolve_auth
        from connectors.jira.source import JiraSource

        auth = resolve_auth(self.url, self.email_env, self.token_env, source=name)
        return JiraSource(name, self, auth)

    def traits(self) -> SourceTraits:
        return SourceTraits("jira", native_scope=self.jql)
