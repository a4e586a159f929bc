"""The Sheets sink against the client library's own mocks (HttpMockSequence, RequestMockBuilder):
which calls one publish makes, with which exact URLs and bodies, and what each error becomes."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from googleapiclient.http import HttpMockSequence, RequestMockBuilder

from connectors.sheets.batches import FINGERPRINT_KEY, SHEET_FIELDS, fingerprint
from connectors.sheets.client import SCOPE_READWRITE, Access, Transport
from connectors.sheets.sink import SheetsSink
from sync.base.errors import ConfigError, PublishError
from sync.base.report import HistoryRow
from tests.connectors.helpers import FORMULA_TITLE, publish_context, sample_tables

from .test_plan import WORKLOAD, WORKLOAD_BATCH

EMAIL = "goalsync@acme-prod.iam.gserviceaccount.com"
ACCESS = Access(
    spreadsheet_id="1XyZ",
    who="sink sheets 1XyZ",
    scope=SCOPE_READWRITE,
    mode="key",
    key_origin="GOOGLE_APPLICATION_CREDENTIALS (/etc/goalsync/sa.json)",
    account=EMAIL,
)
ROOT = "https://sheets.googleapis.com/v4/spreadsheets/1XyZ"
SHEETS = {
    "sheets": [
        {"properties": {"title": "Plan", "gridProperties": {"rowCount": 1000, "columnCount": 26}}},
        {
            "properties": {
                "sheetId": 5,
                "title": "History",
                "gridProperties": {"rowCount": 3, "columnCount": 6},
            },
            "conditionalFormats": [{"ranges": [{"sheetId": 5}]}] * 5,
        },
    ]
}
HISTORY = {
    "spreadsheetId": "1XyZ",
    "valueRanges": [
        {
            "range": "History!A1:F3",
            "majorDimension": "ROWS",
            "values": [
                ["Date", "ID", "Value", "Progress %", "Expected %", "Status"],
                [46341, "G1", "", 55, 45, "On track"],  # 2026-11-15: kept
                [46342, "G1", "", 1, 1, "Off track"],  # 2026-11-16: this run replaces it
            ],
        }
    ],
}
OK = ({"status": "200"}, json.dumps({"spreadsheetId": "1XyZ"}))


def reply(body: Any, status: int = 200, **headers: str) -> tuple[dict[str, str], str]:
    return {"status": str(status), **headers}, json.dumps(body)


def google_error(status: int, message: str, kind: str) -> tuple[dict[str, str], str]:
    return reply({"error": {"code": status, "message": message, "status": kind}}, status)


def mocked(*responses: tuple[dict[str, str], str]) -> tuple[SheetsSink, HttpMockSequence]:
    http = HttpMockSequence(list(responses))
    return SheetsSink(ACCESS, transport=Transport(http=http), budget_s=5), http


def request(http: HttpMockSequence, n: int) -> tuple[str, str, dict[str, list[str]], Any]:
    uri, method, body, _ = http.request_sequence[n]
    parts = urlsplit(uri)
    return (
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        method,
        parse_qs(parts.query),
        json.loads(body) if body else None,
    )


def test_a_publish_is_get_then_history_then_one_batch_update() -> None:
    sink, http = mocked(reply(SHEETS), reply(HISTORY), OK)
    write = sink.prepare(sample_tables(), publish_context())
    assert len(http.request_sequence) == 2  # prepare reads; nothing is written before apply
    assert write.remote is True and write.description == "sheets 1XyZ"
    write.apply()
    assert len(http.request_sequence) == 3
    assert request(http, 0) == (
        ROOT,
        "GET",
        {"fields": [SHEET_FIELDS], "alt": ["json"]},
        None,
    )
    assert request(http, 1) == (
        f"{ROOT}/values:batchGet",
        "GET",
        {
            "ranges": ["'History'"],
            "majorDimension": ["ROWS"],
            "valueRenderOption": ["UNFORMATTED_VALUE"],
            "dateTimeRenderOption": ["SERIAL_NUMBER"],
            "alt": ["json"],
        },
        None,
    )
    url, method, query, body = request(http, 2)
    assert (url, method, query) == (
        f"{ROOT}:batchUpdate",
        "POST",
        {"fields": ["spreadsheetId"], "alt": ["json"]},
    )
    assert body == {"requests": write.plan.batches[0]}
    requests = body["requests"]
    # History: five old colour rules deleted, the tab kept (sheet id 5), upserted by (date, ID).
    assert requests.count({"deleteConditionalFormatRule": {"sheetId": 5, "index": 0}}) == 5
    history = next(
        r["updateCells"]
        for r in requests
        if "updateCells" in r and r["updateCells"]["range"]["sheetId"] == 5
    )
    cells = [[v.get("userEnteredValue") for v in row["values"]] for row in history["rows"][1:]]
    assert [(c[0]["numberValue"], c[1]["stringValue"], c[5]["stringValue"]) for c in cells] == [
        (46341.0, "G1", "On track"),
        (46342.0, "G1", "On track"),  # today's row replaced the tab's, never added beside it
    ]
    # Untrusted text is typed as a string: the API never parses it as a formula.
    assert json.dumps({"stringValue": FORMULA_TITLE}) in json.dumps(body)
    assert json.dumps({"formulaValue": FORMULA_TITLE}) not in json.dumps(body)
    # The human's "Plan" tab (sheet id 0, left out of the JSON as the API does) is never named.
    assert all(
        r.get(kind, {}).get("sheetId") != 0
        for r in requests
        for kind in ("deleteSheet", "deleteConditionalFormatRule")
    )


def test_read_history_then_publish_reads_the_sheet_once() -> None:
    sink, http = mocked(reply(SHEETS), reply(HISTORY), OK)
    assert sink.read_history() == [
        HistoryRow(
            date=date(2026, 11, 15),
            id="G1",
            value=None,
            progress=55,
            expected=45,
            status="On track",
        ),
        HistoryRow(
            date=date(2026, 11, 16), id="G1", value=None, progress=1, expected=1, status="Off track"
        ),
    ]
    sink.prepare(sample_tables(), publish_context()).apply()
    assert [m for _, m, _, _ in http.request_sequence] == ["GET", "GET", "POST"]  # three calls
    # The cache served one publish only: the next one reads the sheet again.
    http._iterable.extend([reply(SHEETS), reply(HISTORY), OK])
    sink.prepare(sample_tables(), publish_context()).apply()
    assert len(http.request_sequence) == 6


def test_a_sheet_without_history_is_two_calls() -> None:
    sink, http = mocked(reply({"sheets": SHEETS["sheets"][:1]}), OK)
    assert sink.read_history() == []
    sink.prepare(sample_tables(), publish_context()).apply()
    assert len(http.request_sequence) == 2


class MockBuilder(RequestMockBuilder):  # type: ignore[misc]
    """RequestMockBuilder's HttpRequestMock.execute takes no num_retries (it never retries)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        mock = super().__call__(*args, **kwargs)
        execute = mock.execute
        mock.execute = lambda num_retries=0, http=None: execute(http)
        return mock


