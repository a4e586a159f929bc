"""The world the sync benchmarks run in: the loopback fakes of Jira Cloud, GitHub and Sheets
(tests/fakes), seeded with a portfolio of a given size, a goalsync.yaml of 40 key results over
it, and a way to run a program as a child process and read its wall time, peak RSS and the
requests each fake answered.

Each fake is seeded in this process and then served from a process of its own, forked from this
one (tests/fakes/process.py), so that the fakes' CPU (rendering 20,000 issues with changelogs,
GitHub pages, Sheets batchUpdates) neither shares one GIL nor competes with this process: remote
APIs would not. What the benchmarks ask of a fake (request counts, a change to its data) runs in
its process, through a pipe (`world.jira.call(fn, ...)`). The program measured runs in a child
process too, so its peak RSS is its own (`os.wait4` gives the child's rusage). The fakes sleep
`latency` seconds per request, concurrently (one thread per connection), as a remote API's round
trip would.

Two changes to the fakes, both for speed of the fake only (what they answer is unchanged):
Jira caches the matches of a JQL until its data changes (the test fake filters and sorts every
issue for every page), and GitHub answers `GET /repos/{o}/{r}`, which PyGithub's `get_repo`
asks for (the naive sync uses it).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.github import API as GITHUB_API  # noqa: E402
from tests.fakes.github import TOKEN as GITHUB_TOKEN  # noqa: E402
from tests.fakes.github import (  # noqa: E402
    FakeGitHub,
    FakeRepo,
    event_payload,
    iso,
    milestone_payload,
    repo_payload,
)
from tests.fakes.jira import Auth, FakeJira, status_history  # noqa: E402
from tests.fakes.process import ForkedFake  # noqa: E402
from tests.fakes.server import FakeServer, Request, Response  # noqa: E402
from tests.fakes.sheets import FakeSheet, FakeSheets  # noqa: E402

JIRA_EMAIL, JIRA_TOKEN = "bench@acme.example", "atl-bench-token-0123456789"
PLAN_ID, STATUS_ID, NAIVE_ID = "PLAN", "STATUS", "NAIVE"
JIRA_PAGE = 100  # the most issues a Cloud search page holds with fields and changelog
GITHUB_PAGE = 100  # per_page's maximum
EPICS = 16  # Jira epics PLAT-1..PLAT-16, one key result each
JIRA_PROJECTS = ("PAY", "CORE", "WEB", "DATA")
METRICS = 5
N_KRS = 40  # 16 epics + 10 milestones + 5 team labels + 4 bug / done counts + 5 metrics


@dataclass(frozen=True, slots=True)
class Sizes:
    jira: int = 20_000
    github: int = 10_000
    repos: int = 5
    latency: float = 0.030
    projects: int = len(JIRA_PROJECTS)  # Jira projects besides PLAT (the epics'), at most 4

    @property
    def jira_projects(self) -> tuple[str, ...]:
        return JIRA_PROJECTS[: max(1, min(self.projects, len(JIRA_PROJECTS)))]

    @property
    def items(self) -> int:
        return self.jira + self.github

    def repo_sizes(self) -> list[int]:
        base, extra = divmod(self.github, self.repos)
        return [base + (1 if r < extra else 0) for r in range(self.repos)]


# --- faster fakes (the same answers) ------------------------------------------------------------


class BenchJira(FakeJira):
    """FakeJira that filters and sorts the issues of a JQL once per change of its data, not once
    per page: with 20,000 issues and 200 pages the test fake would spend minutes doing that."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("cloud", **kwargs)
        self._matches: dict[str, list[dict[str, Any]]] = {}
        self._cache_lock = threading.Lock()

    def _run_jql(self, jql: str) -> list[dict[str, Any]]:
        with self._cache_lock:
            found = self._matches.get(jql)
        if found is None:
            found = super()._run_jql(jql)
            with self._cache_lock:
                self._matches[jql] = found
        return found

    def changed(self) -> None:
        with self._cache_lock:
            self._matches.clear()

    def add_issue(self, key: str, **kwargs: Any) -> dict[str, Any]:
        issue = super().add_issue(key, **kwargs)
        self.changed()
        return issue

    def transition(self, key: str, status: str, category: str, **kwargs: Any) -> None:
        super().transition(key, status, category, **kwargs)
        self.changed()


