from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.jira import parse as jira_parse
from connectors.jira.parse import (
    STORY_POINT_SCHEMA,
    FieldIds,
    browse_url,
    find_field_ids,
    parse_issue,
    parse_time,
    status_categories,
)
from sync.base.contracts import ItemRules
from sync.base.errors import FatalError
from sync.base.records import Event, WorkItem
from tests.connectors.helpers import load_json

SP_ESTIMATE = "customfield_10016"  # "Story point estimate" (team-managed / newer sites)
SP_POINTS = "customfield_10026"  # "Story Points" (company-managed / older sites)
FLAGGED = "customfield_10021"


def search() -> dict[str, Any]:
    data: dict[str, Any] = load_json("jira", "search.json")
    return data


def parse_all(
    data: dict[str, Any] | None = None,
    *,
    rules: ItemRules | None = None,
    field_ids: FieldIds | None = None,
) -> dict[str, tuple[WorkItem, list[Event]]]:
    data = data or search()
    issues = data["issues"]
    ids = field_ids or find_field_ids(data.get("names"), data.get("schema"))
    categories = status_categories(issues)
    out = {}
    for raw in issues:
        item, events = parse_issue(
            raw,
            source="jira",
            fields_ids=ids,
            rules=rules or ItemRules(),
            categories=categories,
        )
        out[item.key] = (item, events)
    return out


def items(data: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, WorkItem]:
    return {k: v[0] for k, v in parse_all(data, **kwargs).items()}


def issue(data: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in data["issues"] if i["key"] == key)
    return found


def test_the_fixture_has_the_real_search_shape() -> None:
    data = search()
    assert set(data) == {"issues", "names", "isLast"}
    categories = {
        (
            i["fields"]["status"]["statusCategory"]["key"],
            i["fields"]["status"]["statusCategory"]["id"],
        )
        for i in data["issues"]
    }
    assert categories == {("new", 2), ("indeterminate", 4), ("done", 3)}
    for raw in data["issues"]:
        assert set(raw) >= {"id", "self", "key", "fields", "changelog"}
        assert raw["fields"]["created"].endswith("+0000")


def test_state_comes_from_the_status_category() -> None:
    got = {k: i.state for k, i in items().items()}
    assert got == {
        "PAY-100": "in_progress",
        "PAY-101": "done",
        "PAY-102": "in_progress",
        "PAY-103": "in_progress",  # "Blocked" is in the indeterminate category here
        "PAY-104": "cancelled",
        "PAY-105": "todo",
        "PAY-106": "done",  # status "Closed", no resolutiondate: still done
        "PAY-107": "todo",  # a resolutiondate left over from before a reopen: still todo
        "PAY-108": "in_progress",
    }


def test_state_ignores_status_names() -> None:
    data = search()
    misnamed = issue(data, "PAY-102")["fields"]["status"]
    misnamed["name"] = "Done"  # named Done, but its category says work is going on
    shipped = issue(data, "PAY-105")["fields"]["status"]
    shipped["name"] = "Shipped to prod"
    shipped["statusCategory"] = copy.deepcopy(
        issue(data, "PAY-101")["fields"]["status"]["statusCategory"]
    )
    got = items(data)
    assert got["PAY-102"].state == "in_progress"
    assert got["PAY-102"].status == "Done"
    assert got["PAY-105"].state == "done"
    assert got["PAY-105"].status == "Shipped to prod"


def test_state_ignores_resolutiondate() -> None:
    got = items()
    assert got["PAY-106"].state == "done"
    assert got["PAY-106"].done_at is None  # no changelog move and no resolutiondate: unknown
    assert got["PAY-107"].state == "todo"
    assert got["PAY-107"].done_at is None


def test_an_unknown_category_is_todo() -> None:
    data = search()
    issue(data, "PAY-101")["fields"]["status"]["statusCategory"] = {"key": "undefined", "id": 1}
    assert items(data)["PAY-101"].state == "todo"


def test_cancelled_when_done_with_a_resolution_in_the_rules() -> None:
    default = items()
    assert default["PAY-104"].state == "cancelled"
    assert default["PAY-104"].fields == {"resolution": "Won't Do"}
    assert default["PAY-101"].state == "done"  # resolution "Done" is not a cancellation

    own_rules = items(rules=ItemRules(cancelled_resolutions=("Obsolete", "done")))
    assert own_rules["PAY-104"].state == "done"
    assert own_rules["PAY-101"].state == "cancelled"  # compared without case


def test_a_cancelling_resolution_on_an_open_issue_does_not_cancel_it() -> None:
    data = search()
    issue(data, "PAY-102")["fields"]["resolution"] = copy.deepcopy(
        issue(data, "PAY-104")["fields"]["resolution"]
    )
    assert items(data)["PAY-102"].state == "in_progress"


