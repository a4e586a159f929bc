"""How one publish reaches the sheet: the `batchUpdate` bodies, planned from what the sheet holds.
Pure: the sink reads the sheet, this plans, the sink sends.

While every change fits one body under the limit (8 MB; the API refuses about 10 MB), the plan is
one batch, which the API applies atomically. Otherwise the biggest tables are staged: hidden
staging tabs are filled in batches under the limit, and one final batch (small: formats and a
server-side copyPaste) swaps their contents into the live tabs, so readers never see half a table.
The live tabs keep their sheet ids, so other tabs' formulas and charts that point at them keep
working. A tab the sheet does not have yet is staged under its own new sheet id, and the final
batch makes that staging tab the tab (renamed, shown): its cells are never copied a second time.
Only the owned tabs (sync.base.report.TAB_NAMES) and goalsync's own staging tabs are ever named
in a request.

Given a `salt` (the sink gives the day of the run), each written tab is marked with developer
metadata holding a fingerprint of its table, and a tab whose mark and grid already match this
run's table is left out of the publish: an unchanged run rewrites the small tabs that change
every run (Status, Run), not the 30 MB of Items nobody touched. The day in the fingerprint makes
the first publish of each day rewrite every tab, which also repairs a hand edit of an owned tab.
"""

from __future__ import annotations

import functools
import hashlib
import json
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.sheets.body import (
    Body,
    body_bytes,
    body_from_makers,
    body_size,
    json_later,
    json_size,
    json_texts,
)
from connectors.sheets.layout import GRID_CELL_LIMIT, Grid, grid_for, to_sheet_properties
from connectors.sheets.shapes import SPREADSHEET, checked
from connectors.sheets.tab import FINGERPRINT_KEY as FINGERPRINT_KEY  # still named from here
from connectors.sheets.tab import Tab, fill_chunks
from sync.base.errors import PublishError
from sync.base.report import TAB_NAMES, TRENDS_TAB, Cell, HistoryRow, Table

BODY_LIMIT = 8_000_000  # bytes of JSON per batchUpdate; the API's own limit is 10,485,760
CHUNK_LIMIT = 1_000_000  # bytes per updateCells request while filling a staging tab
STAGING_PREFIX = "goalsync staging "
# What the sink asks spreadsheets.get for: sheet properties, how many conditional format rules
# each sheet has (to delete them before adding ours) and its developer metadata (the fingerprint
# of what goalsync wrote there) and the ids of its charts (the Trends tab's are replaced), never
# cell data.
SHEET_FIELDS = (
    "sheets(properties(sheetId,title,hidden,gridProperties(rowCount,columnCount)),"
    "conditionalFormats(ranges(sheetId)),developerMetadata(metadataId,metadataKey,metadataValue),"
    "charts(chartId))"
)
FINGERPRINT_VERSION = "1"  # bump when the cells written for the same table change
# Tabs that came after the fingerprint mark: every one goalsync wrote carries it, so one without
# it is someone's own tab of that name, which a publish must not overwrite.
MARKED_SINCE_FIRST = frozenset({TRENDS_TAB})


@dataclass(frozen=True, slots=True)
class SheetInfo:
    sheet_id: int
    title: str
    rows: int
    columns: int
    rules: int = 0  # conditional format rules on the sheet
    hidden: bool = False
    fingerprint: str | None = None  # what goalsync last wrote here (its developer metadata)
    fingerprint_id: int | None = None  # that metadata's id
    charts: tuple[int, ...] = ()  # ids of the charts on the sheet

    @property
    def cells(self) -> int:
        return self.rows * self.columns


Batch = list[dict[str, Any]]


