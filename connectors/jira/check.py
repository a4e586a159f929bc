"""`goalsync doctor` for a Jira source: the fewest requests that answer "would a run work?"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from connectors.jira.client import JiraHttp, open_client
from connectors.jira.config import NATIVE_CLAUSE
from connectors.jira.search import KEY_ORDER, Query, page_issues
from connectors.jira.source import CLOCK_SKEW_WARN_S, describe_offset
from sync.base.contracts import CheckContext, CheckStatus, CheckTarget
from sync.base.errors import AuthError, ConfigError, GoalsyncError
from sync.base.retry import Budget

if TYPE_CHECKING:
    from connectors.jira.source import JiraSource

TIMEOUT = (5.0, 30.0)  # connect, read: doctor waits less than a run


def check_jira(source: JiraSource, target: CheckTarget, ctx: CheckContext) -> None:
    """serverInfo (reachable; Cloud or Data Center), /myself (the credentials are accepted;
    skipped without credentials), one search of the configured JQL with maxResults=1 (the JQL is
    valid and this user can see issues), and one more per `jql:` select clause; rate-limit
    headers are reported when Jira sends them. 3 requests (+1 per jql clause)."""
    cfg, auth = source.config, source.auth
    clauses = ctx.native_clauses.get(NATIVE_CLAUSE, ())
    client = open_client(cfg.url, auth, TIMEOUT)
    seen: dict[str, str] = {}

    def watch(response: Any, *args: Any, **kwargs: Any) -> None:
        for key, value in response.headers.items():
            if key.lower().startswith(("x-ratelimit", "retry-after")):
                seen[key.lower()] = value

    client._session.hooks["response"].append(watch)
    http = JiraHttp(client, source=source.name, url=cfg.url, auth=auth, budget=Budget(ctx.budget_s))
    try:
        _jira_checks(http, cfg.jql, clauses, target, seen)
    finally:
        target.requests = http.requests
        client.close()  # type: ignore[no-untyped-call]  # unannotated in the library


def _jira_checks(
    http: JiraHttp, jql: str, clauses: Sequence[str], target: CheckTarget, seen: Mapping[str, str]
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
        status: CheckStatus = "warn" if remaining.strip() in ("0", "") else "ok"
        limit = seen.get("x-ratelimit-limit", "?")
        target.add("rate limit", status, f"{remaining} of {limit} left")
    else:
        target.add(
            "rate limit",
            "ok",
            "Jira sent no rate-limit headers (it does when near the limit; goalsync then "
            "waits as Retry-After says)",
        )
