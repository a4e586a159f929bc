"""Risks: what a leader should ask about before it bites, each with a one-line reason.

Item risks (overdue, blocked, stale, in progress without assignee, unestimated) are found per
key result, so an item serving two key results is a risk to both. Key-result and goal risks
(no data, no owner) come from the plan and the measured value. Owner is the item's assignee where
there is one (who can unblock it), else the key result's owner (who answers for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from mappings.measures import Measured
from mappings.model import StatusRules
from mappings.plan import PlannedGoal, PlannedKR
from mappings.status import day_end, local_date
from sync.records import WorkItem
from sync.report import RiskRow


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
    for item in items:
        if item.state == "cancelled":
            continue

        def risk(kind: str, since: datetime | None, reason: str, item: WorkItem = item) -> None:
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

        if kr.by == "points" and item.points is None:
            risk("unestimated", item.created, "no estimate: counts as 0 points")
        if not item.is_open:
            continue
        if item.due is not None and now >= day_end(item.due, tz):
            days = (local_date(now, tz) - item.due).days  # calendar days, in the config's zone
            risk(
                "overdue",
                day_end(item.due, tz),
                f"due {item.due}, {days} day(s) ago, still {item.state.replace('_', ' ')}",
            )
        if item.blocked:
            if item.status.casefold() in blocked_statuses:
                why = f"status {item.status}"
            elif blocked_labels & {label.casefold() for label in item.labels}:
                why = "labelled blocked"
            else:
                why = "flagged"
            risk("blocked", item.updated, f"blocked: {why}")
        if item.updated is not None and item.updated < stale_before:  # open, and not moving
            days = (now - item.updated).days
            risk("stale", item.updated, f"not updated for {days} days")
        if item.state == "in_progress" and not item.assignee:
            risk("unassigned", item.started or item.updated, "in progress without an assignee")
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
