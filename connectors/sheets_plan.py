"""How one publish reaches the sheet: the `batchUpdate` bodies, planned from what the sheet holds.
Pure: the sink reads the sheet, this plans, the sink sends.

While every change fits one body under the limit (8 MB; the API refuses about 10 MB), the plan is
one batch, which the API applies atomically. Otherwise the biggest tables are staged: hidden
staging tabs are filled in batches under the limit, and one final batch (small: formats and a
server-side copyPaste) swaps their contents into the live tabs, so readers never see half a table.
The live tabs keep their sheet ids, so other tabs' formulas and charts that point at them keep
working. Only the owned tabs (sync.report.TAB_NAMES) and goalsync's own staging tabs are ever
named in a request.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.sheets_layout import (
    GRID_CELL_LIMIT,
    Grid,
    grid_for,
    grid_range,
    to_clear_cells,
    to_fill_cells,
    to_format_requests,
    to_resize,
    to_rows,
    to_sheet_properties,
    to_write_cells,
)
from sync.errors import PublishError
from sync.report import TAB_NAMES, Cell, HistoryRow, Table

BODY_LIMIT = 8_000_000  # bytes of JSON per batchUpdate; the API's own limit is 10,485,760
CHUNK_LIMIT = 1_000_000  # bytes per updateCells request while filling a staging tab
STAGING_PREFIX = "goalsync staging "
# What the sink asks spreadsheets.get for: sheet properties and how many conditional format
# rules each sheet has (to delete them before adding ours), never cell data.
SHEET_FIELDS = (
    "sheets(properties(sheetId,title,hidden,gridProperties(rowCount,columnCount)),"
    "conditionalFormats(ranges(sheetId)))"
)


@dataclass(frozen=True, slots=True)
class SheetInfo:
    sheet_id: int
    title: str
    rows: int
    columns: int
    rules: int = 0  # conditional format rules on the sheet
    hidden: bool = False

    @property
    def cells(self) -> int:
        return self.rows * self.columns


@dataclass(slots=True)
class WritePlan:
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # bytes of each batch's JSON body
    staged: list[str] = field(default_factory=list)  # tabs that go through staging
    added: list[str] = field(default_factory=list)  # owned tabs the sheet did not have
    cells: int = 0  # cells of the whole spreadsheet after the publish


def parse_sheets(reply: Mapping[str, Any]) -> list[SheetInfo]:
    """spreadsheets.get (with SHEET_FIELDS) -> the sheets. The API leaves out zero and false
    values (sheetId 0, hidden false), hence the defaults."""
    sheets = []
    for sheet in reply.get("sheets") or []:
        props = sheet.get("properties") or {}
        grid = props.get("gridProperties") or {}
        sheets.append(
            SheetInfo(
                sheet_id=int(props.get("sheetId", 0)),
                title=str(props.get("title", "")),
                rows=int(grid.get("rowCount", 0)),
                columns=int(grid.get("columnCount", 0)),
                rules=len(sheet.get("conditionalFormats") or []),
                hidden=bool(props.get("hidden", False)),
            )
        )
    return sheets


def find_tab(sheets: Sequence[SheetInfo], title: str) -> SheetInfo | None:
    """Sheets refuses two tabs whose names differ only in case, so a match ignores case."""
    wanted = title.casefold()
    return next((s for s in sheets if s.title.casefold() == wanted), None)


def merge_history(table: Table, remote: Sequence[HistoryRow]) -> Table:
    """The History tab upserted by (date, ID): this run's rows replace the tab's rows of the same
    key, the tab's other rows stay (a rerun on the same day never adds)."""
    ours = {(row[0], row[1]) for row in table.rows}
    kept: list[tuple[Cell, ...]] = [
        (h.date, h.id, h.value, h.progress, h.expected, h.status)
        for h in remote
        if (h.date, h.id) not in ours
    ]
    rows = sorted([*table.rows, *kept], key=lambda r: (str(r[0]), str(r[1])))
    return Table(table.name, table.columns, rows)


