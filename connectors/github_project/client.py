"""The one place goalsync talks to GitHub's GraphQL API for a board: a requests.Session, and
the one request it sends (a POST of a query and its variables).

Explicit on purpose:
- `timeout=(connect, read)` on every request, and the session wrapped by
  `sync.base.transport.limit_session` (a deadline for the whole answer, a size cap);
- no retries below this one: the adapter's `max_retries` is 0, and every attempt goes through
  `sync.base.retry.call`, goalsync's one retry layer, which waits what GitHub asks;
- GraphQL's rate limit counts points, not requests: every query asks for
  `rateLimit { cost remaining resetAt }`, and when the points left would not pay for another
  query of the same cost the next call raises RetriableError(retry_after = until resetAt) before
  sending anything, so the retry layer waits for the reset within the source's budget (or gives
  up and the source goes stale) instead of GitHub refusing it;
- an error answer becomes a `sync.base.errors` kind here: HTTP statuses through the shared table
  (`sync/base/httperrors.py`) plus GitHub's rate-limit 403/429, and GraphQL's own `errors`
  (200 with `type` RATE_LIMITED, NOT_FOUND, INSUFFICIENT_SCOPES, FORBIDDEN ...).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from pydantic import SecretStr

from sync.base.errors import AuthError, ConfigError, FatalError, GoalsyncError, RetriableError
from sync.base.httperrors import BASE, Answer, ErrorTable, is_error
from sync.base.retry import Budget, call, parse_retry_after
from sync.base.transport import limit_session

DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)  # connect, read (seconds)
USER_AGENT = "goalsync"
SECONDARY_WAIT_S = 60.0  # GitHub: "wait for at least one minute"
RATE_LIMIT_WAIT_S = 60.0  # when a rate-limit answer says no reset time


@dataclass(frozen=True, slots=True)
class _Said:
    """What an error rule may read beyond the Answer: the headers and the time."""

    headers: Mapping[str, str]
    now: float


def _rate_limited(answer: Answer, said: _Said) -> GoalsyncError | None:
    """GitHub's 403 / 429 for a rate limit is a wait, not a refusal of the credentials."""
    wait = _reset_wait(said)
    if said.headers.get("x-ratelimit-remaining") == "0":
        return RetriableError(answer.say("rate limit exhausted"), retry_after=wait)
    if answer.retry_after is not None or "secondary rate limit" in answer.message.lower():
        return RetriableError(
            answer.say("secondary rate limit"),
            retry_after=answer.retry_after if answer.retry_after is not None else SECONDARY_WAIT_S,
        )
    return None


def _reset_wait(said: _Said) -> float | None:
    reset = said.headers.get("x-ratelimit-reset")
    try:
        return max(0.0, float(reset) - said.now) if reset else None
    except ValueError:
        return None


GRAPHQL_ERRORS: ErrorTable[_Said] = BASE.extend({403: _rate_limited, 429: _rate_limited})


@dataclass(slots=True)
class Points:
    """What GitHub said of the GraphQL rate limit after the last query, and the totals."""

    requests: int = 0  # requests sent (a retried one counts each time)
    cost: int = 0  # GraphQL points the answered queries cost
    last_cost: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # epoch seconds


