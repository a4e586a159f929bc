"""connectors.sheets.batches: the batchUpdate bodies one publish sends, planned from the sheet."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors.sheets.batches import (
    STAGING_PREFIX,
    SheetInfo,
    merge_history,
    parse_sheets,
    to_write_plan,
)
from sync.base.errors import PublishError
from sync.base.report import Column, HistoryRow, Table
from tests.connectors.helpers import sample_tables

WORKLOAD = Table(
    "Workload",
    (
        Column("Assignee", "text", 18),
        Column("Goal", "text", 8),
        Column("Open items", "int", 10),
        Column("Open points", "number", 11),
        Column("Over WIP limit", "bool", 13),
    ),
    [("=Kim", "G1", 9, 21.5, True)],
)
HUMAN = SheetInfo(sheet_id=0, title="Plan notes", rows=1000, columns=26)


def text(value: str) -> dict[str, Any]:
    return {"userEnteredValue": {"stringValue": value}}


SID = 1802881069  # crc32(b"Workload") & 0x7FFFFFFF: stable across runs
_GRID = {"sheetId": SID, "startRowIndex": 0, "endRowIndex": 2}
# The whole batchUpdate for a new Workload tab, written out by hand.
WORKLOAD_BATCH: list[dict[str, Any]] = [
    {
        "addSheet": {
            "properties": {
                "sheetId": SID,
                "title": "Workload",
                "hidden": False,
                "gridProperties": {"rowCount": 2, "columnCount": 5, "frozenRowCount": 1},
            }
        }
    },
    {
        "updateCells": {
            "range": {**_GRID, "startColumnIndex": 0, "endColumnIndex": 5},
            "rows": [
                {
                    "values": [
                        text("Assignee"),
                        text("Goal"),
                        text("Open items"),
                        text("Open points"),
                        text("Over WIP limit"),
                    ]
                },
                {
                    "values": [
                        text("=Kim"),
                        text("G1"),
                        {"userEnteredValue": {"numberValue": 9}},
                        {"userEnteredValue": {"numberValue": 21.5}},
                        {"userEnteredValue": {"boolValue": True}},
                    ]
                },
            ],
            "fields": "*",
        }
    },
    {
        "repeatCell": {
            "range": {**_GRID, "endRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": 5},
            "cell": {
                "userEnteredFormat": {
                    "textFormat": {"bold": True},
                    "backgroundColor": {"red": 0.9529, "green": 0.9529, "blue": 0.9529},
                }
            },
            "fields": "userEnteredFormat(textFormat,backgroundColor)",
        }
    },
    {
        "repeatCell": {
            "range": {
                "sheetId": SID,
                "startRowIndex": 1,
                "endRowIndex": 2,
                "startColumnIndex": 2,
                "endColumnIndex": 3,
            },
            "cell": {"userEnteredFormat": {"numberFormat": {"type": "NUMBER", "pattern": "0"}}},
            "fields": "userEnteredFormat.numberFormat",
        }
    },
    {
        "setBasicFilter": {
            "filter": {"range": {**_GRID, "startColumnIndex": 0, "endColumnIndex": 5}}
        }
    },
    *(
        {
            "updateDimensionProperties": {
                "range": {
                    "sheetId": SID,
                    "dimension": "COLUMNS",
                    "startIndex": c,
                    "endIndex": c + 1,
                },
                "properties": {"pixelSize": px},
                "fields": "pixelSize",
            }
        }
        for c, px in enumerate([128, 58, 72, 79, 93])
    ),
]


def test_a_new_tab_is_one_exact_batch() -> None:
    plan = to_write_plan([WORKLOAD], [HUMAN])
    assert plan.added == ["Workload"] and plan.staged == []
    assert plan.batches == [WORKLOAD_BATCH]
    assert plan.sizes == [len(make()) for make in plan.parts]  # the size sent, as planned
    assert plan.cells == 26_000 + 10


def test_an_existing_tab_is_resized_and_its_colour_rules_replaced() -> None:
    history = next(t for t in sample_tables() if t.name == "History")
    live = SheetInfo(sheet_id=77, title="history", rows=900, columns=9, rules=5)
    plan = to_write_plan([history], [HUMAN, live])
    (batch,) = plan.batches
    assert batch[:6] == [
        *[{"deleteConditionalFormatRule": {"sheetId": 77, "index": 0}}] * 5,
        {
            "updateSheetProperties": {
                "properties": {
                    "sheetId": 77,
                    "gridProperties": {"rowCount": 2, "columnCount": 6, "frozenRowCount": 1},
                },
                "fields": "gridProperties(rowCount,columnCount,frozenRowCount)",
            }
        },
    ]
    assert plan.added == []  # found by name, ignoring case, and never renamed
    assert not any("addSheet" in r for r in batch)
    # The five rules the tab held are deleted; one per status word (No data too) comes back.
    assert sum("addConditionalFormatRule" in r for r in batch) == 6
    # Nothing in the batch names a sheet other than the owned one.
    assert _sheet_ids(batch) == {77}


def test_leftover_staging_tabs_are_removed_and_other_tabs_never_named() -> None:
    leftover = SheetInfo(sheet_id=5, title=STAGING_PREFIX + "Items", rows=10, columns=11)
    plan = to_write_plan(sample_tables(), [HUMAN, leftover])
    (batch,) = plan.batches
    assert batch[0] == {"deleteSheet": {"sheetId": 5}}
    assert HUMAN.sheet_id not in _sheet_ids(batch[1:])
    assert [r["addSheet"]["properties"]["title"] for r in batch if "addSheet" in r] == [
        "Status",
        "Trends",
        "Risks",
        "Items",
        "Unaligned",
        "Workload",
        "History",
        "Run",
    ]
    assert not any("index" in r["addSheet"]["properties"] for r in batch if "addSheet" in r)


def test_new_sheet_ids_never_collide() -> None:
    taken = SheetInfo(sheet_id=1802881069, title="Someone's", rows=1, columns=1)
    plan = to_write_plan([WORKLOAD], [taken])
    assert plan.batches[0][0]["addSheet"]["properties"]["sheetId"] == 1802881070


def test_a_publish_past_ten_million_cells_fails_before_sending() -> None:
    big = SheetInfo(sheet_id=1, title="Raw data", rows=999_999, columns=10)
    with pytest.raises(PublishError, match=r"10,000,000.*nothing was sent"):
        to_write_plan(sample_tables(), [big])
    # An owned tab's old size does not count: it is replaced.
    items = SheetInfo(sheet_id=2, title="Items", rows=999_999, columns=10)
    assert to_write_plan(sample_tables(), [items]).cells < 10_000


def test_a_big_table_goes_through_hidden_staging_in_batches_under_the_limit() -> None:
    columns = (Column("Key", "link"), Column("Title"), Column("Points", "number"))
    rows: list[tuple[Any, ...]] = [
        (f"K-{i}", f"title {i} " + "x" * 80, float(i)) for i in range(3000)
    ]
    items = Table("Items", columns, rows)
    status = next(t for t in sample_tables() if t.name == "Status")
    live = SheetInfo(sheet_id=9, title="Items", rows=40, columns=3, rules=0)
    plan = to_write_plan([status, items], [HUMAN, live], body_limit=100_000, chunk_limit=30_000)
    assert plan.staged == ["Items"]
    assert len(plan.batches) > 4
    for make, size in zip(plan.parts, plan.sizes, strict=True):
        assert size == len(make()) <= 100_000  # the size sent, as planned
    first, *middle, final = plan.batches
    (add,) = [r["addSheet"]["properties"] for r in first if "addSheet" in r]
    staging = add["sheetId"]
    assert add["title"] == STAGING_PREFIX + "Items" and add["hidden"] is True
    assert add["gridProperties"]["rowCount"] == 3001
    # Filling touches the staging tab only; the live tab changes in the final batch alone.
    for batch in [first, *middle]:
        assert _sheet_ids(batch) == {staging}
    filled = [r["updateCells"] for b in plan.batches[:-1] for r in b if "updateCells" in r]
    assert [u["start"]["rowIndex"] for u in filled] == sorted(
        u["start"]["rowIndex"] for u in filled
    )
    assert sum(len(u["rows"]) for u in filled) == 3001
    copy = next(r["copyPaste"] for r in final if "copyPaste" in r)
    assert copy["source"]["sheetId"] == staging and copy["destination"]["sheetId"] == 9
    assert copy["pasteType"] == "PASTE_NORMAL"
    assert final[-1] == {"deleteSheet": {"sheetId": staging}}
    # The small Status tab is written directly in the final batch.
    assert any("addSheet" in r and r["addSheet"]["properties"]["title"] == "Status" for r in final)


def test_staging_that_would_pass_the_cell_limit_fails_before_sending() -> None:
    columns = tuple(Column(f"c{i}") for i in range(10))
    items = Table("Items", columns, [tuple("v" * 20 for _ in range(10))] * 2000)
    filler = SheetInfo(sheet_id=1, title="Raw", rows=9_965_000, columns=1)
    live = SheetInfo(sheet_id=2, title="Items", rows=2001, columns=10)
    with pytest.raises(PublishError, match="at its peak"):
        to_write_plan([items], [filler, live], body_limit=100_000)
    # A new tab's staging tab becomes the tab: its cells exist once, at the peak too.
    plan = to_write_plan([items], [filler], body_limit=100_000)
    assert plan.staged == ["Items"] and plan.cells == 9_965_000 + 20_010


def test_tables_that_are_not_owned_are_refused() -> None:
    with pytest.raises(PublishError, match="not a tab goalsync owns"):
        to_write_plan([Table("Goals", (Column("id"),), [])], [])


def test_history_is_upserted_by_date_and_id() -> None:
    history = next(t for t in sample_tables() if t.name == "History")  # 2026-11-16 G1
    remote = [
        HistoryRow(date=date(2026, 11, 16), id="G1", value=1, progress=1, expected=1, status="x"),
        HistoryRow(date=date(2026, 11, 15), id="G1", value=2, progress=2, expected=2, status="y"),
    ]
    merged = merge_history(history, remote)
    assert [(r[0], r[1], r[5]) for r in merged.rows] == [
        (date(2026, 11, 15), "G1", "y"),
        (date(2026, 11, 16), "G1", "On track"),
    ]


def test_sheet_properties_read_with_the_apis_omitted_defaults() -> None:
    reply = {
        "sheets": [
            {
                "properties": {
                    "title": "Sheet1",
                    "gridProperties": {"rowCount": 1000, "columnCount": 26},
                }
            },
            {
                "properties": {
                    "sheetId": 8,
                    "title": "Status",
                    "hidden": True,
                    "gridProperties": {},
                },
                "conditionalFormats": [{"ranges": [{"sheetId": 8}]}, {"ranges": [{}]}],
            },
        ]
    }
    assert parse_sheets(reply) == [
        SheetInfo(sheet_id=0, title="Sheet1", rows=1000, columns=26),
        SheetInfo(sheet_id=8, title="Status", rows=0, columns=0, rules=2, hidden=True),
    ]


def _sheet_ids(requests: list[dict[str, Any]]) -> set[int]:
    found: set[int] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "sheetId":
                    found.add(v)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(requests)
    return found