class BenchGitHub(FakeGitHub):
    """FakeGitHub that also answers `GET /repos/{owner}/{repo}` (PyGithub's get_repo), with the
    repository's URLs on the fake (PyGithub lists issues at the `url` it names)."""

    def handle(self, request: Request) -> Response:
        prefix = "/api/v3" if request.path.startswith("/api/v3/") else ""
        parts = request.path[len(prefix) :].strip("/").split("/")
        if request.method == "GET" and len(parts) == 3 and parts[0] == "repos":
            repo = self.repos.get(f"{parts[1]}/{parts[2]}".lower())
            if repo is not None:
                text = json.dumps(repo_payload(repo.full_name, repo.id))
                body = text.replace(GITHUB_API, f"{self.url}{prefix}")
                headers = {"Content-Type": "application/json"} | self._rate_headers()
                return Response(200, body, headers)
        return super().handle(request)


# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    """The three fakes, seeded, each served from a process of its own; `with World(sizes) as w:`
    seeds them, starts their processes and ends them. What the benchmarks ask of a fake runs in
    its process (`w.jira.call(fn, ...)`, fn a module-level function of the fake)."""

    sizes: Sizes
    seed: int = 7
    jira: ForkedFake[BenchJira] = field(init=False)
    github: ForkedFake[BenchGitHub] = field(init=False)
    sheets: ForkedFake[FakeSheets] = field(init=False)
    repos: list[str] = field(default_factory=list)  # the repositories' full names
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    seconds_seeding: float = 0.0
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __enter__(self) -> World:
        latency = self.sizes.latency
        compile_tree()
        t0 = time.perf_counter()
        with contextlib.ExitStack() as stack:
            # Built inline, so that once forked only the child holds the fake.
            self.jira = _forked(
                BenchJira(auth=Auth("basic", JIRA_EMAIL, JIRA_TOKEN), latency=latency),
                self._seed_jira,
            )
            stack.push(self.jira)
            self.github = _forked(
                BenchGitHub(token=GITHUB_TOKEN, latency=latency, rate_limit=10_000_000),
                self._seed_github,
            )
            stack.push(self.github)
            self.sheets = _forked(FakeSheets(latency=latency), self._seed_sheets)
            stack.push(self.sheets)
            self._stack = stack.pop_all()
        self.seconds_seeding = time.perf_counter() - t0
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # --- seeding -----------------------------------------------------------------------------

    def _seed_jira(self, fake: BenchJira) -> None:
        rng = random.Random(self.seed)
        fake.projects.update({"PLAT", *JIRA_PROJECTS})
        start = self.now - timedelta(days=90)
        for e in range(1, EPICS + 1):
            fake.add_issue(
                f"PLAT-{e}",
                summary=f"Epic {e}",
                issuetype="Epic",
                status="In Progress",
                category="indeterminate",
                created=start,
                updated=start + timedelta(days=1),
            )
        for n in range(1, self.sizes.jira - EPICS + 1):
            projects = self.sizes.jira_projects
            project = projects[n % len(projects)]
            created = start + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            roll = rng.random()
            category = "done" if roll < 0.5 else "indeterminate" if roll < 0.7 else "new"
            status = {"done": "Done", "indeterminate": "In Progress", "new": "To Do"}[category]
            resolution = None
            if category == "done":
                resolution = "Won't Do" if rng.random() < 0.04 else "Done"
            updated = min(
                created + timedelta(hours=rng.randint(1, 24 * 25)), self.now - timedelta(hours=2)
            )
            key = f"{project}-{n}"
            fake.add_issue(
                key,
                summary=f"Work item {n} of {project}",
                status=status,
                category=category,
                resolution=resolution,
                parent=f"PLAT-{n % EPICS + 1}" if n % 5 else None,  # 80 % under an epic
                labels=["bug"] if n % 9 == 0 else [],
                points=float(rng.choice([1, 2, 3, 5, 8])) if n % 10 else None,
                assignee=f"Person {n % 40:02d}" if n % 6 else None,
                created=created,
                updated=updated,
            )
            fake.histories[key] = _histories(key, category, created, updated)

    def _seed_github(self, fake: BenchGitHub) -> None:
        rng = random.Random(self.seed + 1)
        start = self.now - timedelta(days=90)
        for r, size in enumerate(self.sizes.repo_sizes()):
            repo = fake.add_repo(f"acme/repo{r}")
            self.repos.append(repo.full_name)
            milestones = [
                milestone_payload(
                    repo.full_name, m, f"M{m}", due_on=self.now + timedelta(days=30 * m)
                )
                for m in (1, 2, 3)
            ]
            repo.milestones.extend(milestones)
            for n in range(1, size + 1):
                created = start + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
                updated = min(
                    created + timedelta(hours=rng.randint(1, 24 * 20)),
                    self.now - timedelta(hours=2),
                )
                labels = [f"team-{r}"] if n % 2 else []
                if n % 10 == 0:
                    labels.append("bug")
                roll = rng.random()
                kwargs: dict[str, Any] = {
                    "created": created,
                    "updated": updated,
                    "labels": labels,
                    "assignee": f"person{n % 40:02d}" if n % 3 else None,
                    "milestone": milestones[n % 3] if n % 5 < 3 else None,  # 60 % in one
                }
                if roll < 0.1:
                    kwargs |= {"pull": "merged", "state": "closed", "closed": updated}
                elif roll < 0.55:
                    reason = "not_planned" if rng.random() < 0.05 else "completed"
                    kwargs |= {"state": "closed", "state_reason": reason, "closed": updated}
                elif roll < 0.65:
                    kwargs["pull"] = "open"
                repo.add_issue(n, **kwargs)
                if kwargs.get("state") == "closed" and "pull" not in kwargs:
                    repo.events.append(_event(repo, n, "closed", updated))

    def _seed_sheets(self, fake: FakeSheets) -> None:
        metrics: list[list[Any]] = [["name", "date", "value"]]
        for m in range(1, METRICS + 1):
            for days in (60, 30, 7):
                day = (self.now - timedelta(days=days)).date().isoformat()
                metrics.append([f"metric_{m}", day, 10.0 * m + (60 - days) / 10])
        fake.add_spreadsheet(PLAN_ID, {"Metrics": metrics})
        fake.add_spreadsheet(STATUS_ID)
        # The naive sync writes with values.update into tabs a person made once, big enough.
        naive = fake.add_spreadsheet(NAIVE_ID)
        many = self.sizes.items + 1000
        shapes = {"Status": (1000, 20), "Risks": (many, 8), "Items": (2 * many, 12),
                  "Unaligned": (many, 8), "Workload": (5000, 6), "History": (5000, 6),
                  "Trends": (5000, 40), "Run": (1000, 4)}  # fmt: skip
        naive.sheets = [
            FakeSheet(i * 1000, name, rows=rows, columns=columns)
            for i, (name, (rows, columns)) in enumerate(shapes.items())
        ]

    # --- changing a share of the items -------------------------------------------------------

    def change(self, share: float) -> dict[str, int]:
        """`share` of the Jira issues and of each repository's items change now (a status move,
        a close), and one metric gets a new value. Returns how many changed per scope. One
        random sequence picks them across the three fakes, handed from process to process."""
        rng_state = random.Random(self.seed + 2).getstate()
        at = datetime.now(UTC).replace(microsecond=0)
        picked, rng_state = self.jira.call(_change_jira, share, rng_state, at)
        out = {"jira": picked}
        changed, rng_state = self.github.call(_change_github, self.repos, share, rng_state, at)
        self.sheets.call(_add_metric, at)
        return out | changed

    # --- counting ------------------------------------------------------------------------------

    def reset_counts(self) -> None:
        self.jira.call(BenchJira.reset_counts)
        self.github.call(BenchGitHub.reset_counts)
        self.sheets.call(FakeSheets.reset_counts)

    def requests(self) -> dict[str, int]:
        """Requests per API since the last reset_counts (the Sheets token call not counted)."""
        return {
            "jira": self.jira.call(BenchJira.count),
            "github": self.github.call(BenchGitHub.count),
            "sheets": self.sheets.call(FakeSheets.count, path_prefix="/v4/"),
        }

    def cpu_seconds(self) -> dict[str, float]:
        """CPU each fake's process has spent so far."""
        return {
            "jira": self.jira.cpu_seconds(),
            "github": self.github.cpu_seconds(),
            "sheets": self.sheets.cpu_seconds(),
        }

    def minimum(self, run: str, changed: Mapping[str, int] | None = None) -> dict[str, int]:
        """The fewest requests that can read what a run must read, per API:
        - full: ceil(items / largest page) per scope and repository;
        - incremental: per scope and repository ceil(changed / largest page), at least one (a
          run that asks nothing cannot know that nothing changed);
        - Sheets: one batchGet of the plan tabs, and three calls per publish (read the sheet's
          tabs, read History to upsert it, write)."""
        sheets = 1 + 3
        if run == "full":
            return {
                "jira": math.ceil(self.sizes.jira / JIRA_PAGE),
                "github": sum(math.ceil(n / GITHUB_PAGE) for n in self.sizes.repo_sizes()),
                "sheets": sheets,
            }
        changed = changed or {}
        return {
            "jira": max(1, math.ceil(changed.get("jira", 0) / JIRA_PAGE)),
            "github": sum(
                max(1, math.ceil(changed.get(name, 0) / GITHUB_PAGE)) for name in self.repos
            ),
            "sheets": sheets,
        }

    # --- the config ------------------------------------------------------------------------------

    def config(self, sheet: str = STATUS_ID) -> str:
        cycle_start = (self.now - timedelta(days=45)).date()
        cycle_due = (self.now + timedelta(days=45)).date()
        sources = f"""\
sources:
  jira:
    type: jira
    url: {self.jira.url}
    jql: project in (PLAT, {", ".join(self.sizes.jira_projects)})
  gh:
    type: github
    repos: [{", ".join(self.repos)}]
    base_url: {self.github.url}/api/v3
  plan:
    type: sheets
    spreadsheet_id: {PLAN_ID}
    endpoint: {self.sheets.url}/
    credentials: anonymous
    tabs: {{metrics: Metrics}}
sinks:
  - type: sheets
    spreadsheet_id: {sheet}
    endpoint: {self.sheets.url}/
    credentials: anonymous
"""
        return (
            f"version: 1\ntimezone: UTC\ncycle: {{start: {cycle_start}, due: {cycle_due}}}\n"
            + sources
            + "goals:\n"
            + "".join(_goal_yaml(g, krs) for g, krs in enumerate(_chunked(key_results(self), 5)))
        )


