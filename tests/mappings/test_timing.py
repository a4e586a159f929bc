from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from mappings.model import Goal
from mappings.timing import (
    ItemTimes,
    daily_throughput,
    done_in_window,
    durations_days,
    history_start,
    start_needed,
    window_bounds,
)

from .conftest import BERLIN, NOW, event, item, ts


def test_started_is_the_first_move_to_in_progress_and_done_the_last_move_to_done() -> None:
    events = [
        event("A-1", "2026-10-05T08:00Z", "todo", "in_progress"),
        event("A-1", "2026-10-07T08:00Z", "in_progress", "done"),
        event("A-1", "2026-10-08T08:00Z", "done", "in_progress"),  # reopened
        event("A-1", "2026-10-06T08:00Z", "in_progress", "in_progress"),
        event("A-1", "2026-10-09T12:00Z", "in_progress", "done"),
        event("A-1", "2026-12-01T00:00Z", "done", "in_progress"),  # after now: not yet
    ]
    t = ItemTimes(events, NOW).of(item("A-1", state="done"))
    assert (t.started, t.done) == (ts("2026-10-05T08:00Z"), ts("2026-10-09T12:00Z"))


def test_without_events_the_items_own_times_stand_in_and_open_items_are_not_done() -> None:
    times = ItemTimes([], NOW)
    closed = item(
        "B-1", state="done", started=ts("2026-10-01T00:00Z"), done_at=ts("2026-10-03T00:00Z")
    )
    assert times.of(closed).done == ts("2026-10-03T00:00Z")
    still_open = item("B-2", state="in_progress", done_at=ts("2026-10-03T00:00Z"))
    assert times.of(still_open).done is None


def test_the_window_is_the_full_local_days_before_today() -> None:
    first, start, end = window_bounds(NOW, 6, BERLIN)  # now: 2026-11-16 10:00 CET
    assert first == date(2026, 10, 5)
    assert start == ts("2026-10-04T22:00Z")  # 00:00 CEST on 10-05
    assert end == ts("2026-11-15T23:00Z")  # 00:00 CET on 11-16: today is not in it


def test_daily_throughput_counts_by_local_day_and_durations_are_in_days() -> None:
    times = ItemTimes(
        [
            event("C-1", "2026-11-10T08:00Z", "todo", "in_progress"),
            event("C-1", "2026-11-12T20:00Z", "in_progress", "done"),
            event("C-2", "2026-11-12T23:30Z", "in_progress", "done"),  # 00:30 on 11-13 in Berlin
        ],
        NOW,
    )
    items = [
        item("C-1", state="done", points=3.0, created=ts("2026-11-09T08:00Z")),
        item("C-2", state="done", points=5.0, created=ts("2026-11-01T00:00Z")),
    ]
    first, start, end = window_bounds(NOW, 1, BERLIN)  # 11-09 .. 11-15
    finished = done_in_window(items, times, start, end)
    assert [i.key for i, _ in finished] == ["C-1", "C-2"]
    assert daily_throughput(finished, first, 7, BERLIN, by_points=False) == [
        0, 0, 0, 1, 1, 0, 0,
    ]  # fmt: skip
    assert daily_throughput(finished, first, 7, BERLIN, by_points=True)[3:5] == [3.0, 5.0]
    assert durations_days(finished, "cycle_time") == [pytest.approx(2.5)]  # C-2 never started
    assert durations_days(finished, "lead_time") == pytest.approx([3.5, 11.979166666])


def test_start_needed_names_done_items_a_cycle_time_measures_within_its_window() -> None:
    goal = Goal.model_validate(
        {
            "id": "G1",
            "title": "Faster",
            "key_results": [
                {"id": "K1", "title": "Cycle", "measure": "cycle_time", "baseline": 9,
                 "target": 3, "window_weeks": 2, "select": [{"source": "gh", "labels": ["api"]}]},
                {"id": "K2", "title": "Throughput", "measure": "throughput", "target": 5,
                 "select": [{"source": "gh"}]},
            ],
        }
    )  # fmt: skip
    needed = start_needed([goal], "gh", NOW, BERLIN, window_weeks=6)
    assert needed is not None
    in_window = ts("2026-11-03T00:00Z")  # the window: 2026-11-02 .. 2026-11-15 in Berlin
    assert needed(item("a#1", "gh", state="done", labels=("api",), done_at=in_window))
    assert not needed(
        item("a#2", "gh", state="done", labels=("api",), done_at=ts("2026-10-20T00:00Z"))
    )
    assert not needed(item("a#3", "gh", state="done", labels=("web",), done_at=in_window))
    assert not needed(item("a#4", "gh", state="in_progress", labels=("api",)))
    assert not needed(item("a#5", "jira", state="done", labels=("api",), done_at=in_window))
    # Throughput and lead time need no start: without a cycle time, nothing is needed.
    only_throughput = goal.model_copy(update={"key_results": goal.key_results[1:]})
    assert start_needed([only_throughput], "gh", NOW, BERLIN, window_weeks=6) is None


def _goal(*krs: dict[str, object], start: str | None = None) -> Goal:
    return Goal.model_validate(
        {"id": "G1", "title": "Goal", "start": start, "key_results": [
            {"id": f"K{i}", "title": "KR", "target": 5, "select": [{"source": "gh"}], **kr}
            for i, kr in enumerate(krs)
        ]}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("goals", "cycle_start", "first_day"),
    [
        # The forecast window (6 weeks before today, 2026-11-16 in Berlin) reaches further back
        # than a cycle that began on 2026-11-01.
        ([_goal({})], date(2026, 11, 1), date(2026, 10, 5)),
        # A cycle that began before the window.
        ([_goal({})], date(2026, 8, 1), date(2026, 8, 1)),
        # A key result's own window of 12 weeks.
        ([_goal({"window_weeks": 12})], date(2026, 11, 1), date(2026, 8, 24)),
        # A goal's and a key result's own starts.
        ([_goal({}, start="2026-07-01")], date(2026, 11, 1), date(2026, 7, 1)),
        ([_goal({"start": "2026-06-15"})], date(2026, 11, 1), date(2026, 6, 15)),
    ],
)
def test_history_start_is_the_earliest_day_any_measure_looks_at_less_a_day(
    goals: list[Goal], cycle_start: date, first_day: date
) -> None:
    got = history_start(goals, cycle_start, NOW, BERLIN, window_weeks=6)
    assert got.tzinfo is not None
    assert got.astimezone(BERLIN).date() == first_day - timedelta(days=1)
    assert got.astimezone(BERLIN).time() == time(0, 0)
