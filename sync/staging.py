"""Staging a pull beside the committed records: what the evaluation sees and what gets committed.

A complete pull (a snapshot of the whole scope) replaces the source's committed records; an
incremental one is laid over them, upserted by key. A source without a history of its own (CSV
items, a sheet's Tasks tab, a GitHub issues export) gets an Event whenever its item's state
differs from the last committed pull, so cycle times and forecasts work for it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sync.base.contracts import PullResult
from sync.base.paging import dedupe_by_key
from sync.base.records import CheckIn, Event, GoalDef, Metric, Override, Records, WorkItem


def staged_records(
    committed: Records, pulled: PullResult, pulled_at: datetime, last_pull: datetime | None
) -> tuple[Records, list[Event]]:
    """The source's records after this pull, as the evaluation should see them, and the events
    goalsync recorded itself (they are committed with the pull)."""
    if pulled.complete:
        items = dedupe_by_key(pulled.items, key=lambda item: item.key)  # a later page is newer
        metrics = pulled.metrics
        goal_defs, overrides = pulled.goal_defs, pulled.overrides
        checkins = pulled.checkins
    else:
        by_key = {i.key: i for i in committed.items}
        for item in pulled.items:
            by_key[item.key] = item
        items = list(by_key.values())
        seen = {m.identity for m in pulled.metrics}
        metrics = [*pulled.metrics, *(m for m in committed.metrics if m.identity not in seen)]
        goal_defs = pulled.goal_defs or list(committed.goal_defs)
        overrides = pulled.overrides or list(committed.overrides)
        checkins = pulled.checkins or list(committed.checkins)
    # One order whatever the pull: a complete pull lists items as the server paged them, an
    # incremental one lays them over the store's (read back in key order). Sorted by key, a
    # rerun on the same data writes the Items, Risks and Unaligned tabs row for row the same.
    items = sorted(items, key=lambda i: i.key)
    recorded = (
        []
        if pulled.has_history
        else recorded_events(committed.items, pulled.items, pulled_at, last_pull)
    )
    keys = {i.key for i in items}
    fresh = _dedupe(e for e in (*pulled.events, *recorded) if e.item_key in keys)
    # The committed events are unique already (their identity is the store's key): only the
    # pulled ones are looked up, and an unchanged run computes no identity at all.
    kept = [e for e in committed.events if e.item_key in keys]
    if fresh:
        kept = [e for e in kept if e.identity not in fresh]
    events = sorted((*fresh.values(), *kept), key=lambda e: (e.item_key, e.at))
    staged = Records(
        items=tuple(items),
        events=tuple(events),
        metrics=tuple(metrics),
        goal_defs=tuple(goal_defs),
        overrides=tuple(overrides),
        checkins=tuple(checkins),
    )
    return staged, recorded


def recorded_events(
    before: Sequence[WorkItem],
    after: Sequence[WorkItem],
    pulled_at: datetime,
    last_pull: datetime | None,
) -> list[Event]:
    """A status_changed Event for each item whose state changed since the last pull. Its time is
    the item's own `updated` when that falls after the last pull, else the time of this pull."""
    previous = {i.key: i for i in before}
    out: list[Event] = []
    for item in after:
        old = previous.get(item.key)
        if old is None or old.state == item.state:
            continue
        at = pulled_at
        if (
            item.updated is not None
            and item.updated <= pulled_at
            and (last_pull is None or item.updated > last_pull)
        ):
            at = item.updated
        out.append(
            Event(
                source=item.source,
                item_key=item.key,
                at=at,
                kind="status_changed",
                from_value=old.status,
                to_value=item.status,
                from_state=old.state,
                to_state=item.state,
            )
        )
    return out


def merge(parts: Iterable[Records]) -> Records:
    items: list[WorkItem] = []
    events: list[Event] = []
    metrics: list[Metric] = []
    goal_defs: list[GoalDef] = []
    overrides: list[Override] = []
    checkins: list[CheckIn] = []
    for r in parts:
        items.extend(r.items)
        events.extend(r.events)
        metrics.extend(r.metrics)
        goal_defs.extend(r.goal_defs)
        overrides.extend(r.overrides)
        checkins.extend(r.checkins)
    return Records(
        items=tuple(items),
        events=tuple(events),
        metrics=tuple(metrics),
        goal_defs=tuple(goal_defs),
        overrides=tuple(overrides),
        checkins=tuple(checkins),
    )


def _dedupe(events: Iterable[Event]) -> dict[str, Event]:
    """By identity, the first one seen wins."""
    by_id: dict[str, Event] = {}
    for e in events:
        by_id.setdefault(e.identity, e)
    return by_id
