"""The `goalsync` command: run, validate, plan, backfill, init, doctor, explain, digest, schema.

Human output (the run summary, the plan, doctor's checks, config problems) goes to stdout/stderr,
drawn with rich (sync/console.py: colours in a terminal, plain text elsewhere); everything else
is a structured log on stderr. In a terminal with console logs a run shows a progress bar per
source (sync/progress.py); never with JSON logs. Exit codes: 0 ok, 2 config or usage error, 3
published but some source stale, 4 publishing failed (state unchanged), 1 an unexpected internal
error; `doctor`: 0 when every check passes, else 1.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TextIO, cast

import structlog
from pydantic import ValidationError

from sync import __version__
from sync.base import http_limits
from sync.base.errors import EXIT_CONFIG, ConfigError
from sync.heap import batch_collector
from sync.log import configure_logging
from sync.run_cli import cmd_backfill, cmd_plan, cmd_run
from sync.settings import Settings
from sync.signals import Terminated, orderly_exit

log = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    # A command is a batch job: the garbage collector's policy for one (sync/heap.py).
    with batch_collector():
        return _command(argv)


def _command(argv: Sequence[str] | None) -> int:
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
    # An explicit level (--log-level, GOALSYNC_LOG_LEVEL) wins; else -v/-vv, else the format's
    # default: warnings in a terminal, info in JSON lines.
    explicit = settings.log_level if "log_level" in settings.model_fields_set else None
    verbose: int = getattr(args, "verbose", 0) or 0
    http_limits.configure(settings.limits())  # every request's deadline and size cap
    redactor = configure_logging(
        settings.log_format, explicit, stream=cast(TextIO, _StderrNow()), verbose=verbose
    )
    log.debug("log_level", level=redactor.level, explicit=explicit is not None, verbose=verbose)
    try:
        with orderly_exit():  # SIGTERM raises Terminated: cleanup runs, exit 143
            code: int = args.handler(args, settings)
        return code
    except Terminated as exc:  # exit 143, or the run's own code when it had committed
        state = "committed" if exc.settled is not None else "nothing uncommitted was kept"
        log.warning("terminated", signal="SIGTERM", state=state, exit_code=exc.exit_code)
        return exc.exit_code
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
        if redactor.level == "debug":
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
    common.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="default: warning in a terminal, info in JSON logs; wins over -v",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="in a terminal, also log info (-v) and debug (-vv) events",
    )
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
    p_run.set_defaults(handler=cmd_run)

    p_val = sub.add_parser("validate", parents=[common], help="check the config; no requests")
    p_val.set_defaults(handler=_setup("cmd_validate"))

    p_plan = sub.add_parser(
        "plan",
        parents=[common, stateful, shown],
        help="a dry run: the Status table, and what a run would change in each sink",
    )
    p_plan.set_defaults(handler=cmd_plan)

    p_doc = sub.add_parser(
        "doctor",
        parents=[common, state],
        help="check every source and sink (reachable, credentials, access) and say what to fix",
    )
    p_doc.add_argument(
        "--test-alert", action="store_true", help="also send a test message to the alert webhook"
    )
    p_doc.set_defaults(handler=_setup("cmd_doctor"))

    p_explain = sub.add_parser(
        "explain",
        parents=[common, state],
        help="per key result and select clause: how many items match, a few of them, and for "
        "a clause that matches nothing the closest existing values; people: proposals",
    )
    p_explain.add_argument(
        "ids", nargs="*", metavar="ID", help="goals or key results (default: all)"
    )
    p_explain.add_argument(
        "--pull",
        action="store_true",
        help="read the sources first (nothing is committed); default: the state dir's items",
    )
    p_explain.set_defaults(handler=_explain)

    p_digest = sub.add_parser(
        "digest",
        parents=[common, state],
        help="the weekly digest as the last run would send it (status changes over the week, "
        "key results newly at risk or off track, top risks, check-ins overdue); no webhook",
    )
    p_digest.add_argument(
        "--print",
        dest="print_only",
        action="store_true",
        help="print it (the default: the digest is sent only by a run, with events: [digest])",
    )
    p_digest.set_defaults(handler=_digest)

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
        "--github-project", metavar="OWNER/NUMBER", help="a GitHub Projects board: acme/7"
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
    p_init.set_defaults(handler=_setup("cmd_init"))

    p_schema = sub.add_parser(
        "schema",
        help="print goalsync.yaml's JSON Schema (for editors: see the README)",
    )
    p_schema.add_argument("--output", "-o", type=Path, metavar="F", help="write it to F")
    p_schema.set_defaults(handler=_setup("cmd_schema"))

    p_back = sub.add_parser(
        "backfill",
        parents=[common, state],
        help="fill History for past days from the items' events",
    )
    p_back.add_argument("--from", dest="first", required=True, type=_date, metavar="DATE")
    p_back.add_argument("--to", dest="last", required=True, type=_date, metavar="DATE")
    p_back.set_defaults(handler=cmd_backfill)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for key in ("config", "state_dir", "log_format", "log_level"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return Settings(**overrides)


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


def _setup(name: str) -> Callable[[argparse.Namespace, Settings], int]:
    """A validate/doctor/init/schema handler, imported when that command runs: their modules
    (the doctor's clients, init's templates) are no part of a scheduled run's start-up."""

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        from sync import setup_cli

        command: Callable[[argparse.Namespace, Settings], int] = getattr(setup_cli, name)
        return command(args, settings)

    return handler


def _explain(args: argparse.Namespace, settings: Settings) -> int:
    from sync.explain_cli import cmd_explain  # not a scheduled run's import

    return cmd_explain(args, settings)


def _digest(args: argparse.Namespace, settings: Settings) -> int:
    from sync.digest_cli import cmd_digest  # not a scheduled run's import

    return cmd_digest(args, settings)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def exit_now(code: int) -> NoReturn:
    """End the process with `code` once everything is written, without the interpreter's
    teardown: freeing every module and object one by one took 0.3 s of an unchanged run that
    does its own work in 1.5 s, and nothing is left to do by then (the state is committed, the
    sinks written, the lock released). Only when no other thread runs and no tool waits for
    its atexit hooks (coverage, a profiler or a tracer); otherwise the ordinary exit."""
    watched = sys.gettrace() is not None or sys.getprofile() is not None
    if threading.active_count() == 1 and "coverage" not in sys.modules and not watched:
        # atexit hooks still run (a library's, or a test seam's): only the teardown is skipped.
        atexit._run_exitfuncs()
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    exit_now(main())
