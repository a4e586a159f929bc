"""The one guarded paging loop every connector's list reads go through.

An API hands out a list a page at a time, each page saying how to ask for the next (a
`nextPageToken`, a `startAt` offset, a Link rel="next" URL). Trusting that blindly is how a run
hangs: a server that answers the same token twice would be asked for ever. So the loop here
follows the tokens, refuses one it has seen before (a FatalError naming the endpoint), stops at a
bound on the number of pages, counts the pages it asked for and reports each one's items to the
progress callback. Each API keeps only how a page is asked for and how its next token is read.

Also here: `read_concurrently`, which reads several such lists at once (each list's own chain
stays one page after another) and hands their pages to the caller's thread; and `dedupe_by_key`,
because paging is what produces duplicates (an item edited while
its list is read can come again on a later page). Bottom of the project: imports only `errors`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from sync.base.errors import FatalError

Token = TypeVar("Token")
Page = TypeVar("Page")
T = TypeVar("T")

MAX_PAGES = 100_000  # a guard against a server that never says "last page"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What is being paged, for the messages: `<who>: <server> answered the same <marker> twice
    while paging <name>`."""

    who: str  # "source 'jira'"
    server: str  # "Jira", "GitHub"
    name: str  # "'project = PAY ORDER BY key ASC'", "changelog bulkfetch", "repo acme/web issues"
    marker: str = "page token"  # what the API calls it: "nextPageToken", "startAt", "page"


def _same(token: Hashable) -> Hashable:
    return token


class Pages(Generic[Token, Page]):
    """Iterate the pages of one list: `fetch(None)` (or `fetch(first)`) asks for the first, then
    `following(page)` reads the next token from a page, None at the end. `following` is called
    only after the caller's loop body has handled the page, so it may read what the body learnt
    (a caller that stops early simply breaks out of the loop). After each page, `count(page)`
    items are reported to `progress` as one page.

    A token seen before (by `key`, which spells a token one way) raises FatalError, as does a
    list longer than `max_pages`."""

    def __init__(
        self,
        fetch: Callable[[Token | None], Page],
        following: Callable[[Page], Token | None],
        *,
        endpoint: Endpoint,
        first: Token | None = None,
        key: Callable[[Token], Hashable] = _same,
        count: Callable[[Page], int] | None = None,
        progress: Callable[[int, int], None] | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._fetch = fetch
        self._following = following
        self.endpoint = endpoint
        self._first = first
        self._key = key
        self._count = count
        self._progress = progress
        self.max_pages = max_pages
        self.pages = 0  # pages asked for and answered
        self.items = 0  # items reported to progress

    def __iter__(self) -> Iterator[Page]:
        token = self._first
        seen: set[Hashable] = set()
        while True:
            if token is not None:
                spelt = self._key(token)
                if spelt in seen:
                    raise FatalError(self._repeated(token))
                seen.add(spelt)
            if self.pages >= self.max_pages:
                e = self.endpoint
                raise FatalError(
                    f"{e.who}: more than {self.max_pages} pages while paging {e.name}; "
                    "stopped instead of looping"
                )
            page = self._fetch(token)
            self.pages += 1
            yield page
            if self._count is not None:
                n = self._count(page)
                self.items += n
                if self._progress is not None:
                    self._progress(1, n)
            token = self._following(page)
            if token is None:
                return

    def _repeated(self, token: Token) -> str:
        e = self.endpoint
        shown = str(token)
        shown = shown if len(shown) <= 160 else shown[:159] + "…"
        read = f" (read {self.items} items)" if self._count is not None else ""
        return (
            f"{e.who}: {e.server} answered the same {e.marker} twice while paging {e.name} "
            f"({shown}); stopped instead of looping{read}"
        )


def dedupe_by_key(entries: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """One entry per key, the later copy winning, in the later copy's place: an item edited while
    its list was read comes again on a later page, newer."""
    by_key: dict[str, T] = {}
    for entry in entries:
        name = key(entry)
        by_key.pop(name, None)
        by_key[name] = entry
    return list(by_key.values())


_DONE = object()  # what a list's reader puts after its last page


def read_concurrently(
    lists: Sequence[Callable[[], Iterable[Page]]], *, concurrency: int
) -> Iterator[tuple[int, Page]]:
    """`(index, page)` for every page of every list, as they arrive: at most `concurrency` lists
    are read at once, each by its own iterable (a `Pages`, whose guards hold per list). Pages are
    handed over in the caller's thread, so what the caller does with a page (parse it, report
    progress) never runs in two threads. Few pages wait at a time: a reader blocks while the
    caller is behind, which bounds the raw pages held. The first error of any list is raised here
    and the other readers stop at their next page. Breaking out of the loop stops them too."""
    if not lists:
        return
    handed: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=2 * max(1, concurrency))
    stop = threading.Event()

    def put(entry: tuple[int, object]) -> bool:
        while not stop.is_set():
            try:
                handed.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read(index: int) -> None:
        try:
            for page in lists[index]():
                if not put((index, page)):
                    return
        except BaseException as exc:  # handed to the caller's thread, raised there
            put((index, exc))
            return
        put((index, _DONE))

    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(lists))))
    try:
        for index in range(len(lists)):
            pool.submit(read, index)
        remaining = len(lists)
        while remaining:
            index, entry = handed.get()
            if entry is _DONE:
                remaining -= 1
            elif isinstance(entry, BaseException):
                raise entry
            else:
                yield index, entry  # type: ignore[misc]  # a page, put by `read`
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
