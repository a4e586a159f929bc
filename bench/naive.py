"""Benchmark: the sync a team would write by hand with the same libraries, against goalsync.

    .venv/bin/python bench/naive.py [--jira 20000] [--github 10000] [--repos 5] [--projects 4]
        [--latency 0.03] [--quick] [--before DIR]

`naive_sync` below is that hand-written sync: sequential, each library at its defaults (the `jira`
client's, with `fields=*all`; PyGithub's, with its default retry, `per_page` 30 and 0.25 s
between requests; google-api-python-client's), a full refresh every run, and one
`values.update` per tab. It computes the same status as goalsync (goalsync's own pure
evaluation and tab layout are reused, so that what differs is only how the data is fetched
and written), reading the same goalsync.yaml for its URLs and goals.

The report runs, on one seeded world (bench/world.py): goalsync's full run (an empty state dir),
the naive sync with PyGithub's defaults, the naive sync with PyGithub's request spacing turned off
(`seconds_between_requests=0`), and then goalsync's incremental run with nothing changed (the
naive sync has no other kind of run), each as a child process; and prints them side by side with
the ratios. `--before DIR` adds, first, goalsync's full run from another checkout (a tree
exported from an earlier commit, e.g. `git archive <commit> | tar -x -C DIR`), on its own state
dir, so that before and after are measured in one run on one world.

    .venv/bin/python bench/naive.py sync --config goalsync.yaml [--no-spacing]

runs the naive sync alone (what the report starts as a child process).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from bench.world import (  # noqa: E402
    NAIVE_ID,
    Measured,
    Sizes,
    World,
    child_env,
    compile_tree,
    goalsync_cmd,
    machine,
    run_child,
)
from sync.base.records import State, WorkItem  # noqa: E402
from tests.fakes.sheets import FakeSheets  # noqa: E402

BEFORE_ID = "STATUS-BEFORE"  # the status sheet of goalsync's run from another checkout


def _add_status_sheet(fake: FakeSheets, spreadsheet_id: str) -> None:
    fake.add_spreadsheet(spreadsheet_id)  # run in the Sheets fake's process (World)


CATEGORY_STATE: dict[str, State] = {"new": "todo", "indeterminate": "in_progress", "done": "done"}
CANCELLED = {"Won't Do", "Won't Fix", "Duplicate", "Cannot Reproduce", "Declined"}


# --- the naive sync ------------------------------------------------------------------------------


def naive_sync(config_path: Path, *, spacing: bool = True) -> None:
    """Pull everything, evaluate, write every tab: what a first version written by hand does."""
    import os

    from github import Auth, Github
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build
    from jira import JIRA

    from mappings.evaluate import evaluate
    from sync.base.records import Metric, Records
    from sync.base.report import RunInfo
    from sync.config import load_config
    from sync.tables import to_tables

    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config = load_config(config_path)
    sources = raw["sources"]
    items: list[WorkItem] = []

    # Jira: the client as the docs show it; all pages of a search, every field.
    jira_cfg = sources["jira"]
    jira = JIRA(
        server=jira_cfg["url"],
        basic_auth=(os.environ["JIRA_EMAIL"], os.environ["JIRA_API_TOKEN"]),
    )
    for issue in jira.enhanced_search_issues(jira_cfg["jql"], maxResults=False):
        items.append(_jira_item(issue, jira_cfg["url"]))

    # GitHub: PyGithub as the docs show it (with or without its request spacing).
    gh_cfg = sources["gh"]
    options: dict[str, Any] = {} if spacing else {"seconds_between_requests": 0}
    github = Github(
        auth=Auth.Token(os.environ["GITHUB_TOKEN"]), base_url=gh_cfg["base_url"], **options
    )
    for name in gh_cfg["repos"]:
        repo = github.get_repo(name)
        for issue in repo.get_issues(state="all"):
            items.append(_github_item(issue, name))

    # Sheets: read the Metrics tab, write each status tab with values.update.
    plan_cfg = sources["plan"]
    sheets = build(
        "sheets",
        "v4",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": plan_cfg["endpoint"]},
    )
    values = (
        sheets.spreadsheets()
        .values()
        .batchGet(spreadsheetId=plan_cfg["spreadsheet_id"], ranges=["Metrics"])
        .execute()["valueRanges"][0]
    )
    metrics = [
        Metric(
            source="plan",
            name=str(name),
            at=datetime.combine(date.fromisoformat(str(day)), datetime.min.time(), UTC),
            value=float(value),
        )
        for name, day, value in values.get("values", [])[1:]
    ]
    now = datetime.now(UTC)
    report = evaluate(
        config.plan,
        Records(items=tuple(items), metrics=tuple(metrics)),
        now,
        rules=config.model.status,
        tz=config.tz,
    )
    tables = to_tables(report, RunInfo(run_id="naive", started=now, as_of=now, version="0"), UTC)
    for table in tables:
        rows = [[c.name for c in table.columns], *([_text(v) for v in r] for r in table.rows)]
        sheets.spreadsheets().values().update(
            spreadsheetId=NAIVE_ID,
            range=f"{table.name}!A1",
            valueInputOption="RAW",
            body={"values": rows},
        ).execute()
    print(f"naive sync: {len(items)} items, {len(tables)} tabs written")


def _jira_item(issue: Any, server: str) -> WorkItem:
    f = issue.fields
    state: State = CATEGORY_STATE.get(f.status.statusCategory.key, "todo")
    if state == "done" and f.resolution is not None and f.resolution.name in CANCELLED:
        state = "cancelled"
    parent = getattr(f, "parent", None)
    return WorkItem(
        source="jira",
        key=issue.key,
        title=f.summary,
        url=f"{server}/browse/{issue.key}",
        status=f.status.name,
        state=state,
        assignee=f.assignee.displayName if f.assignee else None,
        labels=tuple(f.labels),
        parent=parent.key if parent is not None else None,
        project=f.project.key,
        points=getattr(f, "customfield_10016", None),
        created=_jira_time(f.created),
        updated=_jira_time(f.updated),
        done_at=_jira_time(f.resolutiondate),
    )


def _github_item(issue: Any, repo: str) -> WorkItem:
    state: State = "todo"
    if issue.state == "closed":
        state = "cancelled" if issue.state_reason == "not_planned" else "done"
    return WorkItem(
        source="gh",
        key=f"{repo}#{issue.number}",
        # not `issue.pull_request`: on an issue that is none PyGithub fetches the whole issue
        # again to find out (a request per issue); the URL says it for free
        kind="pull_request" if "/pull/" in issue.html_url else "issue",
        title=issue.title,
        url=issue.html_url,
        status=issue.state,
        state=state,
        assignee=issue.assignees[0].login if issue.assignees else None,
        labels=tuple(label.name for label in issue.labels),
        milestone=issue.milestone.title if issue.milestone else None,
        project=repo,
        created=issue.created_at,
        updated=issue.updated_at,
        done_at=issue.closed_at,
    )


def _jira_time(text: str | None) -> datetime | None:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z") if text else None


def _text(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "text") and hasattr(value, "url"):  # a Link: its text
        return value.text
    return value


# --- the report --------------------------------------------------------------------------------


def _run(
    world: World, root: Path, cmd: Sequence[str], code: Path | None = None
) -> tuple[Measured, dict[str, int]]:
    world.reset_counts()
    measured = run_child(cmd, root, child_env({"PYTHONPATH": str(code)} if code else None))
    if measured.exit_code != 0:
        raise SystemExit(f"{cmd[:4]} exited {measured.exit_code}\n{measured.stderr[-4000:]}")
    return measured, world.requests()


def compare(sizes: Sizes, before: Path | None = None) -> str:
    rows: list[tuple[str, Measured, dict[str, int]]] = []
    with World(sizes) as world, tempfile.TemporaryDirectory(prefix="goalsync-naive-") as tmp:
        print(f"seeded {sizes.jira:,} Jira issues, {sizes.github:,} GitHub items over "
              f"{sizes.repos} repos in {world.seconds_seeding:.1f} s", flush=True)  # fmt: skip
        root = Path(tmp)
        (root / "goalsync.yaml").write_text(world.config(), encoding="utf-8")
        naive = [sys.executable, str(Path(__file__).resolve()), "sync", "--config", "goalsync.yaml"]
        if before is not None:
            # A status sheet of its own: on the one the measured run writes, that run would find
            # every tab already showing its table (same data, same day) and write none of them.
            world.sheets.call(_add_status_sheet, BEFORE_ID)
            (root / "goalsync-before.yaml").write_text(world.config(BEFORE_ID), encoding="utf-8")
            compile_tree(before)
            before_cmd = goalsync_cmd("--state-dir", "state-before")
            before_cmd[before_cmd.index("goalsync.yaml")] = "goalsync-before.yaml"
            measured, requests = _run(world, root, before_cmd, before)
            rows.append((f"goalsync full run, before ({before.name})", measured, requests))
            print(f"  {rows[-1][0]}: {measured.seconds:.1f} s", flush=True)
        for name, cmd in (
            ("goalsync full run", goalsync_cmd("--state-dir", "state")),
            ("naive (PyGithub defaults)", naive),
            ("naive (no request spacing)", [*naive, "--no-spacing"]),
            ("goalsync incremental, no change", goalsync_cmd("--state-dir", "state")),
        ):
            measured, requests = _run(world, root, cmd)
            rows.append((name, measured, requests))
            print(f"  {name}: {measured.seconds:.1f} s", flush=True)
    full, default, unspaced, incremental = (r[1].seconds for r in rows[-4:])
    head = (
        f"{'sync':<32} {'Jira req':>9} {'GitHub req':>11} {'Sheets req':>11} {'wall s':>8} "
        f"{'peak RSS MB':>12}"
    )
    lines = [head, "-" * len(head)]
    for name, m, req in rows:
        lines.append(
            f"{name:<32} {req['jira']:>9} {req['github']:>11} {req['sheets']:>11} "
            f"{m.seconds:>8.2f} {m.rss_mb:>12.0f}"
        )
    lines += [
        "",
        f"naive (PyGithub defaults) / goalsync full:    {default / full:5.1f}x",
        f"naive (no request spacing) / goalsync full:   {unspaced / full:5.1f}x",
        f"naive (no request spacing) / goalsync incremental, no change: "
        f"{unspaced / incremental:5.1f}x",
        f"goalsync full / naive (no request spacing):   {full / unspaced:5.2f} "
        f"(aim at most 0.4: {'ok' if full / unspaced <= 0.4 else 'MISSED'})",
        *(
            [f"goalsync full before / naive (no spacing):  {rows[0][1].seconds / unspaced:5.2f}"]
            if before is not None
            else []
        ),
        "",
        f"aim: a full run at least 3x faster than the naive sync: "
        f"{'ok' if default / full >= 3 else 'MISSED'} with PyGithub's defaults "
        f"({default / full:.1f}x), {'ok' if unspaced / full >= 3 else 'MISSED'} without its "
        f"request spacing ({unspaced / full:.1f}x)",
    ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "sync":
        child = argparse.ArgumentParser(prog="naive.py sync")
        child.add_argument("--config", type=Path, required=True)
        child.add_argument("--no-spacing", action="store_true")
        args = child.parse_args(sys.argv[2:])
        naive_sync(args.config, spacing=not args.no_spacing)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jira", type=int, default=20_000, help="Jira issues")
    parser.add_argument("--github", type=int, default=10_000, help="GitHub items, all repos")
    parser.add_argument("--repos", type=int, default=5)
    parser.add_argument("--projects", type=int, default=4, help="Jira projects (besides PLAT)")
    parser.add_argument("--before", type=Path, help="another checkout: its full run too")
    parser.add_argument("--latency", type=float, default=0.030, help="seconds per request")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = parser.parse_args()
    if args.quick:
        args.jira, args.github = args.jira // 10, args.github // 10
    print(f"machine: {machine()}")
    print(f"naive sync against goalsync: latency {args.latency * 1000:.0f} ms per request\n")
    sizes = Sizes(
        jira=args.jira,
        github=args.github,
        repos=args.repos,
        latency=args.latency,
        projects=args.projects,
    )
    print()
    print(compare(sizes, args.before.resolve() if args.before else None))


if __name__ == "__main__":
    main()
