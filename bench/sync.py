"""Benchmark: `goalsync run` (the real CLI, a child process) against the loopback fakes of Jira
Cloud, GitHub and Sheets, with a latency on every request.

    .venv/bin/python bench/sync.py [--jira 20000] [--github 10000] [--repos 5]
        [--latency 0.03] [--share 0.01] [--gap 120] [--big 100000] [--no-big] [--quick]

Runs, on one state dir: a full run (the first), an unchanged incremental run, an incremental run
after `--share` of the items changed, an unchanged one right after it and another `--gap`
seconds later; on a world of `--small` items (5,000 Jira, 3,000 GitHub) a full run and three
unchanged ones, with the unchanged run's phases from its log; then, on a world of `--big` items,
a full run and an unchanged one for the memory aim. For each:
requests per API against the minimum (bench/world.py says how the minimum is counted), wall
time from outside (process start included), the run's own time (its log), and the child's peak
RSS.

Aims (a 2-core machine, 30 ms latency): requests at most the minimum + 2 per API; an unchanged
incremental run under 2 s wall, and at most 1.0 s with 8,000 items in state (issue 17); peak RSS
at most 400 MB with 100,000 items, for a full run and an unchanged one alike. (The full run against
the naive sync is bench/naive.py.)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.world import (  # noqa: E402
    Measured,
    Sizes,
    World,
    child_env,
    goalsync_cmd,
    machine,
    run_child,
)
from tests.fakes.github import FakeGitHub  # noqa: E402
from tests.fakes.jira import FakeJira  # noqa: E402
from tests.fakes.sheets import FakeSheets  # noqa: E402

APIS = ("jira", "github", "sheets")
SLACK = 2  # the aim: at most the minimum + 2 requests per API


@dataclass(frozen=True, slots=True)
class RunResult:
    name: str
    measured: Measured
    requests: dict[str, int]
    minimum: dict[str, int]
    detail: dict[str, int]
    started: float = 0.0  # time.time() just before the launcher was started

    def phases(self) -> dict[str, float]:
        """Seconds per phase, from the log's timestamps against the process's start: start-up
        (interpreter, imports, config, building the connectors), pull (sinks opened, sources
        read, the state loaded meanwhile), evaluation (staging, evaluation, tables), publish
        and commit, and the exit."""
        marks: dict[str, float] = {}
        for line in self.measured.stderr.splitlines():
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            event, stamp = entry.get("event"), entry.get("timestamp")
            if event == "source_pulled" and stamp:
                pulled = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
                marks[event] = max(marks.get(event, 0.0), pulled)
            elif event in ("run_started", "evaluated", "run_finished") and stamp:
                marks[event] = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            elif event == "state_loaded" and stamp:  # read while the sources are pulled
                loaded = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
                marks["source_pulled"] = max(marks.get("source_pulled", 0.0), loaded)
        if len(marks) < 4:
            return {}
        end = self.started + self.measured.seconds
        points = [self.started, marks["run_started"], marks["source_pulled"], marks["evaluated"],
                  marks["run_finished"], end]  # fmt: skip
        names = ("start-up", "pull + state load", "evaluation + tables", "publish + commit", "exit")
        return {n: b - a for n, a, b in zip(names, points, points[1:], strict=False)}

    @property
    def run_seconds(self) -> float | None:
        """The run's own time, from its `run_finished` log line (no interpreter start)."""
        for line in self.measured.stderr.splitlines():
            if '"run_finished"' in line:
                seconds = json.loads(line).get("seconds")
                return float(seconds) if seconds is not None else None
        return None

    def over(self, api: str) -> int:
        return self.requests[api] - self.minimum[api]

    def slack(self, api: str) -> int:
        """The requests allowed over the minimum: SLACK, and for Jira read in `created` slices
        (its `jira_cloud_slices` log line) one per slice plus two (issue 17: the count, the
        probe for the earliest `created`; a slice's last page is part full)."""
        if api == "jira":
            for line in self.measured.stderr.splitlines():
                if '"jira_cloud_slices"' in line:
                    return SLACK + int(json.loads(line).get("slices") or 0) + 2
        return SLACK


# The detail counters run in the fakes' processes (World.jira.call): each reads its fake there.


def github_detail(fake: FakeGitHub) -> dict[str, int]:
    """GitHub requests by endpoint, and how many were answered 304."""
    kinds: Counter[str] = Counter()
    for r in fake.requests:
        tail = r.path.rsplit("/", 2)
        kind = "events" if tail[-2:] == ["issues", "events"] else tail[-1]
        kinds[kind] += 1
    return {
        "gh issues": kinds["issues"],
        "gh milestones": kinds["milestones"],
        "gh events": kinds["events"],
        "gh 304": fake.not_modified,
    }


