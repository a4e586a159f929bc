"""sync.tables.to_tables: DESIGN.md's tabs and columns, in order, with datetimes in the
config's timezone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sync.base.report import (
    MAX_WARNINGS_SHOWN,
    TAB_NAMES,
    Alignment,
    HistoryRow,
    ItemRow,
    Link,
    RiskRow,
    RunInfo,
    SourceRun,
    StatusReport,
    StatusRow,
    Table,
    TrendBlock,
    UnalignedRow,
    UnknownTag,
    WorkloadRow,
    looks_like_formula,
    row_dicts,
    status_counts,
    trend_blocks,
)
from sync.tables import MAX_TAG_KEYS_SHOWN, to_tables

BERLIN = ZoneInfo("Europe/Berlin")
# 23:30 UTC on 16 November is 00:30 on the 17th in Berlin: a date shift shows a conversion.
LATE = datetime(2026, 11, 16, 23, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)

COLUMNS = {
    "Status": [
        "ID", "Level", "Title", "Owner", "Start", "Due", "Value", "Target", "Progress %",
        "Expected %", "Status", "Trend 7d", "Forecast P85", "Risks", "Done / Total", "Sources",
        "Updated", "Note", "Confidence", "Comment",
    ],
    "Items": [
        "Key", "Source", "Title", "State", "Status", "Assignee", "Points", "Goal", "Key result",
        "Updated", "URL",
    ],
    "Risks": ["Key result", "Goal", "Item", "Risk", "Owner", "Since", "Reason"],
    "Unaligned": ["Key", "Source", "Title", "State", "Assignee", "Updated", "URL"],
    "Workload": ["Assignee", "Goal", "Open items", "Open points", "Over WIP limit"],
    "History": ["Date", "ID", "Value", "Progress %", "Expected %", "Status"],
    "Trends": ["Goal", "Title", "Date", "Progress %", "Expected %"],
}  # fmt: skip


def status_row(ident: str, level: str = "kr", **kw: object) -> StatusRow:
    values: dict[str, object] = {
        "id": ident,
        "level": level,
        "title": f"Title {ident}",
        "owner": "Dana",
        "start": date(2026, 10, 1),
        "due": date(2026, 12, 31),
        "value": 50.0,
        "target": 100.0,
        "progress": 50.0,
        "expected": 60.5,
        "status": "On track",
    }
    values.update(kw)
    return StatusRow(**values)  # type: ignore[arg-type]


def sample_report() -> StatusReport:
    return StatusReport(
        now=NOW,
        rows=(
            status_row(
                "G1", "goal", value=None, target=None, sources=("kpi", "tasks"), updated=LATE
            ),
            status_row(
                "G1.1",
                done=3,
                total=4,
                sources=("tasks",),
                updated=LATE,
                note="stale since 2026-11-17 00:30: source tasks failed",
                trend_7d=4.5,
                forecast_p85=date(2026, 12, 20),
                risks=2,
            ),
            status_row("G1.2", status="At risk", value=2.5, target=3.0),
        ),
        risks=(
            RiskRow(
                key_result="G1.1",
                goal="G1",
                item="T-2",
                risk="blocked",
                owner="bob",
                since=LATE,
                reason="status Blocked",
                item_url="https://tracker/T-2",
            ),
            RiskRow(
                key_result="G1.1",
                goal="G1",
                item=None,
                risk="scope growth",
                owner="Dana",
                since=date(2026, 11, 1),
                reason="scope grew 30 %",
            ),
        ),
        items=(
            ItemRow(
                key="T-2",
                source="tasks",
                title="=HYPERLINK()",
                state="in_progress",
                status="Blocked",
                assignee="bob",
                points=5.0,
                goal="G1",
                key_result="G1.1",
                updated=LATE,
                url="https://tracker/T-2",
            ),
        ),
        unaligned=(
            UnalignedRow(
                key="T-3",
                source="tasks",
                title="Other",
                state="todo",
                assignee=None,
                updated=LATE,
                url=None,
            ),
        ),
        workload=(
            WorkloadRow(assignee="bob", goal="G1", open_items=9, open_points=21.0, over_wip=True),
        ),
        history=(
            HistoryRow(
                date=date(2026, 11, 17), id="G1.1", value=50, progress=50, expected=60.5,
                status="On track",
            ),
            HistoryRow(
                date=date(2026, 11, 17), id="G1", value=None, progress=50, expected=60.5,
                status="On track",
            ),
        ),
        alignment=Alignment(
            aligned_items=2, unaligned_items=1, aligned_points=8.0, unaligned_points=2.0
        ),
        plan_changes=("G1.1 target 100 -> 90 (Goals!A3)",),
        warnings=("plan warning",),
    )  # fmt: skip


def run_info(*sources: SourceRun) -> RunInfo:
    return RunInfo(
        run_id="20261117T080000Z-abc123",
        started=NOW,
        as_of=LATE,
        version="1.2.3",
        sources=sources,
    )


def tables_by_name(tables: list[Table]) -> dict[str, Table]:
    return {t.name: t for t in tables}


def test_the_tabs_and_their_columns_are_exactly_designs_in_order() -> None:
    tables = to_tables(sample_report(), run_info(), BERLIN)
    assert [t.name for t in tables] == list(TAB_NAMES)
    assert set(TAB_NAMES) == {*COLUMNS, "Run"}
    assert TAB_NAMES[0] == "Status" and TAB_NAMES[-1] == "Run"
    by_name = tables_by_name(tables)
    for name, columns in COLUMNS.items():
        assert [c.name for c in by_name[name].columns] == columns, name
        assert all(len(row) == len(columns) for row in by_name[name].rows), name


def test_status_rows_hold_the_values_in_design_order() -> None:
    status = tables_by_name(to_tables(sample_report(), run_info(), BERLIN))["Status"]
    goal, kr, metric = (dict(zip(COLUMNS["Status"], row, strict=True)) for row in status.rows)
    assert [goal["ID"], kr["ID"], metric["ID"]] == ["G1", "G1.1", "G1.2"]
    assert (goal["Level"], kr["Level"]) == ("goal", "kr")
    assert kr["Done / Total"] == "3 / 4"
    assert goal["Done / Total"] is None and metric["Done / Total"] is None
    assert goal["Sources"] == "kpi, tasks"
    assert metric["Sources"] is None and metric["Note"] is None
    assert kr["Note"] == "stale since 2026-11-17 00:30: source tasks failed"
    assert (kr["Progress %"], kr["Expected %"]) == (50.0, 60.5)
    assert metric["Status"] == "At risk"
    assert (kr["Trend 7d"], kr["Forecast P85"], kr["Risks"]) == (4.5, date(2026, 12, 20), 2)
    assert (kr["Start"], kr["Due"]) == (date(2026, 10, 1), date(2026, 12, 31))


def test_datetimes_are_shown_in_the_given_timezone() -> None:
    report = sample_report()
    by_name = tables_by_name(to_tables(report, run_info(), BERLIN))
    berlin_late = datetime(2026, 11, 17, 0, 30, tzinfo=BERLIN)

    updated = by_name["Status"].rows[0][COLUMNS["Status"].index("Updated")]
    assert isinstance(updated, datetime)
    assert updated == LATE and updated.utcoffset() == BERLIN.utcoffset(berlin_late)
    assert (updated.date(), updated.hour, updated.minute) == (date(2026, 11, 17), 0, 30)
    assert by_name["Status"].rows[2][COLUMNS["Status"].index("Updated")] is None

    item_updated = by_name["Items"].rows[0][COLUMNS["Items"].index("Updated")]
    assert isinstance(item_updated, datetime) and item_updated.tzinfo == BERLIN
    assert item_updated.hour == 0
    unaligned_updated = by_name["Unaligned"].rows[0][COLUMNS["Unaligned"].index("Updated")]
    assert isinstance(unaligned_updated, datetime) and unaligned_updated.tzinfo == BERLIN

    # A risk's Since is a date: the day in the configured zone, not in UTC.
    blocked, scope = by_name["Risks"].rows
    assert blocked[5] == date(2026, 11, 17)
    assert scope[5] == date(2026, 11, 1)

    utc_tables = tables_by_name(to_tables(report, run_info(), UTC))
    assert utc_tables["Risks"].rows[0][5] == date(2026, 11, 16)
    utc_updated = utc_tables["Status"].rows[0][COLUMNS["Status"].index("Updated")]
    assert isinstance(utc_updated, datetime) and utc_updated.hour == 23


def test_item_keys_link_to_the_item_when_there_is_a_url() -> None:
    by_name = tables_by_name(to_tables(sample_report(), run_info(), BERLIN))
    assert by_name["Items"].rows[0][0] == Link("https://tracker/T-2", "T-2")
    assert by_name["Items"].rows[0][-1] == "https://tracker/T-2"
    assert by_name["Unaligned"].rows[0][0] == "T-3"  # no url: plain text
    assert by_name["Risks"].rows[0][2] == Link("https://tracker/T-2", "T-2")
    assert by_name["Risks"].rows[1][2] is None
    # Untrusted text is passed on as it is: the sinks decide how to keep it text.
    assert by_name["Items"].rows[0][2] == "=HYPERLINK()"


def test_workload_and_history_rows() -> None:
    report = sample_report()
    by_name = tables_by_name(to_tables(report, run_info(), BERLIN))
    assert by_name["Workload"].rows == [("bob", "G1", 9, 21.0, True)]
    # Without a full history, History holds today's rows, sorted by date and ID.
    assert [r[1] for r in by_name["History"].rows] == ["G1", "G1.1"]

    older = HistoryRow(
        date=date(2026, 11, 10), id="G1.1", value=20, progress=20, expected=40, status="At risk"
    )
    full = [*report.history, older]
    history = tables_by_name(to_tables(report, run_info(), BERLIN, full))["History"]
    assert history.rows[0] == (date(2026, 11, 10), "G1.1", 20, 20, 40, "At risk")
    assert [(r[0], r[1]) for r in history.rows] == [
        (date(2026, 11, 10), "G1.1"),
        (date(2026, 11, 17), "G1"),
        (date(2026, 11, 17), "G1.1"),
    ]


def test_the_run_tab_says_when_in_the_timezone_and_how_each_source_fared() -> None:
    warnings = tuple(f"row {n} skipped" for n in range(MAX_WARNINGS_SHOWN + 3))
    info = run_info(
        SourceRun(
            name="tasks",
            type="file",
            ok=False,
            last_success=datetime(2026, 11, 15, 9, 0, tzinfo=UTC),
            stale_since=LATE,
            items=4,
            error="items.csv: no column key",
        ),
        SourceRun(
            name="kpi",
            type="file",
            ok=True,
            last_success=NOW,
            metrics=2,
            requests=0,
            warnings=warnings,
        ),
    )
    run = tables_by_name(to_tables(sample_report(), info, BERLIN))["Run"]
    assert [c.name for c in run.columns] == ["Key", "Value", "Detail"]
    rows = {r[0]: r for r in run.rows}
    assert rows["Run at"][1:] == ("2026-11-17 09:00 CET", "run id 20261117T080000Z-abc123")
    assert rows["As of"][1] == "2026-11-17 00:30 CET"
    assert rows["Version"][1] == "goalsync 1.2.3"
    assert rows["Alignment by count"][1:] == ("66.7 %", "2 of 3 items serve a key result")
    assert rows["Alignment by points"][1] == "80.0 %"
    assert rows["Source tasks (file)"][1] == "stale since 2026-11-17 00:30 CET"
    assert rows["Source tasks (file)"][2] == (
        "last success 2026-11-15 10:00 CET; items.csv: no column key"
    )
    assert rows["Source kpi (file)"][1] == "ok"
    assert "2 metric values" in str(rows["Source kpi (file)"][2])
    shown = [r for r in run.rows if r[0] == "Warning kpi"]
    assert len(shown) == MAX_WARNINGS_SHOWN + 1
    assert shown[-1][1] == "and 3 more"
    assert ("Plan change", "G1.1 target 100 -> 90 (Goals!A3)", "from the Goals input") in run.rows
    assert ("Warning", "plan warning", "") in run.rows


def test_status_counts_per_level_in_the_order_of_the_words() -> None:
    report = sample_report()
    assert status_counts(report) == {
        "On track": 1,
        "At risk": 1,
        "Off track": 0,
        "Done": 0,
        "Not started": 0,
        "No data": 0,
    }
    assert list(status_counts(report, "goal").values()) == [1, 0, 0, 0, 0, 0]


def test_a_no_data_row_has_blank_value_and_progress_everywhere_and_its_own_count() -> None:
    note = "no data: source jira never read successfully (Jira answered 401)"
    blank: dict[str, Any] = dict(
        value=None, progress=None, status="No data", note=note, sources=("jira",)
    )
    report = StatusReport(
        now=NOW,
        rows=(status_row("G1", "goal", target=None, **blank), status_row("G1.1", **blank)),
        history=(
            HistoryRow(
                date=date(2026, 11, 17),
                id="G1.1",
                value=None,
                progress=None,
                expected=60.5,
                status="No data",
            ),
        ),
    )
    never = SourceRun(name="jira", type="jira", ok=False, last_success=None, stale_since=LATE,
                      error="Jira answered 401")  # fmt: skip
    tables = tables_by_name(to_tables(report, run_info(never), BERLIN))
    (kr,) = [r for r in row_dicts(tables["Status"]) if r["ID"] == "G1.1"]
    assert (kr["Value"], kr["Progress %"], kr["Status"], kr["Note"]) == (
        None,
        None,
        "No data",
        note,
    )
    assert kr["Expected %"] == 60.5  # the plan's side is known
    assert tables["History"].rows == [(date(2026, 11, 17), "G1.1", None, None, 60.5, "No data")]
    assert status_counts(report)["No data"] == 1 and status_counts(report)["Off track"] == 0
    run = {r[0]: r for r in tables["Run"].rows}
    assert run["Source jira (jira)"][1] == "never read (failing since 2026-11-17 00:30 CET)"
    assert run["Source jira (jira)"][2] == (
        "no successful pull yet; its key results show No data; Jira answered 401"
    )


def test_alignment_shares() -> None:
    empty = Alignment(aligned_items=0, unaligned_items=0, aligned_points=0, unaligned_points=0)
    assert empty.share_by_count is None and empty.share_by_points is None
    some = Alignment(aligned_items=1, unaligned_items=2, aligned_points=1, unaligned_points=0)
    assert some.share_by_count == 33.3 and some.share_by_points == 100.0


def test_formula_detection_and_row_dicts() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM", "\tx", "\rx"):
        assert looks_like_formula(text)
    for text in ("plain", " =1", "1-2", ""):
        assert not looks_like_formula(text)
    table = tables_by_name(to_tables(sample_report(), run_info(), BERLIN))["Workload"]
    assert row_dicts(table) == [
        {
            "Assignee": "bob",
            "Goal": "G1",
            "Open items": 9,
            "Open points": 21.0,
            "Over WIP limit": True,
        }
    ]


def hist(day: int, ident: str, progress: float | None, expected: float | None) -> HistoryRow:
    status = "No data" if progress is None else "On track"
    return HistoryRow(
        date=date(2026, 10, day) if day > 0 else date(2026, 9, 30 + day),
        id=ident, value=progress, progress=progress, expected=expected, status=status,
    )  # fmt: skip


def test_trends_are_goal_blocks_of_history_days_with_no_data_days_blank() -> None:
    """Per goal in config order, a row per History day from the goal's start to today; a No
    data day keeps its row with blank percentages (a gap, not a zero); key results, days before
    the start (a previous cycle) and days after today are left out."""
    report = StatusReport(
        now=datetime(2026, 10, 4, 23, 30, tzinfo=UTC),  # 01:30 on 5 October in Berlin
        rows=(
            status_row("G2", "goal", title="Second", start=date(2026, 10, 2)),
            status_row("G2.1"),
            status_row("G1", "goal", title="First"),
        ),
    )
    history = [
        hist(3, "G1", 20.0, 22.2),
        hist(1, "G1", 10.0, 11.1),
        hist(2, "G1", None, 16.7),  # a run that could measure nothing
        hist(5, "G1", 30.0, 33.3),  # today in Berlin
        hist(6, "G1", 40.0, 44.4),  # after today: an --as-of run of the past
        hist(0, "G1", 5.0, 100.0),  # 30 September: the previous cycle
        hist(1, "G2", 1.0, 1.0),  # before G2's start
        hist(2, "G2", 2.0, 2.5),
        hist(2, "G2.1", 9.0, 9.0),  # a key result: not a row of Trends
    ]
    trends = tables_by_name(to_tables(report, run_info(), BERLIN, history))["Trends"]
    assert trends.rows == [
        ("G2", "Second", date(2026, 10, 2), 2.0, 2.5),
        ("G1", "First", date(2026, 10, 1), 10.0, 11.1),
        ("G1", "First", date(2026, 10, 2), None, 16.7),
        ("G1", "First", date(2026, 10, 3), 20.0, 22.2),
        ("G1", "First", date(2026, 10, 5), 30.0, 33.3),
    ]
    assert [c.type for c in trends.columns] == ["text", "text", "date", "percent", "percent"]
    assert trend_blocks(trends) == [
        TrendBlock("G2", "Second", 0, 0, (date(2026, 10, 2),), (2.0,), (2.5,)),
        TrendBlock(
            "G1", "First", 1, 4,
            (date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3), date(2026, 10, 5)),
            (10.0, None, 20.0, 30.0), (11.1, 16.7, 22.2, 33.3),
        ),
    ]  # fmt: skip


def test_trends_without_history_hold_no_rows() -> None:
    trends = tables_by_name(to_tables(sample_report(), run_info(), BERLIN, []))["Trends"]
    assert trends.rows == [] and trend_blocks(trends) == []


def test_an_item_aligned_by_tag_says_so_in_its_key_result_cell() -> None:
    base = sample_report()
    tagged = dataclasses.replace(base.items[0], by_tag=True)
    report = dataclasses.replace(base, items=(tagged, *base.items[1:]))
    items = tables_by_name(to_tables(report, run_info(), BERLIN))["Items"]
    column = COLUMNS["Items"].index("Key result")
    assert items.rows[0][column] == f"{tagged.key_result} (by tag)"
    assert items.rows[0][COLUMNS["Items"].index("Goal")] == tagged.goal  # the goal stays an id
    plain = tables_by_name(to_tables(base, run_info(), BERLIN))["Items"]
    assert plain.rows[0][column] == tagged.key_result


def test_the_run_tab_lists_alignment_tags_that_align_nothing() -> None:
    keys = tuple(f"PAY-{n}" for n in range(MAX_TAG_KEYS_SHOWN + 2))
    unknown = (
        UnknownTag(tag="goal:G1", reason="names goal G1: only key-result ids align", keys=("A-1",)),
        UnknownTag(tag="goal:G9", reason="no goal or key result has the id 'G9'", keys=keys),
    )
    report = dataclasses.replace(sample_report(), unknown_tags=unknown)
    run = tables_by_name(to_tables(report, run_info(), BERLIN))["Run"]
    rows = [r for r in run.rows if r[0] == "Unknown alignment tag"]
    assert rows[0] == (
        "Unknown alignment tag",
        "goal:G1",
        "names goal G1: only key-result ids align; on A-1",
    )
    assert rows[1][1] == "goal:G9"
    assert f"on {len(keys)} items: PAY-0, PAY-1" in str(rows[1][2])
    assert str(rows[1][2]).endswith("and 2 more")
