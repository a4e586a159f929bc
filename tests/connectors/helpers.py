"""Shared bits of the connector tests: fixture paths, a pull context, and a small status report
laid out as the sinks receive it (through sync.tables.to_tables), full of hostile text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sync.base.contracts import ItemRules, PublishContext, PullContext
from sync.base.report import (
    Alignment,
    HistoryRow,
    ItemRow,
    RiskRow,
    RunInfo,
    SourceRun,
    StatusReport,
    StatusRow,
    Table,
    UnalignedRow,
    WorkloadRow,
)
from sync.tables import to_tables

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

# The tabs and columns of DESIGN.md, "The status sheet", written out here on purpose: the sinks
# must show exactly these, whatever sync.base.report says.
DESIGN_HEADERS: dict[str, list[str]] = {
    "Status": [
        "ID", "Level", "Title", "Owner", "Start", "Due", "Value", "Target", "Progress %",
        "Expected %", "Status", "Trend 7d", "Forecast P85", "Risks", "Done / Total", "Sources",
        "Updated", "Note", "Confidence", "Comment",
    ],
    "Trends": ["Goal", "Title", "Date", "Progress %", "Expected %"],
    "Risks": ["Key result", "Goal", "Item", "Risk", "Owner", "Since", "Reason"],
    "Items": [
        "Key", "Source", "Title", "State", "Status", "Assignee", "Points", "Goal", "Key result",
        "Updated", "URL",
    ],
    "Unaligned": ["Key", "Source", "Title", "State", "Assignee", "Updated", "URL"],
    "Workload": ["Assignee", "Goal", "Open items", "Open points", "Over WIP limit"],
    "History": ["Date", "ID", "Value", "Progress %", "Expected %", "Status"],
}  # fmt: skip
TAB_ORDER = ["Status", "Trends", "Risks", "Items", "Unaligned", "Workload", "History", "Run"]

SCRIPT_TITLE = "<script>alert(1)</script>"
FORMULA_TITLE = '=HYPERLINK("http://x","y")'
JS_URL = "javascript:alert(1)"


def load_json(*parts: str) -> Any:
    return json.loads(FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))


def pull_context(rules: ItemRules | None = None, tz: Any = BERLIN) -> PullContext:
    return PullContext(source="test", run_started=NOW, tz=tz, rules=rules or ItemRules())


def publish_context() -> PublishContext:
    return PublishContext(run_id="run-1", now=NOW, tz=BERLIN)


def sample_report() -> StatusReport:
    updated = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)
    rows = (
        StatusRow(
            id="G1",
            level="goal",
            title=SCRIPT_TITLE,
            owner="Dana Lee",
            start=date(2026, 10, 1),
            due=date(2026, 12, 31),
            value=None,
            target=None,
            progress=62.5,
            expected=50.0,
            status="On track",
            goal_id="G1",
            updated=updated,
        ),
        StatusRow(
            id="G1.1",
            level="kr",
            title=FORMULA_TITLE,
            owner="@boss",
            start=date(2026, 10, 1),
            due=date(2026, 12, 15),
            value=5.0,
            target=8.0,
            progress=62.5,
            expected=40.0,
            status="At risk",
            risks=2,
            done=5,
            total=8,
            sources=("jira",),
            note="+1 call with vendor",
            goal_id="G1",
            updated=updated,
        ),
        StatusRow(
            id="G1.2",
            level="kr",
            title="-minus text\tand tab",
            owner=None,
            start=date(2026, 10, 1),
            due=date(2026, 12, 15),
            value=-3.0,
            target=10.0,
            progress=0.0,
            expected=40.0,
            status="Off track",
            trend_7d=-1.5,
            forecast_p85=date(2027, 1, 20),
            goal_id="G1",
        ),
        StatusRow(
            id="G2",
            level="goal",
            title="Cut cloud cost",
            owner="Kim",
            start=date(2026, 12, 1),
            due=date(2026, 12, 31),
            value=None,
            target=None,
            progress=None,
            expected=0.0,
            status="Not started",
            goal_id="G2",
        ),
        StatusRow(
            id="G2.1",
            level="kr",
            title="\rcarriage return",
            owner="Kim",
            start=date(2026, 12, 1),
            due=date(2026, 12, 31),
            value=100.0,
            target=100.0,
            progress=100.0,
            expected=0.0,
            status="Done",
            goal_id="G2",
        ),
    )
    risks = (
        RiskRow(
            key_result="G1.1",
            goal="G1",
            item="PAY-102",
            risk="blocked",
            owner="Ana Ruiz",
            since=datetime(2026, 10, 4, 10, tzinfo=UTC),
            reason="blocked: flagged",
            item_url="https://acme.atlassian.net/browse/PAY-102",
        ),
        RiskRow(
            key_result="G1.1",
            goal="G1",
            item="EVIL-1",
            risk="stale",
            owner=None,
            since=date(2026, 10, 1),
            reason="not updated for 46 days",
            item_url=JS_URL,
        ),
    )
    items = (
        ItemRow(
            key="PAY-101",
            source="jira",
            title="Refund API",
            state="done",
            status="Done",
            assignee="Sam Ortiz",
            points=5.0,
            goal="G1",
            key_result="G1.1",
            updated=datetime(2026, 10, 6, 16, 20, tzinfo=UTC),
            url="https://acme.atlassian.net/browse/PAY-101",
        ),
        ItemRow(
            key="acme/web#46",
            source="gh",
            title="=cmd|' /C calc'!A0",
            state="in_progress",
            status="open",
            assignee=None,
            points=None,
            goal="G1",
            key_result="G1.1",
            updated=None,
            url=None,
        ),
    )
    unaligned = (
        UnalignedRow(
            key="OPS-9",
            source="tasks",
            title="Side quest <b>bold</b>",
            state="todo",
            assignee="Lee",
            updated=None,
            url="https://plan.example/ops/9",
        ),
    )
    workload = (
        WorkloadRow(assignee="Sam Ortiz", goal="G1", open_items=9, open_points=21.5, over_wip=True),
    )
    history = (
        HistoryRow(
            date=date(2026, 11, 16),
            id="G1",
            value=None,
            progress=62.5,
            expected=50.0,
            status="On track",
        ),
    )
    return StatusReport(
        now=NOW,
        rows=rows,
        risks=risks,
        items=items,
        unaligned=unaligned,
        workload=workload,
        history=history,
        alignment=Alignment(
            aligned_items=3, unaligned_items=1, aligned_points=8, unaligned_points=0
        ),
    )


def sample_run(*, stale: bool = False) -> RunInfo:
    sources = (
        SourceRun(name="jira", type="file", ok=True, last_success=NOW, items=9),
        SourceRun(
            name="gh",
            type="file",
            ok=not stale,
            last_success=datetime(2026, 11, 15, 9, tzinfo=UTC),
            stale_since=NOW if stale else None,
            error="issues.json: not valid JSON" if stale else "",
        ),
    )
    return RunInfo(run_id="run-1", started=NOW, as_of=NOW, version="0.1.0", sources=sources)


def sample_tables(*, stale: bool = False) -> list[Table]:
    return to_tables(sample_report(), sample_run(stale=stale), BERLIN)


def trend_history() -> list[HistoryRow]:
    """A month of History for both goals and G1.1: G1 from 1 October every third day, with a
    No data day on 10 October; G2 (starting 1 December) and G1.1 on a few days."""
    rows = [
        HistoryRow(
            date=date(2026, 10, 1) + timedelta(days=d),
            id="G1",
            value=None,
            progress=None if d == 9 else 2.0 * d,
            expected=100 * d / 91,
            status="No data" if d == 9 else "On track",
        )
        for d in range(0, 47, 3)
    ]
    rows += [
        HistoryRow(date=date(2026, 11, 16) - timedelta(days=d), id="G1.1", value=5.0,
                   progress=60.0 - d, expected=40.0, status="At risk")
        for d in range(0, 40, 5)
    ]  # fmt: skip
    rows.append(
        HistoryRow(date=date(2026, 11, 20), id="G2", value=None, progress=None, expected=0.0,
                   status="Not started")
    )  # fmt: skip
    return rows


def trend_tables() -> list[Table]:
    """The sample report's tables with a month of History: G1 has a trend, G2 none yet."""
    return to_tables(sample_report(), sample_run(), BERLIN, trend_history())
