from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from connectors.files.xlsx import (
    CHART_ROWS,
    EXCEL_CELL_LIMIT,
    MARK_PROPERTY,
    STATUS_STYLES,
    XlsxSink,
    XlsxSinkConfig,
    _quoted,
    is_goalsync_workbook,
    write_workbook,
)
from sync.base.errors import ConfigError, PublishError
from sync.base.report import Cell, Column, Table
from sync.tables import to_tables
from tests.connectors.helpers import (
    BERLIN,
    DESIGN_HEADERS,
    FORMULA_TITLE,
    SCRIPT_TITLE,
    TAB_ORDER,
    publish_context,
    sample_report,
    sample_run,
    trend_history,
    trend_tables,
)
from tests.connectors.helpers import sample_tables as tables

# The tabs of the releases before the mark (no Trends yet): how their workbooks are recognised.
RELEASED_TABS = ["Status", "Risks", "Items", "Unaligned", "Workload", "History", "Run"]


def publish(tmp_path: Path) -> Path:
    sink = XlsxSinkConfig.model_validate({"type": "xlsx", "path": "out/status.xlsx"}).build(
        tmp_path
    )
    sink.prepare(tables(), publish_context()).apply()
    return tmp_path / "out" / "status.xlsx"


def workbook(tmp_path: Path) -> Any:
    return openpyxl.load_workbook(publish(tmp_path))


def cells(ws: Any, name: str) -> list[Any]:
    header = [c.value for c in ws[1]]
    col = header.index(name) + 1
    return [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]


def test_sheet_names_and_headers_are_the_designs(tmp_path: Path) -> None:
    wb = workbook(tmp_path)
    assert wb.sheetnames == TAB_ORDER
    for tab, header in DESIGN_HEADERS.items():
        assert [c.value for c in wb[tab][1]] == header
    assert [c.value for c in wb["Run"][1]] == ["Key", "Value", "Detail"]


def test_formula_text_is_a_string_cell_with_the_quote_prefix(tmp_path: Path) -> None:
    ws = workbook(tmp_path)["Status"]
    titles = cells(ws, "Title")
    formula = titles[1]
    assert formula.value == FORMULA_TITLE
    assert formula.data_type == "s"
    assert formula.quotePrefix is True
    # XML reads a raw CR back as LF (end-of-line handling), so that one is compared loosely
    carriage = titles[4]
    assert carriage.value in ("\rcarriage return", "\ncarriage return")
    assert carriage.data_type == "s"
    assert carriage.quotePrefix is True
    for cell, text in [
        (titles[2], "-minus text\tand tab"),
        (cells(ws, "Owner")[1], "@boss"),
        (cells(ws, "Note")[1], "+1 call with vendor"),
    ]:
        assert cell.value == text
        assert cell.data_type == "s"
        assert cell.quotePrefix is True
    plain = titles[0]
    assert plain.value == SCRIPT_TITLE
    assert plain.data_type == "s"
    assert plain.quotePrefix is False


def test_no_cell_is_stored_as_a_formula(tmp_path: Path) -> None:
    with zipfile.ZipFile(publish(tmp_path)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(TAB_ORDER)
        for name in sheets:
            assert b"<f>" not in archive.read(name)
            assert b"<f " not in archive.read(name)


def test_numbers_are_numeric(tmp_path: Path) -> None:
    wb = workbook(tmp_path)
    ws = wb["Status"]
    value = cells(ws, "Value")
    assert [c.value for c in value] == [None, 5, -3, None, 100]
    assert value[2].data_type == "n"
    progress = cells(ws, "Progress %")
    assert progress[0].value == 62.5
    assert progress[0].data_type == "n"
    assert progress[0].number_format == "0.0"
    risks = cells(ws, "Risks")
    assert risks[1].value == 2
    assert risks[1].number_format == "0"
    workload = wb["Workload"]
    assert cells(workload, "Open points")[0].value == 21.5
    assert cells(workload, "Over WIP limit")[0].value is True
    assert cells(workload, "Over WIP limit")[0].data_type == "b"


def test_dates_are_dates(tmp_path: Path) -> None:
    ws = workbook(tmp_path)["Status"]
    start = cells(ws, "Start")[0]
    assert start.is_date
    assert start.value == datetime(2026, 10, 1)
    assert start.number_format == "yyyy-mm-dd"
    updated = cells(ws, "Updated")[0]
    assert updated.value == datetime(2026, 11, 16, 9, 30)  # shown in the config's timezone
    assert updated.number_format == "yyyy-mm-dd hh:mm"


def test_status_cells_are_filled_with_their_colour(tmp_path: Path) -> None:
    wb = workbook(tmp_path)
    for cell in cells(wb["Status"], "Status") + cells(wb["History"], "Status"):
        fill, font = STATUS_STYLES[cell.value]
        assert cell.fill.fill_type == "solid"
        assert cell.fill.fgColor.rgb.endswith(fill)
        assert cell.font.color.rgb.endswith(font)
    colours = {c.fill.fgColor.rgb for c in cells(wb["Status"], "Status")}
    assert len(colours) == 5  # On track, At risk, Off track, Done, Not started: all differ
    assert cells(wb["Status"], "Title")[0].fill.fill_type is None


def test_every_sheet_has_a_frozen_bold_header_and_a_filter(tmp_path: Path) -> None:
    wb = workbook(tmp_path)
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.bold for c in ws[1])
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
    assert wb["Status"].auto_filter.ref == "A1:T6"


