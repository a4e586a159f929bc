"""Items as they stood at an earlier instant (`--as-of T`, backfill).

An item created after T did not exist. Its state at T is the `to_state` of its last status event
at or before T; with only later events, the `from_state` of the first later one; with no events,
its current state, except that an item done after T was not done yet. Its `updated` is capped at
what could be known at T.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime

from sync.base.records import Event, State, WorkItem


def items_as_of(items: Iterable[WorkItem], events: Iterable[Event], at: datetime) -> list[WorkItem]:
    by_item: dict[tuple[str, str], list[Event]] = {}
    for e in events:
        if e.to_state is not None or e.from_state is not None:
            by_item.setdefault((e.source, e.item_key), []).append(e)
    for history in by_item.values():
        history.sort(key=lambda e: e.at)
    out: list[WorkItem] = []
    for item in items:
        if item.created is not None and item.created > at:
            continue
        history = by_item.get((item.source, item.key), [])
        out.append(_item_at(item, history, at))
    return out


def state_at(item: WorkItem, history: Sequence[Event], at: datetime) -> State:
    """The item's state at `at`, from its status events (sorted by time) where known."""
    before = [e for e in history if e.at <= at and e.to_state is not None]
    if before:
        state = before[-1].to_state
        assert state is not None
        return state
    after = [e for e in history if e.at > at and e.from_state is not None]
    if after:
        state = after[0].from_state
        assert state is not None
        return state
    if history:  # events exist but none says what the state was before them
        return "todo"
    if item.state == "done" and item.done_at is not None and item.done_at > at:
        return "in_progress" if item.started is not None and item.started <= at else "todo"
    if item.state == "in_progress" and item.started is not None and item.started > at:
        return "todo"
    return item.state


def _item_at(item: WorkItem, history: Sequence[Event], at: datetime) -> WorkItem:
    state = state_at(item, history, at)
    if state == "done" and item.state == "cancelled":
        state = "cancelled"  # the workflow says done; the resolution said it was not delivered
    updated = item.updated
    if updated is not None and updated > at:
        known = [e.at for e in history if e.at <= at]
        updated = max([*known, *([item.created] if item.created else [])], default=None)
    if state == item.state and updated == item.updated:
        return item
    return dataclasses.replace(
        item,
        state=state,
        updated=updated,
        done_at=item.done_at if state == "done" else None,
        started=item.started if item.started is not None and item.started <= at else None,
    )
