"""The plan sheet's Check-ins tab (`tabs: {checkins: ...}`) against the loopback fake of the
Sheets API: rows read by header name with serial dates, bad rows skipped and named with the tab."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from connectors.sheets.config import SheetsSourceConfig
from sync.base.records import CheckIn
from tests.connectors.helpers import pull_context
from tests.fakes.sheets import FakeSheets

# 46335 is 2026-11-09 as a spreadsheet's serial day number.
CHECKINS: list[list[Any]] = [
    ["ID", "Date", "Confidence", "Comment", "By"],
    ["G1.1", 46335, "at risk", "'=vendor late", "Dana Lee"],  # typed with a quote
    ["G1.2", "2026-11-10", "ON TRACK", "", ""],
    ["G1.2", "soon", "On track", "bad date", ""],
    ["G1.3", "2026-11-10", "fine", "bad confidence", ""],
]


def test_the_check_ins_tab_is_read_beside_the_other_tabs(tmp_path: Path) -> None:
    with FakeSheets() as sheets:
        sheets.add_spreadsheet(
            "PLAN", {"Goals": [["id", "title"]], "Check-ins": CHECKINS, "Notes": [["x"]]}
        )
        config = SheetsSourceConfig.model_validate(
            {
                "type": "sheets",
                "spreadsheet_id": "PLAN",
                "endpoint": sheets.url,
                "credentials": "anonymous",
                "tabs": {"goals": "Goals", "checkins": "Check-ins"},
            }
        )
        result = config.build("plan", tmp_path).fetch(pull_context())
        calls = sheets.count("GET", "/v4/spreadsheets/PLAN/values:batchGet")
    assert calls == 1  # the Check-ins tab rides in the same batchGet
    assert result.checkins == [
        CheckIn(
            source="plan",
            id="G1.1",
            date=date(2026, 11, 9),
            confidence="At risk",
            comment="=vendor late",  # text stays text
            by="Dana Lee",
            origin="Check-ins row 2",
        ),
        CheckIn(
            source="plan",
            id="G1.2",
            date=date(2026, 11, 10),
            confidence="On track",
            origin="Check-ins row 3",
        ),
    ]
    assert result.warnings == [
        "tab Check-ins row 4, column date: 'soon' is not a date (use YYYY-MM-DD); row skipped",
        "tab Check-ins row 5, column confidence: 'fine' is not a confidence "
        "(use On track, At risk or Off track); row skipped",
    ]


def test_the_check_ins_tab_is_not_in_the_default_tabs() -> None:
    """A sheet set up before check-ins existed has no such tab: reading one by default would
    fail its source."""
    config = SheetsSourceConfig.model_validate({"type": "sheets", "spreadsheet_id": "PLAN"})
    assert config.tabs.checkins is None
