"""goalsync's one retry layer (tenacity), shared by every connector.

The libraries' own retries are off (jira `max_retries=0`, PyGithub `retry=None`,
googleapiclient `num_retries=0`), so attempts never multiply across layers: a connector turns a
response into `RetriableError(retry_after=...)` and this layer decides. It waits at least what the
server asked for (Retry-After, a rate-limit reset), else exponentially with jitter, and gives up
(re-raising the last error) before a wait would pass the budget: a sleep never runs past it, and
neither does a retry: its requests must be answered by the budget's end (`http_limits`), however
long their own deadline. The first attempt keeps its own deadline (a long healthy pull may use
up the budget's time without waiting at all). Bottom of the project: imports only `errors` and
`http_limits`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from sync.base import http_limits
from sync.base.errors import DeadlineExceeded, RetriableError

log = structlog.get_logger(__name__)
T = TypeVar("T")


class Budget:
    """Seconds a source may spend waiting and retrying in one run, shared by all its calls."""

    def __init__(
        self,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.sleep = sleep
        self._deadline = clock() + seconds
        self.waited = 0.0
        self.retries = 0

    def remaining(self) -> float:
        return max(0.0, self._deadline - self.clock())


def call(
    fn: Callable[[], T],
    *,
    budget: Budget,
    what: str,
    max_attempts: int = 8,
    base_delay: float = 1.0,
    max_delay: float = 60.0,
) -> T:
    """Call `fn`, retrying RetriableError within the budget; anything else propagates at once."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.retry_after if isinstance(exc, RetriableError) else None
        backoff = min(max_delay, base_delay * 2 ** (state.attempt_number - 1))
        backoff *= 0.5 + random.random() / 2  # noqa: S311 (jitter, not crypto)
        return max(asked, 0.0) if asked is not None else backoff

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= max_attempts:
            return True
        # Give up now rather than sleep past the budget (tenacity's stop_before_delay idea,
        # against a budget shared by every call of the source).
        return (state.upcoming_sleep or 0.0) > budget.remaining()

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        budget.retries += 1
        budget.waited += state.upcoming_sleep or 0.0
        log.warning(
            "retrying",
            call=what,
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep or 0.0, 2),
            error=str(exc),
        )

    previous: RetriableError | None = None  # what made it retry, if it did

    def attempt() -> T:
        nonlocal previous
        try:
            if previous is None:
                return fn()
            with http_limits.no_later_than(time.monotonic() + budget.remaining()):
                return fn()
        except RetriableError as exc:
            if isinstance(exc, DeadlineExceeded) and exc.budget_cut and previous is not None:
                raise previous from None  # cut short by the budget: report the real trouble
            previous = exc
            raise

    retrying = Retrying(
        retry=retry_if_exception_type(RetriableError),
        stop=stop,
        wait=wait,
        sleep=budget.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(attempt)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds or an HTTP date (RFC 9110) -> seconds from now, never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    when = http_date(text)
    if when is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def http_date(text: str) -> datetime | None:
    """An HTTP date (`Tue, 08 Dec 2026 00:07:34 GMT`, as Retry-After and Date send it), aware."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
