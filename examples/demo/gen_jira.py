"""The demo's Jira issues: epics and groups of stories and bugs with a fixed mix of states."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from demo_common import CYCLE_START, EXPORTED, PEOPLE
from jira_payload import jira_issue
from titles import BILLING, CHORES, CORE_BUGS, DEPLOYS, INVOICING, PAY_BUGS


@dataclass
class Group:
    """A set of issues with a fixed mix of states."""

    project: str
    topic: str
    first_number: int
    done: int
    in_progress: int
    todo: int
    blocked: int = 0
    cancelled: int = 0
    parent: str | None = None
    labels: tuple[str, ...] = ()
    people: tuple[int, ...] = tuple(range(8))
    unestimated: int = 0  # open items without points
    overdue: int = 0  # open items whose due date passed
    stale: int = 0  # open items not touched for weeks
    unassigned_in_progress: int = 0
    start_after: datetime = CYCLE_START
    titles: list[str] = field(default_factory=list)


def jira_groups() -> list[Group]:
    return [
        Group(
            "PAY",
            "billing",
            101,
            done=19,
            in_progress=6,
            todo=7,
            blocked=2,
            cancelled=2,
            parent="PAY-100",
            people=(0, 1, 2, 5),
            unestimated=2,
            overdue=1,
            stale=1,
            titles=BILLING,
        ),
        Group(
            "PAY",
            "invoicing",
            301,
            done=5,
            in_progress=4,
            todo=9,
            blocked=1,
            parent="PAY-300",
            people=(1, 5, 6),
            overdue=2,
            unassigned_in_progress=1,
            titles=INVOICING,
        ),
        Group(
            "CORE",
            "deploys",
            201,
            done=15,
            in_progress=4,
            todo=6,
            blocked=1,
            parent="CORE-200",
            people=(3, 4, 7),
            stale=2,
            titles=DEPLOYS,
        ),
        Group(
            "PAY",
            "bug",
            412,
            done=9,
            in_progress=3,
            todo=8,
            labels=("bug",),
            people=(0, 1, 2),
            titles=PAY_BUGS,
        ),
        Group(
            "CORE",
            "bug",
            305,
            done=9,
            in_progress=4,
            todo=8,
            cancelled=1,
            labels=("bug",),
            people=(1, 3, 4, 7),
            overdue=1,
            titles=CORE_BUGS,
        ),
        Group(
            "CORE",
            "chore",
            358,
            done=8,
            in_progress=4,
            todo=12,
            labels=("tech-debt",),
            people=(1, 3, 6),
            stale=3,
            titles=CHORES,
        ),
    ]


def jira_issues(rng: random.Random) -> list[dict[str, Any]]:
    epics = [
        ("PAY-100", "Self-serve billing v2", 5),
        ("PAY-300", "Invoicing overhaul", 5),
        ("CORE-200", "Zero-downtime deploys", 3),
    ]
    out: list[dict[str, Any]] = []
    next_id = 10100
    for key, title, owner in epics:
        created = CYCLE_START - timedelta(days=10)
        out.append(
            jira_issue(
                next_id,
                key,
                title,
                "Epic",
                "In Progress",
                PEOPLE[owner][0],
                created,
                created + timedelta(days=3),
                [],
                None,
                None,
                [],
                False,
                None,
                [(created + timedelta(days=3), "To Do", "In Progress", PEOPLE[owner][0])],
            )
        )
        next_id += 1
    for group in jira_groups():
        for n, spec in enumerate(_plan_states(group, rng)):
            key = f"{group.project}-{group.first_number + n}"
            out.append(_jira_from_spec(next_id, key, group, spec, rng))
            next_id += 1
    out.sort(key=lambda i: (i["fields"]["updated"], i["key"]))  # ORDER BY updated ASC, key ASC
    return out


@dataclass
class Spec:
    state: str  # done | in_progress | todo | blocked | cancelled
    title: str
    assignee: str | None
    points: float | None
    created: datetime
    started: datetime | None
    finished: datetime | None
    updated: datetime
    due: date | None


def _plan_states(group: Group, rng: random.Random) -> list[Spec]:
    states = (
        ["done"] * group.done
        + ["in_progress"] * group.in_progress
        + ["todo"] * group.todo
        + ["blocked"] * group.blocked
        + ["cancelled"] * group.cancelled
    )
    titles = list(group.titles)
    rng.shuffle(titles)
    specs: list[Spec] = []
    overdue, stale, unest, unassigned = (
        group.overdue,
        group.stale,
        group.unestimated,
        group.unassigned_in_progress,
    )
    for n, state in enumerate(states):
        title = titles[n % len(titles)] if titles else f"{group.topic} task {n}"
        if n >= len(titles) and titles:
            title = f"{title} (part {n // len(titles) + 1})"
        created = group.start_after + timedelta(hours=rng.randint(0, 24 * 25))
        person: str | None = PEOPLE[rng.choice(group.people)][0]
        points: float | None = float(rng.choice([1, 2, 3, 3, 5, 5, 8]))
        started = finished = None
        due = None
        if state in ("done", "cancelled"):
            started = created + timedelta(hours=rng.randint(12, 24 * 8))
            finished = started + timedelta(hours=rng.randint(24, 24 * 12))
            if finished > EXPORTED - timedelta(hours=6):
                finished = EXPORTED - timedelta(hours=rng.randint(6, 60))
                started = min(started, finished - timedelta(hours=20))
            updated = finished + timedelta(hours=rng.randint(0, 30))
        elif state in ("in_progress", "blocked"):
            started = created + timedelta(hours=rng.randint(12, 24 * 10))
            started = min(started, EXPORTED - timedelta(days=3))
            # work in progress moves: touched in the last ten days (stale ones are set below)
            updated = EXPORTED - timedelta(hours=rng.randint(2, 24 * 10))
            started = min(started, updated - timedelta(hours=6))
        else:
            updated = created + timedelta(hours=rng.randint(0, 24 * 6))
            if rng.random() < 0.6:
                person = None  # most of the backlog is not assigned yet
            # the backlog is groomed: touched in the last twelve days (stale ones set below)
            updated = max(created, EXPORTED - timedelta(hours=1 + (n * 37) % (24 * 12)))
        if state in ("in_progress", "todo", "blocked"):
            if stale and state != "blocked":
                stale -= 1
                updated = EXPORTED - timedelta(days=rng.randint(18, 30))
                created = min(created, updated - timedelta(days=2))
                if started is not None:
                    started = min(started, updated - timedelta(days=1))
            if overdue:
                overdue -= 1
                due = (EXPORTED - timedelta(days=rng.randint(2, 9))).date()
            elif rng.random() < 0.3:
                due = (EXPORTED + timedelta(days=rng.randint(5, 40))).date()
            if unest and state == "todo":
                unest -= 1
                points = None
            if unassigned and state == "in_progress":
                unassigned -= 1
                person = None
        updated = min(updated, EXPORTED - timedelta(minutes=30))
        specs.append(Spec(state, title, person, points, created, started, finished, updated, due))
    return specs


def _jira_from_spec(
    issue_id: int, key: str, group: Group, spec: Spec, rng: random.Random
) -> dict[str, Any]:
    history: list[tuple[datetime, str, str, str | None]] = []
    actor = spec.assignee or PEOPLE[0][0]
    status = {
        "done": "Done",
        "cancelled": "Done",
        "in_progress": "In Progress",
        "todo": "To Do",
        "blocked": "Blocked",
    }[spec.state]
    if spec.started is not None:
        history.append((spec.started, "To Do", "In Progress", actor))
        if spec.state in ("done", "cancelled"):
            assert spec.finished is not None
            if spec.state == "done" and rng.random() < 0.6:
                review = spec.started + (spec.finished - spec.started) * 0.7
                history.append((review, "In Progress", "In Review", actor))
                history.append((spec.finished, "In Review", "Done", actor))
            else:
                history.append((spec.finished, "In Progress", "Done", actor))
        elif spec.state == "in_progress" and rng.random() < 0.4:
            history.append((spec.updated - timedelta(hours=3), "In Progress", "In Review", actor))
            status = "In Review"
        elif spec.state == "blocked":
            history.append((spec.updated - timedelta(hours=1), "In Progress", "Blocked", actor))
    resolution = None
    if spec.state == "done":
        resolution = "Done"
    elif spec.state == "cancelled":
        resolution = "Won't Do"
    flagged = spec.state == "in_progress" and group.topic == "billing" and key.endswith("7")
    kind = "Bug" if "bug" in group.labels else "Story"
    return jira_issue(
        issue_id,
        key,
        spec.title,
        kind,
        status,
        spec.assignee,
        spec.created,
        spec.updated,
        list(group.labels),
        group.parent,
        spec.points,
        _components(group),
        flagged,
        resolution,
        history,
        spec.due,
        spec.finished if resolution else None,
    )


def _components(group: Group) -> list[str]:
    return {
        "billing": ["Checkout"],
        "invoicing": ["Invoices"],
        "deploys": ["Deploy pipeline"],
        "bug": [],
        "chore": ["Build"],
    }.get(group.topic, [])