def to_write_plan(
    tables: Sequence[Table],
    sheets: Sequence[SheetInfo],
    *,
    body_limit: int = BODY_LIMIT,
    chunk_limit: int = CHUNK_LIMIT,
) -> WritePlan:
    for table in tables:
        if table.name not in TAB_NAMES:
            raise PublishError(f"{table.name!r} is not a tab goalsync owns; not written")
    used = {s.sheet_id for s in sheets}
    leftovers = [s for s in sheets if s.title.startswith(STAGING_PREFIX)]
    plan = WritePlan()
    tabs: list[_Tab] = []
    for table in tables:
        existing = find_tab(sheets, table.name)
        sheet_id = existing.sheet_id if existing else _new_id(table.name, used)
        if existing is None:
            plan.added.append(table.name)
        tabs.append(_Tab(table, sheet_id, grid_for(table), existing))
    skip = {s.sheet_id for s in leftovers} | {t.existing.sheet_id for t in tabs if t.existing}
    others = sum(s.cells for s in sheets if s.sheet_id not in skip)
    plan.cells = others + sum(t.grid.cells for t in tabs)
    if plan.cells > GRID_CELL_LIMIT:
        raise PublishError(
            f"this publish needs {plan.cells:,} cells, more than the 10,000,000 a "
            f"spreadsheet holds ({others:,} in tabs goalsync does not own); nothing was sent. "
            "Narrow the scope (fewer items), or use a spreadsheet of its own for the status"
        )
    cleanup = [{"deleteSheet": {"sheetId": s.sheet_id}} for s in leftovers]
    for tab in tabs:
        tab.measure()
    single = _body_size(
        [_size(r) for r in cleanup] + [size for tab in tabs for size in tab.request_sizes()]
    )
    if single <= body_limit:
        requests = [*cleanup]
        for tab in tabs:
            requests += [*tab.prelude(), tab.write(), *tab.formats()]
        plan.batches, plan.sizes = [requests], [single]
        return plan
    _plan_staged(plan, tabs, cleanup, used, others, body_limit, chunk_limit)
    return plan


@dataclass(slots=True)
class _Tab:
    table: Table
    sheet_id: int
    grid: Grid
    existing: SheetInfo | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_sizes: list[int] = field(default_factory=list)
    frame_sizes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = to_rows(self.table)

    def measure(self) -> None:
        self.row_sizes = [_size(r) for r in self.rows]
        self.frame_sizes = [_size(r) for r in self.frame()]

    @property
    def content_size(self) -> int:
        """The size of `write()`'s JSON, from the rows' sizes (each row is serialised once)."""
        frame = _size(to_write_cells(self.sheet_id, self.grid, []))
        return frame + sum(self.row_sizes) + 2 * max(0, len(self.row_sizes) - 1)

    def request_sizes(self, staging_id: int | None = None) -> list[int]:
        """Sizes of this tab's requests in the final batch, unstaged or staged."""
        if staging_id is None:
            return [*self.frame_sizes, self.content_size]
        return [*self.frame_sizes, *(_size(r) for r in self.swap(staging_id))]

    def write(self) -> dict[str, Any]:
        return to_write_cells(self.sheet_id, self.grid, self.rows)

    def swap(self, staging_id: int) -> list[dict[str, Any]]:
        """Clear first (notes, validation), then a server-side copy of the staging tab: values
        and HYPERLINK formulas (copied as formulas, never re-parsed text), in one step."""
        return [
            to_clear_cells(self.sheet_id, self.grid),
            {
                "copyPaste": {
                    "source": grid_range(staging_id, self.grid),
                    "destination": grid_range(self.sheet_id, self.grid),
                    "pasteType": "PASTE_NORMAL",
                    "pasteOrientation": "NORMAL",
                }
            },
        ]

    def prelude(self) -> list[dict[str, Any]]:
        """Make the tab exist at its new size, without the conditional formats of last time."""
        if self.existing is None:
            props = to_sheet_properties(self.sheet_id, self.table.name, self.grid, hidden=False)
            return [{"addSheet": {"properties": props}}]
        # Deleting index 0 n times: each deletion shifts the remaining rules down by one.
        deletes = [
            {"deleteConditionalFormatRule": {"sheetId": self.sheet_id, "index": 0}}
        ] * self.existing.rules
        return [*deletes, to_resize(self.sheet_id, self.grid)]

    def formats(self) -> list[dict[str, Any]]:
        return to_format_requests(self.sheet_id, self.table, self.grid)

    def frame(self) -> list[dict[str, Any]]:
        return [*self.prelude(), *self.formats()]


