"""`goalsync doctor` for a GitHub source: the fewest requests that answer "would a run
work?"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors.github.client import GitHubClient, Tally
from sync.base.contracts import CheckContext, CheckTarget
from sync.base.errors import AuthError, GoalsyncError
from sync.base.retry import Budget

if TYPE_CHECKING:
    from connectors.github.source import GitHubSource

LOW_SHARE = 0.1  # under a tenth of the hour's budget left: a warning


def check_github(source: GitHubSource, target: CheckTarget, ctx: CheckContext) -> None:
    """/rate_limit (reachable, the token is accepted, how much of the hour's budget is left;
    GitHub does not count this call), then /repos/{owner}/{repo} per configured repository (it
    exists, this token sees it, issues are on) and one item of each endpoint a run reads under
    it (a token may see the repository and not its issues), or one /orgs/{org}/repos page.
    1 + 4 per repository."""
    settings = source.settings
    tally = Tally()
    client = GitHubClient(settings, budget=Budget(ctx.budget_s), tally=tally)
    try:
        _github_checks(source, client, target)
    finally:
        target.requests = tally.count
        client.close()


def _github_checks(source: GitHubSource, client: GitHubClient, target: CheckTarget) -> None:
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
        elif limit and remaining < limit * LOW_SHARE:
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


def _probe_endpoints(client: GitHubClient, repo: str, target: CheckTarget) -> bool:
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
