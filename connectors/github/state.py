"""What a GitHub source keeps between runs, per repository (pure): its cursor (the newest update
read), the ETag of a list that fit on one page, the items seen at the cursor, and how far back its
events are known (the reach of its history, and the issues whose own events were read)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import structlog

from connectors.github.fetch import (
    KeptHistory,
    KeptPage,
    stamp,
)
from connectors.github.parse import (
    parse_time,
)
from sync.base.errors import FatalError
from sync.base.records import WorkItem

log = structlog.get_logger(__name__)

PAGE_STATE_PREFIX = "page:"  # the kept single-page list of a repository: URL and ETag
MILESTONES_STATE_PREFIX = "milestones:"  # the same for its milestones list
SEEN_STATE_PREFIX = "seen:"  # the items read at the cursor
HISTORY_STATE_PREFIX = "history:"  # how far back the events are known: KeptHistory


def parse_cursor(text: str | None) -> dict[str, datetime | None] | None:
    """Per repository the newest update read; None (a full pull) when absent or unreadable."""
    data = load_json(text)
    if not isinstance(data, dict) or data.get("v") != 1 or not isinstance(data.get("repos"), dict):
        return None
    out: dict[str, datetime | None] = {}
    for repo, value in data["repos"].items():
        try:
            out[str(repo)] = parse_time(value)
        except FatalError:
            return None
    return out


def kept_page(
    state: Mapping[str, str], repo: str, prefix: str = PAGE_STATE_PREFIX
) -> KeptPage | None:
    data = load_json(state.get(prefix + repo))
    if isinstance(data, dict) and isinstance(data.get("url"), str) and data.get("etag"):
        return KeptPage(url=data["url"], etag=str(data["etag"]))
    return None


def kept_seen(state: Mapping[str, str], repo: str) -> dict[int, str]:
    data = load_json(state.get(SEEN_STATE_PREFIX + repo))
    if not isinstance(data, dict):
        return {}
    return {int(n): str(at) for n, at in data.items() if str(n).isdigit() and isinstance(at, str)}


def kept_history(state: Mapping[str, str], repo: str) -> KeptHistory:
    """The repository's kept history; an unreadable one reads as "known from the beginning",
    what a repository pulled before goalsync kept it had (its whole stream fit in the limit)."""
    data = load_json(state.get(HISTORY_STATE_PREFIX + repo))
    if not isinstance(data, dict):
        return KeptHistory()
    try:
        reach = parse_time(data.get("reach"))
    except FatalError:
        return KeptHistory()
    starts = data.get("starts")
    return KeptHistory(
        reach=reach,
        limited=data.get("limited") is True,
        starts={
            int(n): str(at)
            for n, at in (starts.items() if isinstance(starts, dict) else ())
            if str(n).isdigit() and isinstance(at, str)
        },
    )


def dump_history(history: KeptHistory) -> str | None:
    """The state value of `history`; None when there is nothing to keep (known from the start)."""
    if history.reach is None and not history.starts:
        return None
    return json.dumps(
        {
            "reach": iso(history.reach) if history.reach is not None else None,
            "limited": history.limited,
            "starts": {str(n): at for n, at in sorted(history.starts.items())},
        },
        sort_keys=True,
    )


def recent(
    items: Sequence[WorkItem], watermark: datetime | None, lookback: timedelta
) -> dict[int, str]:
    """The items updated within `lookback` of the watermark: what the next since-list shows
    if nothing changes meanwhile (issue number -> updated_at)."""
    if watermark is None:
        return {}
    floor = watermark - lookback
    return {
        i.fields["number"]: stamp(i.updated)
        for i in items
        if i.updated is not None and i.updated >= floor and isinstance(i.fields.get("number"), int)
    }


def to_watermark(
    before: datetime | None, items: Sequence[WorkItem], run_started: datetime
) -> datetime | None:
    """The newest update read so far, capped at the run's start (what changed later is read
    again next run)."""
    newest = max((i.updated for i in items if i.updated is not None), default=None)
    candidates = [t for t in (before, newest) if t is not None]
    return min(max(candidates), run_started) if candidates else None


def load_json(text: str | None) -> object:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")