Fake = TypeVar("Fake", bound=FakeServer)


def _forked(fake: Fake, seed: Callable[[Fake], None]) -> ForkedFake[Fake]:
    """Start `fake` (the Jira fake writes its URL into the issues it is seeded with), seed it
    and serve it from a child process, before the next fake is seeded: a child holds (and its
    garbage collector walks) only its own fake."""
    with fake:
        seed(fake)
        return ForkedFake(fake).start()


# --- seeding and changing, on one fake (the changes run in the fake's process) ----------------


def _histories(key: str, category: str, created: datetime, updated: datetime) -> list[Any]:
    """The status changes an issue went through: to In Progress, then to Done."""
    moves: list[tuple[str, str, datetime]] = []
    if category != "new":
        moves.append(("To Do", "In Progress", created + (updated - created) / 3))
    if category == "done":
        moves.append(("In Progress", "Done", updated))
    return [
        status_history(f"{key}-{i}", at, before, after)
        for i, (before, after, at) in enumerate(moves)
    ]


def _event(repo: FakeRepo, number: int, kind: str, at: datetime) -> dict[str, Any]:
    event_id = repo.id * 10_000_000 + len(repo.events) + 1
    return event_payload(event_id, kind, repo.issues[number], at=at)


RngState = tuple[Any, ...]


