"""sync.base.http_limits: a deadline for the whole response and a size cap, on http.client's own
connection (what urllib3 and httplib2 build on), against loopback servers that misbehave in
ways a socket timeout does not catch: headers trickled, a body trickled, a body over the cap
with and without Content-Length, a gzip body that inflates past the cap."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from sync.base import http_limits
from sync.base.errors import DeadlineExceeded, ResponseTooLarge
from sync.base.http_limits import LimitedConnection, Limits
from sync.base.transport import limit_session
from tests.fakes.server import FakeServer, Fault, Request, Response

MB = 1 << 20


class Echo(FakeServer):
    def handle(self, request: Request) -> Response:
        return Response(200, {"path": request.path})


class _Connection(LimitedConnection):
    pass


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    def set_limits(deadline_s: float = 0.6, max_bytes: int = MB) -> None:
        monkeypatch.setattr(http_limits, "_limits", Limits(deadline_s, max_bytes))

    set_limits()
    return set_limits


@contextlib.contextmanager
def raw_server(script: Callable[[socket.socket], None]) -> Iterator[int]:
    """A one-connection loopback server that reads the request head and runs `script`."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            with contextlib.suppress(OSError):  # the client gave up: what the tests want
                script(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        listener.close()


def test_headers_trickled_a_byte_at_a_time_end_at_the_deadline(
    limits: Callable[..., None],
) -> None:
    def trickle_headers(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):  # one header line, a byte every 0.1 s: 20 s in all
            conn.sendall(b"X")
            time.sleep(0.1)

    with raw_server(trickle_headers) as port:
        connection = _Connection("127.0.0.1", port, timeout=5)  # never trips: bytes keep coming
        t0 = time.monotonic()
        connection.request("GET", "/slow?token=not-in-messages")
        with pytest.raises(DeadlineExceeded) as info:
            connection.getresponse()
        assert time.monotonic() - t0 < 0.6 + 0.5
        assert str(info.value) == (
            f"GET 127.0.0.1:{port}/slow: no whole answer within 0.6 s "
            "(GOALSYNC_REQUEST_DEADLINE_S): deadline passed"
        )
        assert connection.sock is None  # closed, never reused half read


def test_a_body_trickled_ends_at_the_deadline_and_a_quiet_one_at_the_read_timeout(
    limits: Callable[..., None],
) -> None:
    with Echo() as server:
        server.inject(Fault("GET", "/slow", trickle=0.1))
        connection = _Connection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=5)
        t0 = time.monotonic()
        connection.request("GET", "/slow")
        response = connection.getresponse()
        with pytest.raises(DeadlineExceeded):
            response.read()
        assert time.monotonic() - t0 < 0.6 + 0.5

        limits(deadline_s=30)
        server.inject(Fault("GET", "/quiet", delay=2))
        connection = _Connection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=0.3)
        connection.request("GET", "/quiet")
        with pytest.raises(TimeoutError):  # the read timeout still applies as it did
            connection.getresponse()


def test_healthy_answers_pass_and_the_connection_is_reused(limits: Callable[..., None]) -> None:
    with Echo() as server:
        connection = _Connection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=5)
        for path in ("/a", "/b", "/c"):
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.read() == b'{"path": "%s"}' % path.encode()
            assert connection.sock is not None and connection.sock.gettimeout() == 5
        assert server.count("GET") == 3


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_cap_fails_without_being_read_whole(
    chunked: bool, limits: Callable[..., None]
) -> None:
    with Echo() as server:
        server.inject(Fault("GET", "/big", huge=20 * MB, chunked=chunked))
        connection = _Connection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=5)
        connection.request("GET", "/big")
        with pytest.raises(ResponseTooLarge) as info:
            connection.getresponse().read()
        said = " (Content-Length 20971520)" if not chunked else ""
        assert str(info.value) == (
            f"GET {server.url.removeprefix('http://')}/big: the answer is larger than 1 MB"
            f"{said}; raise GOALSYNC_MAX_RESPONSE_MB if it is expected"
        )
        assert connection.sock is None


def test_a_retry_ends_with_the_budget_and_says_so(limits: Callable[..., None]) -> None:
    limits(deadline_s=30)
    with Echo() as server:
        server.inject(Fault("GET", "/slow", trickle=0.1))
        connection = _Connection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=5)
        t0 = time.monotonic()
        with http_limits.no_later_than(time.monotonic() + 0.4):
            connection.request("GET", "/slow")
            with pytest.raises(DeadlineExceeded, match="retry budget ran out") as info:
                connection.getresponse().read()
        assert time.monotonic() - t0 < 0.4 + 0.5
        assert info.value.budget_cut
        with (
            http_limits.no_later_than(time.monotonic() - 1),
            pytest.raises(DeadlineExceeded),
        ):  # no time left: not even sent
            connection.request("GET", "/never")
        assert server.count("GET", "/never") == 0


def test_requests_caps_the_body_once_decompressed(limits: Callable[..., None]) -> None:
    class Bomb(FakeServer):
        def handle(self, request: Request) -> Response:
            body = gzip.compress(b" " * 5 * MB)  # 5 KB on the wire
            return Response(200, body, {"Content-Encoding": "gzip"})

    with Bomb() as server, limit_session(requests.Session()) as session:
        with pytest.raises(ResponseTooLarge, match="larger than 1 MB once decompressed"):
            session.get(f"{server.url}/bomb", timeout=5)
        limits(max_bytes=8 * MB)
        assert len(session.get(f"{server.url}/bomb", timeout=5).content) == 5 * MB


@pytest.mark.parametrize(
    ("deadline_s", "max_bytes"), [(0, 1), (-1, 1), (float("inf"), 1), (float("nan"), 1), (1, 0)]
)
def test_limits_must_be_positive_and_finite(deadline_s: float, max_bytes: int) -> None:
    with pytest.raises(ValueError, match="positive and finite"):
        Limits(deadline_s, max_bytes)
