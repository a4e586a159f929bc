"""The `goalsync` command: run, validate, plan, backfill, init, doctor, schema.

Human output (the run summary, the plan, doctor's checks, config problems) goes to stdout/stderr,
drawn with rich (sync/console.py: colours in a terminal, plain text elsewhere); everything else
is a structured log on stderr. In a terminal with console logs a run shows a progress bar per
source (sync/progress.py); never with JSON logs. Exit codes: 0 ok, 2 config or usage error, 3
published but some source stale, 4 publishing failed (state unchanged), 1 an unexpected internal
error; `doctor`: 0 when every check passes, else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import sys
import time as clock
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any, TextIO, cast

import structlog
from pydantic import ValidationError
from rich.console import Console
from rich.padding import Padding
from rich.table import Table as RichTable
from rich.text import Text

from sync import __version__, alerts, console, doctor, metrics, plandiff, secrets
from sync.backfill import backfill
from sync.config import LoadedConfig, load_config
from sync.contracts import resolve_path
from sync.engine import RunOptions, RunOutcome, build, run
from sync.errors import EXIT_CONFIG, EXIT_OK, ConfigError
from sync.init import StarterOptions, split_values, write_starter
from sync.log import Redactor, configure_logging, secret_values
from sync.progress import PullCounter, TerminalProgress, wants_progress
from sync.report import HistoryRow, status_counts
from sync.schema import config_schema
from sync.settings import Settings
from sync.signals import EXIT_TERMINATED, Terminated, orderly_exit
from sync.store import Store

log = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_CONFIG
    try:
        settings = _settings(args)
    except ValidationError as exc:
        print(f"goalsync: bad GOALSYNC_ setting: {_pydantic_summary(exc)}", file=sys.stderr)
        return EXIT_CONFIG
    # Logs go to whatever sys.stderr is when they are written: while progress bars are drawn,
    # that is rich's proxy, which prints each line above the bars instead of through them.
    redactor = configure_logging(
        settings.log_format, settings.log_level, stream=cast(TextIO, _StderrNow())
    )
    try:
        with orderly_exit():  # SIGTERM raises Terminated: cleanup runs, exit 143
            code: int = args.handler(args, settings)
        return code
    except Terminated:
        log.warning("terminated", signal="SIGTERM", state="nothing uncommitted was kept")
        return EXIT_TERMINATED
    except ConfigError as exc:
        if redactor.json:  # one structured event for log collectors
            log.error("config_error", error=str(exc), problems=[str(p) for p in exc.problems])
        else:  # a person at a terminal reads the list once, plainly
            print(redactor.redact(f"goalsync: {exc}"), file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        log.warning("interrupted", state="unchanged")
        return 130
    except Exception as exc:  # a bug: say so plainly; no locals, no secrets
        log.error("internal_error", error=f"{type(exc).__name__}: {exc}")
        if settings.log_level == "debug":
            print(redactor.redact(traceback.format_exc()), file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        help="goalsync.yaml (default: $GOALSYNC_CONFIG, then ./goalsync.yaml)",
    )
    common.add_argument("--log-format", choices=["auto", "console", "json"])
    common.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument(
        "--state-dir",
        type=Path,
        help="where cursors, cache and History are "
        "kept (default: $GOALSYNC_STATE_DIR, then ./.goalsync)",
    )
    stateful = argparse.ArgumentParser(add_help=False, parents=[state])
    stateful.add_argument(
        "--as-of",
        metavar="T",
        help="evaluate at T (ISO date or datetime; naive times are in the config's timezone)",
    )

    parser = argparse.ArgumentParser(
        prog="goalsync",
        description="Map Jira, GitHub and Sheets work onto goals and key results and publish "
        "one execution status.",
    )
    parser.add_argument("--version", action="version", version=f"goalsync {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")

    shown = argparse.ArgumentParser(add_help=False)
    shown.add_argument(
        "--no-progress", action="store_true", help="no progress bars, even in a terminal"
    )

    p_run = sub.add_parser(
        "run", parents=[common, stateful, shown], help="pull, evaluate and publish"
    )
    p_run.add_argument("--full", action="store_true", help="re-read every source's whole scope")
    p_run.add_argument("--dry-run", action="store_true", help="pull and evaluate; write nothing")
    p_run.add_argument(
        "--metrics-file",
        type=Path,
        metavar="F",
        help="write the run's metrics to F in Prometheus text format (node-exporter's textfile "
        "collector: a .prom file in its directory), atomically",
    )
    p_run.set_defaults(handler=_cmd_run)

    p_val = sub.add_parser("validate", parents=[common], help="check the config; no requests")
    p_val.set_defaults(handler=_cmd_validate)

    p_plan = sub.add_parser(
        "plan",
        parents=[common, stateful, shown],
        help="a dry run: the Status table, and what a run would change in each sink",
    )
    p_plan.set_defaults(handler=_cmd_plan)

    p_doc = sub.add_parser(
        "doctor",
        parents=[common, state],
        help="check every source and sink (reachable, credentials, access) and say what to fix",
    )
    p_doc.add_argument(
        "--test-alert", action="store_true", help="also send a test message to the alert webhook"
    )
    p_doc.set_defaults(handler=_cmd_doctor)

    p_init = sub.add_parser(
        "init",
        parents=[common],
        help="write a commented starter goalsync.yaml (to --config) from these flags",
    )
    p_init.add_argument("--jira-url", metavar="URL", help="https://acme.atlassian.net, or DC's")
    p_init.add_argument(
        "--jira-project",
        action="append",
        metavar="KEY",
        help="a Jira project key to pull (repeatable; the scope becomes project in (...))",
    )
    p_init.add_argument("--jira-jql", metavar="JQL", help="the scope as JQL, instead of projects")
    p_init.add_argument(
        "--github-repo", action="append", metavar="OWNER/NAME", help="a repository (repeatable)"
    )
    p_init.add_argument("--github-org", metavar="ORG", help="every repository of an org")
    p_init.add_argument(
        "--github-url", metavar="URL", help="GitHub Enterprise API root: https://HOST/api/v3"
    )
    p_init.add_argument(
        "--sheet-id", metavar="ID", help="the status sheet to publish to (the id in its URL)"
    )
    p_init.add_argument(
        "--plan-sheet-id", metavar="ID", help="a sheet with Goals, Metrics and Overrides tabs"
    )
    p_init.add_argument(
        "--sheets-endpoint", metavar="URL", help="a local Sheets-compatible server (testing)"
    )
    p_init.add_argument(
        "--html", metavar="PATH", help="also write one html page (default when no --sheet-id)"
    )
    p_init.add_argument("--timezone", default="UTC", help="IANA name, e.g. Europe/Berlin")
    p_init.add_argument("--cycle-start", type=_date, metavar="DATE", help="default: this quarter")
    p_init.add_argument("--cycle-due", type=_date, metavar="DATE", help="default: this quarter")
    p_init.add_argument("--owner", default="Your Name", help="the first goal's owner")
    p_init.add_argument("--force", action="store_true", help="overwrite an existing file")
    p_init.add_argument(
        "--no-schema",
        action="store_true",
        help="do not write goalsync.schema.json beside the config",
    )
    p_init.set_defaults(handler=_cmd_init)

    p_schema = sub.add_parser(
        "schema",
        help="print goalsync.yaml's JSON Schema (for editors: see the README)",
    )
    p_schema.add_argument("--output", "-o", type=Path, metavar="F", help="write it to F")
    p_schema.set_defaults(handler=_cmd_schema)

    p_back = sub.add_parser(
        "backfill",
        parents=[common, state],
        help="fill History for past days from the items' events",
    )
    p_back.add_argument("--from", dest="first", required=True, type=_date, metavar="DATE")
    p_back.add_argument("--to", dest="last", required=True, type=_date, metavar="DATE")
    p_back.set_defaults(handler=_cmd_backfill)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for key in ("config", "state_dir", "log_format", "log_level"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return Settings(**overrides)


def _cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(settings.config)
    sources, sinks = build(config)
    krs = sum(len(g.key_results) for g in config.plan.goals)
    print(
        f"{config.path}: ok: {len(config.plan.goals)} goals, {krs} key results, "
        f"sources {', '.join(f'{n} ({s.type})' for n, s in sources.items())}, "
        f"sinks {', '.join(s.type for s in sinks)}"
    )
    return EXIT_OK


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    t0 = clock.monotonic()
    try:
        config = load_config(settings.config)
        options = RunOptions(
            full=args.full,
            dry_run=args.dry_run,
            as_of=_as_of(args.as_of, config.tz),
            retry_budget_s=settings.retry_budget_s,
        )
    except ConfigError:
        if args.metrics_file is not None:
            _write_metrics(args.metrics_file, settings, EXIT_CONFIG, clock.monotonic() - t0)
        raise
    store = Store(settings.state_dir)
    wanted = config.model.alerts is not None and not args.dry_run
    previous: list[HistoryRow] = store.history() if wanted else []
    try:
        with _watching(settings, args.no_progress) as watcher:
            outcome = run(config, store, dataclasses.replace(options, watcher=watcher))
    except Exception:
        if args.metrics_file is not None and not args.dry_run:
            _write_metrics(args.metrics_file, settings, 1, clock.monotonic() - t0)
        raise
    _print_summary(config, outcome, watcher)
    if not args.dry_run and not outcome.skipped:
        if config.model.alerts is not None:
            _send_alerts(config.model.alerts, outcome, previous)
        if args.metrics_file is not None:
            _write_metrics(
                args.metrics_file,
                settings,
                outcome.exit_code,
                clock.monotonic() - t0,
                outcome=outcome,
            )
    return outcome.exit_code


def _cmd_plan(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(settings.config)
    options = RunOptions(
        dry_run=True, as_of=_as_of(args.as_of, config.tz), retry_budget_s=settings.retry_budget_s
    )
    sources, sinks = build(config)
    # What each sink holds now, read before the dry run (a sheet's History also seeds it).
    states = plandiff.read_sinks(sinks, budget_s=min(60.0, settings.retry_budget_s))
    with _watching(settings, args.no_progress) as watcher:
        outcome = run(
            config,
            Store(settings.state_dir),
            dataclasses.replace(options, watcher=watcher),
            built=(sources, plandiff.seeded(states)),
        )
    out = console.make_console()
    if outcome.tables:
        out.print(console.status_table(outcome.tables[0], title="Status", width=out.width))
        out.print(console.tab_counts(outcome.tables))
        out.print()
        print_changes(out, plandiff.compare(states, outcome.tables))
        out.print(Text("nothing was written: a dry run", style="dim"))
    _print_summary(config, outcome, watcher, planned=True)
    return outcome.exit_code


def print_changes(out: Console, diffs: Sequence[plandiff.SinkDiff]) -> None:
    """Per sink, what a run would change in it against what it holds now."""
    out.print(Text("What a run would change, against what each sink holds now", style="bold"))
    shown: dict[str, str] = {}  # a sink's changes -> the first sink that had them
    for d in diffs:
        head = Text("  ")
        head.append(d.description, style="bold")
        if d.requests:
            head.append(f"  ({_plural(d.requests, 'request')} to read it)", style="dim")
        out.print(head)
        if d.error:
            out.print(Text(f"    cannot read it: {_masker()(d.error)}", style="red"))
            continue
        if d.note:
            out.print(Text(f"    {d.note}", style="dim"))
        if not d.tabs:
            continue
        fingerprint = repr([(t.tab, t.before, t.after, t.added, t.removed, t.changed,
                             t.status_changes) for t in d.tabs])  # fmt: skip
        if fingerprint in shown:
            out.print(Text(f"    the same changes as {shown[fingerprint]}", style="dim"))
            continue
        shown[fingerprint] = d.description
        table = RichTable(box=None, show_header=True, header_style="dim", pad_edge=False)
        for name in ("tab", "now", "after", "added", "removed", "changed", ""):
            table.add_column(name, justify="left" if name in ("tab", "") else "right")
        quiet: list[str] = []
        for t in d.tabs:
            if t.unchanged:
                quiet.append(t.tab)
                continue
            now = "-" if t.before is None else str(t.before)
            table.add_row(
                t.tab,
                now,
                str(t.after),
                _count(t.added, "green"),
                _count(t.removed, "red"),
                _count(t.changed, "yellow"),
                Text("new tab" if t.before is None else t.note, style="dim"),
            )
        if table.rows:
            out.print(Padding(table, (0, 0, 0, 4), expand=False))
        if quiet:
            out.print(Text(f"    unchanged: {', '.join(quiet)}", style="dim"))
        for c in d.status_changes:
            line = Text(f"    {c.id} {c.title[:50]}: ")
            line.append_text(console.status_text(c.before or "(blank)"))
            line.append(" -> ")
            line.append_text(console.status_text(c.after))
            out.print(line)
    out.print()


def _masker() -> Callable[[str], str]:
    """Masks every secret this process knows (secret-looking variables, the secrets connector
    builders read) in text about to be printed: a server's error message may quote one."""
    redactor = Redactor(secret_values())
    for value in secrets.known():
        redactor.add(value)
    return redactor.redact


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _count(n: int, style: str) -> Text:
    return Text(str(n) if n else "", style=style)