@dataclass(slots=True)
class WritePlan:
    """The batches of a publish as their JSON bodies, each made when it is sent: the cells of a
    100,000-row publish as dicts take over 700 MB. A body is made straight from the table, row
    by row (the rows were measured the same way when the plan was made)."""

    parts: list[Callable[[], Body]] = field(default_factory=list)  # each makes one body
    sizes: list[int] = field(default_factory=list)  # bytes of each batch's JSON body
    staged: list[str] = field(default_factory=list)  # tabs that go through staging
    added: list[str] = field(default_factory=list)  # owned tabs the sheet did not have
    unchanged: list[str] = field(default_factory=list)  # tabs left out: they show this already
    cells: int = 0  # cells of the whole spreadsheet after the publish

    @property
    def batches(self) -> list[Batch]:
        """Every batch's requests, made now (a look at the whole plan; sending uses `parts`)."""
        return [json.loads(bytes(make()))["requests"] for make in self.parts]


def parse_sheets(reply: Mapping[str, Any]) -> list[SheetInfo]:
    """spreadsheets.get (with SHEET_FIELDS) -> the sheets. The API leaves out zero and false
    values (sheetId 0, hidden false), hence the defaults. A reply of another shape (no
    `sheets` list, a title that is not text) raises FatalError: planned from it, a publish would
    add tabs that exist or drop marks it cannot read."""
    checked(SPREADSHEET, reply, who="Google Sheets", what="spreadsheets.get")
    sheets = []
    for sheet in reply.get("sheets") or []:
        props = sheet.get("properties") or {}
        grid = props.get("gridProperties") or {}
        marks = [
            m
            for m in sheet.get("developerMetadata") or []
            if m.get("metadataKey") == FINGERPRINT_KEY
        ]
        mark: Mapping[str, Any] = marks[0] if marks else {}
        sheets.append(
            SheetInfo(
                sheet_id=int(props.get("sheetId", 0)),
                title=str(props.get("title", "")),
                rows=int(grid.get("rowCount", 0)),
                columns=int(grid.get("columnCount", 0)),
                rules=len(sheet.get("conditionalFormats") or []),
                hidden=bool(props.get("hidden", False)),
                fingerprint=mark.get("metadataValue"),
                fingerprint_id=mark.get("metadataId"),
                charts=tuple(int(c.get("chartId", 0)) for c in sheet.get("charts") or []),
            )
        )
    return sheets


def find_tab(sheets: Sequence[SheetInfo], title: str) -> SheetInfo | None:
    """Sheets refuses two tabs whose names differ only in case, so a match ignores case."""
    wanted = title.casefold()
    return next((s for s in sheets if s.title.casefold() == wanted), None)


def merge_history(
    table: Table, remote: Sequence[HistoryRow], verbatim: Sequence[tuple[Cell, ...]] = ()
) -> Table:
    """The History tab upserted by (date, ID): this run's rows replace the tab's rows of the same
    key, the tab's other rows stay (a rerun on the same day never adds). Rows goalsync could not
    read are kept as they were, after the others: the tab is rewritten whole, and a row typed by
    a person must not vanish."""
    ours = {(row[0], row[1]) for row in table.rows}
    kept: list[tuple[Cell, ...]] = [
        (h.date, h.id, h.value, h.progress, h.expected, h.status)
        for h in remote
        if (h.date, h.id) not in ours
    ]
    rows = sorted([*table.rows, *kept], key=lambda r: (str(r[0]), str(r[1])))
    return Table(table.name, table.columns, [*rows, *verbatim])


def fingerprint(table: Table, salt: str) -> str:
    """What a tab shows, in 32 hex digits: its name, columns and rows, and `salt`."""
    digest = hashlib.sha256(
        f"{FINGERPRINT_VERSION}\n{salt}\n{table.name}\n{table.columns!r}\n".encode()
    )
    for row in table.rows:
        digest.update(repr(row).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:32]