def test_blocked_from_status_label_or_flagged() -> None:
    got = {k: i.blocked for k, i in items().items()}
    assert got["PAY-103"] is True  # status Blocked
    assert got["PAY-105"] is True  # label "Blocked", compared without case
    assert got["PAY-102"] is True  # Flagged = Impediment
    assert [k for k, b in got.items() if b] == ["PAY-102", "PAY-103", "PAY-105"]


def test_flagged_needs_the_flagged_field_to_be_known() -> None:
    data = search()
    del data["names"][FLAGGED]
    assert items(data)["PAY-102"].blocked is False
    assert find_field_ids(data["names"]).flagged is None


def test_an_empty_flagged_list_is_not_blocked() -> None:
    data = search()
    issue(data, "PAY-102")["fields"][FLAGGED] = []
    assert items(data)["PAY-102"].blocked is False


def test_blocked_statuses_and_labels_follow_the_rules() -> None:
    rules = ItemRules(blocked_statuses=("In Review",), blocked_labels=("billing",))
    got = {k: i.blocked for k, i in items(rules=rules).items()}
    assert got["PAY-103"] is False
    assert got["PAY-105"] is False
    assert got["PAY-108"] is True
    assert got["PAY-102"] is True  # labelled billing, and still flagged
    assert got["PAY-100"] is False


def test_points_auto_takes_story_points_then_story_point_estimate() -> None:
    ids = find_field_ids(search()["names"])
    assert ids == FieldIds(points=(SP_POINTS, SP_ESTIMATE), flagged=FLAGGED)
    got = {k: i.points for k, i in items().items()}
    assert got["PAY-101"] == 5.0  # both set: Story Points (5), not the estimate (3)
    assert got["PAY-102"] == 3.0  # Story Points null: the estimate
    assert got["PAY-103"] is None  # both null: unestimated
    assert got["PAY-105"] == 1.0
    assert got["PAY-107"] == 0.0  # 0 is set, and is not passed over


def test_points_auto_order_does_not_depend_on_the_order_of_names() -> None:
    names = dict(reversed(list(search()["names"].items())))
    assert find_field_ids(names).points == (SP_POINTS, SP_ESTIMATE)


def test_points_auto_matches_names_without_case() -> None:
    assert find_field_ids({"customfield_1": "story POINTS"}).points == ("customfield_1",)


def test_points_auto_from_the_schema_custom_type() -> None:
    schema = {
        "customfield_10030": {
            "type": "number",
            "custom": STORY_POINT_SCHEMA,
            "customId": 10030,
        },
        "customfield_10031": {
            "type": "number",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
            "customId": 10031,
        },
    }
    assert STORY_POINT_SCHEMA == "com.pyxis.greenhopper.jira:jsw-story-points"
    assert find_field_ids(None, schema).points == ("customfield_10030",)

    data = search()
    del data["names"]
    data["schema"] = {SP_ESTIMATE: schema["customfield_10030"]}
    got = items(data)
    assert got["PAY-101"].points == 3.0  # the schema only knows the estimate field
    assert got["PAY-102"].points == 3.0


def test_points_from_names_come_before_the_schema() -> None:
    schema = {"customfield_10030": {"type": "number", "custom": STORY_POINT_SCHEMA}}
    ids = find_field_ids({SP_ESTIMATE: "Story point estimate"}, schema)
    assert ids.points == (SP_ESTIMATE, "customfield_10030")


def test_an_explicit_points_field_wins_over_auto() -> None:
    ids = find_field_ids(search()["names"], points_field=SP_ESTIMATE)
    assert ids.points == (SP_ESTIMATE,)
    assert items(field_ids=ids)["PAY-101"].points == 3.0


def test_without_names_or_schema_points_are_unknown() -> None:
    data = search()
    del data["names"]
    assert find_field_ids(None, None).points == ()
    assert {i.points for i in items(data).values()} == {None}


@pytest.mark.parametrize("bad", [-2, "5", True, {"value": 5}])
def test_points_that_are_not_a_non_negative_number_are_skipped(bad: object) -> None:
    data = search()
    fields = issue(data, "PAY-101")["fields"]
    fields[SP_POINTS] = bad
    assert items(data)["PAY-101"].points == 3.0  # falls through to the estimate


def test_status_categories_are_learnt_from_current_statuses() -> None:
    assert status_categories(search()["issues"]) == {
        "to do": "todo",
        "in progress": "in_progress",
        "in review": "in_progress",
        "blocked": "in_progress",
        "done": "done",
        "closed": "done",
    }


