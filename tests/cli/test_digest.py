"""The weekly digest (`alerts.events: [digest]`): what it says, when it is due, sent once per
week even when several runs fall on its day (the week is kept in the state, committed with the
run), never changing the exit code; and `goalsync digest --print`, which needs no webhook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from sync.alerts import (
    WEEKDAYS,
    AlertsConfig,
    build_digest,
    digest_due,
    digest_message,
    digest_text,
    week_of,
)
from sync.base.records import CheckIn
from sync.base.report import HistoryRow, RiskRow, StatusReport, StatusRow
from sync.cli import main
from sync.store import Store
from tests.cli.test_alerts import SECRET_PATH, Webhook, hook  # noqa: F401 (a fixture)

MONDAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)


def config(**kw: Any) -> AlertsConfig:
    return AlertsConfig.model_validate({"webhook_env": "HOOK", "events": ["digest"], **kw})


# --- when ---------------------------------------------------------------------------------------


def test_the_digest_is_due_once_a_week_from_its_day_on() -> None:
    monday = config()
    assert digest_due(monday, MONDAY, sent=None)
    assert not digest_due(monday, MONDAY, sent="2026-W47")  # sent this week already
    assert digest_due(monday, MONDAY, sent="2026-W46")  # last week's does not count
    # no run on Monday: the first run of the week after it sends it
    assert digest_due(monday, MONDAY + timedelta(days=2), sent="2026-W46")
    friday = config(digest_day="friday")
    assert not digest_due(friday, MONDAY, sent=None)  # not before its day
    assert digest_due(friday, MONDAY + timedelta(days=4), sent=None)
    # only when asked for
    assert not digest_due(config(events=["status_change"]), MONDAY, sent=None)
    assert week_of(MONDAY) == "2026-W47" and week_of(date(2027, 1, 1)) == "2026-W53"


def test_the_default_events_leave_the_digest_out_and_the_day_is_monday() -> None:
    plain = AlertsConfig(webhook_env="HOOK")
    assert "digest" not in plain.events and plain.digest_day == "monday"
    assert WEEKDAYS[MONDAY.weekday()] == "monday"


# --- what it says -------------------------------------------------------------------------------


def kr(ident: str, status: str, **kw: Any) -> StatusRow:
    base: dict[str, Any] = dict(
        id=ident, level="kr", title=f"Title {ident}", owner="Ana", start=date(2026, 10, 1),
        due=date(2026, 12, 31), value=40.0, target=100.0, progress=40.0, expected=50.5,
        status=status, goal_id="G1",
    )  # fmt: skip
    return StatusRow(**(base | kw))


def hist(ident: str, status: str, day: date) -> HistoryRow:
    return HistoryRow(date=day, id=ident, value=1, progress=1, expected=1, status=status)


def risk(kr_id: str, kind: str, item: str | None = None, reason: str = "why") -> RiskRow:
    return RiskRow(
        key_result=kr_id, goal="G1", item=item, risk=kind, owner="Ana", since=None, reason=reason
    )


SAID = CheckIn(
    source="plan",
    id="K3",
    date=date(2026, 11, 13),
    confidence="On track",
    comment="vendor <signed>",
    by="Kim",
)
OLD_WORD = CheckIn(source="plan", id="K4", date=date(2026, 11, 2), confidence="At risk")
REPORT = StatusReport(
    now=NOW,
    rows=(
        kr("K1", "Off track"),
        kr("K2", "At risk"),
        kr("K3", "On track", checkin=SAID),
        kr("K4", "Done", checkin=OLD_WORD),
    ),
    risks=(
        *(risk("K1", "stale", f"PAY-{n}") for n in range(8)),
        risk("K1", "overdue", "PAY-9"),
        risk("K2", "no check-in", reason="last check-in 2026-10-20, 27 days ago"),
        risk("K3", "owner and data disagree"),
    ),
)
PREVIOUS = [
    hist("K1", "On track", date(2026, 11, 2)),
    hist("K1", "On track", date(2026, 11, 9)),  # a week ago: the week's change is from here
    hist("K1", "At risk", date(2026, 11, 12)),  # mid-week: not what the week is measured from
    hist("K2", "On track", date(2026, 11, 13)),  # new this week: from its first row
    hist("K3", "On track", date(2026, 11, 9)),
    hist("K1", "Off track", MONDAY),  # today's (a run earlier today): not a base
]


def test_the_weeks_changes_are_against_a_week_ago_and_name_the_newly_at_risk() -> None:
    d = build_digest(PREVIOUS, REPORT, MONDAY, levels=("kr",))
    assert [(c.id, c.before, c.after, c.since, c.newly) for c in d.changes] == [
        ("K1", "On track", "Off track", date(2026, 11, 9), "off track"),
        ("K2", "On track", "At risk", date(2026, 11, 13), "at risk"),
    ]
    assert (d.week, d.since) == ("2026-W47", date(2026, 11, 9))


def test_the_text_has_changes_top_risks_overdue_check_ins_and_what_owners_said() -> None:
    text = digest_text(build_digest(PREVIOUS, REPORT, MONDAY, levels=("kr",)))
    head, changes, newly, risks, overdue, said = text.split("\n\n")
    assert head == "Weekly digest 2026-W47: 1 on track, 1 at risk, 1 off track, 1 done"
    assert changes.splitlines()[0] == "Status changes since 2026-11-09 (2):"
    assert changes.splitlines()[1].startswith("• K1 Title K1: On track → Off track (Ana) · ")
    assert newly == "Newly at risk or off track: K1 (off track), K2 (at risk)"
    # counted by kind, most severe first; one of each kind shown before a second of any
    assert risks.splitlines() == [
        "Top risks (11: 1 owner and data disagree, 1 overdue, 1 no check-in, 8 stale):",
        "• K3 owner and data disagree (Ana): why",
        "• K1 overdue PAY-9 (Ana): why",
        "• K2 no check-in (Ana): last check-in 2026-10-20, 27 days ago",
        "• K1 stale PAY-0 (Ana): why",
        "• K1 stale PAY-1 (Ana): why",
    ]
    assert overdue == "Check-ins overdue (1):\n• K2 (Ana): last check-in 2026-10-20, 27 days ago"
    # this week's words only (K4's is two weeks old); text as typed, not escaped
    assert said == (
        "Owners say:\n• K3 On track “vendor <signed>” (Kim, 2026-11-13); data says On track"
    )


def test_the_message_is_slack_blocks_with_text_and_escaped_markup() -> None:
    body = digest_message(build_digest(PREVIOUS, REPORT, MONDAY, levels=("kr",)))
    assert body["text"].startswith("goalsync: Weekly digest 2026-W47")
    assert body["blocks"][0]["type"] == "header"
    assert all(b["type"] == "section" for b in body["blocks"][1:])
    assert "vendor &lt;signed&gt;" in body["text"]


def test_a_quiet_week_says_so() -> None:
    quiet = StatusReport(now=NOW, rows=(kr("K1", "On track"),))
    text = digest_text(build_digest([hist("K1", "On track", date(2026, 11, 2))], quiet, MONDAY,
                                    levels=("kr",)))  # fmt: skip
    assert text == "Weekly digest 2026-W47: 1 on track\n\nStatus changes since 2026-11-09: none."


# --- from the CLI -------------------------------------------------------------------------------

ITEMS = "key,title,state,labels\nT-1,a,done,billing\nT-2,b,done,billing\nT-3,c,todo,billing\n"
CHECKINS = "id,date,confidence,comment,by\nG1.1,{day},Off track,vendor late,Ana Costa\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("GOALSYNC_CONFIG", "GOALSYNC_STATE_DIR", "GOALSYNC_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "warning")
    today = date.today()
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    (tmp_path / "checkins.csv").write_text(CHECKINS.format(day=today), encoding="utf-8")
    (tmp_path / "goalsync.yaml").write_text(
        f"""\
