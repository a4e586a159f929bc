"""One tab's part of a publish (`Tab`): its rows' JSON sizes, its requests in the final batch
(made at its size, written or swapped from staging, formats, charts, fingerprint mark) and the
updateCells requests that fill its staging tab. Apart from `batches`, which plans how the tabs of
a publish are split into bodies, so that each module stays a size one can read.
"""

from __future__ import annotations

import functools
import json
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.sheets.body import (
    header_json,
    iter_row_json,
    json_size,
    json_texts,
    row_json,
    with_row_texts,
)
from connectors.sheets.layout import (
    Grid,
    grid_range,
    to_clear_cells,
    to_fill_cells,
    to_format_requests,
    to_resize,
    to_sheet_properties,
    to_trend_charts,
    to_write_cells,
)
from sync.base.report import TRENDS_TAB, Table

if TYPE_CHECKING:
    # Only an annotation here: batches imports this module, so a run-time import would be a cycle.
    from connectors.sheets.batches import SheetInfo

FINGERPRINT_KEY = "goalsync.content"  # developer metadata: what goalsync last wrote in a tab


@dataclass(slots=True)
class Tab:
    table: Table
    sheet_id: int
    grid: Grid
    existing: SheetInfo | None
    mark: str | None = None  # the fingerprint to leave on the tab, if any
    unchanged: bool = False  # it shows this table already: left out, its cells never built
    taken: set[int] = field(default_factory=set)  # embedded-object ids held elsewhere (charts)
    # Of each row's JSON, header first; an array (4 bytes a row, not a 36-byte int object).
    row_sizes: array[int] = field(default_factory=lambda: array("L"))
    frame_sizes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.unchanged:
            # One row's JSON at a time, measured and dropped: it is made again when the body
            # that carries it is made (kept, 100,000 items' rows are over 100 MB of text).
            self.row_sizes = array("L", map(len, iter_row_json(self.table)))

    def row_texts(self, start: int = 0, end: int | None = None) -> list[str]:
        """Rows `start` to `end` (0 is the header) as the JSON of their RowData."""
        end = len(self.row_sizes) if end is None else end
        rows = self.table.rows
        texts = [row_json(rows[i - 1]) for i in range(max(start, 1), end)]
        return [header_json(self.table), *texts] if start == 0 and end > 0 else texts

    def measure(self) -> None:
        self.frame_sizes = [json_size(r) for r in self.frame()]

    @property
    def content_size(self) -> int:
        """The size of `write()`'s JSON, from the rows' sizes (each row is serialised once)."""
        frame = json_size(to_write_cells(self.sheet_id, self.grid, []))
        return frame + sum(self.row_sizes) + 2 * max(0, len(self.row_sizes) - 1)

    def request_sizes(self, staging_id: int | None = None, index: int = 0) -> list[int]:
        """Sizes of this tab's requests in the final batch (`final_texts`)."""
        if staging_id is None:
            return [*self.frame_sizes, self.content_size]
        if self.existing is None:
            return [json_size(r) for r in (self.promote(index), *self.formats())]
        return [*self.frame_sizes, *(json_size(r) for r in self.swap(staging_id))]

    def final_texts(self, staging_id: int | None = None, index: int = 0) -> list[str]:
        """This tab's requests in the final batch, as JSON: unstaged, the tab made at its size,
        every cell written, its formats; staged in a new tab, that tab made the live one
        (`promote`, to `index`), then its formats; staged in a live tab, the swap."""
        if staging_id is None:
            return [*json_texts(self.prelude()), self.write(), *json_texts(self.formats())]
        if self.existing is None:
            return json_texts([self.promote(index), *self.formats()])
        return json_texts([*self.prelude(), *self.swap(staging_id), *self.formats()])

    def promote(self, index: int) -> dict[str, Any]:
        """The filled staging tab of a tab the sheet does not have yet becomes that tab: no
        second copy of its cells. It has the tab's own new sheet id already
        (`batches._plan_staged`), so its formats and mark name that id, as they would a tab added
        in this batch."""
        return {
            "updateSheetProperties": {
                "properties": {
                    "sheetId": self.sheet_id,
                    "title": self.table.name,
                    "hidden": False,
                    "index": index,
                    "gridProperties": {"frozenRowCount": 1},
                },
                "fields": "title,hidden,index,gridProperties.frozenRowCount",
            }
        }

    def write(self) -> str:
        """The JSON of the request that writes every cell of the tab."""
        frame = json.dumps(to_write_cells(self.sheet_id, self.grid, []))
        return with_row_texts(frame, self.row_texts())

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
        """Make the tab exist at its new size, without the conditional formats of last time
        (nor the charts it no longer shows, on the Trends tab)."""
        if self.existing is None:
            props = to_sheet_properties(self.sheet_id, self.table.name, self.grid, hidden=False)
            return [{"addSheet": {"properties": props}}]
        # Deleting index 0 n times: each deletion shifts the remaining rules down by one.
        deletes = [
            {"deleteConditionalFormatRule": {"sheetId": self.sheet_id, "index": 0}}
        ] * self.existing.rules
        return [*self.charts()[0], *deletes, to_resize(self.sheet_id, self.grid)]

    def formats(self) -> list[dict[str, Any]]:
        """The tab's formats, its charts (Trends), and (last) its fingerprint mark."""
        requests = to_format_requests(self.sheet_id, self.table, self.grid)
        return [*requests, *self.charts()[1], *self.marking()]

    def charts(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(deletions, additions and updates) of the Trends tab's charts; none elsewhere."""
        if self.table.name != TRENDS_TAB:
            return [], []
        existing = self.existing.charts if self.existing else ()
        return to_trend_charts(self.sheet_id, self.table, existing, set(self.taken))

    def marking(self) -> list[dict[str, Any]]:
        if self.mark is None:
            return []
        metadata_id = self.existing.fingerprint_id if self.existing else None
        if metadata_id is not None:
            return [
                {
                    "updateDeveloperMetadata": {
                        "dataFilters": [{"developerMetadataLookup": {"metadataId": metadata_id}}],
                        "developerMetadata": {"metadataValue": self.mark},
                        "fields": "metadataValue",
                    }
                }
            ]
        return [
            {
                "createDeveloperMetadata": {
                    "developerMetadata": {
                        "metadataKey": FINGERPRINT_KEY,
                        "metadataValue": self.mark,
                        "location": {"sheetId": self.sheet_id},
                        "visibility": "DOCUMENT",
                    }
                }
            }
        ]

    def frame(self) -> list[dict[str, Any]]:
        return [*self.prelude(), *self.formats()]


def fill_chunks(sheet_id: int, tab: Tab, limit: int) -> list[tuple[Callable[[], str], int]]:
    """updateCells requests of consecutive rows of `tab`, each about `limit` bytes, with their
    sizes; each request's JSON is made when its batch is."""
    out: list[tuple[Callable[[], str], int]] = []
    row_sizes = tab.row_sizes
    start = 0
    while start < len(row_sizes):
        end, total = start, 0
        while end < len(row_sizes) and (end == start or total + row_sizes[end] + 2 <= limit):
            total += row_sizes[end] + (2 if end > start else 0)
            end += 1
        request = functools.partial(fill_request, sheet_id, tab, start, end)
        # The request's JSON is its frame (with an empty list) plus the rows and separators.
        size = json_size(to_fill_cells(sheet_id, start, [])) + total
        out.append((request, size))
        start = end
    return out


def fill_request(sheet_id: int, tab: Tab, start: int, end: int) -> str:
    frame = json.dumps(to_fill_cells(sheet_id, start, []))
    return with_row_texts(frame, tab.row_texts(start, end))
