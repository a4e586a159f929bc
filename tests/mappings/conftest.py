"""Small factories for literal records and plans, shared by the mappings tests.

Every test writes its own numbers; these helpers only fill in the fields a test does not care
about. The config timezone is Europe/Berlin (CEST, UTC+2, until 2026-10-25; CET, UTC+1, after)
and "now" is 2026-11-16T09:00Z (10:00 in Berlin) unless a test says otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from mappings.evaluate import SourceHealth, evaluate
from mappings.model import Cycle, Goal, KeyResult, SelectClause, StatusRules
from mappings.plan import Plan, PlannedGoal, PlannedKR, resolve_plan
from mappings.select import JqlMatches
from sync.base.records import Event, Metric, Override, Records, State, StatusWord, WorkItem
from sync.base.report import HistoryRow, StatusReport, StatusRow

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
CYCLE = Cycle(start=date(2026, 10, 1), due=date(2026, 12, 31))
RULES = StatusRules()


def ts(text: str) -> datetime:
    """An aware UTC datetime from "2026-11-16T09:00Z"."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value.astimezone(UTC)


def item(key: str, source: str = "jira", **fields: Any) -> WorkItem:
    return WorkItem(source=source, key=key, **fields)


def event(
    key: str,
    at: str,
    from_state: State | None,
    to_state: State | None,
    source: str = "jira",
) -> Event:
    return Event(
        source=source,
        item_key=key,
        at=ts(at),
        kind="status_changed",
        from_state=from_state,
        to_state=to_state,
    )


def metric(name: str, at: str, value: float, source: str = "kpi") -> Metric:
    return Metric(source=source, name=name, at=ts(at), value=value)


def override(
    ident: str, status: StatusWord, until: date | None = None, reason: str = ""
) -> Override:
    return Override(source="plan", id=ident, status=status, reason=reason, until=until)


def clause(**keys: Any) -> SelectClause:
    return SelectClause.model_validate(keys)


def kr(ident: str, **keys: Any) -> KeyResult:
    keys.setdefault("title", f"Key result {ident}")
    return KeyResult.model_validate({"id": ident, **keys})


def goal(ident: str, *key_results: KeyResult, **keys: Any) -> Goal:
    keys.setdefault("title", f"Goal {ident}")
    return Goal.model_validate({"id": ident, "key_results": list(key_results), **keys})


def plan_of(*goals: Goal, cycle: Cycle = CYCLE) -> Plan:
    return resolve_plan(list(goals), cycle)


_PKR = PlannedKR(
    id="K1",
    goal_id="G1",
    title="Key result K1",
    owner="Kim",
    start=date(2026, 10, 1),
    due=date(2026, 12, 31),
    measure="percent_done",
    by="count",
    clauses=(),
    target=100.0,
    baseline=0.0,
    direction="up",
    weight=1.0,
)


def pkr(**changes: Any) -> PlannedKR:
    """A resolved key result (percent_done by count, owner Kim) with `changes` applied."""
    return dataclasses.replace(_PKR, **changes)


def pgoal(**changes: Any) -> PlannedGoal:
    base = PlannedGoal(
        id="G1",
        title="Goal G1",
        owner="Dana",
        start=date(2026, 10, 1),
        due=date(2026, 12, 31),
        weight=1.0,
        parent=None,
        depth=0,
        key_results=(),
    )
    return dataclasses.replace(base, **changes)


def run(
    plan: Plan,
    items: Iterable[WorkItem] = (),
    *,
    now: datetime = NOW,
    rules: StatusRules = RULES,
    events: Iterable[Event] = (),
    metrics: Iterable[Metric] = (),
    overrides: Iterable[Override] = (),
    history: Sequence[HistoryRow] = (),
    health: Mapping[str, SourceHealth] | None = None,
    jql_matches: JqlMatches | None = None,
    as_of: bool = False,
    people: Mapping[str, str] | None = None,
) -> StatusReport:
    records = Records(
        items=tuple(items),
        events=tuple(events),
        metrics=tuple(metrics),
        overrides=tuple(overrides),
    )
    return evaluate(
        plan,
        records,
        now,
        rules=rules,
        tz=BERLIN,
        history=history,
        health=health,
        jql_matches=jql_matches,
        as_of=as_of,
        people=people,
    )


def row(report: StatusReport, ident: str) -> StatusRow:
    found = [r for r in report.rows if r.id == ident]
    assert len(found) == 1, f"{ident}: {len(found)} rows"
    return found[0]
