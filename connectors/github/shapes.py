"""The shapes of the GitHub payloads goalsync reads: exactly the fields github_parse uses.

From GitHub's REST OpenAPI description (`issue`, `issue-event`, `milestone`), loosened where real
payloads and goalsync's own tests carry nulls: every field but an issue's `number` and
`repository_url` may be null or missing (the parser reads either as "not set"). Strings stay
strings here; times are checked where they are read (github_parse.parse_time), once.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from pydantic import TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from sync.base.shapes import STRICT


@with_config(STRICT)
class Label(TypedDict):
    # The OpenAPI allows a label as a bare string too (`oneOf: [string, object]`).
    name: str


@with_config(STRICT)
class User(TypedDict, total=False):
    login: str | None


@with_config(STRICT)
class IssueMilestone(TypedDict, total=False):
    title: str | None
    due_on: str | None


@with_config(STRICT)
class PullRequestRef(TypedDict, total=False):
    merged_at: str | None


@with_config(STRICT)
class Issue(TypedDict):
    """An entry of `GET /repos/{o}/{r}/issues` (issues and pull requests)."""

    number: int
    repository_url: str
    title: NotRequired[str | None]
    html_url: NotRequired[str | None]
    state: NotRequired[Literal["open", "closed"] | None]
    state_reason: NotRequired[str | None]
    labels: NotRequired[list[str | Label] | None]
    assignee: NotRequired[User | None]
    assignees: NotRequired[list[User] | None]
    milestone: NotRequired[IssueMilestone | None]
    pull_request: NotRequired[PullRequestRef | None]
    created_at: NotRequired[str | None]
    updated_at: NotRequired[str | None]
    closed_at: NotRequired[str | None]


@with_config(STRICT)
class EventLabel(TypedDict, total=False):
    name: str | None


@with_config(STRICT)
class IssueEvent(TypedDict, total=False):
    """An entry of `GET /repos/{o}/{r}/issues/events`. Its embedded issue may be null (a deleted
    issue): such an event is left out as not goalsync's, not as malformed."""

    id: int | None
    event: str | None
    created_at: str | None
    state_reason: str | None
    actor: User | None
    assignee: User | None
    label: EventLabel | None
    issue: Issue | None


@with_config(STRICT)
class Milestone(TypedDict):
    """An entry of `GET /repos/{o}/{r}/milestones`."""

    number: int
    title: str
    state: NotRequired[str | None]
    due_on: NotRequired[str | None]
    open_issues: NotRequired[int | None]
    closed_issues: NotRequired[int | None]


ISSUE: TypeAdapter[Issue] = TypeAdapter(Issue)
ISSUE_EVENT: TypeAdapter[IssueEvent] = TypeAdapter(IssueEvent)
MILESTONE: TypeAdapter[Milestone] = TypeAdapter(Milestone)
