"""mappings/checkins.py through evaluate: the latest check-in per key result, shown beside the
status and never changing it, and the two risks it raises (no check-in, owner and data disagree)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from mappings.evaluate import evaluate
from mappings.model import StatusRules
from sync.base.records import CheckIn, Confidence, Override, Records, WorkItem
from sync.base.report import RiskRow, StatusReport
from tests.mappings.conftest import BERLIN, NOW, RULES, clause, goal, item, kr, plan_of, row

# Now is 2026-11-16 (Berlin); the cycle runs 2026-10-01 .. 2026-12-31, so about 51 % is expected.
PLAN = plan_of(
    goal(
        "G1",
        kr("K1", owner="Kim", select=[clause(labels=["k1"])]),  # 1 of 10 done: Off track
        kr("K2", owner="Lee", select=[clause(labels=["k2"])]),  # 6 of 10 done: On track
        kr("K3", select=[clause(labels=["k3"])]),  # no owner (nor has its goal)
    )
)


def items(label: str, done: int) -> list[WorkItem]:
    return [
        item(f"{label}-{n}", labels=(label,), state="done" if n < done else "todo")
        for n in range(10)
    ]


ITEMS = [*items("k1", 1), *items("k2", 6), *items("k3", 6)]


def checkin(ident: str, day: date, confidence: Confidence, comment: str = "") -> CheckIn:
    return CheckIn(
        source="plan",
        id=ident,
        date=day,
        confidence=confidence,
        comment=comment,
        by="Kim",
        origin="Check-ins row 2",
    )


def run(
    *checkins: CheckIn, overrides: tuple[Override, ...] = (), rules: StatusRules = RULES
) -> StatusReport:
    records = Records(items=tuple(ITEMS), checkins=checkins, overrides=overrides)
    return evaluate(PLAN, records, NOW, rules=rules, tz=BERLIN)


def risks(report: StatusReport, kind: str) -> list[RiskRow]:
    return [r for r in report.risks if r.risk == kind]


def test_the_latest_check_in_at_or_before_today_is_shown() -> None:
    report = run(
        checkin("K2", date(2026, 11, 1), "At risk", "vendor late"),
        checkin("K2", date(2026, 11, 16), "On track", "vendor signed"),  # today: counts
        checkin("K2", date(2026, 11, 9), "Off track", "older"),  # listed later, dated earlier
        checkin("K2", date(2026, 11, 17), "Off track", "tomorrow"),  # not yet
    )
    shown = row(report, "K2").checkin
    assert shown is not None and (shown.date, shown.comment) == (
        date(2026, 11, 16),
        "vendor signed",
    )
    assert row(report, "K1").checkin is None


def test_on_the_same_date_the_row_written_last_wins() -> None:
    report = run(
        checkin("K2", date(2026, 11, 10), "At risk", "first"),
        checkin("K2", date(2026, 11, 10), "On track", "second"),
    )
    shown = row(report, "K2").checkin
    assert shown is not None and shown.comment == "second"


def test_a_goal_can_be_checked_in_too() -> None:
    shown = row(run(checkin("G1", date(2026, 11, 10), "At risk", "hiring")), "G1").checkin
    assert shown is not None and shown.confidence == "At risk"


def test_a_check_in_never_changes_the_status_progress_or_note() -> None:
    plain = run()
    said = run(
        checkin("K1", date(2026, 11, 15), "On track"),
        checkin("K2", date(2026, 11, 15), "Off track"),
        checkin("G1", date(2026, 11, 15), "Off track"),
    )
    assert [r.status for r in plain.rows] == ["On track", "Off track", "On track", "On track"]
    for before, after in zip(plain.rows, said.rows, strict=True):
        assert (after.status, after.progress, after.note) == (
            before.status,
            before.progress,
            before.note,
        )


def test_owner_and_data_two_levels_apart_is_a_risk_either_way() -> None:
    report = run(
        checkin("K1", date(2026, 11, 15), "On track"),  # data: Off track
        checkin("K2", date(2026, 11, 15), "Off track"),  # data: On track
    )
    found = risks(report, "owner and data disagree")
    assert [(r.key_result, r.owner, r.since) for r in found] == [
        ("K1", "Kim", date(2026, 11, 15)),
        ("K2", "Lee", date(2026, 11, 15)),
    ]
    assert found[0].reason == "owner says On track on 2026-11-15, data says Off track"
    assert found[1].reason == "owner says Off track (Kim) on 2026-11-15, data says On track"
    # counted in the row's and its goal's Risks
    assert row(report, "K1").risks == row(run(), "K1").risks + 1
    assert row(report, "G1").risks == row(run(), "G1").risks + 2


def test_one_level_apart_is_no_disagreement() -> None:
    report = run(
        checkin("K1", date(2026, 11, 15), "At risk"),
        checkin("K2", date(2026, 11, 15), "At risk"),
    )
    assert risks(report, "owner and data disagree") == []


def test_disagreement_is_with_the_data_not_with_an_override() -> None:
    hand = Override(source="plan", id="K1", status="On track", reason="board call")
    report = run(checkin("K1", date(2026, 11, 15), "On track"), overrides=(hand,))
    assert row(report, "K1").status == "On track"  # the override shows
    assert [r.key_result for r in risks(report, "owner and data disagree")] == ["K1"]


def test_no_check_in_for_longer_than_checkin_stale_days_is_a_risk() -> None:
    report = run(
        checkin("K1", date(2026, 11, 1), "At risk"),  # 15 days ago
        checkin("K2", date(2026, 11, 2), "On track"),  # 14 days ago: not yet
    )
    (found,) = risks(report, "no check-in")
    assert (found.key_result, found.owner, found.since) == ("K1", "Kim", date(2026, 11, 1))
    assert found.reason == "last check-in 2026-11-01, 15 days ago; expected every 14 days"
    longer = run(
        checkin("K1", date(2026, 11, 1), "At risk"),
        checkin("K2", date(2026, 11, 2), "On track"),
        rules=StatusRules(checkin_stale_days=15),
    )
    assert risks(longer, "no check-in") == []


def test_a_key_result_never_checked_in_counts_from_its_start_and_needs_an_owner() -> None:
    report = run(checkin("K2", date(2026, 11, 15), "On track"))
    # K1 (owner Kim) never checked in since 2026-10-01; K3 has no owner: nobody to ask
    (found,) = risks(report, "no check-in")
    assert (found.key_result, found.since) == ("K1", date(2026, 10, 1))
    assert found.reason.startswith("no check-in since the start (2026-10-01, 46 days ago)")


def test_without_any_check_in_the_team_does_not_use_them_and_nothing_is_flagged() -> None:
    assert risks(run(), "no check-in") == []


def test_a_done_key_result_owes_no_check_in() -> None:
    done = replace(PLAN.goals[0].key_results[1], target=50.0)  # 6 of 10 done: Done at 60 %
    plan = replace(PLAN, goals=(replace(PLAN.goals[0], key_results=(done,)),))
    records = Records(items=tuple(ITEMS), checkins=(checkin("K1", date(2026, 11, 15), "At risk"),))
    report = evaluate(plan, records, NOW, rules=RULES, tz=BERLIN)
    assert row(report, "K2").status == "Done"
    assert risks(report, "no check-in") == []


def test_a_check_in_for_an_unknown_id_is_skipped_and_named() -> None:
    report = run(checkin("K9", date(2026, 11, 15), "On track"))
    assert all(r.checkin is None for r in report.rows)
    assert "Check-ins row 2: check-in for unknown id 'K9'; row skipped" in report.warnings
