"""DESIGN.md's tabs laid out from a StatusReport and a RunInfo, with typed columns.

Every sink draws these same tables, so that the xlsx, csv, html and Sheets outputs show the same
tabs, columns and values. Datetimes are shown in the config's timezone. Bottom of the project:
imports only `records` and `report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from sync.base.records import CheckIn
from sync.base.report import (
    MAX_WARNINGS_SHOWN,
    TRENDS_TAB,
    Cell,
    Column,
    HistoryRow,
    Link,
    RunInfo,
    StatusReport,
    Table,
)

# Columns that several tabs show, defined once so that they read the same in every tab.
KEY = Column("Key", "link", 14)
SOURCE = Column("Source", "text", 10)
TITLE = Column("Title", "text", 50)
STATE = Column("State", "text", 11)
ASSIGNEE = Column("Assignee", "text", 16)
GOAL = Column("Goal", "text", 8)
KEY_RESULT = Column("Key result", "text", 10)
UPDATED = Column("Updated", "datetime", 16)
URL = Column("URL", "text", 30)
# The Run tab names a few of the items carrying an alignment tag that aligns nothing.
MAX_TAG_KEYS_SHOWN = 5


def to_tables(
    report: StatusReport,
    run: RunInfo,
    tz: tzinfo,
    history: Sequence[HistoryRow] | None = None,
) -> list[Table]:
    """Lay the report out as DESIGN.md's tabs. Datetimes are shown in `tz`.

    `history` is the whole History (the store's rows with today's upserted); without it the
    History tab holds only today's rows.
    """
    return [
        _status_table(report, tz),
        _trends_table(report, history if history is not None else report.history, tz),
        _risks_table(report, tz),
        _items_table(report, tz),
        _unaligned_table(report, tz),
        _workload_table(report),
        _history_table(history if history is not None else report.history),
        _run_table(report, run, tz),
    ]


def _local(value: datetime | None, tz: tzinfo) -> datetime | None:
    return value.astimezone(tz) if value is not None else None


def _link(url: str | None, text: str) -> Link | str:
    return Link(url, text) if url else text


def _status_table(report: StatusReport, tz: tzinfo) -> Table:
    columns = (
        Column("ID", "text", 8),
        Column("Level", "text", 6),
        Column("Title", "text", 40),
        Column("Owner", "text", 16),
        Column("Start", "date", 11),
        Column("Due", "date", 11),
        Column("Value", "number", 9),
        Column("Target", "number", 9),
        Column("Progress %", "percent", 10),
        Column("Expected %", "percent", 10),
        Column("Status", "status", 11),
        Column("Trend 7d", "number", 9),
        Column("Forecast P85", "date", 12),
        Column("Risks", "int", 6),
        Column("Done / Total", "text", 11),
        Column("Sources", "text", 14),
        Column("Updated", "datetime", 16),
        Column("Note", "text", 40),
        Column("Confidence", "text", 11),
        Column("Comment", "text", 40),
    )
    rows: list[tuple[Cell, ...]] = []
    for r in report.rows:
        done_total = f"{r.done} / {r.total}" if r.total is not None else None
        rows.append(
            (
                r.id,
                r.level,
                r.title,
                r.owner,
                r.start,
                r.due,
                r.value,
                r.target,
                r.progress,
                r.expected,
                r.status,
                r.trend_7d,
                r.forecast_p85,
                r.risks,
                done_total,
                ", ".join(r.sources) or None,
                _local(r.updated, tz),
                r.note or None,
                r.checkin.confidence if r.checkin else None,
                checkin_comment(r.checkin),
            )
        )
    return Table("Status", columns, rows)


def checkin_comment(checkin: CheckIn | None) -> str | None:
    """The owner's comment with who said it and when: a check-in weeks old reads as such."""
    if checkin is None:
        return None
    said = ", ".join(x for x in (checkin.by, checkin.date.isoformat()) if x)
    return f"{checkin.comment} ({said})" if checkin.comment else f"({said})"


def _risks_table(report: StatusReport, tz: tzinfo) -> Table:
    columns = (
        KEY_RESULT,
        GOAL,
        Column("Item", "link", 14),
        Column("Risk", "text", 16),
        Column("Owner", "text", 16),
        Column("Since", "date", 11),
        Column("Reason", "text", 60),
    )
    rows: list[tuple[Cell, ...]] = []
    for r in report.risks:
        since: Cell = r.since.astimezone(tz).date() if isinstance(r.since, datetime) else r.since
        item: Cell = _link(r.item_url, r.item) if r.item else None
        rows.append((r.key_result, r.goal, item, r.risk, r.owner, since, r.reason))
    return Table("Risks", columns, rows)


def _items_table(report: StatusReport, tz: tzinfo) -> Table:
    columns = (KEY, SOURCE, TITLE, STATE, Column("Status", "text", 14), ASSIGNEE,
               Column("Points", "number", 7), GOAL, KEY_RESULT, UPDATED, URL)  # fmt: skip
    rows: list[tuple[Cell, ...]] = [
        (
            _link(r.url, r.key),
            r.source,
            r.title,
            r.state,
            r.status,
            r.assignee,
            r.points,
            r.goal,
            f"{r.key_result} (by tag)" if r.by_tag else r.key_result,
            _local(r.updated, tz),
            r.url,
        )
        for r in report.items
    ]
    return Table("Items", columns, rows)