version: 1
cycle: {{start: {today - timedelta(days=45)}, due: {today + timedelta(days=45)}}}
sources:
  tasks: {{type: file, path: items.csv, format: csv_items}}
  voice: {{type: file, path: checkins.csv, format: csv_checkins}}
sinks:
  - {{type: csv, path: out}}
alerts:
  webhook_env: GOALSYNC_WEBHOOK_URL
  events: [digest]
  digest_day: {WEEKDAYS[today.weekday()]}
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


def test_two_runs_on_the_digest_day_send_one_digest(project: Path, hook: Webhook) -> None:  # noqa: F811
    assert run(project, "--dry-run") == 0  # a dry run neither sends nor marks the week
    assert hook.bodies == []
    assert run(project) == 0
    (body,) = hook.bodies
    week = week_of(date.today())
    assert body["text"].startswith(f"goalsync: Weekly digest {week}: 1 on track")
    assert "*G1.1* Off track “vendor late” (Ana Costa, " in body["text"]
    assert Store(project.parent / "state").mark("digest_week") == week
    assert run(project) == 0  # the same day again: already sent this week
    assert len(hook.bodies) == 1


def test_a_failing_webhook_never_changes_the_exit_code_and_the_week_stays_sent(
    project: Path,
    hook: Webhook,  # noqa: F811
) -> None:
    hook.statuses = [400]
    assert run(project) == 0
    assert len(hook.bodies) == 1  # tried once (a 4xx is not retried)
    assert run(project) == 0  # committed with the run: never sent twice
    assert len(hook.bodies) == 1


def test_a_run_that_fails_to_publish_keeps_the_digest_for_the_next_run(
    project: Path,
    hook: Webhook,  # noqa: F811
) -> None:
    out = project.parent / "out"
    out.mkdir()
    (out / "foreign.txt").write_text("not goalsync's", encoding="utf-8")
    assert run(project) == 2  # a folder it did not make: nothing published, nothing committed
    assert hook.bodies == []
    (out / "foreign.txt").unlink()
    out.rmdir()
    assert run(project) == 0
    assert len(hook.bodies) == 1


def test_digest_print_needs_no_webhook_and_sends_nothing(
    project: Path,
    hook: Webhook,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = str(project.parent / "state")
    assert main(["digest", "--print", "--config", str(project), "--state-dir", state]) == 2
    assert "no run committed" in capsys.readouterr().err
    assert run(project) == 0
    capsys.readouterr()
    monkeypatch.delenv("GOALSYNC_WEBHOOK_URL")
    assert main(["digest", "--print", "--config", str(project), "--state-dir", state]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Weekly digest {week_of(date.today())}: 1 on track")
    assert "owner and data disagree" in text  # Ana says Off track, the data On track
    assert len(hook.bodies) == 1  # the run's; printing sent nothing
    assert SECRET_PATH not in text
