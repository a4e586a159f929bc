"""connectors.jira.client's deadline for the whole response and size cap, through the `jira`
library's own session (requests) against a loopback fake that trickles or sends too much."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from connectors.jira.client import DEFAULT_TIMEOUT, JiraAuth, JiraHttp, open_client
from sync.base import http_limits
from sync.base.errors import DeadlineExceeded, ResponseTooLarge
from sync.base.retry import Budget
from tests.fakes.server import FakeServer, Fault, Request, Response

ANONYMOUS = JiraAuth("anonymous", ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT"))


class _Jira(FakeServer):
    def handle(self, request: Request) -> Response:
        return Response(200, {"baseUrl": "x", "deploymentType": "Server"})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Jira]:
    monkeypatch.setattr(http_limits, "_limits", http_limits.Limits(0.5, 1 << 20))
    with _Jira() as fake:
        yield fake


def http(server: FakeServer, budget_s: float) -> JiraHttp:
    client = open_client(server.url, ANONYMOUS, DEFAULT_TIMEOUT)
    return JiraHttp(client, source="jira", url=server.url, auth=ANONYMOUS, budget=Budget(budget_s))


def test_a_trickling_answer_ends_at_the_deadline_within_the_budget(server: _Jira) -> None:
    server.inject(Fault("GET", "/rest/api/2/serverInfo", trickle=0.1, times=99))
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded) as info:
        http(server, budget_s=1.5).get("serverInfo", what="serverInfo")
    assert time.monotonic() - t0 < 0.5 + 1.5 + 0.5
    assert str(info.value) == (
        f"source 'jira': serverInfo: GET {server.url.removeprefix('http://')}"
        "/rest/api/2/serverInfo: no whole answer within 0.5 s (GOALSYNC_REQUEST_DEADLINE_S): "
        "deadline passed"
    )
    assert server.count("GET") >= 2  # retried within the budget


@pytest.mark.parametrize("chunked", [False, True])
def test_an_answer_over_the_cap_is_not_retried(server: _Jira, chunked: bool) -> None:
    server.inject(Fault("GET", "/rest/api/2/serverInfo", huge=3 << 20, chunked=chunked))
    client = http(server, budget_s=30)
    with pytest.raises(ResponseTooLarge, match=r"^source 'jira': serverInfo: GET .* than 1 MB"):
        client.get("serverInfo", what="serverInfo")
    assert server.count("GET") == 1
    assert client.get("serverInfo", what="serverInfo")["deploymentType"] == "Server"