def test_changelog_becomes_status_changed_events_oldest_first() -> None:
    _, events = parse_all()["PAY-101"]
    assert events == [
        Event(
            source="jira",
            item_key="PAY-101",
            at=datetime(2026, 10, 3, 9, 12, 33, tzinfo=UTC),
            kind="status_changed",
            from_value="To Do",
            to_value="In Progress",
            actor="Sam Ortiz",
            from_state="todo",
            to_state="in_progress",
        ),
        Event(
            source="jira",
            item_key="PAY-101",
            at=datetime(2026, 10, 5, 9, 0, tzinfo=UTC),  # 11:00+0200
            kind="status_changed",
            from_value="In Progress",
            to_value="In Review",
            actor="Ana Ruiz",
            from_state="in_progress",
            to_state="in_progress",
        ),
        Event(
            source="jira",
            item_key="PAY-101",
            at=datetime(2026, 10, 6, 16, 20, tzinfo=UTC),
            kind="status_changed",
            from_value="In Review",
            to_value="Done",
            actor="Sam Ortiz",
            from_state="in_progress",
            to_state="done",
        ),
    ]


def test_changelog_order_in_the_payload_does_not_matter() -> None:
    data = search()
    histories = issue(data, "PAY-101")["changelog"]["histories"]
    histories.reverse()
    assert parse_all(data)["PAY-101"][1] == parse_all()["PAY-101"][1]


def test_changelog_items_matched_by_field_id_only() -> None:
    data = search()
    for history in issue(data, "PAY-102")["changelog"]["histories"]:
        for change in history["items"]:
            del change["field"]
    [event] = parse_all(data)["PAY-102"][1]
    assert (event.from_state, event.to_state) == ("todo", "in_progress")


def test_a_status_nobody_is_in_now_has_no_state() -> None:
    data = search()
    change = issue(data, "PAY-102")["changelog"]["histories"][0]["items"][0]
    change["fromString"] = "Triage"
    [event] = parse_all(data)["PAY-102"][1]
    assert event.from_value == "Triage"
    assert event.from_state is None
    assert event.to_state == "in_progress"


def test_no_changelog_means_no_events() -> None:
    data = search()
    del issue(data, "PAY-101")["changelog"]
    assert parse_all(data)["PAY-101"][1] == []
    assert parse_all()["PAY-103"][1] == []  # an empty changelog


def test_started_is_the_first_move_to_in_progress_and_done_at_the_last_move_to_done() -> None:
    got = items()
    assert got["PAY-101"].started == datetime(2026, 10, 3, 9, 12, 33, tzinfo=UTC)
    assert got["PAY-101"].done_at == datetime(2026, 10, 6, 16, 20, tzinfo=UTC)
    assert got["PAY-102"].started == datetime(2026, 10, 4, 10, 0, tzinfo=UTC)
    assert got["PAY-102"].done_at is None
    assert got["PAY-108"].started == datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
    assert got["PAY-104"].done_at == datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
    assert got["PAY-104"].started is None


def test_done_at_after_a_reopen_is_the_last_move_to_done() -> None:
    data = search()
    raw = issue(data, "PAY-106")

    def move(at: str, before: str, after: str) -> dict[str, Any]:
        return {
            "id": "1",
            "author": None,
            "created": at,
            "items": [
                {"field": "status", "fieldtype": "jira", "fromString": before, "toString": after}
            ],
        }

    raw["changelog"]["histories"] = [
        move("2026-10-09T08:00:00.000+0000", "To Do", "Closed"),
        move("2026-10-02T08:00:00.000+0000", "To Do", "Closed"),
        move("2026-10-03T08:00:00.000+0000", "Closed", "To Do"),
    ]
    item, events = parse_all(data)["PAY-106"]
    assert [e.to_state for e in events] == ["done", "todo", "done"]
    assert item.done_at == datetime(2026, 10, 9, 8, 0, tzinfo=UTC)
    assert item.started is None
    assert events[0].actor is None


def test_done_at_falls_back_to_resolutiondate_without_a_changelog() -> None:
    data = search()
    raw = issue(data, "PAY-101")
    del raw["changelog"]
    raw["fields"]["resolutiondate"] = "2026-10-07T01:00:00.000+0200"
    item = items(data)["PAY-101"]
    assert item.done_at == datetime(2026, 10, 6, 23, 0, tzinfo=UTC)
    assert item.started is None


def test_started_is_dropped_once_an_issue_is_back_to_todo() -> None:
    data = search()
    issue(data, "PAY-102")["fields"]["status"] = copy.deepcopy(
        issue(data, "PAY-105")["fields"]["status"]
    )
    assert items(data)["PAY-102"].started is None


def test_the_other_fields() -> None:
    got = items()
    epic, story = got["PAY-100"], got["PAY-101"]
    assert epic.kind == "epic"
    assert story.kind == "issue"
    assert got["PAY-103"].kind == "issue"  # a Task
    assert story.title == "Refund API"
    assert story.status == "Done"
    assert story.assignee == "Sam Ortiz"
    assert got["PAY-103"].assignee is None
    assert story.labels == ("billing", "api")
    assert story.components == ("API", "Billing")
    assert story.parent == "PAY-100"
    assert epic.parent is None
    assert story.project == "PAY"
    assert story.priority == "High"
    assert story.created == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    assert story.updated == datetime(2026, 10, 6, 16, 20, tzinfo=UTC)
    assert story.due == date(2026, 11, 30)
    assert got["PAY-102"].due is None
    assert story.source == "jira"


