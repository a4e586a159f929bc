"""A `jql:` clause cannot reach outside its source's scope.

goalsync runs a clause as `(<source jql>) AND (<clause>) ORDER BY key`. A clause such as
`labels = onboarding) OR (project != PAY` closed the scope's parenthesis and counted issues of
every project (the run exited 0). `validate` and `run` now refuse a clause that is not
self-contained (balanced parentheses and quotes outside strings, no ORDER BY), naming its key
result and line, before any request; the source's own `jql:` is held to the same rules (an
ORDER BY at its end is allowed: it is cut off). Clauses with parentheses and quotes inside
strings keep working.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.jira import FakeJira
from tests.reliability.helpers import Workspace, config, cycle_around_today

ESCAPE = "labels = onboarding) OR (project != PAY"


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud") as jira:
        jira.add_issue("PAY-1", labels=["onboarding"], status="Done", category="done")
        jira.add_issue("PAY-2", labels=["onboarding"])
        jira.add_issue("PAY-3", labels=["x) OR (y"], status="In Progress", category="indeterminate")
        jira.add_issue("CORE-1", labels=["other"], status="Done", category="done")
        for n in range(1, 5):  # outside the source's scope
            jira.add_issue(f"OPS-{n}", labels=["ops"], status="Done", category="done")
        yield jira


def workspace(tmp_path: Path, jira: FakeJira, clauses: list[str], scope: str) -> Workspace:
    krs = "".join(
        f"      - {{id: G1.{n}, title: KR {n}, select: [{{source: jira, jql: {clause}}}]}}\n"
        for n, clause in enumerate(clauses, start=1)
    )
    ws = Workspace(tmp_path)
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{jira.url}', jql: {scope}}}\n",
            "  - {type: csv, path: out/csv}\n",
            f"  - id: G1\n    title: Onboarding\n    key_results:\n{krs}",
            cycle=cycle_around_today(),
        )
    )
    return ws


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_clause_that_escapes_its_scope_is_refused_before_any_request(
    tmp_path: Path, jira: FakeJira, command: str
) -> None:
    ws = workspace(
        tmp_path, jira, ['"labels = onboarding"', f"'{ESCAPE}'"], "'project in (PAY, CORE)'"
    )
    result = ws.goalsync(command)
    assert result.code == 2, result
    assert (
        "goalsync.yaml:13: goals[0].key_results[1].select[0].jql: key result G1.2: "
        f"jql clause {ESCAPE!r} is not self-contained" in result.output
    ), result
    assert "G1.1" not in result.output, result  # the sound clause is not blamed
    assert jira.count() == 0
    assert not ws.state.exists() and not ws.out.exists()


def test_a_scope_that_escapes_is_refused_and_a_trailing_order_by_is_not(
    tmp_path: Path, jira: FakeJira
) -> None:
    ws = workspace(tmp_path, jira, ["labels = onboarding"], "'project = PAY) OR (project != PAY'")
    result = ws.goalsync("validate")
    assert result.code == 2, result
    assert "goalsync.yaml:5: sources.jira.jql: source jira: jql" in result.output, result

    ws = workspace(tmp_path, jira, ["labels = onboarding"], "project = PAY ORDER BY rank DESC")
    assert ws.goalsync("validate").code == 0


def test_clauses_with_parentheses_and_quotes_inside_strings_keep_working(
    tmp_path: Path, jira: FakeJira
) -> None:
    clauses = [
        "'labels = \"x) OR (y\"'",
        '\'status in ("In Progress", "To Do") AND labels in (onboarding, "x) OR (y")\'',
        "\"labels = 'onboarding'\"",
    ]
    ws = workspace(tmp_path, jira, clauses, "'project in (PAY, CORE)'")
    assert ws.goalsync("validate").code == 0
    result = ws.goalsync("run")
    assert result.code == 0, result
    status = ws.status()
    assert status["G1.1"]["Done / Total"] == "0 / 1", status  # PAY-3
    assert status["G1.2"]["Done / Total"] == "0 / 2", status  # PAY-2, PAY-3
    assert status["G1.3"]["Done / Total"] == "1 / 2", status  # PAY-1, PAY-2; no OPS issue
    searched = [q for q in jira.searches if "x) OR (y" in q]
    assert searched and all(q.startswith("(project in (PAY, CORE)) AND (") for q in searched)
