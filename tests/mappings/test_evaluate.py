"""mappings/evaluate.py: one evaluation, plan + records + now -> the report's rows.

Unless a test says otherwise: timezone Europe/Berlin, now 2026-11-16T09:00Z, cycle 2026-10-01 ..
2026-12-31, so a goal or key result on the cycle's dates expects round(1115 / 2209 * 100, 1) = 50.5
(see test_status.py for the hours).
"""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.evaluate import SourceHealth
from mappings.model import StatusRules
from mappings.plan import Plan
from sync.base.records import Event, Metric, WorkItem
from sync.base.report import HistoryRow
from tests.mappings.conftest import (
    event,
    goal,
    item,
    kr,
    metric,
    override,
    plan_of,
    row,
    run,
    ts,
)

EPIC = [{"source": "jira", "parent": "PAY-100"}]
PLAN = plan_of(goal("G1", kr("K1", select=EPIC), owner="Dana Lee"))


def epic_items(*states: str) -> list[WorkItem]:
    return [
        item(f"PAY-{n}", parent="PAY-100", state=s, assignee="Ann")
        for n, s in enumerate(states, start=1)
    ]


def metric_plan(*values: tuple[str, float, float]) -> Plan:
    """One goal G1 with one metric key result per (id, value, weight): baseline 0, target 100."""
    krs = [
        kr(ident, measure="metric", metric=ident.lower(), target=100, weight=weight)
        for ident, _, weight in values
    ]
    return plan_of(goal("G1", *krs, owner="Dana"))


def metric_values(*values: tuple[str, float, float]) -> list[Metric]:
    return [metric(ident.lower(), "2026-11-10T00:00Z", value) for ident, value, _ in values]


# --- key results from items -----------------------------------------------------------------------


def test_percent_done_on_track() -> None:
    items = [*epic_items("done", "done", "todo", "cancelled"), item("PAY-9", state="todo")]
    report = run(PLAN, items)
    k1 = row(report, "K1")
    assert (k1.value, k1.progress, k1.expected, k1.status) == (66.67, 66.7, 50.5, "On track")
    assert (k1.done, k1.total, k1.target) == (2, 3, 100.0)
    assert (k1.level, k1.goal_id, k1.owner, k1.sources) == ("kr", "G1", "Dana Lee", ("jira",))
    assert (k1.start, k1.due) == (date(2026, 10, 1), date(2026, 12, 31))
    assert k1.note == ""
    g1 = row(report, "G1")
    assert (g1.level, g1.value, g1.target, g1.done, g1.total) == ("goal", None, None, None, None)
    assert (g1.progress, g1.expected, g1.status) == (66.7, 50.5, "On track")
    assert [r.id for r in report.rows] == ["G1", "K1"]


def test_items_tab_shows_cancelled_items_but_measures_leave_them_out() -> None:
    report = run(PLAN, epic_items("done", "todo", "cancelled"))
    assert [(i.key, i.state, i.goal, i.key_result) for i in report.items] == [
        ("PAY-1", "done", "G1", "K1"),
        ("PAY-2", "todo", "G1", "K1"),
        ("PAY-3", "cancelled", "G1", "K1"),
    ]
    k1 = row(report, "K1")
    assert (k1.value, k1.done, k1.total) == (50.0, 1, 2)


def test_at_risk() -> None:
    k1 = row(run(PLAN, epic_items("done", "todo", "todo")), "K1")
    # progress 33.3 (33.33 rounded), gap 50.5 - 33.3 = 17.2: above 10, at most 25
    assert (k1.progress, k1.status) == (33.3, "At risk")
    assert k1.note == "17.2 points behind expected"


def test_off_track() -> None:
    report = run(PLAN, epic_items("todo", "in_progress"))
    k1 = row(report, "K1")
    assert (k1.progress, k1.status, k1.note) == (0.0, "Off track", "50.5 points behind expected")
    assert row(report, "G1").status == "Off track"


def test_all_done_is_done() -> None:
    report = run(PLAN, epic_items("done", "done", "cancelled"))
    assert (row(report, "K1").progress, row(report, "K1").status) == (100.0, "Done")
    assert row(report, "G1").status == "Done"