def test_an_epic_is_recognised_by_hierarchy_level_when_renamed() -> None:
    data = search()
    issue(data, "PAY-100")["fields"]["issuetype"]["name"] = "Initiative"
    assert items(data)["PAY-100"].kind == "epic"


def test_url_is_the_browse_page_of_the_site() -> None:
    got = items()
    assert got["PAY-101"].url == "https://acme.atlassian.net/browse/PAY-101"


@pytest.mark.parametrize(
    ("self_url", "expected"),
    [
        ("https://acme.atlassian.net/rest/api/3/issue/10001", "https://acme.atlassian.net/browse/K-1"),
        ("https://jira.example.com/jira/rest/api/2/issue/77", "https://jira.example.com/jira/browse/K-1"),
        ("http://127.0.0.1:8080/rest/api/3/issue/1", "http://127.0.0.1:8080/browse/K-1"),
        ("https://acme.atlassian.net/issue/1", None),
        (None, None),
    ],
)  # fmt: skip
def test_browse_url(self_url: str | None, expected: str | None) -> None:
    assert browse_url(self_url, "K-1") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-05T09:12:33.000+0000", datetime(2026, 10, 5, 9, 12, 33, tzinfo=UTC)),
        ("2026-10-05T09:12:33.000+0200", datetime(2026, 10, 5, 7, 12, 33, tzinfo=UTC)),
        ("2026-10-05T09:12:33.123-0530", datetime(2026, 10, 5, 14, 42, 33, 123000, tzinfo=UTC)),
        ("2026-10-05T09:12:33.000+02:00", datetime(2026, 10, 5, 7, 12, 33, tzinfo=UTC)),
        ("2026-10-05T09:12:33Z", datetime(2026, 10, 5, 9, 12, 33, tzinfo=UTC)),
    ],
)
def test_jira_times(text: str, expected: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is UTC


def test_missing_times_are_none_and_garbage_is_fatal() -> None:
    assert parse_time(None) is None
    assert parse_time("") is None
    with pytest.raises(FatalError, match="unreadable Jira time 'last Tuesday'"):
        parse_time("last Tuesday")


def test_an_unreadable_due_date_is_fatal() -> None:
    data = search()
    issue(data, "PAY-101")["fields"]["duedate"] = "30.11.2026"
    with pytest.raises(FatalError, match="unreadable Jira date"):
        items(data)


@pytest.mark.parametrize("drop", ["key", "fields"])
def test_an_issue_without_key_or_fields_is_fatal(drop: str) -> None:
    raw = copy.deepcopy(issue(search(), "PAY-101"))
    del raw[drop]
    with pytest.raises(FatalError, match="a Jira issue without key or fields"):
        parse_issue(raw, source="jira", fields_ids=FieldIds(), rules=ItemRules(), categories={})


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.integers(min_value=-12 * 60, max_value=14 * 60).map(
            lambda m: timezone(timedelta(minutes=m))
        ),
    )
)
def test_any_jira_formatted_time_reads_back_as_the_same_instant(moment: datetime) -> None:
    # Jira writes milliseconds and an offset without a colon: 2026-10-05T09:12:33.000+0000
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    text += moment.strftime("%z")
    parsed = jira_parse.parse_time(text)
    assert parsed == moment
    assert parsed is not None and parsed.tzinfo is UTC


def test_data_center_epic_link_is_the_parent_when_parent_is_absent() -> None:
    ids = find_field_ids(
        {"customfield_10101": "Epic Link"},
        {"customfield_10101": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link"}},
    )
    assert ids.epic_link == "customfield_10101"
    assert "customfield_10101" in ids.extra
    raw = copy.deepcopy(search()["issues"][3])
    del raw["fields"]["parent"]
    raw["fields"]["customfield_10101"] = "CORE-1"
    item, _ = parse_issue(raw, source="j", fields_ids=ids, rules=ItemRules(), categories={})
    assert item.parent == "CORE-1"


def test_changes_in_the_same_millisecond_keep_their_history_order() -> None:
    same = "2026-10-05T09:00:00.000+0000"
    histories = [
        {"id": "20", "created": same, "items": [{"field": "status", "toString": "Done"}]},
        {"id": "19", "created": same, "items": [{"field": "status", "toString": "In Progress"}]},
    ]
    events = jira_parse.parse_histories("j", "A-1", histories, {})
    assert [e.to_value for e in events] == ["In Progress", "Done"]
