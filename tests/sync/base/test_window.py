"""Which window a pull reads: complete (with its reason) or incremental from the cursor minus the
lookback, as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.base.window import Window, choose, lookback_start

RUN = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
CURSOR = RUN - timedelta(hours=1)
LOOKBACK = timedelta(minutes=10)


def window(**changes: object) -> Window:
    args: dict[str, object] = {
        "asked_full": False,
        "cursor": CURSOR.isoformat(),
        "readable": True,
        "last_full": RUN - timedelta(hours=2),
        "run_started": RUN,
        "reconcile_hours": 24,
        "lookback": LOOKBACK,
        "newest": CURSOR,
        "stale": None,
    }
    return choose(**(args | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, Window(None, CURSOR - LOOKBACK)),
        ({"newest": None}, Window(None, None)),  # a cursor per part (GitHub): no one moment
        ({"asked_full": True}, Window("--full")),
        ({"asked_full": True, "cursor": None, "readable": False}, Window("--full")),
        ({"cursor": None, "readable": False, "newest": None}, Window("first pull")),
        ({"readable": False, "newest": None}, Window("unreadable cursor")),
        ({"stale": "jql changed"}, Window("jql changed")),
        ({"stale": "jql changed", "last_full": None}, Window("jql changed")),  # before reconcile
        ({"last_full": None}, Window("reconcile")),
        ({"last_full": RUN - timedelta(hours=24)}, Window("reconcile")),
        ({"last_full": RUN - timedelta(hours=23, minutes=59)}, Window(None, CURSOR - LOOKBACK)),
        ({"reconcile_hours": 0.5}, Window("reconcile")),
        ({"lookback": timedelta(0)}, Window(None, CURSOR)),
        # a cursor ahead of this run's start (a clock stepped back) never skips anything
        ({"newest": RUN + timedelta(hours=1)}, Window(None, RUN - LOOKBACK)),
    ],
)
def test_the_window_of_a_pull(changes: dict[str, object], expected: Window) -> None:
    assert window(**changes) == expected


def test_full_is_having_a_reason() -> None:
    assert Window("reconcile").full and not Window(None, CURSOR).full


def test_lookback_start() -> None:
    assert lookback_start(CURSOR, RUN, LOOKBACK) == CURSOR - LOOKBACK
    assert lookback_start(RUN + LOOKBACK, RUN, LOOKBACK) == RUN - LOOKBACK
