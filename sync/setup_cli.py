"""The `validate`, `doctor`, `init` and `schema` commands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import structlog
from rich.text import Text

from sync import __version__, console, doctor
from sync.base.errors import EXIT_OK, ConfigError
from sync.config import LoadedConfig, load_config
from sync.engine import build
from sync.init import StarterOptions, split_values, write_starter
from sync.run_cli import masker
from sync.schema import config_schema
from sync.settings import Settings

log = structlog.get_logger(__name__)


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(settings.config)
    sources, sinks = build(config)
    krs = sum(len(g.key_results) for g in config.plan.goals)
    print(
        f"{config.path}: ok: {len(config.plan.goals)} goals, {krs} key results, "
        f"sources {', '.join(f'{n} ({s.type})' for n, s in sources.items())}, "
        f"sinks {', '.join(s.type for s in sinks)}"
    )
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    out = console.make_console()
    try:
        config = load_config(settings.config)
    except ConfigError as exc:
        report = doctor.config_problem(settings.config, exc)
    else:
        report = doctor.run_doctor(config, state_dir=settings.state_dir, test_alert=args.test_alert)
    out.print(Text(f"goalsync doctor {__version__}: {settings.config}", style="bold"))
    mask = masker()
    rows = [{k: mask(v) for k, v in row.items()} for row in report.rows()]
    out.print(console.checks_table(rows))
    if report.appendix:  # the people: block, ready to paste
        out.print()
        out.print(Text(report.appendix.rstrip("\n")))
        out.print()
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


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    options = StarterOptions(
        jira_url=args.jira_url,
        jira_projects=split_values(args.jira_project),
        jira_jql=args.jira_jql,
        github_repos=split_values(args.github_repo),
        github_org=args.github_org,
        github_url=args.github_url,
        github_project=args.github_project,
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
    if "github" in types or "github_project" in types:
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


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    text = json.dumps(config_schema(), indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return EXIT_OK
