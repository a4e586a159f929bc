"""Alerts: a key result's status change since the last run (with owner and reason), a degraded
run (exit 3) and a failed one (exit 4), sent as one Slack-compatible message to a loopback
webhook; a webhook that fails never changes the run's exit code, and its URL never shows."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from sync.alerts import (
    MAX_CHANGES_SHOWN,
    AlertsConfig,
    StatusChange,
    build_message,
    check_url,
    send,
    status_changes,
)
from sync.base import http_limits
from sync.base.report import HistoryRow, RiskRow, RunInfo, SourceRun, StatusReport, StatusRow
from sync.cli import main
from tests.fakes.server import FakeServer, Fault, Request, Response

SECRET_PATH = "/services/T0/B0/alert-secret-0123456789"
TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)


class Webhook(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.bodies: list[dict[str, Any]] = []

    def handle(self, request: Request) -> Response:
        self.bodies.append(request.json())
        status = self.statuses.pop(0) if self.statuses else 200
        return Response(status, "ok", {"Retry-After": "0"} if status >= 500 else {})


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    with Webhook() as server:
        monkeypatch.setenv("GOALSYNC_WEBHOOK_URL", f"{server.url}{SECRET_PATH}")
        yield server


def kr(ident: str, status: str, **kw: Any) -> StatusRow:
    base: dict[str, Any] = dict(
        id=ident, level="kr", title=f"Title {ident}", owner="Ana", start=date(2026, 10, 1),
        due=date(2026, 12, 31), value=40.0, target=100.0, progress=40.0, expected=50.5,
        status=status, goal_id="G1",
    )  # fmt: skip
    return StatusRow(**(base | kw))


def report(*rows: StatusRow, risks: tuple[RiskRow, ...] = ()) -> StatusReport:
    history = tuple(
        HistoryRow(date=TODAY, id=r.id, value=r.value, progress=r.progress,
                   expected=r.expected, status=r.status)
        for r in rows
    )  # fmt: skip
    return StatusReport(now=NOW, rows=rows, history=history, risks=risks)


def past(ident: str, status: str, day: date) -> HistoryRow:
    return HistoryRow(date=day, id=ident, value=1, progress=1, expected=1, status=status)


# --- what changed -----------------------------------------------------------------------------


def test_a_change_is_against_the_latest_history_row() -> None:
    previous = [
        past("G1.1", "Off track", TODAY - timedelta(days=9)),
        past("G1.1", "On track", TODAY - timedelta(days=1)),
        past("G1.2", "On track", TODAY - timedelta(days=1)),
        past("G1.2", "At risk", TODAY),  # an earlier run today: already told
        past("G1.3", "Done", TODAY + timedelta(days=3)),  # after this run's day (--as-of)
    ]
    now = report(kr("G1.1", "At risk"), kr("G1.2", "At risk"), kr("G1.3", "On track"),
                 kr("G1.4", "Off track"))  # fmt: skip
    (change,) = status_changes(previous, now)
    assert (change.id, change.before, change.after) == ("G1.1", "On track", "At risk")
    assert change.since == TODAY - timedelta(days=1) and change.owner == "Ana"
    assert status_changes([], now) == []  # the first run: nothing to compare with


def test_goals_are_told_only_when_asked() -> None:
    goal = StatusRow(id="G1", level="goal", title="Billing", owner="Dana", start=TODAY,
                     due=TODAY, value=None, target=None, progress=30.0, expected=50.0,
                     status="Off track")  # fmt: skip
    previous = [past("G1", "At risk", TODAY - timedelta(days=1))]
    assert status_changes(previous, report(goal)) == []
    assert [c.id for c in status_changes(previous, report(goal), levels=("kr", "goal"))] == ["G1"]


def test_the_reason_names_the_note_the_gap_and_the_risks() -> None:
    risks = tuple(
        RiskRow(key_result="G1.1", goal="G1", item=f"PAY-{n}", risk=kind, owner=None,
                since=None, reason="")
        for n, kind in enumerate(["blocked", "blocked", "overdue"])
    )  # fmt: skip
    now = report(kr("G1.1", "At risk", note="forecast after due (P85 2027-01-04)"), risks=risks)
    (change,) = status_changes([past("G1.1", "On track", TODAY - timedelta(days=1))], now)
    assert change.reason == (
        "forecast after due (P85 2027-01-04); progress 40.0 % vs expected 50.5 %; "
        "2 blocked, 1 overdue"
    )


# --- the message ------------------------------------------------------------------------------


def change(n: int = 1, title: str = "Billing epic") -> StatusChange:
    return StatusChange(
        id=f"G1.{n}", level="kr", title=title, owner="Ana Costa", before="On track",
        after="At risk", since=TODAY, reason="2 blocked",
    )  # fmt: skip


def run_info(*sources: SourceRun) -> RunInfo:
    return RunInfo(run_id="r1", started=NOW, as_of=NOW, version="0.1.0", sources=sources)


def test_nothing_to_say_is_no_message() -> None:
    events = ("status_change", "degraded", "failed")
    assert build_message(changes=[], exit_code=0, run=run_info(), error="", events=events) is None
    assert build_message(changes=[change()], exit_code=0, run=None, error="", events=()) is None


def test_a_status_change_message_is_slack_blocks_with_text() -> None:
    payload = build_message(
        changes=[change(title="<b>Billing</b> & co")], exit_code=0, run=run_info(), error="",
        events=("status_change",),
    )  # fmt: skip
    assert payload is not None
    assert payload["text"].startswith("goalsync: 1 status change")
    section = payload["blocks"][1]["text"]["text"]
    assert "*G1.1 &lt;b&gt;Billing&lt;/b&gt; &amp; co*" in section  # mrkdwn escaped
    assert "On track → :large_yellow_circle: At risk" in section
    assert "Owner: Ana Costa · 2 blocked" in section
    assert payload["blocks"][0]["type"] == "header"
    assert payload["blocks"][-1]["type"] == "context"


def test_many_changes_are_cut_and_counted() -> None:
    changes = [change(n) for n in range(MAX_CHANGES_SHOWN + 5)]
    payload = build_message(changes=changes, exit_code=0, run=None, error="",
                            events=("status_change",))  # fmt: skip
    assert payload is not None
    assert len(payload["blocks"]) == 1 + MAX_CHANGES_SHOWN + 1
    assert "…and 5 more" in payload["text"]


def test_degraded_and_failed_runs() -> None:
    stale = SourceRun(name="jira", type="jira", ok=False, last_success=NOW - timedelta(days=1),
                      stale_since=NOW - timedelta(hours=3), error="Jira answered 503")  # fmt: skip
    degraded = build_message(changes=[], exit_code=3, run=run_info(stale), error="",
                             events=("degraded",))  # fmt: skip
    assert degraded is not None
    assert "run degraded: 1 source(s) stale" in degraded["text"]
    assert "*jira* (jira) stale since 2026-11-16 06:00 UTC: Jira answered 503" in degraded["text"]
    assert "show their last good values" in degraded["text"]
    failed = build_message(changes=[change()], exit_code=4, run=run_info(), error="sheets: 403",
                           events=("failed", "status_change"))  # fmt: skip
    assert failed is not None
    assert (
        "run FAILED (exit 4)" in failed["text"]
        and "publishing failed: sheets: 403" in failed["text"]
    )


def test_a_source_never_read_is_told_as_such_with_no_data() -> None:
    never = SourceRun(name="jira", type="jira", ok=False, last_success=None,
                      stale_since=NOW - timedelta(hours=3), error="Jira answered 401")  # fmt: skip
    stale = SourceRun(name="gh", type="github", ok=False, last_success=NOW - timedelta(days=1),
                      stale_since=NOW - timedelta(hours=1), error="answered 502")  # fmt: skip
    only = build_message(changes=[], exit_code=3, run=run_info(never), error="",
                         events=("degraded",))  # fmt: skip
    assert only is not None
    text = only["text"]
    assert "*jira* (jira) never read successfully (failing since 2026-11-16 06:00 UTC)" in text
    assert "their key results show No data" in text and "last good values" not in text
    both = build_message(changes=[], exit_code=3, run=run_info(never, stale), error="",
                         events=("degraded",))  # fmt: skip
    assert both is not None
    assert "a stale source's last good values, No data for one never read" in both["text"]
    assert "*gh* (github) stale since 2026-11-16 08:00 UTC" in both["text"]


def test_a_change_to_or_from_no_data_is_told_but_is_not_newly_off_track() -> None:
    yesterday = TODAY - timedelta(days=1)
    previous = [
        past("G1.1", "On track", yesterday),
        past("G1.2", "No data", yesterday),
        past("G1.3", "On track", yesterday),
        past("G1.4", "No data", yesterday),
    ]
    nodata = kr("G1.1", "No data", value=None, progress=None, note="no data: source jira never")
    now = report(nodata, kr("G1.2", "Off track"), kr("G1.3", "Off track"), kr("G1.4", "No data"))
    changes = status_changes(previous, now)
    assert [(c.id, c.before, c.after, c.newly) for c in changes] == [
        ("G1.1", "On track", "No data", None),
        ("G1.2", "No data", "Off track", None),
        ("G1.3", "On track", "Off track", "off track"),
    ]
    assert changes[0].reason == "no data: source jira never"  # no "progress" for a blank
    payload = build_message(changes=changes, exit_code=3, run=None, error="",
                            events=("status_change",))  # fmt: skip
    assert payload is not None
    assert payload["text"].startswith("goalsync: 3 status changes (1 newly off track)")
    assert "On track → :grey_question: No data" in payload["text"]


def test_a_secret_in_an_error_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", "atl-secret-token-9876543210")
    payload = build_message(changes=[], exit_code=4, run=None, events=("failed",),
                            error="refused atl-secret-token-9876543210")  # fmt: skip
    assert payload is not None and "atl-secret-token" not in json.dumps(payload)


# --- sending ----------------------------------------------------------------------------------


def test_send_posts_the_json(hook: Webhook) -> None:
    result = send(AlertsConfig(webhook_env="GOALSYNC_WEBHOOK_URL"), {"text": "hi"})
    assert result.sent and hook.bodies == [{"text": "hi"}]
    (request,) = hook.requests
    assert request.path == SECRET_PATH and request.headers["content-type"] == "application/json"


def test_a_5xx_is_retried_and_a_4xx_is_not(hook: Webhook) -> None:
    config = AlertsConfig(webhook_env="GOALSYNC_WEBHOOK_URL", timeout_s=2)
    hook.statuses = [503]
    assert send(config, {"text": "a"}).sent and len(hook.bodies) == 2
    hook.statuses = [404]
    result = send(config, {"text": "b"})
    assert not result.sent and result.reason == "webhook answered 404"
    assert len(hook.bodies) == 3


def test_without_the_variable_or_with_plain_http_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = AlertsConfig(webhook_env="NO_SUCH_WEBHOOK_VARIABLE")
    monkeypatch.delenv("NO_SUCH_WEBHOOK_VARIABLE", raising=False)
    assert send(config, {"text": "x"}).reason == "NO_SUCH_WEBHOOK_VARIABLE is not set"
    monkeypatch.setenv("NO_SUCH_WEBHOOK_VARIABLE", "http://hooks.example.com/x")
    assert "must be https" in send(config, {"text": "x"}).reason
    assert check_url("https://hooks.slack.com/services/x") == ""
    assert check_url("ftp://x") == "is not an http(s) URL"


def test_an_unreachable_webhook_is_logged_without_its_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Webhook() as gone:
        url = f"{gone.url}{SECRET_PATH}"
    monkeypatch.setenv("GOALSYNC_WEBHOOK_URL", url)
    result = send(AlertsConfig(webhook_env="GOALSYNC_WEBHOOK_URL", timeout_s=1), {"text": "x"},
                  budget_s=0.5)  # fmt: skip
    assert not result.sent and result.reason == "webhook: ConnectionError"
    assert SECRET_PATH not in result.reason + capsys.readouterr().err


def test_a_webhook_that_trickles_its_answer_is_given_up_within_the_deadline(
    hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every request has a deadline for the whole response, the alert's too: a webhook that
    sends its headers and then a byte every 0.5 s (each under the socket timeout) would hold a
    committed run, and its lock, for hours."""
    hook.inject(Fault("POST", "/", trickle=0.5, times=5))
    previous = http_limits.current()
    http_limits.configure(http_limits.Limits(deadline_s=1.0))
    try:
        t0 = time.monotonic()
        result = send(AlertsConfig(webhook_env="GOALSYNC_WEBHOOK_URL", timeout_s=2), {"text": "x"},
                      budget_s=2.5)  # fmt: skip
        took = time.monotonic() - t0
    finally:
        http_limits.configure(previous)
    assert not result.sent and result.reason == "webhook: DeadlineExceeded", result
    assert took < 5, took
    assert SECRET_PATH not in result.reason + capsys.readouterr().err


