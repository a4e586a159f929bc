"""Reading a board's items: one GraphQL query, paged with its cursor through the guarded loop
of `sync.base.paging.Pages`.

GitHub orders a board's items only by position (`ProjectV2ItemOrderField` has POSITION alone)
and cannot filter them by update time, so a pull reads the whole board every run: 100 items a
request. GitHub prices a query by the requests its connections need, over 100: the items (1)
plus, per item, its field values, and an issue's or a pull request's labels and assignees (100
each, the two content types counted apart), so about 5 points a page. A 2,000-item board is 20
requests and about 100 points of the 5,000 an hour a token has (measured against the fake, which
prices by that rule; the real figure is what `rateLimit.cost` says, logged per pull).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from connectors.github_project.client import GraphQLClient
from sync.base.errors import ConfigError, FatalError
from sync.base.paging import Endpoint, Pages

PAGE_SIZE = 100  # GitHub's most per connection
FIELD_VALUES = 50  # field values read per item: a board's fields, with room (same cost)
LABELS = 20

_FIELD_NAME = "field { ... on ProjectV2FieldCommon { name } }"
_CONTENT_COMMON = (
    "id number title url createdAt updatedAt closedAt repository { nameWithOwner } "
    f"labels(first: {LABELS}) {{ nodes {{ name }} }} assignees(first: 1) {{ nodes {{ login }} }}"
)

ITEMS_QUERY = f"""
query($owner: String!, $number: Int!, $after: String) {{
  rateLimit {{ cost remaining resetAt }}
  repositoryOwner(login: $owner) {{
    login
    ... on ProjectV2Owner {{
      projectV2(number: $number) {{
        number
        title
        items(first: {PAGE_SIZE}, after: $after) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{
            id
            type
            isArchived
            updatedAt
            content {{
              __typename
              ... on DraftIssue {{ id title createdAt updatedAt }}
              ... on Issue {{ {_CONTENT_COMMON} state stateReason }}
              ... on PullRequest {{ {_CONTENT_COMMON} prState: state mergedAt }}
            }}
            fieldValues(first: {FIELD_VALUES}) {{
              nodes {{
                __typename
                ... on ProjectV2ItemFieldSingleSelectValue {{ name {_FIELD_NAME} }}
                ... on ProjectV2ItemFieldIterationValue {{ title {_FIELD_NAME} }}
                ... on ProjectV2ItemFieldNumberValue {{ number {_FIELD_NAME} }}
                ... on ProjectV2ItemFieldTextValue {{ text {_FIELD_NAME} }}
              }}
            }}
          }}
        }}
      }}
    }}
  }}
}}
"""


@dataclass(frozen=True, slots=True)
class Board:
    """Where a board is: its owner's login and its number."""

    owner: str
    number: int

    @property
    def name(self) -> str:
        return f"{self.owner}/project-{self.number}"


def project_of(data: Any, board: Board, who: str) -> dict[str, Any]:
    """The `projectV2` object of an answer's `data`; a missing owner or board is a ConfigError
    (the config names something GitHub does not have, or the token cannot see)."""
    if not isinstance(data, dict):
        raise FatalError(f"{who}: the answer's data is not an object")
    owner = data.get("repositoryOwner")
    if owner is None:
        raise ConfigError(f"{who}: GitHub has no user or organization {board.owner!r}")
    project = owner.get("projectV2") if isinstance(owner, dict) else None
    if project is None:
        raise ConfigError(
            f"{who}: {board.owner!r} has no project number {board.number} that this token can "
            "read; check owner and number (the number is in the board's URL)"
        )
    if not isinstance(project, dict):
        raise FatalError(f"{who}: projectV2 is not an object")
    return project


def items_of(project: dict[str, Any], who: str) -> list[Any]:
    """A page's item nodes; a page of the wrong shape fails the source."""
    items = project.get("items")
    nodes = items.get("nodes") if isinstance(items, dict) else None
    if not isinstance(nodes, list):
        raise FatalError(f"{who}: projectV2.items.nodes is not a list")
    return nodes


def next_cursor(project: dict[str, Any], who: str) -> str | None:
    info = (project.get("items") or {}).get("pageInfo")
    if not isinstance(info, dict) or not isinstance(info.get("hasNextPage"), bool):
        raise FatalError(f"{who}: projectV2.items.pageInfo is missing")
    if not info["hasNextPage"]:
        return None
    cursor = info.get("endCursor")
    if not isinstance(cursor, str) or not cursor:
        raise FatalError(f"{who}: hasNextPage without an endCursor")
    return cursor


def board_pages(
    client: GraphQLClient,
    board: Board,
    *,
    who: str,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every page of the board's items, as `projectV2` objects."""

    def fetch(cursor: str | None) -> dict[str, Any]:
        data = client.query(
            ITEMS_QUERY,
            {"owner": board.owner, "number": board.number, "after": cursor},
            what=f"{who} board {board.name} items",
        )
        return project_of(data, board, who)

    pages: Pages[str, dict[str, Any]] = Pages(
        fetch,
        lambda page: next_cursor(page, who),
        endpoint=Endpoint(who, "GitHub", f"board {board.name} items", marker="endCursor"),
        count=lambda page: len(items_of(page, who)),
        progress=progress,
    )
    yield from pages
