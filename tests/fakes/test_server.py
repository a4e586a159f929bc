from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.fakes.server import FakeServer, Fault, Request, Response


class Echo(FakeServer):
    def handle(self, request: Request) -> Response:
        return Response(200, {"path": request.path, "q": request.arg("q")})


def get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serves_on_loopback_and_counts_requests() -> None:
    with Echo() as server:
        assert server.url.startswith("http://127.0.0.1:")
        status, body = get(f"{server.url}/a/b?q=1")
        get(f"{server.url}/a/b")
        assert status == 200 and json.loads(body) == {"path": "/a/b", "q": "1"}
        assert server.count("GET", "/a") == 2
        assert server.requests[0].arg("q") == "1"


def test_faults_are_consumed_in_order_then_normal_service_resumes() -> None:
    with Echo() as server:
        server.inject(Fault("GET", "/x", Response(503, "down"), times=2))
        assert get(f"{server.url}/x")[0] == 503
        assert get(f"{server.url}/y")[0] == 200  # other paths unaffected
        assert get(f"{server.url}/x")[0] == 503
        assert get(f"{server.url}/x")[0] == 200


def test_a_slow_fault_times_out_the_client() -> None:
    with Echo() as server:
        server.inject(Fault("GET", "/slow", delay=1.0))
        with pytest.raises(TimeoutError):
            get(f"{server.url}/slow", timeout=0.2)
