from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.base import tabular
from sync.base.contracts import ItemRules
from sync.base.errors import FatalError
from sync.base.records import GoalDef, Metric, Override, WorkItem
from sync.base.tabular import (
    CellError,
    normalize_header,
    parse_goal_rows,
    parse_item_rows,
    parse_metric_rows,
    parse_override_rows,
    to_date,
    to_datetime,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def items(header: list[str], rows: list[list[object]], tz: ZoneInfo = BERLIN) -> tabular.Parsed:
    return parse_item_rows(header, rows, source="tasks", origin="Tasks", tz=tz, rules=ItemRules())


@pytest.mark.parametrize(
    "spelling", ["done_at", "Done at", "DONE-AT", "  done   AT ", "Done_At", "done__at", "doneat"]
)
def test_headers_are_compared_without_case_spaces_underscores_or_dashes(spelling: str) -> None:
    assert normalize_header(spelling) == "doneat"


def test_item_columns_are_found_by_name_whatever_their_spelling_and_order() -> None:
    header = ["URL", " Done At ", "due", "TITLE", "points", "KEY", "Labels", "state", "assignee"]
    row: list[object] = [
        "https://x.example/1",
        "2026-10-08T10:00:00",
        "2026-10-31",
        "Migrate DNS",
        "3",
        "OPS-1",
        "infra; dns ;",
        "Done",
        "Kim",
    ]
    parsed = items(header, [row])
    assert parsed.problems == []
    [item] = parsed.records
    assert isinstance(item, WorkItem)
    assert item.key == "OPS-1"
    assert item.title == "Migrate DNS"
    assert item.url == "https://x.example/1"
    assert item.points == 3.0
    assert item.state == "done"
    assert item.assignee == "Kim"
    assert item.labels == ("infra", "dns")
    assert item.due == date(2026, 10, 31)
    assert item.done_at == datetime(2026, 10, 8, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert item.kind == "task"
    assert item.source == "tasks"


def test_a_bad_cell_skips_only_its_row_and_says_where() -> None:
    header = ["key", "title", "points"]
    rows: list[list[object]] = [["A-1", "ok", "1"], ["A-2", "bad", "lots"], ["A-3", "ok", "2"]]
    parsed = items(header, rows)
    assert [i.key for i in parsed.records] == ["A-1", "A-3"]
    [problem] = parsed.problems
    # the header is row 1, so the second data row is row 3
    assert problem.startswith("Tasks row 3, column points:")
    assert "'lots'" in problem
    assert "row skipped" in problem


def test_row_numbers_count_blank_rows_as_a_spreadsheet_shows_them() -> None:
    rows: list[list[object]] = [["A-1", "1"], ["", ""], ["   ", None], ["A-4", "x"]]
    parsed = items(["key", "points"], rows)
    assert [i.key for i in parsed.records] == ["A-1"]
    assert parsed.problems == [
        "Tasks row 5, column points: 'x' is not a number (use a dot for decimals, no thousands "
        "separator); row skipped"
    ]


def test_a_row_without_a_key_is_skipped_naming_the_key_column() -> None:
    parsed = items(["key", "title"], [["", "orphan"], ["B-1", "fine"]])
    assert [i.key for i in parsed.records] == ["B-1"]
    assert parsed.problems == ["Tasks row 2, column key: empty, a value is required; row skipped"]


@pytest.mark.parametrize(
    ("parse", "header", "missing"),
    [
        (
            lambda h: parse_item_rows(
                h, [], source="s", origin="tasks.csv", tz=UTC, rules=ItemRules()
            ),
            ["Title", "State"],
            "key",
        ),
        (
            lambda h: parse_metric_rows(h, [], source="s", origin="tasks.csv", tz=UTC),
            ["name", "date"],
            "value",
        ),
        (lambda h: parse_goal_rows(h, [], source="s", origin="tasks.csv"), ["title"], "id"),
        (
            lambda h: parse_override_rows(h, [], source="s", origin="tasks.csv"),
            ["id", "reason"],
            "status",
        ),
    ],
)
def test_a_missing_required_column_fails_the_whole_table_naming_it(
    parse: Callable[[list[str]], tabular.Parsed], header: list[str], missing: str
) -> None:
    with pytest.raises(FatalError) as info:
        parse(header)
    message = str(info.value)
    assert message.startswith("tasks.csv: ")
    assert f"no column {missing} " in message
    assert "found: " + ", ".join(header) in message


def test_a_missing_required_column_fails_even_when_rows_are_fine() -> None:
    with pytest.raises(FatalError, match="no column key"):
        items(["Title"], [["a"], ["b"]])


def test_duplicate_keys_keep_the_first_row_and_report_the_second() -> None:
    rows: list[list[object]] = [["K-1", "first"], ["K-2", "other"], ["K-1", "second"]]
    parsed = items(["key", "title"], rows)
    assert [(i.key, i.title) for i in parsed.records] == [("K-1", "first"), ("K-2", "other")]
    [problem] = parsed.problems
    assert problem.startswith("Tasks row 4, ")
    assert "'K-1' appears twice" in problem


@pytest.mark.parametrize("value", ["-1", -0.5, "-3"])
def test_negative_points_are_refused(value: object) -> None:
    parsed = items(["key", "points"], [["K-1", value], ["K-2", "0"]])
    assert [(i.key, i.points) for i in parsed.records] == [("K-2", 0.0)]
    [problem] = parsed.problems
    assert "column points" in problem
    assert "negative" in problem


@pytest.mark.parametrize("value", ["1,5", "1,234", "2,000.5"])
def test_numbers_with_a_comma_are_refused_not_guessed(value: str) -> None:
    parsed = items(["key", "points"], [["K-1", value]])
    assert parsed.records == []
    [problem] = parsed.problems
    assert "column points" in problem
    assert "use a dot for decimals, no thousands separator" in problem

    metrics = parse_metric_rows(
        ["name", "date", "value"], [["nps", "2026-10-01", value]], source="m", origin="M", tz=UTC
    )
    assert metrics.records == []
    assert "M row 2, column value:" in metrics.problems[0]


def test_numbers_with_a_dot_and_real_numbers_from_a_sheet_are_read() -> None:
    parsed = parse_metric_rows(
        ["name", "date", "value"],
        [["a", "2026-10-01", "2.5"], ["b", "2026-10-01", -3], ["c", "2026-10-01", 1e3]],
        source="m",
        origin="M",
        tz=UTC,
    )
    assert [m.value for m in parsed.records] == [2.5, -3.0, 1000.0]


def test_a_boolean_from_a_sheet_is_not_a_number() -> None:
    parsed = items(["key", "points"], [["K-1", True]])
    assert parsed.records == []
    assert "True is not a number" in parsed.problems[0]


@pytest.mark.parametrize(
    ("serial", "expected"),
    [(45658, date(2025, 1, 1)), (46022, date(2025, 12, 31)), (46022.75, date(2025, 12, 31))],
)
def test_spreadsheet_serial_dates(serial: float, expected: date) -> None:
    assert to_date(serial) == expected


def test_spreadsheet_serial_datetimes_are_in_the_given_timezone() -> None:
    # 45658.5 is 2025-01-01 12:00 on the sheet's clock; Berlin is UTC+1 in winter
    assert to_datetime(45658.5, BERLIN) == datetime(2025, 1, 1, 11, 0, tzinfo=UTC)
    assert to_datetime(45658.5, NEW_YORK) == datetime(2025, 1, 1, 17, 0, tzinfo=UTC)


def test_serial_dates_arrive_through_a_goals_tab() -> None:
    parsed = parse_goal_rows(
        ["id", "due", "target"], [["G1", 46022.0, 120.0]], source="plan", origin="Goals"
    )
    [goal] = parsed.records
    assert isinstance(goal, GoalDef)
    assert goal.due == date(2025, 12, 31)
    assert goal.target == 120.0
    assert goal.origin == "Goals row 2"


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-10-15T09:00", BERLIN, datetime(2026, 10, 15, 7, 0, tzinfo=UTC)),
        ("2026-10-15 09:00:00", NEW_YORK, datetime(2026, 10, 15, 13, 0, tzinfo=UTC)),
        ("2026-12-15T09:00", BERLIN, datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),
        ("2026-10-15", BERLIN, datetime(2026, 10, 14, 22, 0, tzinfo=UTC)),
        ("2026-10-15T09:00Z", NEW_YORK, datetime(2026, 10, 15, 9, 0, tzinfo=UTC)),
        ("2026-10-15T09:00+05:30", BERLIN, datetime(2026, 10, 15, 3, 30, tzinfo=UTC)),
    ],
)
def test_naive_datetimes_are_read_in_the_given_timezone(
    text: str, tz: ZoneInfo, expected: datetime
) -> None:
    moment = to_datetime(text, tz)
    assert moment == expected
    assert moment.tzinfo is UTC


