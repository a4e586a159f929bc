"""The one place a `jira.JIRA` client is built, and every request it makes.

Settings made explicit, each for a reason:
- `max_retries=0`: the library's ResilientSession otherwise sleeps and retries 429/503 itself,
  under goalsync's retry layer (`sync.base.retry.call`), so attempts would multiply;
- `timeout=(connect, read)` on every request: the library's default is none (a hung proxy would
  hang the run); the session's adapter (`sync.base.transport`) adds a deadline for the whole
  response and a size cap;
- `get_server_info=False`: the constructor would otherwise GET serverInfo (and the library's
  `server_info()` silently repeats it up to 3 times on an empty answer, JRA-59676); goalsync asks
  for serverInfo itself, once, and counts it;
- `logging=False`: the library logs response bodies (and, at debug level, headers) through the
  stdlib logger, which goalsync's redaction never sees;
- the library's lazy `/field` cache (it translates JQL names in `fields=` on the first search) is
  filled with our own field ids, which need no translation, so no uncounted GET /field is made.

Every call goes through `JiraHttp`, which counts attempts and turns the library's exceptions
(`JIRAError`, requests' exceptions, JSON errors from HTML pages) into goalsync's error types at
this boundary: 401/403 -> AuthError naming the variables to check, a rejected JQL (400) ->
ConfigError quoting Jira, 429/5xx/timeouts -> RetriableError honouring Retry-After or
X-RateLimit-Reset (an ISO date on Jira, not epoch seconds). `str(JIRAError)` is never used: it
carries response headers.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import requests
import structlog
from jira import JIRA, JIRAError
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
from sync.base.httperrors import BASE, Answer, ErrorTable
from sync.base.retry import Budget, call, http_date, parse_retry_after
from sync.base.secrets import read_secret
from sync.base.transport import limit_session

log = structlog.get_logger(__name__)
T = TypeVar("T")

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)  # connect, read (seconds)
CLOUD_TOKEN_ENV = "JIRA_API_TOKEN"  # noqa: S105 (the name of a variable, not a secret)
PAT_ENV = "JIRA_PAT"
_MESSAGE_MAX = 300


@dataclass(frozen=True, slots=True)
class JiraAuth:
    """How requests authenticate, and which variables a person should check when Jira says no."""

    mode: Literal["basic", "bearer", "anonymous"]
    variables: tuple[str, ...]
    user: SecretStr | None = None
    token: SecretStr | None = None

    def describe(self) -> str:
        if self.mode == "anonymous":
            return (
                f"no credentials were set: set {self.variables[0]} and {self.variables[1]} "
                f"(Jira Cloud) or {self.variables[2]} (Data Center)"
            )
        return " and ".join(self.variables)


def resolve_auth(url: str, email_env: str, token_env: str | None, *, source: str) -> JiraAuth:
    """Read the secrets from the environment (the only place they are read). Cloud uses email +
    API token (basic auth), Data Center a personal access token (bearer). Nothing set means
    anonymous requests, which public Jira sites answer, with a warning."""
    email = read_secret(email_env)
    if token_env is not None:
        token = read_secret(token_env)
        if token is not None:
            if email is not None:
                return JiraAuth("basic", (email_env, token_env), email, token)
            return JiraAuth("bearer", (token_env,), None, token)
        anonymous = JiraAuth("anonymous", (email_env, token_env, token_env))
    else:
        api_token = read_secret(CLOUD_TOKEN_ENV)
        pat = read_secret(PAT_ENV)
        cloud_host = (urlsplit(url).hostname or "").endswith(".atlassian.net")
        if email is not None and api_token is not None and (cloud_host or pat is None):
            return JiraAuth("basic", (email_env, CLOUD_TOKEN_ENV), email, api_token)
        if pat is not None:
            return JiraAuth("bearer", (PAT_ENV,), None, pat)
        anonymous = JiraAuth("anonymous", (email_env, CLOUD_TOKEN_ENV, PAT_ENV))
    log.warning(
        "jira_anonymous",
        source=source,
        reason=anonymous.describe(),
        effect="requests are sent without credentials; only public issues are visible",
    )
    return anonymous


def open_client(url: str, auth: JiraAuth, timeout: tuple[float, float]) -> JIRA:
    """A client that makes no request of its own while it is built."""
    basic = None
    bearer = None
    if auth.mode == "basic" and auth.user is not None and auth.token is not None:
        basic = (auth.user.get_secret_value(), auth.token.get_secret_value())
    elif auth.mode == "bearer" and auth.token is not None:
        bearer = auth.token.get_secret_value()
    client = JIRA(
        server=url,
        options={"check_update": False, "rest_api_version": "2"},
        basic_auth=basic,
        token_auth=bearer,
        get_server_info=False,
        max_retries=0,
        timeout=timeout,
        logging=False,
    )
    limit_session(client._session)
    return client


class WrongFlavour(FatalError):
    """A search endpoint answered 404/410: the site is not the deployment the state says (a
    migration to Cloud, where the old `/search` answers 410). The source re-detects it."""


class NotFound(FatalError):
    """404 on a resource (an issue deleted, or made invisible, since the search listed it)."""


class JiraHttp:
    """Counted, retried and translated calls on one client, for one pull."""

    def __init__(
        self,
        client: JIRA,
        *,
        source: str,
        url: str,
        auth: JiraAuth,
        budget: Budget,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.source = source
        self.url = url.rstrip("/")
        self.auth = auth
        self.budget = budget
        self.requests = 0
        self._counting = threading.Lock()  # sliced searches call from several threads
        self.cloud = False
        self.clock = clock
        # Jira's clock minus this machine's, in seconds, from the latest answer's Date header
        # (None until an answer carried one): Jira reads relative JQL dates on its own clock.
        self.clock_offset_s: float | None = None
        self._login_failed = False
        client._session.hooks["response"].append(self._watch_login)
        client._session.hooks["response"].append(self._watch_clock)

    def use_deployment(self, deployment: str) -> None:
        """Tell the library which flavour this is (serverInfo was asked by us, not by it):
        `enhanced_search_issues` returns None unless it believes the site is Cloud."""
        self.cloud = deployment == "Cloud"
        self.client.deploymentType = deployment
        self.client._options["rest_api_version"] = "3" if self.cloud else "2"

    # --- endpoints -------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, what: str) -> Any:
        return self._call(what, lambda: self._json(self._session_get(path, params)))

    def post(self, path: str, body: Mapping[str, Any], *, what: str) -> Any:
        return self._call(what, lambda: self._json(self._session_post(path, body)))

    def search_cloud(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        expand: str | None,
        max_results: int,
        token: str | None,
    ) -> Mapping[str, Any]:
        """One page of GET /rest/api/3/search/jql."""

        def once() -> Any:
            self._known_fields(fields)
            page = self.client.enhanced_search_issues(
                jql,
                nextPageToken=token,
                maxResults=max_results,
                fields=list(fields),
                expand=expand,
                json_result=True,
            )
            if page is None:  # the library's answer off Cloud: never read it as "0 issues"
                raise FatalError(
                    f"source {self.source!r}: the Jira client refused the Cloud search "
                    "(it does not take the site for Cloud)"
                )
            return page

        return _mapping(self._call("search", once, search=jql), "a search page")

    def approximate_count(self, jql: str) -> int | None:
        """`POST /rest/api/3/search/approximate-count` (Cloud): `{"jql"}` -> `{"count"}`, an
        estimate that may miss the latest edits; None when the answer carries no count."""
        body = {"jql": jql}
        answer = self._call(
            "approximate count",
            lambda: self._json(self._session_post("search/approximate-count", body)),
            search=jql,  # a rejected JQL is named as the search's would be
        )
        count = answer.get("count") if isinstance(answer, Mapping) else None
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            return count
        return None

    def search_dc(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        expand: str | None,
        max_results: int,
        start_at: int,
    ) -> Mapping[str, Any]:
        """One page of GET /rest/api/2/search (Server / Data Center: startAt paging)."""

        def once() -> Any:
            self._known_fields(fields)
            return self.client.search_issues(
                jql,
                startAt=start_at,
                maxResults=max_results,
                validate_query=True,
                fields=list(fields),
                expand=expand,
                json_result=True,
            )

        return _mapping(self._call("search", once, search=jql), "a search page")

    # --- internals -------------------------------------------------------------------------

    def _api_url(self, path: str) -> str:
        version = "3" if self.cloud else "2"
        return f"{self.url}/rest/api/{version}/{path}"

    def _session_get(self, path: str, params: Mapping[str, Any] | None) -> requests.Response:
        return self.client._session.get(self._api_url(path), params=dict(params or {}))

    def _session_post(self, path: str, body: Mapping[str, Any]) -> requests.Response:
        return self.client._session.post(self._api_url(path), data=json.dumps(body))

    @staticmethod
    def _json(response: requests.Response) -> Any:
        return response.json()

    def _known_fields(self, fields: Sequence[str]) -> None:
        # Our field ids need no JQL-name translation; a non-empty cache stops the library from
        # fetching /field on the first search (a request nobody would count).
        self.client._fields_cache_value.update({f: f for f in fields})

    def _watch_login(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # Server / Data Center answer a failed basic login with 200 *as anonymous*, flagged only
        # in this header; the library merely logs it. Reading that as "no issues" would be wrong.
        if "AUTHENTICATED_FAILED" in response.headers.get("X-Seraph-LoginReason", ""):
            self._login_failed = True

    def _watch_clock(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        offset = clock_offset(response.headers.get("Date"), self.clock())
        if offset is not None:
            self.clock_offset_s = offset

    def _call(self, what: str, fn: Callable[[], T], search: str | None = None) -> T:
        def attempt() -> T:
            with self._counting:
                self.requests += 1
            try:
                result = fn()
                if self._login_failed:
                    raise AuthError(
                        f"source {self.source!r}: Jira did not accept the login ({what} was "
                        f"answered as anonymous); check {self.auth.describe()}"
                    )
                return result
            except JIRAError as exc:
                raise self._translate_http(exc, what, search) from None
            except (DeadlineExceeded, ResponseTooLarge) as exc:
                raise http_limits.for_source(exc, f"source {self.source!r}: {what}") from None
            except (requests.exceptions.JSONDecodeError, json.JSONDecodeError):
                # a 200 that is an HTML page: a login page or proxy in front of Jira
                raise FatalError(
                    f"source {self.source!r}: {what}: the answer from {self.url} is not JSON "
                    "(a login page or proxy in front of Jira? check the url)"
                ) from None
            except requests.exceptions.SSLError:
                raise FatalError(
                    f"source {self.source!r}: TLS certificate check failed for {self.url} ({what})"
                ) from None
            except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
                raise RetriableError(
                    f"source {self.source!r}: {what}: {type(exc).__name__} talking to {self.url}"
                ) from None
            except requests.exceptions.RequestException as exc:
                raise FatalError(
                    f"source {self.source!r}: {what}: {type(exc).__name__} talking to {self.url}"
                ) from None

        return call(attempt, budget=self.budget, what=f"jira {what}")

    def _translate_http(self, exc: JIRAError, what: str, search: str | None) -> Exception:
        status = exc.status_code
        if status is None:
            return RetriableError(f"source {self.source!r}: {what}: no answer from {self.url}")
        response = exc.response if isinstance(exc.response, requests.Response) else None
        headers = response.headers if response is not None else {}
        denied = headers.get("X-Authentication-Denied-Reason")
        answer = Answer(
            status=status,
            where=f"source {self.source!r}: Jira answered {status} to {what}",
            message=jira_message(response) if response is not None else _clip(exc.text or ""),
            check=self.auth.describe(),
            note=f"Jira asks for a CAPTCHA: log in once in a browser; {denied}" if denied else "",
            retry_after=retry_after(headers),
        )
        return JIRA_ERRORS.error(answer, _Asked(self, search))


@dataclass(frozen=True, slots=True)
class _Asked:
    """What Jira's own rules know of the request beyond the answer."""

    http: JiraHttp
    search: str | None  # the JQL, when the request was a search