def test_the_exact_body_with_request_mock_builder() -> None:
    ctx = publish_context()
    mark = {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": FINGERPRINT_KEY,
                "metadataValue": fingerprint(
                    WORKLOAD, ctx.now.astimezone(ctx.tz).date().isoformat()
                ),
                "location": {"sheetId": WORKLOAD_BATCH[0]["addSheet"]["properties"]["sheetId"]},
                "visibility": "DOCUMENT",
            }
        }
    }
    builder = MockBuilder(
        {
            "sheets.spreadsheets.get": (None, json.dumps({"sheets": SHEETS["sheets"][:1]})),
            "sheets.spreadsheets.batchUpdate": (
                None,
                json.dumps({"spreadsheetId": "1XyZ"}),
                # UnexpectedBodyError on any difference; the tab's mark comes last
                {"requests": [*WORKLOAD_BATCH, mark]},
            ),
        },
        check_unexpected=True,  # values.batchGet is not expected: no History tab
    )
    sink = SheetsSink(ACCESS, transport=Transport(request_builder=builder))
    sink.prepare([WORKLOAD], publish_context()).apply()
    assert sink.client.calls == 2


def test_403_names_the_service_account_to_share_the_sheet_with() -> None:
    sink, _ = mocked(google_error(403, "The caller does not have permission", "PERMISSION_DENIED"))
    with pytest.raises(PublishError) as info:
        sink.read_history()
    message = str(info.value)
    assert "1XyZ" in message and f"share the sheet with {EMAIL} as Editor" in message


def test_403_for_a_disabled_api_says_to_enable_it() -> None:
    sink, _ = mocked(
        google_error(
            403,
            "Google Sheets API has not been used in project 123 before or it is disabled.",
            "PERMISSION_DENIED",
        )
    )
    with pytest.raises(PublishError, match="not enabled"):
        sink.prepare(sample_tables(), publish_context())


