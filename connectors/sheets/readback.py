"""`goalsync plan` for a sheets sink: `spreadsheets.get` (tab titles) and one
`values.batchGet` of the tabs goalsync owns: two calls, fewer than a publish's three. The new
tables are compared as the sheet would hold them (unformatted values, History merged with the
rows goalsync does not understand). Nothing is written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from connectors.sheets.batches import find_tab, merge_history, parse_sheets
from connectors.sheets.client import SheetsClient, a1_tab
from connectors.sheets.layout import cut, read_history_values, to_serial
from connectors.sheets.sink import HISTORY_TAB, SheetsSink
from sync.base.contracts import Held, Rows, cell_text, trim_row
from sync.base.report import TAB_NAMES, Cell, HistoryRow, Link, Table
from sync.base.retry import Budget

SHEET_FIELDS = "sheets.properties.title"


def read_sheets_sink(sink: SheetsSink, budget_s: float) -> Held:
    client = SheetsClient(sink.access, timeout=sink.client.timeout, transport=sink.client.transport)
    budget = Budget(budget_s)
    history: list[HistoryRow] = []
    verbatim: list[tuple[Any, ...]] = []  # History rows not understood: written back as they are
    held = Held(history=history)
    try:
        sheets = parse_sheets(client.fetch_spreadsheet(SHEET_FIELDS, budget=budget))
        present = [(name, tab.title) for name in TAB_NAMES if (tab := find_tab(sheets, name))]
        if present:
            ranges = [a1_tab(title) for _, title in present]
            values = client.fetch_values(ranges, budget=budget)
            tabs: dict[str, Rows] = {}
            for (name, _), value_range in zip(present, values, strict=True):
                raw: list[list[Any]] = value_range.get("values") or []
                tabs[name] = [trim_row([cell_text(v) for v in row]) for row in raw]
                if name == HISTORY_TAB:
                    read = read_history_values(raw)
                    history[:], verbatim[:] = read.rows, read.verbatim
            held.tabs = tabs
    finally:
        held.requests = client.calls
    held.render = lambda tables: {t.name: _sheet_rows(t, history, verbatim) for t in tables}
    return held


def _sheet_rows(
    table: Table, history: Sequence[HistoryRow], verbatim: Sequence[tuple[Any, ...]]
) -> Rows:
    """What the sheet's tab would hold (unformatted values), as text."""
    if table.name == HISTORY_TAB:
        table = merge_history(table, history, verbatim)
    rows: Rows = [[c.name for c in table.columns]]
    rows += [trim_row([cell_text(_sheet_value(v)) for v in row]) for row in table.rows]
    return rows


def _sheet_value(value: Cell) -> Any:
    if isinstance(value, Link):
        return value.text
    if isinstance(value, datetime | date):
        return to_serial(value)
    if isinstance(value, str):
        return cut(value)
    return value
