"""The status tabs as Sheets API requests, and the History tab back as rows. Pure: no I/O.

Cells are typed `updateCells` data, never text for the API to parse: strings are `stringValue`
(a title such as `=HYPERLINK(...)` stays text, whatever it starts with), numbers `numberValue`,
dates and times serial numbers with a number format, booleans `boolValue`. The one formula is
goalsync's own `=HYPERLINK("url","text")` for links to http(s) pages, with quotes doubled.
Formats are set per column (`repeatCell`), so a cell carries only its value and the body stays
small: about 60 bytes a cell.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sync.base.report import (
    TRENDS_TAB,
    HistoryRow,
    Table,
    TrendBlock,
    trend_blocks,
    valid_unicode,
)
from sync.base.tabular import CellError, normalize_header, to_date

CELL_CHAR_LIMIT = 50_000  # the most a Sheets cell holds
GRID_CELL_LIMIT = 10_000_000  # the most cells a spreadsheet holds, over all its tabs
_SERIAL_EPOCH = datetime(1899, 12, 30)  # day 0 of Sheets serial dates
_TRUNCATED = "…"
# (background, text) per status word: light fills with dark text of the same hue (Sheets' own
# conditional-format greens, yellows and reds), readable on screen and in print.
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "On track": ("B7E1CD", "0B5A33"),
    "At risk": ("FCE8B2", "7F5A00"),
    "Off track": ("F4C7C3", "8C1A10"),
    "Done": ("C9DAF8", "1C4587"),
    "Not started": ("EFEFEF", "595959"),
    "No data": ("D9D2E9", "4B3B6B"),  # Sheets' light purple: not a colour of progress
}
NUMBER_FORMATS: dict[str, dict[str, str]] = {
    "int": {"type": "NUMBER", "pattern": "0"},
    "percent": {"type": "NUMBER", "pattern": "0.0"},  # percent columns hold 0..100, not 0..1
    "date": {"type": "DATE", "pattern": "yyyy-mm-dd"},
    "datetime": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"},
}
HEADER_BACKGROUND = "F3F3F3"
HISTORY_COLUMNS = ("Date", "ID", "Value", "Progress %", "Expected %", "Status")
# The Trends tab's charts stand beside its table, one below the other: its grid gets the columns
# and rows they cover (an overlay is anchored to a cell inside the grid).
CHART_ROWS = 18  # rows per chart, at Sheets' 21 px a row
CHART_COLUMNS = 7  # an empty column, then six of Sheets' 100 px columns for a 600 px chart
CHART_SIZE = (600, 340)  # pixels, width and height
PROGRESS_COLOUR = "3B7DD8"  # the html page's progress blue
EXPECTED_COLOUR = "8A8A8A"


@dataclass(frozen=True, slots=True)
class Grid:
    """The size a tab gets: its table plus the header row, never fewer than two rows (a frozen
    header needs a row below it)."""

    rows: int
    columns: int

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def grid_for(table: Table) -> Grid:
    rows, columns = max(2, len(table.rows) + 1), len(table.columns)
    if table.name == TRENDS_TAB:
        charts = len(trend_blocks(table))
        rows, columns = max(rows, 1 + charts * CHART_ROWS), columns + CHART_COLUMNS
    return Grid(rows=rows, columns=columns)


# --- cells ----------------------------------------------------------------------------------


def to_serial(value: date | datetime) -> float:
    """A date or a local datetime as a Sheets serial number (days since 1899-12-30)."""
    if isinstance(value, datetime):
        # The report shows times in the config's timezone; Sheets has no timezones, so the wall
        # clock time is what the cell holds.
        delta = value.replace(tzinfo=None) - _SERIAL_EPOCH
        return round(delta.total_seconds() / 86_400, 8)
    return float((value - _SERIAL_EPOCH.date()).days)


def to_hyperlink_formula(url: str, text: str) -> str:
    """Sheets formula string literals escape a quote by doubling it; nothing else is special.
    A lone surrogate (half an emoji, in a title Jira cut) becomes U+FFFD, as in a text cell."""
    url, text = valid_unicode(url), valid_unicode(text)
    quoted_url, quoted_text = url.replace('"', '""'), text.replace('"', '""')
    return f'=HYPERLINK("{quoted_url}","{quoted_text}")'


def cut(text: str) -> str:
    text = valid_unicode(text)  # a lone surrogate is not valid in the API's JSON
    return text if len(text) <= CELL_CHAR_LIMIT else text[: CELL_CHAR_LIMIT - 1] + _TRUNCATED


# --- requests -------------------------------------------------------------------------------


def grid_range(sheet_id: int, grid: Grid, *, first_row: int = 0) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": first_row,
        "endRowIndex": grid.rows,
        "startColumnIndex": 0,
        "endColumnIndex": grid.columns,
    }


def to_sheet_properties(sheet_id: int, title: str, grid: Grid, *, hidden: bool) -> dict[str, Any]:
    return {
        "sheetId": sheet_id,
        "title": title,
        "hidden": hidden,
        "gridProperties": {
            "rowCount": grid.rows,
            "columnCount": grid.columns,
            "frozenRowCount": 0 if hidden else 1,
        },
    }


def to_resize(sheet_id: int, grid: Grid) -> dict[str, Any]:
    """Exactly the table's size: rows left over from a longer previous table go, and the
    spreadsheet's 10-million-cell budget is not spent on empty grid."""
    return {
        "updateSheetProperties": {
            "properties": {
                "sheetId": sheet_id,
                "gridProperties": {
                    "rowCount": grid.rows,
                    "columnCount": grid.columns,
                    "frozenRowCount": 1,
                },
            },
            "fields": "gridProperties(rowCount,columnCount,frozenRowCount)",
        }
    }


