"""The JSON text of batchUpdate bodies, made piece by piece: each request's own json.dumps,
joined exactly as json.dumps would join them, so that a planned size is the size sent and no
body is ever held as dicts (100,000 rows of cells as dicts cost a gigabyte). A body is ASCII
bytes, joined once from its requests' bytes: sent as bytes it is not copied again on the way
to the socket, and no chain of concatenations holds it twice or thrice while it is made."""

from __future__ import annotations

import contextvars
import json
import math
import mmap
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from json.encoder import encode_basestring_ascii  # the C encoder json.dumps uses for text
from typing import Any, TypeAlias, TypeVar

import structlog

from connectors.sheets.layout import CELL_CHAR_LIMIT, cut, to_hyperlink_formula, to_serial
from sync.base.report import Cell, Link, Table, is_web_url

# A batchUpdate body, ASCII JSON. A memory map goes out as a memoryview of it, never the map
# itself: http.client sends anything with `read()` as a file, from its current position, so a
# retried request (429, a token refresh, a dropped keep-alive) would send an empty body.
Body: TypeAlias = bytes | memoryview
log = structlog.get_logger(__name__)
_T = TypeVar("_T")
_R = TypeVar("_R")
_NO_ROWS = '"rows": []'
_EMPTY = "{}"
_STRING = '{"userEnteredValue":{"stringValue":'
_FORMULA = '{"userEnteredValue":{"formulaValue":'
_NUMBER = '{"userEnteredValue":{"numberValue":'
_TRUE = '{"userEnteredValue":{"boolValue":true}}'
_FALSE = '{"userEnteredValue":{"boolValue":false}}'


def json_later(request: dict[str, Any]) -> Callable[[], str]:
    return lambda: json.dumps(request)


def body_from_makers(requests: Sequence[Callable[[], str]], size: int) -> Body:
    """`body_bytes` of the requests' texts, made one at a time into one buffer of the body's
    planned `size`, an anonymous memory map: the body is never held twice (as pieces and
    joined) while it is made, and its memory goes back to the system when it is let go. From
    malloc, bodies of a few bytes' different sizes, one made while another is sent, leave holes
    in the heap the next body does not fit (about 20 MB more peak RSS at 100,000 items). A size
    planned wrong (a bug) costs making the body again, joined."""
    body = mmap.mmap(-1, max(size, 1))
    at = 0
    for n, make in enumerate(requests):
        piece = (", " if n else '{"requests": [').encode("ascii") + make().encode("ascii")
        if at + len(piece) > size:
            return _planned_wrong(requests, size)
        body[at : at + len(piece)] = piece
        at += len(piece)
    end = b"]}" if requests else b'{"requests": []}'
    if at + len(end) != size:
        return _planned_wrong(requests, size)
    body[at:size] = end
    return memoryview(body)


def _planned_wrong(requests: Sequence[Callable[[], str]], size: int) -> bytes:
    """The body made again, joined, when its planned size was wrong: sent all the same (the
    plan's batches stay under the limit by a margin), and said, since it is a planning bug."""
    body = body_bytes(make() for make in requests)
    log.warning("sheets_body_size_mismatch", planned=size, made=len(body))
    return body


def json_texts(requests: Sequence[dict[str, Any]]) -> list[str]:
    return [json.dumps(r) for r in requests]


def body_bytes(request_texts: Iterable[str]) -> bytes:
    """json.dumps({"requests": [...]}) from each request's own JSON (the same text), as ASCII
    bytes. Each request's text is let go once encoded (given an iterator that makes them)."""
    pieces = [b'{"requests": [']
    for n, text in enumerate(request_texts):
        if n:
            pieces.append(b", ")
        pieces.append(text.encode("ascii"))
    pieces.append(b"]}")
    return b"".join(pieces)


def with_row_texts(frame: str, rows: Sequence[str]) -> str:
    """A request's JSON made with no rows (`frame`), with the rows' JSON put in their place:
    the text json.dumps gives the request with them."""
    head, tail = frame.split(_NO_ROWS, 1)
    return "".join((head, '"rows": [', ", ".join(rows), "]", tail))