def _change_jira(
    fake: BenchJira, share: float, rng_state: RngState, at: datetime
) -> tuple[int, RngState]:
    """Move `share` of the issues (the epics aside) to Done, or back to In Progress."""
    rng = random.Random()
    rng.setstate(rng_state)
    jira_keys = [k for k in fake.issues if not k.startswith("PLAT-")]
    picked = rng.sample(jira_keys, max(1, round(share * len(jira_keys))))
    for key in picked:
        category = fake.issues[key]["fields"]["status"]["statusCategory"]["key"]
        if category == "done":
            fake.transition(key, "In Progress", "indeterminate", at=at)
        else:
            fake.transition(key, "Done", "done", at=at)
    return len(picked), rng.getstate()


def _change_github(
    fake: BenchGitHub, repos: list[str], share: float, rng_state: RngState, at: datetime
) -> tuple[dict[str, int], RngState]:
    """Close `share` of each repository's open items and reopen its closed ones, with events."""
    rng = random.Random()
    rng.setstate(rng_state)
    out: dict[str, int] = {}
    for name in repos:
        repo = fake.repos[name.lower()]
        numbers = rng.sample(sorted(repo.issues), max(1, round(share * len(repo.issues))))
        for number in numbers:
            issue = repo.issues[number]
            if issue["state"] == "open":
                repo.update(number, at=at, state="closed", state_reason="completed",
                            closed_at=iso(at))  # fmt: skip
                repo.events.append(_event(repo, number, "closed", at))
            else:
                repo.update(number, at=at, state="open", state_reason="reopened",
                            closed_at=None)  # fmt: skip
                repo.events.append(_event(repo, number, "reopened", at))
        out[repo.full_name] = len(numbers)
    return out, rng.getstate()


