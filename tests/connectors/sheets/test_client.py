"""connectors.sheets.client against the loopback fake: the real transport (httplib2 with a
timeout, google-auth), a service account's token exchange, anonymous requests, and errors."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import google.auth
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from googleapiclient import discovery, discovery_cache
from googleapiclient.http import HttpMock

from connectors.sheets.client import (
    SCOPE_READONLY,
    Access,
    BadRequest,
    SheetsClient,
    _discovery_document,
    _without_descriptions,
)
from connectors.sheets.config import SheetsSinkConfig, SheetsSourceConfig
from sync.base import http_limits
from sync.base.errors import (
    AuthError,
    DeadlineExceeded,
    FatalError,
    ResponseTooLarge,
    RetriableError,
)
from sync.base.retry import Budget
from tests.fakes.server import Fault, Response
from tests.fakes.sheets import FakeSheets

EMAIL = "goalsync@acme-prod.iam.gserviceaccount.com"


@pytest.fixture
def fake() -> Any:
    with FakeSheets() as server:
        server.add_spreadsheet("S1", {"Tasks": [["key", "title"], ["T-1", "One"]]})
        yield server


@pytest.fixture(autouse=True)
def no_adc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("application default credentials must not be looked up here")

    monkeypatch.setattr(google.auth, "default", refuse)


def service_account_key(tmp_path: Path, token_uri: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "sa.json"
    path.write_text(
        '{"type": "service_account", "project_id": "acme-prod", "private_key_id": "k1", '
        f'"private_key": {pem!r}, "client_email": "{EMAIL}", "token_uri": "{token_uri}"}}'.replace(
            "'", '"'
        ).replace("\n", "\\n"),
        encoding="utf-8",
    )
    return path


def budget() -> Budget:
    return Budget(5.0, sleep=lambda s: None)


def test_a_service_account_gets_a_token_and_sends_it(fake: FakeSheets, tmp_path: Path) -> None:
    fake.token = "ya29.fake-token"
    key = service_account_key(tmp_path, f"{fake.url}/token")
    config = SheetsSourceConfig.model_validate(
        {"type": "sheets", "spreadsheet_id": "S1", "endpoint": fake.url, "credentials": str(key)}
    )
    source = config.build("plan", tmp_path)
    (tasks,) = SheetsClient(source.access).fetch_values(["Tasks"], budget=budget())
    assert tasks["values"] == [["key", "title"], ["T-1", "One"]]
    token, call = fake.requests
    assert token.path == "/token" and b"assertion=" in token.body
    assert call.headers["authorization"] == "Bearer ya29.fake-token"


def test_a_refused_key_is_an_auth_error(fake: FakeSheets, tmp_path: Path) -> None:
    key = service_account_key(tmp_path, f"{fake.url}/token")  # the fake has no token to give
    sink = SheetsSinkConfig.model_validate(
        {"type": "sheets", "spreadsheet_id": "S1", "endpoint": fake.url, "credentials": str(key)}
    ).build(tmp_path)
    with pytest.raises(AuthError, match="Google refused the credentials"):
        sink.client.fetch_spreadsheet("sheets.properties.title", budget=budget())


def test_anonymous_requests_carry_no_credentials(fake: FakeSheets) -> None:
    access = Access(
        spreadsheet_id="S1",
        who="source 'plan'",
        scope=SCOPE_READONLY,
        endpoint=fake.url + "/",
        mode="anonymous",
    )
    client = SheetsClient(access)
    reply = client.fetch_spreadsheet("sheets.properties.title", budget=budget())
    assert reply == {"sheets": [{"properties": {"title": "Tasks"}}]}
    assert "authorization" not in fake.requests[0].headers
    assert client.calls == 1
    fake.token = "secret"
    with pytest.raises(AuthError, match="401"):
        client.fetch_spreadsheet("sheets.properties.title", budget=budget())


def anonymous(fake: FakeSheets, timeout: float = 120.0) -> SheetsClient:
    access = Access(
        spreadsheet_id="S1",
        who="sink sheets S1",
        scope=SCOPE_READONLY,
        endpoint=fake.url + "/",
        mode="anonymous",
    )
    return SheetsClient(access, timeout=timeout)


def test_every_request_has_a_timeout(fake: FakeSheets) -> None:
    fake.inject(Fault("GET", "/v4/spreadsheets/S1", delay=1.5, times=1))
    client = anonymous(fake, timeout=0.3)
    with pytest.raises(RetriableError, match=r"no answer within 0.3 s"):
        client.fetch_spreadsheet("sheets", budget=Budget(0.5))


def test_a_refused_connection_is_retriable() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    access = Access(
        spreadsheet_id="S1",
        who="sink sheets S1",
        scope=SCOPE_READONLY,
        endpoint=f"http://127.0.0.1:{port}/",
        mode="anonymous",
    )
    with pytest.raises(RetriableError, match="ConnectionRefusedError"):
        SheetsClient(access).fetch_spreadsheet("sheets", budget=Budget(0.1))


def test_a_bad_range_is_a_bad_request_with_the_apis_reason(fake: FakeSheets) -> None:
    with pytest.raises(BadRequest) as info:
        anonymous(fake).fetch_values(["'Nope'"], budget=budget())
    assert info.value.reason == "Unable to parse range: 'Nope'"


def test_429_waits_what_the_server_asked(fake: FakeSheets) -> None:
    waits: list[float] = []
    fake.inject(
        Fault(
            "GET",
            "/v4/spreadsheets/S1",
            Response(429, {"error": {"code": 429, "message": "quota"}}, {"Retry-After": "7"}),
        )
    )
    client = anonymous(fake)
    client.fetch_spreadsheet("sheets", budget=Budget(60.0, sleep=waits.append))
    assert waits == [7.0] and client.calls == 2


def test_a_write_that_timed_out_is_not_sent_again(fake: FakeSheets) -> None:
    # The batchUpdate may have landed: a second send could fail on its own effect ("sheet
    # already exists"). It stops instead, with budget to spare, and says the outcome is unknown.
    fake.add_spreadsheet("S1")
    fake.inject(Fault("POST", "/v4/spreadsheets/S1:batchUpdate", delay=1.0, times=1))
    client = anonymous(fake, timeout=0.3)
    with pytest.raises(FatalError, match="may or may not show this run"):
        client.write_batch([{"addSheet": {"properties": {"title": "Run"}}}], budget=Budget(60))
    assert fake.count("POST", "/v4/spreadsheets/S1:batchUpdate") == 1


# --- a deadline for the whole response and a size cap, through httplib2 -----------------------


def test_a_trickling_read_ends_at_the_deadline(
    fake: FakeSheets, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_limits, "_limits", http_limits.Limits(0.5, 1 << 20))
    fake.inject(Fault("GET", "/v4/spreadsheets/S1/values", trickle=0.1, times=99))
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"^sink sheets S1: GET .*values:batchGet: no whole"):
        anonymous(fake, timeout=5).fetch_values(["Tasks"], budget=Budget(1.0))
    assert time.monotonic() - t0 < 0.5 + 1.0 + 0.5


def test_a_write_past_the_deadline_is_not_sent_again(
    fake: FakeSheets, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_limits, "_limits", http_limits.Limits(0.5, 1 << 20))
    fake.inject(Fault("POST", "/v4/spreadsheets/S1:batchUpdate", trickle=0.1, times=99))
    client = anonymous(fake, timeout=5)
    with pytest.raises(FatalError, match=r"no whole answer.*may or may not show this run"):
        client.write_batch([{"addSheet": {"properties": {"title": "Run"}}}], budget=Budget(60))
    assert fake.count("POST", "/v4/spreadsheets/S1:batchUpdate") == 1


@pytest.mark.parametrize("chunked", [False, True])
def test_a_read_over_the_cap_fails_once_and_the_client_goes_on(
    chunked: bool, fake: FakeSheets, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_limits, "_limits", http_limits.Limits(30, 1 << 20))
    fake.inject(Fault("GET", "/v4/spreadsheets/S1/values", huge=3 << 20, chunked=chunked))
    client = anonymous(fake)
    with pytest.raises(ResponseTooLarge, match=r"values:batchGet: the answer is larger than 1 MB"):
        client.fetch_values(["Tasks"], budget=budget())
    assert fake.count("GET", "/v4/spreadsheets/S1/values") == 1
    (tasks,) = client.fetch_values(["Tasks"], budget=budget())  # a new connection, whole
    assert tasks["values"][1] == ["T-1", "One"]


def test_a_body_of_bytes_is_sent_as_it_is(fake: FakeSheets) -> None:
    # The sink makes its bodies as ASCII bytes (no copy on the way to the socket).
    body = b'{"requests":[{"addSheet":{"properties":{"title":"Run"}}}]}'
    reply = anonymous(fake).write_body(body, budget=budget())
    assert reply["spreadsheetId"] == "S1"
    (sent,) = [r for r in fake.requests if r.method == "POST"]
    assert sent.body == body and sent.headers["content-length"] == str(len(body))
    assert "Run" in fake.spreadsheets["S1"].titles()


def _methods(node: Any, where: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, method in (node.get("methods") or {}).items():
        out[f"{where}.{name}"] = method
    for name, resource in (node.get("resources") or {}).items():
        out |= _methods(resource, f"{where}.{name}")
    return out


def test_the_discovery_document_keeps_every_method_and_drops_only_documentation() -> None:
    """Built from the trimmed document, the resource sends exactly what the shipped one does:
    the same methods, paths and parameters, a body as given. Only descriptions and the body
    schemas' properties (docstrings, ~29 ms per resource) are gone."""
    shipped = json.loads(discovery_cache.get_static_doc("sheets", "v4") or "{}")
    trimmed = json.loads(_discovery_document())
    assert set(trimmed["schemas"]) == set(shipped["schemas"])
    assert all(s == {"id": n, "type": "object"} for n, s in trimmed["schemas"].items())
    assert _methods(trimmed) == _methods(_without_descriptions(shipped))
    assert "batchUpdate" in json.dumps(list(_methods(trimmed)))
    body = {"requests": [{"updateCells": {"rows": [], "fields": "*"}}]}
    for document in (json.dumps(shipped), _discovery_document()):
        service = discovery.build_from_document(document, http=HttpMock(None, {"status": "200"}))
        request = service.spreadsheets().batchUpdate(spreadsheetId="S1", body=body)
        assert request.uri.endswith("/v4/spreadsheets/S1:batchUpdate?alt=json")
        assert json.loads(request.body) == body