def test_naive_datetimes_in_rows_use_the_tables_timezone() -> None:
    header = ["key", "updated"]
    rows: list[list[object]] = [["K-1", "2026-10-15T09:00"]]
    in_berlin = items(header, rows, tz=BERLIN).records[0]
    in_new_york = items(header, rows, tz=NEW_YORK).records[0]
    assert in_berlin.updated == datetime(2026, 10, 15, 7, 0, tzinfo=UTC)
    assert in_new_york.updated == datetime(2026, 10, 15, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["15/10/2026", "Oct 15", "tomorrow"])
def test_unreadable_dates_are_cell_errors(text: str) -> None:
    with pytest.raises(CellError, match="is not a date"):
        to_date(text)
    with pytest.raises(CellError, match="is not a date or time"):
        to_datetime(text, UTC)


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("todo", "todo"),
        ("To Do", "todo"),
        ("open", "todo"),
        ("In Progress", "in_progress"),
        ("in-progress", "in_progress"),
        ("doing", "in_progress"),
        ("DONE", "done"),
        ("closed", "done"),
        ("Cancelled", "cancelled"),
    ],
)
def test_states_are_read_in_any_usual_spelling(text: str, state: str) -> None:
    [item] = items(["key", "state"], [["K-1", text]]).records
    assert item.state == state


