"""The Sheets cell rules written plainly, as the dicts of the API's CellData and RowData: the
reference the shipped encoder (connectors.sheets.body, which makes the JSON text straight from
the cells) is held to by test_body.py."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from connectors.sheets.layout import CELL_CHAR_LIMIT, cut, to_hyperlink_formula, to_serial
from sync.base.report import Cell, Link, Table, is_web_url


def to_cell(value: Cell) -> dict[str, Any]:
    """One cell as CellData with only `userEnteredValue` (formats come per column)."""
    if value is None:
        return {}
    if type(value) is str:  # the common case first: a big publish is a million cells
        return {"userEnteredValue": {"stringValue": cut(value)}}
    if isinstance(value, Link):
        if is_web_url(value.url):
            formula = to_hyperlink_formula(value.url.strip(), value.text)
            if len(formula) <= CELL_CHAR_LIMIT:
                return {"userEnteredValue": {"formulaValue": formula}}
        return {"userEnteredValue": {"stringValue": cut(value.text)}}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        if not math.isfinite(value):  # JSON cannot carry NaN or infinity: the cell stays blank
            return {}
        return {"userEnteredValue": {"numberValue": value}}
    if isinstance(value, date):  # datetime included
        return {"userEnteredValue": {"numberValue": to_serial(value)}}
    return {"userEnteredValue": {"stringValue": cut(str(value))}}


def to_row_data(values: Sequence[Cell]) -> dict[str, Any]:
    return {"values": [to_cell(v) for v in values]}


def to_rows(table: Table) -> list[dict[str, Any]]:
    """The header row and every row of the table as RowData."""
    return list(iter_rows(table))


def iter_rows(table: Table) -> Iterator[dict[str, Any]]:
    """`to_rows`, one row at a time (a big table's cells never all exist at once)."""
    yield {"values": [{"userEnteredValue": {"stringValue": c.name}} for c in table.columns]}
    for row in table.rows:
        yield to_row_data(row)
