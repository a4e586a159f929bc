"""`goalsync doctor`'s checks of the outside systems: the fewest requests per source or sink
that answer "would a run work?" (see sync/doctor.py for the list and the request counts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.github.client import GitHubClient, Tally
from connectors.github.source import GitHubSource
from connectors.jira.client import JiraHttp, open_client
from connectors.jira.search import KEY_ORDER, Query, page_issues
from connectors.jira.source import CLOCK_SKEW_WARN_S, JiraSource, describe_offset
from connectors.sheets.client import SheetsClient
from sync.base.errors import AuthError, ConfigError, GoalsyncError
from sync.base.retry import Budget
from sync.doctor_model import BUDGET_S, GITHUB_LOW_SHARE, JIRA_TIMEOUT, Status, Target


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
    offset = http.clock_offset_s
    if offset is not None and abs(offset) > CLOCK_SKEW_WARN_S:
        target.add(
            "clock",
            "warn",
            f"this machine's clock is {describe_offset(offset)} (from its Date header); runs "
            "allow for it",
            "synchronise this machine's clock (NTP)",
        )
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
        failed = _probe_endpoints(client, repo, target)
        if not failed:
            read = ", ".join(what for what, _, _ in RUN_ENDPOINTS)
            target.add(f"repo {repo}", "ok", f"visible ({visibility}{can}), issues on; {read} read")
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


# What a run reads of each repository (connectors/github/fetch.py): one page of each, smallest.
RUN_ENDPOINTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("issues", "issues", {"state": "all", "per_page": 1}),
    ("issue events", "issues/events", {"per_page": 1}),
    ("milestones", "milestones", {"state": "all", "per_page": 1}),
)


def _probe_endpoints(client: GitHubClient, repo: str, target: Target) -> bool:
    """GET every endpoint a run reads under the repository, one item each: a 404 from one of
    them (a token without a permission, an Enterprise server without the endpoint) fails the
    run as surely as a missing repository. True when one failed (its check names it)."""
    failed = False
    for what, tail, params in RUN_ENDPOINTS:
        path = f"/repos/{repo}/{tail}"
        try:
            client.fetch_json(path, params, scope=f"repo {repo}", what=what)
        except GoalsyncError as exc:
            target.add(
                f"repo {repo} {what}",
                "fail",
                str(exc),
                f"give the token in {client.settings.token_env} read access to issues and pull "
                "requests of this repository (a fine-grained token: Issues and Pull requests: "
                "Read), or remove it from repos",
            )
            failed = True
    return failed


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