def test_an_unknown_state_skips_the_row() -> None:
    parsed = items(["key", "state"], [["K-1", "maybe"]])
    assert parsed.records == []
    assert "column state: 'maybe' is not a state" in parsed.problems[0]


def test_empty_state_and_status_default_to_todo() -> None:
    [item] = items(["key", "state", "status"], [["K-1", "", ""]]).records
    assert item.state == "todo"
    assert item.status == "todo"


def test_blocked_by_status_or_label_only_while_open() -> None:
    header = ["key", "state", "status", "labels"]
    rows: list[list[object]] = [
        ["K-1", "in progress", "Blocked", ""],
        ["K-2", "todo", "Waiting", "infra;BLOCKED"],
        ["K-3", "done", "Blocked", "blocked"],
        ["K-4", "todo", "Waiting", "unblocked"],
    ]
    got = {i.key: i.blocked for i in items(header, rows).records}
    assert got == {"K-1": True, "K-2": True, "K-3": False, "K-4": False}


def test_metric_rows() -> None:
    parsed = parse_metric_rows(
        ["Name", "Date", "Value"],
        [["nps", "2026-10-15", "-3.5"], ["nps", "", "5"], ["", "2026-10-15", "1"]],
        source="kpi",
        origin="Metrics",
        tz=BERLIN,
    )
    assert parsed.records == [
        Metric(source="kpi", name="nps", at=datetime(2026, 10, 14, 22, 0, tzinfo=UTC), value=-3.5)
    ]
    assert parsed.problems == [
        "Metrics row 3, column date: empty, a value is required; row skipped",
        "Metrics row 4, column name: empty, a value is required; row skipped",
    ]


def test_override_rows_accept_status_words_in_any_case() -> None:
    parsed = parse_override_rows(
        ["ID", "Status", "Reason", "Until"],
        [
            ["G1", "at risk", "vendor", "2026-11-30"],
            ["G2", "OFF TRACK", "", ""],
            ["G3", "Not-Started", "", ""],
            ["G4", "green", "", ""],
        ],
        source="plan",
        origin="Overrides",
    )
    assert parsed.records == [
        Override(
            source="plan",
            id="G1",
            status="At risk",
            reason="vendor",
            until=date(2026, 11, 30),
            origin="Overrides row 2",
        ),
        Override(source="plan", id="G2", status="Off track", origin="Overrides row 3"),
        Override(source="plan", id="G3", status="Not started", origin="Overrides row 4"),
    ]
    [problem] = parsed.problems
    assert problem.startswith("Overrides row 5, column status: 'green' is not a status")


def test_goal_rows_leave_empty_cells_as_none() -> None:
    parsed = parse_goal_rows(
        ["id", "title", "owner", "start", "due", "target", "parent"],
        [["G1.1", "", "", "", "", "120", ""], ["7", "Seven", "", "", "", "", "G1"]],
        source="plan",
        origin="Goals",
    )
    assert parsed.records == [
        GoalDef(source="plan", id="G1.1", target=120.0, origin="Goals row 2"),
        GoalDef(source="plan", id="7", title="Seven", parent="G1", origin="Goals row 3"),
    ]


def test_whole_numbers_from_a_sheet_read_as_integer_text() -> None:
    # Sheets sends 7 as 7.0; an id or key "7.0" would never match the YAML's "7"
    parsed = parse_goal_rows(["id"], [[7.0]], source="plan", origin="Goals")
    assert parsed.records[0].id == "7"


_SEPARATORS = st.sampled_from([" ", "_", "-", "  ", "\t"])


@given(
    st.lists(st.tuples(st.booleans(), st.lists(_SEPARATORS, max_size=2)), min_size=6, max_size=6)
)
def test_any_spelling_of_a_header_finds_the_column(spec: list[tuple[bool, list[str]]]) -> None:
    spelled = "".join(
        (ch.upper() if upper else ch) + "".join(seps)
        for ch, (upper, seps) in zip("doneat", spec, strict=True)
    )
    parsed = items(["key", spelled], [["K-1", "2026-10-08T10:00:00"]])
    assert parsed.records[0].done_at == datetime(2026, 10, 8, 8, 0, tzinfo=UTC)


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2200, 1, 1)))
def test_serial_numbers_count_days_from_1899_12_30(day: date) -> None:
    serial = (day - date(1899, 12, 30)).days
    assert to_date(serial) == day
    assert to_date(float(serial) + 0.99) == day


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1_000", float("nan"), float("inf")])
def test_non_finite_and_underscored_numbers_are_refused(value: object) -> None:
    parsed = parse_metric_rows(
        ["name", "date", "value"], [["nps", "2026-10-01", value]], source="m", origin="M", tz=UTC
    )
    assert parsed.records == []
    assert "M row 2, column value:" in parsed.problems[0]
