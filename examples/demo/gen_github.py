"""The demo's GitHub issues and pull requests for acme/web and acme/sdk."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from demo_common import CYCLE_START, EXPORTED
from titles import SDK_DOCS, SDK_OTHER, SDK_V3, WEB_BILLING, WEB_DOCS, WEB_OTHER


@dataclass
class GhSpec:
    title: str
    pr: bool
    state: str  # open | closed
    reason: str | None  # completed | not_planned
    merged: bool
    labels: tuple[str, ...]
    milestone: str | None
    assignee: str | None


def github_issues(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    web: list[GhSpec] = []
    # Billing UI on the web app: issues and the PRs that deliver them.
    for n, title in enumerate(WEB_BILLING):
        done = n < 7
        web.append(
            GhSpec(
                title,
                pr=n % 3 == 2,
                state="closed" if done else "open",
                reason="completed" if done else None,
                merged=done,
                labels=("billing",),
                milestone=None,
                assignee=rng.choice(["ana-costa", "chenwei", "fhaddad"]) if n != 11 else None,
            )
        )
    web[-1].labels = ("billing", "in progress")
    for n, title in enumerate(WEB_DOCS):
        done = n < 3
        web.append(
            GhSpec(
                title,
                pr=False,
                state="closed" if done else "open",
                reason="completed" if done else None,
                merged=False,
                labels=("docs",),
                milestone=None,
                assignee="hsato" if n % 2 else "erossi",
            )
        )
    for n, title in enumerate(WEB_OTHER):
        closed = n < 5
        web.append(
            GhSpec(
                title,
                pr=n % 2 == 1,
                state="closed" if closed else "open",
                reason=("not_planned" if n == 0 else "completed") if closed else None,
                merged=closed and n != 3,
                labels=("frontend",),
                milestone=None,
                assignee=rng.choice(["bokafor", "gmuller", None]),
            )
        )
    sdk: list[GhSpec] = []
    for n, title in enumerate(SDK_V3):
        sdk.append(
            GhSpec(
                title,
                pr=n % 4 == 3,
                state="closed",
                reason="not_planned" if n == 5 else "completed",
                merged=n % 4 == 3,
                labels=("sdk",),
                milestone="v3.0",
                assignee="dvolkov" if n % 2 else "hsato",
            )
        )
    for n, title in enumerate(SDK_DOCS):
        done = n < 3
        sdk.append(
            GhSpec(
                title,
                pr=n % 3 == 1,
                state="closed" if done else "open",
                reason="completed" if done else None,
                merged=done and n % 3 == 1,
                labels=("docs",),
                milestone=None,
                assignee="erossi",
            )
        )
    for n, title in enumerate(SDK_OTHER):
        closed = n < 4
        sdk.append(
            GhSpec(
                title,
                pr=n % 3 == 0,
                state="closed" if closed else "open",
                reason="completed" if closed else None,
                merged=closed and n % 3 == 0,
                labels=("sdk",) if n % 2 else ("question",),
                milestone=None,
                assignee=rng.choice(["dvolkov", "bokafor", None]),
            )
        )
    return (
        [_gh_issue("acme", "web", i + 1, s, rng) for i, s in enumerate(web)],
        [_gh_issue("acme", "sdk", i + 1, s, rng) for i, s in enumerate(sdk)],
    )


def _gh_issue(
    owner: str, repo: str, number: int, spec: GhSpec, rng: random.Random
) -> dict[str, Any]:
    api = f"https://api.github.com/repos/{owner}/{repo}"
    created = CYCLE_START + timedelta(hours=rng.randint(0, 24 * 30))
    closed_at = None
    if spec.state == "closed":
        closed_at = min(
            created + timedelta(hours=rng.randint(20, 24 * 14)),
            EXPORTED - timedelta(hours=rng.randint(3, 40)),
        )
    updated = closed_at or min(
        created + timedelta(hours=rng.randint(1, 24 * 12)), EXPORTED - timedelta(hours=1)
    )
    kind = "pull" if spec.pr else "issues"
    out: dict[str, Any] = {
        "url": f"{api}/issues/{number}",
        "repository_url": api,
        "labels_url": f"{api}/issues/{number}/labels{{/name}}",
        "comments_url": f"{api}/issues/{number}/comments",
        "events_url": f"{api}/issues/{number}/events",
        "html_url": f"https://github.com/{owner}/{repo}/{kind}/{number}",
        "id": 2400000000 + number * 7 + len(repo),
        "node_id": f"I_kwDOAcme{repo}{number:04d}",
        "number": number,
        "title": spec.title,
        "user": _gh_user(spec.assignee or "gmuller"),
        "labels": [_gh_label(api, name) for name in spec.labels],
        "state": spec.state,
        "locked": False,
        "assignee": _gh_user(spec.assignee) if spec.assignee else None,
        "assignees": [_gh_user(spec.assignee)] if spec.assignee else [],
        "milestone": _gh_milestone(api, owner, repo) if spec.milestone else None,
        "comments": rng.randint(0, 9),
        "created_at": _gh_time(created),
        "updated_at": _gh_time(updated),
        "closed_at": _gh_time(closed_at) if closed_at else None,
        "author_association": "MEMBER",
        "active_lock_reason": None,
        "body": None,
        "reactions": {
            "url": f"{api}/issues/{number}/reactions",
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        },
        "timeline_url": f"{api}/issues/{number}/timeline",
        "performed_via_github_app": None,
        "state_reason": (spec.reason if not spec.pr else None),
    }
    if spec.pr:
        out["draft"] = False
        out["pull_request"] = {
            "url": f"{api}/pulls/{number}",
            "html_url": f"https://github.com/{owner}/{repo}/pull/{number}",
            "diff_url": f"https://github.com/{owner}/{repo}/pull/{number}.diff",
            "patch_url": f"https://github.com/{owner}/{repo}/pull/{number}.patch",
            "merged_at": _gh_time(closed_at) if spec.merged and closed_at else None,
        }
    return out


def _gh_user(login: str) -> dict[str, Any]:
    uid = 1000 + sum(map(ord, login))
    return {
        "login": login,
        "id": uid,
        "node_id": f"MDQ6VXNlcj{uid}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
    }


def _gh_label(api: str, name: str) -> dict[str, Any]:
    return {
        "id": 5000000000 + sum(map(ord, name)),
        "node_id": f"LA_kwDO{name.replace(' ', '')}",
        "url": f"{api}/labels/{name.replace(' ', '%20')}",
        "name": name,
        "color": "0e8a16",
        "default": False,
        "description": None,
    }


def _gh_milestone(api: str, owner: str, repo: str) -> dict[str, Any]:
    return {
        "url": f"{api}/milestones/3",
        "html_url": f"https://github.com/{owner}/{repo}/milestone/3",
        "labels_url": f"{api}/milestones/3/labels",
        "id": 11200003,
        "node_id": "MI_kwDOAcme3",
        "number": 3,
        "title": "v3.0",
        "description": "SDK v3: typed clients and retries",
        "creator": _gh_user("dvolkov"),
        "open_issues": 0,
        "closed_issues": len(SDK_V3),
        "state": "closed",
        "created_at": "2026-09-20T10:00:00Z",
        "updated_at": "2026-11-12T16:20:00Z",
        "due_on": "2026-11-20T08:00:00Z",
        "closed_at": "2026-11-12T16:20:00Z",
    }


def _gh_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
