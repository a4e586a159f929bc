"""mappings/asof.py: items as they stood at an earlier instant (`--as-of T`)."""

from __future__ import annotations

from mappings.asof import items_as_of, state_at
from sync.base.records import Event, WorkItem
from tests.mappings.conftest import event, item, ts

T = ts("2026-11-16T09:00Z")


def one_at(it: WorkItem, events: list[Event], at: str = "2026-11-16T09:00Z") -> WorkItem:
    (out,) = items_as_of([it], events, ts(at))
    return out


def test_items_created_after_t_did_not_exist() -> None:
    items = [
        item("PAY-1", created=ts("2026-11-16T09:00Z")),  # exactly T: existed
        item("PAY-2", created=ts("2026-11-16T09:01Z")),
        item("PAY-3"),  # creation unknown: kept
    ]
    assert [i.key for i in items_as_of(items, [], T)] == ["PAY-1", "PAY-3"]


def test_state_from_the_last_status_event_at_or_before_t() -> None:
    done_later = item(
        "PAY-1",
        state="done",
        created=ts("2026-10-02T08:00Z"),
        started=ts("2026-10-05T08:00Z"),
        done_at=ts("2026-11-20T08:00Z"),
        updated=ts("2026-11-20T08:00Z"),
    )
    events = [
        event("PAY-1", "2026-11-20T08:00Z", "in_progress", "done"),
        event("PAY-1", "2026-10-05T08:00Z", "todo", "in_progress"),  # unsorted on purpose
    ]
    at_t = one_at(done_later, events)
    assert at_t.state == "in_progress"
    assert at_t.done_at is None  # not done yet at T
    assert at_t.started == ts("2026-10-05T08:00Z")
    assert at_t.updated == ts("2026-10-05T08:00Z")  # the last thing known at T
    assert done_later.state == "done"  # the record itself is untouched


def test_an_event_exactly_at_t_counts() -> None:
    it = item("PAY-1", state="done", done_at=T, updated=T)
    assert one_at(it, [event("PAY-1", "2026-11-16T09:00Z", "in_progress", "done")]).state == "done"


def test_with_only_later_events_the_first_ones_from_state() -> None:
    it = item("PAY-1", state="done", updated=ts("2026-11-25T00:00Z"))
    events = [
        event("PAY-1", "2026-11-25T00:00Z", "in_progress", "done"),
        event("PAY-1", "2026-11-20T00:00Z", "todo", "in_progress"),
    ]
    assert one_at(it, events).state == "todo"


def test_reopened_items() -> None:
    it = item("PAY-1", state="in_progress", updated=ts("2026-11-01T00:00Z"))
    events = [
        event("PAY-1", "2026-10-10T00:00Z", "in_progress", "done"),
        event("PAY-1", "2026-11-01T00:00Z", "done", "in_progress"),
    ]
    assert one_at(it, events, "2026-10-20T00:00Z").state == "done"
    assert one_at(it, events, "2026-11-16T00:00Z").state == "in_progress"
    assert one_at(it, events, "2026-10-01T00:00Z").state == "in_progress"


def test_without_events_a_later_done_was_not_done_yet() -> None:
    started_before = item(
        "PAY-1",
        state="done",
        started=ts("2026-11-10T00:00Z"),
        done_at=ts("2026-11-18T00:00Z"),
    )
    started_after = item(
        "PAY-2",
        state="done",
        started=ts("2026-11-17T00:00Z"),
        done_at=ts("2026-11-18T00:00Z"),
    )
    assert state_at(started_before, [], T) == "in_progress"
    assert state_at(started_after, [], T) == "todo"
    later = one_at(started_after, [])
    assert (later.state, later.started, later.done_at) == ("todo", None, None)


def test_without_events_a_later_start_was_todo() -> None:
    it = item("PAY-1", state="in_progress", started=ts("2026-11-17T00:00Z"))
    assert state_at(it, [], T) == "todo"


def test_an_item_that_has_not_changed_since_t_is_returned_as_is() -> None:
    it = item(
        "PAY-1",
        state="done",
        done_at=ts("2026-11-01T00:00Z"),
        updated=ts("2026-11-02T00:00Z"),
    )
    assert one_at(it, []) is it


def test_a_cancelled_item_is_not_done_at_t() -> None:
    it = item("PAY-1", state="cancelled", updated=ts("2026-11-01T00:00Z"))
    events = [event("PAY-1", "2026-10-20T00:00Z", "in_progress", "done")]
    assert one_at(it, events).state == "cancelled"
    assert one_at(it, events, "2026-10-19T00:00Z").state == "in_progress"


def test_events_of_other_items_and_other_sources_are_ignored() -> None:
    it = item("PAY-1", state="todo")
    events = [
        event("PAY-1", "2026-11-01T00:00Z", "todo", "done", source="other"),
        event("PAY-2", "2026-11-01T00:00Z", "todo", "done"),
    ]
    assert one_at(it, events).state == "todo"


def test_events_without_a_state_change_are_ignored() -> None:
    it = item("PAY-1", state="done", done_at=ts("2026-11-20T00:00Z"))
    labelled = Event(
        source="jira",
        item_key="PAY-1",
        at=ts("2026-11-01T00:00Z"),
        kind="labeled",
        to_value="billing",
    )
    assert one_at(it, [labelled]).state == "todo"  # as without events: done after T


def test_updated_falls_back_to_created_when_nothing_was_known_at_t() -> None:
    it = item(
        "PAY-1",
        state="todo",
        created=ts("2026-10-03T00:00Z"),
        updated=ts("2026-11-20T00:00Z"),
    )
    assert one_at(it, []).updated == ts("2026-10-03T00:00Z")
    no_created = item("PAY-2", updated=ts("2026-11-20T00:00Z"))
    assert one_at(no_created, []).updated is None