def test_due_in_the_past_is_off_track_past_due() -> None:
    plan = plan_of(goal("G1", kr("K1", due=date(2026, 11, 10), select=EPIC), owner="Dana"))
    report = run(plan, epic_items("done", "done", "todo"))
    k1 = row(report, "K1")
    assert (k1.progress, k1.expected, k1.status, k1.note) == (66.7, 100.0, "Off track", "past due")
    # the goal is due at the cycle's end: 66.7 against 50.5
    assert row(report, "G1").status == "On track"


def test_start_in_the_future_is_not_started() -> None:
    plan = plan_of(goal("G1", kr("K1", start=date(2026, 11, 20), select=EPIC), owner="Dana"))
    k1 = row(run(plan, epic_items("todo")), "K1")
    assert (k1.expected, k1.status, k1.start) == (0.0, "Not started", date(2026, 11, 20))


def test_no_items_is_no_data() -> None:
    report = run(PLAN, [item("PAY-9")])
    k1 = row(report, "K1")
    assert (k1.value, k1.progress, k1.done, k1.total) == (None, None, 0, 0)
    assert k1.status == "No data"  # never Off track for want of a number
    assert k1.note == (
        'no data: no items match {source: jira, parent: PAY-100}: parent "PAY-100" is on no '
        "item of jira"
    )
    assert [(r.key_result, r.risk, r.reason) for r in report.risks] == [
        (
            "K1",
            "no data",
            'no items match {source: jira, parent: PAY-100}: parent "PAY-100" is on no item '
            "of jira",
        )
    ]
    assert k1.risks == 1
    g1 = row(report, "G1")
    assert (g1.progress, g1.status, g1.note) == (None, "No data", "no data: no key result has data")


def test_zero_points_is_no_data_and_unestimated() -> None:
    plan = plan_of(goal("G1", kr("K1", by="points", select=EPIC), owner="Dana"))
    report = run(plan, epic_items("done", "todo"))
    k1 = row(report, "K1")
    assert (k1.value, k1.done, k1.total) == (None, 1, 2)
    assert (k1.status, k1.note) == ("No data", "no data: no selected item has points")
    assert sorted((r.item or "", r.risk) for r in report.risks) == [
        ("", "no data"),
        ("PAY-1", "unestimated"),
        ("PAY-2", "unestimated"),
    ]


def test_percent_done_by_points() -> None:
    plan = plan_of(goal("G1", kr("K1", by="points", select=EPIC), owner="Dana"))
    items = [
        item("PAY-1", parent="PAY-100", state="done", points=3.0),
        item("PAY-2", parent="PAY-100", state="todo", points=5.0),
        item("PAY-3", parent="PAY-100", state="cancelled", points=8.0),
    ]
    k1 = row(run(plan, items), "K1")
    assert (k1.value, k1.progress, k1.done, k1.total) == (37.5, 37.5, 1, 2)


def test_a_jql_clause_selects_the_extra_searchs_keys() -> None:
    plan = plan_of(
        goal("G1", kr("K1", select=[{"source": "jira", "jql": "priority = High"}]), owner="D")
    )
    items = [item("PAY-1", state="done"), item("PAY-2"), item("PAY-3")]
    found = {("jira", "priority = High"): frozenset({"PAY-1", "PAY-2"})}
    k1 = row(run(plan, items, jql_matches=found), "K1")
    assert (k1.value, k1.done, k1.total) == (50.0, 1, 2)


# --- key results from metrics ---------------------------------------------------------------------


def test_metric_takes_the_latest_value_at_or_before_now() -> None:
    plan = plan_of(
        goal("G1", kr("K2", measure="metric", metric="nps", baseline=20, target=40), owner="D")
    )
    values = [
        metric("nps", "2026-11-01T00:00Z", 25.0),
        metric("nps", "2026-11-15T00:00Z", 30.0),
        metric("nps", "2026-11-17T00:00Z", 39.0),  # later than now: ignored
    ]
    report = run(plan, metrics=values)
    k2 = row(report, "K2")
    # (30 - 20) / (40 - 20) = 50 %; gap 0.5
    assert (k2.value, k2.target, k2.progress, k2.status) == (30.0, 40.0, 50.0, "On track")
    assert (k2.done, k2.total, k2.sources) == (None, None, ("kpi",))


