"""The shapes of the Jira payloads goalsync reads: exactly the fields jira_parse uses.

From the Jira Cloud platform OpenAPI (`IssueBean`, `Changelog`, `ChangeDetails`) and Data
Center's v2 answers, loosened where real payloads carry nulls: an issue needs its `key` and its
`fields` object; every field inside may be null or missing (the parser reads either as "not
set"). The custom fields whose ids differ per site (story points, Epic Link) are checked by
jira_parse, which knows the ids. Times stay strings here and are checked where they are read
(jira_parse.parse_time), once.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from pydantic import TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from sync.base.shapes import STRICT

# Jira's status categories: new (To Do), indeterminate (In Progress), done, and `undefined`
# ("No Category", which Jira keeps for statuses that have none; read as to do).
CategoryKey = Literal["new", "indeterminate", "done", "undefined"]


@with_config(STRICT)
class Category(TypedDict, total=False):
    key: CategoryKey | None


@with_config(STRICT)
class Status(TypedDict, total=False):
    name: str | None
    statusCategory: Category | None


@with_config(STRICT)
class Person(TypedDict, total=False):
    displayName: str | None
    name: str | None
    emailAddress: str | None


@with_config(STRICT)
class Named(TypedDict, total=False):
    name: str | None


@with_config(STRICT)
class Keyed(TypedDict, total=False):
    key: str | None


@with_config(STRICT)
class IssueType(TypedDict, total=False):
    name: str | None
    hierarchyLevel: int | None


@with_config(STRICT)
class Fields(TypedDict, total=False):
    summary: str | None
    status: Status | None
    assignee: Person | None
    labels: list[str] | None
    components: list[Named] | None
    parent: Keyed | None
    priority: Named | None
    created: str | None
    updated: str | None
    resolution: Named | None
    resolutiondate: str | None
    duedate: str | None
    issuetype: IssueType | None
    project: Keyed | None


@with_config(STRICT)
class ChangeItem(TypedDict, total=False):
    field: str | None
    fieldId: str | None
    fromString: str | None
    toString: str | None


@with_config(STRICT)
class History(TypedDict, total=False):
    id: str | int | None
    # The changelog bulkfetch endpoint is documented with epoch numbers.
    created: str | int | float | None
    author: Person | None
    items: list[ChangeItem] | None


@with_config(STRICT)
class Changelog(TypedDict, total=False):
    histories: list[History] | None
    total: int | None


@with_config(STRICT)
class Issue(TypedDict):
    """An entry of a search page's `issues` (`/rest/api/3/search/jql`, `/rest/api/2/search`)."""

    key: str
    fields: Fields
    id: NotRequired[str | int | None]
    self: NotRequired[str | None]
    changelog: NotRequired[Changelog | None]


ISSUE: TypeAdapter[Issue] = TypeAdapter(Issue)
