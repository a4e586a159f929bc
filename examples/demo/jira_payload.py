"""Jira issue payloads as `/rest/api/3/search/jql` returns them (expand=names,changelog)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from demo_common import FLAGGED_FIELD, JIRA, PEOPLE, POINTS_FIELD, STATUSES

ISSUE_TYPES = {"Epic": 10000, "Story": 10001, "Bug": 10004}


def jira_issue(
    issue_id: int,
    key: str,
    title: str,
    kind: str,
    status: str,
    assignee: str | None,
    created: datetime,
    updated: datetime,
    labels: list[str],
    parent: str | None,
    points: float | None,
    components: list[str],
    flagged: bool,
    resolution: str | None,
    history: list[tuple[datetime, str, str, str | None]],
    due: date | None = None,
    resolved: datetime | None = None,
) -> dict[str, Any]:
    sid, cat_key, cat_id = STATUSES[status]
    project = key.split("-")[0]
    fields: dict[str, Any] = {
        "summary": title,
        "status": {
            "self": f"{JIRA}/rest/api/3/status/{sid}",
            "description": "",
            "iconUrl": f"{JIRA}/images/icons/statuses/generic.png",
            "name": status,
            "id": sid,
            "statusCategory": {
                "self": f"{JIRA}/rest/api/3/statuscategory/{cat_id}",
                "id": cat_id,
                "key": cat_key,
                "colorName": {"new": "blue-gray", "indeterminate": "yellow", "done": "green"}[
                    cat_key
                ],
                "name": {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}[cat_key],
            },
        },
        "assignee": jira_user(assignee) if assignee else None,
        "labels": labels,
        "components": [
            {
                "self": f"{JIRA}/rest/api/3/component/{sum(map(ord, c))}",
                "id": str(sum(map(ord, c))),
                "name": c,
            }
            for c in components
        ],
        "priority": {"self": f"{JIRA}/rest/api/3/priority/3", "name": "Medium", "id": "3"},
        "created": jira_time(created),
        "updated": jira_time(updated),
        "resolution": (
            {
                "self": f"{JIRA}/rest/api/3/resolution/10000",
                "id": "10000",
                "description": "",
                "name": resolution,
            }
            if resolution
            else None
        ),
        "resolutiondate": jira_time(resolved) if resolved else None,
        "duedate": due.isoformat() if due else None,
        "issuetype": {
            "self": f"{JIRA}/rest/api/3/issuetype/{ISSUE_TYPES[kind]}",
            "id": str(ISSUE_TYPES[kind]),
            "name": kind,
            "subtask": False,
            "hierarchyLevel": 1 if kind == "Epic" else 0,
        },
        "project": {
            "self": f"{JIRA}/rest/api/3/project/{project}",
            "id": str(10000 + len(project)),
            "key": project,
            "name": {"PAY": "Payments", "CORE": "Platform"}[project],
        },
        POINTS_FIELD: points,
        FLAGGED_FIELD: [
            {
                "self": f"{JIRA}/rest/api/3/customFieldOption/10019",
                "value": "Impediment",
                "id": "10019",
            }
        ]
        if flagged
        else None,
    }
    if parent:
        fields["parent"] = {
            "id": "10100",
            "key": parent,
            "self": f"{JIRA}/rest/api/3/issue/{parent}",
            "fields": {"summary": "", "status": {"name": "In Progress"}},
        }
    histories = [
        {
            "id": str(issue_id * 10 + n),
            "author": jira_user(actor or PEOPLE[0][0]),
            "created": jira_time(at),
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": STATUSES[before][0],
                    "fromString": before,
                    "to": STATUSES[after][0],
                    "toString": after,
                }
            ],
        }
        for n, (at, before, after, actor) in enumerate(sorted(history, key=lambda h: h[0]))
    ]
    histories.reverse()  # the search API lists histories newest first
    return {
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": str(issue_id),
        "self": f"{JIRA}/rest/api/3/issue/{issue_id}",
        "key": key,
        "fields": fields,
        "changelog": {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(histories),
            "histories": histories,
        },
    }


def jira_user(name: str) -> dict[str, Any]:
    account = f"5b10a2844c20165700ede{sum(map(ord, name)):03d}"
    return {
        "self": f"{JIRA}/rest/api/3/user?accountId={account}",
        "accountId": account,
        "displayName": name,
        "active": True,
        "timeZone": "Europe/Berlin",
        "accountType": "atlassian",
    }


def jira_names() -> dict[str, str]:
    return {
        "summary": "Summary",
        "status": "Status",
        "assignee": "Assignee",
        "labels": "Labels",
        "components": "Components",
        "parent": "Parent",
        "priority": "Priority",
        "created": "Created",
        "updated": "Updated",
        "resolution": "Resolution",
        "resolutiondate": "Resolved",
        "duedate": "Due date",
        "issuetype": "Issue Type",
        "project": "Project",
        POINTS_FIELD: "Story point estimate",
        FLAGGED_FIELD: "Flagged",
    }


def jira_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
