"""A deadline for the whole response and a size cap, on every request the connectors send.

A socket timeout bounds each wait for bytes, not a response: a server that sends its headers and
then one byte every 2 s never trips a 60 s read timeout, and held a run (and its lock) for minutes.
A body is otherwise read whole whatever its size: 50 MB once took a run from 108 MB to 300 MB.

All three client libraries read responses through `http.client` (requests via urllib3, and
httplib2), so this is enforced there, once: a connection class whose responses read through a
meter. Before every read the meter sets the socket's timeout to what is left of the deadline (never
more than the read timeout it had), and it counts every byte of the status line, headers and body.
Past the deadline it raises `DeadlineExceeded` (retriable: the next attempt may be quick); past the
cap, or on a Content-Length above it before a byte of the body is read, `ResponseTooLarge` (fatal
for the source: the same request would get the same answer). Both name the endpoint (method, host
and path; never the query, which can carry a search). On either, the connection is closed, never
reused half read. `sync/base/transport.py` plugs these classes into requests and httplib2.

The limits are process settings (`GOALSYNC_REQUEST_DEADLINE_S`, `GOALSYNC_MAX_RESPONSE_MB`),
applied by the CLI with `configure` and read when each request starts. The retry layer shortens
the deadline of a retry to what is left of the source's budget (`no_later_than`), so retrying a
slow server never runs past the budget. Bottom of the project: imports only `errors`; stdlib only.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import io
import math
import socket
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from sync.base.errors import DeadlineExceeded, ResponseTooLarge, SourceError

MB = 1 << 20
# No healthy answer of these APIs takes minutes: a 100-issue page or a values.batchGet of a big
# tab arrives in seconds. 120 s is the longest read timeout the clients have (a Sheets
# batchUpdate of ~8 MB being applied), so the deadline only ever cuts a response that is sick.
DEFAULT_DEADLINE_S = 120.0
# The largest healthy answers are Sheets reads of big tabs: a 50,000-row Tasks tab is ~15 MB of
# JSON; a page of 100 GitHub issues or Jira issues with changelogs is 0.2-5 MB. 32 MB leaves
# room for twice the biggest plan tab while bounding a run's memory (a body is held once as
# bytes, once as text and once parsed: ~5x its size at peak).
DEFAULT_MAX_BYTES = 32 * MB
DEADLINE_SETTING = "GOALSYNC_REQUEST_DEADLINE_S"
SIZE_SETTING = "GOALSYNC_MAX_RESPONSE_MB"
_CHUNK = 64 * 1024
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Limits:
    deadline_s: float = DEFAULT_DEADLINE_S
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if not (math.isfinite(self.deadline_s) and self.deadline_s > 0 and self.max_bytes > 0):
            raise ValueError(f"limits must be positive and finite: {self}")


_limits = Limits()
# When the current call's budget ends (time.monotonic()); set by the retry layer for a retry.
_no_later_than: ContextVar[float] = ContextVar("goalsync_no_later_than", default=math.inf)


def configure(limits: Limits) -> None:
    """Set the process's limits (the CLI does, from its settings)."""
    global _limits  # a process setting, like the logging configuration
    _limits = limits


def current() -> Limits:
    return _limits


@contextlib.contextmanager
def no_later_than(moment: float) -> Iterator[None]:
    """Requests started inside (in this thread) end by `moment` (time.monotonic()) at the
    latest, whatever the deadline."""
    token = _no_later_than.set(min(moment, _no_later_than.get()))
    try:
        yield
    finally:
        _no_later_than.reset(token)


def describe_size(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n} bytes"


def endpoint(method: str, url: str, host: str = "", port: int | None = None) -> str:
    """`GET host[:port]/path` as messages name a request: never the query (it can carry a
    search, or anything a server put in a next-page link)."""
    parts = urlsplit(url)
    where = parts.netloc or (f"{host}:{port}" if port not in (None, 80, 443) else host)
    return f"{method} {where}{parts.path or '/'}"


def for_source(error: DeadlineExceeded | ResponseTooLarge, who: str) -> SourceError:
    """The same error, its message led by who met it (`source 'gh'`), as connectors report."""
    if isinstance(error, DeadlineExceeded):
        return DeadlineExceeded(f"{who}: {error}", budget_cut=error.budget_cut)
    return ResponseTooLarge(f"{who}: {error}")


def too_large(where: str, limit: int, detail: str = "") -> ResponseTooLarge:
    return ResponseTooLarge(
        f"{where}: the answer is larger than {describe_size(limit)}{detail}; raise "
        f"{SIZE_SETTING} if it is expected"
    )