class GraphQLClient:
    """POSTs GraphQL queries to one endpoint, each retried by `sync.base.retry.call`."""

    def __init__(
        self,
        *,
        source: str,
        url: str,
        token: SecretStr,
        token_env: str,
        budget: Budget,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.url = url
        self.token_env = token_env
        self._budget = budget
        self._timeout = timeout
        self._wall_clock = wall_clock
        self.points = Points()
        self.scopes: str | None = None  # X-OAuth-Scopes of the last answer (classic tokens)
        self._session = limit_session(requests.Session())
        self._session.headers.update(
            {
                "Authorization": f"bearer {token.get_secret_value()}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            }
        )

    def close(self) -> None:
        self._session.close()

    def query(self, query: str, variables: Mapping[str, Any], *, what: str) -> dict[str, Any]:
        """The `data` of `query`, retried within the budget; `what` names it in messages."""
        return call(lambda: self._once(query, variables), budget=self._budget, what=what)

    def _once(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        self._wait_for_points()
        where = f"source {self.source!r}: GitHub GraphQL"
        self.points.requests += 1
        try:
            response = self._session.post(
                self.url,
                json={"query": query, "variables": dict(variables)},
                timeout=self._timeout,
            )
        except requests.Timeout as exc:
            raise RetriableError(f"{where}: no answer in time ({exc.__class__.__name__})") from None
        except requests.ConnectionError as exc:
            raise RetriableError(f"{where}: cannot connect to {self.url} ({exc})") from None
        headers = {k.lower(): v for k, v in response.headers.items()}
        if "x-oauth-scopes" in headers:
            self.scopes = headers["x-oauth-scopes"]
        said = _Said(headers, self._wall_clock())
        body = _json(response)
        if is_error(response.status_code):
            message = _message(body) or response.reason or ""
            answer = Answer(
                status=response.status_code,
                where=f"{where} answered {response.status_code}",
                message=message[:300],
                check=f"{self.token_env} (a token with the read:project scope)",
                retry_after=parse_retry_after(headers.get("retry-after")),
            )
            raise GRAPHQL_ERRORS.error(answer, said)
        if not isinstance(body, dict):
            raise FatalError(f"{where}: the answer is not a JSON object")
        errors = body.get("errors")
        data = body.get("data")
        if errors and not _only_within_items(errors, data):
            raise self._graphql_error(errors, said, where)
        if not isinstance(data, dict):
            raise FatalError(f"{where}: the answer has no data")
        self._note_points(data.get("rateLimit"))
        return data

    def _wait_for_points(self) -> None:
        """Refuse to send a query the points left cannot pay for: a wait until the reset."""
        p = self.points
        if p.remaining is None or p.last_cost is None or p.remaining >= p.last_cost:
            return
        wait = max(0.0, (p.reset_at or 0.0) - self._wall_clock())
        remaining, p.remaining = p.remaining, None  # after the wait, the next answer says anew
        raise RetriableError(
            f"source {self.source!r}: GitHub GraphQL rate limit: {remaining} points left, a "
            f"query costs {p.last_cost}; waiting for the reset",
            retry_after=wait,
        )

    def _note_points(self, rate: object) -> None:
        if not isinstance(rate, Mapping):
            return
        cost, remaining, reset_at = rate.get("cost"), rate.get("remaining"), rate.get("resetAt")
        if isinstance(cost, int):
            self.points.cost += cost
            self.points.last_cost = cost
        if isinstance(remaining, int):
            self.points.remaining = remaining
        if isinstance(reset_at, str):
            try:
                self.points.reset_at = datetime.fromisoformat(
                    reset_at.replace("Z", "+00:00")
                ).timestamp()
            except ValueError:
                self.points.reset_at = None

    def _graphql_error(self, errors: object, said: _Said, where: str) -> GoalsyncError:
        found = [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []
        kinds = {str(e.get("type") or "") for e in found}
        text = "; ".join(str(e.get("message") or "")[:200] for e in found[:3]) or "an error"
        if "RATE_LIMITED" in kinds:
            wait = _reset_wait(said)
            return RetriableError(
                f"{where}: rate limited ({text})",
                retry_after=wait if wait is not None else RATE_LIMIT_WAIT_S,
            )
        if kinds & {"INSUFFICIENT_SCOPES", "FORBIDDEN"}:
            return AuthError(
                f"{where}: no access ({text}); check {self.token_env}: a classic token needs "
                "the read:project scope (and repo for private repositories), a fine-grained "
                "one read access to Projects"
            )
        if "NOT_FOUND" in kinds:
            return ConfigError(f"{where}: {text}; check owner and number")
        return FatalError(f"{where}: {text}")


def _only_within_items(errors: object, data: object) -> bool:
    """Errors that name only parts of some items (an issue of a repository the token cannot
    read: GitHub answers the rest, with that item's `content` null) leave the answer usable;
    the item is then skipped and named by the parser."""
    if not isinstance(data, Mapping) or not isinstance(errors, list) or not errors:
        return False
    return all(
        isinstance(e, Mapping)
        and isinstance(e.get("path"), list)
        and "items" in e["path"]
        and "nodes" in e["path"]
        for e in errors
    )


def _json(response: requests.Response) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _message(body: Any) -> str:
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str):
            return message
    return ""