def to_write_plan(
    tables: Sequence[Table],
    sheets: Sequence[SheetInfo],
    *,
    body_limit: int = BODY_LIMIT,
    chunk_limit: int = CHUNK_LIMIT,
    salt: str | None = None,
) -> WritePlan:
    """The batches of one publish. With a `salt`, tabs are marked with their fingerprint and a
    tab already showing this run's table (same fingerprint, same grid) is left out."""
    for table in tables:
        if table.name not in TAB_NAMES:
            raise PublishError(f"{table.name!r} is not a tab goalsync owns; not written")
    used = {s.sheet_id for s in sheets}
    leftovers = [s for s in sheets if s.title.startswith(STAGING_PREFIX)]
    plan = WritePlan()
    tabs: list[Tab] = []
    for table in tables:
        existing = find_tab(sheets, table.name)
        unmarked = existing is not None and existing.fingerprint is None
        if salt is not None and unmarked and table.name in MARKED_SINCE_FIRST:
            raise PublishError(
                f"the tab {table.name!r} was not written by goalsync (it has no goalsync mark), "
                f"and goalsync writes its {table.name} tab there: rename that tab to keep it; "
                "nothing was published"
            )
        sheet_id = existing.sheet_id if existing else _new_id(table.name, used)
        if existing is None:
            plan.added.append(table.name)
        grid = grid_for(table)
        mark = fingerprint(table, salt) if salt is not None else None
        if mark is not None and existing is not None and _shows(existing, grid, mark):
            plan.unchanged.append(table.name)
            mark = None  # nothing is written to this tab, its mark included
        tabs.append(Tab(table, sheet_id, grid, existing, mark, table.name in plan.unchanged))
    # Chart ids are the spreadsheet's embedded-object ids: a new one must not be taken anywhere.
    objects = used | {c for s in sheets for c in s.charts}  # used: the sheet ids, new ones too
    for tab in tabs:
        tab.taken = objects - set(tab.existing.charts if tab.existing else ())
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
    tabs = [t for t in tabs if not t.unchanged]
    for tab in tabs:
        tab.measure()
    single = body_size(
        [json_size(r) for r in cleanup] + [size for tab in tabs for size in tab.request_sizes()]
    )
    if single <= body_limit:
        if cleanup or tabs:  # nothing to send when every tab shows this run's table already

            def body() -> bytes:
                texts = json_texts(cleanup)
                for tab in tabs:
                    texts += tab.final_texts()
                return body_bytes(texts)

            plan.parts, plan.sizes = [body], [single]
        return plan
    count = len(sheets) - len(leftovers)  # the sheets once the leftovers are gone
    _plan_staged(plan, tabs, cleanup, used, others, count, body_limit, chunk_limit)
    return plan


def _shows(existing: SheetInfo, grid: Grid, mark: str) -> bool:
    """The tab already holds the table whose fingerprint is `mark`, at its grid size."""
    return (
        existing.fingerprint == mark
        and existing.rows == grid.rows
        and existing.columns == grid.columns
    )