# --- from the CLI: a run, then another after the data changed -----------------------------------

ITEMS = "key,title,state,labels\nT-1,a,done,billing\nT-2,b,done,billing\nT-3,c,todo,billing\n" + (
    "T-4,d,todo,billing\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("GOALSYNC_CONFIG", "GOALSYNC_STATE_DIR", "GOALSYNC_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "warning")
    today = date.today()
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    (tmp_path / "goalsync.yaml").write_text(
        f"""\
version: 1
cycle: {{start: {today - timedelta(days=45)}, due: {today + timedelta(days=45)}}}
status: {{at_risk_gap: 10, off_track_gap: 40}}
sources:
  tasks: {{type: file, path: items.csv, format: csv_items}}
sinks:
  - {{type: csv, path: out/csv}}
alerts: {{webhook_env: GOALSYNC_WEBHOOK_URL}}
goals:
  - id: G1
    title: Ship billing
    owner: Dana Lee
    key_results:
      - id: G1.1
        title: Billing tasks done
        owner: Ana Costa
        select: [{{source: tasks, labels: [billing]}}]
""",
        encoding="utf-8",
    )
    yield tmp_path / "goalsync.yaml"
    structlog.reset_defaults()


def run(path: Path, *args: str) -> int:
    return main(["run", "--config", str(path), "--state-dir", str(path.parent / "state"), *args])