def jira_detail(fake: FakeJira) -> dict[str, int]:
    kinds: Counter[str] = Counter(r.path.rsplit("/", 1)[-1] for r in fake.requests)
    return {
        "jira search": kinds["jql"],
        "jira site": kinds["serverInfo"] + kinds["field"] + kinds["myself"],
        "jira changelog": kinds["bulkfetch"],
    }


def sheets_detail(fake: FakeSheets) -> dict[str, int]:
    kinds: Counter[str] = Counter()
    for r in fake.requests:
        if r.path.endswith(":batchUpdate"):
            kinds["batchUpdate"] += 1
        elif r.path.endswith("values:batchGet"):
            kinds["batchGet"] += 1
        elif r.path.startswith("/v4/"):
            kinds["get"] += 1
    return {f"sheets {k}": kinds[k] for k in ("get", "batchGet", "batchUpdate")}


def goalsync_run(
    world: World, root: Path, name: str, kind: str, changed: dict[str, int] | None = None
) -> RunResult:
    world.reset_counts()
    started = time.time()
    measured = run_child(goalsync_cmd("--state-dir", "state"), root, child_env())
    if measured.exit_code != 0:
        raise SystemExit(f"{name}: goalsync exited {measured.exit_code}\n{measured.stderr[-4000:]}")
    return RunResult(
        name=name,
        measured=measured,
        requests=world.requests(),
        minimum=world.minimum(kind, changed),
        detail=world.jira.call(jira_detail)
        | world.github.call(github_detail)
        | world.sheets.call(sheets_detail),
        started=started,
    )


def run_sequence(sizes: Sizes, share: float, gap: float) -> list[RunResult]:
    with World(sizes) as world, tempfile.TemporaryDirectory(prefix="goalsync-bench-") as tmp:
        print(f"seeded {sizes.jira:,} Jira issues, {sizes.github:,} GitHub items over "
              f"{sizes.repos} repos in {world.seconds_seeding:.1f} s", flush=True)  # fmt: skip
        root = Path(tmp)
        (root / "goalsync.yaml").write_text(world.config(), encoding="utf-8")
        results = [goalsync_run(world, root, "full (first run)", "full")]
        results.append(goalsync_run(world, root, "incremental, unchanged", "incremental"))
        changed = world.change(share)
        label = f"incremental, {share:.0%} changed"
        results.append(goalsync_run(world, root, label, "incremental", changed))
        results.append(goalsync_run(world, root, "incremental, unchanged again", "incremental"))
        if gap > 0:
            # Time alone changes some rows: items age past status.stale_after_days minute by
            # minute, so a run a few minutes later (as a schedule would run it) rewrites Risks.
            time.sleep(gap)
            label = f"incremental, unchanged, {gap:.0f} s on"
            results.append(goalsync_run(world, root, label, "incremental"))
        return results


