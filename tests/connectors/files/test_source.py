from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.files.source import FileSource, FileSourceConfig
from sync.base.contracts import ItemRules, PullResult
from sync.base.errors import ConfigError, FatalError
from sync.base.records import GoalDef, Override
from tests.connectors.helpers import FIXTURES, pull_context

HTML_ERROR_PAGE = """<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>
"""


def source(base: Path, path: str, fmt: str, **extra: Any) -> FileSource:
    config = FileSourceConfig.model_validate({"type": "file", "path": path, "format": fmt, **extra})
    return config.build("export", base)


def copy_fixture(tmp_path: Path, *parts: str, name: str | None = None) -> Path:
    target = tmp_path / (name or parts[-1])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES.joinpath(*parts), target)
    return target


def fetch(base: Path, path: str, fmt: str, **extra: Any) -> PullResult:
    return source(base, path, fmt, **extra).fetch(pull_context())


# --- config and build -------------------------------------------------------------------------


def test_build_on_a_path_that_matches_nothing_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        source(tmp_path, "data/jira.json", "jira_search")
    message = str(info.value)
    assert "'export'" in message
    assert "'data/jira.json'" in message
    assert str(tmp_path / "data" / "jira.json") in message


def test_build_on_a_glob_that_matches_nothing_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    with pytest.raises(ConfigError, match=r"'exports/\*\.json' matches no file"):
        source(tmp_path, "exports/*.json", "github_issues")


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "data.json").mkdir()
    with pytest.raises(ConfigError, match="matches no file"):
        source(tmp_path, "data.json", "github_issues")


def test_relative_paths_start_at_the_config_folder(tmp_path: Path) -> None:
    copy_fixture(tmp_path / "conf", "github", "issues-handmade.json", name="data/gh.json")
    built = source(tmp_path / "conf", "data/gh.json", "github_issues")
    assert built.pattern == tmp_path / "conf" / "data" / "gh.json"
    assert built.name == "export"
    assert built.type == "file"


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "github", "issues-handmade.json")
    built = source(Path("/nonexistent"), str(path), "github_issues")
    assert built.pattern == path


def test_points_field_is_only_for_jira_search() -> None:
    with pytest.raises(ValidationError, match="points_field applies only to format jira_search"):
        FileSourceConfig.model_validate(
            {"type": "file", "path": "x.json", "format": "github_issues", "points_field": "cf"}
        )
    ok = FileSourceConfig.model_validate(
        {"type": "file", "path": "x.json", "format": "jira_search", "points_field": "cf"}
    )
    assert ok.points_field == "cf"


@pytest.mark.parametrize(
    "config",
    [
        {"type": "file", "path": "x.json", "format": "jira"},
        {"type": "file", "path": "", "format": "csv_items"},
        {"type": "file", "path": "x.csv", "format": "csv_items", "delimiter": ";"},
        {"type": "file", "format": "csv_items"},
    ],
)
def test_invalid_file_configs(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        FileSourceConfig.model_validate(config)


# --- globs ------------------------------------------------------------------------------------


def test_a_glob_reads_every_matching_file_in_name_order(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "github", "issues-export.json", name="exports/a-recorded.json")
    copy_fixture(tmp_path, "github", "issues-handmade.json", name="exports/b-handmade.json")
    (tmp_path / "exports" / "notes.txt").write_text("not json")
    result = fetch(tmp_path, "exports/*.json", "github_issues")
    keys = [i.key for i in result.items]
    assert len(keys) == 13 + 9
    assert keys[0] == "octokit-fixture-org/paginate-issues#13"
    assert keys[-1] == "acme/ledger#7"


def test_a_recursive_glob(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "csv", "metrics.csv", name="kpi/2026/10/metrics.csv")
    copy_fixture(tmp_path, "csv", "metrics-bom.csv", name="kpi/rev.csv")
    result = fetch(tmp_path, "kpi/**/*.csv", "csv_metrics")
    assert sorted({m.name for m in result.metrics}) == ["checkout_conversion", "nps", "revenue"]


def test_a_file_gone_since_build_fails_the_pull(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "github", "issues-handmade.json")
    built = source(tmp_path, path.name, "github_issues")
    path.unlink()
    with pytest.raises(FatalError, match="no file matches"):
        built.fetch(pull_context())


# --- unreadable files -------------------------------------------------------------------------

JSON_FORMATS = ["jira_search", "github_issues"]


def truncated(fixture: tuple[str, str]) -> bytes:
    data = FIXTURES.joinpath(*fixture).read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize("fmt", JSON_FORMATS)
@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b'{"issues": [}', "not valid JSON"),
        (b"", "not valid JSON"),
        (HTML_ERROR_PAGE.encode(), "not valid JSON (Expecting value at line 1, column 1)"),
        (truncated(("jira", "search.json")), "not valid JSON"),
        (truncated(("github", "issues-export.json")), "not valid JSON"),
        (b'["caf\xe9"]', "not UTF-8"),
    ],
)
def test_unreadable_json_fails_naming_the_file(
    tmp_path: Path, fmt: str, content: bytes, what: str
) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(content)
    with pytest.raises(FatalError) as info:
        fetch(tmp_path, path.name, fmt)
    message = str(info.value)
    assert str(path) in message
    assert what in message