def _unaligned_table(report: StatusReport, tz: tzinfo) -> Table:
    columns = (KEY, SOURCE, TITLE, STATE, ASSIGNEE, UPDATED, URL)
    rows: list[tuple[Cell, ...]] = [
        (_link(r.url, r.key), r.source, r.title, r.state, r.assignee, _local(r.updated, tz), r.url)
        for r in report.unaligned
    ]
    return Table("Unaligned", columns, rows)


def _workload_table(report: StatusReport) -> Table:
    columns = (
        Column("Assignee", "text", 18),
        Column("Goal", "text", 8),
        Column("Open items", "int", 10),
        Column("Open points", "number", 11),
        Column("Over WIP limit", "bool", 13),
    )
    rows: list[tuple[Cell, ...]] = [
        (r.assignee, r.goal, r.open_items, r.open_points, r.over_wip) for r in report.workload
    ]
    return Table("Workload", columns, rows)


def _trends_table(report: StatusReport, history: Sequence[HistoryRow], tz: tzinfo) -> Table:
    """Per goal (config order), a row per day of History from the goal's start to today: the
    rows a chart per goal is drawn from. A No data day keeps its row with blank percentages (a
    gap in the line, never a zero); a day without a run has no row (nothing was measured)."""
    columns = (
        Column("Goal", "text", 8),
        Column("Title", "text", 40),
        Column("Date", "date", 11),
        Column("Progress %", "percent", 10),
        Column("Expected %", "percent", 10),
    )
    today = report.now.astimezone(tz).date()
    by_id: dict[str, list[HistoryRow]] = {}
    for h in history:
        by_id.setdefault(h.id, []).append(h)
    rows: list[tuple[Cell, ...]] = []
    for goal in report.rows:
        if goal.level != "goal":
            continue
        days = sorted(
            (h for h in by_id.get(goal.id, ()) if goal.start <= h.date <= today),
            key=lambda h: h.date,
        )
        rows.extend((goal.id, goal.title, h.date, h.progress, h.expected) for h in days)
    return Table(TRENDS_TAB, columns, rows)


def _history_table(history: Sequence[HistoryRow]) -> Table:
    columns = (
        Column("Date", "date", 11),
        Column("ID", "text", 8),
        Column("Value", "number", 9),
        Column("Progress %", "percent", 10),
        Column("Expected %", "percent", 10),
        Column("Status", "status", 11),
    )
    ordered = sorted(history, key=lambda h: (h.date, h.id))
    rows: list[tuple[Cell, ...]] = [
        (h.date, h.id, h.value, h.progress, h.expected, h.status) for h in ordered
    ]
    return Table("History", columns, rows)


def _run_table(report: StatusReport, run: RunInfo, tz: tzinfo) -> Table:
    columns = (
        Column("Key", "text", 22),
        Column("Value", "text", 28),
        Column("Detail", "text", 60),
    )
    a = report.alignment

    def fmt(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if value else "never"

    rows: list[tuple[Cell, ...]] = [
        ("Run at", fmt(run.started), f"run id {run.run_id}"),
        ("As of", fmt(run.as_of), "what the status is computed for"),
        ("Version", f"goalsync {run.version}", "full reconcile" if run.full else "incremental"),
        (
            "Alignment by count",
            _share(a.share_by_count),
            f"{a.aligned_items} of {a.aligned_items + a.unaligned_items} items serve a key result",
        ),
        (
            "Alignment by points",
            _share(a.share_by_points),
            f"{_num(a.aligned_points)} of {_num(a.aligned_points + a.unaligned_points)} points",
        ),
    ]
    for s in run.sources:
        if s.ok:
            state = "ok"
            detail = f"{s.describe()}, {s.requests} requests; pulled {fmt(s.last_success)}"
        elif s.never_read:  # nothing of it to show: its key results are No data
            state = f"never read (failing since {fmt(s.stale_since)})"
            detail = f"no successful pull yet; its key results show No data; {s.error}"
        else:
            state = f"stale since {fmt(s.stale_since)}"
            detail = f"last success {fmt(s.last_success)}; {s.error}"
        rows.append((f"Source {s.name} ({s.type})", state, detail))
        shown = s.warnings[:MAX_WARNINGS_SHOWN]
        rows.extend((f"Warning {s.name}", w, "") for w in shown)
        if len(s.warnings) > len(shown):
            rows.append(
                (f"Warning {s.name}", f"and {len(s.warnings) - len(shown)} more", "see the log")
            )
    rows.extend(("Plan change", change, "from the Goals input") for change in report.plan_changes)
    rows.extend(("Warning", warning, "") for warning in report.warnings)
    rows.extend(("No match", where, why) for where, why in report.unmatched)
    rows.extend(
        ("Unknown alignment tag", t.tag, f"{t.reason}; on {_keys(t.keys)}")
        for t in report.unknown_tags
    )
    return Table("Run", columns, rows)


def _keys(keys: Sequence[str]) -> str:
    """The items carrying a tag, a few by key: a tag on hundreds of items is one row."""
    if len(keys) == 1:
        return keys[0]
    shown = ", ".join(keys[:MAX_TAG_KEYS_SHOWN])
    more = len(keys) - MAX_TAG_KEYS_SHOWN
    return f"{len(keys)} items: {shown}" + (f" and {more} more" if more > 0 else "")


def _share(value: float | None) -> str:
    return f"{value:.1f} %" if value is not None else "no items"


def _num(value: float) -> str:
    return f"{value:g}"
