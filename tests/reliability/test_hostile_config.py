"""Hostile config: whatever goalsync.yaml holds, `validate` and `run` exit 2 with every problem
named by file and line, in bounded time and memory, before any request or write.

- A YAML alias bomb ("billion laughs": nine lines, 9^9 values once expanded) is refused while
  the file is read, by counting what its aliases would expand to.
- A date that is not in the calendar (`2026-02-30`) is a problem at its line, not a crash.
- Config numbers are finite: `1e400` (which YAML reads as a string and a float field as inf),
  `.nan`, `.inf`, and magnitudes that would overflow a date or a weighted mean are refused.
- Every problem at once: a missing `cycle:` does not hide the unknown source, the duplicate id
  or the due date before the start that the same file holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.helpers import Result, Workspace, config

CSV_SINK = "  - {type: csv, path: out/csv}\n"
SOURCES = "  src: {type: file, path: data/items.csv, format: csv_items}\n"
GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Work, measure: percent_done, select: [{source: src}], target: 100}
"""
BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def workspace(tmp_path: Path, text: str) -> Workspace:
    ws = Workspace(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "items.csv").write_text("key,title,state\nA-1,one,done\nA-2,two,todo\n")
    ws.write_config(text)
    return ws


def refused(ws: Workspace, command: str, *where: str) -> Result:
    """`command` exits 2, names each `file:line`, writes nothing."""
    result = ws.goalsync(command, timeout=60)
    assert result.code == 2, result
    assert "Traceback" not in result.output and "internal_error" not in result.output, result
    for w in where:
        assert w in result.output, f"{w!r} not named:\n{result}"
    assert not ws.state.exists() and not ws.out.exists()
    return result


@pytest.mark.parametrize("command", ["validate", "run"])
def test_an_alias_bomb_is_refused_quickly_in_little_memory(tmp_path: Path, command: str) -> None:
    ws = workspace(tmp_path, BOMB + config(SOURCES, CSV_SINK, GOALS))
    result = refused(ws, command, "goalsync.yaml:9:")  # the alias that expands past the bound
    assert "alias" in result.output, result
    assert result.seconds < 10, result.seconds
    assert 0 < result.peak_mb < 400, result.peak_mb


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    ws = workspace(tmp_path, config(SOURCES, CSV_SINK, GOALS) + "people: &p {x: [*p]}\n")
    result = refused(ws, "validate", "goalsync.yaml:")
    assert "alias" in result.output, result


def test_aliases_that_share_a_clause_still_work(tmp_path: Path) -> None:
    goals = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Work, select: [&mine {source: src}], target: 100}
      - {id: G1.2, title: More, select: [*mine], target: 100}
"""
    ws = workspace(tmp_path, config(SOURCES, CSV_SINK, goals))
    result = ws.goalsync("validate")
    assert result.code == 0, result


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_date_not_in_the_calendar_names_its_line(tmp_path: Path, command: str) -> None:
    goals = GOALS.replace("title: Ship billing", "title: Ship billing\n    due: 2027-02-29")
    text = config(SOURCES, CSV_SINK, goals, cycle="{start: 2026-10-01, due: 2026-02-30}")
    ws = workspace(tmp_path, text)
    result = refused(ws, command, "goalsync.yaml:3: cycle.due", "goalsync.yaml:11: goals[0].due")
    assert "day value is outside expected range" in result.output, result


def test_every_config_number_must_be_finite_and_every_one_is_named(tmp_path: Path) -> None:
    """Each numeric field with a value that is not a finite number, or one so large that a date
    or a weighted mean would overflow; all in one file, and `validate` names every one."""
    text = """\
version: 1
timezone: UTC
cycle: {start: 2026-10-01, due: 2026-12-31}
status:
  at_risk_gap: .nan
  off_track_gap: -.inf
  scope_growth_pct: 1e400
  stale_after_days: 1000000000
  wip_limit: .inf
  forecast: {trials: 1e400, window_weeks: .nan}
