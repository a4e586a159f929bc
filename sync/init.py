"""`goalsync init`: a commented starter goalsync.yaml from a few flags, which validates as written.

The file names the sources and sinks the flags give, a cycle (this calendar quarter unless told),
and one goal whose key results select everything each source pulls, so `validate`, `doctor`,
`plan` and `run` all work before anyone edits a goal; the comments say what to change. It is
rendered, checked by the same loader `validate` uses (in a temporary file beside the target, so
relative paths mean the same), and only then renamed into place. An existing file is left alone
unless `--force`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pydantic import ValidationError

import connectors
from sync.base.errors import ConfigError
from sync.config import LoadedConfig, load_config
from sync.schema import config_schema

SCHEMA_FILE = "goalsync.schema.json"
_KEY = re.compile(r"^[A-Z][A-Z0-9_]+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class StarterOptions:
    jira_url: str | None = None
    jira_projects: tuple[str, ...] = ()
    jira_jql: str | None = None
    github_repos: tuple[str, ...] = ()
    github_org: str | None = None
    github_url: str | None = None
    github_project: str | None = None  # a Projects (v2) board: "owner/number"
    sheet_id: str | None = None  # the status sheet (a sink)
    plan_sheet_id: str | None = None  # a sheet with Goals / Metrics / Overrides tabs (a source)
    sheets_endpoint: str | None = None  # a local Sheets-compatible server (tests, air-gapped)
    html: str | None = None  # an html page to write too
    timezone: str = "UTC"
    cycle_start: date | None = None
    cycle_due: date | None = None
    owner: str = "Your Name"
    today: date = field(default_factory=date.today)


@dataclass(frozen=True, slots=True)
class Written:
    config: LoadedConfig
    schema: Path | None  # the schema file written beside it, if it was


def quarter(today: date) -> tuple[date, date]:
    """The calendar quarter `today` is in: its first and last day."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    if first_month == 10:
        return start, date(today.year, 12, 31)
    return start, date(today.year, first_month + 3, 1) - timedelta(days=1)


def _q(text: str) -> str:
    """A YAML scalar: JSON's double-quoted strings are valid YAML and need no thinking."""
    return json.dumps(text, ensure_ascii=False)


def render(o: StarterOptions) -> str:
    if not (o.jira_url or o.github_repos or o.github_org or o.github_project or o.plan_sheet_id):
        raise ConfigError(
            "goalsync init needs at least one source: --jira-url, --github-repo (or "
            "--github-org), --github-project, or --plan-sheet-id"
        )
    for project in o.jira_projects:
        if not _KEY.match(project):
            raise ConfigError(f"--jira-project {project!r} is not a Jira project key (like PAY)")
    start, due = quarter(o.today)
    start, due = o.cycle_start or start, o.cycle_due or due
    lines = [
        f"# yaml-language-server: $schema=./{SCHEMA_FILE}",
        "# goalsync.yaml, written by `goalsync init`. Goals and their mapping onto work live here,",
        "# in git. Next: edit the goals at the end, then",
        "#   goalsync validate && goalsync doctor && goalsync plan && goalsync run",
        "# Every key is in the README's configuration reference; unknown keys are errors.",
        "version: 1",
        f"timezone: {_q(o.timezone)}                # how dates are read and shown (IANA name)",
        f"cycle: {{start: {start}, due: {due}}}   # the default start and due of every goal",
        "",
        "sources:                         # name -> source; select clauses below refer to names",
    ]
    selects: list[tuple[str, str, str]] = []  # (source name, key result title, clause)
    if o.jira_url:
        if o.jira_jql:
            jql = o.jira_jql
        elif o.jira_projects:
            jql = f"project in ({', '.join(o.jira_projects)})"
        else:
            jql = "updated >= -90d"
        lines += [
            "  jira:",
            "    type: jira",
            f"    url: {_q(o.jira_url)}",
            f"    jql: {_q(jql)}   # the scope: what is pulled",
            "    # Credentials from the environment: JIRA_EMAIL + JIRA_API_TOKEN (Cloud: an API",
            "    # token from id.atlassian.com), or JIRA_PAT (Data Center: a personal access",
            "    # token). Story points are found by name; else set points_field: customfield_N.",
        ]
        selects.append(("jira", "Jira work in scope done", "{source: jira}"))
    if o.github_repos or o.github_org:
        lines += ["  gh:", "    type: github"]
        if o.github_repos:
            lines.append(f"    repos: [{', '.join(_q(r) for r in o.github_repos)}]")
        if o.github_org:
            lines.append(f"    org: {_q(o.github_org)}   # every repository of the org")
        if o.github_url:
            lines.append(f"    base_url: {_q(o.github_url)}   # GitHub Enterprise: .../api/v3")
        lines += [
            "    # Credentials: GITHUB_TOKEN, a fine-grained token with read access to metadata,",
            "    # issues and pull requests of these repositories (token_env: to rename it).",
        ]
        selects.append(("gh", "GitHub issues and pull requests done", "{source: gh}"))
    if o.github_project:
        lines += _board_lines(o.github_project, o.github_url)
        selects.append(("board", "Board items done", "{source: board}"))
    if o.plan_sheet_id:
        lines += [
            "  plan:",
            "    type: sheets",
            f"    spreadsheet_id: {_q(_sheet_id(o.plan_sheet_id))}",
            "    tabs: {goals: Goals, metrics: Metrics, overrides: Overrides}",
            "    # Leadership's tabs, found by their header rows: Goals (id, title, owner, start,",
            "    # due, target, parent), Metrics (name, date, value), Overrides (id, status,",
            "    # reason, until). Leave out a tab you do not keep; add tasks: Tasks for a team",
            "    # that plans in the sheet.",
        ]
        if o.sheets_endpoint:
            lines.append(f"    endpoint: {_q(o.sheets_endpoint)}")
    lines += ["", "sinks:                           # where the status is published (one or more)"]
    if o.sheet_id:
        lines += [
            "  - type: sheets                 # goalsync owns the tabs Status, Risks, Items,",
            f"    spreadsheet_id: {_q(_sheet_id(o.sheet_id))}"
            "   # Unaligned, Workload, History and Run",
            "    # Credentials: GOOGLE_APPLICATION_CREDENTIALS, the path of a service account key",
            "    # (JSON); share the sheet with the account's e-mail as Editor.",
        ]
        if o.sheets_endpoint:
            lines.append(f"    endpoint: {_q(o.sheets_endpoint)}")
    html = o.html or (None if o.sheet_id else "out/status.html")
    if html:
        lines += [
            f"  - {{type: html, path: {_q(html)}}}   # one static page; relative to this file",
        ]
    lines += [
        "",
        "status:                          # when a key result is at risk; defaults shown",
        "  at_risk_gap: 10                # points of progress behind expected",
        "  off_track_gap: 25",
        "",
        "# alerts:                        # a Slack-compatible webhook told of status changes and",
        "#   webhook_env: GOALSYNC_WEBHOOK_URL   # failed runs; the URL is read from this variable",
        "",
        "goals:                           # replace this goal with yours, and add more",
        "  - id: G1",
        "    title: Replace with your first goal",
        f"    owner: {_q(o.owner)}",
        "    key_results:",
    ]
    for n, (_, title, clause) in enumerate(selects, start=1):
        lines += [
            f"      - id: G1.{n}",
            f"        title: {_q(title)}",
            "        measure: percent_done    # done / all selected items; see Measures",
            "        select:                  # an item counts if any clause matches it",
            f"          - {clause}   # narrow it: labels, parent (an epic), repo, milestone",
        ]
    if not selects:  # a plan sheet only: a key result measured from the Metrics tab
        lines += [
            "      - id: G1.1",
            "        title: A number from the Metrics tab",
            "        measure: metric",
            "        metric: revenue          # a name in the Metrics tab's name column",
            "        target: 100",
        ]
    return "\n".join(lines) + "\n"


