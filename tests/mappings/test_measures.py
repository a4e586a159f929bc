"""mappings/measures.py: the measure registry, and the value of a key result from its items or
its metric."""

from __future__ import annotations

from typing import Any, Literal, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.measures import (
    MEASURES,
    Clock,
    Measured,
    MetricSeries,
    OptionKey,
    direction_of,
    field_value,
    measure_items,
    measure_metric,
    taking,
)
from mappings.model import KeyResult, Measure
from mappings.timing import ItemTimes
from sync.base.records import Event, State, WorkItem
from sync.schema import config_schema
from tests.mappings.conftest import BERLIN, NOW, event, item, metric, pkr, ts

# A done, a todo, an in-progress and a cancelled item: the cancelled one is never scope.
MIXED = [
    item("A", state="done", points=5.0, updated=ts("2026-11-01T10:00Z")),
    item("B", state="todo", points=3.0, updated=ts("2026-11-03T10:00Z")),
    item("C", state="in_progress", points=None, updated=ts("2026-11-02T10:00Z")),
    item("D", state="cancelled", points=8.0, updated=ts("2026-11-10T10:00Z")),
]


# --- percent_done ---------------------------------------------------------------------------------


def test_percent_done_by_count_leaves_cancelled_out() -> None:
    m = measure_items(pkr(), MIXED)
    assert m.value == 33.33  # 1 done of 3 in scope, rounded to 2 places
    assert (m.done, m.total) == (1, 3)
    assert m.note == ""


def test_percent_done_by_points_counts_unestimated_as_zero() -> None:
    # done 5 of 5 + 3 + 0 points (the cancelled 8 points are not scope)
    m = measure_items(pkr(by="points"), MIXED)
    assert m.value == 62.5
    assert (m.done, m.total) == (1, 3)  # Done / Total always counts items


def test_percent_done_by_points_with_zero_points_has_no_value() -> None:
    items = [item("A", state="done"), item("B", points=0.0)]
    m = measure_items(pkr(by="points"), items)
    assert m.value is None
    assert m.note == "no data: no selected item has points"
    assert (m.done, m.total) == (1, 2)


def test_no_items_is_no_data() -> None:
    m = measure_items(pkr(), [])
    assert m == Measured(None, 0, 0, "no data: no items match", None)


def test_only_cancelled_items_is_no_data() -> None:
    m = measure_items(pkr(), [item("X", state="cancelled", updated=ts("2026-11-01T00:00Z"))])
    assert m.value is None
    assert (m.done, m.total) == (0, 0)
    assert m.note == "no data: every selected item (1) is cancelled"
    assert m.updated is None  # a cancelled item's update is not an input of the value


def test_all_done_is_100() -> None:
    items = [item("A", state="done"), item("B", state="done"), item("C", state="cancelled")]
    m = measure_items(pkr(), items)
    assert m.value == 100.0
    assert (m.done, m.total) == (2, 2)


def test_updated_is_the_newest_update_in_scope() -> None:
    # D (cancelled) was updated last, but B is the newest item in scope.
    assert measure_items(pkr(), MIXED).updated == ts("2026-11-03T10:00Z")


# --- count, open_count, sum -----------------------------------------------------------------------


def test_count_counts_done_items_by_count_and_by_points() -> None:
    items = [
        item("A", state="done", points=2.0),
        item("B", state="done", points=None),
        item("C", state="todo", points=5.0),
        item("D", state="cancelled", points=13.0),
    ]
    assert measure_items(pkr(measure="count", target=10.0), items).value == 2.0
    assert measure_items(pkr(measure="count", by="points", target=10.0), items).value == 2.0
    assert measure_items(pkr(measure="count", target=10.0), items).total == 3


