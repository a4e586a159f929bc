"""The one guarded paging loop: follows tokens, refuses a repeated one, bounds the pages, counts
them and reports progress; and dedupe by key (the later copy wins)."""

from __future__ import annotations

import pytest

from sync.base.errors import FatalError
from sync.base.paging import Endpoint, Pages, dedupe_by_key

ENDPOINT = Endpoint("source 'x'", "Acme", "the widgets list", "cursor")


def pages_of(book: dict[str | None, tuple[list[int], str | None]]) -> Pages[str, list[int]]:
    """A server whose page for token t is book[t]: (items, next token)."""
    asked: list[str | None] = []

    def fetch(token: str | None) -> list[int]:
        asked.append(token)
        return book[token][0]

    def following(page: list[int]) -> str | None:
        return book[asked[-1]][1]

    return Pages(fetch, following, endpoint=ENDPOINT, count=len)


def test_follows_tokens_to_the_end_counting_pages_and_reporting_progress() -> None:
    reported: list[tuple[int, int]] = []
    book = {None: ([1, 2], "b"), "b": ([3], "c"), "c": ([4, 5, 6], None)}
    asked: list[str | None] = []

    def fetch(token: str | None) -> list[int]:
        asked.append(token)
        return book[token][0]

    pages = Pages(
        fetch,
        lambda page: book[asked[-1]][1],
        endpoint=ENDPOINT,
        count=len,
        progress=lambda p, n: reported.append((p, n)),
    )
    assert [x for page in pages for x in page] == [1, 2, 3, 4, 5, 6]
    assert asked == [None, "b", "c"]
    assert pages.pages == 3 and pages.items == 6
    assert reported == [(1, 2), (1, 1), (1, 3)]


def test_a_repeated_token_is_refused_naming_the_endpoint() -> None:
    pages = pages_of({None: ([1], "a"), "a": ([2], "b"), "b": ([3], "a")})
    with pytest.raises(FatalError) as info:
        list(pages)
    message = str(info.value)
    assert "source 'x': Acme answered the same cursor twice while paging the widgets list" in (
        message
    )
    assert "stopped instead of looping" in message and "(read 3 items)" in message
    assert pages.pages == 3  # the repeated token is never asked for


def test_a_token_is_compared_by_its_key() -> None:
    asked: list[str | None] = []
    following = {None: "/x?b=1&a=2", "/x?b=1&a=2": "/x?a=2&b=1"}

    def fetch(token: str | None) -> str | None:
        asked.append(token)
        return token

    pages = Pages(
        fetch,
        lambda page: following.get(page),
        endpoint=ENDPOINT,
        key=lambda url: "&".join(sorted(url.split("?")[1].split("&"))),
    )
    with pytest.raises(FatalError, match="same cursor twice"):
        list(pages)
    assert asked == [None, "/x?b=1&a=2"]


def test_the_first_token_counts_as_seen() -> None:
    pages = Pages(lambda t: t, lambda page: "/start", endpoint=ENDPOINT, first="/start")
    with pytest.raises(FatalError, match="twice"):
        list(pages)
    assert pages.pages == 1


def test_the_number_of_pages_is_bounded() -> None:
    counter = iter(range(1000))
    pages = Pages(lambda t: next(counter), lambda page: f"t{page}", endpoint=ENDPOINT, max_pages=5)
    with pytest.raises(FatalError, match="more than 5 pages while paging the widgets list"):
        list(pages)
    assert pages.pages == 5


def test_following_is_read_after_the_loop_body_and_a_break_stops_asking() -> None:
    asked: list[str | None] = []
    seen_by_body: list[str] = []

    def fetch(token: str | None) -> str:
        asked.append(token)
        return f"page{len(asked)}"

    pages = Pages(fetch, lambda page: seen_by_body[-1] + "!", endpoint=ENDPOINT)
    for page in pages:
        seen_by_body.append(page)  # what `following` reads
        if len(seen_by_body) == 3:
            break
    assert asked == [None, "page1!", "page2!"]


def test_dedupe_by_key_keeps_the_later_copy_in_its_place() -> None:
    rows = [("a", 1), ("b", 1), ("a", 2), ("c", 1)]
    assert dedupe_by_key(rows, key=lambda r: r[0]) == [("b", 1), ("a", 2), ("c", 1)]
    assert dedupe_by_key([], key=str) == []
