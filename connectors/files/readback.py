"""`goalsync plan` for the file sinks: the files there now, read back the same way as the new
content is (the new tables are rendered exactly as the sink would write them, then parsed), so a
difference is a difference in what a reader would see. No file is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from connectors.files.csvdir import CsvSink, write_csv
from connectors.files.describe import LocalSink
from connectors.files.html import HtmlSink
from connectors.files.xlsx import XlsxSink, write_workbook
from sync.base.contracts import Held, Rows, cell_text, trim_row
from sync.base.errors import GoalsyncError
from sync.base.report import TAB_NAMES, Table


def read_local_sink(sink: LocalSink) -> Held:
    if isinstance(sink, CsvSink):
        return read_csv_sink(sink)
    if isinstance(sink, XlsxSink):
        return read_xlsx_sink(sink)
    if isinstance(sink, HtmlSink):
        return read_html_sink(sink)
    return Held(note="cannot be compared")


def read_csv_sink(sink: CsvSink) -> Held:
    tabs: dict[str, Rows] = {}
    for name in TAB_NAMES:
        path = sink.folder / f"{name}.csv"
        if path.is_file():
            try:
                tabs[name] = csv_rows(path.read_bytes())
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                raise GoalsyncError(f"{path} cannot be read ({exc})") from None
    return Held(tabs=tabs or None, render=_render_csv)


def _render_csv(tables: Sequence[Table]) -> dict[str, Rows]:
    rendered: dict[str, Rows] = {}
    for table in tables:
        buffer = io.BytesIO()
        write_csv(table, buffer)
        rendered[table.name] = csv_rows(buffer.getvalue())
    return rendered


def read_xlsx_sink(sink: XlsxSink) -> Held:
    held = Held(render=_render_xlsx)
    if not sink.path.is_file():
        return held
    try:
        held.tabs = workbook_rows(sink.path.read_bytes())
    except Exception as exc:  # a damaged file: openpyxl raises many kinds
        raise GoalsyncError(
            f"{sink.path} cannot be read as a workbook ({type(exc).__name__})"
        ) from None
    return held


def _render_xlsx(tables: Sequence[Table]) -> dict[str, Rows]:
    buffer = io.BytesIO()
    write_workbook(tables, buffer)
    return workbook_rows(buffer.getvalue())


def read_html_sink(sink: HtmlSink) -> Held:
    """One page, re-rendered every run: not compared, only said whether it exists."""
    exists = sink.path.is_file()
    return Held(note="the page is re-rendered on every run" if exists else "would be created")


def csv_rows(data: bytes) -> Rows:
    text = data.decode("utf-8-sig")
    return [trim_row(row) for row in csv.reader(io.StringIO(text, newline=""))]


def workbook_rows(data: bytes) -> dict[str, Rows]:
    import openpyxl  # only when a workbook is compared (see xlsx.write_workbook)

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {
            ws.title: [
                trim_row([cell_text(v) for v in row]) for row in ws.iter_rows(values_only=True)
            ]
            for ws in book.worksheets
            if ws.title in TAB_NAMES
        }
    finally:
        book.close()
