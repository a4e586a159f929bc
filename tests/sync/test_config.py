"""sync.config: a valid file loads; a broken one raises one ConfigError that lists every problem
with its file:line, dotted path, what is wrong and how to fix it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sync.base.errors import ConfigError, Problem
from sync.config import load_config


def line_of(text: str, needle: str, occurrence: int = 1, *, exact: bool = False) -> int:
    """The 1-based line of the `occurrence`-th line of `text` that contains `needle` (or, with
    `exact`, that is `needle`)."""
    hits = [
        n
        for n, line in enumerate(text.splitlines(), start=1)
        if (line == needle if exact else needle in line)
    ]
    assert len(hits) >= occurrence, f"{needle!r} not in the config text"
    return hits[occurrence - 1]


def write(tmp_path: Path, text: str, name: str = "goalsync.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> tuple[ConfigError, list[Problem]]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value, caught.value.problems


def by_path(problems: list[Problem], dotted: str) -> Problem:
    found = [p for p in problems if p.path == dotted]
    assert len(found) == 1, f"expected one problem at {dotted}, got {problems}"
    return found[0]


VALID = """\
version: 1
timezone: Europe/Berlin
cycle: {start: 2026-10-01, due: 2026-12-31}
sources:
  tasks:
    type: file
    path: items.csv
    format: csv_items
  kpi:
    type: file
    path: metrics.csv
    format: csv_metrics
sinks:
  - type: csv
    path: out/csv
  - type: xlsx
    path: out/status.xlsx
status:
  at_risk_gap: 5
  blocked_labels: [stuck]
goals:
  - id: G1
    title: Ship billing
    owner: Dana Lee
    due: 2026-12-15
    key_results:
      - id: G1.1
        title: Billing tasks done
        select:
          - {source: tasks, labels: [billing]}
      - id: G1.2
        title: Conversion
        owner: Sam
        start: 2026-11-01
        measure: metric
        metric: conversion
        baseline: 2.1
        target: 3.0
  - id: G2
    title: Reliability
    parent: G1
    key_results:
      - id: 7
        title: Done tasks
        measure: count
        target: 10
        select:
          - {source: tasks, state: [done]}
"""


def test_a_valid_config_loads_with_its_defaults_resolved(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    config = load_config(path)

    assert config.path == path
    assert config.base_dir == tmp_path
    assert config.model.timezone == "Europe/Berlin"
    assert str(config.tz) == "Europe/Berlin"
    assert list(config.model.sources) == ["tasks", "kpi"]
    assert [s.type for s in config.model.sinks] == ["csv", "xlsx"]
    assert config.model.status.at_risk_gap == 5
    assert config.model.status.off_track_gap == 25  # default kept
    assert config.item_rules.blocked_labels == ("stuck",)

    goals = {g.id: g for g in config.plan.goals}
    assert [g.id for g in config.plan.goals] == ["G1", "G2"]
    g1 = goals["G1"]
    assert (g1.start, g1.due) == (date(2026, 10, 1), date(2026, 12, 15))
    kr1, kr2 = g1.key_results
    # A key result's dates default to its goal's, its owner to the goal's owner.
    assert (kr1.start, kr1.due, kr1.owner) == (date(2026, 10, 1), date(2026, 12, 15), "Dana Lee")
    assert kr1.target == 100.0  # percent_done's default target
    assert (kr2.start, kr2.due, kr2.owner) == (date(2026, 11, 1), date(2026, 12, 15), "Sam")
    assert (kr2.baseline, kr2.target) == (2.1, 3.0)
    g2 = goals["G2"]
    assert g2.parent == "G1" and g2.depth == 1
    assert (g2.start, g2.due) == (date(2026, 10, 1), date(2026, 12, 31))  # the cycle's
    assert g2.key_results[0].id == "7"  # a numeric id is read as a name


def test_a_jira_source_may_use_plain_http_on_loopback_only(tmp_path: Path) -> None:
    text = VALID.replace(
        "  kpi:\n",
        "  jira:\n    type: jira\n    url: http://127.0.0.1:8765/\n    jql: project = PAY\n"
        "  kpi:\n",
    )
    config = load_config(write(tmp_path, text))
    assert config.model.sources["jira"].type == "jira"


SCHEMA_BROKEN = """\
version: 1
timezone: Mars/Olympus_Mons
cycle: {start: 2026-10-01, due: 2026-12-31}
sources:
  tasks:
    type: file
    path: items.csv
    formatt: csv_items
  jira:
    type: jira
    url: http://jira.example.com
    jql: project = PAY
  ftp:
    type: ftp
    host: example.com
  untyped:
    path: data.csv
    format: csv_items
