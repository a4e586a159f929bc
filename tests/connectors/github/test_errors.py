"""The GitHub source when GitHub says no: rate limits (primary and secondary, with and without
Retry-After), 401, 403, 404 for a missing repository, 410 for issues turned off, HTML and broken
JSON. Over `responses`, with the error bodies GitHub sends (tests/fixtures/github)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from sync.base.errors import AuthError, ConfigError, FatalError, RetriableError
from tests.fakes.github import (
    API,
    ERRORS,
    RUN,
    TOKEN,
    FakeGitHub,
    Puller,
    answering,
)
from tests.fakes.server import Fault, Response

T0 = datetime(2026, 11, 1, tzinfo=UTC)
ISSUES = "/repos/acme/web/issues"
NOW = int(RUN.timestamp())  # the Puller's wall clock


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    gh = FakeGitHub(token=TOKEN, public_url=API)
    gh.add_repo("acme/web").add_issue(1, updated=T0)
    with answering(gh):
        yield gh


def limited(body: str, status: int = 403, **headers: str) -> Fault:
    named = {k.replace("_", "-"): v for k, v in headers.items()}
    return Fault("GET", ISSUES, Response(status, ERRORS[body], named))


# --- rate limits ----------------------------------------------------------------------------------


def test_primary_limit_waits_until_the_reset_then_goes_on(fake: FakeGitHub) -> None:
    fake.inject(
        limited(
            "403_primary",
            x_ratelimit_limit="5000",
            x_ratelimit_remaining="0",
            x_ratelimit_reset=str(NOW + 90),
        )
    )
    puller = Puller()
    result = puller.pull()
    assert puller.sleeps == [91.0]  # until x-ratelimit-reset (epoch seconds), plus one
    assert len(result.items) == 1
    assert result.requests == 1 + 3  # the refused request counts too


def test_primary_limit_beyond_the_budget_fails_at_once_and_the_source_goes_stale(
    fake: FakeGitHub,
) -> None:
    fake.inject(
        limited("403_primary", x_ratelimit_remaining="0", x_ratelimit_reset=str(NOW + 3600))
    )
    puller = Puller()
    with pytest.raises(RetriableError, match="rate limit exhausted until") as info:
        puller.pull(budget_s=300)
    assert info.value.retry_after == 3601.0
    assert puller.sleeps == []  # no sleep past the budget: give up now
    assert fake.count("GET") == 1


@pytest.mark.parametrize(("status", "body"), [(403, "403_secondary"), (429, "403_secondary")])
def test_secondary_limit_with_retry_after_waits_that_long(
    fake: FakeGitHub, status: int, body: str
) -> None:
    fake.inject(limited(body, status, retry_after="7", x_ratelimit_remaining="4990"))
    puller = Puller()
    assert len(puller.pull().items) == 1
    assert puller.sleeps == [7.0]


def test_secondary_limit_without_retry_after_waits_a_minute_then_exponentially(
    fake: FakeGitHub,
) -> None:
    fault = limited("403_secondary", x_ratelimit_remaining="4990")
    fault.times = 3
    fake.inject(fault)
    puller = Puller()
    result = puller.pull(budget_s=1000)
    assert puller.sleeps == [60.0, 120.0, 240.0]
    assert result.requests == 3 + 3


def test_a_bare_429_is_a_secondary_limit(fake: FakeGitHub) -> None:
    fake.inject(Fault("GET", ISSUES, Response(429, b"")))
    puller = Puller()
    puller.pull()
    assert puller.sleeps == [60.0]


def test_secondary_limit_waits_stop_at_the_budget(fake: FakeGitHub) -> None:
    fault = limited("403_secondary", x_ratelimit_remaining="4990")
    fault.times = 10
    fake.inject(fault)
    puller = Puller()
    with pytest.raises(RetriableError, match="secondary rate limit"):
        puller.pull(budget_s=200)
    assert puller.sleeps == [60.0, 120.0]  # 240 more would pass the budget


def test_a_304_is_free_and_carries_no_rate_limit_cost(fake: FakeGitHub) -> None:
    puller = Puller()
    puller.pull()
    before = fake.rate_remaining
    assert puller.pull().requests == 2  # the issues and the milestones lists, both 304
    assert fake.not_modified == 2 and fake.rate_remaining == before


# --- answers that are not rate limits -------------------------------------------------------------


def test_401_names_the_source_and_the_variable_and_never_the_token(fake: FakeGitHub) -> None:
    puller = Puller(token="ghp_wrong_token_value_000", token_env="ACME_GH")
    with capture_logs() as logs, pytest.raises(AuthError) as info:
        puller.pull()
    message = str(info.value)
    assert "'gh'" in message and "ACME_GH" in message and "Bad credentials" in message
    assert fake.count("GET") == 1  # never retried
    assert "ghp_wrong_token_value_000" not in message + repr(logs)


def test_403_without_access_is_an_auth_error(fake: FakeGitHub) -> None:
    fake.inject(limited("403_forbidden", x_ratelimit_remaining="4999"))
    with pytest.raises(AuthError, match="needs read access to metadata, issues and pull requests"):
        Puller().pull()


def test_404_for_a_missing_repo_is_a_config_error_naming_it(fake: FakeGitHub) -> None:
    with pytest.raises(ConfigError, match="repository acme/gone not found") as info:
        Puller(repos=["acme/web", "acme/gone"]).pull()
    assert "check repos" in str(info.value)


def test_410_issues_turned_off_is_a_clear_config_error(fake: FakeGitHub) -> None:
    fake.add_repo("acme/wiki", has_issues=False)
    with pytest.raises(ConfigError, match="acme/wiki has issues turned off"):
        Puller(repos=["acme/wiki"]).pull()


def test_an_html_page_is_refused_with_a_hint_about_base_url(fake: FakeGitHub) -> None:
    page = Response(200, b"<!DOCTYPE html><html>Sign in</html>", {"Content-Type": "text/html"})
    fake.inject(Fault("GET", ISSUES, page))
    with pytest.raises(FatalError, match="text/html, not JSON: is base_url the API root"):
        Puller().pull()


def test_broken_json_and_a_non_list_are_fatal(fake: FakeGitHub) -> None:
    fake.inject(Fault("GET", ISSUES, Response(200, b'[{"number": 1', {"Content-Type": "json"})))
    with pytest.raises(FatalError, match="not JSON"):
        Puller().pull()
    fake.inject(Fault("GET", ISSUES, Response(200, {"message": "odd"})))
    with pytest.raises(FatalError, match="not a list"):
        Puller().pull()


def test_5xx_and_html_error_pages_are_retried(fake: FakeGitHub) -> None:
    fake.inject(Fault("GET", ISSUES, Response(502, b"<html>Bad Gateway</html>"), times=2))
    puller = Puller()
    result = puller.pull()
    assert len(result.items) == 1 and len(puller.sleeps) == 2
    assert result.requests == 2 + 3


def test_a_dropped_connection_is_retried(fake: FakeGitHub) -> None:
    fake.inject(Fault("GET", "/repos/acme/web/milestones", drop=True))
    puller = Puller()
    assert len(puller.pull().items) == 1 and len(puller.sleeps) == 1
