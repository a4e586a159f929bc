"""The Sheets source against HttpMockSequence: one values.batchGet of the configured tabs, rows
read by header name, bad rows reported and skipped, and what each error becomes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from googleapiclient.http import HttpMockSequence

from connectors.sheets.client import SCOPE_READONLY, Access, Transport
from connectors.sheets.source import SheetsSource
from sync.base.errors import AuthError, ConfigError, FatalError, RetriableError
from sync.base.records import GoalDef, Metric, Override, WorkItem
from tests.connectors.helpers import FORMULA_TITLE, pull_context

ACCESS = Access(
    spreadsheet_id="1AbC",
    who="source 'plan'",
    scope=SCOPE_READONLY,
    mode="key",
    account="goalsync@acme-prod.iam.gserviceaccount.com",
)
TABS = {"goals": "Goals", "metrics": "KPIs", "overrides": "Overrides", "tasks": "Team plan"}
# Serial dates: 46296 = 2026-10-01, 46310 = 2026-10-15; 46310.5 = noon.
VALUES: dict[str, list[list[Any]]] = {
    "Goals": [
        ["ID", "Title", "Owner", "Start", "Due", "Target", "Parent"],
        ["G1", "Launch billing", "Dana", 46296, 46371, "", ""],
        ["G9", "New goal", "", "", "someday", 5, ""],
    ],
    "KPIs": [
        ["Name", " DATE ", "value"],
        ["nps", 46296, 31],
        ["nps", 46310.5, "2,5"],
        ["arr", "2026-10-20", 1.5],
    ],
    "Overrides": [["id", "status", "reason", "until"], ["G1.1", "at risk", "vendor", 46371]],
    "Team plan": [
        ["Key", "Title", "State", "Status", "Assignee", "Labels", "Points", "Updated", "URL"],
        ["T-1", FORMULA_TITLE, "done", "Done", "Kim", "a; b", 3, 46310.5, "https://p/1"],
        ["T-2", "Second", "doing", "", "", "blocked", "", "", ""],
        ["", "no key", "todo"],
        ["T-4", "Bad points", "todo", "", "", "", -1],
        [42, "numeric key", "todo"],
    ],
}


def batch(tabs: dict[str, str]) -> dict[str, Any]:
    return {
        "spreadsheetId": "1AbC",
        "valueRanges": [
            {"range": f"'{t}'!A1:Z100", "majorDimension": "ROWS", "values": VALUES[t]}
            for t in tabs.values()
        ],
    }


def mocked(*responses: Any, tabs: dict[str, str] = TABS) -> tuple[SheetsSource, HttpMockSequence]:
    http = HttpMockSequence([({"status": str(s), **h}, json.dumps(b)) for s, b, h in responses])
    return SheetsSource("plan", ACCESS, tabs, transport=Transport(http=http)), http


def test_one_batch_get_of_every_tab_unformatted_with_serial_dates() -> None:
    source, http = mocked((200, batch(TABS), {}))
    result = source.fetch(pull_context())
    (call,) = http.request_sequence
    uri, method, body, _ = call
    parts = urlsplit(uri)
    assert (parts.netloc, parts.path, method, body) == (
        "sheets.googleapis.com",
        "/v4/spreadsheets/1AbC/values:batchGet",
        "GET",
        None,
    )
    assert parse_qs(parts.query) == {
        "ranges": ["'Goals'", "'KPIs'", "'Overrides'", "'Team plan'"],
        "majorDimension": ["ROWS"],
        "valueRenderOption": ["UNFORMATTED_VALUE"],
        "dateTimeRenderOption": ["SERIAL_NUMBER"],
        "alt": ["json"],
    }
    assert result.complete is True and result.has_history is False
    assert result.requests == 1


def test_rows_become_records() -> None:
    source, _ = mocked((200, batch(TABS), {}))
    result = source.fetch(pull_context())
    assert [i.key for i in result.items] == ["T-1", "T-2", "42"]
    first = result.items[0]
    assert first == WorkItem(
        source="plan",
        key="T-1",
        kind="task",
        title=FORMULA_TITLE,  # a title is text, whatever it starts with
        url="https://p/1",
        status="Done",
        state="done",
        assignee="Kim",
        labels=("a", "b"),
        points=3.0,
        updated=datetime(2026, 10, 15, 10, 0, tzinfo=UTC),  # noon in Berlin (CEST)
    )
    assert result.items[1].state == "in_progress" and result.items[1].blocked is True
    assert result.metrics == [
        Metric(source="plan", name="nps", at=datetime(2026, 9, 30, 22, tzinfo=UTC), value=31.0),
        Metric(source="plan", name="arr", at=datetime(2026, 10, 19, 22, tzinfo=UTC), value=1.5),
    ]
    assert result.goal_defs == [
        GoalDef(
            source="plan",
            id="G1",
            title="Launch billing",
            owner="Dana",
            start=date(2026, 10, 1),
            due=date(2026, 12, 15),
            origin="Goals row 2",
        )
    ]
    assert result.overrides == [
        Override(
            source="plan",
            id="G1.1",
            status="At risk",
            reason="vendor",
            until=date(2026, 12, 15),
            origin="Overrides row 2",
        )
    ]


def test_bad_rows_are_reported_with_tab_row_and_column_and_skipped() -> None:
    source, _ = mocked((200, batch(TABS), {}))
    warnings = source.fetch(pull_context()).warnings
    assert len(warnings) == 4
    assert warnings[0].startswith("tab Goals row 3, column due: 'someday' is not a date")
    assert warnings[1].startswith("tab KPIs row 3, column value: '2,5' is not a number")
    assert warnings[2] == "tab Team plan row 4, column key: empty, a value is required; row skipped"
    assert warnings[3].startswith("tab Team plan row 5, column points: -1 is negative")


def test_only_the_configured_tabs_are_read_and_empty_tabs_yield_nothing() -> None:
    tabs = {"metrics": "KPIs", "overrides": "Overrides"}
    empty = {"spreadsheetId": "1AbC", "valueRanges": [{"range": "'KPIs'!A1:Z1000"}] * 2}
    source, http = mocked((200, empty, {}), tabs=tabs)
    result = source.fetch(pull_context())
    assert parse_qs(urlsplit(http.request_sequence[0][0]).query)["ranges"] == [
        "'KPIs'",
        "'Overrides'",
    ]
    assert result.metrics == [] and result.items == [] and result.warnings == []


def test_a_missing_tab_is_a_config_error_naming_it() -> None:
    refused = {
        "error": {
            "code": 400,
            "message": "Unable to parse range: 'Team plan'",
            "status": "INVALID_ARGUMENT",
        }
    }
    titles = {"sheets": [{"properties": {"title": t}} for t in ("Goals", "KPIs", "Overrides")]}
    source, http = mocked((400, refused, {}), (200, titles, {}))
    with pytest.raises(ConfigError) as info:
        source.fetch(pull_context())
    assert str(info.value) == (
        "source 'plan': spreadsheet 1AbC has no tab 'Team plan' (its tabs: Goals, KPIs, "
        "Overrides); fix the names under tabs:, or leave a tab out"
    )
    assert parse_qs(urlsplit(http.request_sequence[1][0]).query)["fields"] == [
        "sheets.properties.title"
    ]


def test_a_missing_required_column_fails_the_source_naming_tab_and_column() -> None:
    values = {"spreadsheetId": "1AbC", "valueRanges": [{"values": [["title", "state"], ["x"]]}]}
    source, _ = mocked((200, values, {}), tabs={"tasks": "Tasks"})
    with pytest.raises(FatalError, match=r"source 'plan': tab Tasks: no column key"):
        source.fetch(pull_context())


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (
            403,
            AuthError,
            "share the sheet with goalsync@acme-prod.iam.gserviceaccount.com as Viewer",
        ),
        (401, AuthError, "did not accept the credentials"),
        (404, ConfigError, "spreadsheet 1AbC was not found"),
    ],
)
def test_errors_say_what_to_do(status: int, kind: type[Exception], words: str) -> None:
    source, _ = mocked((status, {"error": {"code": status, "message": "no"}}, {}))
    with pytest.raises(kind, match=words):
        source.fetch(pull_context())


def test_server_errors_are_retried_then_left_to_the_engine() -> None:
    down = (503, {"error": {"code": 503, "message": "unavailable"}}, {"retry-after": "0"})
    source, http = mocked(down, (200, batch(TABS), {}))
    assert source.fetch(pull_context()).requests == 2
    source, http = mocked(*[down] * 8)
    with pytest.raises(RetriableError, match="503"):
        source.fetch(pull_context())
    assert len(http.request_sequence) == 8