sinks:
  - type: csv
    path: out/csv
    path: out/other
goals:
  - id: G1
    title: Ship billing
    ownr: Dana Lee
    key_results:
      - id: G1.1
        title: Billing tasks done
        select:
          - {source: tasks}
"""


def test_every_schema_problem_is_listed_at_once_with_line_path_problem_and_fix(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, SCHEMA_BROKEN)
    error, problems = problems_of(path)
    text = SCHEMA_BROKEN
    shown = str(path)

    assert {p.path for p in problems} == {
        "timezone",
        "sources.tasks.formatt",
        "sources.tasks.format",
        "sources.jira.url",
        "sources.ftp",
        "sources.untyped",
        "sinks[0].path",
        "goals[0].ownr",
    }
    assert len(problems) == 8
    assert all(p.file == shown for p in problems)

    tz = by_path(problems, "timezone")
    assert tz.line == line_of(text, "timezone:")
    assert "Mars/Olympus_Mons" in tz.message and "IANA" in tz.message

    typo = by_path(problems, "sources.tasks.formatt")
    assert typo.line == line_of(text, "formatt:")
    assert "unknown key 'formatt'" in typo.message
    assert "did you mean 'format'?" in typo.message
    assert "remove it" in typo.fix and "format" in typo.fix

    # The typo also leaves the real key missing: reported with the fix that adds it.
    missing = by_path(problems, "sources.tasks.format")
    assert missing.line == line_of(text, "  tasks:")
    assert missing.message == "required key is missing"
    assert missing.fix == "add format: <value>"

    url = by_path(problems, "sources.jira.url")
    assert url.line == line_of(text, "url: http://jira.example.com")
    assert "https" in url.message and "127.0.0.1" in url.message

    unknown_type = by_path(problems, "sources.ftp")
    assert unknown_type.line == line_of(text, "  ftp:")
    assert unknown_type.message == "unknown type"
    for tag in ("jira", "github", "sheets", "file"):
        assert repr(tag) in unknown_type.fix

    untyped = by_path(problems, "sources.untyped")
    assert untyped.line == line_of(text, "  untyped:")
    assert "type" in untyped.message
    for tag in ("jira", "github", "sheets", "file"):
        assert repr(tag) in untyped.fix, untyped.fix

    duplicate = by_path(problems, "sinks[0].path")
    assert duplicate.line == line_of(text, "path: out/other")
    assert "'path' appears twice" in duplicate.message
    assert duplicate.fix

    owner = by_path(problems, "goals[0].ownr")
    assert owner.line == line_of(text, "ownr:")
    assert "did you mean 'owner'?" in owner.message
    assert "owner" in owner.fix and "key_results" in owner.fix

    # The message a user reads names each problem as file:line: path: problem (fix: ...).
    message = str(error)
    assert f"{shown}:{typo.line}: sources.tasks.formatt: unknown key 'formatt'" in message
    assert f"{shown}:{owner.line}: goals[0].ownr:" in message
    assert message.count("\n  ") == len(problems)


def test_a_sink_without_type_names_the_sink_types(tmp_path: Path) -> None:
    text = VALID.replace("  - type: xlsx\n", "  - kind: xlsx\n")
    _, problems = problems_of(write(tmp_path, text))
    untyped = by_path(problems, "sinks[1]")
    assert untyped.line == line_of(text, "- kind: xlsx")
    for tag in ("sheets", "xlsx", "csv", "html"):
        assert repr(tag) in untyped.fix
    assert "'jira'" not in untyped.fix


PLAN_BROKEN = """\
version: 1
cycle: {start: 2026-10-01, due: 2026-12-31}
sources:
  tasks:
    type: file
    path: items.csv
    format: csv_items
  kpi:
    type: file
    path: metrics.csv
    format: csv_metrics
sinks:
  - type: xlsx
    path: out/status.xlsx
