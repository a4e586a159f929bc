"""The one place a PyGithub client is built, and the one request goalsync sends through it.

Settings that are explicit on purpose (PyGithub's defaults differ):
- `retry=None`: no GithubRetry, no urllib3 retries (requests' default of 0 is then used), so
  attempts never multiply: a response becomes `RetriableError(retry_after=...)` here and
  `sync.base.retry.call`, goalsync's one retry layer, decides whether and how long to wait;
- `seconds_between_requests=0` and `seconds_between_writes=0`: PyGithub otherwise sleeps 0.25 s
  before every request (and 1 s between writes) in the calling thread;
- `timeout` on every request, plus a deadline for the whole response and a size cap (the
  Requester's connection is made through `sync.base.transport`), `per_page=100`, `lazy=True`
  (a `get_repo` and the objects made from it never fetch anything by themselves), `base_url`
  for GitHub Enterprise (`.../api/v3`);
- auth from the configured variable; without one, anonymous (60 requests an hour).

The list endpoints are read with the Requester's raw `requestJson`, not `PaginatedList`:
PaginatedList cannot send `If-None-Match`, does not show a page's status (a 304) or headers
(ETag, rate limit), formats `since` with `strftime("...Z")` whatever its timezone, and hands out
objects whose attributes fetch the full object per issue when touched. A Requester is not
thread-safe (it keeps one connection object whose request and response are separate calls; see
PyGithub pull request 2052, still open), so each concurrently pulled repository gets its own
client.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from github import Auth, Github, GithubException
from github.Requester import Requester
from pydantic import SecretStr

from sync.base import http_limits
from sync.base.errors import (
    AuthError,
    ConfigError,
    DeadlineExceeded,
    FatalError,
    GoalsyncError,
    ResponseTooLarge,
    RetriableError,
)
from sync.base.httperrors import BASE, Answer, ErrorTable, is_error
from sync.base.retry import Budget, call, parse_retry_after
from sync.base.transport import limit_github

DEFAULT_TIMEOUT_S = 30
PER_PAGE = 100
USER_AGENT = "goalsync"
SECONDARY_WAIT_S = 60.0  # GitHub: "wait for at least one minute", then exponentially longer
_SECONDARY_WORDS = ("secondary rate limit", "abuse detection", "please wait a few minutes")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientSettings:
    source: str  # the source's name, for messages
    base_url: str
    token: SecretStr | None
    token_env: str
    timeout_s: int = DEFAULT_TIMEOUT_S


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One answered request: the parsed JSON (None for a 304) and the lower-cased headers."""

    status: int
    url: str
    headers: Mapping[str, str]
    data: Any

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class RepoUnavailable(ConfigError):
    """The server says a configured repository (or org) cannot be read: missing (404) or its
    issues turned off (410). A scope the server rejects: exit 2."""

    def __init__(self, message: str, *, name: str, status: int, kind: str = "repo") -> None:
        super().__init__(message)
        self.name = name
        self.status = status
        self.kind = kind  # "repo" or "org"


class PagingLimit(FatalError):
    """GitHub's 422 past the depth it pages a list to (the issue events stream: "pagination is
    limited for this resource"). Where the list is history, github_fetch takes it as the end of
    what can be read; anywhere else it fails the source like any answer it cannot use."""