def test_metric_without_values_yet() -> None:
    plan = plan_of(goal("G1", kr("K2", measure="metric", metric="nps", target=40), owner="D"))
    report = run(plan, metrics=[metric("nps", "2026-11-17T00:00Z", 39.0)])
    k2 = row(report, "K2")
    assert (k2.value, k2.progress, k2.sources) == (None, None, ())
    assert k2.note.startswith("no data: no value of metric 'nps' yet")
    assert [r.risk for r in report.risks] == ["no data"]


def test_metric_with_target_below_baseline_goes_down() -> None:
    churn = kr("K2", measure="metric", metric="churn", baseline=40, target=20, direction="down")
    report = run(
        plan_of(goal("G1", churn, owner="D")), metrics=[metric("churn", "2026-11-10T00:00Z", 35.0)]
    )
    k2 = row(report, "K2")
    # (35 - 40) / (20 - 40) = 25 %; gap 50.5 - 25 = 25.5
    assert (k2.progress, k2.status, k2.note) == (25.0, "Off track", "25.5 points behind expected")


def test_metric_with_target_equal_to_baseline() -> None:
    flat = plan_of(goal("G1", kr("K2", measure="metric", metric="x", baseline=3, target=3)))
    reached = row(run(flat, metrics=[metric("x", "2026-11-10T00:00Z", 3.0)]), "K2")
    assert (reached.progress, reached.status) == (100.0, "Done")
    short = row(run(flat, metrics=[metric("x", "2026-11-10T00:00Z", 2.0)]), "K2")
    assert (short.progress, short.status) == (0.0, "Off track")


# --- goals ----------------------------------------------------------------------------------------


def test_goal_rolls_up_the_weighted_mean() -> None:
    parts = (("K1", 80.0, 3.0), ("K2", 20.0, 1.0))
    report = run(metric_plan(*parts), metrics=metric_values(*parts))
    g1 = row(report, "G1")
    # (3 * 80 + 1 * 20) / 4 = 65
    assert (g1.progress, g1.status, g1.note) == (65.0, "On track", "")
    assert row(report, "K2").status == "Off track"
    assert g1.sources == ("kpi",)


def test_goal_status_worst_takes_its_worst_key_result() -> None:
    parts = (("K1", 80.0, 3.0), ("K2", 20.0, 1.0))
    rules = StatusRules(goal_status="worst")
    g1 = row(run(metric_plan(*parts), metrics=metric_values(*parts), rules=rules), "G1")
    assert (g1.progress, g1.status, g1.note) == (65.0, "Off track", "worst of its key results")


def test_nested_goals_roll_up_into_their_parent() -> None:
    plan = plan_of(
        goal("G1", kr("K1", measure="metric", metric="a", target=100), owner="D"),
        goal("G2", kr("K2", measure="metric", metric="b", target=100), parent="G1", weight=2),
        goal("G3", kr("K3", measure="metric", metric="c", target=100), parent="G2", owner="E"),
    )
    values = [
        metric("a", "2026-11-10T00:00Z", 80.0),
        metric("b", "2026-11-10T00:00Z", 20.0),
        metric("c", "2026-11-10T00:00Z", 50.0),
    ]
    report = run(plan, metrics=values)
    assert [(r.id, r.depth, r.goal_id) for r in report.rows] == [
        ("G1", 0, "G1"),
        ("K1", 0, "G1"),
        ("G2", 1, "G2"),
        ("K2", 1, "G2"),
        ("G3", 2, "G3"),
        ("K3", 2, "G3"),
    ]
    # G3 = 50; G2 = (20 + 50) / 2 = 35; G1 = (80 + 2 * 35) / 3 = 50
    assert row(report, "G3").progress == 50.0
    assert row(report, "G2").progress == 35.0
    assert (row(report, "G1").progress, row(report, "G1").status) == (50.0, "On track")
    assert (row(report, "G2").status, row(report, "G2").note) == (
        "At risk",
        "15.5 points behind expected",  # 50.5 - 35
    )


