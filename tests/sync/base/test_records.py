from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from sync.base.records import (
    Event,
    GoalDef,
    Metric,
    Override,
    WorkItem,
    from_json,
    to_json,
)


def test_work_item_round_trips_through_json() -> None:
    item = WorkItem(
        source="jira",
        key="PAY-12",
        title="Refunds",
        state="in_progress",
        labels=("billing", "api"),
        points=3.0,
        created=datetime(2026, 10, 2, 9, 30, tzinfo=UTC),
        due=date(2026, 11, 30),
        fields={"resolution": None},
    )
    back = from_json("item", to_json(item))
    assert back == item
    assert isinstance(back, WorkItem)
    assert back.labels == ("billing", "api")
    assert back.created is not None and back.created.tzinfo is not None


@pytest.mark.parametrize(
    ("kind", "record"),
    [
        (
            "event",
            Event(
                source="gh",
                item_key="a/b#1",
                at=datetime(2026, 10, 1, tzinfo=UTC),
                kind="closed",
                to_state="done",
            ),
        ),
        (
            "metric",
            Metric(source="kpi", name="nps", at=datetime(2026, 10, 1, tzinfo=UTC), value=-3.5),
        ),
        ("goal_def", GoalDef(source="plan", id="G1", target=12.0, due=date(2026, 12, 1))),
        (
            "override",
            Override(
                source="plan", id="G1.1", status="At risk", reason="vendor", until=date(2026, 12, 1)
            ),
        ),
    ],
)
def test_every_record_type_round_trips(
    kind: str, record: Event | Metric | GoalDef | Override
) -> None:
    assert from_json(kind, to_json(record)) == record


def test_event_identity_is_stable_and_distinguishes_transitions() -> None:
    at = datetime(2026, 10, 1, 8, tzinfo=UTC)
    a = Event(source="j", item_key="X-1", at=at, kind="status_changed", to_value="Done")
    b = Event(source="j", item_key="X-1", at=at, kind="status_changed", to_value="Done", actor="z")
    c = Event(source="j", item_key="X-1", at=at, kind="status_changed", to_value="In Progress")
    assert a.identity == b.identity
    assert a.identity != c.identity


def test_stored_json_of_older_records_loads_with_defaults() -> None:
    """A payload written before a field existed (absent key) takes the field's default; a None
    stays None; a fresh default dict per record (the fast decoder sets slots itself)."""
    old = {"source": "jira", "key": "PAY-1", "created": "2026-10-02T09:30:00+00:00", "due": None}
    a, b = from_json("item", old), from_json("item", dict(old, key="PAY-2"))
    assert a == WorkItem(
        source="jira", key="PAY-1", created=datetime(2026, 10, 2, 9, 30, tzinfo=UTC)
    )
    assert isinstance(a, WorkItem) and isinstance(b, WorkItem)
    assert a.labels == () and a.due is None and a.fields == {}
    assert a.fields is not b.fields
    with pytest.raises(AttributeError):
        a.key = "X"  # type: ignore[misc]  # still frozen


def test_a_record_without_a_required_field_is_refused() -> None:
    with pytest.raises(TypeError, match="key"):
        from_json("item", {"source": "jira"})
    with pytest.raises(KeyError):
        from_json("no such kind", {})


def test_records_decoded_with_one_shared_dict_share_repeated_strings() -> None:
    shared: dict[str, str] = {}
    # Parsed from text, as the store reads them: each record's strings are objects of its own.
    text = '{"source": "jira", "key": "A-%d", "status": "In Progress"}'
    first, second = json.loads(f"[{text % 1}, {text % 2}]")
    assert first["status"] is not second["status"]
    a, b = from_json("item", first, shared), from_json("item", second, shared)
    assert isinstance(a, WorkItem) and isinstance(b, WorkItem)
    assert a.status is b.status and a.source is b.source
    assert a == WorkItem(source="jira", key="A-1", status="In Progress")
