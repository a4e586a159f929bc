"""sync.staging: how a pull is laid beside the committed records, and the events goalsync
records itself for sources without a history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sync.base.contracts import PullResult
from sync.base.records import Event, GoalDef, Metric, Override, Records, State, WorkItem
from sync.staging import merge, recorded_events, staged_records

LAST_PULL = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def item(
    key: str,
    state: State = "todo",
    status: str = "",
    updated: datetime | None = None,
    title: str = "",
) -> WorkItem:
    return WorkItem(
        source="tasks",
        key=key,
        kind="task",
        state=state,
        status=status or state,
        updated=updated,
        title=title or key,
    )


def changed(key: str, at: datetime, old: str, new: str) -> Event:
    return Event(
        source="tasks",
        item_key=key,
        at=at,
        kind="status_changed",
        from_value=old,
        to_value=new,
        from_state=old,  # type: ignore[arg-type]
        to_state=new,  # type: ignore[arg-type]
    )


STATE_VALUES: tuple[State, ...] = ("todo", "in_progress", "done", "cancelled")
states_by_key = st.dictionaries(
    st.sampled_from(["A", "B", "C", "D", "E"]), st.sampled_from(STATE_VALUES), max_size=5
)


@given(before=states_by_key, after=states_by_key)
def test_an_event_exactly_for_each_item_whose_state_changed(
    before: dict[str, State], after: dict[str, State]
) -> None:
    events = recorded_events(
        [item(k, s) for k, s in before.items()],
        [item(k, s) for k, s in after.items()],
        NOW,
        LAST_PULL,
    )
    expected = {k for k, s in after.items() if k in before and before[k] != s}
    assert [e.item_key for e in events] == [k for k in after if k in expected]
    for e in events:
        assert (e.from_state, e.to_state) == (before[e.item_key], after[e.item_key])
        assert e.kind == "status_changed" and e.at == NOW


def test_a_state_change_between_pulls_records_a_status_changed_event() -> None:
    updated = NOW - timedelta(hours=3)
    before = [item("T-1", "todo", "To do"), item("T-2", "in_progress")]
    after = [item("T-1", "in_progress", "Doing", updated=updated), item("T-2", "in_progress")]
    (e,) = recorded_events(before, after, NOW, LAST_PULL)
    assert e.kind == "status_changed"
    assert (e.source, e.item_key) == ("tasks", "T-1")
    assert (e.from_state, e.to_state) == ("todo", "in_progress")
    assert (e.from_value, e.to_value) == ("To do", "Doing")
    assert e.at == updated  # the item's own time, since it falls after the last pull


def test_no_event_without_a_state_change_or_for_a_new_item() -> None:
    before = [item("T-1", "todo", "To do")]
    after = [
        item("T-1", "todo", "Triage", updated=NOW),  # status text changed, state did not
        item("T-9", "done"),  # new: there is no earlier state to change from
    ]
    assert recorded_events(before, after, NOW, LAST_PULL) == []
    assert recorded_events([], after, NOW, None) == []


def test_the_event_time_is_the_pull_when_the_items_time_cannot_be_trusted() -> None:
    before = [item("A"), item("B"), item("C")]
    after = [
        item("A", "done", updated=LAST_PULL - timedelta(days=1)),  # before the last pull
        item("B", "done", updated=NOW + timedelta(hours=1)),  # in the future
        item("C", "done"),  # no time at all
    ]
    events = recorded_events(before, after, NOW, LAST_PULL)
    assert [(e.item_key, e.at) for e in events] == [("A", NOW), ("B", NOW), ("C", NOW)]
    # Never pulled before: any past `updated` is believed.
    (first,) = recorded_events([item("A")], [after[0]], NOW, None)
    assert first.at == LAST_PULL - timedelta(days=1)


def test_staging_records_events_only_for_sources_without_history() -> None:
    committed = Records(items=(item("T-1"),))
    pulled = PullResult(items=[item("T-1", "done", updated=NOW)], complete=True)
    staged, recorded = staged_records(committed, pulled, NOW, LAST_PULL)
    assert recorded == [changed("T-1", NOW, "todo", "done")]
    assert staged.events == (changed("T-1", NOW, "todo", "done"),)

    with_history = PullResult(items=[item("T-1", "done")], complete=True, has_history=True)
    staged, recorded = staged_records(committed, with_history, NOW, LAST_PULL)
    assert recorded == [] and staged.events == ()


def test_committed_events_are_kept_once_and_new_ones_added() -> None:
    earlier = changed("T-1", LAST_PULL, "todo", "in_progress")
    committed = Records(items=(item("T-1", "in_progress"),), events=(earlier,))
    pulled = PullResult(items=[item("T-1", "done", updated=NOW)], events=[earlier])
    staged, recorded = staged_records(committed, pulled, NOW, LAST_PULL)
    assert staged.events == (earlier, changed("T-1", NOW, "in_progress", "done"))
    assert recorded == [changed("T-1", NOW, "in_progress", "done")]


def test_an_incremental_pull_is_laid_over_the_committed_records_by_key() -> None:
    old_metric = Metric(source="tasks", name="nps", at=LAST_PULL, value=40)
    same_metric_new_value = Metric(source="tasks", name="nps", at=LAST_PULL, value=42)
    new_metric = Metric(source="tasks", name="nps", at=NOW, value=45)
    goal_def = GoalDef(source="tasks", id="G1", target=5)
    override = Override(source="tasks", id="G1", status="At risk")
    kept_event = changed("A", LAST_PULL - timedelta(hours=1), "todo", "in_progress")
    committed = Records(
        items=(item("A", "in_progress"), item("B", title="old title")),
        events=(kept_event,),
        metrics=(old_metric,),
        goal_defs=(goal_def,),
        overrides=(override,),
    )
    pulled = PullResult(
        items=[item("B", title="new title"), item("C")],
        metrics=[same_metric_new_value, new_metric],
        complete=False,
    )
    staged, recorded = staged_records(committed, pulled, NOW, LAST_PULL)
    assert {i.key: i.title for i in staged.items} == {"A": "A", "B": "new title", "C": "C"}
    assert sorted(m.value for m in staged.metrics) == [42, 45]  # upserted by (name, at)
    assert staged.goal_defs == (goal_def,)  # not pulled this time: the committed ones stand
    assert staged.overrides == (override,)
    assert staged.events == (kept_event,)  # A was not in the pull and keeps its events
    assert recorded == []


def test_a_complete_pull_drops_vanished_items_and_their_events() -> None:
    committed = Records(
        items=(item("A"), item("B", "in_progress")),
        events=(
            changed("A", LAST_PULL, "todo", "in_progress"),
            changed("B", LAST_PULL, "todo", "in_progress"),
        ),
        metrics=(Metric(source="tasks", name="nps", at=LAST_PULL, value=1),),
    )
    pulled = PullResult(items=[item("A"), item("A", title="second copy")], complete=True)
    staged, _ = staged_records(committed, pulled, NOW, LAST_PULL)
    assert [i.key for i in staged.items] == ["A"]
    assert staged.items[0].title == "second copy"  # a later copy of a key wins
    assert [e.item_key for e in staged.events] == ["A"]
    assert staged.metrics == ()  # a snapshot replaces everything the source had


def test_merge_concatenates_every_kind_in_order() -> None:
    m = Metric(source="kpi", name="nps", at=NOW, value=1)
    a = Records(items=(item("A"),), metrics=(m,))
    b = Records(items=(item("B"),), events=(changed("B", NOW, "todo", "done"),))
    merged = merge([a, b])
    assert [i.key for i in merged.items] == ["A", "B"]
    assert merged.metrics == (m,)
    assert len(merged.events) == 1
    assert merge([]) == Records()


def test_events_pulled_again_are_kept_once_pulled_copy_first_and_sorted_by_item_and_time() -> None:
    early, late = LAST_PULL - timedelta(days=2), LAST_PULL - timedelta(days=1)
    stored = changed("B", late, "todo", "done")
    again = Event(**{**{f: getattr(stored, f) for f in stored.__slots__}, "actor": "pulled"})
    committed = Records(
        items=(item("A"), item("B")),
        events=(changed("A", late, "todo", "done"), stored, changed("B", early, "todo", "x")),
    )
    pulled = PullResult(
        items=[item("B")], events=[again, again, changed("A", early, "todo", "y")], complete=False
    )
    staged, _ = staged_records(committed, pulled, NOW, LAST_PULL)
    assert [(e.item_key, e.at) for e in staged.events] == [
        ("A", early), ("A", late), ("B", early), ("B", late)
    ]  # fmt: skip
    assert staged.events[3].actor == "pulled"  # same identity: the pulled copy, once


def test_an_unchanged_pull_keeps_the_committed_events_of_remaining_items() -> None:
    committed = Records(
        items=(item("A"),),
        events=(changed("A", LAST_PULL, "todo", "done"), changed("Z", LAST_PULL, "todo", "done")),
    )
    staged, _ = staged_records(committed, PullResult(complete=False), NOW, LAST_PULL)
    assert [e.item_key for e in staged.events] == ["A"]
