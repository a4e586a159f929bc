"""The JSON text of batchUpdate bodies, made piece by piece: each request's own json.dumps,
joined exactly as json.dumps would join them, so that a planned size is the size sent and no
body is ever held as dicts (100,000 rows of cells as dicts cost a gigabyte)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from connectors.sheets_layout import to_fill_cells

if TYPE_CHECKING:
    from connectors.sheets_plan import _Tab

_NO_ROWS = '"rows": []'


def json_later(request: dict[str, Any]) -> Callable[[], str]:
    return lambda: json.dumps(request)


def body_from_makers(requests: Sequence[Callable[[], str]]) -> str:
    return body_text([make() for make in requests])


def json_texts(requests: Sequence[dict[str, Any]]) -> list[str]:
    return [json.dumps(r) for r in requests]


def body_text(request_texts: Sequence[str]) -> str:
    """json.dumps({"requests": [...]}) from each request's own json.dumps (the same text)."""
    return '{"requests": [' + ", ".join(request_texts) + "]}"


def with_row_texts(frame: str, rows: Sequence[str]) -> str:
    """A request's JSON made with no rows (`frame`), with the rows' JSON put in their place:
    the text json.dumps gives the request with them."""
    head, tail = frame.split(_NO_ROWS, 1)
    return head + '"rows": [' + ", ".join(rows) + "]" + tail


def fill_chunks(sheet_id: int, tab: _Tab, limit: int) -> list[tuple[Callable[[], str], int]]:
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


def fill_request(sheet_id: int, tab: _Tab, start: int, end: int) -> str:
    frame = json.dumps(to_fill_cells(sheet_id, start, []))
    return with_row_texts(frame, tab.row_texts(start, end))


def json_size(value: Any) -> int:
    # The client serialises bodies with json.dumps' defaults (ASCII escapes, ", " separators):
    # measure the same way, so a planned size is the size sent.
    return len(json.dumps(value))


def body_size(request_sizes: Sequence[int]) -> int:
    """len(json.dumps({"requests": [...]})) from the sizes of the requests."""
    return len('{"requests": []}') + sum(request_sizes) + 2 * max(0, len(request_sizes) - 1)