goals:
  - id: G1
    title: Ship billing
    key_results:
      - id: G1.1
        title: From a source that is not there
        select:
          - {source: tasks}
          - {source: jiraa}
      - id: G1.2
        title: Ends before it starts
        start: 2026-11-10
        due: 2026-11-01
        select:
          - {source: tasks}
      - id: G1.1
        title: Same id again
        select:
          - {source: tasks}
      - id: G1.4
        title: Milestone without one
        measure: milestone
        select:
          - {source: tasks}
      - id: G1.5
        title: Count without target
        measure: count
        select:
          - {source: tasks}
  - id: G1
    title: Same goal id again
"""


def test_every_plan_problem_is_listed_at_once_with_line_path_problem_and_fix(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, PLAN_BROKEN)
    _, problems = problems_of(path)
    text = PLAN_BROKEN

    assert {p.path for p in problems} == {
        "goals[0].key_results[0].select[1].source",
        "goals[0].key_results[1].due",
        "goals[0].key_results[2].id",
        "goals[0].key_results[3].select[0]",
        "goals[0].key_results[4].target",
        "goals[1].id",
    }
    assert len(problems) == 6
    assert all(p.file == str(path) for p in problems)
    assert all(p.fix for p in problems)

    unknown = by_path(problems, "goals[0].key_results[0].select[1].source")
    assert unknown.line == line_of(text, "{source: jiraa}")
    assert unknown.message == "unknown source 'jiraa'"
    assert "tasks" in unknown.fix and "kpi" not in unknown.fix  # kpi yields no items

    dates = by_path(problems, "goals[0].key_results[1].due")
    assert dates.line == line_of(text, "due: 2026-11-01")
    assert "2026-11-01 is before start 2026-11-10" in dates.message

    dup_kr = by_path(problems, "goals[0].key_results[2].id")
    assert dup_kr.line == line_of(text, "- id: G1.1", occurrence=2)
    assert "duplicate id 'G1.1'" in dup_kr.message
    assert "goals[0].key_results[0].id" in dup_kr.message  # where it was first used

    dup_goal = by_path(problems, "goals[1].id")
    assert dup_goal.line == line_of(text, "  - id: G1", occurrence=2, exact=True)
    assert "duplicate id 'G1'" in dup_goal.message

    milestone = by_path(problems, "goals[0].key_results[3].select[0]")
    assert milestone.line == line_of(text, "measure: milestone") + 2  # its clause's line
    assert "measure milestone picks its items by milestone" in milestone.message
    assert "add milestone:" in milestone.fix

    target = by_path(problems, "goals[0].key_results[4].target")
    # No target key to point at: the line of the key result itself.
    assert target.line == line_of(text, "- id: G1.5")
    assert "needs a target" in target.message
    assert target.fix == "add target: <number>"


def test_cycle_due_before_start_is_reported_at_its_line(tmp_path: Path) -> None:
    text = VALID.replace(
        "cycle: {start: 2026-10-01, due: 2026-12-31}",
        "cycle:\n  start: 2026-10-01\n  due: 2026-09-30",
    ).replace("    due: 2026-12-15\n", "")
    _, problems = problems_of(write(tmp_path, text))
    cycle = by_path(problems, "cycle.due")
    assert cycle.line == line_of(text, "due: 2026-09-30")
    assert "before start 2026-10-01" in cycle.message
    assert cycle.fix


def test_duplicate_yaml_keys_are_errors_even_in_an_otherwise_valid_file(tmp_path: Path) -> None:
    text = VALID.replace("  at_risk_gap: 5\n", "  at_risk_gap: 5\n  at_risk_gap: 7\n")
    path = write(tmp_path, text)
    error, problems = problems_of(path)
    assert len(problems) == 1
    (dup,) = problems
    assert dup.path == "status.at_risk_gap"
    assert dup.line == line_of(text, "at_risk_gap: 7")
    assert "appears twice" in dup.message
    assert f"{path}:{dup.line}: status.at_risk_gap" in str(error)


def test_a_python_tag_is_an_error_and_runs_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pwned"
    text = VALID.replace(
        "  at_risk_gap: 5\n",
        f'  at_risk_gap: !!python/object/apply:os.system ["echo hi && touch {marker}"]\n',
    )
    path = write(tmp_path, text)
    _, problems = problems_of(path)
    assert len(problems) == 1
    (tag,) = problems
    assert tag.line == line_of(text, "!!python/object/apply")
    assert "!!python/object" in tag.message and "not allowed" in tag.message
    assert not marker.exists()
    out, err = capfd.readouterr()
    assert "hi" not in out.split() and "hi" not in err.split()


def test_the_plain_echo_hi_tag_from_the_brief_runs_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    text = 'version: 1\nsources: !!python/object/apply:os.system ["echo hi"]\n'
    _, problems = problems_of(write(tmp_path, text))
    assert [p.line for p in problems] == [2]
    out, err = capfd.readouterr()
    assert "hi" not in out.split() and "hi" not in err.split()


def test_a_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    text = VALID.replace("          - {source: tasks, labels: [billing]}", "          - {source: [")
    path = write(tmp_path, text)
    error, problems = problems_of(path)
    assert len(problems) == 1
    (syntax,) = problems
    broken = line_of(text, "- {source: [")
    # PyYAML marks the token where it noticed the problem: the broken line or the next one.
    assert syntax.line in (broken, broken + 1)
    assert syntax.fix == "fix the YAML syntax at that line"
    assert f"{path}:{syntax.line}:" in str(error)
    assert "not valid YAML" in str(error)


def test_a_tab_indented_file_is_a_syntax_error_with_a_line(tmp_path: Path) -> None:
    text = "version: 1\ncycle:\n\tstart: 2026-10-01\n"
    _, problems = problems_of(write(tmp_path, text))
    assert [p.line for p in problems] == [3]


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(write(tmp_path, "- just\n- a list\n"))


def test_a_missing_file_suggests_config_and_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")
    message = str(caught.value)
    assert "nope.yaml not found" in message
    assert "--config" in message and "GOALSYNC_CONFIG" in message and "goalsync init" in message


def test_a_missing_required_key_says_which_and_how_to_add_it(tmp_path: Path) -> None:
    text = VALID.replace("    title: Reliability\n", "")
    _, problems = problems_of(write(tmp_path, text))
    missing = by_path(problems, "goals[1].title")
    assert missing.message == "required key is missing"
    assert missing.fix == "add title: <value>"
    assert missing.line == line_of(text, "- id: G2")


def test_native_clauses_collects_the_clauses_for_a_source(tmp_path: Path) -> None:
    text = VALID.replace(
        "  kpi:\n",
        "  jira:\n    type: jira\n    url: https://acme.atlassian.net\n    jql: project = PAY\n"
        "  kpi:\n",
    ).replace(
        "          - {source: tasks, labels: [billing]}",
        "          - {source: tasks, labels: [billing]}\n"
        "          - {source: jira, jql: 'labels = b'}\n"
        "          - {jql: 'fixVersion = 2'}",
    )
    config = load_config(write(tmp_path, text))
    assert config.native_clauses("jira") == {"jql": ("fixVersion = 2", "labels = b")}
    assert config.native_clauses("tasks") == {}  # its type declares no native clause kind


def test_a_plan_tab_that_the_sheets_sink_owns_on_the_same_spreadsheet_is_refused(
    tmp_path: Path,
) -> None:
    text = """\
