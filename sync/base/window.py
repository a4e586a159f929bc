"""Which window a pull reads: everything (a complete pull, with the reason) or what changed since
the cursor, reaching back a lookback before it. Pure: every connector with a cursor decides
here, so "first pull", "unreadable cursor" and the periodic reconcile mean the same in each.

An incremental pull trusts the cursor and the server's idea of "updated since"; the lookback
covers a clock gap or an update committed late, and the reconcile (a complete pull every
`reconcile_hours`) covers what no cursor can see (a deletion, an item leaving the scope).
Bottom of the project: imports nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FORCED = "--full"
FIRST = "first pull"
UNREADABLE = "unreadable cursor"
RECONCILE = "reconcile"


@dataclass(frozen=True, slots=True)
class Window:
    reason: str | None  # why the pull reads everything; None: an incremental pull
    since: datetime | None = None  # incremental, from one cursor moment: where the read starts

    @property
    def full(self) -> bool:
        return self.reason is not None


def choose(
    *,
    asked_full: bool,
    cursor: str | None,
    readable: bool,
    last_full: datetime | None,
    run_started: datetime,
    reconcile_hours: float,
    lookback: timedelta,
    newest: datetime | None = None,
    stale: str | None = None,
) -> Window:
    """The window of this pull. `cursor` is the kept text (None before the first pull),
    `readable` whether the connector could read it; `newest`, where the cursor is one moment, is
    what the lookback counts back from; `stale` is the connector's own reason its kept state
    cannot serve an incremental pull (the scope changed), checked before the reconcile."""
    if asked_full:
        return Window(FORCED)
    if cursor is None:
        return Window(FIRST)
    if not readable:
        return Window(UNREADABLE)
    if stale is not None:
        return Window(stale)
    if last_full is None or run_started - last_full >= timedelta(hours=reconcile_hours):
        return Window(RECONCILE)
    since = lookback_start(newest, run_started, lookback) if newest is not None else None
    return Window(None, since)


def lookback_start(cursor: datetime, run_started: datetime, lookback: timedelta) -> datetime:
    """Where an incremental read starts: the cursor (never later than this run's start: a cursor
    from a clock that was ahead must not skip anything) minus the lookback."""
    return min(cursor, run_started) - lookback
