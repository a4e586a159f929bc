"""The fast RowData encoder (connectors.sheets.body) against the cell rules written plainly as
dicts (reference_cells.to_cell): the JSON text it makes parses to exactly those dicts."""

from __future__ import annotations

import functools
import json
import math
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import structlog
import structlog.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.sheets.body import (
    body_bytes,
    body_from_makers,
    header_json,
    iter_row_json,
    row_json,
    sent_overlapped,
)
from connectors.sheets.layout import CELL_CHAR_LIMIT
from sync.base.report import Cell, Column, Link, Table
from tests.connectors.sheets.reference_cells import iter_rows, to_cell, to_row_data


def cell_json(value: Cell) -> str:
    """One cell's text as the shipped encoder writes it inside a row."""
    return row_json([value])[len('{"values":[') : -len("]}")]


# Any code point, lone surrogates included (a title cut in UTF-16 holds one).
_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=40)
_QUOTED = st.text(alphabet='"\\=+-@<>&\n\t\u2028é😀\ud83d\udc00ab', max_size=30)
_LONG = st.builds(
    lambda c, n, tail: c * n + tail,
    st.sampled_from(["a", "é", "😀", '"', "\ud800"]),
    st.integers(CELL_CHAR_LIMIT - 3, CELL_CHAR_LIMIT + 3),
    st.text(max_size=3),
)
_STRINGS = st.one_of(_TEXT, _QUOTED, _LONG)
_URLS = st.one_of(
    st.builds(
        lambda s, t: s + t, st.sampled_from(["https://", " HTTP://", "javascript:", ""]), _STRINGS
    ),
    st.builds(lambda n: "https://x/" + "a" * n, st.integers(CELL_CHAR_LIMIT - 40, CELL_CHAR_LIMIT)),
)


class _Int(int):
    pass


class _Float(float):
    pass


_CELLS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    _STRINGS,
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.builds(_Int, st.integers(-1000, 1000)),
    st.builds(_Float, st.floats()),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(timezone(timedelta(hours=-5)))),
    st.builds(Link, _URLS, _STRINGS),
)


@settings(max_examples=400, deadline=None)  # long strings, on a shared machine
@given(_CELLS)
def test_a_cell_is_the_json_of_what_to_cell_gives(value: Any) -> None:
    # The very text json.dumps made of to_cell's dict, with compact separators: what the API
    # parses is unchanged (a surrogate pair split in two code points included).
    assert cell_json(value) == json.dumps(to_cell(value), separators=(",", ":"))


@settings(deadline=None)
@given(st.lists(_CELLS, max_size=12))
def test_a_row_parses_to_what_to_row_data_gives(values: list[Any]) -> None:
    text = row_json(values)
    assert text == json.dumps(to_row_data(values), separators=(",", ":"))
    assert text.isascii()  # the body is sent as ASCII, its size measured in characters


def test_kinds_of_cell_are_exact() -> None:
    assert cell_json(None) == "{}"
    assert cell_json(math.nan) == "{}" and cell_json(-math.inf) == "{}"
    assert json.loads(cell_json(True)) == {"userEnteredValue": {"boolValue": True}}
    assert json.loads(cell_json(date(2024, 1, 2))) == {"userEnteredValue": {"numberValue": 45293.0}}
    assert json.loads(cell_json(datetime(2024, 1, 2, 12))) == {
        "userEnteredValue": {"numberValue": 45293.5}
    }
    link = json.loads(cell_json(Link('https://x/?a="b"', 'say "hi"')))
    assert link == {
        "userEnteredValue": {"formulaValue": '=HYPERLINK("https://x/?a=""b""","say ""hi""")'}
    }
    assert json.loads(cell_json(Link("javascript:alert(1)", "=1+1"))) == {
        "userEnteredValue": {"stringValue": "=1+1"}
    }
    long = json.loads(cell_json("x" * (CELL_CHAR_LIMIT + 5)))["userEnteredValue"]["stringValue"]
    assert len(long) == CELL_CHAR_LIMIT and long.endswith("…")
    assert json.loads(cell_json("a\ud83db")) == {"userEnteredValue": {"stringValue": "a\ufffdb"}}


@given(st.lists(st.sampled_from(["Key", 'Title "q"', "Üben", "😀"]), min_size=1, max_size=5))
def test_header_and_rows_parse_to_iter_rows(names: list[str]) -> None:
    table = Table(
        "Items",
        tuple(Column(n) for n in names),
        [tuple(f"{n}{i}" for n in names) for i in range(3)],
    )
    assert header_json(table) == json.dumps(next(iter_rows(table)), separators=(",", ":"))
    assert [json.loads(t) for t in iter_row_json(table)] == list(iter_rows(table))


def test_each_body_is_sent_while_the_next_is_made() -> None:
    events: list[str] = []
    answered = threading.Event()
    main = threading.get_ident()

    def maker(n: int) -> Callable[[], str]:
        def make() -> str:
            assert threading.get_ident() == main  # made here, never on the worker
            events.append(f"made {n}")
            if n == 2:
                answered.set()  # let body 1's send finish only once body 2 is being made
            return f"body {n}"

        return make

    def send(body: str) -> str:
        if body == "body 1":
            assert answered.wait(5)
        events.append(f"sent {body[-1]}")
        return body.replace("body", "reply")

    replies = sent_overlapped([maker(n) for n in range(4)], send)
    assert next(replies) == "reply 0"
    # Body 1 was made while body 0 was in flight; nothing was made two ahead.
    assert events == ["made 0", "made 1", "sent 0"] or events == ["made 0", "sent 0", "made 1"]
    assert list(replies) == ["reply 1", "reply 2", "reply 3"]
    assert events.index("made 2") < events.index("sent 1")  # overlapped
    assert events.index("sent 1") < events.index("made 3")  # one ahead at most
    assert [e for e in events if e.startswith("sent")] == ["sent 0", "sent 1", "sent 2", "sent 3"]


def test_a_failed_send_or_a_refused_reply_sends_nothing_more() -> None:
    sent: list[int] = []

    def send(n: int) -> int:
        if n == 1:
            raise ValueError("batch 1 refused")
        sent.append(n)
        return n

    makers = [functools.partial(int, n) for n in range(5)]
    with closing(sent_overlapped(makers, send)) as replies:
        assert next(replies) == 0
        with pytest.raises(ValueError, match="batch 1"):
            next(replies)
    assert sent == [0]

    sent.clear()

    def record(n: int) -> int:
        sent.append(n)
        return n

    with closing(sent_overlapped(makers[::2], record)) as replies:
        assert next(replies) == 0  # the caller refuses this reply, and stops
    time.sleep(0.05)
    assert sent == [0]


def test_a_send_failure_comes_before_a_failure_to_make_the_next_body() -> None:
    def make_bad() -> int:
        raise RuntimeError("no body")

    def send(n: int) -> int:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        list(sent_overlapped([functools.partial(int, 0), make_bad], send))


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_body_made_into_its_planned_buffer_is_the_joined_body(count: int) -> None:
    makers = [functools.partial(json.dumps, {"n": n, "s": "é" * n}) for n in range(count)]
    want = body_bytes(make() for make in makers)
    assert json.loads(want) == {"requests": [{"n": n, "s": "é" * n} for n in range(count)]}
    for size in (0, len(want) - 3, len(want), len(want) + 9):  # a plan wrong either way too
        with structlog.testing.capture_logs() as logs:
            assert bytes(body_from_makers(makers, size)) == want
        said = [e["event"] for e in logs]
        assert said == ([] if size == len(want) else ["sheets_body_size_mismatch"])