version: 1
cycle: {start: 2026-10-01, due: 2026-12-31}
sources:
  plan:
    type: sheets
    spreadsheet_id: sheet-1
    tabs: {goals: Goals, tasks: items}
sinks:
  - {type: sheets, spreadsheet_id: sheet-1}
goals:
  - id: G1
    title: Ship
    key_results:
      - {id: G1.1, title: Tasks done, select: [{source: plan}]}
"""
    path = write(tmp_path, text)
    _, problems = problems_of(path)
    [clash] = problems
    assert clash.path == "sources.plan.tabs.tasks"
    assert clash.line == line_of(text, "tabs: {goals: Goals, tasks: items}")
    assert "'items' is one that the sheets sink on the same spreadsheet writes" in clash.message
    # the same tab names on another spreadsheet are fine
    load_config(write(tmp_path, text.replace("spreadsheet_id: sheet-1}", "spreadsheet_id: s2}")))


# --- hostile input: bounded, located, all at once ----------------------------------------------


def test_an_alias_bomb_is_refused_at_its_line_without_expanding_it(tmp_path: Path) -> None:
    bomb = "".join(
        f"x{n}: &x{n} [{', '.join([f'*x{n - 1}'] * 9) if n else ', '.join(['lol'] * 9)}]\n"
        for n in range(9)
    )
    _, problems = problems_of(write(tmp_path, bomb + VALID))
    (problem,) = problems
    assert problem.line == 9  # the alias that repeats the most
    assert problem.message.startswith("aliases would expand the file by 490,329,036 values")


def test_aliases_under_the_bound_load(tmp_path: Path) -> None:
    text = VALID.replace(
        "          - {source: tasks, labels: [billing]}", "          - &billing {source: tasks}"
    ).replace("          - {source: tasks, state: [done]}", "          - *billing")
    config = load_config(write(tmp_path, text))
    assert (
        config.model.goals[1].key_results[0].select == config.model.goals[0].key_results[0].select
    )


def test_a_recursive_alias_is_refused_at_its_line(tmp_path: Path) -> None:
    _, problems = problems_of(write(tmp_path, VALID + "people: &p\n  Dana: [*p]\n"))
    alias = VALID.count("\n") + 2
    assert [(p.line, p.message) for p in problems] == [
        (alias, "a recursive alias (it contains itself)")
    ]


def test_a_date_not_in_the_calendar_is_a_problem_at_its_line_among_the_others(
    tmp_path: Path,
) -> None:
    text = VALID.replace("due: 2026-12-15", "due: 2026-02-30").replace(
        "start: 2026-11-01", "start: 2026-13-01"
    )
    _, problems = problems_of(write(tmp_path, text))
    assert [(p.line, p.path) for p in problems] == [
        (line_of(text, "due: 2026-02-30"), "goals[0].due"),
        (line_of(text, "start: 2026-13-01"), "goals[0].key_results[1].start"),
    ]
    assert "day value is outside expected range" in problems[0].message


@pytest.mark.parametrize("value", ["1e400", ".nan", ".inf", "-.Inf", "NaN", "-1e16"])
def test_config_numbers_must_be_finite(tmp_path: Path, value: str) -> None:
    text = VALID.replace("baseline: 2.1", f"baseline: {value}")
    _, problems = problems_of(write(tmp_path, text))
    problem = by_path(problems, "goals[0].key_results[1].baseline")
    assert problem.line == line_of(text, f"baseline: {value}")
    assert problem.message in (
        "Input should be a finite number",
        "Input should be greater than or equal to -1000000000000000",
    )


def test_a_missing_cycle_hides_no_other_problem(tmp_path: Path) -> None:
    text = (
        VALID.replace("cycle: {start: 2026-10-01, due: 2026-12-31}\n", "")
        .replace("{source: tasks, labels: [billing]}", "{source: task, jql: 'a = b) OR (c = d'}")
        .replace("id: G2", "id: G1")
        .replace("start: 2026-11-01", "start: 2026-11-01\n        due: 2026-10-01\n        x: 1")
    )
    _, problems = problems_of(write(tmp_path, text))
    clause = line_of(text, "{source: task")
    assert sorted((p.line or 0, p.path) for p in problems) == sorted(
        [
            (1, "cycle"),
            (clause, "goals[0].key_results[0].select[0].jql"),  # not self-contained
            (clause, "goals[0].key_results[0].select[0].jql"),  # and no jira source to run it
            (clause, "goals[0].key_results[0].select[0].source"),
            (line_of(text, "x: 1"), "goals[0].key_results[1].x"),
            (line_of(text, "due: 2026-10-01"), "goals[0].key_results[1].due"),
            (line_of(text, "  - id: G1", 2, exact=True), "goals[1].id"),
            (line_of(text, "parent: G1"), "goals[1].parent"),
        ]
    )


def test_align_label_prefix_is_a_top_level_key_defaulting_to_goal(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, VALID)).plan.align_prefix == "goal:"
    set_ = load_config(write(tmp_path, "align_label_prefix: 'okr/'\n" + VALID))
    assert set_.model.align_label_prefix == set_.plan.align_prefix == "okr/"
    _, problems = problems_of(write(tmp_path, "align_label_prefix: ''\n" + VALID))
    assert by_path(problems, "align_label_prefix")


def test_a_project_fields_clause_loads(tmp_path: Path) -> None:
    text = VALID.replace(
        "{source: tasks, labels: [billing]}",
        "{source: tasks, project_fields: {Iteration: Sprint 12, Estimate: [3, 5]}}",
    )
    kr = load_config(write(tmp_path, text)).plan.goals[0].key_results[0]
    assert kr.clauses[0].project_fields == {"Iteration": ("Sprint 12",), "Estimate": ("3", "5")}
