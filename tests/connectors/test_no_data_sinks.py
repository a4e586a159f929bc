"""Every sink shows a No data row the same way (issue 13): Status `No data` in its own colour (not
red: nothing was measured), blank Value and Progress, the Note saying why; and a source never read
is told apart from a stale one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl

from connectors.files.csvdir import CsvSinkConfig
from connectors.files.html import STATUS_CLASS, render_page
from connectors.files.xlsx import STATUS_STYLES, XlsxSinkConfig
from connectors.sheets.layout import STATUS_COLOURS, grid_for, to_format_requests
from sync.base.report import ROW_STATUSES, HistoryRow, RunInfo, SourceRun, StatusReport, StatusRow
from sync.tables import to_tables

from .helpers import BERLIN, NOW, publish_context

NOTE = "no data: source jira never read successfully (Jira answered 401; check JIRA_API_TOKEN)"


def row(ident: str, level: str, status: str, progress: float | None) -> StatusRow:
    return StatusRow(
        id=ident, level="goal" if level == "goal" else "kr", title=f"Title {ident}", owner="Dana",
        start=date(2026, 10, 1), due=date(2026, 12, 31), value=progress,
        target=None if level == "goal" else 100.0, progress=progress, expected=50.5,
        status=status,  # type: ignore[arg-type]
        note=NOTE if progress is None else "", sources=("jira",),
    )  # fmt: skip


def tables() -> list:  # type: ignore[type-arg]
    rows = (
        row("G1", "goal", "On track", 60.0),
        row("G1.1", "kr", "No data", None),
        row("G1.2", "kr", "On track", 60.0),
    )
    history = tuple(
        HistoryRow(date=NOW.date(), id=r.id, value=r.value, progress=r.progress,
                   expected=r.expected, status=r.status)
        for r in rows
    )  # fmt: skip
    never = SourceRun(name="jira", type="jira", ok=False, last_success=None, stale_since=NOW,
                      error="Jira answered 401")  # fmt: skip
    stale = SourceRun(name="gh", type="github", ok=False, stale_since=NOW, error="answered 502",
                      last_success=datetime(2026, 11, 15, 9, tzinfo=UTC))  # fmt: skip
    run = RunInfo(run_id="r1", started=NOW, as_of=NOW, version="0.1.0", sources=(never, stale))
    return to_tables(StatusReport(now=NOW, rows=rows, history=history), run, BERLIN)


def test_every_status_has_its_own_colour_in_every_sink() -> None:
    assert set(STATUS_STYLES) == set(STATUS_COLOURS) == set(STATUS_CLASS) == set(ROW_STATUSES)
    for colours in (STATUS_STYLES, STATUS_COLOURS):
        assert len({fill for fill, _ in colours.values()}) == len(ROW_STATUSES)
    assert len(set(STATUS_CLASS.values())) == len(ROW_STATUSES)


def test_xlsx_no_data_is_blank_and_coloured_as_no_data(tmp_path: Path) -> None:
    sink = XlsxSinkConfig.model_validate({"type": "xlsx", "path": "s.xlsx"}).build(tmp_path)
    sink.prepare(tables(), publish_context()).apply()
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["Status"]
    header = [c.value for c in ws[1]]
    (cells,) = [r for r in ws.iter_rows(min_row=2) if r[0].value == "G1.1"]
    by = dict(zip(header, cells, strict=True))
    assert by["Value"].value is None and by["Progress %"].value is None
    assert by["Status"].value == "No data" and by["Note"].value == NOTE
    fill, font = STATUS_STYLES["No data"]
    assert by["Status"].fill.fgColor.rgb.endswith(fill)
    assert by["Status"].font.color.rgb.endswith(font)


def test_sheets_colours_no_data_with_its_own_rule() -> None:
    status = next(t for t in tables() if t.name == "Status")
    requests = to_format_requests(7, status, grid_for(status))
    rules = [
        r["addConditionalFormatRule"]["rule"] for r in requests if "addConditionalFormatRule" in r
    ]
    words = [r["booleanRule"]["condition"]["values"][0]["userEnteredValue"] for r in rules]
    assert "No data" in words


def test_csv_no_data_is_blank(tmp_path: Path) -> None:
    sink = CsvSinkConfig.model_validate({"type": "csv", "path": "csv"}).build(tmp_path)
    sink.prepare(tables(), publish_context()).apply()
    lines = (tmp_path / "csv" / "Status.csv").read_text(encoding="utf-8").splitlines()
    (line,) = [ln for ln in lines if ln.startswith("G1.1,")]
    assert ",,100,,50.5,No data," in line  # Value blank, Target, Progress blank, Expected


def test_html_no_data_pill_chip_bar_and_a_source_never_read() -> None:
    page = render_page(tables(), title="t", generated=NOW.astimezone(BERLIN))
    assert '<span class="pill nd">No data</span>' in page
    assert '<span class="chip nd">1 no data</span>' in page
    assert 'aria-label="progress no data / 50 % expected"' in page
    assert "No data: jira (jira) could not be read yet" in page
    assert "Stale data: gh (github) could not be read; their key results show their last" in page
    assert ".nd{" in page  # styled