@contextlib.contextmanager
def _watching(settings: Settings, disabled: bool) -> Iterator[PullCounter]:
    """Progress bars while the sources are pulled, when a person is watching; else a counter
    (pages, items and time per source, for the summary)."""
    if wants_progress(settings.log_format, sys.stderr, disabled=disabled):
        with TerminalProgress(console.make_console(stderr=True)) as bars:
            yield bars
    else:
        yield PullCounter()


def _send_alerts(
    config: alerts.AlertsConfig, outcome: RunOutcome, previous: Sequence[HistoryRow]
) -> None:
    changes = (
        alerts.status_changes(previous, outcome.report, levels=config.levels)
        if outcome.report is not None and outcome.exit_code in (0, 3)
        else []
    )
    payload = alerts.build_message(
        changes=changes,
        exit_code=outcome.exit_code,
        run=outcome.run,
        error=outcome.error,
        events=config.events,
    )
    if payload is not None:
        alerts.send(config, payload)


def _write_metrics(
    path: Path,
    settings: Settings,
    exit_code: int,
    seconds: float,
    outcome: RunOutcome | None = None,
) -> None:
    try:
        success, published = metrics.last_runs(Store(settings.state_dir).last_runs(200))
    except Exception as exc:  # a damaged store must not stop the metrics (nor the run)
        log.warning("metrics_store_unreadable", error=f"{type(exc).__name__}")
        success = published = None
    data = metrics.RunMetrics(
        finished=datetime.now(UTC),
        exit_code=exit_code,
        duration_s=seconds,
        sources=outcome.run.sources if outcome is not None and outcome.run is not None else (),
        report=outcome.report if outcome is not None else None,
        last_success=success,
        last_publish=published,
    )
    metrics.write(path, metrics.render(data))


