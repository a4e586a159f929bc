"""Rows of a table (a CSV file, a sheet tab) -> records. Pure; shared by file and Sheets sources.

Columns are found by header name, case, spacing, `_` and `-` ignored ("Done at" = "done_at").
A cell that cannot be read is reported with its place (file or tab, row as a spreadsheet numbers
it, column) and the row is skipped: one bad row never sinks the rest. A missing required column
fails the whole table, naming it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar

from sync.base.contracts import ItemRules
from sync.base.errors import FatalError
from sync.base.records import (
    STATES,
    CheckIn,
    Confidence,
    GoalDef,
    Metric,
    Override,
    State,
    StatusWord,
    WorkItem,
)

METRIC_COLUMNS = ("name", "date", "value")
CHECKIN_COLUMNS = ("id", "date", "confidence", "comment", "by")
_SHEETS_EPOCH = date(1899, 12, 30)  # day 0 of spreadsheet serial dates
_STATUS_WORDS: dict[str, StatusWord] = {
    "ontrack": "On track", "atrisk": "At risk", "offtrack": "Off track", "done": "Done",
    "notstarted": "Not started",
}  # fmt: skip

T = TypeVar("T")


class CellError(ValueError):
    """A cell that cannot be read; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """Records from a table and what was skipped, as messages ready for a log or the Run tab."""

    records: list[Any]
    problems: list[str]


def normalize_header(name: Any) -> str:
    return re.sub(r"[\s_\-]+", "", str(name or "")).casefold()


def parse_item_rows(
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    source: str,
    origin: str,
    tz: tzinfo,
    rules: ItemRules,
) -> Parsed:
    """Rows with the `csv_items` columns -> WorkItems (kind task). `key` is required: row
    numbers move when people sort a sheet, so they cannot identify an item."""
    seen: set[str] = set()

    def build(cell: _Cells) -> WorkItem:
        key = cell.text("key", required=True)
        assert key is not None
        if key in seen:
            raise CellError(f"key {key!r} appears twice; keys must be unique")
        seen.add(key)
        state = cell.parse("state", _state) or "todo"
        status = cell.text("status") or state.replace("_", " ")
        labels = tuple(x.strip() for x in (cell.text("labels") or "").split(";") if x.strip())
        return WorkItem(
            source=source,
            key=key,
            kind="task",
            title=cell.text("title") or "",
            url=cell.text("url"),
            status=status,
            state=state,
            blocked=state in ("todo", "in_progress")
            and (rules.is_blocked_status(status) or rules.has_blocked_label(labels)),
            assignee=cell.text("assignee"),
            labels=labels,
            parent=cell.text("parent"),
            milestone=cell.text("milestone"),
            points=cell.parse("points", _points),
            created=cell.parse("created", lambda v: to_datetime(v, tz)),
            updated=cell.parse("updated", lambda v: to_datetime(v, tz)),
            done_at=cell.parse("done_at", lambda v: to_datetime(v, tz)),
            due=cell.parse("due", to_date),
        )

    return _parse(header, rows, ("key",), origin, build)


def parse_metric_rows(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, source: str, origin: str, tz: tzinfo
) -> Parsed:
    def build(cell: _Cells) -> Metric:
        name = cell.text("name", required=True)
        at = cell.parse("date", lambda v: to_datetime(v, tz), required=True)
        value = cell.parse("value", _number, required=True)
        assert name is not None and at is not None and value is not None
        return Metric(source=source, name=name, at=at, value=value)

    return _parse(header, rows, METRIC_COLUMNS, origin, build)


def parse_goal_rows(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, source: str, origin: str
) -> Parsed:
    def build(cell: _Cells) -> GoalDef:
        ident = cell.text("id", required=True)
        assert ident is not None
        return GoalDef(
            source=source,
            id=ident,
            title=cell.text("title"),
            owner=cell.text("owner"),
            start=cell.parse("start", to_date),
            due=cell.parse("due", to_date),
            target=cell.parse("target", _number),
            parent=cell.text("parent"),
            origin=cell.origin,
        )

    return _parse(header, rows, ("id",), origin, build)


def parse_override_rows(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, source: str, origin: str
) -> Parsed:
    def build(cell: _Cells) -> Override:
        ident = cell.text("id", required=True)
        status = cell.parse("status", _status_word, required=True)
        assert ident is not None and status is not None
        return Override(
            source=source,
            id=ident,
            status=status,
            reason=cell.text("reason") or "",
            until=cell.parse("until", to_date),
            origin=cell.origin,
        )

    return _parse(header, rows, ("id", "status"), origin, build)