@dataclass(frozen=True, slots=True)
class _Guard:
    """One request's limits: when it must be answered by, how many bytes it may take, what
    it is called in messages, and how to drop its connection."""

    endpoint: str
    deadline: float  # time.monotonic()
    deadline_s: float  # as configured, for messages
    budget_cut: bool  # the deadline is the end of the retry budget, not the setting's
    max_bytes: int
    on_abort: Callable[[], None]

    def late(self) -> DeadlineExceeded:
        if self.budget_cut:
            why = "before the source's retry budget ran out (GOALSYNC_RETRY_BUDGET_S)"
        else:
            why = f"within {self.deadline_s:g} s ({DEADLINE_SETTING})"
        return DeadlineExceeded(
            f"{self.endpoint}: no whole answer {why}: deadline passed", budget_cut=self.budget_cut
        )

    def too_large(self, announced: int | None = None) -> ResponseTooLarge:
        said = f" (Content-Length {announced})" if announced is not None else ""
        return too_large(self.endpoint, self.max_bytes, said)

    def abort(self, error: Exception) -> Exception:
        with contextlib.suppress(Exception):  # closing is best effort; the error is what counts
            self.on_abort()
        return error


def guard_for(
    method: str, url: str, on_abort: Callable[[], None], *, host: str = "", port: int | None = None
) -> _Guard:
    """The guard of a request starting now. `url` is a path or an absolute URL."""
    limits = _limits
    now = time.monotonic()
    own = now + limits.deadline_s
    cut = _no_later_than.get()
    guard = _Guard(
        endpoint=endpoint(method, url, host, port),
        deadline=min(own, cut),
        deadline_s=limits.deadline_s,
        budget_cut=cut < own,
        max_bytes=limits.max_bytes,
        on_abort=on_abort,
    )
    if guard.deadline <= now:
        raise guard.late()
    return guard


class _Meter:
    """The socket file a response reads through: every read is bounded by the time left and
    counted against the cap. Implements what http.client and urllib3 call on it."""

    def __init__(self, raw: io.BufferedReader, sock: socket.socket, guard: _Guard) -> None:
        self._raw = raw
        self._sock = sock
        self._guard = guard
        self._timeout = sock.gettimeout()
        self.count = 0

    def _step(self, read: Callable[[], T], size: Callable[[T], int]) -> T:
        guard = self._guard
        left = guard.deadline - time.monotonic()
        if left <= 0:
            raise guard.abort(guard.late())
        cut = self._timeout is None or left < self._timeout
        with contextlib.suppress(OSError):  # closed under us: the read below says so
            self._sock.settimeout(left if cut else self._timeout)
        try:
            data = read()
        except TimeoutError:
            if cut:
                raise guard.abort(guard.late()) from None
            raise
        finally:
            with contextlib.suppress(OSError):
                self._sock.settimeout(self._timeout)
        self.count += size(data)
        if self.count > guard.max_bytes:
            raise guard.abort(guard.too_large())
        return data

    def read1(self, n: int = -1) -> bytes:
        want = _CHUNK if n is None or n < 0 else n
        return self._step(lambda: self._raw.read1(want), len)

    def peek(self, n: int = 0) -> bytes:
        return self._step(lambda: self._raw.peek(n), lambda _: 0)  # counted when read

    def read(self, n: int | None = -1) -> bytes:
        parts: list[bytes] = []
        got = 0
        while n is None or n < 0 or got < n:
            piece = self.read1(_CHUNK if n is None or n < 0 else min(_CHUNK, n - got))
            if not piece:
                break
            parts.append(piece)
            got += len(piece)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        got = 0
        while got < len(view):
            rest = view[got:]
            n = self._step(lambda: self._raw.readinto1(rest), lambda k: k)  # noqa: B023
            if not n:
                break
            got += n
        return got

    def readline(self, limit: int = -1) -> bytes:
        parts: list[bytes] = []
        got = 0
        while limit < 0 or got < limit:
            ahead = self.peek(1)
            if not ahead:
                break
            if limit >= 0:
                ahead = ahead[: limit - got]
            end = ahead.find(b"\n")
            take = end + 1 if end >= 0 else len(ahead)
            piece = self.read1(take)  # buffered already: no wait
            parts.append(piece)
            got += len(piece)
            if piece.endswith(b"\n"):
                break
        return b"".join(parts)

    def close(self) -> None:
        self._raw.close()

    def flush(self) -> None:
        self._raw.flush()

    def fileno(self) -> int:
        return self._raw.fileno()

    @property
    def closed(self) -> bool:
        return self._raw.closed


class LimitedResponse(http.client.HTTPResponse):
    """http.client's response, read through a `_Meter`; a Content-Length above the cap fails
    as soon as the headers are in."""

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
        *,
        guard: _Guard,
    ) -> None:
        super().__init__(sock, debuglevel, method=method, url=url)
        self._guard = guard
        self.fp = cast(io.BufferedReader, _Meter(self.fp, sock, guard))

    def begin(self) -> None:
        super().begin()
        if self.length is not None and self.length > self._guard.max_bytes:
            raise self._guard.abort(self._guard.too_large(self.length))


class LimitedConnection(http.client.HTTPConnection):
    """Mixed in before an `http.client.HTTPConnection` class (urllib3's, httplib2's): every
    request it sends is answered through a `LimitedResponse` under a fresh guard."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        guard = guard_for(method, url, self.close, host=self.host, port=self.port)
        self.response_class = functools.partial(LimitedResponse, guard=guard)  # type: ignore[assignment]
        super().request(method, url, *args, **kwargs)
