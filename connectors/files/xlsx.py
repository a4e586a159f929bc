"""Excel sink (`type: xlsx`): one workbook, one sheet per tab.

Header row bold and frozen, a filter over each table, column widths, number formats (percent
columns are numbers 0..100 shown with one decimal, dates as dates), status cells coloured and goal
rows bold by conditional formats (they follow edits), item keys as links; each tab prints
landscape, one page wide, with the header row on every page. Untrusted text stays text: openpyxl
would store a string starting with "=" as a formula, so string cells are typed explicitly, and
text that starts like a formula also gets Excel's quote prefix. Characters XML cannot hold are
dropped; cells stop at Excel's 32,767.

The workbook carries goalsync's mark, a custom document property `goalsync` (Excel and LibreOffice
keep it when someone saves the file), and the sink replaces only a workbook with that mark, or one
of an earlier release (no mark) whose sheets are exactly goalsync's tabs in goalsync's order.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.files.describe import LocalSink
from connectors.files.localfs import UNMARKED_RELEASE_TABS, StagedFiles, ensure_own_file
from sync.base.contracts import PublishContext, resolve_path
from sync.base.errors import PublishError
from sync.base.report import (
    TRENDS_TAB,
    Link,
    Table,
    is_web_url,
    looks_like_formula,
    trend_blocks,
)

EXCEL_CELL_LIMIT = 32_767
# The control characters XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE, kept here so
# that importing this module does not import openpyxl).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_NOT_IN_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")  # beyond ILLEGAL_CHARACTERS_RE
# (fill, font) per status word: the colours Excel's own conditional styles use.
STATUS_STYLES: dict[str, tuple[str, str]] = {
    "On track": ("C6EFCE", "006100"),
    "At risk": ("FFEB9C", "9C5700"),
    "Off track": ("FFC7CE", "9C0006"),
    "Done": ("DDEBF7", "1F4E78"),
    "Not started": ("EDEDED", "595959"),
    "No data": ("E4DFEC", "5B4A7A"),  # lavender: not a colour of progress (nothing was measured)
}
SHEET_ROWS = 1_048_576  # Excel's last row: a format over the whole column follows added rows
MARK_PROPERTY = "goalsync"  # the custom document property that makes a workbook goalsync's
_MARK = re.compile(rb'<(?:\w+:)?property\b[^>]*\bname="goalsync"')
_SHEET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"')
_PEEK_BYTES = 1 << 20  # of a workbook's part: a hostile zip must not make the check read more
NUMBER_FORMATS = {
    "int": "0",
    "number": "General",
    "percent": "0.0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}


class XlsxSinkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["xlsx"]
    path: str = Field(min_length=1)

    def build(self, base_dir: Path) -> XlsxSink:
        sink = XlsxSink(resolve_path(base_dir, self.path))
        ensure_own_file(sink.path, "xlsx", is_goalsync_workbook)
        return sink


class XlsxSink(LocalSink):
    type = "xlsx"

    def __init__(self, path: Path) -> None:
        self.path = path

    def place(self) -> tuple[Path, Literal["file", "folder"]]:
        return self.path, "file"

    def prepare(self, tables: Sequence[Table], ctx: PublishContext) -> StagedFiles:
        del ctx
        # Checked again: something may have appeared at the path while the sources were pulled.
        ensure_own_file(self.path, "xlsx", is_goalsync_workbook, PublishError)
        staged = StagedFiles(f"xlsx {self.path}")
        try:
            staged.add(self.path, lambda fh: write_workbook(tables, fh))
        except BaseException:
            staged.discard()
            raise
        return staged


def write_workbook(tables: Sequence[Table], fh: IO[bytes]) -> None:
    # openpyxl is imported here, not at the top: a run without an xlsx sink should not pay
    # for it at start-up (it pulls in numpy's config and more: ~0.1 s)
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "goalsync"
    wb.custom_doc_props.append(
        StringProperty(name=MARK_PROPERTY, value="written by goalsync; replaced on every run")
    )
    header_font = Font(bold=True)
    # written as well as the conditional formats: a preview or a reader that does not evaluate
    # rules still shows the colour; the rules take over when someone edits a status
    fills = {
        w: (PatternFill("solid", fgColor=f), Font(color=c)) for w, (f, c) in STATUS_STYLES.items()
    }
    link_font = Font(color="0563C1", underline="single")
    for table in tables:
        ws = wb.create_sheet(table.name)
        _print_and_formats(ws, table)
        ws.append([c.name for c in table.columns])
        for cell in ws[1]:
            cell.font = header_font
        for r, row in enumerate(table.rows, start=2):
            for c, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
                cell = ws.cell(row=r, column=c)
                _put(cell, value)
                if isinstance(value, Link) and is_web_url(value.url):
                    cell.hyperlink = value.url
                    cell.font = link_font
                elif column.type == "status" and isinstance(value, str) and value in fills:
                    cell.fill, cell.font = fills[value]
                elif column.type in NUMBER_FORMATS and value is not None:
                    cell.number_format = NUMBER_FORMATS[column.type]
        for c, column in enumerate(table.columns, start=1):
            ws.column_dimensions[get_column_letter(c)].width = column.width + 2
        ws.freeze_panes = "A2"
        last = get_column_letter(len(table.columns))
        ws.auto_filter.ref = f"A1:{last}{max(1, len(table.rows) + 1)}"
        if table.name == TRENDS_TAB:
            add_trend_charts(ws, table)
    wb.save(fh)


CHART_ROWS = 18  # rows of the Trends tab per chart: charts stack down beside the table


def add_trend_charts(ws: Any, table: Table) -> None:
    """One native line chart per goal beside the Trends table, progress against expected, each
    series a reference to the goal's cells (an edit of a cell redraws the line). A blank cell,
    a No data day, is a gap in the line, never a zero."""
    from openpyxl.chart import LineChart, Reference, Series
    from openpyxl.chart.series import SeriesLabel
    from openpyxl.utils import get_column_letter

    anchor_column = get_column_letter(len(table.columns) + 2)  # one empty column between
    for n, block in enumerate(trend_blocks(table)):
        first, last = block.first + 2, block.last + 2  # sheet rows: the header is row 1
        chart = LineChart()
        title = _ILLEGAL.sub("", f"{block.goal} {block.title}")
        chart.title = _NOT_IN_XML.sub("\ufffd", title)[:250]
        chart.display_blanks = "gap"
        chart.y_axis.title = "%"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        chart.x_axis.number_format = "mm-dd"
        chart.x_axis.delete = False  # openpyxl 3.1 hides both axes unless told
        chart.y_axis.delete = False
        chart.height, chart.width = 8.5, 17.0  # cm: about CHART_ROWS rows high
        for column, dash in ((4, None), (5, "dash")):  # Progress %, Expected %
            ref = Reference(ws, min_col=column, min_row=first, max_row=last)
            series = Series(ref, title_from_data=False)
            series.tx = SeriesLabel(v=str(table.columns[column - 1].name))
            series.smooth = False
            if dash:
                series.graphicalProperties.line.dashStyle = dash
            chart.series.append(series)
        chart.set_categories(Reference(ws, min_col=3, min_row=first, max_row=last))
        ws.add_chart(chart, f"{anchor_column}{2 + n * CHART_ROWS}")


def _put(cell: Any, value: object) -> None:
    if isinstance(value, Link):
        value = value.text
    if value is None:
        return
    if isinstance(value, bool | int | float | datetime | date):
        if isinstance(value, datetime):
            value = value.replace(tzinfo=None)  # Excel has no time zones; shown as local time
        cell.value = value
        return
    text = _ILLEGAL.sub("", str(value))
    if not text.isascii():  # nor lone surrogates, U+FFFE or U+FFFF: the workbook would not open
        text = _NOT_IN_XML.sub("\ufffd", text)
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - 1] + "…"
    cell.value = text
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if looks_like_formula(text):
        cell.quotePrefix = True


def _print_and_formats(ws: Any, table: Table) -> None:
    """Printed, a tab is landscape, one page wide (as many pages long as it takes), the header
    row repeated on each page. Status colours and bold goal rows are conditional formats, so
    they follow the cells: an edited status recolours, a sorted row keeps its weight."""
    from openpyxl.formatting.rule import CellIsRule, FormulaRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: no limit on the pages down
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"
    # Excel's "narrow" margins (inches): a wide tab prints larger on the page
    ws.page_margins = PageMargins(left=0.25, right=0.25, top=0.75, bottom=0.75)
    ws.print_options.horizontalCentered = True
    last = get_column_letter(len(table.columns))
    names = [c.name for c in table.columns]
    if "Level" in names:  # the Status tab: a goal's row stands out from its key results'
        level = get_column_letter(names.index("Level") + 1)
        ws.conditional_formatting.add(
            f"A2:{last}{SHEET_ROWS}",
            FormulaRule(formula=[f'${level}2="goal"'], font=Font(bold=True)),
        )
    for c, column in enumerate(table.columns, start=1):
        if column.type != "status":
            continue
        letter = get_column_letter(c)
        for word, (fill, font) in STATUS_STYLES.items():
            ws.conditional_formatting.add(
                f"{letter}2:{letter}{SHEET_ROWS}",
                CellIsRule(
                    operator="equal",
                    formula=[_quoted(word)],
                    fill=PatternFill("solid", start_color=fill, end_color=fill),
                    font=Font(color=font),
                ),
            )


def _quoted(text: str) -> str:
    """`text` as a string in an Excel formula."""
    return '"' + text.replace('"', '""') + '"'


def is_goalsync_workbook(fh: IO[bytes]) -> bool:
    """Whether the workbook in `fh` is one goalsync wrote: it carries the mark, or it is an
    earlier release's (no mark yet) with exactly goalsync's tabs, in goalsync's order."""
    with zipfile.ZipFile(fh) as zf:
        parts = set(zf.namelist())
        if "docProps/custom.xml" in parts and _MARK.search(_peek(zf, "docProps/custom.xml")):
            return True
        sheets = [m.group(1) for m in _SHEET.finditer(_peek(zf, "xl/workbook.xml"))]
        return sheets == [t.encode() for t in UNMARKED_RELEASE_TABS]


def _peek(zf: zipfile.ZipFile, name: str) -> bytes:
    with zf.open(name) as member:
        return member.read(_PEEK_BYTES)
