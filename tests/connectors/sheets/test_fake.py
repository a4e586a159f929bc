"""The sink against the loopback fake Sheets (tests/fakes/sheets.py), and the fake's own rules:
atomic batches, USER_ENTERED formulas, the 10 MB body limit."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.sheets.batches import FINGERPRINT_KEY, STAGING_PREFIX
from connectors.sheets.config import SheetsSinkConfig
from connectors.sheets.sink import SheetsSink
from sync.base import http_limits
from sync.base.contracts import PublishContext
from sync.base.errors import PublishError
from sync.base.report import Column, Table
from tests.connectors.helpers import (
    DESIGN_HEADERS,
    FORMULA_TITLE,
    TAB_ORDER,
    publish_context,
    sample_tables,
)
from tests.fakes.server import Fault, Response
from tests.fakes.sheets import FakeSheets, FakeSpreadsheet

HUMAN_TAB = {"Plan notes": [["Owner", "Note"], ["Dana", "=SUM(1,2)"], ["Kim", "keep me"]]}


@pytest.fixture
def fake() -> Iterator[FakeSheets]:
    with FakeSheets() as server:
        server.add_spreadsheet("S1", HUMAN_TAB)
        yield server


def make_sink(fake: FakeSheets, spreadsheet_id: str = "S1", **kwargs: Any) -> SheetsSink:
    config = SheetsSinkConfig(
        type="sheets", spreadsheet_id=spreadsheet_id, endpoint=fake.url, credentials="anonymous"
    )
    sink = config.build(Path("."))
    return SheetsSink(sink.access, **kwargs) if kwargs else sink


def publish(
    sink: SheetsSink, tables: list[Table] | None = None, ctx: PublishContext | None = None
) -> None:
    sink.prepare(tables or sample_tables(), ctx or publish_context()).apply()


def next_day() -> PublishContext:
    """A publish a day later: every tab is rewritten, unchanged ones too."""
    ctx = publish_context()
    return dataclasses.replace(ctx, now=ctx.now + timedelta(days=1))


def items_table(n: int, title: str = "task") -> Table:
    columns = (Column("Key", "link"), Column("Title"), Column("Points", "number"))
    rows: list[tuple[Any, ...]] = [
        (f"K-{i}", f"{title} {i} " + "x" * 40, float(i)) for i in range(n)
    ]
    return Table("Items", columns, rows)


def test_publishing_twice_replaces_formats_and_keeps_the_human_tab(fake: FakeSheets) -> None:
    book = fake.spreadsheets["S1"]
    human = book.snapshot()["Plan notes"]
    sink = make_sink(fake)
    publish(sink)
    publish(sink, ctx=next_day())
    assert book.titles() == ["Plan notes", *TAB_ORDER]
    assert book.snapshot()["Plan notes"] == human
    for tab, header in DESIGN_HEADERS.items():
        assert book.values(tab)[0] == header
        sheet = book.sheet(tab)
        assert sheet.frozen_rows == 1 and sheet.basic_filter is not None
        assert sorted(sheet.widths) == list(range(len(header)))
    # One colour rule per status word (six, No data included) on Status and History.
    assert len(book.sheet("Status").rules) == 6 and len(book.sheet("History").rules) == 6
    assert sum(len(s.rules) for s in book.sheets) == 12  # replaced, never piled up
    assert book.values("Status")[2][2] == FORMULA_TITLE
    assert set(book.sheet("Status").formulas()) == set()
    assert fake.count("POST") == 2 and fake.count("GET") == 3  # 2 + 3 calls


def test_a_republish_the_same_day_leaves_out_the_tabs_that_did_not_change(
    fake: FakeSheets,
) -> None:
    book = fake.spreadsheets["S1"]
    sink = make_sink(fake)
    tables = sample_tables()
    publish(sink, tables)
    marks = {s.title: s.metadata[0]["metadataValue"] for s in book.sheets if s.metadata}
    assert set(marks) == set(TAB_ORDER)
    assert {s.metadata[0]["metadataKey"] for s in book.sheets if s.metadata} == {FINGERPRINT_KEY}

    status = tables[0]
    moved = [("G9", *status.rows[0][1:]), *status.rows[1:]]
    changed = [Table(status.name, status.columns, moved), *tables[1:]]
    body_sizes = len(fake.bodies)
    write = sink.prepare(changed, publish_context())
    assert write.plan.unchanged == TAB_ORDER[1:]  # all but Status
    write.apply()
    assert book.values("Status")[1][0] == "G9"
    (body,) = fake.bodies[body_sizes:]
    assert body < 20_000  # Status and its mark only
    after = {s.title: s.metadata[0]["metadataValue"] for s in book.sheets if s.metadata}
    assert {t for t in TAB_ORDER if after[t] != marks[t]} == {"Status"}

    write = sink.prepare(changed, publish_context())  # nothing changed since
    assert write.plan.batches == [] and write.plan.unchanged == TAB_ORDER
    write.apply()
    assert len(fake.bodies) == body_sizes + 1


def test_a_resized_or_unmarked_tab_is_rewritten(fake: FakeSheets) -> None:
    book = fake.spreadsheets["S1"]
    sink = make_sink(fake)
    publish(sink)
    book.sheet("Items").rows += 5  # a person added rows
    book.sheet("Workload").metadata.clear()  # or removed goalsync's mark
    write = sink.prepare(sample_tables(), publish_context())
    assert "Items" not in write.plan.unchanged and "Workload" not in write.plan.unchanged
    write.apply()
    assert book.sheet("Items").rows == len(book.values("Items"))
    assert book.sheet("Workload").metadata[0]["metadataKey"] == FINGERPRINT_KEY


def test_the_run_tab_shows_each_source_and_a_stale_one_since_when(fake: FakeSheets) -> None:
    publish(make_sink(fake), sample_tables(stale=True))
    rows = {r[0]: r[1:] for r in fake.spreadsheets["S1"].values("Run")[1:]}
    assert rows["Source jira (file)"][0] == "ok"
    assert "pulled 2026-11-16 10:00 CET" in rows["Source jira (file)"][1]
    assert rows["Source gh (file)"][0] == "stale since 2026-11-16 10:00 CET"
    assert "issues.json: not valid JSON" in rows["Source gh (file)"][1]


def test_a_shorter_table_leaves_no_old_rows(fake: FakeSheets) -> None:
    sink = make_sink(fake)
    publish(sink, [items_table(30)])
    publish(sink, [items_table(2, "new")])
    book = fake.spreadsheets["S1"]
    assert book.sheet("Items").rows == 3
    assert [r[1][:5] for r in book.values("Items")[1:]] == ["new 0", "new 1"]
    assert book.values("Items", "FORMULA")[1][0] == "K-0"  # no URL: text, not a link


def published_directly(fake: FakeSheets, tables: list[Table]) -> FakeSpreadsheet:
    """`tables` published in one batch to a new spreadsheet S2 (with the human tab): what a
    staged publish must end up showing."""
    direct = fake.add_spreadsheet("S2", HUMAN_TAB)
    publish(make_sink(fake, spreadsheet_id="S2"), tables)
    return direct


def test_a_staged_publish_shows_the_same_grid_as_a_direct_one(fake: FakeSheets) -> None:
    tables = [items_table(2000) if t.name == "Items" else t for t in sample_tables()]
    direct = published_directly(fake, tables)

    book = fake.spreadsheets["S1"]
    publish(make_sink(fake), [items_table(10, "old")])
    seen: list[tuple[int, str]] = []
    fake.on_commit = lambda b: seen.append((b.sheet("Items").rows, b.values("Items")[1][1][:3]))
    staged = make_sink(fake, body_limit=60_000)
    write = staged.prepare(tables, publish_context())
    assert write.plan.staged == ["Items"] and len(write.plan.batches) > 3
    write.apply()
    # Readers saw the old Items until the last batch swapped the new one in.
    assert seen[:-1] == [(11, "old")] * (len(seen) - 1) and seen[-1] == (2001, "tas")
    assert all(size <= 60_000 for size in fake.bodies[-len(seen) :])
    assert not any(t.startswith(STAGING_PREFIX) for t in book.titles())
    for tab in TAB_ORDER:
        assert _cells(book, tab) == _cells(direct, tab), tab


def test_a_failed_staged_publish_leaves_the_live_tabs_and_removes_staging(
    fake: FakeSheets,
) -> None:
    book = fake.spreadsheets["S1"]
    publish(make_sink(fake), [items_table(10, "old")])
    before = book.snapshot()
    fake.reset_counts()
    refused = Response(400, {"error": {"code": 400, "message": "Internal error"}})
    sink = make_sink(fake, body_limit=30_000)
    write = sink.prepare([items_table(1000)], publish_context())
    # The third batchUpdate fails; the one after it is the clean-up.
    fake.inject(Fault("POST", "/v4/spreadsheets/S1:batchUpdate", times=2))
    fake.inject(Fault("POST", "/v4/spreadsheets/S1:batchUpdate", refused))
    with pytest.raises(PublishError, match="Internal error"):
        write.apply()
    assert book.snapshot() == before  # live tabs as they were, staging tabs gone
    # Next publish works and finds nothing left over.
    publish(make_sink(fake), [items_table(3)])
    assert book.sheet("Items").rows == 4


def test_a_new_staged_tab_is_its_staging_tab_made_live(fake: FakeSheets) -> None:
    tables = [items_table(2000) if t.name == "Items" else t for t in sample_tables()]
    direct = published_directly(fake, tables)

    book = fake.spreadsheets["S1"]  # a fresh sheet: no Items tab yet
    seen: list[list[str]] = []
    fake.on_commit = lambda b: seen.append([s.title for s in b.sheets if not s.hidden])
    write = make_sink(fake, body_limit=60_000).prepare(tables, publish_context())
    assert write.plan.staged == ["Items"] and "Items" in write.plan.added
    final = write.plan.batches[-1]
    # No second copy of the cells: the staging tab is renamed, shown and moved instead.
    assert not any("copyPaste" in r or ("addSheet" in r and "Items" in str(r)) for r in final)
    write.apply()
    assert all(titles == ["Plan notes"] for titles in seen[:-1])  # nothing new shown before
    assert book.titles() == direct.titles() == ["Plan notes", *TAB_ORDER]
    for tab in TAB_ORDER:
        ours, theirs = book.sheet(tab), direct.sheet(tab)
        assert _cells(book, tab) == _cells(direct, tab), tab
        assert (ours.sheet_id, ours.hidden, ours.frozen_rows) == (
            theirs.sheet_id,
            theirs.hidden,
            theirs.frozen_rows,
        ), tab
        marks = [
            [(m["metadataKey"], m["metadataValue"], m["location"]) for m in s.metadata]
            for s in (ours, theirs)
        ]
        assert marks[0] == marks[1] and len(marks[0]) == 1, tab
        assert marks[0][0][2]["sheetId"] == ours.sheet_id
    # The next day's publish finds the promoted tab marked and swaps into it, keeping its id.
    items_id = book.sheet("Items").sheet_id
    again = make_sink(fake, body_limit=60_000).prepare(tables, next_day())
    assert again.plan.staged == ["Items"] and again.plan.added == []
    again.apply()
    assert book.sheet("Items").sheet_id == items_id
    assert _cells(book, "Items") == _cells(direct, "Items")


@pytest.mark.parametrize("cleanup_fails", [False, True])
def test_a_failed_staged_publish_of_a_new_tab_shows_no_tab(
    fake: FakeSheets, cleanup_fails: bool
) -> None:
    book = fake.spreadsheets["S1"]
    before = book.snapshot()
    refused = Response(400, {"error": {"code": 400, "message": "Internal error"}})
    write = make_sink(fake, body_limit=30_000).prepare([items_table(1000)], publish_context())
    assert write.plan.added == write.plan.staged == ["Items"]
    # Every batch but the final one lands; the final one (and the clean-up) is refused.
    fake.inject(Fault("POST", "/v4/spreadsheets/S1:batchUpdate", times=len(write.plan.parts) - 1))
    fake.inject(Fault("POST", "/v4/spreadsheets/S1:batchUpdate", refused, times=1 + cleanup_fails))
    with pytest.raises(PublishError, match="Internal error"):
        write.apply()
    assert [s.title for s in book.sheets if not s.hidden] == ["Plan notes"]
    if cleanup_fails:  # left hidden, for the next publish to remove
        assert book.titles() == ["Plan notes", STAGING_PREFIX + "Items"]
    else:
        assert book.snapshot() == before
    publish(make_sink(fake, body_limit=30_000), [items_table(1000)])
    assert book.titles() == ["Plan notes", "Items"]
    assert book.sheet("Items").rows == 1001 and not book.sheet("Items").hidden


def test_the_fake_applies_a_batch_atomically(fake: FakeSheets) -> None:
    book = fake.spreadsheets["S1"]
    before = book.snapshot()
    status, body = post(
        fake,
        "/v4/spreadsheets/S1:batchUpdate",
        {
            "requests": [
                {"addSheet": {"properties": {"title": "New"}}},
                {"addSheet": {"properties": {"title": "plan NOTES"}}},  # names ignore case
            ]
        },
    )
    assert status == 400
    assert body["error"]["message"].startswith("Invalid requests[1].addSheet: A sheet with the")
    assert book.snapshot() == before


def test_user_entered_text_becomes_a_formula_as_in_sheets_raw_stays_text(
    fake: FakeSheets,
) -> None:
    for option in ("RAW", "USER_ENTERED"):
        status, _ = put(
            fake,
            f"/v4/spreadsheets/S1/values/'Plan notes'!A5?valueInputOption={option}",
            {"values": [[FORMULA_TITLE]]},
        )
        assert status == 200
        cell = fake.spreadsheets["S1"].sheet("Plan notes").cells[(4, 0)]["userEnteredValue"]
        kind = "formulaValue" if option == "USER_ENTERED" else "stringValue"
        assert cell == {kind: FORMULA_TITLE}
    book = fake.spreadsheets["S1"]
    assert book.values("Plan notes")[4][0] == "y"  # the formula's value, as Sheets shows it
    assert book.values("Plan notes", "FORMULA")[4][0] == FORMULA_TITLE


def test_the_fake_refuses_bodies_over_ten_megabytes(fake: FakeSheets) -> None:
    blob = "x" * 40_000
    requests = [
        {
            "updateCells": {
                "start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                "rows": [{"values": [{"userEnteredValue": {"stringValue": blob}}]}],
                "fields": "userEnteredValue",
            }
        }
    ] * 270
    status, body = post(fake, "/v4/spreadsheets/S1:batchUpdate", {"requests": requests})
    assert status == 400
    assert body["error"]["message"] == "Request payload size exceeds the limit: 10485760 bytes."
    assert fake.bodies[-1] > 10_485_760


def test_the_fake_answers_404_for_an_unknown_spreadsheet(fake: FakeSheets) -> None:
    status, body = post(fake, "/v4/spreadsheets/nope:batchUpdate", {"requests": []})
    assert (status, body["error"]["status"]) == (404, "NOT_FOUND")


def _cells(book: FakeSpreadsheet, tab: str) -> Any:
    sheet = book.sheet(tab)
    return (sheet.rows, sheet.columns, sheet.cells, sheet.rules, sheet.basic_filter, sheet.widths)


def post(fake: FakeSheets, path: str, body: Any) -> tuple[int, Any]:
    return _send(fake, "POST", path, body)


def put(fake: FakeSheets, path: str, body: Any) -> tuple[int, Any]:
    return _send(fake, "PUT", path.replace("'", "%27").replace(" ", "%20"), body)


def _send(fake: FakeSheets, method: str, path: str, body: Any) -> tuple[int, Any]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(fake.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_staged_batch_retried_after_a_429_is_sent_whole_again(
    fake: FakeSheets, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fill batch's body is a memory map: sent as a file, the retry would start at its end
    and send nothing (the server then waits for the body the Content-Length promised)."""
    monkeypatch.setattr(http_limits, "_limits", http_limits.Limits(5, 1 << 26))  # fail fast
    book = fake.spreadsheets["S1"]
    write = make_sink(fake, body_limit=30_000).prepare([items_table(1000)], publish_context())
    assert write.plan.staged == ["Items"]
    slow_down = Response(
        429, {"error": {"code": 429, "message": "Quota exceeded"}}, headers={"Retry-After": "0"}
    )
    fake.inject(Fault("POST", "/v4/spreadsheets/S1:batchUpdate"))  # the first passes
    fake.inject(Fault("POST", "/v4/spreadsheets/S1:batchUpdate", slow_down))
    write.apply()
    posts = [r.body for r in fake.requests if r.path.endswith(":batchUpdate")]
    assert posts[1] == posts[2] and len(posts[1]) > 10_000  # the refused body, then the same
    assert book.sheet("Items").rows == 1001
