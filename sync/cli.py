"""The `goalsync` command: run, validate, plan.

Human output (the run summary, config problems) goes to stdout/stderr as plain text; everything
else is a structured log on stderr. Exit codes: 0 ok, 2 config or usage error, 3 published but
some source stale, 4 publishing failed (state unchanged), 1 an unexpected internal error.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from sync import __version__
from sync.backfill import backfill
from sync.config import LoadedConfig, load_config
from sync.contracts import resolve_path
from sync.engine import RunOptions, RunOutcome, build, run
from sync.errors import EXIT_CONFIG, EXIT_OK, ConfigError
from sync.log import configure_logging
from sync.report import Table, status_counts
from sync.settings import Settings
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
    redactor = configure_logging(settings.log_format, settings.log_level)
    try:
        code: int = args.handler(args, settings)
        return code
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

    p_run = sub.add_parser("run", parents=[common, stateful], help="pull, evaluate and publish")
    p_run.add_argument("--full", action="store_true", help="re-read every source's whole scope")
    p_run.add_argument("--dry-run", action="store_true", help="pull and evaluate; write nothing")
    p_run.set_defaults(handler=_cmd_run)

    p_val = sub.add_parser("validate", parents=[common], help="check the config; no requests")
    p_val.set_defaults(handler=_cmd_validate)

    p_plan = sub.add_parser(
        "plan", parents=[common, stateful], help="show what a run would write (a dry run)"
    )
    p_plan.set_defaults(handler=_cmd_plan)

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
    config = load_config(settings.config)
    options = RunOptions(
        full=args.full,
        dry_run=args.dry_run,
        as_of=_as_of(args.as_of, config.tz),
        retry_budget_s=settings.retry_budget_s,
    )
    outcome = run(config, Store(settings.state_dir), options)
    _print_summary(config, outcome)
    return outcome.exit_code


def _cmd_plan(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(settings.config)
    options = RunOptions(
        dry_run=True, as_of=_as_of(args.as_of, config.tz), retry_budget_s=settings.retry_budget_s
    )
    outcome = run(config, Store(settings.state_dir), options)
    if outcome.tables:
        print(_format_status(outcome.tables[0]))
        print()
        for table in outcome.tables:
            print(f"  {table.name:<10} {len(table.rows):>7} rows")
        sinks = ", ".join(_sink_name(config, s) for s in config.model.sinks)
        print(f"would write to: {sinks} (nothing was written)")
    _print_summary(config, outcome, planned=True)
    return outcome.exit_code


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


def _print_summary(config: LoadedConfig, outcome: RunOutcome, planned: bool = False) -> None:
    if outcome.skipped:
        print("goalsync: another run holds the lock; this one did nothing")
        return
    if outcome.report is None:
        print(f"goalsync: run {outcome.run_id} failed: {outcome.error}", file=sys.stderr)
        return
    goals = status_counts(outcome.report, "goal")
    krs = status_counts(outcome.report, "kr")
    n_goals, n_krs = sum(goals.values()), sum(krs.values())
    mix = ", ".join(f"{n} {word.lower()}" for word, n in krs.items() if n)
    print(f"goalsync: {n_goals} goals, {n_krs} key results: {mix}")
    if outcome.run is not None:
        parts = []
        for s in outcome.run.sources:
            state = "ok" if s.ok else f"STALE ({s.error})"
            parts.append(f"{s.name} {state}, {s.describe()}")
        print(f"  sources: {'; '.join(parts)}")
    if outcome.written:
        print(f"  wrote: {', '.join(outcome.written)}")
    elif not planned and outcome.error:
        print(
            f"  publish FAILED: {outcome.error}; state unchanged, the next run retries",
            file=sys.stderr,
        )
    elif not planned:
        print("  dry run: nothing written")
    print(f"  exit {outcome.exit_code} in {outcome.seconds:.2f} s")


def _sink_name(config: LoadedConfig, sink: Any) -> str:
    path = getattr(sink, "path", None)
    if path:
        return f"{sink.type} {resolve_path(config.base_dir, path)}"
    return f"{sink.type} {getattr(sink, 'spreadsheet_id', '')}"


def _format_status(table: Table) -> str:
    wanted = [
        "ID",
        "Title",
        "Owner",
        "Due",
        "Value",
        "Target",
        "Progress %",
        "Expected %",
        "Status",
    ]
    index = [next(i for i, c in enumerate(table.columns) if c.name == w) for w in wanted]
    rows = [[_cell(row[i]) for i in index] for row in table.rows]
    for row, source in zip(rows, table.rows, strict=True):
        if source[1] == "kr":
            row[0] = "  " + row[0]
        row[1] = row[1][:44]
    widths = [max(len(w), *(len(r[i]) for r in rows)) for i, w in enumerate(wanted)]
    lines = ["  ".join(w.ljust(widths[i]) for i, w in enumerate(wanted))]
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)) for r in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


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


if __name__ == "__main__":
    raise SystemExit(main())