@pytest.mark.parametrize(
    ("fmt", "payload", "what"),
    [
        # what Jira answers to a bad JQL, saved by mistake instead of the results
        (
            "jira_search",
            {"errorMessages": ["The value 'XYZ' does not exist for the field 'project'."]},
            "page 0 is not a Jira search response",
        ),
        ("jira_search", [{"issues": []}, "page two"], "page 1 is not a Jira search response"),
        ("jira_search", {"issues": {"PAY-1": {}}}, "page 0 is not a Jira search response"),
        ("jira_search", {"issues": [{"key": "PAY-1"}, 7]}, "not objects"),
        # what GitHub answers for a missing repo
        (
            "github_issues",
            {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
            "expected a JSON array of issues",
        ),
        ("github_issues", [1, 2, 3], "not an issue object"),
    ],
)
def test_the_wrong_shape_fails_naming_the_file(
    tmp_path: Path, fmt: str, payload: Any, what: str
) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(FatalError) as info:
        fetch(tmp_path, path.name, fmt)
    message = str(info.value)
    assert str(path) in message
    assert what in message


GOOD_JIRA = {"key": "PAY-9", "fields": {"summary": "fine", "labels": ["a"]}}
GOOD_GITHUB = {"number": 9, "repository_url": "https://api.github.com/repos/a/b", "labels": []}


@pytest.mark.parametrize(
    ("fmt", "bad", "name", "what"),
    [
        ("jira_search", {"key": "PAY-1"}, "PAY-1", "fields: missing"),
        ("jira_search", {"id": "77", "fields": {"summary": "x"}}, "issue id 77", "key: missing"),
        ("jira_search", {"key": "PAY-1", "fields": {"created": "Tuesday"}}, "PAY-1", "Tuesday"),
        ("jira_search", {"key": "PAY-1", "fields": {"duedate": "soon"}}, "PAY-1", "soon"),
        ("jira_search", {"key": "PAY-1", "fields": {"status": "Done"}}, "PAY-1", "fields.status"),
        ("jira_search", {"key": "PAY-1", "fields": {"labels": 7}}, "PAY-1", "fields.labels"),
        ("jira_search", {"key": "PAY-1", "fields": {"labels": "x"}}, "PAY-1", "fields.labels"),
        (
            "jira_search",
            {"key": "PAY-1", "fields": {"status": {"statusCategory": {"key": 3}}}},
            "PAY-1",
            "fields.status.statusCategory.key",
        ),
        (
            "jira_search",
            {"key": "PAY-1", "fields": {"status": {"statusCategory": {"key": "finished"}}}},
            "PAY-1",
            "fields.status.statusCategory.key",
        ),
        (
            "jira_search",
            {"key": "PAY-1", "fields": {}, "changelog": {"histories": [{"items": "status"}]}},
            "PAY-1",
            "changelog.histories.0.items",
        ),
        (
            "github_issues",
            {"message": "Not Found"},
            "an issue without number or repo",
            "number: missing; repository_url: missing",
        ),
        ("github_issues", {**GOOD_GITHUB, "number": 1, "created_at": "x"}, "a/b#1", "'x'"),
        ("github_issues", {**GOOD_GITHUB, "number": 1, "labels": 5}, "a/b#1", "labels"),
        ("github_issues", {**GOOD_GITHUB, "number": 1, "labels": "x"}, "a/b#1", "labels"),
        ("github_issues", {**GOOD_GITHUB, "number": "1"}, "a/b#1", "number"),
        ("github_issues", {**GOOD_GITHUB, "number": 1, "state": "merged"}, "a/b#1", "state"),
        ("github_issues", {**GOOD_GITHUB, "number": 1, "labels": [{}]}, "a/b#1", "labels.0"),
        ("github_issues", {**GOOD_GITHUB, "number": 1, "assignee": "ana"}, "a/b#1", "assignee"),
    ],
)
def test_an_issue_of_the_wrong_shape_is_skipped_and_named_with_its_file(
    tmp_path: Path, fmt: str, bad: dict[str, Any], name: str, what: str
) -> None:
    good = GOOD_JIRA if fmt == "jira_search" else GOOD_GITHUB
    payload: Any = {"issues": [bad, good]} if fmt == "jira_search" else [bad, good]
    (tmp_path / "export.json").write_text(json.dumps(payload))
    result = fetch(tmp_path, "export.json", fmt)
    assert [i.key for i in result.items] == [("PAY-9" if fmt == "jira_search" else "a/b#9")]
    (line,) = [w for w in result.warnings if "malformed" in w]
    assert line.startswith("export.json: 1 item skipped as malformed: ")
    assert name in line
    assert what in line


def test_a_file_in_a_glob_names_itself_when_it_is_the_bad_one(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "github", "issues-handmade.json", name="gh/a.json")
    (tmp_path / "gh" / "b.json").write_text('[{"title": "no number"}]')
    result = fetch(tmp_path, "gh/*.json", "github_issues")
    malformed = [w for w in result.warnings if "malformed" in w]
    assert malformed == [
        "b.json: 1 item skipped as malformed: an issue without number or repo (number: missing; "
        "repository_url: missing)"
    ]
    assert len(result.items) == len(json.loads((tmp_path / "gh" / "a.json").read_text()))


# --- jira_search ------------------------------------------------------------------------------


def test_jira_search_export(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "jira", "search.json")
    result = fetch(tmp_path, "search.json", "jira_search")
    assert [i.key for i in result.items] == [f"PAY-{n}" for n in range(100, 109)]
    assert {i.source for i in result.items} == {"export"}
    assert result.complete is True
    assert result.has_history is True
    assert result.warnings == []
    assert len(result.events) == 1 + 3 + 1 + 1 + 2
    by_key = {i.key: i for i in result.items}
    assert by_key["PAY-101"].points == 5.0
    assert by_key["PAY-104"].state == "cancelled"


def test_jira_search_export_uses_the_pull_rules(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "jira", "search.json")
    built = source(tmp_path, "search.json", "jira_search")
    result = built.fetch(pull_context(ItemRules(cancelled_resolutions=())))
    assert {i.key: i.state for i in result.items}["PAY-104"] == "done"


def test_jira_search_pages_with_overlapping_issues_yield_each_key_once(tmp_path: Path) -> None:
    pages = json.loads(FIXTURES.joinpath("jira", "search-pages.json").read_text())
    assert [len(p["issues"]) for p in pages] == [5, 5]
    assert pages[0]["nextPageToken"] and pages[0]["isLast"] is False
    assert "nextPageToken" not in pages[1] and pages[1]["isLast"] is True
    copy_fixture(tmp_path, "jira", "search-pages.json")
    copy_fixture(tmp_path, "jira", "search.json")

    paged = fetch(tmp_path, "search-pages.json", "jira_search")
    whole = fetch(tmp_path, "search.json", "jira_search")
    keys = [i.key for i in paged.items]
    assert sorted(keys) == sorted(set(keys))
    assert Counter(keys)["PAY-104"] == 1
    assert keys == [i.key for i in whole.items]
    # events of the repeated issue are not doubled either
    assert [e.identity for e in paged.events] == [e.identity for e in whole.events]


def test_jira_search_names_and_categories_span_pages(tmp_path: Path) -> None:
    pages = json.loads(FIXTURES.joinpath("jira", "search-pages.json").read_text())
    del pages[0]["names"]  # only the last page carries names
    (tmp_path / "pages.json").write_text(json.dumps(pages))
    result = fetch(tmp_path, "pages.json", "jira_search")
    by_key = {i.key: i for i in result.items}
    assert by_key["PAY-101"].points == 5.0  # on page 1, its field named on page 2
    # "In Review" is only a current status on page 2; PAY-101's move to it is on page 1
    [review] = [e for e in result.events if e.item_key == "PAY-101" and e.to_value == "In Review"]
    assert review.to_state == "in_progress"


def test_jira_search_export_without_names_warns_points_unknown(tmp_path: Path) -> None:
    data = json.loads(FIXTURES.joinpath("jira", "search.json").read_text())
    del data["names"]
    (tmp_path / "search.json").write_text(json.dumps(data))
    result = fetch(tmp_path, "search.json", "jira_search")
    [warning] = result.warnings
    assert str(tmp_path / "search.json") in warning
    assert "no story points field" in warning
    assert {i.points for i in result.items} == {None}

    configured = fetch(tmp_path, "search.json", "jira_search", points_field="customfield_10016")
    assert configured.warnings == []
    assert {i.key: i.points for i in configured.items}["PAY-101"] == 3.0


def test_jira_search_export_without_changelog_has_no_history(tmp_path: Path) -> None:
    data = json.loads(FIXTURES.joinpath("jira", "search.json").read_text())
    for issue in data["issues"]:
        del issue["changelog"]
    (tmp_path / "search.json").write_text(json.dumps(data))
    result = fetch(tmp_path, "search.json", "jira_search")
    assert result.has_history is False
    assert result.events == []


# --- github_issues ----------------------------------------------------------------------------


def test_github_issues_export_built_from_the_recorded_responses(tmp_path: Path) -> None:
    recorded = json.loads(FIXTURES.joinpath("github", "paginate-issues.json").read_text())
    (tmp_path / "issues.json").write_text(
        json.dumps([issue for exchange in recorded for issue in exchange["response"]])
    )
    result = fetch(tmp_path, "issues.json", "github_issues")
    assert len(result.items) == 13
    assert {i.project for i in result.items} == {"octokit-fixture-org/paginate-issues"}
    assert {i.state for i in result.items} == {"todo"}
    assert result.complete is True
    assert result.has_history is False
    assert result.events == []


def test_github_issues_export_with_pull_requests(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "github", "issues-handmade.json")
    result = fetch(tmp_path, "issues-handmade.json", "github_issues")
    states = {i.key: (i.kind, i.state) for i in result.items}
    assert states["acme/web#46"] == ("pull_request", "done")
    assert states["acme/web#47"] == ("pull_request", "cancelled")
    assert states["acme/web#43"] == ("issue", "cancelled")
    assert states["acme/web#42"] == ("issue", "done")


def test_an_empty_github_export_is_an_empty_snapshot(tmp_path: Path) -> None:
    (tmp_path / "issues.json").write_text("[]")
    result = fetch(tmp_path, "issues.json", "github_issues")
    assert result.items == []
    assert result.complete is True


# --- CSV tables -------------------------------------------------------------------------------


def test_csv_items(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "csv", "items.csv")
    result = fetch(tmp_path, "items.csv", "csv_items")
    by_key = {i.key: i for i in result.items}
    assert list(by_key) == ["OPS-1", "OPS-2", "OPS-3"]
    ops1, ops2, ops3 = by_key["OPS-1"], by_key["OPS-2"], by_key["OPS-3"]
    assert ops1.state == "done"
    assert ops1.title == "Migrate DNS"  # the first row, not the duplicate
    assert ops1.labels == ("infra", "dns")
    assert ops1.parent == "G1"
    assert ops1.milestone == "Q4"
    assert ops1.points == 3.0
    assert ops1.url == "https://plan.example/ops/1"
    # naive times are read in the pull's timezone (Europe/Berlin, CEST in October)
    assert ops1.created == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert ops1.updated == datetime(2026, 10, 8, 8, 0, tzinfo=UTC)
    assert ops1.done_at == datetime(2026, 10, 8, 8, 0, tzinfo=UTC)
    assert ops1.due == date(2026, 10, 31)
    assert ops2.state == "in_progress"
    assert ops2.status == "Doing"
    assert ops2.blocked is True
    assert ops2.updated == datetime(2026, 10, 9, 12, 30, tzinfo=UTC)  # "Z" kept as UTC
    assert ops2.assignee is None
    assert ops3.state == "todo"
    assert ops3.points is None
    assert result.has_history is False

    problems = result.warnings
    assert len(problems) == 4
    assert all(p.startswith("items.csv row ") for p in problems)
    assert problems[0].startswith("items.csv row 6, column points: '1,5'")
    assert problems[1].startswith("items.csv row 7, column state: 'maybe'")
    assert problems[2].startswith("items.csv row 8, ") and "appears twice" in problems[2]
    assert problems[3].startswith("items.csv row 9, column points: '-2' is negative")


def test_csv_metrics(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "csv", "metrics.csv")
    result = fetch(tmp_path, "metrics.csv", "csv_metrics")
    assert [(m.name, m.at, m.value) for m in result.metrics] == [
        ("checkout_conversion", datetime(2026, 9, 30, 22, 0, tzinfo=UTC), 2.1),
        ("checkout_conversion", datetime(2026, 10, 15, 7, 0, tzinfo=UTC), 2.4),
        ("nps", datetime(2026, 10, 14, 22, 0, tzinfo=UTC), -3.5),
    ]
    assert result.items == []
    assert [p.split(",")[0] for p in result.warnings] == ["metrics.csv row 5", "metrics.csv row 6"]
    assert "column value: '1,234'" in result.warnings[0]
    assert "column date: empty" in result.warnings[1]


def test_csv_with_a_byte_order_mark(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "csv", "metrics-bom.csv")
    result = fetch(tmp_path, "metrics-bom.csv", "csv_metrics")
    assert [(m.name, m.value) for m in result.metrics] == [("revenue", 100.0)]


def test_csv_goals_builds_and_yields_goal_rows(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "csv", "goals.csv")
    built = source(tmp_path, "goals.csv", "csv_goals")
    assert built.fetch(pull_context()).goal_defs


def goals_source(path: Path) -> FileSource:
    """The csv_goals reader, reached directly."""
    config = FileSourceConfig.model_validate(
        {"type": "file", "path": str(path), "format": "csv_goals"}
    )
    return FileSource("export", config, path)


def test_csv_goals(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "csv", "goals.csv")
    result = goals_source(path).fetch(pull_context())
    assert result.goal_defs == [
        GoalDef(source="export", id="G1", due=date(2026, 12, 20), origin="goals.csv row 2"),
        GoalDef(source="export", id="G1.1", target=120.0, origin="goals.csv row 3"),
        GoalDef(
            source="export",
            id="G9",
            title="Cut cloud cost",
            owner="Kim",
            start=date(2026, 10, 1),
            due=date(2026, 12, 31),
            target=30.0,
            parent="G1",
            origin="goals.csv row 4",
        ),
    ]
    [problem] = result.warnings
    assert problem.startswith("goals.csv row 5, column due: '31/12/2026' is not a date")


def test_csv_goals_without_an_id_column_fails_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "goals.csv"
    path.write_text("goal,title\nG1,x\n")
    with pytest.raises(FatalError, match=r"^goals\.csv: no column id"):
        goals_source(path).fetch(pull_context())


def test_csv_overrides(tmp_path: Path) -> None:
    copy_fixture(tmp_path, "csv", "overrides.csv")
    result = fetch(tmp_path, "overrides.csv", "csv_overrides")
    assert result.overrides == [
        Override(
            source="export",
            id="G1.1",
            status="At risk",
            reason="vendor delay",
            until=date(2026, 11, 30),
            origin="overrides.csv row 2",
        ),
        Override(source="export", id="G1.2", status="Off track", origin="overrides.csv row 3"),
    ]
    [problem] = result.warnings
    assert problem.startswith("overrides.csv row 4, column status: 'green'")


@pytest.mark.parametrize(
    ("fmt", "header", "missing"),
    [
        ("csv_items", "title,state", "key"),
        ("csv_metrics", "name,when,value", "date"),
        ("csv_overrides", "id,reason", "status"),
    ],
)
def test_csv_without_a_required_column_fails_naming_file_and_column(
    tmp_path: Path, fmt: str, header: str, missing: str
) -> None:
    (tmp_path / "table.csv").write_text(f"{header}\na,b,c\n")
    with pytest.raises(FatalError) as info:
        fetch(tmp_path, "table.csv", fmt)
    message = str(info.value)
    assert message.startswith("table.csv: ")
    assert f"no column {missing}" in message


@pytest.mark.parametrize("fmt", ["csv_items", "csv_metrics", "csv_overrides"])
def test_an_html_error_page_saved_as_csv_fails_naming_the_file(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "table.csv").write_text(HTML_ERROR_PAGE)
    with pytest.raises(FatalError, match=r"^table\.csv: no column"):
        fetch(tmp_path, "table.csv", fmt)


def test_an_empty_csv_fails_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "table.csv").write_bytes(b"")
    with pytest.raises(FatalError) as info:
        fetch(tmp_path, "table.csv", "csv_items")
    assert str(tmp_path / "table.csv") in str(info.value)
    assert "empty file" in str(info.value)


def test_a_csv_that_is_not_utf8_fails_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "table.csv").write_bytes("key,title\nK-1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(FatalError) as info:
        fetch(tmp_path, "table.csv", "csv_items")
    assert str(tmp_path / "table.csv") in str(info.value)
    assert "not UTF-8" in str(info.value)


def test_a_key_on_two_pages_keeps_the_later_copy(tmp_path: Path) -> None:
    pages = json.loads(FIXTURES.joinpath("jira", "search-pages.json").read_text())
    [later] = [i for i in pages[1]["issues"] if i["key"] == "PAY-104"]
    later["fields"]["summary"] = "updated while paging"
    (tmp_path / "pages.json").write_text(json.dumps(pages))
    result = fetch(tmp_path, "pages.json", "jira_search")
    assert [i.title for i in result.items if i.key == "PAY-104"] == ["updated while paging"]