def test_item_keys_link_to_their_items(tmp_path: Path) -> None:
    wb = workbook(tmp_path)
    keys = cells(wb["Items"], "Key")
    assert keys[0].value == "PAY-101"
    assert keys[0].hyperlink.target == "https://acme.atlassian.net/browse/PAY-101"
    assert keys[1].value == "acme/web#46"
    assert keys[1].hyperlink is None  # no URL, no link
    risk_items = cells(wb["Risks"], "Item")
    assert risk_items[0].hyperlink.target == "https://acme.atlassian.net/browse/PAY-102"
    assert cells(wb["Unaligned"], "Key")[0].hyperlink.target == "https://plan.example/ops/9"


def test_six_statuses_have_six_styles() -> None:
    assert set(STATUS_STYLES) == {
        "On track", "At risk", "Off track", "Done", "Not started", "No data"
    }  # fmt: skip
    assert len({fill for fill, _ in STATUS_STYLES.values()}) == 6


def test_every_tab_prints_landscape_one_page_wide_with_its_header_on_each_page(
    tmp_path: Path,
) -> None:
    wb = workbook(tmp_path)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)  # 0: any length
        assert ws.print_title_rows == "$1:$1"
        assert (ws.page_margins.left, ws.page_margins.right) == (0.25, 0.25)  # Excel's narrow


def rules_by_range(ws: Any) -> dict[str, list[Any]]:
    return {str(cf.sqref): list(cf.rules) for cf in ws.conditional_formatting}


def test_status_colours_are_conditional_formats_that_follow_edits(tmp_path: Path) -> None:
    wb = workbook(tmp_path)
    for tab in ("Status", "History"):
        ws = wb[tab]
        letter = cells(ws, "Status")[0].column_letter
        rules = rules_by_range(ws)[f"{letter}2:{letter}1048576"]  # the whole column: added rows
        by_word = {r.formula[0]: r for r in rules if r.type == "cellIs"}
        assert set(by_word) == {f'"{w}"' for w in STATUS_STYLES}
        for word, (fill, font) in STATUS_STYLES.items():
            rule = by_word[f'"{word}"']
            assert rule.operator == "equal"
            assert rule.dxf.fill.fgColor.rgb.endswith(fill)
            assert rule.dxf.font.color.rgb.endswith(font)
    # tabs without a status column have no colour rules
    assert not any(r.type == "cellIs" for rs in rules_by_range(wb["Items"]).values() for r in rs)


def test_goal_rows_are_bold_by_a_rule_on_their_level(tmp_path: Path) -> None:
    wb = workbook(tmp_path)
    ws = wb["Status"]
    level = cells(ws, "Level")[0].column_letter
    last = ws.cell(row=1, column=ws.max_column).column_letter
    (rule,) = rules_by_range(ws)[f"A2:{last}1048576"]
    assert rule.type == "expression"
    assert rule.formula == [f'${level}2="goal"']
    assert rule.dxf.font.b is True
    assert "goal" in [c.value for c in cells(ws, "Level")]  # the sample has goal rows to bold
    assert not any(
        r.type == "expression" for rs in rules_by_range(wb["Risks"]).values() for r in rs
    )


def test_a_status_word_with_a_quote_stays_a_string_in_the_rule() -> None:
    assert _quoted('say "hi"') == '"say ""hi"""'