def to_write_cells(sheet_id: int, grid: Grid, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every cell of the tab: with `range` and fields `*`, what `rows` leaves out is cleared
    (values, formats, notes), so nothing of the previous table survives."""
    return {"updateCells": {"range": grid_range(sheet_id, grid), "rows": rows, "fields": "*"}}


def to_clear_cells(sheet_id: int, grid: Grid) -> dict[str, Any]:
    return {"updateCells": {"range": grid_range(sheet_id, grid), "fields": "*"}}


def to_fill_cells(sheet_id: int, first_row: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows into a fresh (staging) tab from `first_row`: nothing there to clear."""
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": first_row, "columnIndex": 0},
            "rows": rows,
            "fields": "userEnteredValue",
        }
    }


def to_format_requests(sheet_id: int, table: Table, grid: Grid) -> list[dict[str, Any]]:
    """Header, number formats, status colours, filter and widths, for cells written just before
    in the same batch (their formats were cleared, so nothing piles up)."""
    requests: list[dict[str, Any]] = [
        {
            "repeatCell": {
                "range": {**grid_range(sheet_id, grid), "endRowIndex": 1},
                "cell": {
                    "userEnteredFormat": {
                        "textFormat": {"bold": True},
                        "backgroundColor": _colour(HEADER_BACKGROUND),
                    }
                },
                "fields": "userEnteredFormat(textFormat,backgroundColor)",
            }
        }
    ]
    for c, column in enumerate(table.columns):
        number_format = NUMBER_FORMATS.get(column.type)
        if number_format is not None:
            requests.append(
                {
                    "repeatCell": {
                        "range": _column_range(sheet_id, c, grid),
                        "cell": {"userEnteredFormat": {"numberFormat": dict(number_format)}},
                        "fields": "userEnteredFormat.numberFormat",
                    }
                }
            )
    index = 0
    for c, column in enumerate(table.columns):
        if column.type != "status":
            continue
        for word, (background, text) in STATUS_COLOURS.items():
            requests.append(
                {
                    "addConditionalFormatRule": {
                        "rule": {
                            "ranges": [_column_range(sheet_id, c, grid)],
                            "booleanRule": {
                                "condition": {
                                    "type": "TEXT_EQ",
                                    "values": [{"userEnteredValue": word}],
                                },
                                "format": {
                                    "backgroundColor": _colour(background),
                                    "textFormat": {"foregroundColor": _colour(text)},
                                },
                            },
                        },
                        "index": index,
                    }
                }
            )
            index += 1
    requests.append(
        {"setBasicFilter": {"filter": {"range": grid_range(sheet_id, _filter_grid(table, grid))}}}
    )
    requests.extend(
        {
            "updateDimensionProperties": {
                "range": {
                    "sheetId": sheet_id,
                    "dimension": "COLUMNS",
                    "startIndex": c,
                    "endIndex": c + 1,
                },
                "properties": {"pixelSize": column.width * 7 + 2},  # 14 characters = 100 px
                "fields": "pixelSize",
            }
        }
        for c, column in enumerate(table.columns)
    )
    return requests


