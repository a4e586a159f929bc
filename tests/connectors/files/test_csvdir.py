from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from connectors.files.csvdir import CsvSink, CsvSinkConfig, to_csv_cell, write_csv
from connectors.files.localfs import FOLDER_MARK
from sync.base.errors import ConfigError, PublishError
from sync.base.report import Cell, Column, Link, Table
from tests.connectors.helpers import (
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
        [FOLDER_MARK, *(f"{t}.csv" for t in TAB_ORDER)]
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
    (folder / FOLDER_MARK).write_bytes(b"")
    (folder / "Status.csv").write_text("old")
    sink = CsvSink(folder)
    staged = sink.prepare(sample_tables(), publish_context())
    assert (folder / "Status.csv").read_text() == "old"
    assert not (folder / "Items.csv").exists()
    staged.discard()
    assert sorted(p.name for p in folder.iterdir()) == [FOLDER_MARK, "Status.csv"]
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


# --- writing only into its own folder ------------------------------------------------------------


def build(base: Path, path: str = "out") -> CsvSink:
    return CsvSinkConfig.model_validate({"type": "csv", "path": path}).build(base)


def test_the_folder_gets_goalsyncs_marker_and_a_rerun_works(tmp_path: Path) -> None:
    first = publish(tmp_path)
    assert (tmp_path / "out" / FOLDER_MARK).read_bytes().startswith(b"This folder is written by")
    assert publish(tmp_path) == first


def test_an_empty_folder_is_adopted(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    publish(tmp_path)
    assert (tmp_path / "out" / FOLDER_MARK).is_file()


def test_a_marked_folder_keeps_other_files(tmp_path: Path) -> None:
    publish(tmp_path)
    (tmp_path / "out" / "README.txt").write_bytes(b"notes")
    publish(tmp_path)
    assert (tmp_path / "out" / "README.txt").read_bytes() == b"notes"


def test_an_earlier_releases_folder_is_adopted(tmp_path: Path) -> None:
    publish(tmp_path)
    folder = tmp_path / "out"
    (folder / FOLDER_MARK).unlink()  # as an earlier release left it: the tabs, no marker,
    (folder / "Trends.csv").unlink()  # and no Trends tab (it came with the mark's releases)
    (folder / ".Items.csv.k2j3h4_x.tmp").write_bytes(b"a killed run's leftover")
    build(tmp_path).prepare(sample_tables(), publish_context()).apply()
    assert (folder / FOLDER_MARK).is_file()
    assert not (folder / ".Items.csv.k2j3h4_x.tmp").exists()


@pytest.mark.parametrize(
    ("files", "foreign"),
    [
        # one file not goalsync's, the others as an earlier release wrote them
        ({"Items.csv": b"Key\r\n", "Status.csv": b"ID,Level,Title\r\n", "x.txt": b"1"}, "x.txt"),
        ({"Status.csv": b"Name,Amount\r\n"}, "Status.csv"),  # a tab's name, not its header
        ({"Items.csv": b"Key,Source\r\n"}, "Items.csv"),  # no Status.csv
        ({"budget.csv": b"a,b\r\n"}, "budget.csv"),
    ],
)
def test_a_folder_goalsync_did_not_write_is_refused_untouched(
    tmp_path: Path, files: dict[str, bytes], foreign: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    with pytest.raises(ConfigError, match="holds files goalsync did not write") as caught:
        build(tmp_path)
    assert f"create an empty {folder / FOLDER_MARK}" in str(caught.value)
    named = str(caught.value).split("did not write (")[1].split(")")[0]
    assert named == foreign  # the files that are in the way, not goalsync's own
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files


def test_a_status_csv_that_is_a_fifo_is_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    os.mkfifo(folder / "Status.csv")  # reading it would hang
    with pytest.raises(ConfigError, match="holds files goalsync did not write"):
        build(tmp_path)


def test_a_file_at_the_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_bytes(b"a,b\r\n")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        build(tmp_path)
    assert (tmp_path / "out").read_bytes() == b"a,b\r\n"


def test_files_that_appeared_while_pulling_fail_the_publish(tmp_path: Path) -> None:
    sink = build(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "budget.csv").write_bytes(b"a,b\r\n")
    with pytest.raises(PublishError, match="holds files goalsync did not write"):
        sink.prepare(sample_tables(), publish_context())
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["budget.csv"]
