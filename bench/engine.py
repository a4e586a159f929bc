"""Benchmark: one evaluation of a large portfolio, forecasts included.

    .venv/bin/python bench/engine.py [--items 200000] [--krs 300] [--people 50]

Builds N items (with two status events each for the started and done ones) over 300 key
results of every item measure and 50 assignees, then times `mappings.evaluate.evaluate` and
reports its wall time, the peak of memory it allocated (tracemalloc) and the process's peak RSS.
Not a test: CI never runs it; `make bench` does.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mappings.montecarlo  # noqa: F401  (numpy: imported here, not inside the traced evaluation)
from mappings.evaluate import evaluate
from mappings.model import Cycle, Goal, KeyResult, StatusRules
from mappings.plan import resolve_plan
from sync.base.records import Event, Records, State, WorkItem
from sync.heap import paused_gc

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
MEASURES = ["percent_done"] * 6 + ["count", "open_count", "throughput", "cycle_time", "milestone"]


def make_records(n_items: int, n_krs: int, n_people: int, seed: int = 1) -> Records:
    rng = random.Random(seed)
    people = [f"Person {p:02d}" for p in range(n_people)]
    items: list[WorkItem] = []
    events: list[Event] = []
    start = datetime(2026, 9, 1, tzinfo=UTC)
    for n in range(n_items):
        epic = f"EPIC-{n % n_krs}"
        created = start + timedelta(minutes=rng.randint(0, 60 * 24 * 70))
        roll = rng.random()
        state: State = "done" if roll < 0.55 else "in_progress" if roll < 0.75 else "todo"
        started = created + timedelta(hours=rng.randint(1, 24 * 10))
        done_at = started + timedelta(hours=rng.randint(4, 24 * 12))
        if done_at > NOW:
            state, done_at = "in_progress", NOW
        key = f"P{n % 20}-{n}"
        items.append(
            WorkItem(
                source=f"src{n % 4}",
                key=key,
                title=f"Work item {n}",
                state=state,
                status={"done": "Done", "in_progress": "In Progress", "todo": "To Do"}[state],
                assignee=people[rng.randrange(n_people)] if rng.random() < 0.8 else None,
                labels=(f"team-{n % 12}", "bug" if n % 7 == 0 else "feature"),
                parent=epic,
                milestone=f"M{n % 30}",
                project=f"P{n % 20}",
                points=float(rng.choice([1, 2, 3, 5, 8])),
                created=created,
                updated=min(NOW, done_at if state == "done" else started),
                started=started if state != "todo" else None,
                done_at=done_at if state == "done" else None,
            )
        )
        if state != "todo":
            events.append(
                Event(
                    source=items[-1].source,
                    item_key=key,
                    at=started,
                    kind="status_changed",
                    from_state="todo",
                    to_state="in_progress",
                )
            )
        if state == "done":
            events.append(
                Event(
                    source=items[-1].source,
                    item_key=key,
                    at=done_at,
                    kind="status_changed",
                    from_state="in_progress",
                    to_state="done",
                )
            )
    return Records(items=tuple(items), events=tuple(events))


def make_goals(n_krs: int) -> list[Goal]:
    goals = []
    per_goal = 10
    for g in range(0, n_krs, per_goal):
        krs = []
        for k in range(g, min(g + per_goal, n_krs)):
            measure = MEASURES[k % len(MEASURES)]
            clause = {"parent": f"EPIC-{k}"}
            extra: dict[str, object] = {}
            if measure == "count":
                extra = {"target": 400}
            elif measure == "open_count":
                extra = {"baseline": 500, "target": 50}
            elif measure == "throughput":
                extra = {"target": 40}
            elif measure == "cycle_time":
                extra = {"baseline": 12, "target": 4, "stat": "p85"}
            elif measure == "milestone":
                clause = {"parent": f"EPIC-{k}", "milestone": f"M{k % 30}"}
            krs.append(
                KeyResult.model_validate(
                    {
                        "id": f"K{k}",
                        "title": f"Key result {k}",
                        "owner": f"Owner {k % 17}",
                        "measure": measure,
                        "select": [clause],
                        **extra,
                    }
                )
            )
        goals.append(
            Goal(
                id=f"G{g // per_goal}", title=f"Goal {g // per_goal}", owner="Lead", key_results=krs
            )
        )
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--krs", type=int, default=300)
    parser.add_argument("--people", type=int, default=50)
    args = parser.parse_args()

    t0 = time.perf_counter()
    records = make_records(args.items, args.krs, args.people)
    plan = resolve_plan(
        make_goals(args.krs), Cycle(start=date(2026, 10, 1), due=date(2026, 12, 31))
    )
    built = time.perf_counter() - t0

    tracemalloc.start()
    report = evaluate(plan, records, NOW, rules=StatusRules(), tz=TZ)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # timed without tracemalloc (it slows allocation down), as the engine calls it
    t1 = time.perf_counter()
    with paused_gc():
        evaluate(plan, records, NOW, rules=StatusRules(), tz=TZ)
    seconds = time.perf_counter() - t1
    t2 = time.perf_counter()
    evaluate(plan, records, NOW, rules=StatusRules(), tz=TZ)
    with_gc = time.perf_counter() - t2
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    forecasts = sum(1 for r in report.rows if r.level == "kr" and r.forecast_p85 is not None)
    print(
        f"items {args.items:,}  events {len(records.events):,}  key results {args.krs}  "
        f"people {args.people}"
    )
    print(f"inputs built in {built:.1f} s")
    print(
        f"evaluate: {seconds:.2f} s wall as the engine runs it (GC paused), {with_gc:.2f} s "
        f"with the GC running; {peak / 2**20:.0f} MB allocated at peak, process peak RSS "
        f"{rss_mb:.0f} MB"
    )
    print(
        f"rows {len(report.rows)}, forecasts {forecasts}, risks {len(report.risks):,}, "
        f"items tab {len(report.items):,}, unaligned {len(report.unaligned):,}, "
        f"workload rows {len(report.workload)}"
    )


if __name__ == "__main__":
    main()