def test_a_goal_without_key_results_says_so() -> None:
    g9 = row(run(plan_of(goal("G9", owner="D"))), "G9")
    assert (g9.progress, g9.status) == (None, "No data")
    assert g9.note == "no data: no key results"


def test_goal_without_owner_is_a_risk_and_counts_its_key_results_risks() -> None:
    plan = plan_of(goal("G1", kr("K1", select=EPIC)))
    report = run(plan, [])
    assert [(r.key_result, r.risk) for r in report.risks] == [
        ("", "no owner"),
        ("K1", "no owner"),
        ("K1", "no data"),
    ]
    assert row(report, "G1").risks == 3
    assert row(report, "K1").risks == 2


# --- overrides ------------------------------------------------------------------------------------


def test_an_override_wins_until_its_date_inclusive() -> None:
    items = epic_items("done", "todo", "todo")  # computed: At risk
    until = date(2026, 11, 16)
    report = run(PLAN, items, overrides=[override("K1", "On track", until, "vendor delay")])
    k1 = row(report, "K1")
    assert k1.status == "On track"
    assert k1.note == "override: vendor delay (until 2026-11-16); 17.2 points behind expected"


def test_until_is_a_day_in_the_config_timezone() -> None:
    items = epic_items("done", "todo", "todo")
    late = [override("K1", "Done", date(2026, 11, 16))]
    # 23:59 in Berlin on the 16th: still in force
    assert row(run(PLAN, items, now=ts("2026-11-16T22:59Z"), overrides=late), "K1").status == "Done"
    # 00:00 in Berlin on the 17th (still the 16th in UTC): expired
    expired = row(run(PLAN, items, now=ts("2026-11-16T23:00Z"), overrides=late), "K1")
    assert expired.status == "At risk"
    assert "override" not in expired.note


def test_an_expired_override_is_ignored() -> None:
    report = run(
        PLAN,
        epic_items("done", "todo", "todo"),
        overrides=[override("K1", "Done", date(2026, 11, 15))],
    )
    assert row(report, "K1").status == "At risk"


def test_an_override_without_date_or_reason() -> None:
    overrides = [override("K1", "Done"), override("K1", "Off track")]  # the later row wins
    k1 = row(run(PLAN, epic_items("done", "todo", "todo"), overrides=overrides), "K1")
    assert k1.status == "Off track"
    assert k1.note.startswith("override: set by hand;")


def test_an_override_on_a_key_result_does_not_change_its_goal() -> None:
    overrides = [override("K1", "Off track", reason="vendor")]
    report = run(PLAN, epic_items("done", "done", "todo"), overrides=overrides)
    assert row(report, "K1").status == "Off track"
    g1 = row(report, "G1")
    assert (g1.status, g1.note) == ("On track", "")


def test_an_override_on_a_key_result_does_not_change_a_worst_goal() -> None:
    parts = (("K1", 80.0, 1.0), ("K2", 70.0, 1.0))  # both on track
    report = run(
        metric_plan(*parts),
        metrics=metric_values(*parts),
        overrides=[override("K2", "Off track", reason="vendor")],
        rules=StatusRules(goal_status="worst"),
    )
    assert row(report, "K2").status == "Off track"
    assert row(report, "G1").status == "On track"


def test_an_override_on_a_goal() -> None:
    overrides = [override("G1", "At risk", date(2026, 11, 30), "board review")]
    report = run(PLAN, epic_items("done", "done", "todo"), overrides=overrides)
    g1 = row(report, "G1")
    assert (g1.status, g1.note) == ("At risk", "override: board review (until 2026-11-30)")
    assert row(report, "K1").status == "On track"


# --- trend, history, source health ----------------------------------------------------------------


def _h(day: str, ident: str, progress: float | None) -> HistoryRow:
    return HistoryRow(
        date=date.fromisoformat(day),
        id=ident,
        value=progress,
        progress=progress,
        expected=0.0,
        status="On track",
    )


