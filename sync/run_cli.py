"""The `run`, `plan` and `backfill` commands: what they print, alert and record."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import time as clock
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from rich.console import Console
from rich.padding import Padding
from rich.table import Table as RichTable
from rich.text import Text

from sync import alerts, console, metrics
from sync.backfill import backfill
from sync.base import secrets
from sync.base.contracts import Sink, describe
from sync.base.errors import EXIT_CONFIG, ConfigError
from sync.base.report import HistoryRow, status_counts
from sync.config import LoadedConfig, load_config
from sync.engine import RunOptions, RunOutcome, build, run
from sync.log import Redactor, secret_values
from sync.progress import PullCounter, TerminalProgress, wants_progress
from sync.settings import Settings
from sync.store import Store

if TYPE_CHECKING:  # plan only: openpyxl and the Sheets client are not a run's imports
    from sync import preview

log = structlog.get_logger(__name__)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
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
    digest_day = _digest_day(config, store, options) if wanted else None
    if digest_day is not None:  # the week is marked sent in the run's own commit
        options = dataclasses.replace(
            options, kept={alerts.DIGEST_MARK: alerts.week_of(digest_day)}
        )
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
            if digest_day is not None:
                _send_digest(config.model.alerts, outcome, previous, digest_day)
        if args.metrics_file is not None:
            _write_metrics(
                args.metrics_file,
                settings,
                outcome.exit_code,
                clock.monotonic() - t0,
                outcome=outcome,
            )
    return outcome.exit_code


def cmd_plan(args: argparse.Namespace, settings: Settings) -> int:
    from sync import preview  # imported here: openpyxl and friends cost a run 0.2 s

    config = load_config(settings.config)
    options = RunOptions(
        dry_run=True, as_of=_as_of(args.as_of, config.tz), retry_budget_s=settings.retry_budget_s
    )
    sources, sinks = build(config)
    # What each sink holds now, read before the dry run (a sheet's History also seeds it).
    states = preview.read_sinks(sinks, budget_s=min(60.0, settings.retry_budget_s))
    with _watching(settings, args.no_progress) as watcher:
        outcome = run(
            config,
            Store(settings.state_dir),
            dataclasses.replace(options, watcher=watcher),
            built=(sources, preview.seeded(states)),
        )
    out = console.make_console()
    if outcome.tables:
        out.print(console.status_table(outcome.tables[0], title="Status", width=out.width))
        out.print(console.tab_counts(outcome.tables))
        out.print()
        if outcome.report is not None:  # a typo in a clause, with its did-you-mean
            from sync.explain_cli import print_unmatched

            print_unmatched(out, outcome.report.unmatched)
        print_changes(out, preview.compare(states, outcome.tables))
        out.print(Text("nothing was written: a dry run", style="dim"))
    _print_summary(config, outcome, watcher, planned=sinks)
    return outcome.exit_code


def print_changes(out: Console, diffs: Sequence[preview.SinkDiff]) -> None:
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
            out.print(Text(f"    cannot read it: {masker()(d.error)}", style="red"))
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


def masker() -> Callable[[str], str]:
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


def _digest_day(config: LoadedConfig, store: Store, options: RunOptions) -> date | None:
    """The run's day (in the config's timezone) when this run is the one to send the weekly
    digest, else None."""
    assert config.model.alerts is not None
    today = (options.as_of or datetime.now(UTC)).astimezone(config.tz).date()
    sent = store.mark(alerts.DIGEST_MARK)
    return today if alerts.digest_due(config.model.alerts, today, sent) else None


def _send_digest(
    config: alerts.AlertsConfig, outcome: RunOutcome, previous: Sequence[HistoryRow], today: date
) -> None:
    """Only after a run that committed (exit 0 or 3): its commit marked the week sent. A webhook
    that fails loses that week's digest rather than sending it twice; it never changes the exit
    code."""
    if outcome.report is None or outcome.exit_code not in (0, 3):
        return
    digest = alerts.build_digest(previous, outcome.report, today, levels=config.levels)
    alerts.send(config, alerts.digest_message(digest))


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


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
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


def _print_summary(
    config: LoadedConfig,
    outcome: RunOutcome,
    watcher: PullCounter | None = None,
    planned: Sequence[Sink] = (),
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
            state = "ok" if s.ok else f"{'NEVER READ' if s.never_read else 'STALE'} ({s.error})"
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
        names = ", ".join(describe(s) for s in planned)
        out.print(f"  would write to: {names} (nothing was written)")
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
        failed = "NEVER READ" if s.never_read else "STALE"
        state = Text("ok", style="green") if s.ok else Text(f"{failed}: {s.error}", style="red")
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
