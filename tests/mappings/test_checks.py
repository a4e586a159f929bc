"""mappings/checks.py: check_plan finds every problem with its location, and the fix."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappings.checks import CycleDates, PlanIssue, SourceInfo, check_plan, jql_escape
from mappings.model import Cycle, Goal
from tests.fakes.jira import JqlError, _tokens
from tests.mappings.conftest import CYCLE, goal, kr

SOURCES = {
    "jira": SourceInfo("jira", "jira", "jira", native=frozenset({"jql"})),
    "export": SourceInfo("export", "file", "jira"),  # a jira_search file: no searches to run
    "gh": SourceInfo("gh", "github", "github"),
    "tasks": SourceInfo("tasks", "sheets", "items"),
    "kpi": SourceInfo("kpi", "file", "none"),  # csv_metrics: no work items
}
K0: tuple[str | int, ...] = ("goals", 0, "key_results", 0)
C0: tuple[str | int, ...] = (*K0, "select", 0)
JIRA = [{"source": "jira", "parent": "PAY-100"}]


def check(*goals: Goal, cycle: Cycle = CYCLE) -> list[PlanIssue]:
    return check_plan(list(goals), cycle, SOURCES)


def one(issues: list[PlanIssue]) -> PlanIssue:
    assert len(issues) == 1, issues
    return issues[0]


def test_a_sound_plan_has_no_issues() -> None:
    g1 = goal(
        "G1",
        kr(
            "G1.1",
            select=[
                {"source": "jira", "parent": "PAY-100", "jql": "priority = High"},
                {"source": "gh", "repo": "acme/web", "labels": ["billing"]},
                {"source": "export", "components": ["billing"]},
            ],
        ),
        kr("G1.2", measure="metric", metric="nps", baseline=20, target=40),
        kr("G1.3", measure="open_count", baseline=12, select=[{"source": "tasks", "milestone": 2}]),
        kr("G1.4", measure="sum", field="points", target=50, select=JIRA),
        kr("G1.5", measure="count", by="points", state=["done"], target=8, select=JIRA),
        kr("G1.6", measure="metric", metric="churn", baseline=5, target=3, direction="down"),
        owner="Dana Lee",
    )
    g2 = goal("G2", kr("G2.1", select=[{"repo": "acme/api"}]), parent="G1")
    assert check(g1, g2) == []


# --- ids and dates --------------------------------------------------------------------------------


def test_duplicate_ids_name_the_id_and_where_it_was_first_used() -> None:
    issues = check(
        goal("G1", kr("K1", select=JIRA)),
        goal("G2", kr("K1", select=JIRA), kr("G1", select=JIRA)),
    )
    assert [i.loc for i in issues] == [
        ("goals", 1, "key_results", 0, "id"),
        ("goals", 1, "key_results", 1, "id"),
    ]
    assert issues[0].message == "duplicate id 'K1' (first used at goals[0].key_results[0].id)"
    assert issues[1].message == "duplicate id 'G1' (first used at goals[0].id)"


def test_cycle_due_before_start() -> None:
    issue = one(check(cycle=Cycle(start=date(2026, 10, 1), due=date(2026, 9, 30))))
    assert issue.loc == ("cycle", "due")
    assert issue.message == "due 2026-09-30 is before start 2026-10-01"


def test_goal_due_before_its_default_start() -> None:
    issue = one(check(goal("G1", due=date(2026, 9, 15))))
    assert issue.loc == ("goals", 0, "due")
    assert issue.message == "goal G1: due 2026-09-15 is before start 2026-10-01"


def test_dates_a_key_result_only_inherits_are_reported_once_at_its_goal() -> None:
    issue = one(check(goal("G1", kr("K1", select=JIRA), due=date(2026, 9, 15))))
    assert issue.loc == ("goals", 0, "due")


def test_key_result_due_before_start() -> None:
    bad = kr("K1", start=date(2026, 12, 1), due=date(2026, 11, 30), select=JIRA)
    issue = one(check(goal("G1", bad)))
    assert issue.loc == (*K0, "due")
    assert issue.message == "key result K1: due 2026-11-30 is before start 2026-12-01"


def test_key_result_start_after_the_goal_due_it_inherits() -> None:
    late = kr("K1", start=date(2027, 1, 5), select=JIRA)
    issue = one(check(goal("G1", late)))
    assert issue.loc == (*K0, "due")
    assert issue.message == "key result K1: due 2026-12-31 is before start 2027-01-05"


# --- sources and clause keys ----------------------------------------------------------------------


def test_unknown_source() -> None:
    issue = one(check(goal("G1", kr("K1", select=[{"source": "jra", "parent": "PAY-1"}]))))
    assert issue.loc == (*C0, "source")
    assert issue.message == "unknown source 'jra'"
    assert issue.fix == "use one of: export, gh, jira, tasks"


def test_a_source_without_work_items() -> None:
    issue = one(check(goal("G1", kr("K1", select=[{"source": "kpi"}]))))
    assert issue.loc == (*C0, "source")
    assert issue.message == "source 'kpi' yields no work items"


@pytest.mark.parametrize("source", ["gh", "export", "tasks"])
def test_jql_on_a_source_that_runs_no_jira_search(source: str) -> None:
    issue = one(check(goal("G1", kr("K1", select=[{"source": source, "jql": "labels = x"}]))))
    assert issue.loc == (*C0, "jql")
    assert issue.message == "jql runs only against a source of type jira"


def test_jql_without_a_source_is_fine_when_a_jira_source_exists() -> None:
    assert check(goal("G1", kr("K1", select=[{"jql": "labels = x"}]))) == []


@pytest.mark.parametrize(
    ("keys", "key", "message"),
    [
        ({"source": "jira", "repo": "acme/web"}, "repo", "repo is not set on the items of jira"),
        (
            {"source": ["jira", "export"], "repo": "acme/web"},
            "repo",
            "repo is not set on the items of export, jira",
        ),
        (
            {"source": "gh", "components": ["ui"]},
            "components",
            "components is not set on the items of gh",
        ),
        (
            {"source": "jira", "milestone": "1.0"},
            "milestone",
            "milestone is not set on the items of jira",
        ),
        (
            {"source": "tasks", "project": "PAY"},
            "project",
            "project is not set on the items of tasks",
        ),
    ],
)
def test_a_key_the_sources_items_do_not_have(keys: dict[str, Any], key: str, message: str) -> None:
    issue = one(check(goal("G1", kr("K1", select=[keys]))))
    assert issue.loc == (*C0, key)
    assert issue.message == message


def test_repo_on_a_jira_source_says_where_repo_fits() -> None:
    issue = one(check(goal("G1", kr("K1", select=[{"source": "jira", "repo": "acme/web"}]))))
    assert issue.fix == "use repo with a github source or github_issues file"


def test_a_source_with_a_broken_config_raises_no_second_problem() -> None:
    broken = {"odd": SourceInfo("odd", "file", "any")}
    keys = {"source": "odd", "repo": "acme/web", "components": ["ui"], "milestone": "1"}
    assert check_plan([goal("G1", kr("K1", select=[keys]))], CYCLE, broken) == []


def test_an_empty_clause() -> None:
    issue = one(check(goal("G1", kr("K1", select=[{}]))))
    assert issue.loc == C0
    assert issue.message == "an empty select clause would match every item"


def test_the_location_counts_goals_key_results_and_clauses() -> None:
    g1 = goal("G1", kr("K1", select=JIRA))
    g2 = goal("G2", kr("K2", select=JIRA), kr("K3", select=[*JIRA, {"source": "nope"}]))
    issue = one(check(g1, g2))
    assert issue.loc == ("goals", 1, "key_results", 1, "select", 1, "source")


# --- measures and their keys ----------------------------------------------------------------------


def test_every_measure_of_the_design_is_built() -> None:
    for measure, extra in (
        ("throughput", {"target": 5}),
        ("cycle_time", {"target": 3, "baseline": 9}),
        ("lead_time", {"target": 3, "baseline": 9}),
    ):
        assert check(goal("G1", kr("K1", measure=measure, select=JIRA, **extra))) == []


def test_a_milestone_measure_picks_items_by_milestone() -> None:
    issue = one(check(goal("G1", kr("K1", measure="milestone", select=JIRA))))
    assert issue.loc == (*K0, "select", 0)
    assert issue.message == "key result K1: measure milestone picks its items by milestone"
    assert issue.fix == "add milestone: <title> to this clause"


def test_missing_target() -> None:
    issue = one(check(goal("G1", kr("K1", measure="count", select=JIRA))))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: measure count needs a target"


def test_missing_baseline() -> None:
    issues = check(goal("G1", kr("K1", measure="open_count", select=JIRA)))
    baseline = [i for i in issues if i.loc == (*K0, "baseline")]
    assert len(baseline) == 1
    assert baseline[0].message == (
        "key result K1: measure open_count needs a baseline (where the team started)"
    )


def test_missing_metric_name() -> None:
    issue = one(check(goal("G1", kr("K1", measure="metric", target=40))))
    assert issue.loc == (*K0, "metric")
    assert issue.message == "key result K1: measure metric needs the metric's name"


def test_metric_without_target() -> None:
    issue = one(check(goal("G1", kr("K1", measure="metric", metric="nps"))))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: measure metric needs a target"


def test_a_metric_key_result_with_select() -> None:
    bad = kr("K1", measure="metric", metric="nps", target=40, select=JIRA)
    issue = one(check(goal("G1", bad)))
    assert issue.loc == (*K0, "select")
    assert issue.message == "a metric key result selects no items"


def test_an_item_measure_without_select() -> None:
    issue = one(check(goal("G1", kr("K1"))))
    assert issue.loc == (*K0, "select")
    assert issue.message == "key result K1: measure percent_done needs select clauses"


def test_missing_field_for_sum() -> None:
    issue = one(check(goal("G1", kr("K1", measure="sum", target=10, select=JIRA))))
    assert issue.loc == (*K0, "field")
    assert issue.message == "key result K1: measure sum needs a field"


@pytest.mark.parametrize(
    ("keys", "key", "message"),
    [
        ({"metric": "nps"}, "metric", "metric applies only to measure: metric"),
        ({"state": "done"}, "state", "state applies only to measure: count or sum"),
        (
            {"measure": "count", "target": 5, "field": "points"},
            "field",
            "field applies only to measure: sum",
        ),
        (
            {"measure": "count", "target": 5, "stat": "p85"},
            "stat",
            "stat applies only to measure: cycle_time or lead_time",
        ),
        (
            {"window_weeks": 4},
            "window_weeks",
            "window_weeks applies only to throughput, cycle_time and lead_time",
        ),
        (
            {"measure": "sum", "field": "x", "target": 5, "by": "points"},
            "by",
            "by applies only to percent_done, count, open_count and throughput",
        ),
    ],
)
def test_keys_that_do_not_fit_the_measure(keys: dict[str, Any], key: str, message: str) -> None:
    issue = one(check(goal("G1", kr("K1", select=JIRA, **keys))))
    assert issue.loc == (*K0, key)
    assert issue.message == message
    assert issue.fix == f"remove {key}"


def test_target_below_baseline_needs_direction_down() -> None:
    up = kr("K1", measure="metric", metric="churn", baseline=5, target=3)
    issue = one(check(goal("G1", up)))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: target 3 is below baseline 5 but the measure goes up"
    down = kr("K1", measure="metric", metric="churn", baseline=5, target=3, direction="down")
    assert check(goal("G1", down)) == []


def test_target_above_baseline_of_a_lower_is_better_measure() -> None:
    bad = kr("K1", measure="open_count", baseline=5, target=10, select=JIRA)
    issue = one(check(goal("G1", bad)))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: target 10 is above baseline 5 but the measure goes down"


def test_target_equal_to_baseline() -> None:
    flat = kr("K1", measure="metric", metric="nps", baseline=3, target=3)
    issue = one(check(goal("G1", flat)))
    assert issue.loc == (*K0, "target")
    assert issue.message == "key result K1: target equals baseline (3), so progress has no range"


# --- parent goals ---------------------------------------------------------------------------------


def test_a_goal_that_is_its_own_parent() -> None:
    issue = one(check(goal("G1", parent="G1")))
    assert issue.loc == ("goals", 0, "parent")
    assert issue.message == "goal G1 is its own parent"


def test_an_unknown_parent() -> None:
    issue = one(check(goal("G1", parent="G9"), goal("G2")))
    assert issue.loc == ("goals", 0, "parent")
    assert issue.message == "unknown parent goal 'G9'"
    assert issue.fix == "use one of: G2"


def test_a_parent_cycle_is_reported_at_each_goal_in_it() -> None:
    issues = check(
        goal("G1", parent="G3"),
        goal("G2", parent="G1"),
        goal("G3", parent="G2"),
        goal("G4", parent="G1"),  # under the cycle, not in it
    )
    assert [(i.loc, i.message) for i in issues] == [
        (("goals", 0, "parent"), "goal G1 is its own ancestor (parent cycle)"),
        (("goals", 1, "parent"), "goal G2 is its own ancestor (parent cycle)"),
        (("goals", 2, "parent"), "goal G3 is its own ancestor (parent cycle)"),
    ]


def test_every_problem_is_found_at_once() -> None:
    issues = check(
        goal("G1", kr("K1", select=[{"source": "jra"}]), kr("K1", measure="count", select=JIRA)),
        goal("G2", parent="G9", due=date(2026, 9, 1)),
    )
    assert {i.loc for i in issues} == {
        (*C0, "source"),
        ("goals", 0, "key_results", 1, "id"),
        ("goals", 0, "key_results", 1, "target"),
        ("goals", 1, "due"),
        ("goals", 1, "parent"),
    }


# --- jql: self-contained or refused ------------------------------------------------------------


@pytest.mark.parametrize(
    ("jql", "why"),
    [
        (
            "labels = onboarding) OR (project is not EMPTY",
            "the ) at character 20 closes a parenthesis it did not open",
        ),
        ("labels = a) OR (b = c", "the ) at character 11 closes a parenthesis it did not open"),
        ("(labels = a", "1 parenthesis opened but never closed"),
        ("((labels = a", "2 parentheses opened but never closed"),
        ('labels = "a', 'the string opened by " at character 10 is never closed'),
        ("labels = 'it\\'s", "the string opened by ' at character 10 is never closed"),
        ("labels = a\\", "it ends with a backslash, which would escape the closing parenthesis"),
        ("labels = a ORDER BY rank", "it has an ORDER BY (goalsync orders the searches itself)"),
        (
            "labels = a order\n  by rank DESC",
            "it has an ORDER BY (goalsync orders the searches itself)",
        ),
        ("  ", "it is empty"),
    ],
)
def test_a_clause_that_could_escape_its_parentheses_is_refused(jql: str, why: str) -> None:
    assert jql_escape(jql) == why


@pytest.mark.parametrize(
    "jql",
    [
        'status in ("In Progress", "To Do") AND summary ~ "a (b)"',
        'labels = "x) OR (y"',
        "labels = 'x) OR (y'",
        'summary ~ "say \\"hi\\" (or not)"',
        "summary ~ 'it\\'s (here'",
        'summary ~ "order by"',
        'labels = a\\"b',  # an escaped quote outside a string is a character, as in Jira
        "(project = PAY OR project = CORE) AND NOT (labels in (x, y))",
        "cf[10016] > 3 AND parent = PAY-1",
        "labels = border AND labels = bypass",
    ],
)
def test_legitimate_clauses_keep_working(jql: str) -> None:
    assert jql_escape(jql) is None


def test_the_source_scope_may_end_with_an_order_by_but_is_otherwise_held_to_the_same_rules() -> (
    None
):
    assert jql_escape("project = PAY ORDER BY rank", order_by=True) is None
    assert jql_escape("project = PAY) OR (project != PAY", order_by=True) is not None


_words = st.sampled_from(["labels", "status", "project", "summary", "key", "x", "PAY-1", "a b"])


def _quoted(text: str, quote: str) -> str:
    escaped = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{escaped}{quote}"


_values = st.one_of(
    st.sampled_from(["PAY", "onboarding", "EMPTY", "10"]),
    st.builds(_quoted, st.text(alphabet="()\"'\\ abOR,=", max_size=12), st.sampled_from("\"'")),
)
_atoms = st.one_of(
    st.builds("{} = {}".format, _words, _values),
    st.builds(
        "{} in ({})".format, _words, st.lists(_values, min_size=1, max_size=3).map(", ".join)
    ),
)
_clauses = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.builds("({})".format, inner),
        st.builds("NOT {}".format, inner),
        st.builds("{} {} {}".format, inner, st.sampled_from(["AND", "OR"]), inner),
    ),
    max_leaves=6,
)


@given(_clauses)
def test_every_well_formed_clause_is_accepted(jql: str) -> None:
    assert jql_escape(jql) is None, jql


@given(
    st.lists(
        st.sampled_from(["(", ")", '"', "'", " ", "a", "=", " OR ", "order", " by ", "x)", '"("']),
        max_size=14,
    ).map("".join)
)
def test_an_accepted_clause_stays_inside_its_parentheses_for_another_jql_reader(jql: str) -> None:
    """Read by an independent tokenizer (the fake Jira's), `(<clause>)` closes its parenthesis
    only at its end, leaves no string open, and orders nothing."""
    if jql_escape(jql) is not None:
        return
    tokens = _tokens(f"({jql})")  # an unclosed string would raise JqlError here
    depth = 0
    for n, token in enumerate(tokens):
        depth += {"(": 1, ")": -1}.get(token, 0)
        assert depth > 0 or n == len(tokens) - 1, (jql, tokens)
    words = [t.lower() for t in tokens]
    assert not any(a == "order" and b == "by" for a, b in itertools.pairwise(words))


def test_the_independent_reader_does_see_an_escape() -> None:
    """The property above can fail: the escaping clause of the issue, read the same way."""
    tokens = _tokens("(labels = onboarding) OR (project != PAY)")
    assert tokens.index(")") < len(tokens) - 1
    with pytest.raises(JqlError):
        _tokens('("open)')


def test_a_clause_that_escapes_is_named_with_its_key_result_at_its_jql() -> None:
    bad = [{"source": "jira", "jql": "labels = a) OR (project != PAY"}]
    issue = one(check(goal("G1", kr("K1", select=bad))))
    assert issue.loc == (*C0, "jql")
    assert issue.message.startswith(
        "key result K1: jql clause 'labels = a) OR (project != PAY' is not self-contained: "
        "the ) at character 11 closes a parenthesis it did not open"
    )
    assert "ORDER BY" in issue.fix


def test_a_source_scope_that_escapes_is_named_at_its_jql() -> None:
    sources = {
        "jira": SourceInfo("jira", "jira", "jira", frozenset({"jql"}), "project = PAY) OR (key = X")
    }
    issue = one(check_plan([goal("G1", kr("K1", select=JIRA))], CYCLE, sources))
    assert issue.loc == ("sources", "jira", "jql")
    assert "source jira: jql 'project = PAY) OR (key = X' is not self-contained" in issue.message
    sorted_scope = {
        "jira": SourceInfo(
            "jira", "jira", "jira", frozenset({"jql"}), "project = PAY ORDER BY rank"
        )
    }
    assert check_plan([goal("G1", kr("K1", select=JIRA))], CYCLE, sorted_scope) == []


def test_without_the_cycle_dates_the_written_ones_are_still_compared() -> None:
    goals = [
        goal("G1", kr("K1", select=JIRA), start=date(2026, 11, 1), due=date(2026, 10, 1)),
        goal("G2", kr("K2", select=JIRA, due=date(2026, 9, 1)), start=date(2026, 10, 1)),
        goal("G3", kr("K3", select=JIRA), due=date(2026, 9, 1)),  # its start is the cycle's
    ]
    issues = check_plan(goals, CycleDates(None, None), SOURCES)
    assert [i.loc for i in issues] == [
        ("goals", 0, "due"),
        ("goals", 1, "key_results", 0, "due"),
    ]
    known = check_plan(goals, CycleDates(date(2026, 10, 1), None), SOURCES)
    assert ("goals", 2, "due") in [i.loc for i in known]


def test_without_the_sources_the_clauses_own_keys_are_still_checked() -> None:
    bad = [{"source": "nosuch", "jql": "a = b ORDER BY rank"}]
    issues = check_plan([goal("G1", kr("K1", select=bad)), goal("G1")], CYCLE, None)
    assert [i.loc for i in issues] == [(*C0, "jql"), ("goals", 1, "id")]
