"""Views across the whole portfolio: alignment (and the unaligned work), and workload.

Alignment counts pulled items that are not cancelled and are open or were done since the cycle's
start: aligned when a key result selects them, by a clause or an alignment tag, through any source
(or a clause names them as a parent epic), else unaligned; each key once (the same issue read
through two sources is one piece of work). Workload counts each open item once per goal per
assignee; open work that serves no goal is shown as "(unaligned)" because it is load all the same,
and the WIP limit applies to all of a person's open items. Epics that clauses name as parents are
containers, not load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo

from mappings.plan import Plan
from mappings.select import named_parents
from mappings.status import day_start
from sync.base.records import WorkItem
from sync.base.report import Alignment, UnalignedRow, WorkloadRow

UNALIGNED_GOAL = "(unaligned)"
UNASSIGNED = "(unassigned)"


def alignment_and_unaligned(
    plan: Plan,
    items: Sequence[WorkItem],
    selected: Mapping[str, Sequence[int]],
    tz: tzinfo,
) -> tuple[Alignment, list[UnalignedRow]]:
    cycle_start = day_start(plan.cycle_start, tz)
    mapped = {items[i].key for chosen in selected.values() for i in chosen}
    parents = named_parents(c for g in plan.goals for kr in g.key_results for c in kr.clauses)
    aligned_n = unaligned_n = 0
    aligned_pts = unaligned_pts = 0.0
    unaligned: list[UnalignedRow] = []
    seen: set[str] = set()
    for item in items:
        if item.key in seen:
            continue
        seen.add(item.key)
        if item.state == "cancelled":
            continue
        if item.state == "done":
            finished = item.done_at or item.updated
            if finished is None or finished < cycle_start:
                continue
        points = item.points or 0.0
        if item.key in mapped or item.key.casefold() in parents:
            aligned_n += 1
            aligned_pts += points
            continue
        unaligned_n += 1
        unaligned_pts += points
        unaligned.append(
            UnalignedRow(
                key=item.key,
                source=item.source,
                title=item.title,
                state=item.state,
                assignee=item.assignee,
                updated=item.updated,
                url=item.url,
                points=item.points,
            )
        )
    alignment = Alignment(
        aligned_items=aligned_n,
        unaligned_items=unaligned_n,
        aligned_points=round(aligned_pts, 2),
        unaligned_points=round(unaligned_pts, 2),
    )
    return alignment, unaligned


def workload_rows(
    plan: Plan,
    items: Sequence[WorkItem],
    selected: Mapping[str, Sequence[int]],
    wip_limit: int,
) -> list[WorkloadRow]:
    goal_of_kr = {kr.id: g.id for g in plan.goals for kr in g.key_results}
    goal_order = {g.id: n for n, g in enumerate(plan.goals)}
    goal_order[UNALIGNED_GOAL] = len(goal_order)
    goals_of_item: dict[str, tuple[str, ...]] = {}  # by key: one issue, however many sources
    for kr_id, chosen in selected.items():
        goal = goal_of_kr[kr_id]
        for i in chosen:
            key = items[i].key
            known = goals_of_item.get(key)
            if known is None:
                goals_of_item[key] = (goal,)
            elif goal not in known:  # an item serving two goals is load for both
                goals_of_item[key] = (*known, goal)
    cells: dict[tuple[str, str], list[float]] = {}  # (assignee, goal) -> [items, points]
    per_person: dict[str, int] = {}
    parents = named_parents(c for g in plan.goals for kr in g.key_results for c in kr.clauses)
    unaligned = (UNALIGNED_GOAL,)
    seen: set[str] = set()
    for item in items:
        if item.state != "todo" and item.state != "in_progress":
            continue
        if item.key in seen:
            continue  # the same issue through a second source is not a second load
        seen.add(item.key)
        if item.kind == "epic" and item.key.casefold() in parents:
            continue  # an epic a key result is built from is a container, not someone's load
        who = item.assignee or UNASSIGNED
        per_person[who] = per_person.get(who, 0) + 1
        for goal in goals_of_item.get(item.key, unaligned):
            cell = cells.setdefault((who, goal), [0, 0.0])
            cell[0] += 1
            cell[1] += item.points or 0.0
    ordered = sorted(cells, key=lambda k: (k[0] == UNASSIGNED, k[0].casefold(), goal_order[k[1]]))
    return [
        WorkloadRow(
            assignee=who,
            goal=goal,
            open_items=int(cells[who, goal][0]),
            open_points=round(cells[who, goal][1], 2),
            over_wip=who != UNASSIGNED and per_person[who] > wip_limit,
        )
        for who, goal in ordered
    ]
