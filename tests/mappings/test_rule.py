"""mappings/rule.py: DESIGN.md's status rule as a table. Each row is a case: what differs from an
ordinary key result (started, due at the end of the cycle, 50 % expected, default gaps), and the
Status, the status before any override, and the rule's Note."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mappings.model import StatusRules
from mappings.rule import SEVERITY, Facts, status_rule
from sync.base.report import ROW_STATUSES
from tests.mappings.conftest import BERLIN, NOW, RULES, override, ts

START = date(2026, 10, 1)
DUE = date(2026, 12, 31)
WORST = StatusRules(goal_status="worst")
AHEAD = date(2026, 12, 1)  # a P85 before due
LATE = date(2027, 1, 15)  # a P85 after due

CASES: list[tuple[str, dict[str, Any], str, str, str]] = [
    # 1. base status
    ("ahead", {"progress": 60.0}, "On track", "On track", ""),
    ("gap at at_risk_gap", {"progress": 40.0}, "On track", "On track", ""),
    (
        "gap past at_risk_gap",
        {"progress": 39.5},
        "At risk",
        "At risk",
        "10.5 points behind expected",
    ),
    (
        "gap at off_track_gap",
        {"progress": 25.0},
        "At risk",
        "At risk",
        "25.0 points behind expected",
    ),
    (
        "gap past off_track_gap",
        {"progress": 24.9},
        "Off track",
        "Off track",
        "25.1 points behind expected",
    ),
    (
        "configured gaps",
        {"progress": 44.0, "rules": StatusRules(at_risk_gap=5, off_track_gap=8)},
        "At risk",
        "At risk",
        "6.0 points behind expected",
    ),
    ("done at 100 %", {"progress": 100.0}, "Done", "Done", ""),
    ("no value counts as 0", {"progress": None, "expected": 5.0}, "On track", "On track", ""),
    (
        "not started before 00:00 of start",
        {"progress": 100.0, "start": date(2026, 11, 17), "now": ts("2026-11-16T22:59Z")},
        "Not started",
        "Not started",
        "",
    ),
    (
        "started at 00:00 of start",
        {
            "progress": 0.0,
            "expected": 0.0,
            "start": date(2026, 11, 17),
            "now": ts("2026-11-16T23:00Z"),
        },
        "On track",
        "On track",
        "",
    ),
    (
        "past due below 100 %",
        {
            "progress": 95.0,
            "expected": 100.0,
            "due": date(2026, 11, 15),
            "now": ts("2026-11-15T23:00Z"),
        },
        "Off track",
        "Off track",
        "past due",
    ),
    (
        "due until 24:00 of due",
        {
            "progress": 95.0,
            "expected": 99.0,
            "due": date(2026, 11, 15),
            "now": ts("2026-11-15T22:59Z"),
        },
        "On track",
        "On track",
        "",
    ),
    (
        "past due at 100 %",
        {"progress": 100.0, "due": date(2026, 11, 15), "now": ts("2026-11-15T23:00Z")},
        "Done",
        "Done",
        "",
    ),
    # 2. children
    ("rollup ignores the parts' words", {"children": ["Off track"]}, "On track", "On track", ""),
    (
        "worst takes the worst part",
        {"rules": WORST, "children": ["Done", "At risk", "On track"]},
        "At risk",
        "At risk",
        "worst of its key results",
    ),
    (
        "worst may raise a goal",
        {"rules": WORST, "progress": 10.0, "children": ["Done", "On track"]},
        "On track",
        "On track",
        "worst of its key results",
    ),
    (
        "worst: Not started before Done",
        {"rules": WORST, "children": ["Done", "Not started"]},
        "Not started",
        "Not started",
        "worst of its key results",
    ),
    (
        "worst leaves No data out",
        {"rules": WORST, "children": ["No data", "Done"]},
        "Done",
        "Done",
        "worst of its key results",
    ),
    (
        "worst with only No data parts: base stands",
        {"rules": WORST, "progress": 10.0, "children": ["No data"]},
        "Off track",
        "Off track",
        "40.0 points behind expected",
    ),
    (
        "worst never starts a goal early",
        {"rules": WORST, "children": ["Off track"], "now": ts("2026-09-01T00:00Z")},
        "Not started",
        "Not started",
        "",
    ),
    ("worst is for goals only", {"rules": WORST}, "On track", "On track", ""),
    # 3. forecast
    (
        "P85 after due lowers On track",
        {"forecast_p85": LATE},
        "At risk",
        "At risk",
        "forecast after due (P85 2027-01-15)",
    ),
    ("P85 on due is fine", {"forecast_p85": DUE}, "On track", "On track", ""),
    ("P85 before due", {"forecast_p85": AHEAD}, "On track", "On track", ""),
    (
        "P85 lowers only On track",
        {"progress": 20.0, "forecast_p85": LATE},
        "Off track",
        "Off track",
        "30.0 points behind expected",
    ),
    (
        "P85 lowers a worst goal's On track",
        {"rules": WORST, "children": ["On track", "Done"], "forecast_p85": LATE},
        "At risk",
        "At risk",
        "forecast after due (P85 2027-01-15)",
    ),
    # 4. override
    (
        "override wins, Note says so",
        {"progress": 20.0, "override": override("K1", "On track", date(2026, 11, 16), "vendor")},
        "On track",
        "Off track",
        "override: vendor (until 2026-11-16); 30.0 points behind expected",
    ),
    (
        "override without reason or date",
        {"override": override("K1", "Done")},
        "Done",
        "On track",
        "override: set by hand",
    ),
    (
        "override over a forecast",
        {"forecast_p85": LATE, "override": override("K1", "On track")},
        "On track",
        "At risk",
        "override: set by hand; forecast after due (P85 2027-01-15)",
    ),
    # 5. no data
    (
        "no data, never Off track",
        {"has_data": False, "progress": None, "expected": 100.0},
        "No data",
        "No data",
        "",
    ),
    (
        "no data even past due",
        {"has_data": False, "progress": None, "due": date(2026, 11, 1)},
        "No data",
        "No data",
        "",
    ),
    (
        "no data ignores parts and forecast",
        {"has_data": False, "rules": WORST, "children": ["Off track"], "forecast_p85": LATE},
        "No data",
        "No data",
        "",
    ),
    (
        "an override wins over no data",
        {"has_data": False, "override": override("K1", "At risk", None, "known gap")},
        "At risk",
        "No data",
        "override: known gap",
    ),
]


@pytest.mark.parametrize(
    ("changes", "status", "computed", "note"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_status_rule(changes: dict[str, Any], status: str, computed: str, note: str) -> None:
    facts: dict[str, Any] = {
        "now": NOW,
        "tz": BERLIN,
        "start": START,
        "due": DUE,
        "progress": 50.0,
        "expected": 50.0,
        "rules": RULES,
    }
    verdict = status_rule(Facts(**(facts | changes)))
    assert (verdict.status, verdict.computed, "; ".join(verdict.notes())) == (
        status,
        computed,
        note,
    )


def test_the_notes_put_the_override_first_and_the_reason_last() -> None:
    facts = Facts(
        now=NOW,
        tz=BERLIN,
        start=START,
        due=DUE,
        progress=20.0,
        expected=50.0,
        rules=RULES,
        override=override("K1", "On track"),
    )
    assert status_rule(facts).notes("", "2 item(s) without x") == [
        "override: set by hand",
        "2 item(s) without x",
        "30.0 points behind expected",
    ]


def test_severity_orders_every_status_word_but_no_data() -> None:
    assert set(SEVERITY) == set(ROW_STATUSES) - {"No data"}
