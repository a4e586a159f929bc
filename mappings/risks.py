"""Risks: what a leader should ask about before it bites, each with a one-line reason.

Item risks (overdue, blocked, stale, in progress without assignee, unestimated) are found per
key result, so an item serving two key results is a risk to both. Key-result and goal risks
(no data, no owner) come from the plan and the measured value. Owner is the item's assignee where
there is one (who can unblock it), else the key result's owner (who answers for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

from mappings.measures import Measured
from mappings.model import StatusRules
from mappings.plan import PlannedGoal, PlannedKR
from mappings.status import day_end, local_date
from sync.base.records import WorkItem
from sync.base.report import RiskRow


def item_risks(
    kr: PlannedKR,
    items: Sequence[WorkItem],
    now: datetime,
    rules: StatusRules,
    tz: tzinfo,
) -> list[RiskRow]:
    out: list[RiskRow] = []
    stale_before = now - timedelta(days=rules.stale_after_days)
    blocked_statuses = {s.casefold() for s in rules.blocked_statuses}
    blocked_labels = {label.casefold() for label in rules.blocked_labels}
    by_points = kr.by == "points"
    today = local_date(now, tz)

    def risk(item: WorkItem, kind: str, since: datetime | None, reason: str) -> None:
        out.append(
            RiskRow(
                key_result=kr.id,
                goal=kr.goal_id,
                item=item.key,
                item_url=item.url,
                risk=kind,
                owner=item.assignee or kr.owner,
                since=since,
                reason=reason,
            )
        )

    for item in items:
        state = item.state
        if state == "cancelled":
            continue
        if by_points and item.points is None:
            risk(item, "unestimated", item.created, "no estimate: counts as 0 points")
        if state != "todo" and state != "in_progress":
            continue
        if item.due is not None and item.due < today:
            days = (today - item.due).days  # calendar days, in the config's zone
            risk(
                item,
                "overdue",
                day_end(item.due, tz),
                f"due {item.due}, {days} day(s) ago, still {state.replace('_', ' ')}",
            )
        if item.blocked:
            if item.status.casefold() in blocked_statuses:
                why = f"status {item.status}"
            elif blocked_labels & {label.casefold() for label in item.labels}:
                why = "labelled blocked"
            else:
                why = "flagged"
            risk(item, "blocked", item.updated, f"blocked: {why}")
        if item.updated is not None and item.updated < stale_before:  # open, and not moving
            risk(item, "stale", item.updated, f"not updated for {(now - item.updated).days} days")
        if state == "in_progress" and not item.assignee:
            risk(
                item, "unassigned", item.started or item.updated, "in progress without an assignee"
            )
    return out


def plan_risks(goal: PlannedGoal, kr: PlannedKR | None, measured: Measured | None) -> list[RiskRow]:
    """Risks of the plan itself: a key result without data, a goal or key result without owner."""
    out: list[RiskRow] = []
    if kr is None:
        if not goal.owner:
            out.append(
                RiskRow(
                    key_result="",
                    goal=goal.id,
                    item=None,
                    risk="no owner",
                    owner=None,
                    since=None,
                    reason=f"goal {goal.id} has no owner",
                )
            )
        return out
    if not kr.owner:
        out.append(
            RiskRow(
                key_result=kr.id,
                goal=goal.id,
                item=None,
                risk="no owner",
                owner=None,
                since=None,
                reason=f"key result {kr.id} has no owner",
            )
        )
    if measured is not None and measured.value is None:
        reason = measured.note.removeprefix("no data: ") or "nothing to measure"
        out.append(
            RiskRow(
                key_result=kr.id,
                goal=goal.id,
                item=None,
                risk="no data",
                owner=kr.owner or goal.owner,
                since=None,
                reason=reason,
            )
        )
    return out


def scope_risk(
    kr: PlannedKR, items: Sequence[WorkItem], now: datetime, growth_pct: float
) -> list[RiskRow]:
    """Scope growth: the key result's scope (items, or points with by: points) grew more than
    `growth_pct` in the last 14 days. Scope 14 days ago = the items that existed then."""
    then = now - SCOPE_WINDOW
    scope = [i for i in items if i.state != "cancelled"]
    old = [i for i in scope if i.created is not None and i.created <= then]

    def size(group: Sequence[WorkItem]) -> float:
        return sum(i.points or 0.0 for i in group) if kr.by == "points" else float(len(group))

    before, after = size(old), size(scope)
    if before <= 0 or (after - before) / before * 100 <= growth_pct:
        return []
    unit = "points" if kr.by == "points" else "items"
    growth = (after - before) / before * 100
    return [
        RiskRow(
            key_result=kr.id,
            goal=kr.goal_id,
            item=None,
            risk="scope growth",
            owner=kr.owner,
            since=then,
            reason=f"scope up {growth:.0f} % in 14 days ({before:g} -> {after:g} {unit})",
        )
    ]


def forecast_risk(kr: PlannedKR, p85: date) -> list[RiskRow]:
    """Forecast slip: 85 % of the forecast's trials finish after the due date."""
    if p85 <= kr.due:
        return []
    return [
        RiskRow(
            key_result=kr.id,
            goal=kr.goal_id,
            item=None,
            risk="forecast slip",
            owner=kr.owner,
            since=None,
            reason=f"P85 forecast {p85} is after due {kr.due} ({(p85 - kr.due).days} days)",
        )
    ]


SCOPE_WINDOW = timedelta(days=14)
