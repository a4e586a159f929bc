"""mappings/select.py: select clauses, the full predicate and the indexed selection."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.model import SelectClause
from mappings.select import ItemIndex, matches, named_parents
from sync.base.records import WorkItem
from tests.mappings.conftest import clause, item

PAY = item(
    "PAY-12",
    source="jira",
    kind="issue",
    project="PAY",
    labels=("Billing", "api"),
    components=("Backend",),
    parent="PAY-100",
    assignee="Dana Lee",
    status="In Progress",
    state="in_progress",
)
WEB = item(
    "acme/web#42",
    source="gh",
    kind="pull_request",
    project="acme/web",
    labels=("billing",),
    milestone="1.0",
    state="done",
)


@pytest.mark.parametrize(
    ("keys", "pay", "web"),
    [
        ({"source": "JIRA"}, True, False),
        ({"source": ["jira", "gh"]}, True, True),
        ({"project": "pay"}, True, False),
        ({"repo": "Acme/Web"}, False, True),
        ({"kind": "pull_request"}, False, True),
        ({"kind": ["issue", "epic"]}, True, False),
        ({"labels": ["billing"]}, True, True),  # any, without case
        ({"labels": ["ux", "API"]}, True, False),
        ({"labels_all": ["billing", "api"]}, True, False),  # all of them
        ({"labels_all": ["billing"]}, True, True),
        ({"parent": "pay-100"}, True, False),
        ({"parent": 100}, False, False),  # YAML's number 100 is the name "100"
        ({"milestone": 1.0}, False, True),  # YAML's 1.0 is the name "1.0"
        ({"components": ["backend"]}, True, False),
        ({"assignee": "dana lee"}, True, False),  # WEB has no assignee
        ({"status": "in progress"}, True, False),
        ({"state": ["done"]}, False, True),
        ({"state": ["todo", "in_progress"]}, True, False),
    ],
)
def test_each_key_of_a_clause(keys: dict[str, Any], pay: bool, web: bool) -> None:
    c = clause(**keys)
    assert matches(PAY, c) is pay
    assert matches(WEB, c) is web


def test_keys_of_one_clause_are_anded() -> None:
    assert matches(PAY, clause(source="jira", labels=["billing"]))
    assert not matches(PAY, clause(source="jira", labels=["ux"]))
    assert not matches(PAY, clause(source="gh", labels=["billing"]))
    assert matches(WEB, clause(source="gh", repo="acme/web", labels=["billing"]))


def test_a_jql_clause_matches_only_the_keys_its_search_returned() -> None:
    c = clause(source="jira", jql="priority = High")
    assert matches(PAY, c, {"PAY-12"})
    assert not matches(PAY, c, {"PAY-13"})
    assert not matches(PAY, c, None)  # the search did not run


def test_select_unions_clauses_in_item_order_each_once() -> None:
    items = [
        item("PAY-1", labels=("billing",)),
        item("PAY-2", parent="PAY-100"),
        item("PAY-3", labels=("billing",), parent="PAY-100"),
        item("acme/web#1", source="gh", project="acme/web"),
        item("PAY-4"),
    ]
    index = ItemIndex(items)
    chosen = index.select(
        [
            clause(source="gh", repo="acme/web"),
            clause(source="jira", parent="PAY-100"),
            clause(labels=["billing"]),
        ]
    )
    assert chosen == [0, 1, 2, 3]


def test_select_with_no_clauses_selects_nothing() -> None:
    assert ItemIndex([item("PAY-1")]).select([]) == []


def test_jql_selection_uses_the_extra_searchs_keys() -> None:
    items = [
        item("PAY-1", labels=("billing",)),
        item("PAY-2", labels=("billing",)),
        item("PAY-3"),
        item("acme/web#1", source="gh"),
    ]
    found = {("jira", "priority = High"): frozenset({"PAY-1", "PAY-3"})}
    index = ItemIndex(items, found)
    assert index.select([clause(source="jira", jql="priority = High")]) == [0, 2]
    assert index.select([clause(source="jira", labels=["billing"], jql="priority = High")]) == [0]
    assert index.select([clause(source="jira", jql="priority = Low")]) == []
    assert index.select([clause(source="gh", jql="priority = High")]) == []
    assert ItemIndex(items).select([clause(source="jira", jql="priority = High")]) == []


def test_named_parents_are_casefolded() -> None:
    clauses = [
        clause(source="jira", parent=["PAY-100", "Core-7"]),
        clause(source="gh", labels=["x"]),
        clause(parent="PAY-100"),
    ]
    assert named_parents(clauses) == {"pay-100", "core-7"}
    assert named_parents([]) == set()


# --- the index does not cost items x clauses ------------------------------------------------------


def _many_items() -> list[WorkItem]:
    # 10,000 items: source s0..s49 (200 items each), label l0..l99 (100 items each).
    return [
        item(
            f"K-{i}",
            source=f"s{i % 50}",
            labels=(f"l{(i // 50) % 100}",),
            assignee=f"a{i % 7}",
        )
        for i in range(10_000)
    ]


def test_selection_is_indexed() -> None:
    items = _many_items()
    index = ItemIndex(items)
    chosen = index.select([clause(source="s7", labels=["l3"])])
    # i % 50 == 7 and (i // 50) % 100 == 3: i = 50 * k + 7 with k in {3, 103}
    assert chosen == [157, 5157]
    # only the smallest posting list (label l3: 100 items) was checked, not 10,000
    assert index.evaluations == 100


def test_each_clause_starts_from_its_smallest_posting_list() -> None:
    items = _many_items()
    index = ItemIndex(items)
    chosen = index.select(
        [
            clause(source="s7", labels=["l3"]),  # label list: 100
            clause(source=["s1", "s2"]),  # source lists: 200 + 200
            clause(labels=["l5", "l6", "l7"], kind="issue"),  # label lists: 3 x 100
        ]
    )
    assert index.evaluations == 100 + 400 + 300
    # 2 + 400 + 300 items, less the 12 that are both in s1/s2 and labelled l5..l7
    # (2 per block of 50, 2 blocks per label, 3 labels)
    assert len(chosen) == 690
    assert index.evaluations < 10_000 * 3 / 10


def test_a_clause_without_indexed_keys_scans_every_item() -> None:
    items = _many_items()
    index = ItemIndex(items)
    chosen = index.select([clause(assignee="a3")])
    assert len(chosen) == 1429  # 3, 10, ..., 9999: 9999 = 7 * 1428 + 3
    assert chosen[0] == 3 and chosen[-1] == 9999
    assert index.evaluations == 10_000


# --- properties: the index never changes what is selected -----------------------------------------

SOURCES = ["jira", "gh", "Tasks"]
PROJECTS = ["PAY", "core", "acme/web", "ACME/api"]
LABELS = ["billing", "Billing", "api", "ux", "blocked"]
PARENTS = ["PAY-100", "pay-100", "CORE-7"]
MILESTONES = ["1.0", "v2"]
COMPONENTS = ["ui", "Backend", "backend"]
ASSIGNEES = ["ann", "Bob"]
STATUSES = ["To Do", "In Progress", "Blocked", "Done"]
KIND_NAMES = ["issue", "pull_request", "task", "epic"]
STATE_NAMES = ["todo", "in_progress", "done", "cancelled"]


def _maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


def _subset(values: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(values), max_size=3).map(tuple)


@st.composite
def work_items(draw: st.DrawFn) -> list[WorkItem]:
    n = draw(st.integers(min_value=0, max_value=25))
    return [
        WorkItem(
            source=draw(st.sampled_from(SOURCES)),
            key=f"K-{i}",
            kind=draw(st.sampled_from(["issue", "pull_request", "task", "epic"])),
            state=draw(st.sampled_from(["todo", "in_progress", "done", "cancelled"])),
            status=draw(st.sampled_from(STATUSES)),
            project=draw(_maybe(PROJECTS)),
            labels=draw(_subset(LABELS)),
            components=draw(_subset(COMPONENTS)),
            parent=draw(_maybe(PARENTS)),
            milestone=draw(_maybe(MILESTONES)),
            assignee=draw(_maybe(ASSIGNEES)),
        )
        for i in range(n)
    ]


@st.composite
def clauses(draw: st.DrawFn) -> SelectClause:
    vocab: dict[str, list[str]] = {
        "source": [*SOURCES, "JIRA"],
        "project": PROJECTS,
        "repo": PROJECTS,
        "kind": KIND_NAMES,
        "labels": LABELS,
        "labels_all": LABELS,
        "parent": PARENTS,
        "milestone": MILESTONES,
        "components": COMPONENTS,
        "assignee": ASSIGNEES,
        "status": STATUSES,
        "state": STATE_NAMES,
    }
    keys: dict[str, list[str]] = {}
    for name, values in vocab.items():
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            keys[name] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2))
    return clause(**keys)


@pytest.mark.slow  # a property test against a brute force: seconds
@settings(deadline=None)
@given(items=work_items(), chosen=st.lists(clauses(), max_size=4))
def test_indexed_selection_equals_a_brute_force_scan(
    items: list[WorkItem], chosen: list[SelectClause]
) -> None:
    index = ItemIndex(items)
    expected = [i for i, it in enumerate(items) if any(matches(it, c) for c in chosen)]
    assert index.select(chosen) == expected
    assert index.evaluations <= len(items) * len(chosen)


@pytest.mark.slow  # a property test against a brute force: seconds
@settings(deadline=None)
@given(items=work_items(), chosen=st.lists(clauses(), max_size=4), data=st.data())
def test_clause_order_does_not_change_the_selection(
    items: list[WorkItem], chosen: list[SelectClause], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(chosen))
    assert ItemIndex(items).select(chosen) == ItemIndex(items).select(shuffled)
    assert ItemIndex(items).select(list(reversed(chosen))) == ItemIndex(items).select(chosen)