def test_trend_7d_against_the_newest_row_at_least_7_days_old() -> None:
    history = [
        _h("2026-11-08", "K1", 30.0),
        _h("2026-11-09", "K1", 40.0),  # exactly 7 days before the 16th: the base
        _h("2026-11-10", "K1", 60.0),  # 6 days: too recent
        _h("2026-11-09", "K9", 10.0),
    ]
    report = run(PLAN, epic_items("done", "done", "todo"), history=history)
    assert row(report, "K1").trend_7d == 26.7  # 66.7 - 40
    assert row(report, "G1").trend_7d is None
    assert (
        row(run(PLAN, epic_items("done"), history=[_h("2026-11-10", "K1", 5.0)]), "K1").trend_7d
        is None
    )


def test_history_rows_are_dated_todays_local_day() -> None:
    report = run(PLAN, epic_items("done", "todo"), now=ts("2026-11-16T23:30Z"))
    assert [(h.date, h.id, h.progress) for h in report.history] == [
        (date(2026, 11, 17), "G1", 50.0),
        (date(2026, 11, 17), "K1", 50.0),
    ]
    assert report.history[1].status == row(report, "K1").status
    assert report.history[1].value == 50.0


def test_a_stale_source_is_noted_with_its_time_in_the_config_timezone() -> None:
    plan = plan_of(
        goal(
            "G1",
            kr("K1", select=EPIC),
            kr("K2", measure="metric", metric="nps", target=40),
            owner="Dana",
        )
    )
    health = {
        "jira": SourceHealth(
            ok=False,
            last_success=ts("2026-11-14T06:00Z"),
            stale_since=ts("2026-11-15T08:00Z"),
            error="timeout",
        ),
        "kpi": SourceHealth(ok=True, last_success=ts("2026-11-16T08:00Z")),
    }
    report = run(
        plan,
        epic_items("done", "done", "todo"),
        metrics=[metric("nps", "2026-11-10T00:00Z", 30.0)],
        health=health,
    )
    k1, k2, g1 = row(report, "K1"), row(report, "K2"), row(report, "G1")
    assert k1.note == "stale since 2026-11-15 09:00: source jira failed"
    assert k1.updated == ts("2026-11-14T06:00Z")
    assert (k2.note, k2.updated) == ("", ts("2026-11-16T08:00Z"))
    assert g1.note.endswith("stale since 2026-11-15 09:00: source jira failed")
    assert g1.updated == ts("2026-11-14T06:00Z")  # the oldest of its sources
    assert g1.sources == ("jira", "kpi")


def test_updated_is_never_later_than_now() -> None:
    health = {"jira": SourceHealth(ok=True, last_success=ts("2026-11-20T00:00Z"))}
    report = run(PLAN, epic_items("done"), now=ts("2026-11-16T09:00Z"), health=health)
    assert row(report, "K1").updated == ts("2026-11-16T09:00Z")


# --- portfolio views through evaluate -------------------------------------------------------------


def test_alignment_unaligned_and_workload() -> None:
    items = [
        *epic_items("done", "todo", "in_progress"),
        item("PAY-100", kind="epic", state="done", done_at=ts("2026-11-02T00:00Z")),
        item("PAY-9", assignee="Ann", points=2.0),
        item("PAY-10", state="cancelled", assignee="Ann"),
    ]
    report = run(PLAN, items, rules=StatusRules(wip_limit=2))
    a = report.alignment
    # aligned: PAY-2, PAY-3 and the named epic PAY-100; PAY-1 is done at an unknown time (no
    # done_at, no updated), so it is not known to belong to the cycle; unaligned: PAY-9
    assert (a.aligned_items, a.unaligned_items, a.share_by_count) == (3, 1, 75.0)
    assert [u.key for u in report.unaligned] == ["PAY-9"]
    # Ann: PAY-2 and PAY-3 for G1, PAY-9 for no goal: 3 open items > 2
    assert [(w.assignee, w.goal, w.open_items, w.over_wip) for w in report.workload] == [
        ("Ann", "G1", 2, True),
        ("Ann", "(unaligned)", 1, True),
    ]


