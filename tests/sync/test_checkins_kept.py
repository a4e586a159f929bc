"""Check-ins through the state: committed with a run and read back (a stale plan sheet keeps its
owners' last words); a run keeps values beside its records (the digest's week) in the same
commit; and the Status tab's Confidence and Comment columns."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sync.base.records import CheckIn, Records
from sync.base.report import RunInfo, SourceRun, StatusReport, StatusRow, row_dicts
from sync.store import RunRow, SourceCommit, Store
from sync.tables import to_tables

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
SAID = CheckIn(
    source="plan",
    id="G1.1",
    date=date(2026, 11, 13),
    confidence="At risk",
    comment="=vendor late",
    by="Dana Lee",
    origin="Check-ins row 2",
)


def commit(store: Store, records: Records, kept: dict[str, str] | None = None) -> None:
    sources = {"plan": SourceCommit(type="sheets", ok=True, records=records)}
    with store.open_run(started=T0, sources=sources, history=[], kept=kept) as run:
        run.commit(RunRow(run_id="r1", started=T0, finished=T0, as_of=T0, exit_code=0, summary={}))


def test_check_ins_are_committed_and_read_back(tmp_path: Path) -> None:
    store = Store(tmp_path)
    commit(store, Records(checkins=(SAID,)))
    assert store.load_records(["plan"])["plan"].checkins == (SAID,)


def test_a_kept_value_is_committed_with_the_run(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.mark("digest_week") is None
    commit(store, Records(), kept={"digest_week": "2026-W47"})
    assert store.mark("digest_week") == "2026-W47"
    commit(store, Records())  # a run that keeps nothing leaves it
    assert store.mark("digest_week") == "2026-W47"


def test_confidence_and_comment_follow_note_in_the_status_tab() -> None:
    row = StatusRow(
        id="G1.1",
        level="kr",
        title="Billing",
        owner="Ana",
        start=date(2026, 10, 1),
        due=date(2026, 12, 31),
        value=10.0,
        target=100.0,
        progress=10.0,
        expected=50.0,
        status="Off track",
        checkin=SAID,
    )
    bare = replace(row, id="G1.2", checkin=None)
    report = StatusReport(now=T0, rows=(row, bare))
    run = RunInfo(run_id="r", started=T0, as_of=T0, version="t")
    status = next(
        t for t in to_tables(report, run, ZoneInfo("Europe/Berlin")) if t.name == "Status"
    )
    names = [c.name for c in status.columns]
    assert names[names.index("Note") + 1 :][:2] == ["Confidence", "Comment"]
    said, unsaid = row_dicts(status)
    assert (said["Status"], said["Confidence"]) == ("Off track", "At risk")
    assert said["Comment"] == "=vendor late (Dana Lee, 2026-11-13)"  # sinks keep it text
    assert (unsaid["Confidence"], unsaid["Comment"]) == (None, None)


def test_a_source_of_check_ins_says_how_many_it_read() -> None:
    """The run summary and the Run tab: "voice ok, 10 check-ins", not "0 items"."""
    run = SourceRun(name="voice", type="file", ok=True, last_success=T0, checkins=10)
    assert run.describe() == "10 check-ins"
    sheet = SourceRun(name="plan", type="sheets", ok=True, last_success=T0, items=3, checkins=2)
    assert sheet.describe() == "3 items, 2 check-ins"