def parse_checkin_rows(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, source: str, origin: str
) -> Parsed:
    """Check-ins: `id, date, confidence, comment, by`. A row whose date is not a date or whose
    confidence is not one of the three is skipped and named; an unknown id is the plan's to
    judge (mappings.checkins), since only the plan knows its ids."""

    def build(cell: _Cells) -> CheckIn:
        ident = cell.text("id", required=True)
        day = cell.parse("date", to_date, required=True)
        confidence = cell.parse("confidence", _confidence, required=True)
        assert ident is not None and day is not None and confidence is not None
        return CheckIn(
            source=source,
            id=ident,
            date=day,
            confidence=confidence,
            comment=cell.text("comment") or "",
            by=cell.text("by"),
            origin=cell.origin,
        )

    return _parse(header, rows, ("id", "date", "confidence"), origin, build)


def to_date(value: Any) -> date:
    """An ISO date, an ISO datetime (its date), or a spreadsheet serial day number."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _SHEETS_EPOCH + timedelta(days=int(value))
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise CellError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def to_datetime(value: Any, tz: tzinfo) -> datetime:
    """An ISO datetime (naive ones are in `tz`), a date (00:00 in `tz`), or a serial number."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.combine(_SHEETS_EPOCH, time(0)) + timedelta(days=float(value))
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise CellError(f"{value!r} is not a date or time (use ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


class _Cells:
    """The cells of one row, by normalised column name."""

    def __init__(self, columns: Mapping[str, int], row: Sequence[Any], origin: str) -> None:
        self._columns = columns
        self._row = row
        self.origin = origin

    def raw(self, name: str) -> Any:
        i = self._columns.get(normalize_header(name))
        if i is None or i >= len(self._row):
            return None
        value = self._row[i]
        return None if isinstance(value, str) and not value.strip() else value

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise CellError(f"column {name}: empty, a value is required")
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    def parse(self, name: str, convert: Callable[[Any], T], *, required: bool = False) -> T | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise CellError(f"column {name}: empty, a value is required")
            return None
        try:
            return convert(value)
        except CellError as exc:
            raise CellError(f"column {name}: {exc}") from None


def _parse(
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    required: Sequence[str],
    origin: str,
    build: Callable[[_Cells], Any],
) -> Parsed:
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        columns.setdefault(normalize_header(name), i)
    missing = [c for c in required if normalize_header(c) not in columns]
    if missing:
        found = ", ".join(str(h) for h in header if str(h).strip()) or "nothing"
        raise FatalError(
            f"{origin}: no column {', '.join(missing)} in the header row (found: {found}); "
            "columns are found by name, case and spacing ignored"
        )
    records: list[Any] = []
    problems: list[str] = []
    for n, row in enumerate(rows, start=2):  # row 1 is the header, as a spreadsheet shows it
        if not any(c is not None and str(c).strip() for c in row):
            continue
        place = f"{origin} row {n}"
        try:
            records.append(build(_Cells(columns, row, place)))
        except CellError as exc:
            problems.append(f"{place}, {exc}; row skipped")
    return Parsed(records, problems)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            if "_" in text:  # Python reads "1_000"; a spreadsheet does not
                raise ValueError(text)
            number = float(text)
        except ValueError:
            # "2,5" or "1,234": guessing the locale would turn one into the other; ask instead.
            raise CellError(
                f"{value!r} is not a number (use a dot for decimals, no thousands separator)"
            ) from None
    if not math.isfinite(number):
        raise CellError(f"{value!r} is not a finite number")
    return number


def _points(value: Any) -> float:
    points = _number(value)
    if points < 0:
        raise CellError(f"{value!r} is negative; points are 0 or more")
    return points


def _state(value: Any) -> State:
    text = re.sub(r"[\s\-]+", "_", str(value).strip()).casefold()
    aliases = {"to_do": "todo", "open": "todo", "doing": "in_progress", "closed": "done"}
    text = aliases.get(text, text)
    if text not in STATES:
        raise CellError(f"{value!r} is not a state (use todo, in_progress, done or cancelled)")
    state: State = text
    return state


def _confidence(value: Any) -> Confidence:
    word = _STATUS_WORDS.get(normalize_header(value))
    if word not in ("On track", "At risk", "Off track"):
        raise CellError(f"{value!r} is not a confidence (use On track, At risk or Off track)")
    confidence: Confidence = word
    return confidence


def _status_word(value: Any) -> StatusWord:
    word = _STATUS_WORDS.get(normalize_header(value))
    if word is None:
        raise CellError(
            f"{value!r} is not a status (use On track, At risk, Off track, Done or Not started)"
        )
    return word
