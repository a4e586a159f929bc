"""Opening the Sheets sink waits for `spreadsheets.get` only: the History tab is read on a thread
beside the sources' pulls, joined by `read_history` or `prepare`. A History read that fails
is read again there and fails the publish as before (PublishError, exit 4)."""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.http import HttpMockSequence

from connectors.sheets.client import Transport
from connectors.sheets.sink import SheetsSink
from sync.base.errors import ConfigError, PublishError
from tests.connectors.helpers import publish_context, sample_tables
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import FakeJira
from tests.fakes.server import Fault, Response
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import Workspace, config, cycle_around_today

from .test_sink import ACCESS, HISTORY, OK, SHEETS, google_error, reply

GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Billing done, select: [{source: jira, labels: [billing]}]}
"""


class GatedHttp(HttpMockSequence):  # type: ignore[misc]  # the library is not typed
    """HttpMockSequence whose values.batchGet waits until `gate` is set."""

    def __init__(self, responses: list[tuple[dict[str, str], str]]) -> None:
        super().__init__(responses)
        self.gate = threading.Event()
        self.history_asked = threading.Event()

    def request(self, uri: str, *args: Any, **kwargs: Any) -> Any:
        if "values:batchGet" in uri:
            self.history_asked.set()
            assert self.gate.wait(10), "the History read was never let through"
        return super().request(uri, *args, **kwargs)


def test_open_returns_after_the_get_and_the_history_is_read_beside_it() -> None:
    http = GatedHttp([reply(SHEETS), reply(HISTORY), OK])
    sink = SheetsSink(ACCESS, transport=Transport(http=http), budget_s=5)
    sink.open()  # returns while the History read is held at the gate
    assert http.history_asked.wait(5)
    assert len(http.request_sequence) == 1  # only the get has been answered
    http.gate.set()
    assert [r.id for r in sink.read_history()] == ["G1", "G1"]
    sink.prepare(sample_tables(), publish_context()).apply()
    assert [m for _, m, _, _ in http.request_sequence] == ["GET", "GET", "POST"]


def test_a_history_read_that_failed_after_open_is_read_again_and_fails_the_publish() -> None:
    refused = google_error(400, "Unable to parse range: 'History'", "INVALID_ARGUMENT")
    http = HttpMockSequence([reply(SHEETS), refused, reply(SHEETS), refused])
    sink = SheetsSink(ACCESS, transport=Transport(http=http), budget_s=5)
    sink.open()  # the get succeeded: no error here, the History read fails on its thread
    with pytest.raises(PublishError, match=r"refused \(400: Unable to parse range"):
        sink.prepare(sample_tables(), publish_context())
    # As when the open itself failed: the publish reads the sheet again, once.
    assert [m for _, m, _, _ in http.request_sequence] == ["GET"] * 4


def test_a_foreign_history_tab_found_after_open_still_stops_the_publish() -> None:
    foreign: dict[str, Any] = copy.deepcopy(HISTORY)
    foreign["valueRanges"][0]["values"] = [["Quarter", "Notes"], ["Q3", "a person's notes"]]
    http = HttpMockSequence([reply(SHEETS), reply(foreign)] * 2)
    sink = SheetsSink(ACCESS, transport=Transport(http=http), budget_s=5)
    sink.open()
    with pytest.raises(PublishError, match="History tab has no Date and ID columns"):
        sink.read_history()
    assert [m for _, m, _, _ in http.request_sequence] == ["GET"] * 4  # no write was sent


def test_a_history_read_that_recovers_on_the_second_read_publishes() -> None:
    down = google_error(500, "backend error", "INTERNAL")
    down[0]["retry-after"] = "0"
    http = HttpMockSequence([reply(SHEETS), *[down] * 8, reply(SHEETS), reply(HISTORY), OK])
    sink = SheetsSink(ACCESS, transport=Transport(http=http), budget_s=30)
    sink.open()
    sink.prepare(sample_tables(), publish_context()).apply()
    assert len(http.request_sequence) == 1 + 8 + 3


def test_a_missing_spreadsheet_is_still_found_by_open() -> None:
    http = HttpMockSequence([google_error(404, "Requested entity was not found.", "NOT_FOUND")])
    sink = SheetsSink(ACCESS, transport=Transport(http=http), budget_s=5)
    with pytest.raises(ConfigError, match=r"spreadsheet 1XyZ was not found \(404\)"):
        sink.open()


def test_a_run_whose_history_read_fails_exits_4_and_names_the_error(tmp_path: Path) -> None:
    """Through the CLI: the sink opened (the get answered), its History read refused each
    time: the run pulls, then fails the publish (exit 4) with the API's reason."""
    with FakeJira("cloud") as jira, FakeGitHub() as github, FakeSheets() as sheets:
        jira.add_issue("PAY-1", labels=["billing"], status="Done", category="done")
        github.add_repo("acme/web")
        sheets.add_spreadsheet("STATUS", {"History": [["Date", "ID", "Status"]]})
        ws = Workspace(tmp_path)
        ws.write_config(
            config(
                f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n"
                f"  gh: {{type: github, repos: [acme/web], base_url: '{github.url}'}}\n",
                f"  - {{type: sheets, spreadsheet_id: 'STATUS', endpoint: '{sheets.url}/',"
                " credentials: anonymous}\n",
                GOALS,
                cycle=cycle_around_today(),
            )
        )
        refused = Response(400, {"error": {"code": 400, "message": "Range is bad"}})
        sheets.inject(Fault("GET", "/v4/spreadsheets/STATUS/values", refused, times=99))
        run = ws.goalsync("run")
        assert run.code == 4, run
        assert "Range is bad" in run.output, run
        assert jira.count() >= 1 and github.count() >= 1  # the sources were pulled meanwhile
        assert sheets.count("POST") == 0  # nothing written
        # Read beside the pulls, again to seed the empty state's History, again to publish: the
        # reads a run made when its open failed.
        assert sheets.count("GET", "/v4/spreadsheets/STATUS/values") == 3
