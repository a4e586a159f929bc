"""The Trends tab's charts in Sheets: one line chart per goal, in the same atomic batchUpdate as
the cells they are drawn from, replaced (never piled up) on every publish; against the loopback
fake, which keeps charts as the API does (ids unique among embedded objects, ranges in the grid).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.sheets.batches import SheetInfo, to_write_plan
from connectors.sheets.config import SheetsSinkConfig
from connectors.sheets.layout import CHART_COLUMNS, CHART_ROWS, chart_id
from connectors.sheets.sink import SheetsSink
from sync.base.contracts import PublishContext
from sync.base.errors import PublishError
from sync.base.report import HistoryRow, Table
from sync.tables import to_tables
from tests.connectors.helpers import (
    BERLIN,
    SCRIPT_TITLE,
    publish_context,
    sample_report,
    sample_run,
    trend_history,
)
from tests.fakes.sheets import FakeSheets, FakeSpreadsheet

NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeSheets]:
    with FakeSheets() as server:
        server.add_spreadsheet("S1", {"Plan notes": [["Owner"], ["Dana"]]})
        yield server


def sink(fake: FakeSheets) -> SheetsSink:
    config = SheetsSinkConfig(
        type="sheets", spreadsheet_id="S1", endpoint=fake.url, credentials="anonymous"
    )
    return config.build(Path("."))


def tables(*, goals: tuple[str, ...] = ("G1", "G2"), days: int = 0) -> list[Table]:
    """G1's month of History (a No data day on 10 October) and G2's first days of December."""
    history = [*trend_history()]
    history += [
        HistoryRow(date=date(2026, 12, 1) + timedelta(days=d), id="G2", value=None,
                   progress=10.0 * d, expected=3.0 * d, status="On track")
        for d in range(2 + days)
    ]  # fmt: skip
    report = sample_report()
    rows = tuple(r for r in report.rows if r.goal_id in goals)
    report = dataclasses.replace(report, rows=rows, now=NOW + timedelta(days=days))
    return to_tables(report, sample_run(), BERLIN, history)


def context(days: int = 0) -> PublishContext:
    return dataclasses.replace(publish_context(), now=NOW + timedelta(days=days))


def publish(fake: FakeSheets, tabs: list[Table], days: int = 0) -> list[dict[str, Any]]:
    """One publish; the requests of its one batch."""
    write = sink(fake).prepare(tabs, context(days))
    (batch,) = write.plan.batches
    write.apply()
    return batch


def charts(book: FakeSpreadsheet) -> dict[int, dict[str, Any]]:
    return book.sheet("Trends").charts


def kinds(batch: list[dict[str, Any]]) -> list[str]:
    return [next(iter(r)) for r in batch]


def test_one_line_chart_per_goal_in_the_same_batch_as_its_cells(fake: FakeSheets) -> None:
    book = fake.spreadsheets["S1"]
    batch = publish(fake, tables())
    assert fake.batch_updates("S1") == 1  # cells and charts: one atomic batchUpdate
    assert kinds(batch).count("addChart") == 2
    trends = book.sheet("Trends")
    # G1's 16 days (rows 2..17), then G2's 2 days (rows 18..19); a No data day is blank
    values = book.values("Trends")
    assert values[0] == ["Goal", "Title", "Date", "Progress %", "Expected %"]
    assert [r[0] for r in values[1:]] == ["G1"] * 16 + ["G2"] * 2
    assert values[4][2:] == [46305, "", values[4][4]]  # 10 October: Progress blank, not 0
    assert isinstance(values[4][4], float)
    # The grid holds the table and the room its charts stand in
    assert (trends.rows, trends.columns) == (1 + 2 * CHART_ROWS, 5 + CHART_COLUMNS)
    g1, g2 = charts(book).values()
    assert g1["chartId"] == chart_id("G1", set()) and g2["chartId"] == chart_id("G2", set())
    assert g1["spec"]["title"] == f"G1 {SCRIPT_TITLE}"
    basic = g1["spec"]["basicChart"]
    assert basic["chartType"] == "LINE" and basic["interpolateNulls"] is False
    assert basic["headerCount"] == 1

    def sources(data: dict[str, Any]) -> list[tuple[int, int, int]]:
        return [
            (r["startRowIndex"], r["endRowIndex"], r["startColumnIndex"])
            for r in data["sourceRange"]["sources"]
        ]

    # Each series: the header cell (its name in the legend), then the goal's rows.
    assert sources(basic["domains"][0]["domain"]) == [(0, 1, 2), (1, 17, 2)]
    assert [sources(s["series"]) for s in basic["series"]] == [
        [(0, 1, 3), (1, 17, 3)],
        [(0, 1, 4), (1, 17, 4)],
    ]
    g2_series = g2["spec"]["basicChart"]["series"][0]["series"]
    assert sources(g2_series) == [(0, 1, 3), (17, 19, 3)]
    assert {r["sheetId"] for r in g2_series["sourceRange"]["sources"]} == {trends.sheet_id}
    anchors = [c["position"]["overlayPosition"]["anchorCell"] for c in (g1, g2)]
    assert [(a["rowIndex"], a["columnIndex"]) for a in anchors] == [(1, 6), (1 + CHART_ROWS, 6)]


def test_a_second_publish_replaces_the_charts_never_piles_them_up(fake: FakeSheets) -> None:
    book = fake.spreadsheets["S1"]
    publish(fake, tables())
    first = set(charts(book))
    batch = publish(fake, tables(days=1), days=1)  # a day later: one more day of G2
    assert "addChart" not in kinds(batch)
    assert kinds(batch).count("updateChartSpec") == 2
    assert kinds(batch).count("updateEmbeddedObjectPosition") == 2
    assert set(charts(book)) == first
    g2 = charts(book)[chart_id("G2", set())]
    g2_rows = g2["spec"]["basicChart"]["series"][0]["series"]["sourceRange"]["sources"][1]
    assert g2_rows["endRowIndex"] == 20  # G2's three days now
    # A goal taken out of the plan: its chart goes in the same batch, the other is updated
    batch = publish(fake, tables(goals=("G1",), days=2), days=2)
    assert kinds(batch).count("deleteEmbeddedObject") == 1
    assert list(charts(book)) == [chart_id("G1", set())]
    # Unchanged the same day: the tab is left out, its chart stays as it is
    again = sink(fake).prepare(tables(goals=("G1",), days=2), context(2))
    assert "Trends" in again.plan.unchanged


def test_a_chart_someone_put_on_the_trends_tab_is_replaced_others_are_not_touched(
    fake: FakeSheets,
) -> None:
    book = fake.spreadsheets["S1"]
    publish(fake, tables())
    trends = book.sheet("Trends")
    stray = dict(next(iter(trends.charts.values())), chartId=7)
    trends.charts[7] = stray  # a copy someone made on goalsync's tab
    plan_notes = book.sheet("Plan notes")
    # Someone's chart on their own tab: never named in a request
    theirs = {
        "chartId": 99,
        "spec": {"title": "mine", "basicChart": {"chartType": "COLUMN"}},
        "position": {"overlayPosition": {"anchorCell": {"sheetId": plan_notes.sheet_id}}},
    }
    plan_notes.charts[99] = theirs
    publish(fake, tables(days=1), days=1)
    assert 7 not in charts(book) and len(charts(book)) == 2
    assert book.sheet("Plan notes").charts == {99: theirs}


def test_a_new_chart_id_moves_past_ids_other_objects_hold() -> None:
    wanted = chart_id("G1", set())
    trends_tables = tables()
    other = SheetInfo(sheet_id=1, title="Mine", rows=10, columns=3, charts=(wanted,))
    plan = to_write_plan(trends_tables, [other])
    (batch,) = plan.batches
    added = [r["addChart"]["chart"]["chartId"] for r in batch if "addChart" in r]
    assert wanted not in added and added[0] == wanted + 1


def test_a_trends_tab_without_history_has_no_chart(fake: FakeSheets) -> None:
    tabs = to_tables(dataclasses.replace(sample_report(), history=()), sample_run(), BERLIN, [])
    batch = publish(fake, tabs)
    assert "addChart" not in kinds(batch)
    assert fake.spreadsheets["S1"].values("Trends") == [
        ["Goal", "Title", "Date", "Progress %", "Expected %"]
    ]


def test_someones_own_trends_tab_is_never_overwritten(fake: FakeSheets) -> None:
    """A tab named Trends that goalsync did not write (no mark): the publish stops, untouched."""
    fake.add_spreadsheet("S1", {"Trends": [["Quarter", "Revenue"], ["Q3", 12]]})
    book = fake.spreadsheets["S1"]
    before = book.snapshot()
    with pytest.raises(PublishError, match="'Trends' was not written by goalsync"):
        sink(fake).prepare(tables(), context())
    assert book.snapshot() == before and fake.batch_updates("S1") == 0
    # goalsync's own Trends tab (marked) is rewritten as every owned tab is
    fresh = fake.add_spreadsheet("S1")
    publish(fake, tables())
    publish(fake, tables(days=1), days=1)
    assert len(charts(fresh)) == 2
