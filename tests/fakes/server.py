"""A small loopback HTTP server that the fake Jira, GitHub and Sheets build on.

It listens on 127.0.0.1 on a free port, in a thread, and hands each request to the fake's
`handle(request) -> Response`. It counts requests per (method, path), can inject faults (a queue
of canned responses matched by method and path prefix, consumed in order) and latency, and keeps
every request for assertions. Two faults stream their body: `trickle` (the headers at once, then
one byte every so often, the way a sick proxy answers) and `huge` (a JSON body of that many bytes,
written in 1 MB pieces so the fake itself never holds it). Nothing here talks to anything but
loopback.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    # A streamed body instead of `body`: written piece by piece (each piece flushed), with
    # `length` as its Content-Length, or chunked transfer encoding when `length` is None.
    stream: Iterator[bytes] | None = None
    length: int | None = None

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        self.headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode("utf-8")


@dataclass
class Fault:
    """Answer the next `times` requests matching `method` and `path_prefix` with `response`
    (or, with `delay`, sleep that long first: a timeout when it exceeds the client's)."""

    method: str
    path_prefix: str
    response: Response | None = None
    times: int = 1
    delay: float = 0.0
    drop: bool = False  # close the connection without an answer
    trickle: float = 0.0  # headers at once, then one byte of body every `trickle` seconds
    huge: int = 0  # a JSON object of this many bytes as the body (streamed)
    chunked: bool = False  # the huge body without Content-Length (chunked transfer encoding)

    def streamed(self, stopping: threading.Event) -> Response | None:
        if self.trickle:
            return Response(
                200,
                headers={"Content-Type": "application/json"},
                stream=_trickle(self.trickle, TRICKLE_LENGTH, stopping),
                length=TRICKLE_LENGTH,
            )
        if self.huge:
            return Response(
                200,
                headers={"Content-Type": "application/json"},
                stream=huge_json(self.huge),
                length=None if self.chunked else self.huge,
            )
        return None


# A trickled body declares this length (small, so a size cap never stops it first) and sends
# spaces, which JSON reads as nothing: at 0.5 s a byte it would last nine hours.
TRICKLE_LENGTH = 65_536


def _trickle(every: float, length: int, stopping: threading.Event) -> Iterator[bytes]:
    for _ in range(length):
        if stopping.wait(every):
            return
        yield b" "


def huge_json(size: int, piece: int = 1 << 20) -> Iterator[bytes]:
    """`{"padding": ["xx…", …, ""]}` of exactly `size` bytes, in pieces of about `piece` bytes:
    valid JSON, so a client that reads it whole also parses it whole."""
    head, tail = b'{"padding": [', b'""]}'
    item = b'"' + b"x" * 997 + b'",'  # 1000 bytes
    count, rest = divmod(size - len(head) - len(tail), len(item))
    yield head + b" " * rest  # JSON whitespace takes up the remainder
    per_piece = max(1, piece // len(item))
    while count > 0:
        n = min(count, per_piece)
        yield item * n
        count -= n
    yield tail


class FakeServer:
    """Subclass and implement `handle`. Use as a context manager, or start()/stop()."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.requests: list[Request] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # ends trickling bodies when the server stops

    # --- what a fake implements ----------------------------------------------------------

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    # --- control --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def wall_clock(self) -> float:
        """The server's time (its Date header): a fake whose clock is off overrides it."""
        return time.time()

    def start(self) -> Self:
        handler = _make_handler(self._dispatch, self.wall_clock)
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.resume()
        return self

    @property
    def bound(self) -> bool:
        """Whether the server holds its port (started, and maybe paused since)."""
        return self._server is not None

    def pause(self) -> None:
        """End the serving thread but keep the port: connections wait in the listening socket's
        backlog until `resume`. A process must have no threads when it forks (a lock held by
        another thread stays held in the child): tests/fakes/process.py forks a paused fake."""
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None

    def resume(self) -> None:
        """Serve on the bound port, in a thread (after start, or after pause, maybe in a child
        forked since)."""
        assert self._server is not None, "start the server first"
        # A short poll interval: stop() waits for one, and tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def count(self, method: str | None = None, path_prefix: str = "") -> int:
        with self._lock:
            return sum(
                n
                for (m, p), n in self.counts.items()
                if (method is None or m == method) and p.startswith(path_prefix)
            )

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.requests.clear()

    # --- internals -------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response | None:
        with self._lock:
            self.requests.append(request)
            self.counts[(request.method, request.path)] += 1
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.method in (request.method, "*") and request.path.startswith(f.path_prefix)
                ),
                None,
            )
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
        if self.latency:
            time.sleep(self.latency)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                return None
            streamed = fault.streamed(self._stopping)
            if streamed is not None:
                return streamed
            if fault.response is not None:
                return fault.response
        return self.handle(request)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) is expected here; anything else is loud."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _make_handler(
    dispatch: Callable[[Request], Response | None], wall_clock: Callable[[], float] = time.time
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def date_time_string(self, timestamp: float | None = None) -> str:
            # The Date header, by the server's own clock (which a test may set off).
            return super().date_time_string(wall_clock() if timestamp is None else timestamp)

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            response = dispatch(request)
            if response is None:  # a dropped connection
                self.close_connection = True
                return
            if response.stream is not None:
                self._stream(response, response.stream)
                return
            payload = response.encoded()
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _stream(self, response: Response, pieces: Iterator[bytes]) -> None:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            chunked = response.length is None
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(response.length))
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True  # a client that gave up leaves the body half sent
            try:
                for piece in pieces:
                    if chunked:
                        piece = b"%x\r\n%s\r\n" % (len(piece), piece)
                    self.wfile.write(piece)
                    self.wfile.flush()
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
            except OSError:  # the client stopped reading: what a capped or timed-out one does
                return

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read counters, not access logs

    return Handler
