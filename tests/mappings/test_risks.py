"""mappings/risks.py: item risks per key result, and the plan's own risks."""

from __future__ import annotations

from datetime import date

import pytest

from mappings.measures import Measured
from mappings.model import StatusRules
from mappings.risks import item_risks, plan_risks
from sync.base.records import WorkItem
from sync.base.report import RiskRow
from tests.mappings.conftest import BERLIN, NOW, RULES, item, pgoal, pkr, ts

FRESH = ts("2026-11-15T08:00Z")  # updated yesterday: not stale


def risks_of(
    *items: WorkItem, by: str = "count", rules: StatusRules = RULES, now: str | None = None
) -> list[RiskRow]:
    when = ts(now) if now else NOW
    return item_risks(pkr(by=by), list(items), when, rules, BERLIN)


def kinds(rows: list[RiskRow]) -> list[tuple[str | None, str]]:
    return [(r.item, r.risk) for r in rows]


def test_a_healthy_item_has_no_risks() -> None:
    healthy = item("PAY-1", state="in_progress", assignee="Ann", updated=FRESH, points=3.0)
    assert risks_of(healthy, by="points") == []


# --- overdue --------------------------------------------------------------------------------------


def test_overdue_open_item() -> None:
    late = item(
        "PAY-1",
        state="in_progress",
        assignee="Ann",
        due=date(2026, 11, 10),
        updated=FRESH,
        url="https://acme.atlassian.net/browse/PAY-1",
    )
    (risk,) = risks_of(late)
    assert risk == RiskRow(
        key_result="K1",
        goal="G1",
        item="PAY-1",
        item_url="https://acme.atlassian.net/browse/PAY-1",
        risk="overdue",
        owner="Ann",
        since=ts("2026-11-10T23:00Z"),  # 24:00 of the due day in Berlin
        reason="due 2026-11-10, 6 day(s) ago, still in progress",
    )


def test_overdue_starts_at_24_00_of_the_due_day_in_the_config_timezone() -> None:
    due_today = item("PAY-1", due=date(2026, 11, 16), updated=FRESH)
    assert risks_of(due_today) == []
    just_before = item("PAY-1", due=date(2026, 11, 15), updated=FRESH)
    assert risks_of(just_before, now="2026-11-15T22:59Z") == []
    (risk,) = risks_of(just_before, now="2026-11-15T23:00Z")
    assert risk.risk == "overdue"
    assert risk.reason == "due 2026-11-15, 1 day(s) ago, still todo"


def test_done_and_cancelled_items_are_never_overdue() -> None:
    done = item("PAY-1", state="done", due=date(2026, 10, 1), updated=FRESH)
    cancelled = item("PAY-2", state="cancelled", due=date(2026, 10, 1), updated=FRESH)
    assert risks_of(done, cancelled) == []


# --- blocked --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "labels", "reason"),
    [
        ("Blocked", (), "blocked: status Blocked"),
        ("blocked", ("x",), "blocked: status blocked"),
        ("In Progress", ("Blocked",), "blocked: labelled blocked"),
        ("In Progress", (), "blocked: flagged"),
    ],
)
def test_blocked_items_say_why(status: str, labels: tuple[str, ...], reason: str) -> None:
    stuck = item(
        "PAY-1",
        state="in_progress",
        status=status,
        labels=labels,
        blocked=True,
        assignee="Ann",
        updated=FRESH,
    )
    (risk,) = risks_of(stuck)
    assert (risk.risk, risk.reason, risk.since) == ("blocked", reason, FRESH)


def test_blocked_follows_the_configured_statuses_and_labels() -> None:
    rules = StatusRules(blocked_statuses=("On Hold",), blocked_labels=("waiting",))
    held = item("PAY-1", status="On Hold", blocked=True, assignee="A", updated=FRESH)
    waiting = item("PAY-2", labels=("Waiting",), blocked=True, assignee="A", updated=FRESH)
    old_word = item("PAY-3", status="Blocked", blocked=True, assignee="A", updated=FRESH)
    assert [r.reason for r in risks_of(held, waiting, old_word, rules=rules)] == [
        "blocked: status On Hold",
        "blocked: labelled blocked",
        "blocked: flagged",
    ]


def test_a_done_blocked_item_is_no_risk() -> None:
    assert risks_of(item("PAY-1", state="done", blocked=True, updated=FRESH)) == []


# --- stale ----------------------------------------------------------------------------------------


def test_stale_after_stale_after_days() -> None:
    # 2026-11-01T09:00Z is 15 days before now; stale_after_days is 14
    old = item("PAY-1", state="in_progress", assignee="Ann", updated=ts("2026-11-01T09:00Z"))
    (risk,) = risks_of(old)
    assert (risk.risk, risk.since, risk.reason) == (
        "stale",
        ts("2026-11-01T09:00Z"),
        "not updated for 15 days",
    )
    exactly = item("PAY-2", state="in_progress", assignee="Ann", updated=ts("2026-11-02T09:00Z"))
    assert risks_of(exactly) == []  # exactly 14 days: not yet
    assert risks_of(old, rules=StatusRules(stale_after_days=30)) == []


