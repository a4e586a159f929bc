"""`goalsync doctor`: check every source and sink the config names, and say what to fix.

Per source and sink, the fewest requests that answer "would a run work?"; each connector
checks its own system (the `check` method of what its config builds: connectors/*/check.py):
- Jira: `serverInfo` (reachable; Cloud or Data Center), `/myself` (the credentials are accepted;
  skipped without credentials), one search of the configured JQL with `maxResults=1` (the JQL is
  valid and this user can see issues), and one more per `jql:` select clause; rate-limit headers
  are reported when Jira sends them. 3 requests (+1 per jql clause).
- GitHub: `/rate_limit` (reachable, the token is accepted, how much of the hour's budget is
  left; GitHub does not count this call), then `/repos/{owner}/{repo}` per configured repository
  (it exists, this token sees it, issues are on) and one item of each endpoint a run reads under
  it (`issues`, `issues/events`, `milestones`: a token may see the repository and not its
  issues), or one `/orgs/{org}/repos` page. 1 + 4 per repository.
- Google Sheets: `spreadsheets.get` with a field mask of the tab titles (the credentials are
  accepted, the sheet is shared with them, the input tabs exist). 1 request (a service account
  also exchanges its key for a token). Write access cannot be seen without writing: the check
  says whom to share the sheet with as Editor.
- Files: the source files are read and parsed (no network); file sinks: the target folder can
  be written. The state dir: writable; its last run. Alerts: the webhook variable is set.
A check is ok, warn (works, but look) or fail. Exit 0 when nothing failed, else 1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests

from sync import alerts, doctor_model, explain
from sync.base.contracts import Checkable, CheckContext, describe, writable
from sync.base.errors import ConfigError
from sync.base.secrets import read_secret
from sync.config import LoadedConfig
from sync.doctor_model import Report, Target
from sync.store import Store


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
            target.add("usable", "fail", str(exc), _fix(exc, "fix the source in goalsync.yaml"))
            continue
        check_built(source, target, check_context(config, name))
    for n, sink_cfg in enumerate(config.model.sinks):
        try:
            sink = sink_cfg.build(config.base_dir)
        except ConfigError as exc:
            target = Target(f"sink {n + 1} ({sink_cfg.type})")
            report.targets.append(target)
            target.add("usable", "fail", str(exc), _fix(exc, "fix the sink in goalsync.yaml"))
            continue
        target = Target(f"sink {describe(sink)}")
        report.targets.append(target)
        check_built(sink, target, check_context(config, None))
    report.targets.append(_state_target(state_dir))
    report.targets.append(_items_target(config, state_dir, report))
    if config.model.alerts is not None:
        report.targets.append(_alerts_target(config.model.alerts, test_alert, post))
    elif test_alert:
        # Asked for a test alert that cannot be sent: a failure, not "all checks passed".
        target = Target("alerts")
        target.add(
            "test alert",
            "fail",
            f"no alerts: block in {config.path}: there is no webhook to send a test alert to",
            "add alerts: {webhook_env: GOALSYNC_WEBHOOK_URL} to the config and set that "
            "variable to the webhook URL (a Slack incoming webhook, say)",
        )
        report.targets.append(target)
    return report


def _fix(error: ConfigError, default: str) -> str:
    """What to fix: the error's own word when it has one (a variable of the environment that
    names a missing file is not fixed in goalsync.yaml)."""
    fix = getattr(error, "fix", None)
    return fix if isinstance(fix, str) and fix else default


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


def _state_target(state_dir: Path) -> Target:
    target = Target(f"state dir {state_dir}")
    status, detail, fix = writable(state_dir, kind="folder")
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


def _items_target(config: LoadedConfig, state_dir: Path, report: Report) -> Target:
    """The plan against the items of the last run (no request): every select clause that
    matches nothing, with its did-you-mean, and the people: entries one person's spellings
    need. A typo passes validate; only the items can show it."""
    target = Target("plan against the stored items")
    try:
        records, matches = explain.stored_records(config, Store(state_dir))
    except Exception as exc:  # sqlite3 errors: the state dir check above says what to do
        target.add("clauses", "warn", f"cannot read the stored items ({type(exc).__name__})")
        return target
    if not records.items:
        target.add("clauses", "ok", "not checked yet: no items in the state dir (after a run, "
                   "doctor checks that every select clause matches some)")  # fmt: skip
        return target
    found = explain.explain(config, records, matches)
    for where, check in found.unmatched:
        target.add(
            where,
            "warn",
            check.message(),
            f"correct the clause in {config.path} (goalsync explain {where.split()[0]} shows "
            "what each clause matches)",
        )
    if not found.unmatched:
        clauses = sum(len(k.clauses) for k in found.key_results)
        target.add("clauses", "ok", f"all {clauses} select clauses match items ({found.items} "
                   "items in the state dir)")  # fmt: skip
    if found.people:
        same = "; ".join(f"{p.name} = {', '.join(p.aliases)}" for p in found.people)
        target.add(
            "people",
            "warn",
            f"one person under several names (two rows in Workload): {same}",
            "paste the people: block printed below into the config",
        )
        report.appendix = found.people_yaml
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


def check_context(config: LoadedConfig, source: str | None) -> CheckContext:
    """What a connector's own check (connectors/*/check.py) needs: for a source (by name) or a
    sink (None)."""
    return CheckContext(
        budget_s=doctor_model.BUDGET_S,  # read now: a test shortens it
        tz=config.tz,
        rules=config.item_rules,
        native_clauses=config.native_clauses(source) if source is not None else {},
    )


def check_built(built: object, target: Target, ctx: CheckContext) -> None:
    if isinstance(built, Checkable):
        built.check(target, ctx)
    else:  # a connector that brings no checks of its own
        target.add("usable", "warn", "built; doctor has no further check for this type")
