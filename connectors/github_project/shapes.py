"""The shapes of the GitHub GraphQL answers goalsync reads from a Projects (v2) board: exactly
the fields that query.py asks for and parse.py reads.

From GitHub's public GraphQL schema (octokit/graphql-schema `schema.graphql`: `ProjectV2`,
`ProjectV2Item`, `ProjectV2ItemFieldSingleSelectValue` / `IterationValue` / `NumberValue` /
`TextValue`, `Issue`, `PullRequest`, `DraftIssue`, `RateLimit`); the few type definitions the
tests check the query against are vendored in tests/connectors/github_project/schema.graphql.
Nullable where the schema says so. A field value of a type goalsync does not read (a date, a
label list, a milestone) comes as an object with only `__typename` and is ignored.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from pydantic import TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from sync.base.shapes import STRICT


@with_config(STRICT)
class Named(TypedDict):
    name: str


# `__typename` as a class attribute would be name-mangled: the functional syntax keeps the key.
FieldValue = TypedDict(
    "FieldValue",
    {
        # A node of `ProjectV2Item.fieldValues`: its type, its field's name (through
        # `ProjectV2FieldCommon`) and the one value its type has.
        "__typename": str,
        "field": NotRequired[Named | None],
        "name": NotRequired[str | None],  # ProjectV2ItemFieldSingleSelectValue
        "title": NotRequired[str | None],  # ProjectV2ItemFieldIterationValue
        "number": NotRequired[float | int | None],  # ProjectV2ItemFieldNumberValue (Float)
        "text": NotRequired[str | None],  # ProjectV2ItemFieldTextValue
    },
)
FieldValue.__pydantic_config__ = STRICT  # type: ignore[attr-defined]


@with_config(STRICT)
class FieldValues(TypedDict):
    nodes: list[FieldValue | None]


@with_config(STRICT)
class Login(TypedDict, total=False):
    login: str | None


@with_config(STRICT)
class Logins(TypedDict):
    nodes: list[Login | None]


@with_config(STRICT)
class Labels(TypedDict):
    nodes: list[Named | None]


@with_config(STRICT)
class Repository(TypedDict):
    nameWithOwner: str


Content = TypedDict(
    "Content",
    {
        # `ProjectV2Item.content`: a DraftIssue, an Issue or a PullRequest.
        "__typename": Literal["DraftIssue", "Issue", "PullRequest"],
        "id": NotRequired[str],
        "title": NotRequired[str | None],
        "createdAt": NotRequired[str | None],
        "updatedAt": NotRequired[str | None],
        # Issue and PullRequest
        "number": NotRequired[int],
        "url": NotRequired[str | None],
        "repository": NotRequired[Repository],
        "state": NotRequired[Literal["OPEN", "CLOSED"] | None],  # Issue (IssueState)
        # PullRequest: `prState: state` in the query (PullRequestState, another enum: the
        # same response key for both would not validate)
        "prState": NotRequired[Literal["OPEN", "CLOSED", "MERGED"] | None],
        "stateReason": NotRequired[
            Literal["COMPLETED", "DUPLICATE", "NOT_PLANNED", "REOPENED"] | None
        ],
        "closedAt": NotRequired[str | None],
        "mergedAt": NotRequired[str | None],
        "labels": NotRequired[Labels | None],
        "assignees": NotRequired[Logins | None],
    },
)
Content.__pydantic_config__ = STRICT  # type: ignore[attr-defined]


@with_config(STRICT)
class Item(TypedDict):
    """A node of `ProjectV2.items`."""

    id: str
    type: Literal["DRAFT_ISSUE", "ISSUE", "PULL_REQUEST", "REDACTED"]
    isArchived: bool
    updatedAt: NotRequired[str | None]
    content: NotRequired[Content | None]
    fieldValues: NotRequired[FieldValues | None]


ITEM: TypeAdapter[Item] = TypeAdapter(Item)