def test_count_with_state_counts_those_states_never_cancelled() -> None:
    items = [
        item("A", state="in_progress"),
        item("B", state="in_progress"),
        item("C", state="done"),
        item("D", state="cancelled"),
    ]
    in_progress: tuple[State, ...] = ("in_progress",)
    cancelled: tuple[State, ...] = ("cancelled",)
    assert measure_items(pkr(measure="count", states=in_progress), items).value == 2.0
    assert measure_items(pkr(measure="count", states=cancelled), items).value == 0.0


def test_open_count_counts_todo_and_in_progress() -> None:
    items = [
        item("A", state="todo", points=1.0),
        item("B", state="in_progress", points=2.5),
        item("C", state="done", points=8.0),
        item("D", state="cancelled", points=5.0),
    ]
    kr = pkr(measure="open_count", target=0.0, baseline=10.0, direction="down")
    m = measure_items(kr, items)
    assert m.value == 2.0
    assert (m.done, m.total) == (1, 3)
    assert measure_items(pkr(measure="open_count", by="points"), items).value == 3.5


def test_sum_adds_a_field_of_done_items_and_notes_missing_values() -> None:
    items = [
        item("A", state="done", fields={"revenue": 100}),
        item("B", state="done", fields={"revenue": "250.5"}),
        item("C", state="done", fields={}),
        item("D", state="done", fields={"revenue": True}),  # a flag, not a number
        item("E", state="todo", fields={"revenue": 999}),
        item("F", state="cancelled", fields={"revenue": 1000}),
    ]
    m = measure_items(pkr(measure="sum", field="revenue", target=1000.0), items)
    assert m.value == 350.5
    assert m.note == "2 item(s) without revenue"
    assert (m.done, m.total) == (4, 5)


def test_sum_of_points_with_a_state() -> None:
    items = [
        item("A", state="in_progress", points=3.0),
        item("B", state="in_progress", points=2.0),
        item("C", state="done", points=40.0),
    ]
    in_progress: tuple[State, ...] = ("in_progress",)
    m = measure_items(pkr(measure="sum", field="points", states=in_progress), items)
    assert m.value == 5.0
    assert m.note == ""


@pytest.mark.parametrize(
    ("fields", "points", "name", "expected"),
    [
        ({}, 3.0, "points", 3.0),
        ({}, None, "points", None),
        ({"x": 7}, None, "x", 7.0),
        ({"x": "1.25"}, None, "x", 1.25),
        ({"x": "n/a"}, None, "x", None),
        ({"x": False}, None, "x", None),
        ({"x": None}, None, "x", None),
        ({}, None, "x", None),
    ],
)
def test_field_value(
    fields: dict[str, object], points: float | None, name: str, expected: float | None
) -> None:
    assert field_value(item("A", fields=fields, points=points), name) == expected


@pytest.mark.parametrize("measure", ["throughput", "cycle_time", "lead_time"])
def test_time_measures_need_a_clock(measure: str) -> None:
    with pytest.raises(ValueError, match="needs a clock"):
        measure_items(pkr(measure=measure), [item("A")])


# --- metrics --------------------------------------------------------------------------------------

SERIES = MetricSeries(
    [
        metric("NPS", "2026-11-20T00:00Z", 39.0),  # after now: not known yet
        metric("nps", "2026-11-01T00:00Z", 25.0),
        metric("nps", "2026-11-10T12:00Z", 30.0, source="survey"),
        metric("revenue", "2026-11-15T00:00Z", 1.0e6),
    ]
)


def test_metric_latest_value_at_or_before_now() -> None:
    latest = SERIES.latest("nps", ts("2026-11-16T09:00Z"))
    assert latest is not None and latest.value == 30.0
    exactly = SERIES.latest("Nps", ts("2026-11-10T12:00Z"))
    assert exactly is not None and exactly.value == 30.0
    just_before = SERIES.latest("nps", ts("2026-11-10T11:59Z"))
    assert just_before is not None and just_before.value == 25.0
    assert SERIES.latest("nps", ts("2026-10-31T23:59Z")) is None
    assert SERIES.latest("churn", ts("2026-11-16T09:00Z")) is None