def sent_overlapped(
    makers: Sequence[Callable[[], _T]], send: Callable[[_T], _R]
) -> Generator[_R, None, None]:
    """`send` each body of `makers`, in order, yielding the replies: each body is sent on a
    worker thread while the next one is made here. Making a body is CPU, sending it mostly
    waiting on the socket and the API, so the two overlap. At most one body is made ahead (two
    bodies of 8 MB at once), and it is made on this thread: made on the worker, its thousands
    of row texts would fill a malloc arena of that thread's own, which keeps the memory (tens of
    MB more peak RSS at 100,000 items). A body is sent only once the one before it was answered;
    a send's error is raised in order, and once the caller stops (a reply it refused: it closes
    the generator) nothing more is sent. The sends run in this thread's context (log lines
    carry the run's fields)."""
    if not makers:
        return
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sheets-send")
    try:
        ahead = [makers[0]()]  # the one body made and not sent yet
        for n in range(len(makers)):
            # The worker holds the body while it is sent, no longer.
            sending = pool.submit(contextvars.copy_context().run, send, ahead.pop())
            try:
                if n + 1 < len(makers):
                    ahead.append(makers[n + 1]())
            except BaseException:
                sending.result()  # this batch's own failure comes first
                raise
            yield sending.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def json_size(value: Any) -> int:
    # The client serialises bodies with json.dumps' defaults (ASCII escapes, ", " separators):
    # measure the same way, so a planned size is the size sent.
    return len(json.dumps(value))


def body_size(request_sizes: Sequence[int]) -> int:
    """len(json.dumps({"requests": [...]})) from the sizes of the requests."""
    return len('{"requests": []}') + sum(request_sizes) + 2 * max(0, len(request_sizes) - 1)


# --- RowData as JSON text, straight from the cells -----------------------------------------------
# A 100,000-item publish is millions of cells: building each as dicts and json.dumps-ing them cost
# more than the server took to apply them. Each cell kind has its own small function that gives
# the text of one CellData (compact separators: fewer bytes for the API to parse).
# tests/connectors/sheets/test_body.py holds them to the rules written plainly as dicts
# (tests/connectors/sheets/reference_cells.py).


def _text_cell(value: str) -> str:
    # Most text is short ASCII, which cut() leaves as it is: skip its calls then.
    if not (value.isascii() and len(value) <= CELL_CHAR_LIMIT):
        value = cut(value)
    return _STRING + encode_basestring_ascii(value) + "}}"


def _number_cell(value: float) -> str:
    if not math.isfinite(value):  # JSON cannot carry NaN or infinity: the cell stays blank
        return _EMPTY
    # float.__repr__ / int.__repr__ is what json.dumps writes (subclasses included).
    text = float.__repr__(value) if isinstance(value, float) else int.__repr__(value)
    return _NUMBER + text + "}}"


def _link_cell(value: Link) -> str:
    if is_web_url(value.url):
        formula = to_hyperlink_formula(value.url.strip(), value.text)
        if len(formula) <= CELL_CHAR_LIMIT:
            return _FORMULA + encode_basestring_ascii(formula) + "}}"
    return _text_cell(value.text)


def _other_cell(value: Any) -> str:
    if value is None:
        return _EMPTY
    if isinstance(value, Link):
        return _link_cell(value)
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, int | float):
        return _number_cell(value)
    if isinstance(value, date):  # datetime included
        return _date_cell(value)
    return _text_cell(str(value))


def _date_cell(value: date) -> str:
    return _NUMBER + float.__repr__(to_serial(value)) + "}}"


_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: _text_cell,
    float: _number_cell,
    int: _number_cell,
    bool: lambda v: _TRUE if v else _FALSE,
    type(None): lambda v: _EMPTY,
    Link: _link_cell,
    date: _date_cell,
    datetime: _date_cell,
}


def row_json(values: Sequence[Cell]) -> str:
    """A row's RowData (each cell's `userEnteredValue` only: formats come per column) as JSON
    text."""
    get = _BY_TYPE.get
    return '{"values":[' + ",".join([get(type(v), _other_cell)(v) for v in values]) + "]}"


def header_json(table: Table) -> str:
    """The header row (each column's name, as text, uncut: names are short) as JSON text."""
    names = [_STRING + encode_basestring_ascii(c.name) + "}}" for c in table.columns]
    return '{"values":[' + ",".join(names) + "]}"


def iter_row_json(table: Table) -> Iterator[str]:
    """The header and every row of `table` as the JSON text of their RowData."""
    yield header_json(table)
    for row in table.rows:
        yield row_json(row)