def test_characters_xml_cannot_hold_are_dropped_and_long_text_is_cut() -> None:
    table = Table(
        "T",
        (Column("A"), Column("B")),
        [("bell\x07 and \x1b escape", "x" * (EXCEL_CELL_LIMIT + 10))],
    )
    buffer = io.BytesIO()
    write_workbook([table], buffer)
    buffer.seek(0)
    ws = openpyxl.load_workbook(buffer)["T"]
    assert ws["A2"].value == "bell and  escape"
    assert len(ws["B2"].value) == EXCEL_CELL_LIMIT
    assert ws["B2"].value.endswith("…")


def test_an_empty_table_still_has_its_header() -> None:
    buffer = io.BytesIO()
    write_workbook([Table("Risks", (Column("Key result"), Column("Goal")), [])], buffer)
    buffer.seek(0)
    ws = openpyxl.load_workbook(buffer)["Risks"]
    assert [c.value for c in ws[1]] == ["Key result", "Goal"]
    assert ws.max_row == 1
    assert ws.auto_filter.ref == "A1:B1"


@pytest.mark.parametrize("value", [date(2026, 12, 31), 3, 2.5, True])
def test_non_text_values_are_not_strings(value: Cell) -> None:
    buffer = io.BytesIO()
    write_workbook([Table("T", (Column("A"),), [(value,)])], buffer)
    buffer.seek(0)
    cell = openpyxl.load_workbook(buffer)["T"]["A2"]
    assert cell.data_type != "s"
    assert cell.quotePrefix is False


def test_nothing_is_written_until_apply(tmp_path: Path) -> None:
    target = tmp_path / "status.xlsx"
    sink = XlsxSinkConfig.model_validate({"type": "xlsx", "path": "status.xlsx"}).build(tmp_path)
    sink.prepare(tables()[:1], publish_context()).apply()
    old = target.read_bytes()
    staged = sink.prepare(tables(), publish_context())
    assert target.read_bytes() == old
    staged.apply()
    assert openpyxl.load_workbook(target).sheetnames == TAB_ORDER
    assert [p.name for p in tmp_path.iterdir()] == ["status.xlsx"]


def test_only_web_urls_become_hyperlinks(tmp_path: Path) -> None:
    from sync.base.report import Link

    table = Table(
        "Items",
        (Column("Key", "link"),),
        [(Link("javascript:alert(1)", "BAD-1"),), (Link("https://x.test/browse/OK-1", "OK-1"),)],
    )
    target = tmp_path / "links.xlsx"
    with target.open("wb") as fh:
        write_workbook([table], fh)
    ws = openpyxl.load_workbook(target)["Items"]
    assert ws["A2"].value == "BAD-1" and ws["A2"].hyperlink is None
    assert ws["A3"].hyperlink.target == "https://x.test/browse/OK-1"


# --- writing only its own workbook ---------------------------------------------------------------


def build(tmp_path: Path, path: str = "out/status.xlsx") -> XlsxSink:
    return XlsxSinkConfig.model_validate({"type": "xlsx", "path": path}).build(tmp_path)