def test_metric_sources() -> None:
    assert SERIES.sources("NPS") == {"kpi", "survey"}
    assert SERIES.sources("churn") == set()


def test_measure_metric_takes_the_latest_value() -> None:
    m = measure_metric(pkr(measure="metric", metric="nps"), SERIES, ts("2026-11-16T09:00Z"))
    assert m.value == 30.0
    assert m.updated == ts("2026-11-10T12:00Z")
    assert (m.done, m.total) == (None, None)  # Done / Total is blank for metric rows


def test_measure_metric_without_a_value_yet() -> None:
    m = measure_metric(pkr(measure="metric", metric="nps"), SERIES, ts("2026-10-01T00:00Z"))
    assert m.value is None
    assert m.note == "no data: no value of metric 'nps' yet"


# --- properties -----------------------------------------------------------------------------------

open_or_done = st.sampled_from(["todo", "in_progress", "done", "cancelled"])
points = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False))


@settings(deadline=None)
@given(
    states=st.lists(open_or_done, min_size=1, max_size=30),
    estimates=st.lists(points, min_size=30, max_size=30),
    flip=st.integers(min_value=0, max_value=29),
    by=st.sampled_from(["count", "points"]),
)
def test_more_done_items_never_lower_percent_done(
    states: list[State],
    estimates: list[float | None],
    flip: int,
    by: Literal["count", "points"],
) -> None:
    items = [item(f"K-{n}", state=s, points=estimates[n]) for n, s in enumerate(states)]
    kr = pkr(by=by)
    before = measure_items(kr, items).value
    n = flip % len(items)
    finished: list[WorkItem] = list(items)
    if finished[n].is_open:
        finished[n] = item(f"K-{n}", state="done", points=estimates[n])
    finished.append(item("K-extra", state="done", points=estimates[n]))
    after = measure_items(kr, finished).value
    if before is not None:
        assert after is not None
        assert after >= before
    for value in (before, after):
        assert value is None or 0.0 <= value <= 100.0


# --- throughput, cycle and lead time, milestone --------------------------------------------------


def clock(*events: Event, weeks: int = 2) -> Clock:
    return Clock(NOW, BERLIN, ItemTimes(events, NOW), weeks)


def finished(
    key: str, started: str | None, done: str, **fields: Any
) -> tuple[WorkItem, list[Event]]:
    moves = [event(key, done, "in_progress", "done")]
    if started:
        moves.insert(0, event(key, started, "todo", "in_progress"))
    return item(key, state="done", **fields), moves


def test_throughput_is_done_per_week_over_the_window() -> None:
    # window: the 14 full days before 2026-11-16 (Berlin): 11-02 .. 11-15
    a, ea = finished("A", None, "2026-11-03T10:00Z", points=3.0)
    b, eb = finished("B", None, "2026-11-15T10:00Z", points=5.0)
    c, ec = finished("C", None, "2026-10-20T10:00Z", points=8.0)  # before the window
    d, ed = finished("D", None, "2026-11-16T08:00Z", points=2.0)  # today: not in the window
    the_clock = clock(*ea, *eb, *ec, *ed)
    by_count = measure_items(pkr(measure="throughput"), [a, b, c, d], the_clock)
    assert by_count.value == 1.0  # 2 items / 2 weeks
    by_points = measure_items(pkr(measure="throughput", by="points"), [a, b, c, d], the_clock)
    assert by_points.value == 4.0  # 8 points / 2 weeks