def test_people_map_aliases_to_one_name() -> None:
    items = [
        item("PAY-1", parent="PAY-100", assignee="dlee"),
        item("PAY-2", parent="PAY-100", assignee="Dana.Lee@acme.example"),
    ]
    people = {"dlee": "Dana Lee", "dana.lee@acme.example": "Dana Lee"}
    report = run(PLAN, items, people=people)
    assert [i.assignee for i in report.items] == ["Dana Lee", "Dana Lee"]
    assert [(w.assignee, w.open_items) for w in report.workload] == [("Dana Lee", 2)]


# --- --as-of --------------------------------------------------------------------------------------


def test_as_of_rebuilds_items_from_their_events() -> None:
    t = ts("2026-11-01T09:00Z")
    items = [
        item("PAY-1", parent="PAY-100", state="done", created=ts("2026-10-02T00:00Z")),
        item("PAY-2", parent="PAY-100", state="done", created=ts("2026-10-02T00:00Z")),
        item("PAY-3", parent="PAY-100", state="todo", created=ts("2026-11-05T00:00Z")),
    ]
    events = [
        event("PAY-1", "2026-10-20T00:00Z", "in_progress", "done"),
        event("PAY-2", "2026-11-03T00:00Z", "in_progress", "done"),
    ]
    report = run(PLAN, items, events=events, now=t, as_of=True)
    k1 = row(report, "K1")
    # at T: PAY-1 done, PAY-2 in progress, PAY-3 not created yet
    assert (k1.value, k1.done, k1.total) == (50.0, 1, 2)
    assert [(i.key, i.state) for i in report.items] == [("PAY-1", "done"), ("PAY-2", "in_progress")]
    assert {h.date for h in report.history} == {date(2026, 11, 1)}
    # the same evaluation without --as-of sees today's states
    assert row(run(PLAN, items, events=events, now=t), "K1").done == 2


# --- property: a rollup of equal children equals the child ----------------------------------------


@settings(deadline=None, max_examples=50)
@given(
    value=st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda v: round(v, 2)),
    weights=st.lists(st.floats(min_value=0.01, max_value=50), min_size=1, max_size=5),
    child_weight=st.one_of(st.none(), st.floats(min_value=0.01, max_value=50)),
)
def test_a_rollup_of_equal_children_equals_the_child(
    value: float, weights: list[float], child_weight: float | None
) -> None:
    krs = [
        kr(f"K{n}", measure="metric", metric="m", target=100, weight=w)
        for n, w in enumerate(weights)
    ]
    goals = [goal("G1", *krs, owner="D")]
    if child_weight is not None:
        child_kr = kr("C1", measure="metric", metric="m", target=100)
        goals.append(goal("G2", child_kr, parent="G1", weight=child_weight, owner="D"))
    report = run(plan_of(*goals), metrics=[metric("m", "2026-11-10T00:00Z", value)])
    child = row(report, "K0").progress
    assert child is not None
    # one decimal, except that anything short of 100 never reads 100 (99.97 shows 99.9)
    assert child == (99.9 if value < 100 <= round(value, 1) else round(value, 1))
    assert row(report, "G1").progress == child


# --- rounding, rollups with missing data, epics in workload ------------------------------------


def test_progress_just_below_100_never_reads_100_nor_done() -> None:
    # 1999 of 2000 items done: 99.95 % would round to 100.0; it must read 99.9 and not be Done.
    items = [item(f"PAY-{n}", parent="PAY-100", state="done") for n in range(1999)]
    items.append(item("PAY-LAST", parent="PAY-100", state="todo"))
    k1 = row(run(PLAN, items), "K1")
    assert (k1.value, k1.progress, k1.status) == (99.95, 99.9, "On track")


