"""`goalsync plan`: what a run would change in each sink, against what the sink holds now.

Each sink is read before the dry run (`read_sinks`) and compared after it (`compare`), tab by
tab and row by row, rows matched by their key (Status by ID, Items by key and key result, ...):
- csv and xlsx sinks: the existing files, read back the same way as the new content is (the new
  tables are rendered exactly as the sink would write them, then parsed), so a difference is a
  difference in what a reader would see;
- a sheets sink: `spreadsheets.get` (tab titles) and one `values.batchGet` of the tabs goalsync
  owns: two calls, fewer than a publish's three. What was read also seeds the dry run's History
  when the state dir is empty (`seeded`), as a run would from the sheet, without reading again;
- an html sink: one page, re-rendered every run; said whether it exists.
Nothing is written anywhere.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import openpyxl

from connectors.files.csvdir import CsvSink, write_csv
from connectors.files.html import HtmlSink
from connectors.files.xlsx import XlsxSink, write_workbook
from connectors.sheets.batches import find_tab, merge_history, parse_sheets
from connectors.sheets.client import SheetsClient, a1_tab
from connectors.sheets.layout import cut, read_history_values, to_serial
from connectors.sheets.sink import HISTORY_TAB, SheetsSink
from sync.base.contracts import PreparedWrite, PublishContext, Sink
from sync.base.errors import GoalsyncError
from sync.base.report import TAB_NAMES, Cell, HistoryRow, Link, Table
from sync.base.retry import Budget

Rows = list[list[str]]  # a tab as text: the header row, then the rows; trailing blanks dropped

# How rows are matched between now and after, per tab; a key seen twice is told apart by order.
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "Status": ("ID",),
    "Risks": ("Key result", "Item", "Risk"),
    "Items": ("Key", "Key result"),
    "Unaligned": ("Key",),
    "Workload": ("Assignee", "Goal"),
    "History": ("Date", "ID"),
    "Run": ("Key",),
}
# Columns that change on every run without anything having changed (when the data was pulled).
VOLATILE: dict[str, tuple[str, ...]] = {"Status": ("Updated",)}
SHEET_FIELDS = "sheets.properties.title"


@dataclass(slots=True, kw_only=True)
class SinkState:
    """What one sink holds now."""

    sink: Sink
    description: str
    tabs: dict[str, Rows] | None = None  # None: nothing there yet (no file, no owned tab)
    history: list[HistoryRow] = field(default_factory=list)  # a sheet's History tab
    verbatim: list[tuple[Any, ...]] = field(default_factory=list)  # its rows not understood
    requests: int = 0
    error: str = ""  # the sink could not be read (compare says so and goes on)
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    id: str
    title: str
    before: str
    after: str


@dataclass(slots=True, kw_only=True)
class TabDiff:
    tab: str
    before: int | None  # rows the sink holds now; None when the tab is not there
    after: int
    added: int = 0
    removed: int = 0
    changed: int = 0
    note: str = ""
    status_changes: list[StatusChange] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return self.before is not None and not (self.added or self.removed or self.changed)


@dataclass(slots=True, kw_only=True)
class SinkDiff:
    description: str
    tabs: list[TabDiff] = field(default_factory=list)
    error: str = ""
    note: str = ""
    requests: int = 0

    @property
    def status_changes(self) -> list[StatusChange]:
        return [c for t in self.tabs for c in t.status_changes]


# --- reading what the sinks hold ---------------------------------------------------------------


def read_sinks(sinks: Sequence[Sink], *, budget_s: float = 60.0) -> list[SinkState]:
    return [read_sink(sink, budget_s=budget_s) for sink in sinks]


def read_sink(sink: Sink, *, budget_s: float = 60.0) -> SinkState:
    try:
        if isinstance(sink, CsvSink):
            return _read_csv_sink(sink)
        if isinstance(sink, XlsxSink):
            return _read_xlsx_sink(sink)
        if isinstance(sink, SheetsSink):
            return _read_sheets_sink(sink, budget_s)
        if isinstance(sink, HtmlSink):
            exists = sink.path.is_file()
            note = "the page is re-rendered on every run" if exists else "would be created"
            return SinkState(sink=sink, description=f"html {sink.path}", note=note)
    except GoalsyncError as exc:
        return SinkState(sink=sink, description=describe(sink), error=str(exc))
    return SinkState(sink=sink, description=describe(sink), note="cannot be compared")


def describe(sink: Sink) -> str:
    if isinstance(sink, CsvSink):
        return f"csv {sink.folder}/"
    if isinstance(sink, XlsxSink | HtmlSink):
        return f"{sink.type} {sink.path}"
    if isinstance(sink, SheetsSink):
        return sink.description
    return sink.type


def _read_csv_sink(sink: CsvSink) -> SinkState:
    state = SinkState(sink=sink, description=describe(sink))
    tabs: dict[str, Rows] = {}
    for name in TAB_NAMES:
        path = sink.folder / f"{name}.csv"
        if path.is_file():
            try:
                tabs[name] = _csv_rows(path.read_bytes())
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                state.error = f"{path} cannot be read ({exc})"
                return state
    state.tabs = tabs or None
    return state


def _read_xlsx_sink(sink: XlsxSink) -> SinkState:
    state = SinkState(sink=sink, description=describe(sink))
    if not sink.path.is_file():
        return state
    try:
        state.tabs = _workbook_rows(sink.path.read_bytes())
    except Exception as exc:  # a damaged file: openpyxl raises many kinds
        state.error = f"{sink.path} cannot be read as a workbook ({type(exc).__name__})"
    return state


def _read_sheets_sink(sink: SheetsSink, budget_s: float) -> SinkState:
    state = SinkState(sink=sink, description=describe(sink))
    client = SheetsClient(sink.access, timeout=sink.client.timeout, transport=sink.client.transport)
    budget = Budget(budget_s)
    try:
        sheets = parse_sheets(client.fetch_spreadsheet(SHEET_FIELDS, budget=budget))
        present = [(name, tab.title) for name in TAB_NAMES if (tab := find_tab(sheets, name))]
        if present:
            ranges = [a1_tab(title) for _, title in present]
            values = client.fetch_values(ranges, budget=budget)
            tabs: dict[str, Rows] = {}
            for (name, _), value_range in zip(present, values, strict=True):
                raw: list[list[Any]] = value_range.get("values") or []
                tabs[name] = [_trim([_text(v) for v in row]) for row in raw]
                if name == HISTORY_TAB:
                    read = read_history_values(raw)
                    state.history, state.verbatim = read.rows, read.verbatim
            state.tabs = tabs
    finally:
        state.requests = client.calls
    return state


# --- the dry run's History seeded from what was read ------------------------------------------


class _SeededSheetsSink:
    """A sheets sink whose History was read already (HistoryKeeper without a second read)."""

    def __init__(self, sink: SheetsSink, history: list[HistoryRow]) -> None:
        self.sink = sink
        self.type = sink.type
        self._history = history

    def read_history(self, budget_s: float | None = None) -> list[HistoryRow]:
        return list(self._history)

    def prepare(self, tables: Sequence[Table], ctx: PublishContext) -> PreparedWrite:
        return self.sink.prepare(tables, ctx)


def seeded(states: Sequence[SinkState]) -> list[Sink]:
    """The sinks for the dry run: a sheets sink that was read hands its History over."""
    out: list[Sink] = []
    for s in states:
        if isinstance(s.sink, SheetsSink) and not s.error:
            out.append(_SeededSheetsSink(s.sink, s.history))
        else:
            out.append(s.sink)
    return out


# --- comparing --------------------------------------------------------------------------------


def compare(states: Sequence[SinkState], tables: Sequence[Table]) -> list[SinkDiff]:
    return [compare_sink(state, tables) for state in states]


def compare_sink(state: SinkState, tables: Sequence[Table]) -> SinkDiff:
    out = SinkDiff(
        description=state.description,
        error=state.error,
        note=state.note,
        requests=state.requests,
    )
    if state.error or isinstance(state.sink, HtmlSink):
        return out
    after = _rendered(state, tables)
    if after is None:
        out.note = out.note or "cannot be compared"
        return out
    if state.tabs is None:
        out.note = "nothing there yet: every tab would be created"
    for table in tables:
        new = after.get(table.name) or [[]]
        old = state.tabs.get(table.name) if state.tabs is not None else None
        out.tabs.append(diff_tab(table.name, old, new))
    return out


def _rendered(state: SinkState, tables: Sequence[Table]) -> dict[str, Rows] | None:
    """The new tables as the sink would hold them, read back the way the old ones were."""
    if isinstance(state.sink, CsvSink):
        rendered: dict[str, Rows] = {}
        for table in tables:
            buffer = io.BytesIO()
            write_csv(table, buffer)
            rendered[table.name] = _csv_rows(buffer.getvalue())
        return rendered
    if isinstance(state.sink, XlsxSink):
        buffer = io.BytesIO()
        write_workbook(tables, buffer)
        return _workbook_rows(buffer.getvalue())
    if isinstance(state.sink, SheetsSink):
        return {t.name: _sheet_rows(t, state.history, state.verbatim) for t in tables}
    return None


def diff_tab(name: str, old: Rows | None, new: Rows) -> TabDiff:
    header, body = (new[0], new[1:]) if new else ([], [])
    if old is None:
        return TabDiff(tab=name, before=None, after=len(body), added=len(body))
    old_header, old_body = (old[0], old[1:]) if old else ([], [])
    diff = TabDiff(tab=name, before=len(old_body), after=len(body))
    if _trim(list(old_header)) != _trim(list(header)):
        diff.added, diff.removed = len(body), len(old_body)
        diff.note = "columns differ: the tab is rewritten"
        return diff
    keys = [header.index(k) for k in ROW_KEYS.get(name, ()) if k in header]
    skip = {header.index(c) for c in VOLATILE.get(name, ()) if c in header}
    before, after = _keyed(old_body, keys), _keyed(body, keys)
    diff.added = sum(1 for k in after if k not in before)
    diff.removed = sum(1 for k in before if k not in after)
    for key, row in after.items():
        was = before.get(key)
        if was is not None and _visible(was, skip) != _visible(row, skip):
            diff.changed += 1
    if name == "Run" and (diff.added or diff.removed or diff.changed):
        diff.note = "refreshed on every run"
    if name == "Status" and "Status" in header and "ID" in header:
        col, ident = header.index("Status"), header.index("ID")
        title = header.index("Title") if "Title" in header else ident
        for key, row in after.items():
            was = before.get(key)
            if was is None:
                continue
            old_status, new_status = _at(was, col), _at(row, col)
            if old_status != new_status:
                diff.status_changes.append(
                    StatusChange(
                        id=_at(row, ident),
                        title=_at(row, title),
                        before=old_status,
                        after=new_status,
                    )
                )
    return diff


def _keyed(body: Sequence[list[str]], keys: Sequence[int]) -> dict[tuple[str, ...], list[str]]:
    seen: Counter[tuple[str, ...]] = Counter()
    out: dict[tuple[str, ...], list[str]] = {}
    for row in body:
        key = tuple(_at(row, i) for i in keys) if keys else tuple(row)
        seen[key] += 1
        out[(*key, str(seen[key]))] = row
    return out


def _visible(row: list[str], skip: set[int]) -> list[str]:
    return _trim([v for i, v in enumerate(row) if i not in skip])


def _at(row: Sequence[str], index: int) -> str:
    return row[index] if index < len(row) else ""


# --- values as text, the same way on both sides -------------------------------------------------


def _csv_rows(data: bytes) -> Rows:
    text = data.decode("utf-8-sig")
    return [_trim(row) for row in csv.reader(io.StringIO(text, newline=""))]


def _workbook_rows(data: bytes) -> dict[str, Rows]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {
            ws.title: [_trim([_text(v) for v in row]) for row in ws.iter_rows(values_only=True)]
            for ws in book.worksheets
            if ws.title in TAB_NAMES
        }
    finally:
        book.close()


def _sheet_rows(
    table: Table, history: Sequence[HistoryRow], verbatim: Sequence[tuple[Any, ...]]
) -> Rows:
    """What the sheet's tab would hold (unformatted values), as text."""
    if table.name == HISTORY_TAB:
        table = merge_history(table, history, verbatim)
    rows: Rows = [[c.name for c in table.columns]]
    rows += [_trim([_text(_sheet_value(v)) for v in row]) for row in table.rows]
    return rows


def _sheet_value(value: Cell) -> Any:
    if isinstance(value, Link):
        return value.text
    if isinstance(value, datetime | date):
        return to_serial(value)
    if isinstance(value, str):
        return cut(value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return ""
        return str(int(number)) if number.is_integer() else repr(round(number, 6))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _trim(row: list[str]) -> list[str]:
    end = len(row)
    while end and row[end - 1] == "":
        end -= 1
    return row[:end]
