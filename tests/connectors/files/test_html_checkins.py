"""The html page shows an owner's latest check-in under its key result, escaped as text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from connectors.files.html import render_page
from sync.base.records import CheckIn
from sync.base.report import RunInfo, StatusReport, StatusRow
from sync.tables import to_tables

NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)
GOAL = StatusRow(
    id="G1",
    level="goal",
    title="Billing",
    owner="Dana Lee",
    start=date(2026, 10, 1),
    due=date(2026, 12, 31),
    value=None,
    target=None,
    progress=10.0,
    expected=50.0,
    status="Off track",
    goal_id="G1",
)
SAID = CheckIn(
    source="plan",
    id="G1.1",
    date=date(2026, 11, 13),
    confidence="On track",
    comment="<script>alert(1)</script> fine",
    by="Ana",
)


def page(*rows: StatusRow) -> str:
    report = StatusReport(now=NOW, rows=rows)
    run = RunInfo(run_id="r", started=NOW, as_of=NOW, version="t")
    tables = to_tables(report, run, ZoneInfo("Europe/Berlin"))
    return render_page(tables, title="Status", generated=NOW)


def test_a_check_in_shows_under_its_key_result_escaped() -> None:
    kr = replace(GOAL, id="G1.1", level="kr", title="Checkout", checkin=SAID)
    html = page(GOAL, kr)
    shown = (
        '<div class="note checkin">Owner says <b>On track</b>: '
        "&lt;script&gt;alert(1)&lt;/script&gt; fine (Ana, 2026-11-13)</div>"
    )
    assert shown in html
    assert html.index("Checkout") < html.index(shown)  # under the key result's title
    assert "<script>alert" not in html


def test_without_a_check_in_nothing_is_added() -> None:
    kr = replace(GOAL, id="G1.1", level="kr", title="Checkout")
    assert "checkin" not in page(GOAL, kr)