def _cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    out = console.make_console()
    try:
        config = load_config(settings.config)
    except ConfigError as exc:
        report = doctor.config_problem(settings.config, exc)
    else:
        report = doctor.run_doctor(config, state_dir=settings.state_dir, test_alert=args.test_alert)
    out.print(Text(f"goalsync doctor {__version__}: {settings.config}", style="bold"))
    mask = _masker()
    rows = [{k: mask(v) for k, v in row.items()} for row in report.rows()]
    out.print(console.checks_table(rows))
    requests = ", ".join(
        f"{t.name.split(' (')[0]} {t.requests}" for t in report.targets if t.requests
    )
    if requests:
        out.print(Text(f"requests sent: {requests}", style="dim"))
    failed, warned = len(report.failed), len(report.warnings)
    if failed:
        out.print(
            Text(
                f"{failed} of {len(report.checks)} checks failed: fix them (see fix:) and run "
                "goalsync doctor again",
                style="bold red",
            )
        )
        return 1
    extra = f" ({warned} warnings)" if warned else ""
    out.print(Text(f"all {len(report.checks)} checks passed{extra}", style="bold green"))
    return 0


def _cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    options = StarterOptions(
        jira_url=args.jira_url,
        jira_projects=split_values(args.jira_project),
        jira_jql=args.jira_jql,
        github_repos=split_values(args.github_repo),
        github_org=args.github_org,
        github_url=args.github_url,
        sheet_id=args.sheet_id,
        plan_sheet_id=args.plan_sheet_id,
        sheets_endpoint=args.sheets_endpoint,
        html=args.html,
        timezone=args.timezone,
        cycle_start=args.cycle_start,
        cycle_due=args.cycle_due,
        owner=args.owner,
    )
    written = write_starter(settings.config, options, force=args.force, schema=not args.no_schema)
    config = written.config
    sources = ", ".join(f"{n} ({s.type})" for n, s in config.model.sources.items())
    print(f"wrote {config.path}: it validates (sources {sources})")
    if written.schema is not None:
        print(f"wrote {written.schema}: the JSON Schema editors read (see its first line)")
    print("next:")
    for step in _next_steps(config):
        print(f"  {step}")
    return EXIT_OK