def test_a_run_that_changes_a_status_sends_one_message(
    project: Path, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project) == 0  # first run: nothing to compare with
    assert hook.bodies == []
    assert run(project) == 0  # nothing changed
    assert hook.bodies == []
    items = project.parent / "items.csv"
    items.write_text(ITEMS.replace("T-2,b,done", "T-2,b,todo"), encoding="utf-8")
    assert run(project, "--dry-run") == 0  # a dry run tells nobody
    assert hook.bodies == []
    assert run(project) == 0
    (body,) = hook.bodies
    text = body["text"]
    assert "goalsync: 1 status change" in text
    assert (
        "*G1.1 Billing tasks done*" in text and "On track → :large_yellow_circle: At risk" in text
    )
    assert "Owner: Ana Costa" in text and "progress 25.0 % vs expected" in text
    assert SECRET_PATH not in capsys.readouterr().err


def test_a_stale_source_and_a_failed_publish_are_told(
    project: Path, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project) == 0
    (project.parent / "items.csv").write_text("title\nno key\n", encoding="utf-8")
    assert run(project) == 3
    (body,) = hook.bodies
    assert "run degraded: 1 source(s) stale" in body["text"] and "*tasks* (file)" in body["text"]
    (project.parent / "items.csv").write_text(ITEMS, encoding="utf-8")
    # The csv folder under a file: the publish fails (a file at out/csv itself is not goalsync's
    # to replace: refused with exit 2 before the run)
    (project.parent / "blocker").write_text("a file in the way", encoding="utf-8")
    config = project.read_text(encoding="utf-8")
    project.write_text(config.replace("path: out/csv", "path: blocker/csv"), encoding="utf-8")
    assert run(project) == 4
    assert "run FAILED (exit 4)" in hook.bodies[-1]["text"]


def test_a_webhook_that_fails_never_changes_the_exit_code(
    project: Path, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project) == 0
    (project.parent / "items.csv").write_text("title\nno key\n", encoding="utf-8")
    hook.statuses = [500, 500, 500]
    assert run(project) == 3
    err = capsys.readouterr().err
    assert "alert_not_sent" in err and "webhook answered 500" in err
    assert SECRET_PATH not in err


def test_an_unknown_alerts_key_is_a_config_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = project.read_text(encoding="utf-8").replace("webhook_env:", "webhook_evn:")
    project.write_text(text, encoding="utf-8")
    assert main(["validate", "--config", str(project)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'webhook_evn' (did you mean 'webhook_env'?)" in err