class Tally:
    """Requests sent by one pull, across its threads (a retried request counts each time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


def build_github(settings: ClientSettings) -> Github:
    auth = Auth.Token(settings.token.get_secret_value()) if settings.token else None
    github = Github(
        auth=auth,
        base_url=settings.base_url,
        timeout=settings.timeout_s,
        user_agent=USER_AGENT,
        per_page=PER_PAGE,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
        lazy=True,
    )
    limit_github(github.requester)
    return github


class GitHubClient:
    """GET requests against one GitHub API root, each retried by `sync.base.retry.call`."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        budget: Budget,
        tally: Tally,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._github = build_github(settings)
        self._requester: Requester = self._github.requester
        self._budget = budget
        self._tally = tally
        self._wall_clock = wall_clock
        root = urlsplit(settings.base_url)
        self._root = (root.scheme, root.hostname, root.port, root.path.rstrip("/"))

    def close(self) -> None:
        self._github.close()

    def page_key(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        """`url` (a path under the API root, or a full Link URL) + `params` as a path under the
        API root with a sorted query: what a page is known by, and what can be sent again."""
        if "://" in url:
            path = urlsplit(url).path
            query = urlsplit(url).query
            prefix = self._root[3]
            url = (path[len(prefix) :] if prefix and path.startswith(prefix) else path) + (
                f"?{query}" if query else ""
            )
        return with_query(url, params)

    def check_same_api(self, url: str) -> None:
        """A Link URL must stay on the configured API root: the Requester would send it (with
        the token) to the configured host whatever host it names."""
        parts = urlsplit(url)
        scheme, host, port, prefix = self._root
        if (parts.scheme, parts.hostname, parts.port) != (scheme, host, port) or not (
            parts.path.startswith(f"{prefix}/")
        ):
            raise FatalError(
                f"source {self.settings.source!r}: GitHub sent a next-page link outside "
                f"{self.settings.base_url}: {url[:200]}"
            )

    def fetch_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        etag: str | None = None,
        scope: str,
        what: str,
    ) -> Reply:
        """GET `url` (a path under the API root, or a full Link URL), retried within the budget.
        `scope` ("repo acme/web", "org acme") names what a 404 / 410 refers to."""
        secondary_hits = 0

        def once() -> Reply:
            nonlocal secondary_hits
            reply = self._send(url, params, etag)
            error = to_error(
                reply,
                settings=self.settings,
                scope=scope,
                secondary_hits=secondary_hits,
                now=self._wall_clock(),
            )
            if error is None:
                return reply
            if isinstance(error, RepoUnavailable) and error.status == 404:
                error = self._which_404(url, error)
            if isinstance(error, RetriableError) and _is_secondary(reply):
                secondary_hits += 1
            raise error

        return call(once, budget=self._budget, what=what)

    def _which_404(self, url: str, error: RepoUnavailable) -> GoalsyncError:
        """A 404 from an endpoint under a repository (its milestones, its issue events) says
        nothing about the repository itself: GitHub answers 404 for a repository this token
        cannot see, but also for an endpoint a server lacks or a permission the token lacks.
        One request for the repository tells them apart; only on this error path."""
        endpoint = self.page_key(url).partition("?")[0]
        repo_path = f"/repos/{error.name}"
        if endpoint == repo_path or error.kind != "repo":
            return error
        try:
            probe = self._send(repo_path, None, None)
        except GoalsyncError:
            return error
        if probe.status != 200:
            return RepoUnavailable(
                f"{error}; GET {endpoint} answered 404 and so does GET {repo_path}",
                name=error.name,
                status=404,
            )
        return FatalError(
            f"source {self.settings.source!r}: GET {endpoint} answered 404, yet the repository "
            f"{error.name} exists and the token in {self.settings.token_env} sees it: the token "
            "lacks a permission goalsync needs (read access to issues and pull requests), or "
            f"this server has no such endpoint (an old GitHub Enterprise?); run goalsync doctor"
        )

    def _send(self, url: str, params: Mapping[str, Any] | None, etag: str | None) -> Reply:
        headers = {"Accept": "application/vnd.github+json"}
        if etag:
            headers["If-None-Match"] = etag
        self._tally.add()
        try:
            status, raw_headers, body = self._requester.requestJson(
                "GET", url, parameters=dict(params or {}), headers=headers
            )
        except requests.exceptions.RequestException as exc:
            raise to_transport_error(exc, self.settings) from None
        except (DeadlineExceeded, ResponseTooLarge) as exc:
            raise http_limits.for_source(exc, f"source {self.settings.source!r}") from None
        except GithubException as exc:  # not raised by requestJson today; kept at the boundary
            raise FatalError(
                f"source {self.settings.source!r}: GitHub answered {exc.status}"
            ) from None
        except RuntimeError as exc:  # PyGithub refuses a redirect to another host or scheme
            raise FatalError(f"source {self.settings.source!r}: {exc}") from None
        lowered = {str(k).lower(): str(v) for k, v in raw_headers.items()}
        return Reply(
            status=status,
            url=url,
            headers=lowered,
            data=parse_body(status, lowered, body, self.settings),
        )