@pytest.mark.parametrize(("stat", "expected"), [("p50", 3.0), ("p85", 6.2), ("mean", 3.75)])
def test_cycle_time_stats(stat: str, expected: float) -> None:
    # cycle times 1, 2, 4 and 8 days. p50: rank 1.5, between 2 and 4 -> 3. p85: rank 2.55,
    # between 4 and 8 -> 4 + 0.55 * 4 = 6.2. mean: 15 / 4 = 3.75.
    pairs = [
        finished("A", "2026-11-02T10:00Z", "2026-11-03T10:00Z"),
        finished("B", "2026-11-02T10:00Z", "2026-11-04T10:00Z"),
        finished("C", "2026-11-02T10:00Z", "2026-11-06T10:00Z"),
        finished("D", "2026-11-02T10:00Z", "2026-11-10T10:00Z"),
    ]
    items = [i for i, _ in pairs]
    events = [e for _, es in pairs for e in es]
    kr = pkr(measure="cycle_time", stat=stat, baseline=10.0, target=2.0, direction="down")
    assert measure_items(kr, items, clock(*events)).value == pytest.approx(expected)


def test_lead_time_counts_from_creation_and_no_finished_item_is_no_data() -> None:
    a, ea = finished("A", "2026-11-09T00:00Z", "2026-11-10T00:00Z", created=ts("2026-11-01T00:00Z"))
    kr = pkr(measure="lead_time", stat="mean", baseline=30.0, target=5.0, direction="down")
    assert measure_items(kr, [a], clock(*ea)).value == 9.0
    quiet = measure_items(kr, [item("B", state="in_progress")], clock())
    assert quiet.value is None and "no data" in quiet.note


def test_milestone_is_the_done_share_of_its_items() -> None:
    items = [item("A", state="done"), item("B", state="todo"), item("C", state="cancelled")]
    got = measure_items(pkr(measure="milestone"), items)
    assert (got.value, got.done, got.total) == (50.0, 1, 2)


# --- the registry ---------------------------------------------------------------------------------


def test_the_registry_holds_exactly_the_measures_the_config_accepts() -> None:
    assert tuple(MEASURES) == get_args(Measure)
    schema = KeyResult.model_json_schema()["properties"]["measure"]
    assert schema["enum"] == list(MEASURES)
    whole = config_schema()["$defs"]["KeyResult"]["properties"]["measure"]
    assert whole["enum"] == list(MEASURES)


def test_every_measure_says_how_it_computes_and_which_way_is_better() -> None:
    for name, spec in MEASURES.items():
        assert spec.value, name
        assert spec.direction in ("up", "down"), name
        assert isinstance(spec.needs_baseline, bool), name
        assert isinstance(spec.forecasts, bool), name
        assert isinstance(spec.scope_risk, bool), name
        assert (spec.compute is None) == (name == "metric"), name
        assert set(spec.keys) <= set(get_args(OptionKey)), name
        # a forecast finishes the remaining items: scope growth moves it
        assert spec.scope_risk or not spec.forecasts, name


def test_the_registry_says_what_design_says() -> None:
    """DESIGN.md, "Measures and status"."""
    down = {n for n, s in MEASURES.items() if s.direction == "down"}
    assert down == {"open_count", "cycle_time", "lead_time"}
    assert {n for n, s in MEASURES.items() if s.needs_baseline} == down
    forecast = {n for n, s in MEASURES.items() if s.forecasts}
    assert forecast == {"percent_done", "milestone", "count", "open_count"}
    assert {n for n, s in MEASURES.items() if s.default_target is not None} == {
        "percent_done",
        "milestone",
        "open_count",
    }
    assert taking("state") == ["count", "sum"]
    assert taking("field") == ["sum"]
    assert taking("stat") == ["cycle_time", "lead_time"]
    assert taking("window_weeks") == ["throughput", "cycle_time", "lead_time"]
    assert taking("metric") == ["metric"]
    assert taking("by") == ["percent_done", "count", "open_count", "throughput"]


@pytest.mark.parametrize("measure", list(MEASURES))
def test_direction_is_the_measures_own_unless_the_config_gives_one(measure: Measure) -> None:
    assert direction_of(measure, None) == MEASURES[measure].direction
    assert direction_of(measure, "up") == "up"
    assert direction_of(measure, "down") == "down"
