"""The status report, and the typed tables every sink renders.

`mappings/` computes a `StatusReport`; the engine adds the `RunInfo`; `sync.tables.to_tables`
lays both out as DESIGN.md's tabs, with typed columns, so that the xlsx, csv, html and Sheets
sinks show the same tabs, columns and values and differ only in how a type is drawn. Bottom of
the project: imports only `records`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, Literal, TypeAlias

from sync.base.records import CheckIn, State

ColumnType: TypeAlias = Literal[
    "text", "int", "number", "percent", "date", "datetime", "status", "link", "bool"
]
Cell: TypeAlias = "str | int | float | date | datetime | bool | Link | None"

# A row's status: a status word, or No data when nothing could be measured (a source never read,
# a selection that matches nothing, a metric without a value). Not a StatusWord: an override
# cannot set it, a check-in cannot say it.
RowStatus: TypeAlias = Literal["On track", "At risk", "Off track", "Done", "Not started", "No data"]
NO_DATA: Final = "No data"
ROW_STATUSES: tuple[RowStatus, ...] = (
    "On track", "At risk", "Off track", "Done", "Not started", "No data",
)  # fmt: skip

MAX_WARNINGS_SHOWN = 20  # per source in the Run tab; the log has all of them
TAB_NAMES: tuple[str, ...] = (
    "Status", "Trends", "Risks", "Items", "Unaligned", "Workload", "History", "Run",
)  # fmt: skip
TRENDS_TAB: Final = "Trends"
# Trends: Goal, Title, Date, Progress %, Expected %; one block of rows per goal (config order),
# a row per day of History. Sinks draw one chart per block from these cells (trend_blocks).


@dataclass(frozen=True, slots=True)
class Link:
    """A cell that shows `text` and opens `url` (an item key linking to the issue)."""

    url: str
    text: str


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType = "text"
    width: int = 14  # characters, a hint for sinks that size columns


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusRow:
    """One row of the Status tab: a goal (level "goal") or a key result (level "kr")."""

    id: str
    level: Literal["goal", "kr"]
    title: str
    owner: str | None
    start: date
    due: date
    value: float | None
    target: float | None
    progress: float | None
    expected: float
    status: RowStatus
    trend_7d: float | None = None
    forecast_p85: date | None = None
    risks: int = 0
    done: int | None = None
    total: int | None = None
    sources: tuple[str, ...] = ()
    updated: datetime | None = None
    note: str = ""
    goal_id: str = ""  # the goal a key result belongs to; a goal's own id for goal rows
    depth: int = 0  # nesting of goals under parent goals, for indentation
    checkin: CheckIn | None = None  # the owner's latest word (Confidence, Comment); never status


@dataclass(slots=True, kw_only=True)  # not frozen: there can be one per item, see ItemRow
class RiskRow:
    key_result: str
    goal: str
    item: str | None
    risk: str
    owner: str | None
    since: datetime | date | None
    reason: str
    item_url: str | None = None


@dataclass(slots=True, kw_only=True)  # not frozen: one per mapped item, and frozen init costs 2x
class ItemRow:
    key: str
    source: str
    title: str
    state: State
    status: str
    assignee: str | None
    points: float | None
    goal: str
    key_result: str
    updated: datetime | None
    url: str | None
    by_tag: bool = False  # aligned by a `goal:` label or a board's goal field, not a clause


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownTag:
    """An alignment tag that aligns nothing: it names a goal, a metric key result or no id of
    the plan (DESIGN: only key-result ids align). One per tag text, with the items carrying it."""

    tag: str  # as the items carry it: "goal:G9" (a label) or "G9" (a board's goal field)
    reason: str
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class UnalignedRow:
    key: str
    source: str
    title: str
    state: State
    assignee: str | None
    updated: datetime | None
    url: str | None
    points: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadRow:
    assignee: str
    goal: str
    open_items: int
    open_points: float
    over_wip: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryRow:
    date: date
    id: str
    value: float | None
    progress: float | None
    expected: float | None
    status: str


@dataclass(frozen=True, slots=True)
class TrendBlock:
    """One goal's rows of the Trends table: rows `first` to `last` (0-based, inclusive, header
    not counted) are its days, oldest first. Progress and Expected are None on a No data day."""

    goal: str
    title: str
    first: int
    last: int
    days: tuple[date, ...]
    progress: tuple[float | None, ...]
    expected: tuple[float | None, ...]


def trend_blocks(table: Table) -> list[TrendBlock]:
    """The goals of a Trends table, each with its consecutive rows: what each sink's chart per
    goal reads (the cells themselves in Sheets and xlsx, the values in html)."""
    blocks: list[TrendBlock] = []
    rows = table.rows
    start = 0
    for i, row in enumerate(rows):
        if i + 1 < len(rows) and rows[i + 1][0] == row[0]:
            continue
        days: list[date] = []
        progress: list[float | None] = []
        expected: list[float | None] = []
        for r in rows[start : i + 1]:
            if isinstance(r[2], date):
                days.append(r[2])
                progress.append(_percent(r[3]))
                expected.append(_percent(r[4]))
        title = str(row[1] or "")
        blocks.append(
            TrendBlock(str(row[0]), title, start, i, tuple(days), tuple(progress), tuple(expected))
        )
        start = i + 1
    return blocks


def _percent(value: Cell) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Alignment:
    """Aligned share of the pulled, not cancelled items of the cycle, by count and by points."""

    aligned_items: int
    unaligned_items: int
    aligned_points: float
    unaligned_points: float

    @property
    def share_by_count(self) -> float | None:
        total = self.aligned_items + self.unaligned_items
        return round(100.0 * self.aligned_items / total, 1) if total else None

    @property
    def share_by_points(self) -> float | None:
        total = self.aligned_points + self.unaligned_points
        return round(100.0 * self.aligned_points / total, 1) if total else None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReport:
    """What one evaluation computed; pure data, the same for every sink."""

    now: datetime
    rows: tuple[StatusRow, ...]
    risks: tuple[RiskRow, ...] = ()
    items: tuple[ItemRow, ...] = ()
    unaligned: tuple[UnalignedRow, ...] = ()
    workload: tuple[WorkloadRow, ...] = ()
    history: tuple[HistoryRow, ...] = ()  # today's rows, one per goal and key result
    alignment: Alignment = field(
        default_factory=lambda: Alignment(
            aligned_items=0, unaligned_items=0, aligned_points=0, unaligned_points=0
        )
    )
    plan_changes: tuple[str, ...] = ()  # what the Goals tab changed in the YAML's plan
    warnings: tuple[str, ...] = ()
    # (where, why) per select clause that matches no item: ("G1.2 clause 1", "... did you mean")
    unmatched: tuple[tuple[str, str], ...] = ()
    unknown_tags: tuple[UnknownTag, ...] = ()  # alignment tags that align nothing


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRun:
    """How one source fared in this run, for the Run tab."""

    name: str
    type: str
    ok: bool
    last_success: datetime | None
    stale_since: datetime | None = None
    items: int = 0
    metrics: int = 0
    checkins: int = 0  # owners' check-ins read (a Check-ins tab, a csv_checkins file)
    requests: int = 0
    error: str = ""
    warnings: tuple[str, ...] = ()  # rows skipped and other things a reader should know

    @property
    def never_read(self) -> bool:
        """Failing, and never read successfully: its key results show No data, not last values."""
        return not self.ok and self.last_success is None

    def describe(self) -> str:
        parts = [f"{self.items} items"] if self.items or not (self.metrics or self.checkins) else []
        parts += [f"{self.metrics} metric values"] if self.metrics else []
        parts += [f"{self.checkins} check-ins"] if self.checkins else []
        return ", ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    run_id: str
    started: datetime
    as_of: datetime
    version: str
    sources: tuple[SourceRun, ...] = ()
    full: bool = False


def status_counts(report: StatusReport, level: str = "kr") -> dict[str, int]:
    """How many rows of a level have each status, in the order of ROW_STATUSES."""
    counts: dict[str, int] = {w: 0 for w in ROW_STATUSES}
    for row in report.rows:
        if row.level == level:
            counts[row.status] += 1
    return counts


# Text that spreadsheet programs would run as a formula when it starts with one of these (OWASP
# CSV injection). Sinks keep such text as text: Sheets stringValue, xlsx quote prefix, csv "'".
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_web_url(url: str) -> bool:
    """Only http(s) targets become links: a payload's javascript: or file: URL stays text."""
    return url.strip().lower().startswith(("https://", "http://"))


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """`text` with each lone UTF-16 surrogate replaced by U+FFFD. JSON can carry one (`\\ud83d`:
    half an emoji, from a title cut in a UTF-16 system such as Jira's); UTF-8, XML and the Sheets
    API cannot, and one such title would otherwise fail every publish or corrupt the workbook."""
    return text if text.isascii() else _LONE_SURROGATE.sub("\ufffd", text)


def row_dicts(table: Table) -> list[dict[str, Cell]]:
    """A table's rows keyed by column name, for sinks that lay rows out freely (html)."""
    names = [c.name for c in table.columns]
    return [dict(zip(names, row, strict=True)) for row in table.rows]