sources:
  src: {type: file, path: data/items.csv, format: csv_items}
  jira: {type: jira, url: 'http://127.0.0.1:9', jql: project = PAY, reconcile_hours: .inf}
  gh: {type: github, repos: [acme/web], base_url: 'http://127.0.0.1:9', reconcile_hours: 1e300}
sinks:
  - {type: csv, path: out/csv}
goals:
  - id: G1
    title: Ship billing
    weight: 1e400
    key_results:
      - {id: G1.1, title: Work, select: [{source: src}], target: 1e400}
      - {id: G1.2, title: Rate, measure: metric, metric: m, baseline: .nan, target: 3}
      - {id: G1.3, title: Open, measure: open_count, select: [{source: src}], baseline: -.inf}
      - {id: G1.4, title: Big, measure: count, select: [{source: src}], target: 1e300, weight: NaN}
"""
    ws = workspace(tmp_path, text)
    result = refused(
        ws,
        "validate",
        "goalsync.yaml:5: status.at_risk_gap",
        "goalsync.yaml:6: status.off_track_gap",
        "goalsync.yaml:7: status.scope_growth_pct",
        "goalsync.yaml:8: status.stale_after_days",
        "goalsync.yaml:9: status.wip_limit",
        "goalsync.yaml:10: status.forecast.trials",
        "goalsync.yaml:10: status.forecast.window_weeks",
        "goalsync.yaml:13: sources.jira.reconcile_hours",
        "goalsync.yaml:14: sources.gh.reconcile_hours",
        "goalsync.yaml:20: goals[0].weight",
        "goalsync.yaml:22: goals[0].key_results[0].target",
        "goalsync.yaml:23: goals[0].key_results[1].baseline",
        "goalsync.yaml:24: goals[0].key_results[2].baseline",
        "goalsync.yaml:25: goals[0].key_results[3].target",
        "goalsync.yaml:25: goals[0].key_results[3].weight",
    )
    assert "finite" in result.output, result


@pytest.mark.parametrize("value", ["1e400", ".nan", "-.inf", ".Inf", "1e16"])
def test_a_target_that_is_not_a_finite_number_stops_the_run(tmp_path: Path, value: str) -> None:
    goals = GOALS.replace("target: 100", f"target: {value}")
    ws = workspace(tmp_path, config(SOURCES, CSV_SINK, goals))
    result = refused(ws, "run", "goalsync.yaml:12: goals[0].key_results[0].target")
    assert "finite" in result.output or "less than or equal" in result.output, result


def test_every_problem_at_once_even_without_a_cycle(tmp_path: Path) -> None:
    text = """\
version: 1
sources:
  src: {type: file, path: data/items.csv, format: csv_items}
sinks:
  - {type: csv, path: out/csv}
goals:
  - id: G1
    title: Ship billing
    start: 2026-11-01
    due: 2026-10-15
    key_results:
      - {id: G1.1, title: Work, select: [{source: nosuch}], due: 2026-02-30}
  - id: G1
    title: Again
    key_results:
      - {id: G2.1, title: Work, select: [{source: src}], target: .nan}
"""
    ws = workspace(tmp_path, text)
    result = refused(
        ws,
        "validate",
        "goalsync.yaml:1: cycle: required key is missing",
        "goalsync.yaml:10: goals[0].due: goal G1: due 2026-10-15 is before start 2026-11-01",
        "goalsync.yaml:12: goals[0].key_results[0].select[0].source: unknown source 'nosuch'",
        "goalsync.yaml:12: goals[0].key_results[0].due",
        "goalsync.yaml:13: goals[1].id: duplicate id 'G1'",
        "goalsync.yaml:16: goals[1].key_results[0].target",
    )
    assert "6 problem(s)" in result.output, result


def test_without_a_sources_section_the_goals_are_still_checked(tmp_path: Path) -> None:
    text = config("", CSV_SINK, GOALS + GOALS.replace("G1.1", "G1.2")).replace("sources:\n", "")
    ws = workspace(tmp_path, text)
    result = refused(
        ws, "validate", "sources: required key is missing", "goalsync.yaml:11: goals[1].id"
    )
    assert "unknown source" not in result.output, result  # no cascade from the missing section
