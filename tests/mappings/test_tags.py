"""Alignment from inside the teams' tools (DESIGN.md): `goal:<id>` labels, a board's goal_field,
`project_fields` clauses, and one key counted once however many sources select it."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from mappings.portfolio import alignment_and_unaligned, workload_rows
from mappings.select import ItemIndex, alignment_tags, matches
from tests.mappings.conftest import BERLIN, clause, goal, item, kr, plan_of, run, ts

DONE = ts("2026-11-01T00:00Z")

PLAN = plan_of(
    goal(
        "G1",
        kr("G1.1", select=[{"source": "jira", "labels": ["checkout"]}]),
        kr("G1.2", select=[{"source": "jira", "labels": ["nothing-has-this"]}]),
    ),
    goal("G2", kr("G2.1", measure="metric", metric="nps", target=50)),
)


def board(key: str, **fields: object) -> dict[str, object]:
    return {"project_fields": {k: str(v) for k, v in fields.items()}}


def test_a_goal_label_counts_for_the_key_result_it_names() -> None:
    items = [
        item("PAY-1", labels=("checkout",), state="done"),
        item("PAY-2", labels=("goal:G1.1",)),  # aligned by the team, no clause selects it
        item("acme/web#3", source="gh", labels=("Goal: g1.2",)),  # any case, spaces trimmed
        item("PAY-4"),
    ]
    report = run(PLAN, items)
    by_kr = {(r.key_result, r.key, r.by_tag) for r in report.items}
    assert by_kr == {
        ("G1.1", "PAY-1", False),
        ("G1.1", "PAY-2", True),
        ("G1.2", "acme/web#3", True),
    }
    g11 = next(r for r in report.rows if r.id == "G1.1")
    assert (g11.done, g11.total) == (1, 2)
    assert [r.key for r in report.unaligned] == ["PAY-4"]
    assert report.unknown_tags == ()


def test_a_tag_naming_a_goal_an_unknown_id_or_a_metric_is_listed_not_counted() -> None:
    items = [
        item("PAY-1", labels=("goal:G1",)),
        item("PAY-2", labels=("goal:G9.9",)),
        item("PAY-3", labels=("goal:G9.9",)),
        item("PAY-4", labels=("goal:G2.1",)),
        item("PAY-5", labels=("goal:",)),  # the bare prefix names nothing: not a tag
    ]
    report = run(PLAN, items)
    assert report.items == ()
    found = {(t.tag, t.keys) for t in report.unknown_tags}
    assert found == {
        ("goal:G1", ("PAY-1",)),
        ("goal:G9.9", ("PAY-2", "PAY-3")),
        ("goal:G2.1", ("PAY-4",)),
    }
    reasons = {t.tag: t.reason for t in report.unknown_tags}
    assert "goal" in reasons["goal:G1"] and "G1.1" in reasons["goal:G1"]
    assert "no goal or key result" in reasons["goal:G9.9"]
    assert "metric" in reasons["goal:G2.1"]
    assert len(report.unaligned) == 5


def test_the_prefix_is_set_by_the_plan() -> None:
    plan = dataclasses.replace(PLAN, align_prefix="okr/")
    items = [item("PAY-1", labels=("okr/G1.2",)), item("PAY-2", labels=("goal:G1.2",))]
    report = run(plan, items)
    assert [(r.key, r.key_result) for r in report.items] == [("PAY-1", "G1.2")]


def test_a_board_goal_field_aligns_like_a_tag() -> None:
    items = [
        item("acme/web#1", source="board", fields={"goal": "G1.2"}),
        item("acme/web#2", source="board", fields={"goal": "G1"}),
        item("acme/web#3", source="board", fields={"goal": ""}),
    ]
    report = run(PLAN, items)
    assert [(r.key, r.key_result, r.by_tag) for r in report.items] == [("acme/web#1", "G1.2", True)]
    assert [(t.tag, t.keys) for t in report.unknown_tags] == [("G1", ("acme/web#2",))]


def test_a_key_selected_through_two_sources_counts_once_and_is_aligned() -> None:
    plan = plan_of(
        goal(
            "G1",
            kr("K1", select=[{"source": ["gh", "board"], "repo": "acme/web"}]),
            kr("K2", select=[{"source": "board"}]),
        )
    )
    items = [
        item("acme/web#1", source="gh", project="acme/web", points=3.0),
        item("acme/web#1", source="board", project="acme/web", state="done", points=3.0),
        item("acme/web#2", source="gh", project="acme/web", state="done", done_at=DONE),
        item("acme/web#2", source="other", project="acme/other"),  # same key, not selected
    ]
    report = run(plan, items)
    k1 = next(r for r in report.rows if r.id == "K1")
    assert (k1.done, k1.total) == (1, 2)  # #1 once (the first copy), #2 done
    assert [r.key for r in report.items if r.key_result == "K1"] == ["acme/web#1", "acme/web#2"]
    # the copy of #2 that no clause selects is the same issue: aligned, not unaligned
    assert report.unaligned == ()
    assert report.alignment.aligned_items == 2  # each key once


def test_a_tag_and_a_clause_for_the_same_key_count_once() -> None:
    items = [item("PAY-1", labels=("checkout", "goal:G1.1"))]
    report = run(PLAN, items)
    assert [(r.key, r.by_tag) for r in report.items] == [("PAY-1", False)]


def test_workload_counts_a_key_once() -> None:
    plan = plan_of(goal("G1", kr("K1", select=[{"source": "gh"}])))
    items = [
        item("acme/web#1", source="gh", assignee="Ann"),
        item("acme/web#1", source="board", assignee="Ann"),
    ]
    rows = workload_rows(plan, items, {"K1": [0]}, 8)
    assert [(r.assignee, r.goal, r.open_items) for r in rows] == [("Ann", "G1", 1)]
    alignment, unaligned = alignment_and_unaligned(plan, items, {"K1": [0]}, BERLIN)
    assert (alignment.aligned_items, alignment.unaligned_items, unaligned) == (1, 0, [])


def test_alignment_tags_index() -> None:
    items = [item("A-1", labels=("goal:K1", "goal:K2")), item("A-2", fields={"goal": "K1"})]
    tags = alignment_tags(items, "goal:", {"K1": "G", "K2": "G"}, goals={"G": ("K1", "K2")})
    assert tags.by_kr == {"K1": [0, 1], "K2": [0]}
    assert tags.unknown == ()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Iteration": "Sprint 12", "Team": "Payments"}, True),
        ({"iteration": "sprint 12", "team": "payments"}, True),  # case ignored
        ({"Iteration": "Sprint 11", "Team": "Payments"}, False),
        ({"Iteration": "Sprint 12"}, False),  # every field given must match
        ({"Iteration": "Sprint 12", "Team": "Payments", "Size": "3"}, True),
    ],
)
def test_project_fields_clause(fields: dict[str, str], expected: bool) -> None:
    c = clause(project_fields={"Iteration": "Sprint 12", "Team": ["Payments", "Core"]})
    it = item("acme/web#1", source="board", fields={"project_fields": fields})
    assert matches(it, c) is expected
    assert (ItemIndex([it]).select([c]) == [0]) is expected


def test_project_fields_numbers_compare_as_numbers() -> None:
    c = clause(project_fields={"Estimate": 3})
    assert c.project_fields == {"Estimate": ("3",)}
    three = item("a#1", fields={"project_fields": {"Estimate": "3.0"}})
    five = item("a#2", fields={"project_fields": {"Estimate": "5"}})
    bare = item("a#3")
    assert ItemIndex([three, five, bare]).select([c]) == [0]
    assert [matches(i, c) for i in (three, five, bare)] == [True, False, False]


def test_project_fields_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError):
        clause(project_fields=["Iteration"])


def test_a_project_fields_clause_reads_as_written() -> None:
    from mappings.nodata import clause_text

    c = clause(source="board", project_fields={"Iteration": "Sprint 12", "Team": ["A", "B"]})
    assert clause_text(c) == "{source: board, project_fields: {Iteration: Sprint 12, Team: [A, B]}}"
