"""The demo's GitHub Projects (v2) board: Acme's mobile team plans on a board, not with labels.

Written as the answers of goalsync's board query (connectors/github_project/fetch.py,
ITEMS_QUERY) in two pages, as `gh api graphql` would save them: issues and pull requests of
acme/mobile, two draft issues, an archived card (left out), an issue closed as not planned in
the In Progress column (cancelled) and a pull request closed unmerged (cancelled). No randomness:
the same file every time.
"""

# ruff: noqa: E501  (CARDS is a table: one card a line reads better than wrapped tuples)
from __future__ import annotations

from typing import Any

OWNER = "acme"
NUMBER = 3
REPO = "acme/mobile"

# (kind, number or draft id, title, status, estimate, iteration, goal, state, archived)
CARDS: tuple[tuple[str, str, str, str | None, float | None, str, str, str, bool], ...] = (
    ("ISSUE", "1", "Offline mode for the invoice list", "Done", 5, "Sprint 22", "G1.2", "CLOSED", False),
    ("ISSUE", "2", "Pay an invoice from a push notification", "In Progress", 8, "Sprint 23", "G1.2", "OPEN", False),
    ("ISSUE", "3", "Biometric sign-in", "Todo", 3, "Sprint 24", "", "OPEN", False),
    ("PULL_REQUEST", "4", "Invoice list: cache the last page", "Done", None, "Sprint 22", "G1.2", "MERGED", False),
    ("ISSUE", "5", "Dark mode for receipts", "In Progress", 2, "Sprint 23", "", "CLOSED_NOT_PLANNED", False),
    ("PULL_REQUEST", "6", "Spike: a second payments SDK", "In Progress", None, "Sprint 23", "", "CLOSED", False),
    ("DRAFT_ISSUE", "DI_kwDOAcme3s4AAQ1", "Write the app-store release notes", "Todo", 1, "Sprint 24", "", "", False),
    ("DRAFT_ISSUE", "DI_kwDOAcme3s4AAQ2", "Sketch the tablet layout", "In Progress", None, "Sprint 23", "", "", False),
    ("ISSUE", "7", "Old crash on Android 9", "Done", 1, "Sprint 20", "", "CLOSED", True),
)  # fmt: skip

CREATED = "2026-10-05T09:00:00Z"
UPDATED = "2026-11-13T15:30:00Z"


def _field(kind: str, field: str, key: str, value: object) -> dict[str, Any]:
    return {"__typename": f"ProjectV2ItemField{kind}Value", key: value, "field": {"name": field}}


def _card(index: int, card: tuple[Any, ...]) -> dict[str, Any]:
    kind, ident, title, status, estimate, iteration, goal, state, archived = card
    values = [_field("Text", "Title", "text", title)]
    if status is not None:
        values.append(_field("SingleSelect", "Status", "name", status))
    if estimate is not None:
        values.append(_field("Number", "Estimate", "number", float(estimate)))
    values.append(_field("Iteration", "Iteration", "title", iteration))
    values.append(_field("SingleSelect", "Team", "name", "Mobile"))
    if goal:
        values.append(_field("Text", "Goal", "text", goal))
    common = {"title": title, "createdAt": CREATED, "updatedAt": UPDATED}
    content: dict[str, Any]
    if kind == "DRAFT_ISSUE":
        content = {"__typename": "DraftIssue", "id": ident, **common}
    else:
        closed = state != "OPEN"
        content = {
            "__typename": "Issue" if kind == "ISSUE" else "PullRequest",
            "id": f"I_kwDOAcme{index:04d}",
            "number": int(ident),
            "url": f"https://github.com/{REPO}/{'issues' if kind == 'ISSUE' else 'pull'}/{ident}",
            "closedAt": "2026-11-12T10:00:00Z" if closed else None,
            "repository": {"nameWithOwner": REPO},
            "labels": {"nodes": [{"name": "mobile"}]},
            "assignees": {"nodes": [{"login": "hsato"}]},
            **common,
        }
        if kind == "ISSUE":
            content["state"] = "OPEN" if state == "OPEN" else "CLOSED"
            reason = {"CLOSED": "COMPLETED", "CLOSED_NOT_PLANNED": "NOT_PLANNED"}.get(state)
            content["stateReason"] = reason
        else:
            content["prState"] = state
            content["mergedAt"] = "2026-11-12T10:00:00Z" if state == "MERGED" else None
    return {
        "id": f"PVTI_lADOAcme3s4{index:04d}",
        "type": kind,
        "isArchived": archived,
        "updatedAt": UPDATED,
        "content": content,
        "fieldValues": {"nodes": values},
    }


def board_pages(page_size: int = 5) -> list[dict[str, Any]]:
    """The board query's answers, page by page."""
    nodes = [_card(i, card) for i, card in enumerate(CARDS)]
    pages = []
    for start in range(0, len(nodes), page_size):
        end = start + page_size
        more = end < len(nodes)
        project = {
            "number": NUMBER,
            "title": "Mobile roadmap",
            "items": {
                "pageInfo": {"hasNextPage": more, "endCursor": f"Y3Vyc29yOnY{end:03d}"},
                "nodes": nodes[start:end],
            },
        }
        cost = {"cost": 5, "remaining": 4990 - 5 * (start // page_size), "resetAt": UPDATED}
        pages.append(
            {
                "data": {
                    "rateLimit": cost,
                    "repositoryOwner": {"login": OWNER, "projectV2": project},
                }
            }
        )
    return pages