def _add_metric(fake: FakeSheets, at: datetime) -> None:
    """A new value of metric_1 in the plan's Metrics tab."""
    metrics = fake.spreadsheets[PLAN_ID].sheet("Metrics")
    row = 1 + max(r for r, _ in metrics.cells)
    for col, value in enumerate(["metric_1", at.date().isoformat(), 99.0]):
        kind = "numberValue" if isinstance(value, float) else "stringValue"
        metrics.cells[(row, col)] = {"userEnteredValue": {kind: value}}


def key_results(world: World) -> list[dict[str, Any]]:
    """The 40 key results: one per Jira epic, two milestones and one team label per repository,
    bugs and done work counted, and the plan sheet's metrics."""
    krs: list[dict[str, Any]] = []
    for e in range(1, EPICS + 1):
        by = "points" if e % 2 else "count"
        krs.append({"title": f"Epic PLAT-{e} delivered", "measure": "percent_done", "by": by,
                    "select": [{"source": "jira", "parent": f"PLAT-{e}"}]})  # fmt: skip
    for repo in world.repos:
        for m in ("M1", "M2"):
            clause = {"source": "gh", "repo": repo, "milestone": m}
            krs.append({"title": f"{repo} {m}", "measure": "milestone",
                        "select": [clause]})  # fmt: skip
    for r, repo in enumerate(world.repos):
        krs.append({"title": f"Team {r} work done", "measure": "percent_done",
                    "select": [{"source": "gh", "repo": repo,
                                "labels": [f"team-{r}"]}]})  # fmt: skip
    krs.append({"title": "Open GitHub bugs", "measure": "open_count", "baseline": 2000,
                "target": 0, "select": [{"source": "gh", "labels": ["bug"]}]})  # fmt: skip
    krs.append({"title": "Open Jira bugs", "measure": "open_count", "baseline": 2000,
                "target": 0, "select": [{"source": "jira", "labels": ["bug"]}]})  # fmt: skip
    krs.append({"title": "Payments work done", "measure": "count", "target": 5000,
                "select": [{"source": "jira", "project": "PAY"}]})  # fmt: skip
    krs.append({"title": "Data points done", "measure": "count", "by": "points",
                "target": 20000, "select": [{"source": "jira", "project": "DATA"}]})  # fmt: skip
    for k in range(1, METRICS + 1):
        krs.append({"title": f"Metric {k}", "measure": "metric", "metric": f"metric_{k}",
                    "baseline": 0, "target": 20.0 * k})  # fmt: skip
    assert len(krs) == N_KRS - 3 * (5 - len(world.repos))  # 3 per repository
    return krs