def test_an_untouched_open_backlog_item_is_stale_too() -> None:
    # DESIGN.md: stale items are open items not updated for stale_after_days, todo included
    backlog = item("PAY-1", state="todo", assignee="Ann", updated=ts("2026-08-01T09:00Z"))
    assert [(r.risk, r.reason) for r in risks_of(backlog)] == [
        ("stale", "not updated for 107 days")
    ]


def test_done_items_are_never_stale() -> None:
    assert risks_of(item("PAY-1", state="done", updated=ts("2026-01-01T00:00Z"))) == []


# --- unassigned, unestimated ----------------------------------------------------------------------


def test_in_progress_without_assignee() -> None:
    orphan = item("PAY-1", state="in_progress", started=ts("2026-11-12T08:00Z"), updated=FRESH)
    (risk,) = risks_of(orphan)
    assert (risk.risk, risk.since, risk.reason) == (
        "unassigned",
        ts("2026-11-12T08:00Z"),
        "in progress without an assignee",
    )
    assert risk.owner == "Kim"  # no assignee: the key result's owner answers for it
    assert risks_of(item("PAY-2", state="todo", updated=FRESH)) == []


def test_unestimated_only_where_points_are_measured() -> None:
    created = ts("2026-10-05T08:00Z")
    items = [
        item("PAY-1", assignee="A", updated=FRESH, created=created),
        item("PAY-2", state="done", updated=FRESH, created=created),
        item("PAY-3", assignee="A", updated=FRESH, points=0.0),  # estimated as zero
        item("PAY-4", state="cancelled", updated=FRESH),
    ]
    found = risks_of(*items, by="points")
    assert kinds(found) == [("PAY-1", "unestimated"), ("PAY-2", "unestimated")]
    assert found[0].since == created
    assert found[0].reason == "no estimate: counts as 0 points"
    assert risks_of(*items, by="count") == []


def test_a_cancelled_item_has_no_risks_at_all() -> None:
    gone = item(
        "PAY-1",
        state="cancelled",
        blocked=True,
        due=date(2026, 10, 1),
        updated=ts("2026-10-01T00:00Z"),
    )
    assert risks_of(gone, by="points") == []


def test_one_item_can_carry_several_risks() -> None:
    bad = item(
        "PAY-1",
        state="in_progress",
        status="Blocked",
        blocked=True,
        due=date(2026, 11, 1),
        updated=ts("2026-10-20T12:00Z"),
    )
    assert kinds(risks_of(bad, by="points")) == [
        ("PAY-1", "unestimated"),
        ("PAY-1", "overdue"),
        ("PAY-1", "blocked"),
        ("PAY-1", "stale"),
        ("PAY-1", "unassigned"),
    ]


# --- the plan's risks -----------------------------------------------------------------------------


def test_a_goal_without_owner() -> None:
    (risk,) = plan_risks(pgoal(owner=None), None, None)
    assert (risk.key_result, risk.goal, risk.item, risk.risk, risk.reason) == (
        "",
        "G1",
        None,
        "no owner",
        "goal G1 has no owner",
    )
    assert plan_risks(pgoal(), None, None) == []


def test_a_key_result_without_owner() -> None:
    (risk,) = plan_risks(pgoal(), pkr(owner=None), Measured(50.0))
    assert (risk.key_result, risk.risk, risk.reason, risk.owner) == (
        "K1",
        "no owner",
        "key result K1 has no owner",
        None,
    )


def test_no_data() -> None:
    (risk,) = plan_risks(pgoal(), pkr(), Measured(None, 0, 0, "no data: no items match"))
    assert (risk.risk, risk.reason, risk.owner) == ("no data", "no items match", "Kim")
    (bare,) = plan_risks(pgoal(owner="Dana"), pkr(owner=None), Measured(None))[1:]
    assert (bare.risk, bare.reason, bare.owner) == ("no data", "nothing to measure", "Dana")
    assert plan_risks(pgoal(), pkr(), Measured(0.0)) == []


def test_overdue_days_are_calendar_days_in_the_config_timezone() -> None:
    # Due 2026-10-24 (ends 2026-10-24T22:00Z, CEST). At 2026-10-26T22:30Z it is 23:30 CET on
    # the 26th in Berlin: 2 calendar days past due, although 48.5 h have passed since the end of
    # the 24th (the 25th had 25 hours), which counting whole UTC days would call 3.
    late = item(
        "PAY-1",
        state="in_progress",
        assignee="Ann",
        updated=ts("2026-10-26T20:00Z"),
        due=date(2026, 10, 24),
    )
    found = [r for r in risks_of(late, now="2026-10-26T22:30Z") if r.risk == "overdue"]
    assert [r.reason for r in found] == ["due 2026-10-24, 2 day(s) ago, still in progress"]