def _plan_staged(
    plan: WritePlan,
    tabs: list[_Tab],
    cleanup: list[dict[str, Any]],
    used: set[int],
    others: int,
    body_limit: int,
    chunk_limit: int,
) -> None:
    """Stage the biggest tables until the final batch (frames, the unstaged tables' cells and a
    copyPaste per staged table) fits the limit."""
    staged: dict[str, int] = {}  # tab name -> staging sheet id

    def final_size() -> int:
        sizes = [n for tab in tabs for n in tab.request_sizes(staged.get(tab.table.name))]
        sizes += [_size({"deleteSheet": {"sheetId": i}}) for i in staged.values()]
        return _body_size(sizes)

    for tab in sorted(tabs, key=lambda t: t.content_size, reverse=True):
        if final_size() <= body_limit:
            break
        staged[tab.table.name] = _new_id(STAGING_PREFIX + tab.table.name, used)
    if final_size() > body_limit:
        raise PublishError("the formats of the status tabs alone pass the request size limit")
    peak = others + sum(max(t.grid.cells, t.existing.cells if t.existing else 0) for t in tabs)
    peak += sum(t.grid.cells for t in tabs if t.table.name in staged)
    if peak > GRID_CELL_LIMIT:
        raise PublishError(
            f"staging this publish needs {peak:,} cells at its peak (the live tabs and "
            "their staging copies), more than the 10,000,000 a spreadsheet holds; nothing was "
            "sent. Narrow the scope, or use a spreadsheet of its own for the status"
        )
    batch: list[dict[str, Any]] = [*cleanup]
    sizes: list[int] = [_size(r) for r in cleanup]
    for tab in tabs:
        if tab.table.name in staged:
            title = STAGING_PREFIX + tab.table.name
            props = to_sheet_properties(staged[tab.table.name], title, tab.grid, hidden=True)
            batch.append({"addSheet": {"properties": props}})
            sizes.append(_size(batch[-1]))
    # A chunk never fills more than half a body, so batches stay well packed.
    chunk_limit = min(chunk_limit, body_limit // 2)
    for tab in tabs:
        if tab.table.name not in staged:
            continue
        chunks = _chunks(staged[tab.table.name], tab.rows, tab.row_sizes, chunk_limit)
        for request, size in chunks:
            if _body_size([size]) > body_limit:
                raise PublishError(
                    f"a row of {tab.table.name} alone passes the request size limit "
                    f"({size:,} bytes); nothing was sent"
                )
            if _body_size([*sizes, size]) > body_limit:
                plan.batches.append(batch)
                plan.sizes.append(_body_size(sizes))
                batch, sizes = [], []
            batch.append(request)
            sizes.append(size)
    plan.batches.append(batch)
    plan.sizes.append(_body_size(sizes))
    final: list[dict[str, Any]] = []
    for tab in tabs:
        staging_id = staged.get(tab.table.name)
        final += tab.prelude()
        final += [tab.write()] if staging_id is None else tab.swap(staging_id)
        final += tab.formats()
    final += [{"deleteSheet": {"sheetId": i}} for i in staged.values()]
    plan.batches.append(final)
    plan.sizes.append(final_size())
    plan.staged = list(staged)


def _chunks(
    sheet_id: int, rows: list[dict[str, Any]], row_sizes: list[int], limit: int
) -> list[tuple[dict[str, Any], int]]:
    """updateCells requests of consecutive rows, each about `limit` bytes, with their sizes."""
    out: list[tuple[dict[str, Any], int]] = []
    start = 0
    while start < len(rows):
        end, total = start, 0
        while end < len(rows) and (end == start or total + row_sizes[end] + 2 <= limit):
            total += row_sizes[end] + (2 if end > start else 0)
            end += 1
        request = to_fill_cells(sheet_id, start, rows[start:end])
        # The request's JSON is its frame (with an empty list) plus the rows and separators.
        size = _size(to_fill_cells(sheet_id, start, [])) + total
        out.append((request, size))
        start = end
    return out


def _size(value: Any) -> int:
    # The client serialises bodies with json.dumps' defaults (ASCII escapes, ", " separators):
    # measure the same way, so a planned size is the size sent.
    return len(json.dumps(value))


def _body_size(request_sizes: Sequence[int]) -> int:
    """len(json.dumps({"requests": [...]})) from the sizes of the requests."""
    return len('{"requests": []}') + sum(request_sizes) + 2 * max(0, len(request_sizes) - 1)


def _new_id(title: str, used: set[int]) -> int:
    """A sheet id derived from the title (stable, so request bodies are predictable), moved on
    past ids already taken. Sheet ids are non-negative 31-bit integers."""
    sheet_id = zlib.crc32(title.encode("utf-8")) & 0x7FFFFFFF
    while sheet_id in used:
        sheet_id = (sheet_id + 1) & 0x7FFFFFFF
    used.add(sheet_id)
    return sheet_id