def test_a_goal_rolls_up_only_its_key_results_with_data() -> None:
    # K1 at 80 (weight 1), K3 at 20 (weight 3), K2 has no value yet: the goal is
    # (80 * 1 + 20 * 3) / 4 = 35, not (80 + 0 + 60) / 5 = 28 (DESIGN.md: No data is left out).
    plan = metric_plan(("K1", 80.0, 1.0), ("K2", 0.0, 1.0), ("K3", 20.0, 3.0))
    values = [metric("k1", "2026-11-10T00:00Z", 80.0), metric("k3", "2026-11-10T00:00Z", 20.0)]
    report = run(plan, metrics=values)
    assert (row(report, "K2").progress, row(report, "K2").status) == (None, "No data")
    g1 = row(report, "G1")
    assert (g1.progress, g1.status) == (35.0, "At risk")  # 50.5 - 35 = 15.5 points behind


def test_an_epic_named_as_parent_is_not_workload() -> None:
    epic = item("PAY-100", kind="epic", state="in_progress", assignee="Ann")
    report = run(PLAN, [epic, *epic_items("todo")])
    assert [(w.assignee, w.goal, w.open_items) for w in report.workload] == [("Ann", "G1", 1)]


# --- forecast and scope --------------------------------------------------------------------------


def steady_sprint() -> tuple[list[WorkItem], list[Event]]:
    """20 items of epic PAY-100 created 2026-10-20; one finished a day on 11-02 .. 11-11."""
    items, events = [], []
    for n in range(20):
        done = n < 10
        items.append(
            item(
                f"PAY-{n}",
                parent="PAY-100",
                state="done" if done else "todo",
                assignee="Ann",
                created=ts("2026-10-20T08:00Z"),
                updated=ts("2026-11-12T08:00Z"),
            )
        )
        if done:
            events.append(event(f"PAY-{n}", f"2026-11-{n + 2:02d}T10:00Z", "in_progress", "done"))
    return items, events


def test_a_forecast_after_due_turns_on_track_into_at_risk() -> None:
    # Due 11-30, started 11-02: expected 49.7 %, progress 10 / 20 = 50 %: on track by the gap.
    # But 10 done in the 42-day window replay at ~0.24 a day: 10 more take ~6 weeks.
    plan = plan_of(
        goal(
            "G1",
            kr("K1", select=EPIC, start=date(2026, 11, 2), due=date(2026, 11, 30)),
            owner="Dana",
        )
    )
    items, events = steady_sprint()
    report = run(plan, items, events=events)
    k1 = row(report, "K1")
    assert (k1.progress, k1.expected) == (50.0, 49.7)
    assert k1.status == "At risk"
    assert k1.forecast_p85 is not None and k1.forecast_p85 > date(2026, 12, 15)
    assert k1.note == f"forecast after due (P85 {k1.forecast_p85})"
    slips = [r for r in report.risks if r.risk == "forecast slip"]
    assert [r.key_result for r in slips] == ["K1"]
    assert slips[0].reason.startswith(f"P85 forecast {k1.forecast_p85} is after due 2026-11-30")
    assert row(report, "G1").forecast_p85 == k1.forecast_p85  # the latest of its key results
    assert run(plan, items, events=events) == report  # seeded: the same dates every time


def test_fewer_than_three_done_in_the_window_gives_no_forecast() -> None:
    items, events = steady_sprint()
    report = run(PLAN, items, events=events[:2])  # only 2 finishes known in the window
    assert row(report, "K1").forecast_p85 is None


def test_scope_growth_over_14_days_is_a_risk() -> None:
    old = [
        item(
            f"PAY-{n}",
            parent="PAY-100",
            state="todo",
            assignee="Ann",
            created=ts("2026-10-20T08:00Z"),
            updated=ts("2026-11-15T08:00Z"),
        )
        for n in range(10)
    ]
    new = [
        item(
            f"PAY-N{n}",
            parent="PAY-100",
            state="todo",
            assignee="Ann",
            created=ts("2026-11-10T08:00Z"),
            updated=ts("2026-11-15T08:00Z"),
        )
        for n in range(5)
    ]
    report = run(PLAN, [*old, *new])
    [growth] = [r for r in report.risks if r.risk == "scope growth"]
    assert growth.reason == "scope up 50 % in 14 days (10 -> 15 items)"
    assert growth.since == ts("2026-11-02T09:00Z")
    assert [r.risk for r in run(PLAN, old).risks if r.risk == "scope growth"] == []