def _chunked(values: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _goal_yaml(g: int, krs: Sequence[dict[str, Any]]) -> str:
    lines = [f"  - id: G{g + 1}", f"    title: Goal {g + 1}", f"    owner: Lead {g + 1}",
             "    key_results:"]  # fmt: skip
    for k, kr in enumerate(krs):
        lines.append(f"      - {json.dumps({'id': f'G{g + 1}.{k + 1}', **kr})}")
    return "\n".join(lines) + "\n"


# --- running a child and measuring it -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    seconds: float
    rss_mb: float
    exit_code: int
    stdout: str
    stderr: str


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOALSYNC_", "JIRA_", "GITHUB_", "GOOGLE_"))
    }
    env |= {
        "GOALSYNC_LOG_FORMAT": "json",
        "JIRA_EMAIL": JIRA_EMAIL,
        "JIRA_API_TOKEN": JIRA_TOKEN,
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "PYTHONPATH": str(ROOT),
    }
    return env | dict(extra or {})


# Runs the measured command and reports its peak RSS and wall time. A child forked from this
# process (big: it holds the fakes' data) starts with this process's memory high-water mark,
# which Linux keeps across exec: the child's ru_maxrss would read as this process's peak. This
# launcher is a fresh, small interpreter, so what it starts is measured from nothing.
_LAUNCHER = """\
import os, sys, time
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - t0
with open(sys.argv[1], "w") as fh:
    fh.write(f"{usage.ru_maxrss} {seconds}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(cmd: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Measured:
    """Run `cmd` (its first word an absolute path) and measure its wall time and its own peak
    RSS (kilobytes in ru_maxrss on Linux)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "usage"
        launcher = [sys.executable, "-c", _LAUNCHER, str(report), *cmd]
        proc = subprocess.run(launcher, cwd=cwd, env=dict(env), stdout=out, stderr=err, check=False)
        rss_kb, seconds = report.read_text(encoding="utf-8").split()
        out.seek(0)
        err.seek(0)
        return Measured(
            seconds=float(seconds),
            rss_mb=int(rss_kb) / 1024,
            exit_code=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def compile_tree(root: Path = ROOT) -> None:
    """Byte-compile goalsync's packages under `root` once, as an install does (the container
    image runs compileall). The measured runs must not compile them: with PYTHONDONTWRITEBYTECODE
    set (this machine, the image) a module whose .pyc is missing or stale is compiled from source
    on every start, which a fresh checkout's first bench would count against start-up."""
    import compileall

    for package in ("sync", "connectors", "mappings"):
        compileall.compile_dir(root / package, quiet=1)


def goalsync_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "sync.cli", "run", "--config", "goalsync.yaml", *args]


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    version = sys.version.split()[0]
    return f"{os.cpu_count()} CPUs ({cpu}), Python {version}, {sys.platform}"
