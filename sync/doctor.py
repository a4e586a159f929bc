"""`goalsync doctor`: check every source and sink the config names, and say what to fix.

Per source and sink, the fewest requests that answer "would a run work?":
- Jira: `serverInfo` (reachable; Cloud or Data Center), `/myself` (the credentials are accepted;
  skipped without credentials), one search of the configured JQL with `maxResults=1` (the JQL is
  valid and this user can see issues), and one more per `jql:` select clause; rate-limit headers
  are reported when Jira sends them. 3 requests (+1 per jql clause).
- GitHub: `/rate_limit` (reachable, the token is accepted, how much of the hour's budget is
  left; GitHub does not count this call), then `/repos/{owner}/{repo}` per configured repository
  (it exists, this token sees it, issues are on) or one `/orgs/{org}/repos` page. 1 + repos.
- Google Sheets: `spreadsheets.get` with a field mask of the tab titles (the credentials are
  accepted, the sheet is shared with them, the input tabs exist). 1 request (a service account
  also exchanges its key for a token). Write access cannot be seen without writing: the check
  says whom to share the sheet with as Editor.
- Files: the source files are read and parsed (no network); file sinks: the target folder can
  be written. The state dir: writable; its last run. Alerts: the webhook variable is set.
A check is ok, warn (works, but look) or fail. Exit 0 when nothing failed, else 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import requests

from connectors.csvdir import CsvSink
from connectors.files import FileSource
from connectors.github import GitHubSource
from connectors.github_client import GitHubClient, Tally
from connectors.html import HtmlSink
from connectors.jira import JiraSource
from connectors.jira_client import JiraHttp, open_client
from connectors.jira_search import KEY_ORDER, Query, page_issues
from connectors.sheets_client import SheetsClient
from connectors.sheets_sink import SheetsSink
from connectors.sheets_source import SheetsSource
from connectors.xlsx import XlsxSink
from sync import alerts
from sync.config import LoadedConfig
from sync.contracts import PullContext, Sink, Source
from sync.errors import AuthError, ConfigError, GoalsyncError
from sync.retry import Budget
from sync.secrets import read_secret
from sync.store import Store

Status = Literal["ok", "warn", "fail"]
BUDGET_S = 8.0  # retries per target: an unreachable host fails in seconds, not minutes
JIRA_TIMEOUT = (5.0, 30.0)
GITHUB_LOW_SHARE = 0.1  # under a tenth of the hour's budget left: a warning


@dataclass(frozen=True, slots=True)
class Check:
    check: str  # "reachable", "credentials", "permissions", "rate limit", ...
    status: Status
    detail: str
    fix: str = ""


@dataclass(slots=True)
class Target:
    """One source, sink or local thing, and its checks."""

    name: str  # "source jira (jira)", "sink sheets 1XyZ", "state dir"
    checks: list[Check] = field(default_factory=list)
    requests: int = 0

    def add(self, check: str, status: Status, detail: str, fix: str = "") -> Check:
        found = Check(check, status, detail, fix)
        self.checks.append(found)
        return found

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)


@dataclass(slots=True)
class Report:
    targets: list[Target] = field(default_factory=list)

    @property
    def checks(self) -> list[Check]:
        return [c for t in self.targets for c in t.checks]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == "warn"]

    def rows(self) -> list[dict[str, str]]:
        return [
            {"target": t.name, "check": c.check, "status": c.status, "detail": c.detail,
             "fix": c.fix}
            for t in self.targets
            for c in t.checks
        ]  # fmt: skip


def config_problem(path: Path, error: ConfigError) -> Report:
    """A config that does not load: one failed check that lists its problems."""
    target = Target(f"config {path}")
    target.add("valid", "fail", str(error), "fix the lines named above, then run doctor again")
    return Report([target])


def run_doctor(
    config: LoadedConfig,
    *,
    state_dir: Path,
    test_alert: bool = False,
    post: Callable[..., requests.Response] = requests.post,
) -> Report:
    report = Report()
    report.targets.append(_config_target(config))
    for name, cfg in config.model.sources.items():
        target = Target(f"source {name} ({cfg.type})")
        report.targets.append(target)
        try:
            source = cfg.build(name, config.base_dir)
        except ConfigError as exc:
            target.add("usable", "fail", str(exc), "fix the source in goalsync.yaml")
            continue
        _check_source(config, name, source, target)
    for n, sink_cfg in enumerate(config.model.sinks):
        try:
            sink = sink_cfg.build(config.base_dir)
        except ConfigError as exc:
            target = Target(f"sink {n + 1} ({sink_cfg.type})")
            report.targets.append(target)
            target.add("usable", "fail", str(exc), "fix the sink in goalsync.yaml")
            continue
        target = Target(f"sink {_sink_name(sink)}")
        report.targets.append(target)
        _check_sink(sink, target)
    report.targets.append(_state_target(state_dir))
    if config.model.alerts is not None:
        report.targets.append(_alerts_target(config.model.alerts, test_alert, post))
    return report


def _config_target(config: LoadedConfig) -> Target:
    target = Target(f"config {config.path}")
    krs = sum(len(g.key_results) for g in config.plan.goals)
    target.add(
        "valid",
        "ok",
        f"{len(config.plan.goals)} goals, {krs} key results, {len(config.model.sources)} "
        f"sources, {len(config.model.sinks)} sinks",
    )
    return target


def _check_source(config: LoadedConfig, name: str, source: Source, target: Target) -> None:
    if isinstance(source, JiraSource):
        check_jira(source, target, clauses=config.jql_clauses(name))
    elif isinstance(source, GitHubSource):
        check_github(source, target)
    elif isinstance(source, SheetsSource):
        check_sheets(source.access, target, tabs=[title for _, title in source.tabs])
    elif isinstance(source, FileSource):
        check_file_source(config, source, target)
    else:  # a source type doctor does not know yet
        target.add("usable", "warn", "built; doctor has no further check for this type")


def _check_sink(sink: Sink, target: Target) -> None:
    if isinstance(sink, SheetsSink):
        check_sheets(sink.access, target, tabs=None)
    elif isinstance(sink, XlsxSink | HtmlSink):
        target.add("writable", *_writable(sink.path, kind="file"))
    elif isinstance(sink, CsvSink):
        target.add("writable", *_writable(sink.folder, kind="folder"))
    else:
        target.add("usable", "warn", "built; doctor has no further check for this type")


def _sink_name(sink: Sink) -> str:
    if isinstance(sink, SheetsSink):
        return sink.description
    if isinstance(sink, XlsxSink | HtmlSink):
        return f"{sink.type} {sink.path}"
    if isinstance(sink, CsvSink):
        return f"csv {sink.folder}/"
    return sink.type


# --- Jira -------------------------------------------------------------------------------------


def check_jira(source: JiraSource, target: Target, *, clauses: Sequence[str] = ()) -> None:
    cfg, auth = source.config, source.auth
    client = open_client(cfg.url, auth, JIRA_TIMEOUT)
    seen: dict[str, str] = {}

    def watch(response: Any, *args: Any, **kwargs: Any) -> None:
        for key, value in response.headers.items():
            if key.lower().startswith(("x-ratelimit", "retry-after")):
                seen[key.lower()] = value

    client._session.hooks["response"].append(watch)
    http = JiraHttp(client, source=source.name, url=cfg.url, auth=auth, budget=Budget(BUDGET_S))
    try:
        _jira_checks(http, cfg.jql, clauses, target, seen)
    finally:
        target.requests = http.requests
        client.close()  # type: ignore[no-untyped-call]  # unannotated in the library


def _jira_checks(
    http: JiraHttp, jql: str, clauses: Sequence[str], target: Target, seen: Mapping[str, str]
) -> None:
    auth = http.auth
    try:
        info = http.get("serverInfo", what="serverInfo")
    except AuthError as exc:  # it answered: with wrong credentials Jira refuses everything
        target.add("reachable", "ok", f"Jira answered at {http.url}")
        target.add("credentials", "fail", str(exc), f"check {auth.describe()}")
        return
    except GoalsyncError as exc:
        target.add("reachable", "fail", str(exc), f"check url: {http.url} (and any proxy)")
        return
    info = info if isinstance(info, Mapping) else {}
    deployment = str(info.get("deploymentType") or "Server")
    http.use_deployment(deployment)
    flavour = "Jira Cloud" if deployment == "Cloud" else f"Jira {deployment} (Data Center API)"
    target.add("reachable", "ok", f"{flavour} {info.get('version', '')} at {http.url}".strip())
    if auth.mode == "anonymous":
        target.add(
            "credentials",
            "warn",
            "no credentials are set: requests are anonymous and see public issues only",
            auth.describe(),
        )
    else:
        try:
            me = http.get("myself", what="the signed-in user")
            who = me.get("displayName") or me.get("name") if isinstance(me, Mapping) else None
            zone = me.get("timeZone") if isinstance(me, Mapping) else None
            target.add(
                "credentials",
                "ok",
                f"accepted ({' and '.join(auth.variables)}): signed in as {who or 'a user'}"
                + (f", time zone {zone}" if zone else ""),
            )
        except AuthError as exc:
            target.add("credentials", "fail", str(exc), f"check {auth.describe()}")
            return
        except GoalsyncError as exc:
            target.add("credentials", "fail", str(exc))
            return
    for label, clause in [("scope", None), *(("jql clause", c) for c in clauses)]:
        query = Query(jql, KEY_ORDER, clause=clause)
        shown = f"{jql!r}" + (f" AND {clause!r}" if clause else "")
        try:
            if http.cloud:
                page = http.search_cloud(
                    query.render(), fields=["key"], expand=None, max_results=1, token=None
                )
            else:
                page = http.search_dc(
                    query.render(), fields=["key"], expand=None, max_results=1, start_at=0
                )
        except ConfigError as exc:
            target.add(label, "fail", str(exc), "fix the JQL in goalsync.yaml")
            continue
        except AuthError as exc:
            target.add(label, "fail", str(exc), f"check {auth.describe()}")
            continue
        except GoalsyncError as exc:
            target.add(label, "fail", str(exc))
            continue
        found = page_issues(page)
        total = page.get("total")
        if not found:
            target.add(
                label,
                "warn",
                f"the JQL {shown} is accepted but matches no issue this user can see",
                "check the JQL, and that the user has the Browse projects permission",
            )
        else:
            count = f"{total} issues" if isinstance(total, int) else "issues"
            target.add(label, "ok", f"the JQL {shown} is accepted; {count} visible")
    remaining = seen.get("x-ratelimit-remaining")
    if remaining is not None:
        status: Status = "warn" if remaining.strip() in ("0", "") else "ok"
        limit = seen.get("x-ratelimit-limit", "?")
        target.add("rate limit", status, f"{remaining} of {limit} left")
    else:
        target.add(
            "rate limit",
            "ok",
            "Jira sent no rate-limit headers (it does when near the limit; goalsync then "
            "waits as Retry-After says)",
        )


# --- GitHub -----------------------------------------------------------------------------------


def check_github(source: GitHubSource, target: Target) -> None:
    settings = source.settings
    tally = Tally()
    client = GitHubClient(settings, budget=Budget(BUDGET_S), tally=tally)
    try:
        _github_checks(source, client, target)
    finally:
        target.requests = tally.count
        client.close()


def _github_checks(source: GitHubSource, client: GitHubClient, target: Target) -> None:
    settings = source.settings
    try:
        reply = client.fetch_json("/rate_limit", scope="api", what="rate limit")
    except AuthError as exc:
        target.add("reachable", "ok", f"GitHub API at {settings.base_url}")
        target.add("credentials", "fail", str(exc), f"check {settings.token_env}")
        return
    except GoalsyncError as exc:
        target.add(
            "reachable",
            "fail",
            str(exc),
            "check base_url (https://api.github.com, or https://HOST/api/v3 for Enterprise)",
        )
        return
    target.add("reachable", "ok", f"GitHub API at {settings.base_url}")
    if settings.token is None:
        target.add(
            "credentials",
            "warn",
            f"no token in {settings.token_env}: anonymous, public repositories only, 60 "
            "requests an hour",
            f"set {settings.token_env} to a fine-grained token with read access to metadata, "
            "issues and pull requests",
        )
    else:
        target.add("credentials", "ok", f"the token in {settings.token_env} is accepted")
    core = _core_limit(reply.data, reply.headers)
    if core is None:
        target.add("rate limit", "ok", "the server sent no rate limit (rate limiting is off)")
    else:
        remaining, limit, reset = core
        when = datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC") if reset else "?"
        if remaining <= 0:
            target.add(
                "rate limit",
                "fail",
                f"exhausted: 0 of {limit} left until {when}",
                "wait for the reset, or use a token of its own for goalsync",
            )
        elif limit and remaining < limit * GITHUB_LOW_SHARE:
            target.add(
                "rate limit", "warn", f"{remaining} of {limit} left this hour (resets {when})"
            )
        else:
            target.add("rate limit", "ok", f"{remaining} of {limit} left this hour")
    cfg = source.config
    for repo in dict.fromkeys(cfg.repos):
        try:
            found = client.fetch_json(f"/repos/{repo}", scope=f"repo {repo}", what="repository")
        except GoalsyncError as exc:
            target.add(f"repo {repo}", "fail", str(exc), "fix repos in goalsync.yaml or the token")
            continue
        data = found.data if isinstance(found.data, Mapping) else {}
        if data.get("has_issues") is False:
            target.add(
                f"repo {repo}",
                "fail",
                "issues are turned off: goalsync reads issues and pull requests through the "
                "issues API",
                "turn issues on, or remove the repository from repos",
            )
            continue
        visibility = "private" if data.get("private") else "public"
        permissions = data.get("permissions")
        can = (
            ", read access" if isinstance(permissions, Mapping) and permissions.get("pull") else ""
        )
        target.add(f"repo {repo}", "ok", f"visible ({visibility}{can}), issues on")
    if cfg.org:
        try:
            listed = client.fetch_json(
                f"/orgs/{cfg.org}/repos", {"per_page": 1}, scope=f"org {cfg.org}", what="repos"
            )
            rows = listed.data if isinstance(listed.data, list) else []
            detail = "repositories visible" if rows else "no repository visible to this token"
            target.add(f"org {cfg.org}", "ok" if rows else "warn", detail)
        except GoalsyncError as exc:
            target.add(f"org {cfg.org}", "fail", str(exc), "fix org in goalsync.yaml or the token")


def _core_limit(data: Any, headers: Mapping[str, str]) -> tuple[int, int, float] | None:
    core = None
    if isinstance(data, Mapping):
        resources = data.get("resources")
        if isinstance(resources, Mapping) and isinstance(resources.get("core"), Mapping):
            core = resources["core"]
        elif isinstance(data.get("rate"), Mapping):
            core = data["rate"]
    try:
        if core is not None:
            return int(core["remaining"]), int(core["limit"]), float(core.get("reset") or 0)
        if "x-ratelimit-remaining" in headers:
            return (
                int(headers["x-ratelimit-remaining"]),
                int(headers.get("x-ratelimit-limit", "0")),
                float(headers.get("x-ratelimit-reset", "0")),
            )
    except (KeyError, TypeError, ValueError):
        return None
    return None


# --- Google Sheets ----------------------------------------------------------------------------


def check_sheets(access: Any, target: Target, *, tabs: Sequence[str] | None) -> None:
    """`tabs`: the input tabs a source reads (None for a sink)."""
    client = SheetsClient(access, timeout=30.0)
    try:
        reply = client.fetch_spreadsheet(
            "properties.title,sheets.properties.title", budget=Budget(BUDGET_S)
        )
    except AuthError as exc:
        target.add("credentials", "fail", str(exc), f"share the sheet with {access.principal}")
        return
    except ConfigError as exc:
        target.add("spreadsheet", "fail", str(exc), "check spreadsheet_id")
        return
    except GoalsyncError as exc:
        target.add("reachable", "fail", str(exc), "check the network (or endpoint:)")
        return
    finally:
        target.requests = client.calls
    title = str((reply.get("properties") or {}).get("title") or access.spreadsheet_id)
    titles = [str((s.get("properties") or {}).get("title", "")) for s in reply.get("sheets") or []]
    target.add("credentials", "ok", f"opened {title!r} as {access.principal}")
    if tabs is not None:
        present = {t.casefold() for t in titles}
        missing = [t for t in tabs if t.casefold() not in present]
        if missing:
            target.add(
                "tabs",
                "fail",
                f"no tab {', '.join(repr(m) for m in missing)} (its tabs: {', '.join(titles)})",
                "add the tab with its header row, or fix the names under tabs:",
            )
        else:
            target.add("tabs", "ok", f"reads {', '.join(tabs)}")
    else:
        target.add(
            "permissions",
            "ok",
            f"readable; writing is not tested (it would change the sheet): {access.principal} "
            "must be an Editor of it",
        )


# --- local files ------------------------------------------------------------------------------


def check_file_source(config: LoadedConfig, source: FileSource, target: Target) -> None:
    ctx = PullContext(
        source=source.name,
        run_started=datetime.now(UTC),
        tz=config.tz,
        rules=config.item_rules,
    )
    try:
        result = source.fetch(ctx)
    except GoalsyncError as exc:
        target.add("readable", "fail", str(exc), "fix or replace the file")
        return
    what = [f"{len(result.items)} items"] if result.items else []
    what += [f"{len(result.metrics)} metric values"] if result.metrics else []
    what += [f"{len(result.goal_defs)} goal rows"] if result.goal_defs else []
    what += [f"{len(result.overrides)} overrides"] if result.overrides else []
    detail = f"{source.pattern}: {', '.join(what) or 'no rows'}"
    if result.warnings:
        target.add(
            "readable",
            "warn",
            f"{detail}; {len(result.warnings)} rows skipped, first: {result.warnings[0]}",
            "fix the rows named (the run's Run tab lists them all)",
        )
    else:
        target.add("readable", "ok", detail)


def _writable(path: Path, *, kind: str) -> tuple[Status, str, str]:
    """Whether a run could write `path` (a file, or a folder it fills), without writing."""
    if path.exists():
        if kind == "folder" and not path.is_dir():
            return "fail", f"{path} exists and is not a folder", "point path: at a folder"
        if kind == "file" and path.is_dir():
            return "fail", f"{path} is a folder", "point path: at a file"
        folder = path if kind == "folder" else path.parent
        if os.access(folder, os.W_OK | os.X_OK):
            return "ok", f"{path} exists and can be replaced", ""
        return "fail", f"cannot write in {folder}", f"give this user write access to {folder}"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return "fail", f"{parent} is not a folder", "fix the path"
    if os.access(parent, os.W_OK | os.X_OK):
        return "ok", f"{path} will be created (in {parent})", ""
    return "fail", f"cannot create {path}: {parent} is not writable", f"make {parent} writable"


def _state_target(state_dir: Path) -> Target:
    target = Target(f"state dir {state_dir}")
    status, detail, fix = _writable(state_dir, kind="folder")
    target.add("writable", status, detail, fix)
    store = Store(state_dir)
    if store.exists:
        try:
            runs = store.last_runs(1)
        except Exception as exc:  # sqlite3 errors: a damaged or foreign file
            target.add(
                "store",
                "fail",
                f"{store.path} cannot be read ({type(exc).__name__})",
                f"move {store.path} away: the next run pulls everything again",
            )
            return target
        if runs:
            last = runs[0]
            target.add(
                "last run", "ok", f"finished {last['finished']} with exit {last['exit_code']}"
            )
    else:
        target.add("store", "ok", "empty: the first run pulls everything")
    return target


def _alerts_target(
    config: alerts.AlertsConfig, test_alert: bool, post: Callable[..., requests.Response]
) -> Target:
    target = Target("alerts")
    url = read_secret(config.webhook_env)
    if url is None:
        target.add(
            "webhook",
            "fail",
            f"{config.webhook_env} is not set: no alert can be sent",
            f"set {config.webhook_env} to the webhook URL (a Slack incoming webhook, say)",
        )
        return target
    problem = alerts.check_url(url.get_secret_value())
    if problem:
        target.add("webhook", "fail", f"{config.webhook_env} {problem}", "use the https URL")
        return target
    target.add(
        "webhook", "ok", f"{config.webhook_env} is set; alerts on {', '.join(config.events)}"
    )
    if test_alert:
        payload = {"text": "goalsync doctor: a test alert. Alerts reach this channel."}
        result = alerts.send(config, payload, post=post)
        target.requests = 1
        if result.sent:
            target.add("test alert", "ok", "sent: look for it in the channel")
        else:
            target.add("test alert", "fail", result.reason, f"check {config.webhook_env}")
    return target