def _plan_staged(
    plan: WritePlan,
    tabs: list[Tab],
    cleanup: list[dict[str, Any]],
    used: set[int],
    others: int,
    count: int,
    body_limit: int,
    chunk_limit: int,
) -> None:
    """Stage the biggest tables until the final batch (frames, the unstaged tables' cells and a
    copyPaste per staged live table) fits the limit. `count`: the sheets there are, without
    goalsync's leftover staging tabs.

    A staged table whose tab the sheet does not have yet is filled in a hidden staging tab that
    has the new tab's sheet id, and the final batch renames, shows and moves it (`promote`):
    until then no new tab is visible, and a failure leaves only a hidden staging tab, which the
    next publish removes. A live tab keeps its sheet id (people's links and formulas name it),
    so its staging tab is copied into it server-side and deleted."""
    staged: dict[str, int] = {}  # tab name -> staging sheet id

    def final_size() -> int:
        moves = _promotions(tabs, staged, count)
        sizes = [
            n
            for tab in tabs
            for n in tab.request_sizes(staged.get(tab.table.name), moves.get(tab.table.name, 0))
        ]
        sizes += [json_size({"deleteSheet": {"sheetId": i}}) for i in _swapped(tabs, staged)]
        return body_size(sizes)

    for tab in sorted(tabs, key=lambda t: t.content_size, reverse=True):
        if final_size() <= body_limit:
            break
        staged[tab.table.name] = (
            tab.sheet_id  # a new tab: its own id, so the filled staging tab becomes it
            if tab.existing is None
            else _new_id(STAGING_PREFIX + tab.table.name, used)
        )
    if final_size() > body_limit:
        raise PublishError("the formats of the status tabs alone pass the request size limit")
    peak = others + sum(max(t.grid.cells, t.existing.cells if t.existing else 0) for t in tabs)
    peak += sum(t.grid.cells for t in tabs if t.table.name in staged and t.existing)
    if peak > GRID_CELL_LIMIT:
        raise PublishError(
            f"staging this publish needs {peak:,} cells at its peak (the live tabs and "
            "their staging copies), more than the 10,000,000 a spreadsheet holds; nothing was "
            "sent. Narrow the scope, or use a spreadsheet of its own for the status"
        )
    batch: list[Callable[[], str]] = [json_later(r) for r in cleanup]  # requests' makers
    sizes: list[int] = [json_size(r) for r in cleanup]
    for tab in tabs:
        if tab.table.name in staged:
            title = STAGING_PREFIX + tab.table.name
            props = to_sheet_properties(staged[tab.table.name], title, tab.grid, hidden=True)
            add = {"addSheet": {"properties": props}}
            batch.append(json_later(add))
            sizes.append(json_size(add))
    # A chunk never fills more than half a body, so batches stay well packed.
    chunk_limit = min(chunk_limit, body_limit // 2)
    for tab in tabs:
        if tab.table.name not in staged:
            continue
        for request, size in fill_chunks(staged[tab.table.name], tab, chunk_limit):
            if body_size([size]) > body_limit:
                raise PublishError(
                    f"a row of {tab.table.name} alone passes the request size limit "
                    f"({size:,} bytes); nothing was sent"
                )
            if body_size([*sizes, size]) > body_limit:
                plan.parts.append(functools.partial(body_from_makers, batch, body_size(sizes)))
                plan.sizes.append(body_size(sizes))
                batch, sizes = [], []
            batch.append(request)
            sizes.append(size)
    plan.parts.append(functools.partial(body_from_makers, batch, body_size(sizes)))
    plan.sizes.append(body_size(sizes))

    def final() -> bytes:
        moves = _promotions(tabs, staged, count)
        texts: list[str] = []
        for tab in tabs:
            name = tab.table.name
            texts += tab.final_texts(staged.get(name), moves.get(name, 0))
        deletes = [{"deleteSheet": {"sheetId": i}} for i in _swapped(tabs, staged)]
        return body_bytes(texts + json_texts(deletes))

    plan.parts.append(final)
    plan.sizes.append(final_size())
    plan.staged = list(staged)


def _swapped(tabs: Sequence[Tab], staged: Mapping[str, int]) -> list[int]:
    """The staging tabs copied into live tabs, deleted at the end of the final batch."""
    return [staged[t.table.name] for t in tabs if t.table.name in staged and t.existing]


def _promotions(tabs: Sequence[Tab], staged: Mapping[str, int], count: int) -> dict[str, int]:
    """The index each staged new tab is moved to in the final batch: the end of the tab list,
    where addSheet would have put it then (each new unstaged tab before it was added there).
    `count` is the number of sheets before the final batch, less its staging tabs. The API
    counts a move's index before the move, so moving a tab to the end is the sheet count."""
    count += len(staged)  # the staging tabs are there until the final batch's end
    moves: dict[str, int] = {}
    for tab in tabs:
        if tab.existing is None:
            if tab.table.name in staged:
                moves[tab.table.name] = count
            else:
                count += 1
    return moves


def _new_id(title: str, used: set[int]) -> int:
    """A sheet id derived from the title (stable, so request bodies are predictable), moved on
    past ids already taken. Sheet ids are non-negative 31-bit integers."""
    sheet_id = zlib.crc32(title.encode("utf-8")) & 0x7FFFFFFF
    while sheet_id in used:
        sheet_id = (sheet_id + 1) & 0x7FFFFFFF
    used.add(sheet_id)
    return sheet_id