def _filter_grid(table: Table, grid: Grid) -> Grid:
    del grid  # the table's own columns: not the room its charts stand in (Trends)
    return Grid(rows=len(table.rows) + 1, columns=len(table.columns))


def _column_range(sheet_id: int, column: int, grid: Grid) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": 1,
        "endRowIndex": grid.rows,
        "startColumnIndex": column,
        "endColumnIndex": column + 1,
    }


def _colour(hex_rgb: str) -> dict[str, float]:
    red, green, blue = (int(hex_rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 4), "green": round(green, 4), "blue": round(blue, 4)}


# --- the Trends tab's charts ------------------------------------------------------------------


def chart_id(goal: str, taken: set[int]) -> int:
    """A goal's chart id: derived from the goal (stable, so the next publish updates the same
    chart), moved on past ids that other embedded objects or sheets hold."""
    object_id = zlib.crc32(f"goalsync trend {goal}".encode()) & 0x7FFFFFFF
    while object_id in taken:
        object_id = (object_id + 1) & 0x7FFFFFFF
    taken.add(object_id)
    return object_id


def to_trend_charts(
    sheet_id: int, table: Table, existing: Sequence[int], taken: set[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The requests that give the Trends tab one line chart per goal, drawn from the goal's
    rows of the tab: (deletions, to send before the tab is resized; the rest, after its cells
    are written). A chart already there (the same id) gets its spec and position replaced, a
    missing one is added, and every other chart on the tab is deleted: a publish never piles
    charts up. `existing` are the chart ids on the tab now; `taken` the ids of every other
    embedded object and sheet."""
    ours: list[tuple[TrendBlock, int]] = []
    used = set(taken) | set(existing)  # an id deleted in this batch is not reused in it
    for block in trend_blocks(table):
        wanted = chart_id(block.goal, set())
        ident = wanted if wanted in existing else chart_id(block.goal, used)
        used.add(ident)
        ours.append((block, ident))
    keep = {ident for _, ident in ours}
    deletions = [{"deleteEmbeddedObject": {"objectId": c}} for c in existing if c not in keep]
    requests: list[dict[str, Any]] = []
    width, height = CHART_SIZE
    for n, (block, ident) in enumerate(ours):
        spec = _chart_spec(sheet_id, block)
        position = {
            "overlayPosition": {
                "anchorCell": {
                    "sheetId": sheet_id,
                    "rowIndex": 1 + n * CHART_ROWS,
                    "columnIndex": len(table.columns) + 1,
                },
                "widthPixels": width,
                "heightPixels": height,
            }
        }
        if ident in existing:
            requests.append({"updateChartSpec": {"chartId": ident, "spec": spec}})
            requests.append(
                {
                    "updateEmbeddedObjectPosition": {
                        "objectId": ident,
                        "newPosition": position,
                        "fields": "anchorCell,widthPixels,heightPixels",
                    }
                }
            )
        else:
            requests.append(
                {"addChart": {"chart": {"chartId": ident, "spec": spec, "position": position}}}
            )
    return deletions, requests


def _chart_spec(sheet_id: int, block: TrendBlock) -> dict[str, Any]:
    """Progress and expected against the date, from the goal's rows (first+1 .. last+1 on the
    sheet), each series headed by the tab's header cell (its name in the legend). A blank cell,
    a No data day, is a gap in the line (interpolateNulls false), never a zero."""

    def column(index: int) -> dict[str, Any]:
        def cells(start: int, end: int) -> dict[str, int]:
            return {
                "sheetId": sheet_id,
                "startRowIndex": start,
                "endRowIndex": end,
                "startColumnIndex": index,
                "endColumnIndex": index + 1,
            }

        return {"sourceRange": {"sources": [cells(0, 1), cells(block.first + 1, block.last + 2)]}}

    title = cut(f"{block.goal} {block.title}")[:200]
    return {
        "title": title,
        "altText": f"{title}: progress % against expected %, per day",
        "basicChart": {
            "chartType": "LINE",
            "legendPosition": "BOTTOM_LEGEND",
            "headerCount": 1,
            "interpolateNulls": False,
            "axis": [
                {"position": "BOTTOM_AXIS", "title": "Date"},
                {
                    "position": "LEFT_AXIS",
                    "title": "%",
                    "viewWindowOptions": {
                        "viewWindowMode": "EXPLICIT",
                        "viewWindowMin": 0,
                        "viewWindowMax": 100,
                    },
                },
            ],
            "domains": [{"domain": column(2)}],
            "series": [
                {
                    "series": column(3),
                    "targetAxis": "LEFT_AXIS",
                    "colorStyle": {"rgbColor": _colour(PROGRESS_COLOUR)},
                    "lineStyle": {"type": "SOLID", "width": 2},
                },
                {
                    "series": column(4),
                    "targetAxis": "LEFT_AXIS",
                    "colorStyle": {"rgbColor": _colour(EXPECTED_COLOUR)},
                    "lineStyle": {"type": "MEDIUM_DASHED", "width": 2},
                },
            ],
        },
    }


# --- History back from the tab ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryRead:
    """The History tab as read: its rows, the problems, the rows goalsync could not read (kept
    verbatim: the publish rewrites the tab, and a row a person typed must not vanish), and
    whether the header has the Date and ID columns at all."""

    rows: list[HistoryRow]
    problems: list[str]
    verbatim: list[tuple[Any, ...]]
    header_ok: bool


def parse_history_values(values: Sequence[Sequence[Any]]) -> tuple[list[HistoryRow], list[str]]:
    """The History tab as values.batchGet returns it (unformatted, serial dates) -> rows, and
    the rows that could not be read (reported, skipped). Columns are found by name."""
    read = read_history_values(values)
    return read.rows, read.problems


def read_history_values(values: Sequence[Sequence[Any]]) -> HistoryRead:
    """`parse_history_values`, keeping what could not be read."""
    if not values:
        return HistoryRead([], [], [], True)
    header = [normalize_header(h) for h in values[0]]
    where = {
        name: header.index(normalize_header(name))
        for name in HISTORY_COLUMNS
        if normalize_header(name) in header
    }
    if "Date" not in where or "ID" not in where:
        problem = "History tab: no Date and ID columns in its header row; its rows were not read"
        return HistoryRead([], [problem], [], False)
    rows: list[HistoryRow] = []
    problems: list[str] = []
    verbatim: list[tuple[Any, ...]] = []
    for n, raw in enumerate(values[1:], start=2):

        def get(name: str, raw: Sequence[Any] = raw) -> Any:
            i = where.get(name)
            value = raw[i] if i is not None and i < len(raw) else None
            return None if isinstance(value, str) and not value.strip() else value

        if get("Date") is None and get("ID") is None:
            continue
        try:
            day = to_date(get("Date"))
            ident = get("ID")
            if ident is None:
                raise CellError("column ID: empty")
            rows.append(
                HistoryRow(
                    date=day,
                    id=str(
                        int(ident) if isinstance(ident, float) and ident.is_integer() else ident
                    ),
                    value=_number(get("Value")),
                    progress=_number(get("Progress %")),
                    expected=_number(get("Expected %")),
                    status=str(get("Status") or ""),
                )
            )
        except (CellError, TypeError) as exc:
            problems.append(f"History tab row {n}: {exc}; kept as it is")
            verbatim.append(tuple(get(name) for name in HISTORY_COLUMNS))
    return HistoryRead(rows, problems, verbatim, True)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise CellError(f"{value!r} is not a number") from None
