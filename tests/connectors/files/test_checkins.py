"""The `csv_checkins` file format: owners' check-ins read by header name; a row with a date that
is not a date or a confidence that is not one of the three is skipped and named, never fatal."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connectors.files.source import FileSourceConfig
from sync.base.errors import FatalError
from sync.base.records import CheckIn
from tests.connectors.helpers import pull_context

CSV = """\
ID,Date,Confidence,Comment,By
G1.1,2026-11-09,on TRACK,"Vendor signed, go-live on plan",Dana Lee
G1.2,2026-11-10,Off-track,,
G1.1,next week,At risk,typo in the date,Dana Lee
G1.2,2026-11-11,green,not a confidence,Sam
G1.3,,At risk,no date,Sam
"""


def fetch(tmp_path: Path, text: str) -> tuple[list[CheckIn], list[str]]:
    (tmp_path / "checkins.csv").write_text(text)
    config = FileSourceConfig.model_validate(
        {"type": "file", "path": "checkins.csv", "format": "csv_checkins"}
    )
    result = config.build("voice", tmp_path).fetch(pull_context())
    return result.checkins, result.warnings


def test_check_in_rows_become_records_any_case_of_confidence(tmp_path: Path) -> None:
    checkins, _ = fetch(tmp_path, CSV)
    assert checkins == [
        CheckIn(
            source="voice",
            id="G1.1",
            date=date(2026, 11, 9),
            confidence="On track",
            comment="Vendor signed, go-live on plan",
            by="Dana Lee",
            origin="checkins.csv row 2",
        ),
        CheckIn(
            source="voice",
            id="G1.2",
            date=date(2026, 11, 10),
            confidence="Off track",
            origin="checkins.csv row 3",
        ),
    ]


def test_bad_rows_are_skipped_and_named_with_row_and_column(tmp_path: Path) -> None:
    _, problems = fetch(tmp_path, CSV)
    assert problems == [
        "checkins.csv row 4, column date: 'next week' is not a date (use YYYY-MM-DD); row skipped",
        "checkins.csv row 5, column confidence: 'green' is not a confidence "
        "(use On track, At risk or Off track); row skipped",
        "checkins.csv row 6, column date: empty, a value is required; row skipped",
    ]


@pytest.mark.parametrize("done", ["Done", "Not started"])
def test_done_and_not_started_are_facts_not_confidences(tmp_path: Path, done: str) -> None:
    checkins, problems = fetch(tmp_path, f"id,date,confidence\nG1.1,2026-11-09,{done}\n")
    assert checkins == [] and "is not a confidence" in problems[0]


def test_a_file_without_a_confidence_column_fails_naming_file_and_column(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match=r"^checkins\.csv: no column confidence"):
        fetch(tmp_path, "id,date,comment\nG1.1,2026-11-09,x\n")