def _board_lines(board: str, base_url: str | None) -> list[str]:
    """The `board:` source of `--github-project owner/number` (the board's URL says both:
    github.com/orgs/OWNER/projects/NUMBER)."""
    owner, _, number = board.strip().partition("/")
    if not owner or not number.isdigit():
        raise ConfigError(
            f"--github-project {board!r} is not owner/number (github.com/orgs/acme/projects/7 "
            "is acme/7)"
        )
    lines = [
        "  board:",
        "    type: github_project         # a GitHub Projects (v2) board, read with GraphQL",
        f"    owner: {_q(owner)}   # the org or user the board belongs to",
        f"    number: {int(number)}",
    ]
    if base_url:
        lines.append(f"    base_url: {_q(base_url)}   # GitHub Enterprise: .../api/v3")
    lines += [
        "    status_field: Status         # the column: done_values done, in_progress_values",
        "    done_values: [Done]          # in progress, anything else to do",
        '    in_progress_values: ["In Progress"]',
        "    # points_field: Estimate     # a number field; goal_field: a field naming key results",
        "    # Credentials: GITHUB_TOKEN, a classic token with read:project (and repo for private",
        "    # repositories) or a fine-grained one with Projects read access.",
    ]
    return lines


def _sheet_id(text: str) -> str:
    """The id of a pasted sheet URL (as the sheets sink's config reads it); anything else as
    given (validation then names it)."""
    model = connectors.sinks()["sheets"].config
    try:
        entry = model.model_validate({"type": "sheets", "spreadsheet_id": text})
    except ValidationError:
        return text
    return str(entry.model_dump()["spreadsheet_id"])


def write_starter(
    path: Path, options: StarterOptions, *, force: bool = False, schema: bool = True
) -> Written:
    """Render, validate in a temporary file beside `path`, then rename into place. Raises
    ConfigError (nothing written) when the file exists without `force`, or the result would
    not validate."""
    if path.exists() and not force:
        raise ConfigError(f"{path} exists already; pass --force to overwrite it")
    text = render(options)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".yaml", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            load_config(tmp)
        except ConfigError as exc:
            raise ConfigError(
                f"the starter config from these flags does not validate; nothing written:\n"
                f"{str(exc).replace(str(tmp), str(path))}"
            ) from None
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    loaded = load_config(path)
    written_schema = _write_schema(folder / SCHEMA_FILE, force) if schema else None
    return Written(loaded, written_schema)


def _write_schema(path: Path, force: bool) -> Path | None:
    text = json.dumps(config_schema(), indent=2) + "\n"
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            return path
        if not force:
            return None  # someone's own file, or an older one: left as it is
    path.write_text(text, encoding="utf-8")
    return path


def split_values(values: Sequence[str] | None) -> tuple[str, ...]:
    """Repeatable flags that may also hold comma-separated values: `--x a,b --x c`."""
    out: list[str] = []
    for value in values or ():
        out += [v.strip() for v in value.split(",") if v.strip()]
    return tuple(dict.fromkeys(out))