def _bad_jql(answer: Answer, asked: _Asked) -> GoalsyncError | None:
    if asked.search is None:
        return None
    auth = asked.http.auth
    hint = f" ({auth.describe()})" if auth.mode == "anonymous" else ""
    return ConfigError(
        f"source {asked.http.source!r}: Jira rejected the JQL {asked.search!r}: "
        f"{answer.message or 'HTTP 400'}{hint}"
    )


def _no_search(answer: Answer, asked: _Asked) -> GoalsyncError | None:
    if asked.search is None:
        return None
    return WrongFlavour(f"{answer.where}: {answer.message or 'the search endpoint is not there'}")


def _not_found(answer: Answer, asked: _Asked) -> GoalsyncError | None:
    return NotFound(answer.say("not found"))


# Jira beyond the shared table: a search's 400 is a JQL error (exit 2); a search endpoint that is
# not there is the other deployment's; a missing resource is its own type (the issue is skipped).
JIRA_ERRORS: ErrorTable[_Asked] = BASE.extend(
    {
        400: _bad_jql,
        404: (_no_search, _not_found),
        410: _no_search,
    }
)


def clock_offset(date_header: str | None, received: datetime) -> float | None:
    """The server's clock minus ours, in seconds, from an answer's Date header (whole seconds,
    so within about a second, plus the answer's time in flight); None without a readable one."""
    sent = http_date(date_header) if date_header else None
    return None if sent is None else (sent - received).total_seconds()


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait: Retry-After (seconds or an HTTP date), else X-RateLimit-Reset, which
    Jira Cloud sends as an ISO 8601 time (`2026-10-05T09:13Z`), not as epoch seconds."""
    wait = parse_retry_after(headers.get("Retry-After"), now)
    if wait is not None:
        return wait
    return parse_rate_limit_reset(headers.get("X-RateLimit-Reset"), now)


def parse_rate_limit_reset(value: str | None, now: datetime | None = None) -> float | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    now = now or datetime.now(UTC)
    if text.isdigit():  # epoch seconds, as other APIs send it
        return max(0.0, float(text) - now.timestamp())
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text.replace("Z", "+00:00"))
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def jira_message(response: requests.Response) -> str:
    """Jira's own words from an error body (`errorMessages`, `errors`, `message`), short; an
    HTML page (a proxy's or a login page) is named, not quoted."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        if text.startswith("<"):
            return "an HTML page instead of Jira's JSON (a proxy or login page?)"
        return _clip(text)
    parts: list[str] = []
    if isinstance(body, Mapping):
        messages = body.get("errorMessages")
        if isinstance(messages, list):
            parts += [str(m) for m in messages if m]
        errors = body.get("errors")
        if isinstance(errors, Mapping):
            parts += [f"{k}: {v}" for k, v in errors.items()]
        for key in ("message", "errorMessage"):
            if isinstance(body.get(key), str):
                parts.append(body[key])
    return _clip("; ".join(parts))


def quote_key(key: str) -> str:
    return quote(key, safe="")


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_MAX else text[: _MESSAGE_MAX - 1] + "…"


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FatalError(f"Jira answered {what} that is not a JSON object")
    return value