def with_query(url: str, params: Mapping[str, Any] | None) -> str:
    """`url` with `params` merged into its query, sorted: one spelling per page (the Requester
    sends a URL's own query unchanged apart from this merge)."""
    path, _, query = url.partition("?")
    merged = dict(parse_qsl(query, keep_blank_values=True))
    merged.update(
        {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (params or {}).items()}
    )
    return f"{path}?{urlencode(sorted(merged.items()))}" if merged else path


def parse_body(status: int, headers: Mapping[str, str], body: str, settings: ClientSettings) -> Any:
    """JSON, or a clear error: an HTML page (a proxy, a login page, a base_url without /api/v3)
    is not an answer of the API."""
    if status == 304 or not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        if status >= 500 or status in (403, 429):
            return None  # the status says what happened; to_error decides
        kind = headers.get("content-type", "unknown content").split(";")[0]
        raise FatalError(
            f"source {settings.source!r}: {settings.base_url} answered {status} with {kind}, "
            "not JSON: is base_url the API root (https://api.github.com, or "
            "https://HOST/api/v3 for GitHub Enterprise)?"
        ) from None


def to_transport_error(exc: requests.exceptions.RequestException, s: ClientSettings) -> Exception:
    if isinstance(
        exc,
        requests.exceptions.Timeout
        | requests.exceptions.ConnectionError
        | requests.exceptions.ChunkedEncodingError,
    ):
        kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "connection failed"
        return RetriableError(f"source {s.source!r}: GitHub request {kind} ({type(exc).__name__})")
    return FatalError(f"source {s.source!r}: GitHub request failed: {type(exc).__name__}")


def to_error(
    reply: Reply,
    *,
    settings: ClientSettings,
    scope: str,
    secondary_hits: int,
    now: float,
) -> GoalsyncError | None:
    """What an answer means for goalsync (None: use it). Pure: decides from status and headers,
    by the shared table (`sync.base.httperrors`) with GitHub's rules in front.

    Rate limits, as GitHub documents them: a 403 or 429 with `Retry-After` waits that long; with
    `x-ratelimit-remaining: 0` (the primary limit) until `x-ratelimit-reset` (epoch seconds);
    else a secondary limit waits 60 s, then twice as long each time. Whether the wait fits the
    budget is `sync.base.retry.call`'s decision (if not, the source goes stale)."""
    if not is_error(reply.status):
        return None
    answer = Answer(
        status=reply.status,
        where=f"source {settings.source!r}: GitHub answered {reply.status}",
        message=_message(reply.data),
        context=f"{scope}, {reply.url[:160]}",
        check=settings.token_env,
        retry_after=parse_retry_after(reply.headers.get("retry-after")),
    )
    return GITHUB_ERRORS.error(answer, _Asked(reply, settings, scope, secondary_hits, now))


@dataclass(frozen=True, slots=True)
class _Asked:
    """What GitHub's own rules know of the request beyond the answer."""

    reply: Reply
    settings: ClientSettings
    scope: str  # "repo acme/web", "org acme", "issue acme/web#3"
    secondary_hits: int
    now: float

    @property
    def name(self) -> str:
        return f"source {self.settings.source!r}"

    def detail(self, answer: Answer) -> str:
        return f"{answer.status}{': ' + answer.message if answer.message else ''}"


def _rate_limited(answer: Answer, asked: _Asked) -> GoalsyncError | None:
    waited = _rate_limit_wait(asked.reply, asked.secondary_hits, asked.now)
    if waited is None:
        return None
    wait_s, why = waited
    return RetriableError(f"{asked.name}: GitHub {why} ({asked.scope})", retry_after=wait_s)


