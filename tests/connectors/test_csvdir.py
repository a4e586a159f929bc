from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from connectors.csvdir import CsvSink, CsvSinkConfig, to_csv_cell, write_csv
from sync.report import Cell, Column, Link, Table

from .helpers import (
    DESIGN_HEADERS,
    FORMULA_TITLE,
    SCRIPT_TITLE,
    TAB_ORDER,
    publish_context,
    sample_tables,
)

TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]


def read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def publish(folder: Path) -> dict[str, list[list[str]]]:
    sink = CsvSinkConfig.model_validate({"type": "csv", "path": "out"}).build(folder)
    sink.prepare(sample_tables(), publish_context()).apply()
    return {p.stem: read(p) for p in sorted((folder / "out").glob("*.csv"))}


def column(rows: list[list[str]], name: str) -> list[str]:
    i = rows[0].index(name)
    return [r[i] for r in rows[1:]]


def test_one_file_per_tab_with_the_design_headers(tmp_path: Path) -> None:
    files = publish(tmp_path)
    assert sorted(files) == sorted(TAB_ORDER)
    for tab, header in DESIGN_HEADERS.items():
        assert files[tab][0] == header
    assert files["Run"][0] == ["Key", "Value", "Detail"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{t}.csv" for t in TAB_ORDER
    )  # no temporary files left


def test_text_that_starts_like_a_formula_gets_a_leading_apostrophe(tmp_path: Path) -> None:
    status = publish(tmp_path)["Status"]
    assert column(status, "Title") == [
        SCRIPT_TITLE,
        "'" + FORMULA_TITLE,
        "'-minus text\tand tab",
        "Cut cloud cost",
        "'\rcarriage return",
    ]
    assert column(status, "Owner")[1] == "'@boss"
    assert column(status, "Note")[1] == "'+1 call with vendor"
    items = publish(tmp_path)["Items"]
    assert column(items, "Title")[1] == "'=cmd|' /C calc'!A0"


def test_real_negative_numbers_stay_numbers(tmp_path: Path) -> None:
    status = publish(tmp_path)["Status"]
    assert column(status, "Value") == ["", "5", "-3", "", "100"]
    assert column(status, "Trend 7d")[2] == "-1.5"
    assert column(status, "Progress %") == ["62.5", "62.5", "0", "", "100"]


def test_dates_times_booleans_and_links(tmp_path: Path) -> None:
    files = publish(tmp_path)
    status = files["Status"]
    assert column(status, "Start")[0] == "2026-10-01"
    assert column(status, "Forecast P85")[2] == "2027-01-20"
    assert column(status, "Updated")[0] == "2026-11-16 09:30"  # 08:30 UTC shown in Berlin
    assert column(files["Workload"], "Over WIP limit") == ["yes"]
    assert column(files["Items"], "Key") == ["PAY-101", "acme/web#46"]
    assert column(files["Items"], "URL")[0] == "https://acme.atlassian.net/browse/PAY-101"


def test_rows_end_with_crlf_and_text_is_utf8(tmp_path: Path) -> None:
    table = Table("T", (Column("A"), Column("B", "number")), [("Café ☕", 1.0), ("x", None)])
    buffer = io.BytesIO()
    write_csv(table, buffer)
    assert buffer.getvalue() == "A,B\r\nCafé ☕,1\r\nx,\r\n".encode()


def test_write_csv_leaves_the_file_open_for_the_caller() -> None:
    buffer = io.BytesIO()
    write_csv(Table("T", (Column("A"),), [("a",)]), buffer)
    assert not buffer.closed


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "yes"),
        (False, "no"),
        (-3, "-3"),
        (-3.0, "-3"),
        (-0.25, "-0.25"),
        (62.5, "62.5"),
        (1 / 3, "0.3333333333"),
        (date(2026, 12, 31), "2026-12-31"),
        (datetime(2026, 10, 5, 9, 12, 33, tzinfo=UTC), "2026-10-05 09:12"),
        (Link("https://x.example/1", "PAY-1"), "PAY-1"),
        (Link("https://x.example/1", "=PAY-1"), "'=PAY-1"),
        ("-3", "'-3"),
        ("plain", "plain"),
        (" =padded", " =padded"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_to_csv_cell(value: Cell, text: str) -> None:
    assert to_csv_cell(value) == text


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_owasp_trigger_is_neutralised(trigger: str) -> None:
    assert to_csv_cell(trigger + "1+1") == "'" + trigger + "1+1"


def test_nothing_is_written_until_apply_and_discard_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "Status.csv").write_text("old")
    sink = CsvSink(folder)
    staged = sink.prepare(sample_tables(), publish_context())
    assert (folder / "Status.csv").read_text() == "old"
    assert not (folder / "Items.csv").exists()
    staged.discard()
    assert [p.name for p in folder.iterdir()] == ["Status.csv"]
    assert (folder / "Status.csv").read_text() == "old"


def test_config_requires_a_path() -> None:
    with pytest.raises(ValidationError):
        CsvSinkConfig.model_validate({"type": "csv", "path": ""})
    with pytest.raises(ValidationError):
        CsvSinkConfig.model_validate({"type": "csv", "path": "out", "sep": ";"})


@given(st.text())
def test_any_text_reads_back_the_same_and_never_starts_like_a_formula(text: str) -> None:
    table = Table("T", (Column("A"),), [(text,)])
    buffer = io.BytesIO()
    write_csv(table, buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue().decode(), newline="")))
    cell = rows[1][0] if len(rows) > 1 and rows[1] else ""
    assert not cell.startswith(tuple(TRIGGERS))
    assert cell == (("'" + text) if text.startswith(tuple(TRIGGERS)) else text)
