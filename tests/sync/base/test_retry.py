from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from sync.base import http_limits
from sync.base.errors import AuthError, DeadlineExceeded, RetriableError
from sync.base.retry import Budget, call, parse_retry_after


class FakeClock:
    """Monotonic time that only moves when the retry layer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def flaky(failures: list[Exception], result: str = "ok") -> tuple[list[int], Callable[[], str]]:
    calls = [0]

    def fn() -> str:
        calls[0] += 1
        if failures:
            raise failures.pop(0)
        return result

    return calls, fn


def test_retries_a_retriable_error_and_returns_the_result() -> None:
    t = FakeClock()
    budget = Budget(300, clock=t.clock, sleep=t.sleep)
    calls, fn = flaky([RetriableError("503"), RetriableError("503")])
    assert call(fn, budget=budget, what="page") == "ok"
    assert calls[0] == 3
    assert len(t.sleeps) == 2 and budget.retries == 2


def test_waits_at_least_what_the_server_asks() -> None:
    t = FakeClock()
    budget = Budget(300, clock=t.clock, sleep=t.sleep)
    calls, fn = flaky([RetriableError("429", retry_after=42.0)])
    call(fn, budget=budget, what="page")
    assert t.sleeps == [42.0]
    assert calls[0] == 2


def test_gives_up_before_a_wait_would_pass_the_budget() -> None:
    t = FakeClock()
    budget = Budget(30, clock=t.clock, sleep=t.sleep)
    calls, fn = flaky([RetriableError("429", retry_after=3600.0)])
    with pytest.raises(RetriableError, match="429"):
        call(fn, budget=budget, what="page")
    assert t.sleeps == []  # it never slept into the hour it could not afford
    assert calls[0] == 1


def test_budget_is_shared_by_calls_and_bounds_the_total_wait() -> None:
    t = FakeClock()
    budget = Budget(100, clock=t.clock, sleep=t.sleep)
    for _ in range(2):
        _, fn = flaky([RetriableError("429", retry_after=40.0)])
        call(fn, budget=budget, what="page")
    _, fn = flaky([RetriableError("429", retry_after=40.0)])
    with pytest.raises(RetriableError):
        call(fn, budget=budget, what="page")
    assert sum(t.sleeps) == 80.0 <= budget.seconds


def test_other_errors_are_not_retried() -> None:
    t = FakeClock()
    budget = Budget(300, clock=t.clock, sleep=t.sleep)
    calls, fn = flaky([AuthError("401 for JIRA_API_TOKEN")])
    with pytest.raises(AuthError):
        call(fn, budget=budget, what="page")
    assert calls[0] == 1 and t.sleeps == []


def test_attempts_are_capped() -> None:
    t = FakeClock()
    budget = Budget(10_000, clock=t.clock, sleep=t.sleep)
    calls, fn = flaky([RetriableError("503") for _ in range(20)])
    with pytest.raises(RetriableError):
        call(fn, budget=budget, what="page", max_attempts=4)
    assert calls[0] == 4


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("-5", 0.0),
        ("Mon, 30 Nov 2026 10:01:00 GMT", 60.0),
        ("Mon, 30 Nov 2026 09:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after_seconds_and_http_dates(
    header: str | None, expected: float | None
) -> None:
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert parse_retry_after(header, now) == expected


def test_a_retry_must_be_answered_by_the_budgets_end_the_first_attempt_not() -> None:
    t = FakeClock()
    budget = Budget(30.0, clock=t.clock, sleep=t.sleep)
    seen: list[float] = []

    def fn() -> str:
        seen.append(http_limits._no_later_than.get())
        if len(seen) < 3:
            raise RetriableError("503", retry_after=10)
        return "ok"

    before = time.monotonic()
    assert call(fn, budget=budget, what="x") == "ok"
    assert seen[0] == math.inf  # a long healthy pull may outlast the budget's time
    assert before + 20 - 1 <= seen[1] <= time.monotonic() + 20  # 30 s less the 10 s waited
    assert before + 10 - 1 <= seen[2] <= time.monotonic() + 10


def test_a_retry_cut_by_the_budget_reports_what_made_it_retry() -> None:
    t = FakeClock()
    calls = [0]

    def fn() -> str:
        calls[0] += 1
        if calls[0] == 1:
            raise RetriableError("source 'gh': GitHub answered 502")
        t.now = 0.5  # the request took what was left of the budget
        raise DeadlineExceeded("source 'gh': GET /x: no whole answer before ...", budget_cut=True)

    with pytest.raises(RetriableError) as info:
        call(fn, budget=Budget(0.5, clock=t.clock, sleep=t.sleep), what="x", base_delay=0.01)
    assert str(info.value) == "source 'gh': GitHub answered 502" and calls[0] == 2


def test_a_deadline_of_its_own_is_retried_like_a_timeout() -> None:
    t = FakeClock()
    calls, fn = flaky([DeadlineExceeded("GET /x: no whole answer within 120 s")])
    assert call(fn, budget=Budget(60, clock=t.clock, sleep=t.sleep), what="x") == "ok"
    assert calls[0] == 2