def _token_refused(answer: Answer, asked: _Asked) -> GoalsyncError:
    env, detail = asked.settings.token_env, asked.detail(answer)
    if asked.settings.token is None:
        return AuthError(
            f"{asked.name}: GitHub requires a token ({detail}): set {env} to a token with read "
            "access to metadata, issues and pull requests"
        )
    return AuthError(
        f"{asked.name}: GitHub rejected the token in {env} ({detail}): check that {env} holds a "
        "valid, unexpired token"
    )


def _access_refused(answer: Answer, asked: _Asked) -> GoalsyncError:
    return AuthError(
        f"{asked.name}: GitHub refused access to {asked.scope} ({asked.detail(answer)}): the "
        f"token in {asked.settings.token_env} needs read access to metadata, issues and pull "
        "requests (and SSO authorisation where the organisation requires it)"
    )


def _scope_missing(answer: Answer, asked: _Asked) -> GoalsyncError | None:
    kind, _, target = asked.scope.partition(" ")
    if answer.status == 404 and kind in ("repo", "org"):
        what = "repository" if kind == "repo" else "organisation"
        key = "repos" if kind == "repo" else "org"
        return RepoUnavailable(
            f"{asked.name}: GitHub {what} {target} not found (404), or the token in "
            f"{asked.settings.token_env} cannot see it: check {key} in the config",
            name=target,
            status=404,
            kind=kind,
        )
    if answer.status == 410 and kind == "repo":
        return RepoUnavailable(
            f"{asked.name}: repository {target} has issues turned off (410 Gone): goalsync reads "
            "issues and pull requests through the issues API; remove it from repos or turn "
            "issues on",
            name=target,
            status=410,
        )
    return None


def _paging_limit(answer: Answer, asked: _Asked) -> GoalsyncError | None:
    if "pagination is limited" not in answer.message.lower():
        return None
    return PagingLimit(
        f"{asked.name}: GitHub pages no deeper ({asked.detail(answer)}; {asked.scope}, "
        f"{asked.reply.url[:160]})"
    )


# GitHub beyond the shared table: a 403 or 429 may be a rate limit (a wait, not a refusal), a 404
# or 410 names a configured repository or org (a scope the server rejects: exit 2), and a 422 may
# be the depth the events stream is paged to (the end of what can be read there).
GITHUB_ERRORS: ErrorTable[_Asked] = BASE.extend(
    {
        401: _token_refused,
        403: (_rate_limited, _access_refused),
        429: _rate_limited,
        404: _scope_missing,
        410: _scope_missing,
        422: _paging_limit,
    }
)


def _rate_limit_wait(reply: Reply, secondary_hits: int, now: float) -> tuple[float, str] | None:
    headers = reply.headers
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is not None:
        return retry_after, f"rate limit: Retry-After {retry_after:.0f} s"
    primary = _message(reply.data).lower().startswith("api rate limit exceeded")
    if headers.get("x-ratelimit-remaining") == "0" or primary:
        reset = _epoch(headers.get("x-ratelimit-reset"))
        wait_s = max(0.0, reset - now) + 1.0 if reset is not None else SECONDARY_WAIT_S
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(reset)) if reset else "unknown"
        return wait_s, f"rate limit exhausted until {when} (x-ratelimit-reset)"
    if _is_secondary(reply):
        wait_s = SECONDARY_WAIT_S * 2**secondary_hits
        return wait_s, f"secondary rate limit: waiting {wait_s:.0f} s"
    return None


def _is_secondary(reply: Reply) -> bool:
    """A secondary limit: a 429, or a 403 whose message says so (not the primary limit, whose
    remaining count is 0, and not a permission problem)."""
    if reply.status not in (403, 429) or reply.headers.get("x-ratelimit-remaining") == "0":
        return False
    if reply.status == 429 or "retry-after" in reply.headers:
        return True
    text = _message(reply.data).lower()
    return any(words in text for words in _SECONDARY_WORDS)


def _epoch(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    if seconds is not None and seconds > 1e11:  # recorded fixtures carry milliseconds
        seconds /= 1000
    return seconds


def _message(data: Any) -> str:
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        return str(data["message"])[:200]
    return ""
