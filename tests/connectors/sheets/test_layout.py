"""connectors.sheets.layout: cells as typed CellData (as connectors.sheets.body encodes them for
the API, read back as JSON), the format requests, History read back."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sheets.body import iter_row_json, row_json
from connectors.sheets.layout import (
    CELL_CHAR_LIMIT,
    Grid,
    grid_for,
    parse_history_values,
    to_format_requests,
    to_hyperlink_formula,
    to_serial,
)
from sync.base.report import Cell, Column, HistoryRow, Link, Table
from tests.connectors.helpers import FORMULA_TITLE, JS_URL, sample_tables


def to_cell(value: Cell) -> dict[str, Any]:
    """The CellData the publish sends for `value`, as the API reads it."""
    cell: dict[str, Any] = json.loads(row_json([value]))["values"][0]
    return cell


def to_rows(table: Table) -> list[dict[str, Any]]:
    """The header and every row of `table` as the RowData the publish sends."""
    return [json.loads(text) for text in iter_row_json(table)]


def entered(cell: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = cell["userEnteredValue"]
    return value


@pytest.mark.parametrize(
    "text",
    [FORMULA_TITLE, "=cmd|' /C calc'!A0", "+1 call", "-minus", "@boss", "\tTab", "\rCR", "plain"],
)
def test_text_is_always_a_string_value_never_a_formula(text: str) -> None:
    assert to_cell(text) == {"userEnteredValue": {"stringValue": text}}


def test_numbers_booleans_dates_and_blanks_are_typed() -> None:
    assert to_cell(None) == {}
    assert to_cell(3) == {"userEnteredValue": {"numberValue": 3}}
    assert to_cell(-2.5) == {"userEnteredValue": {"numberValue": -2.5}}
    assert to_cell(True) == {"userEnteredValue": {"boolValue": True}}
    assert to_cell(float("nan")) == {} and to_cell(float("inf")) == {}
    # Serial numbers: 1899-12-30 is day 0; 2026-10-01 is day 46296 (as Sheets shows =DATE()).
    assert to_cell(date(2026, 10, 1)) == {"userEnteredValue": {"numberValue": 46296.0}}
    assert to_serial(datetime(2026, 10, 1, 18, 0)) == 46296.75


def test_links_are_hyperlink_formulas_with_quotes_doubled_only_for_web_urls() -> None:
    assert to_cell(Link("https://x.example/a?b=1", "PAY-1")) == {
        "userEnteredValue": {"formulaValue": '=HYPERLINK("https://x.example/a?b=1","PAY-1")'}
    }
    assert to_hyperlink_formula('http://x/"q"', 'say "hi"') == (
        '=HYPERLINK("http://x/""q""","say ""hi""")'
    )
    for url in (JS_URL, "file:///etc/passwd", "ftp://x/y", " "):
        assert to_cell(Link(url, "=EVIL()")) == {"userEnteredValue": {"stringValue": "=EVIL()"}}


def test_a_link_title_with_half_an_emoji_is_valid_json_for_the_api() -> None:
    """A lone surrogate cannot travel in the API's JSON: the formula carries U+FFFD, as a text
    cell does (before, the title went out as a bare \\ud83d escape)."""
    cell = to_cell(Link("https://x.example/PAY-1", "fix \ud83d"))
    assert entered(cell)["formulaValue"] == '=HYPERLINK("https://x.example/PAY-1","fix \ufffd")'
    assert "\\ud83d" not in json.dumps(cell)


def test_cells_are_cut_at_fifty_thousand_characters() -> None:
    long = "x" * (CELL_CHAR_LIMIT + 10)
    text = entered(to_cell(long))["stringValue"]
    assert len(text) == CELL_CHAR_LIMIT and text.endswith("…")
    link = to_cell(Link("https://x.example/" + long, "key"))  # formula too long: the text
    assert link == {"userEnteredValue": {"stringValue": "key"}}


@given(st.text(max_size=200), st.text(max_size=60))
def test_a_hyperlink_formula_round_trips_its_arguments(url: str, text: str) -> None:
    formula = to_hyperlink_formula(url, text)
    inner = formula.removeprefix('=HYPERLINK("').removesuffix('")')
    # Every quote of the arguments is doubled, so no single quote ends a literal early.
    assert [p.replace('""', '"') for p in _split_literals(inner)] == [url, text]


