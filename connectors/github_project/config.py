"""The `type: github_project` entry of goalsync.yaml: a GitHub Projects (v2) board, validated
here, built into a GitHubProjectSource (source.py) only when a command runs it, so that
`validate` never loads requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync.base.contracts import ItemRules, Source, SourceTraits, check_base_url
from sync.base.secrets import read_secret

log = structlog.get_logger(__name__)

DEFAULT_DONE = ("Done",)
DEFAULT_IN_PROGRESS = ("In Progress",)  # GitHub's board template: Todo, In Progress, Done


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardRules:
    """How a board item's field values become a WorkItem (the config's, or an export's
    defaults). Values are compared with case and outer spaces ignored."""

    status_field: str = "Status"
    done_values: tuple[str, ...] = DEFAULT_DONE
    in_progress_values: tuple[str, ...] = DEFAULT_IN_PROGRESS
    points_field: str | None = None
    goal_field: str | None = None
    items: ItemRules = field(default_factory=ItemRules)


class GitHubProjectSourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["github_project"]
    owner: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")  # org or user login
    number: int = Field(ge=1)
    base_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"  # noqa: S105 (the name of a variable, not a secret)
    status_field: str = Field(default="Status", min_length=1)
    done_values: tuple[str, ...] = Field(default=DEFAULT_DONE, min_length=1)
    in_progress_values: tuple[str, ...] = DEFAULT_IN_PROGRESS
    points_field: str | None = None
    goal_field: str | None = None

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_base_url(value)

    @property
    def graphql_url(self) -> str:
        return graphql_url(self.base_url)

    @property
    def board(self) -> str:
        """`acme/project-7`: how messages and draft keys name the board."""
        return f"{self.owner}/project-{self.number}"

    def rules(self, items: ItemRules) -> BoardRules:
        return BoardRules(
            status_field=self.status_field,
            done_values=self.done_values,
            in_progress_values=self.in_progress_values,
            points_field=self.points_field,
            goal_field=self.goal_field,
            items=items,
        )

    def build(self, name: str, base_dir: Path) -> Source:
        del base_dir
        # Imported here: validating a config must not load requests.
        from connectors.github_project.source import GitHubProjectSource

        token = read_secret(self.token_env)
        if token is None:  # as every source: validate passes, the pull and doctor say why not
            log.warning(
                "github_project_no_token",
                source=name,
                variable=self.token_env,
                hint="GitHub's GraphQL API answers no anonymous request: the pull will fail",
            )
        return GitHubProjectSource(name, self, token)

    def traits(self) -> SourceTraits:
        return SourceTraits("github")  # keys and repos as the github source's items


def graphql_url(base_url: str) -> str:
    """GitHub's GraphQL endpoint for a REST `base_url`: api.github.com -> /graphql; GitHub
    Enterprise Server's `https://ghe/api/v3` -> `https://ghe/api/graphql`; anything else (a test
    server) -> base_url + /graphql."""
    parts = urlsplit(base_url.rstrip("/"))
    if parts.path.endswith("/api/v3"):
        path = parts.path[: -len("/v3")] + "/graphql"
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    return base_url.rstrip("/") + "/graphql"