def test_the_workbook_carries_goalsyncs_mark(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(publish(tmp_path))
    assert {p.name: p.value for p in wb.custom_doc_props.props}[MARK_PROPERTY].startswith(
        "written by goalsync"
    )
    assert wb.properties.creator == "goalsync"


def test_a_rerun_onto_its_own_workbook_works_even_after_someone_saved_it(tmp_path: Path) -> None:
    target = publish(tmp_path)
    wb = openpyxl.load_workbook(target)  # opened and saved by hand: the mark stays
    wb.properties.creator = "Dana"
    wb.save(target)
    build(tmp_path).prepare(tables(), publish_context()).apply()
    assert openpyxl.load_workbook(target).sheetnames == TAB_ORDER


def legacy_workbook(path: Path, sheets: list[str]) -> None:
    """A workbook as an earlier release wrote it: goalsync's tabs, no mark."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in sheets:
        wb.create_sheet(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_an_earlier_releases_workbook_is_adopted(tmp_path: Path) -> None:
    target = tmp_path / "out" / "status.xlsx"
    legacy_workbook(target, RELEASED_TABS)
    build(tmp_path).prepare(tables(), publish_context()).apply()
    props = openpyxl.load_workbook(target).custom_doc_props.props
    assert MARK_PROPERTY in [p.name for p in props]


@pytest.mark.parametrize(
    "sheets",
    [
        [*RELEASED_TABS, "My notes"],  # a tab someone added: theirs to lose
        RELEASED_TABS[::-1],
        TAB_ORDER[::-1],
        ["Status"],
        ["Sheet1"],
    ],
)
def test_a_workbook_goalsync_did_not_write_is_refused_untouched(
    tmp_path: Path, sheets: list[str]
) -> None:
    target = tmp_path / "out" / "status.xlsx"
    legacy_workbook(target, sheets)
    before = target.read_bytes()
    with pytest.raises(ConfigError, match="goalsync did not write it") as caught:
        build(tmp_path)
    assert str(target) in str(caught.value)
    assert target.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a zip at all",
        b"PK\x03\x04 broken",
        b"root:x:0:0:root:/root:/bin/bash\n",
    ],
)
def test_a_file_that_is_not_its_workbook_is_refused(tmp_path: Path, content: bytes) -> None:
    target = tmp_path / "out" / "status.xlsx"
    target.parent.mkdir()
    target.write_bytes(content)
    with pytest.raises(ConfigError, match="goalsync did not write it"):
        build(tmp_path)
    assert target.read_bytes() == content


def test_a_zip_with_a_huge_part_is_read_only_so_far(tmp_path: Path) -> None:
    target = tmp_path / "status.xlsx"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", b"<workbook>" + b" " * 50_000_000)  # 50 MB, compresses
    assert target.stat().st_size < 1_000_000
    with target.open("rb") as fh:
        assert is_goalsync_workbook(fh) is False


def test_a_workbook_that_appeared_while_pulling_fails_the_publish(tmp_path: Path) -> None:
    sink = build(tmp_path)  # nothing there yet
    target = tmp_path / "out" / "status.xlsx"
    legacy_workbook(target, ["Budget"])
    before = target.read_bytes()
    with pytest.raises(PublishError, match="goalsync did not write it"):
        sink.prepare(tables(), publish_context())
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["status.xlsx"]


def test_a_folder_or_a_link_at_the_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out" / "status.xlsx").mkdir(parents=True)
    with pytest.raises(ConfigError, match="is a folder"):
        build(tmp_path)
    own = publish(tmp_path / "elsewhere")
    (tmp_path / "link.xlsx").symlink_to(own)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        build(tmp_path, "link.xlsx")


def test_trends_tab_has_one_line_chart_per_goal_reading_its_cells(tmp_path: Path) -> None:
    """G1 has a month of History: one native line chart, progress against expected, whose
    series are references to G1's rows of the Trends tab; the No data day is a blank cell
    that the chart shows as a gap. G2 has no History day in its cycle yet: no chart."""
    path = tmp_path / "status.xlsx"
    with path.open("wb") as fh:
        write_workbook(trend_tables(), fh)
    ws = openpyxl.load_workbook(path)["Trends"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 16 and {r[0] for r in rows} == {"G1"}
    assert rows[3][2] == datetime(2026, 10, 10) and rows[3][3] is None  # No data: blank
    charts = ws._charts
    assert len(charts) == 1
    (chart,) = charts
    assert chart.tagname == "lineChart"
    assert chart.display_blanks == "gap"
    assert [s.val.numRef.f for s in chart.series] == ["'Trends'!$D$2:$D$17", "'Trends'!$E$2:$E$17"]
    assert [s.tx.v for s in chart.series] == ["Progress %", "Expected %"]
    assert {s.cat.numRef.f for s in chart.series} == {"'Trends'!$C$2:$C$17"}
    assert chart.anchor._from.col == 6  # column G: beside the table, one column apart
    title = "".join(r.t for p in chart.title.tx.rich.p for r in p.r)
    assert title == f"G1 {SCRIPT_TITLE}"


def test_two_goals_with_history_get_two_charts_stacked(tmp_path: Path) -> None:
    history = [*trend_history(), *(replace(h, id="G2", date=date(2026, 12, d)) for d, h in
               ((1, trend_history()[1]), (2, trend_history()[2])))]  # fmt: skip
    report = replace(sample_report(), now=datetime(2026, 12, 3, 9, tzinfo=UTC))
    tables_ = to_tables(report, sample_run(), BERLIN, history)
    path = tmp_path / "status.xlsx"
    with path.open("wb") as fh:
        write_workbook(tables_, fh)
    charts = openpyxl.load_workbook(path)["Trends"]._charts
    assert [c.series[0].val.numRef.f for c in charts] == [
        "'Trends'!$D$2:$D$17",
        "'Trends'!$D$18:$D$19",
    ]
    assert [c.anchor._from.row for c in charts] == [1, 1 + CHART_ROWS]