def test_404_names_the_spreadsheet_as_a_config_error() -> None:
    # DESIGN: a missing sheet is a scope the server rejects: exit 2, nothing published.
    sink, _ = mocked(google_error(404, "Requested entity was not found.", "NOT_FOUND"))
    with pytest.raises(ConfigError, match=r"spreadsheet 1XyZ was not found \(404\)"):
        sink.prepare(sample_tables(), publish_context())


def test_429_and_5xx_retry_in_goalsyncs_layer_honouring_retry_after() -> None:
    quota = google_error(
        429, "Quota exceeded for quota metric 'Write requests'", "RESOURCE_EXHAUSTED"
    )
    quota[0]["retry-after"] = "0"
    down = google_error(503, "The service is currently unavailable.", "UNAVAILABLE")
    down[0]["retry-after"] = "0"
    sink, http = mocked(reply({"sheets": SHEETS["sheets"][:1]}), quota, down, OK)
    sink.prepare(sample_tables(), publish_context()).apply()
    assert [m for _, m, _, _ in http.request_sequence] == ["GET", "POST", "POST", "POST"]


def test_the_library_never_retries_on_its_own() -> None:
    # Eight attempts are the retry layer's; with the library's own retries on there would be
    # more requests than answers here and the mock would run dry (IndexError).
    down = google_error(503, "unavailable", "UNAVAILABLE")
    down[0]["retry-after"] = "0"
    sink, http = mocked(*[down] * 8)
    with pytest.raises(PublishError, match=r"server error \(503"):
        sink.read_history()
    assert len(http.request_sequence) == 8


def test_a_refused_batch_update_fails_the_publish_with_the_apis_reason() -> None:
    sink, _ = mocked(
        reply({"sheets": SHEETS["sheets"][:1]}),
        google_error(400, "Invalid requests[3].updateCells: bad", "INVALID_ARGUMENT"),
    )
    write = sink.prepare(sample_tables(), publish_context())
    with pytest.raises(PublishError, match=r"refused \(400: Invalid requests\[3\]"):
        write.apply()
    write.discard()  # nothing to undo: the API applied none of the batch


def test_a_publish_waits_within_the_runs_retry_budget() -> None:
    # Google asks for an hour; the run's budget is 5 s: give up at once instead of sleeping.
    quota = google_error(429, "Quota exceeded", "RESOURCE_EXHAUSTED")
    quota[0]["retry-after"] = "3600"
    sink, http = mocked(reply({"sheets": SHEETS["sheets"][:1]}), quota)
    ctx = dataclasses.replace(publish_context(), budget_s=5.0)
    write = sink.prepare(sample_tables(), ctx)
    with pytest.raises(PublishError, match="Quota exceeded"):
        write.apply()
    assert [m for _, m, _, _ in http.request_sequence] == ["GET", "POST"]


def history_cells(body: Any) -> list[list[Any]]:
    history = next(
        r["updateCells"]
        for r in body["requests"]
        if "updateCells" in r and r["updateCells"]["range"]["sheetId"] == 5
    )
    return [[v.get("userEnteredValue") for v in row["values"]] for row in history["rows"][1:]]


def test_a_history_row_goalsync_cannot_read_is_kept_as_it_was() -> None:
    typed: dict[str, Any] = copy.deepcopy(HISTORY)
    typed["valueRanges"][0]["values"].append(["last spring", "G1", "n/a", "", "", "?"])
    sink, http = mocked(reply(SHEETS), reply(typed), OK)
    sink.prepare(sample_tables(), publish_context()).apply()
    body = json.loads(http.request_sequence[-1][2])
    rows = history_cells(body)
    assert [c["stringValue"] for c in rows[-1] if c and "stringValue" in c] == [
        "last spring", "G1", "n/a", "?",
    ]  # fmt: skip
    assert len(rows) == 3  # the two readable rows (one replaced by today's) and the kept one


def test_a_history_tab_that_is_not_goalsyncs_is_never_overwritten() -> None:
    foreign: dict[str, Any] = copy.deepcopy(HISTORY)
    foreign["valueRanges"][0]["values"] = [["Quarter", "Notes"], ["Q3", "a person's notes"]]
    sink, http = mocked(reply(SHEETS), reply(foreign))
    with pytest.raises(PublishError, match="History tab has no Date and ID columns"):
        sink.prepare(sample_tables(), publish_context())
    assert [m for _, m, _, _ in http.request_sequence] == ["GET", "GET"]  # no write was sent