def big_run(items: int, latency: float) -> list[RunResult]:
    """A full run and an unchanged one (the state loaded back) on a world of `items`."""
    sizes = Sizes(jira=items * 2 // 3, github=items - items * 2 // 3, latency=latency)
    with World(sizes) as world, tempfile.TemporaryDirectory(prefix="goalsync-bench-") as tmp:
        print(f"seeded {sizes.jira:,} Jira issues, {sizes.github:,} GitHub items over "
              f"{sizes.repos} repos in {world.seconds_seeding:.1f} s", flush=True)  # fmt: skip
        root = Path(tmp)
        (root / "goalsync.yaml").write_text(world.config(), encoding="utf-8")
        return [
            goalsync_run(world, root, f"full, {items:,} items", "full"),
            goalsync_run(world, root, f"unchanged, {items:,} items", "incremental"),
        ]


def small_runs(jira: int, github: int, latency: float, repeats: int = 3) -> list[RunResult]:
    """A full run, then `repeats` unchanged runs: the unchanged run at issue 17's size."""
    sizes = Sizes(jira=jira, github=github, latency=latency)
    with World(sizes) as world, tempfile.TemporaryDirectory(prefix="goalsync-bench-") as tmp:
        root = Path(tmp)
        (root / "goalsync.yaml").write_text(world.config(), encoding="utf-8")
        items = jira + github
        results = [goalsync_run(world, root, f"full, {items:,} items", "full")]
        for n in range(repeats):
            label = f"unchanged #{n + 1}, {items:,} items"
            results.append(goalsync_run(world, root, label, "incremental"))
        return results


def breakdown(results: list[RunResult]) -> str:
    """The unchanged runs' phases, and their median."""
    unchanged = [r for r in results if r.name.startswith("unchanged") and r.phases()]
    if not unchanged:
        return ""
    names = list(unchanged[0].phases())
    lines = ["phases of the unchanged runs (s): " + ", ".join(names)]
    for r in unchanged:
        cells = ", ".join(f"{v:.2f}" for v in r.phases().values())
        lines.append(f"  {r.name}: {cells}; wall {r.measured.seconds:.2f}")
    median = sorted(unchanged, key=lambda r: r.measured.seconds)[len(unchanged) // 2]
    lines.append(f"  median run: {median.name}, wall {median.measured.seconds:.2f} s")
    return "\n".join(lines)


def report(results: list[RunResult]) -> str:
    head = (
        f"{'run':<32} {'Jira req/min':>13} {'GitHub req/min':>15} {'Sheets req/min':>15} "
        f"{'wall s':>7} {'run s':>6} {'peak RSS MB':>12}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        cells = [f"{r.requests[a]}/{r.minimum[a]} ({r.over(a):+d})" for a in APIS]
        run_s = f"{r.run_seconds:.2f}" if r.run_seconds is not None else "-"
        lines.append(
            f"{r.name:<32} {cells[0]:>13} {cells[1]:>15} {cells[2]:>15} "
            f"{r.measured.seconds:>7.2f} {run_s:>6} {r.measured.rss_mb:>12.0f}"
        )
    lines.append("")
    lines.append("requests by endpoint:")
    for r in results:
        parts = ", ".join(f"{k} {v}" for k, v in r.detail.items())
        lines.append(f"  {r.name}: {parts}")
    return "\n".join(lines)


def aims(results: list[RunResult], big: list[RunResult], small: list[RunResult]) -> str:
    lines = ["aims:"]
    for r in results:
        for api in APIS:
            ok = r.over(api) <= r.slack(api)
            lines.append(
                f"  [{'ok' if ok else 'MISSED'}] {r.name}: {api} {r.requests[api]} requests, "
                f"minimum {r.minimum[api]} + {r.slack(api)}"
            )
    unchanged = [r for r in results if "unchanged" in r.name]
    for r in unchanged:
        ok = r.measured.seconds < 2.0
        lines.append(
            f"  [{'ok' if ok else 'MISSED'}] {r.name}: {r.measured.seconds:.2f} s wall (aim < 2 s)"
        )
    for r in small:
        if r.name.startswith("unchanged"):
            ok = r.measured.seconds <= 1.0
            lines.append(
                f"  [{'ok' if ok else 'MISSED'}] {r.name}: {r.measured.seconds:.2f} s wall "
                "(aim <= 1.0 s)"
            )
    for r in big:
        ok = r.measured.rss_mb <= 400
        lines.append(
            f"  [{'ok' if ok else 'MISSED'}] {r.name}: peak RSS {r.measured.rss_mb:.0f} MB "
            "(aim <= 400 MB)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jira", type=int, default=20_000, help="Jira issues")
    parser.add_argument("--github", type=int, default=10_000, help="GitHub items, all repos")
    parser.add_argument("--repos", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.030, help="seconds per request")
    parser.add_argument("--share", type=float, default=0.01, help="share of items changed")
    parser.add_argument(
        "--gap", type=float, default=120, help="seconds before the last unchanged run (0: none)"
    )
    parser.add_argument("--big", type=int, default=100_000, help="items of the memory run")
    parser.add_argument("--no-big", action="store_true", help="skip the memory run")
    parser.add_argument(
        "--small", type=int, default=8_000, help="items of the unchanged-run timing (0: none)"
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = parser.parse_args()
    if args.quick:
        args.jira, args.github, args.big = args.jira // 10, args.github // 10, args.big // 10
        args.gap = min(args.gap, 30)

    print(f"machine: {machine()}")
    print(
        f"goalsync sync benchmark: latency {args.latency * 1000:.0f} ms per request, "
        f"40 key results\n",
        flush=True,
    )
    sizes = Sizes(jira=args.jira, github=args.github, repos=args.repos, latency=args.latency)
    results = run_sequence(sizes, args.share, args.gap)
    # The unchanged run's timing is not scaled down by --quick: 8,000 items is its aim's size.
    small_jira = args.small * 5 // 8
    small = small_runs(small_jira, args.small - small_jira, args.latency) if args.small else []
    big = [] if args.no_big else big_run(args.big, args.latency)
    print()
    print(report([*results, *small, *big]))
    print()
    print(breakdown(small))
    print(breakdown(big))
    print()
    print(aims(results, big, small))


if __name__ == "__main__":
    main()
