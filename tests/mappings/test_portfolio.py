"""mappings/portfolio.py: alignment and the Unaligned tab, and the Workload tab."""

from __future__ import annotations

from mappings.portfolio import alignment_and_unaligned, workload_rows
from sync.base.report import Alignment, WorkloadRow
from tests.mappings.conftest import BERLIN, goal, item, kr, plan_of, ts

PLAN = plan_of(
    goal("G1", kr("K1", select=[{"source": "jira", "parent": "pay-100"}])),
    goal("G2", kr("K2", select=[{"source": "gh", "labels": ["billing"]}])),
)

# The cycle starts 2026-10-01 00:00 in Berlin = 2026-09-30T22:00Z.
ITEMS = [
    item("PAY-1", parent="PAY-100", points=3.0),  # 0: selected by K1
    item("PAY-100", kind="epic", state="in_progress", points=8.0),  # 1: a named parent epic
    item("PAY-2", points=5.0, url="https://j/PAY-2", assignee="Ann"),  # 2: unaligned
    item("PAY-3", state="done", done_at=ts("2026-09-30T21:59Z"), points=2.0),  # 3: before cycle
    item(
        "PAY-4", state="done", done_at=ts("2026-09-30T22:00Z"), points=1.0
    ),  # 4: cycle's 1st minute
    item("PAY-5", state="cancelled", points=13.0),  # 5: cancelled: not counted
    item("PAY-6", state="done", updated=ts("2026-10-15T00:00Z")),  # 6: done_at unknown
    item("PAY-7", state="done"),  # 7: no date at all: not known to be in the cycle
    item("acme/web#3", source="gh", labels=("billing",), points=2.0),  # 8: selected by K2
    item("PAY-8", parent="PAY-100", state="cancelled", points=5.0),  # 9: selected, cancelled
]
SELECTED = {"K1": [0, 9], "K2": [8]}


def test_alignment_counts_items_and_points() -> None:
    alignment, _ = alignment_and_unaligned(PLAN, ITEMS, SELECTED, BERLIN)
    # aligned: PAY-1 (3), PAY-100 (8), acme/web#3 (2); unaligned: PAY-2 (5), PAY-4 (1), PAY-6 (0)
    assert alignment == Alignment(
        aligned_items=3, unaligned_items=3, aligned_points=13.0, unaligned_points=6.0
    )
    assert alignment.share_by_count == 50.0
    assert alignment.share_by_points == 68.4  # 13 / 19


def test_unaligned_rows() -> None:
    _, rows = alignment_and_unaligned(PLAN, ITEMS, SELECTED, BERLIN)
    assert [r.key for r in rows] == ["PAY-2", "PAY-4", "PAY-6"]
    first = rows[0]
    assert (first.source, first.state, first.assignee, first.url, first.points) == (
        "jira",
        "todo",
        "Ann",
        "https://j/PAY-2",
        5.0,
    )


def test_a_parent_epic_counts_as_aligned_only_when_a_clause_names_it() -> None:
    other = plan_of(goal("G1", kr("K1", select=[{"source": "jira", "labels": ["x"]}])))
    alignment, rows = alignment_and_unaligned(other, ITEMS[:3], {"K1": []}, BERLIN)
    assert (alignment.aligned_items, alignment.unaligned_items) == (0, 3)
    assert [r.key for r in rows] == ["PAY-1", "PAY-100", "PAY-2"]


def test_no_items_means_no_share() -> None:
    alignment, rows = alignment_and_unaligned(PLAN, [], {"K1": [], "K2": []}, BERLIN)
    assert rows == []
    assert alignment.share_by_count is None
    assert alignment.share_by_points is None


# --- workload -------------------------------------------------------------------------------------

PEOPLE = [
    item("Z-1", assignee="Zoe", points=3.0),  # 0: K1
    item("Z-2", assignee="Zoe", state="in_progress"),  # 1: K1, unestimated
    item("Z-3", assignee="Zoe", points=2.0),  # 2: unaligned
    item("Z-4", assignee="Zoe", state="done", points=5.0),  # 3: K1, done: no load
    item("B-1", assignee="bob", points=1.25),  # 4: K1 and K2
    item("U-1", points=4.0),  # 5: K2
    item("U-2", state="in_progress", points=1.0),  # 6: unaligned
    item("U-3", points=0.0),  # 7: unaligned
    item("C-1", assignee="Cy", state="cancelled", points=8.0),  # 8: K1, cancelled: no load
]
PEOPLE_SELECTED = {"K1": [0, 1, 3, 4, 8], "K2": [4, 5]}


def test_workload_per_assignee_and_goal_with_the_wip_limit() -> None:
    rows = workload_rows(PLAN, PEOPLE, PEOPLE_SELECTED, wip_limit=2)
    assert rows == [
        # bob: one open item serving two goals counts once towards the limit
        WorkloadRow(assignee="bob", goal="G1", open_items=1, open_points=1.25, over_wip=False),
        WorkloadRow(assignee="bob", goal="G2", open_items=1, open_points=1.25, over_wip=False),
        # Zoe: 3 open items > 2, flagged on every row of hers
        WorkloadRow(assignee="Zoe", goal="G1", open_items=2, open_points=3.0, over_wip=True),
        WorkloadRow(
            assignee="Zoe", goal="(unaligned)", open_items=1, open_points=2.0, over_wip=True
        ),
        # nobody: last, never over the limit
        WorkloadRow(
            assignee="(unassigned)", goal="G2", open_items=1, open_points=4.0, over_wip=False
        ),
        WorkloadRow(
            assignee="(unassigned)",
            goal="(unaligned)",
            open_items=2,
            open_points=1.0,
            over_wip=False,
        ),
    ]


def test_wip_limit_is_exceeded_only_above_it() -> None:
    rows = workload_rows(PLAN, PEOPLE, PEOPLE_SELECTED, wip_limit=3)
    assert [r.over_wip for r in rows if r.assignee == "Zoe"] == [False, False]


def test_no_open_items_no_workload() -> None:
    done = [item("D-1", assignee="Zoe", state="done")]
    assert workload_rows(PLAN, done, {"K1": [0], "K2": []}, wip_limit=8) == []