def _next_steps(config: LoadedConfig) -> list[str]:
    steps = []
    types = {s.type for s in config.model.sources.values()}
    if "jira" in types:
        steps.append("export JIRA_EMAIL=... JIRA_API_TOKEN=...   (Data Center: JIRA_PAT=...)")
    if "github" in types:
        steps.append("export GITHUB_TOKEN=...   (a fine-grained token: metadata, issues, PRs)")
    if "sheets" in types or any(s.type == "sheets" for s in config.model.sinks):
        steps.append(
            "export GOOGLE_APPLICATION_CREDENTIALS=/path/to/service-account.json   (share the "
            "sheets with its client_email)"
        )
    flag = "" if config.path == Path("goalsync.yaml") else f" --config {config.path}"
    steps += [
        f"edit the goals in {config.path}",
        f"goalsync validate{flag} && goalsync doctor{flag} && goalsync plan{flag}",
        f"goalsync run{flag}, then schedule it: see deploy/README.md",
    ]
    return steps


def _cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    text = json.dumps(config_schema(), indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return EXIT_OK


def _cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(settings.config)
    outcome = backfill(
        config, Store(settings.state_dir), args.first, args.last, budget_s=settings.retry_budget_s
    )
    days = (outcome.last - outcome.first).days + 1
    print(
        f"goalsync: History filled for {outcome.first}..{outcome.last}: {outcome.rows} rows "
        f"over {days} days; the next `goalsync run` publishes them"
    )
    if outcome.stale:
        print(f"  stale sources (their cached records were used): {', '.join(outcome.stale)}")
    return outcome.exit_code


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _print_summary(
    config: LoadedConfig,
    outcome: RunOutcome,
    watcher: PullCounter | None = None,
    planned: bool = False,
) -> None:
    """The run at a glance: the status mix, per source its state, items and requests, per goal
    its status, what was written, the exit code and the time. Lines a script can grep; tables
    in a terminal."""
    out = console.make_console()
    if outcome.skipped:
        out.print("goalsync: another run holds the lock; this one did nothing")
        return
    if outcome.report is None:
        err = console.make_console(stderr=True)
        err.print(f"goalsync: run {outcome.run_id} failed: {outcome.error}")
        return
    goals = status_counts(outcome.report, "goal")
    krs = status_counts(outcome.report, "kr")
    n_goals, n_krs = sum(goals.values()), sum(krs.values())
    mix = ", ".join(f"{n} {word.lower()}" for word, n in krs.items() if n)
    out.print(f"goalsync: {n_goals} goals, {n_krs} key results: {mix}")
    counts = watcher.sources if watcher is not None else {}
    if out.is_terminal:
        out.print(Padding(_sources_table(outcome, counts), (0, 0, 0, 2), expand=False))
        out.print(Padding(_goals_table(outcome), (0, 0, 0, 2), expand=False))
    elif outcome.run is not None:
        parts = []
        for s in outcome.run.sources:
            state = "ok" if s.ok else f"STALE ({s.error})"
            parts.append(f"{s.name} {state}, {s.describe()}, {s.requests} requests")
        out.print(f"  sources: {'; '.join(parts)}")
        goal_rows = [r for r in outcome.report.rows if r.level == "goal"]
        out.print(
            "  goals: " + "; ".join(f"{r.id} {r.status} ({_pct(r.progress)})" for r in goal_rows)
        )
    if outcome.written:
        out.print(f"  wrote: {', '.join(outcome.written)}")
    elif not planned and outcome.error:
        err = console.make_console(stderr=True)
        err.print(f"  publish FAILED: {outcome.error}; state unchanged, the next run retries")
    elif not planned:
        out.print("  dry run: nothing written")
    if planned:
        sinks = ", ".join(_sink_name(config, s) for s in config.model.sinks)
        out.print(f"  would write to: {sinks} (nothing was written)")
    out.print(f"  exit {outcome.exit_code} in {outcome.seconds:.2f} s")


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{value:.1f} %"


def _sources_table(outcome: RunOutcome, counts: dict[str, Any]) -> RichTable:
    table = RichTable(box=None, header_style="dim", pad_edge=False)
    for name in ("source", "type", "state", "items", "requests", "pages", "time"):
        table.add_column(
            name, justify="right" if name in ("items", "requests", "pages") else "left"
        )
    for s in outcome.run.sources if outcome.run is not None else ():
        count = counts.get(s.name)
        state = Text("ok", style="green") if s.ok else Text(f"STALE: {s.error}", style="red")
        table.add_row(
            s.name,
            s.type,
            state,
            s.describe(),
            str(s.requests),
            str(count.pages) if count is not None else "",
            f"{count.seconds:.1f} s" if count is not None else "",
        )
    return table


def _goals_table(outcome: RunOutcome) -> RichTable:
    table = RichTable(box=None, header_style="dim", pad_edge=False)
    for name in ("goal", "title", "status", "progress", "expected"):
        table.add_column(name, justify="right" if name in ("progress", "expected") else "left")
    assert outcome.report is not None
    for r in outcome.report.rows:
        if r.level != "goal":
            continue
        table.add_row(
            r.id,
            r.title[: console.TITLE_WIDTH],
            console.status_text(r.status),
            _pct(r.progress),
            _pct(r.expected),
        )
    return table


def _sink_name(config: LoadedConfig, sink: Any) -> str:
    path = getattr(sink, "path", None)
    if path:
        return f"{sink.type} {resolve_path(config.base_dir, path)}"
    return f"{sink.type} {getattr(sink, 'spreadsheet_id', '')}"


def _as_of(text: str | None, tz: tzinfo) -> datetime | None:
    """An ISO instant; naive times are in the config's timezone; a bare date is its last
    moment (the status as of that whole day)."""
    if text is None:
        return None
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day, time.max, tzinfo=tz).astimezone(UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--as-of {text!r} is not an ISO date or datetime (e.g. 2026-11-16T09:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _pydantic_summary(exc: ValidationError) -> str:
    return "; ".join(
        f"GOALSYNC_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
    )


class _StderrNow(io.TextIOBase):
    """sys.stderr as it is at each write (the log's stream): rich's proxy while bars are up."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        try:
            return sys.stderr.isatty()
        except (AttributeError, ValueError):
            return False


if __name__ == "__main__":
    raise SystemExit(main())
