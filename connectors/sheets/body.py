"""The JSON text of batchUpdate bodies, made piece by piece: each request's own json.dumps,
joined exactly as json.dumps would join them, so that a planned size is the size sent and no
body is ever held as dicts (100,000 rows of cells as dicts cost a gigabyte)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

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


def json_size(value: Any) -> int:
    # The client serialises bodies with json.dumps' defaults (ASCII escapes, ", " separators):
    # measure the same way, so a planned size is the size sent.
    return len(json.dumps(value))


def body_size(request_sizes: Sequence[int]) -> int:
    """len(json.dumps({"requests": [...]})) from the sizes of the requests."""
    return len('{"requests": []}') + sum(request_sizes) + 2 * max(0, len(request_sizes) - 1)
