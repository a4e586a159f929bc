"""A fake GitHub GraphQL API on loopback, answering a Projects (v2) board's queries in GitHub's
shapes (the types of tests/connectors/github_project/schema.graphql, vendored from GitHub's
public schema).

It serves `POST /graphql` and `POST /api/graphql` (GitHub Enterprise Server) and answers the two
queries goalsync sends: the board's items (connectors/github_project/fetch.py, paged with
`after` cursors) and its fields (check.py). It does not parse GraphQL: it reads the variables and
which connection the query asks for, and builds the answer GitHub would give. Like GitHub it:
- refuses a request without the token (401 "Bad credentials");
- prices each query by GitHub's rule (the nodes each connection may return, over 100, at least
  1) and answers `rateLimit { cost remaining resetAt }`, counting the points down;
- answers RATE_LIMITED (200, `errors`, x-ratelimit-remaining 0 and x-ratelimit-reset) when the
  points are gone, or when told to (`rate_limit_at`: the request numbers to refuse once);
- answers NOT_FOUND for an unknown owner or board number;
- sends X-OAuth-Scopes (a classic token's scopes) when `scopes` is set.
Request counts, faults and latency come from FakeServer.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.server import FakeServer, Request, Response

TOKEN = "ghp_fake0graphql0token0for0tests0only"
POINTS_PER_HOUR = 5000


@dataclass
class BoardItem:
    """One card of the fake board."""

    kind: str = "ISSUE"  # ISSUE, PULL_REQUEST, DRAFT_ISSUE, REDACTED
    repo: str = "acme/web"
    number: int = 1
    title: str = ""
    status: str | None = "Todo"
    state: str = "OPEN"  # OPEN, CLOSED (an issue); OPEN, CLOSED, MERGED (a pull request)
    state_reason: str | None = None  # COMPLETED, NOT_PLANNED, ...
    archived: bool = False
    points: float | None = None
    iteration: str | None = None
    goal: str | None = None
    team: str | None = None
    labels: tuple[str, ...] = ()
    malformed: bool = False  # `number` sent as text: a payload goalsync must skip and name
    hidden: bool = False  # in a repository the token cannot read: content null, an error
    updated: str = "2026-11-10T09:00:00Z"
    node_id: str = ""


@dataclass
class FakeGitHubGraphQL(FakeServer):
    owner: str = "acme"
    number: int = 7
    items: list[BoardItem] = field(default_factory=list)
    token: str | None = TOKEN
    scopes: str | None = "read:project, repo"
    remaining: int = POINTS_PER_HOUR
    reset_in_s: float = 1800.0
    rate_limit_at: set[int] = field(default_factory=set)  # request numbers answered RATE_LIMITED
    page_size_cap: int = 100
    served: int = 0  # GraphQL requests answered (any answer)
    cost: int = 0  # points charged
    refused: int = 0  # RATE_LIMITED answers sent

    def __post_init__(self) -> None:
        FakeServer.__init__(self)
        for index, item in enumerate(self.items):
            item.node_id = item.node_id or f"PVTI_{index:05d}"

    # --- the API ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path not in ("/graphql", "/api/graphql"):
            return Response(404, {"message": "Not Found"})
        if (
            self.token is not None
            and request.headers.get("authorization") != f"bearer {self.token}"
        ):
            return Response(401, {"message": "Bad credentials"})
        self.served += 1
        headers = {"X-OAuth-Scopes": self.scopes} if self.scopes is not None else {}
        reset = int(time.time() + self.reset_in_s)
        body = request.json()
        query, variables = body["query"], body.get("variables") or {}
        cost = query_cost(query)
        if self.served in self.rate_limit_at or self.remaining < cost:
            headers |= {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
            self.refused += 1
            self.remaining = POINTS_PER_HOUR  # the window turns over when goalsync has waited
            return Response(
                200,
                {
                    "data": None,
                    "errors": [
                        {
                            "type": "RATE_LIMITED",
                            "message": "API rate limit exceeded for user ID 1.",
                        }
                    ],
                },
                headers,
            )
        self.remaining -= cost
        self.cost += cost
        headers |= {"x-ratelimit-remaining": str(self.remaining), "x-ratelimit-reset": str(reset)}
        rate = {
            "cost": cost,
            "remaining": self.remaining,
            "resetAt": datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if variables.get("owner") != self.owner:
            return Response(
                200,
                _not_found(
                    f"Could not resolve to a User with the login of '{variables.get('owner')}'.",
                    ["repositoryOwner"],
                ),
                headers,
            )
        if variables.get("number") != self.number:
            return Response(
                200,
                {
                    "data": {
                        "rateLimit": rate,
                        "repositoryOwner": {"login": self.owner, "projectV2": None},
                    },
                    "errors": [
                        {
                            "type": "NOT_FOUND",
                            "path": ["repositoryOwner", "projectV2"],
                            "message": f"Could not resolve to a ProjectV2 with the number "
                            f"{variables.get('number')}.",
                        }
                    ],
                },
                headers,
            )
        if "fields(first:" in query:
            project: dict[str, Any] = {"title": "Roadmap", "fields": {"nodes": FIELDS}}
        else:
            project = self.items_page(_first(query, "items"), variables.get("after"))
        data = {"rateLimit": rate, "repositoryOwner": {"login": self.owner, "projectV2": project}}
        errors = [
            {
                "type": "FORBIDDEN",
                "path": ["repositoryOwner", "projectV2", "items", "nodes", index, "content"],
                "message": "Resource not accessible by personal access token",
            }
            for index, node in enumerate(project.get("items", {}).get("nodes", []))
            if node["content"] is None and node["type"] != "REDACTED"
        ]
        return Response(200, {"data": data, **({"errors": errors} if errors else {})}, headers)

    def items_page(self, first: int, after: str | None) -> dict[str, Any]:
        first = min(first, self.page_size_cap)
        start = _decode(after) if after else 0
        chunk = self.items[start : start + first]
        end = start + len(chunk)
        return {
            "number": self.number,
            "title": "Roadmap",
            "items": {
                "pageInfo": {
                    "hasNextPage": end < len(self.items),
                    "endCursor": _encode(end) if chunk else None,
                },
                "nodes": [item_node(item) for item in chunk],
            },
        }


FIELDS: list[dict[str, Any]] = [
    {"name": "Title", "dataType": "TITLE"},
    {
        "name": "Status",
        "dataType": "SINGLE_SELECT",
        "options": [{"name": "Todo"}, {"name": "In Progress"}, {"name": "Done"}],
    },
    {"name": "Estimate", "dataType": "NUMBER"},
    {"name": "Iteration", "dataType": "ITERATION"},
    {"name": "Goal", "dataType": "TEXT"},
    {
        "name": "Team",
        "dataType": "SINGLE_SELECT",
        "options": [{"name": "Payments"}, {"name": "Web"}],
    },
]


def item_node(item: BoardItem) -> dict[str, Any]:
    """A ProjectV2Item as GitHub answers ITEMS_QUERY."""
    values: list[dict[str, Any]] = [
        {
            "__typename": "ProjectV2ItemFieldTextValue",
            "text": item.title,
            "field": {"name": "Title"},
        }
    ]
    if item.status is not None:
        values.append(_select("Status", item.status))
    if item.team is not None:
        values.append(_select("Team", item.team))
    if item.points is not None:
        values.append(
            {
                "__typename": "ProjectV2ItemFieldNumberValue",
                "number": item.points,
                "field": {"name": "Estimate"},
            }
        )
    if item.iteration is not None:
        values.append(
            {
                "__typename": "ProjectV2ItemFieldIterationValue",
                "title": item.iteration,
                "field": {"name": "Iteration"},
            }
        )
    if item.goal is not None:
        values.append(
            {
                "__typename": "ProjectV2ItemFieldTextValue",
                "text": item.goal,
                "field": {"name": "Goal"},
            }
        )
    values.append({"__typename": "ProjectV2ItemFieldDateValue"})  # a type goalsync does not read
    node: dict[str, Any] = {
        "id": item.node_id,
        "type": item.kind,
        "isArchived": item.archived,
        "updatedAt": item.updated,
        "fieldValues": {"nodes": values},
    }
    common = {
        "title": item.title or f"Item {item.number}",
        "createdAt": "2026-10-01T09:00:00Z",
        "updatedAt": item.updated,
    }
    if item.kind == "DRAFT_ISSUE":
        node["content"] = {"__typename": "DraftIssue", "id": f"DI_{item.node_id}", **common}
    elif item.kind == "REDACTED" or item.hidden:
        node["content"] = None
    else:
        content: dict[str, Any] = {
            "__typename": "Issue" if item.kind == "ISSUE" else "PullRequest",
            "id": f"I_{item.node_id}",
            "number": str(item.number) if item.malformed else item.number,
            "url": f"https://github.com/{item.repo}/"
            f"{'issues' if item.kind == 'ISSUE' else 'pull'}/{item.number}",
            "repository": {"nameWithOwner": item.repo},
            "closedAt": "2026-11-05T09:00:00Z" if item.state != "OPEN" else None,
            "labels": {"nodes": [{"name": name} for name in item.labels]},
            "assignees": {"nodes": []},
            **common,
        }
        if item.kind == "ISSUE":
            content |= {"state": item.state, "stateReason": item.state_reason}
        else:
            content |= {
                "prState": item.state,
                "mergedAt": "2026-11-05T09:00:00Z" if item.state == "MERGED" else None,
            }
        node["content"] = content
    return node


def _select(field_name: str, value: str) -> dict[str, Any]:
    return {
        "__typename": "ProjectV2ItemFieldSingleSelectValue",
        "name": value,
        "field": {"name": field_name},
    }


def query_cost(query: str) -> int:
    """GitHub's rule: the requests each connection needs (its parent's nodes times its own),
    added up, over 100, rounded, at least 1. Here: the outer connection (items or fields) and
    the connections nested in it."""
    firsts = [int(n) for n in re.findall(r"\(first:\s*(\d+)", query)]
    if not firsts:
        return 1
    outer, nested = firsts[0], firsts[1:]
    return max(1, round((1 + outer * len(nested)) / 100))


def _first(query: str, connection: str) -> int:
    found = re.search(rf"{connection}\(first:\s*(\d+)", query)
    return int(found.group(1)) if found else 100


def _encode(offset: int) -> str:
    return base64.b64encode(f"cursor:{offset}".encode()).decode()


def _decode(cursor: str) -> int:
    return int(base64.b64decode(cursor).decode().split(":", 1)[1])


def _not_found(message: str, path: list[str]) -> dict[str, Any]:
    return {
        "data": {"repositoryOwner": None},
        "errors": [{"type": "NOT_FOUND", "path": path, "message": message}],
    }


def make_board(count: int, **kw: Any) -> list[BoardItem]:
    """`count` issues across two repositories, a third done, a third in progress."""
    statuses = ("Todo", "In Progress", "Done")
    return [
        BoardItem(
            repo="acme/web" if i % 2 else "acme/api",
            number=i + 1,
            title=f"Card {i + 1}",
            status=statuses[i % 3],
            state="CLOSED" if i % 3 == 2 else "OPEN",
            state_reason="COMPLETED" if i % 3 == 2 else None,
            points=float(i % 5 + 1),
            iteration=f"Sprint {i % 4 + 10}",
            team="Payments" if i % 2 else "Web",
            **kw,
        )
        for i in range(count)
    ]