def _split_literals(inner: str) -> list[str]:
    """Split `a","b` at the one separator that is not inside a doubled-quote run."""
    out, buf, i = [], "", 0
    while i < len(inner):
        if inner.startswith('""', i):
            buf += '""'
            i += 2
        elif inner.startswith('","', i):
            out.append(buf)
            buf, i = "", i + 3
        else:
            buf += inner[i]
            i += 1
    return [*out, buf]


def test_rows_start_with_the_header() -> None:
    table = Table("Workload", (Column("Assignee"), Column("Open items", "int")), [("Kim", 3)])
    assert to_rows(table) == [
        {
            "values": [
                {"userEnteredValue": {"stringValue": "Assignee"}},
                {"userEnteredValue": {"stringValue": "Open items"}},
            ]
        },
        {
            "values": [
                {"userEnteredValue": {"stringValue": "Kim"}},
                {"userEnteredValue": {"numberValue": 3}},
            ]
        },
    ]
    assert grid_for(table) == Grid(2, 2)
    assert grid_for(Table("Risks", table.columns, [])) == Grid(2, 2)  # header + one blank row


def test_status_columns_get_one_colour_rule_per_status_word() -> None:
    status = next(t for t in sample_tables() if t.name == "Status")
    requests = to_format_requests(42, status, grid_for(status))
    rules = [r["addConditionalFormatRule"] for r in requests if "addConditionalFormatRule" in r]
    words = [r["rule"]["booleanRule"]["condition"]["values"][0]["userEnteredValue"] for r in rules]
    assert words == ["On track", "At risk", "Off track", "Done", "Not started", "No data"]
    assert [r["index"] for r in rules] == [0, 1, 2, 3, 4, 5]
    column = [c.name for c in status.columns].index("Status")
    assert {
        (rng["startColumnIndex"], rng["endColumnIndex"], rng["startRowIndex"])
        for r in rules
        for rng in r["rule"]["ranges"]
    } == {(column, column + 1, 1)}
    assert rules[0]["rule"]["booleanRule"]["format"] == {
        "backgroundColor": {"red": 0.7176, "green": 0.8824, "blue": 0.8039},
        "textFormat": {"foregroundColor": {"red": 0.0431, "green": 0.3529, "blue": 0.2}},
    }
    formats = {
        r["repeatCell"]["range"]["startColumnIndex"]: r["repeatCell"]["cell"]["userEnteredFormat"]
        for r in requests
        if "repeatCell" in r and r["repeatCell"]["range"]["startRowIndex"] == 1
    }
    names = [c.name for c in status.columns]
    assert formats[names.index("Start")] == {
        "numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}
    }
    assert formats[names.index("Progress %")] == {
        "numberFormat": {"type": "NUMBER", "pattern": "0.0"}
    }
    assert formats[names.index("Updated")] == {
        "numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}
    }
    assert names.index("Title") not in formats  # text is left as text


def test_history_values_read_back_by_header_name() -> None:
    values: list[list[Any]] = [
        ["status", "DATE", "id", "Value", "progress %", "Expected %"],
        ["On track", 46342, "G1", "", 62.5, 50],
        ["At risk", "2026-11-15", 1.0, 3, 10, 20],
        [],
        ["Done", "soon", "G2"],
        ["Done", 46342],
    ]
    rows, problems = parse_history_values(values)
    assert rows == [
        HistoryRow(
            date=date(2026, 11, 16),
            id="G1",
            value=None,
            progress=62.5,
            expected=50.0,
            status="On track",
        ),
        HistoryRow(
            date=date(2026, 11, 15),
            id="1",
            value=3.0,
            progress=10.0,
            expected=20.0,
            status="At risk",
        ),
    ]
    assert len(problems) == 2
    assert problems[0].startswith("History tab row 5: ") and "not a date" in problems[0]
    assert problems[1].startswith("History tab row 6: ") and "ID" in problems[1]


def test_a_history_tab_without_date_and_id_is_not_read() -> None:
    rows, problems = parse_history_values([["When", "What"], [1, 2]])
    assert rows == [] and problems and "Date and ID" in problems[0]
    assert parse_history_values([]) == ([], [])
