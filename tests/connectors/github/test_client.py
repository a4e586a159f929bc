"""The PyGithub client's explicit settings and what each GitHub answer means (pure); its
deadline and size cap through the real Requester against a loopback fake."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.github.client import (
    ClientSettings,
    GitHubClient,
    Reply,
    RepoUnavailable,
    Tally,
    build_github,
    parse_body,
    to_error,
)
from sync.base import http_limits
from sync.base.errors import (
    AuthError,
    ConfigError,
    DeadlineExceeded,
    FatalError,
    ResponseTooLarge,
    RetriableError,
)
from sync.base.retry import Budget
from sync.base.transport import limit_github
from tests.connectors.helpers import load_json
from tests.fakes.server import FakeServer, Fault, Request, Response

NOW = 1_800_000_000.0
ERRORS: dict[str, dict[str, Any]] = load_json("github", "error-responses.json")


def settings(token: str | None = "ghp_token_value") -> ClientSettings:
    return ClientSettings(
        source="gh",
        base_url="https://api.github.com",
        token=SecretStr(token) if token else None,
        token_env="ACME_GH_TOKEN",
    )


def reply(status: int, data: Any = None, **headers: str) -> Reply:
    lowered = {k.replace("_", "-").lower(): v for k, v in headers.items()}
    return Reply(status=status, url="/repos/acme/web/issues", headers=lowered, data=data)


def error(r: Reply, *, token: str | None = "ghp_token_value", hits: int = 0) -> Any:
    return to_error(
        r, settings=settings(token), scope="repo acme/web", secondary_hits=hits, now=NOW
    )


def test_the_client_is_built_with_explicit_settings() -> None:
    gh = build_github(
        ClientSettings(
            source="gh",
            base_url="https://ghe.example.com/api/v3",
            token=SecretStr("ghp_x"),
            token_env="GITHUB_TOKEN",
            timeout_s=7,
        )
    )
    kwargs = gh.requester.kwargs
    assert kwargs["retry"] is None  # no GithubRetry: sync.base.retry is the one retry layer
    assert kwargs["seconds_between_requests"] == 0  # PyGithub's 0.25 s spacing is off
    assert kwargs["seconds_between_writes"] == 0
    assert kwargs["timeout"] == 7
    assert kwargs["per_page"] == 100
    assert kwargs["lazy"] is True
    assert kwargs["base_url"] == "https://ghe.example.com/api/v3"
    assert kwargs["auth"] is not None
    assert build_github(settings(None)).requester.kwargs["auth"] is None
    gh.close()


def test_success_and_304_are_no_error() -> None:
    assert error(reply(200, [])) is None
    assert error(reply(304)) is None


def test_primary_rate_limit_waits_until_the_reset() -> None:
    r = reply(
        403,
        ERRORS["403_primary"],
        x_ratelimit_remaining="0",
        x_ratelimit_reset=str(int(NOW) + 120),
    )
    e = error(r)
    assert isinstance(e, RetriableError)
    assert e.retry_after == pytest.approx(121.0)  # the reset, plus a second for clock skew
    assert "rate limit exhausted until" in str(e) and "repo acme/web" in str(e)


def test_primary_rate_limit_reset_in_milliseconds_as_recorded_fixtures_carry_it() -> None:
    r = reply(403, ERRORS["403_primary"], x_ratelimit_remaining="0")
    r = Reply(
        status=403,
        url=r.url,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 30) * 1000)},
        data=r.data,
    )
    e = error(r)
    assert isinstance(e, RetriableError) and e.retry_after == pytest.approx(31.0)


@pytest.mark.parametrize("status", [403, 429])
def test_retry_after_wins(status: int) -> None:
    e = error(reply(status, ERRORS["403_secondary"], retry_after="17"))
    assert isinstance(e, RetriableError) and e.retry_after == 17.0


@pytest.mark.parametrize(("hits", "wait"), [(0, 60.0), (1, 120.0), (2, 240.0)])
def test_secondary_rate_limit_without_retry_after_waits_a_minute_then_longer(
    hits: int, wait: float
) -> None:
    e = error(reply(403, ERRORS["403_secondary"], x_ratelimit_remaining="4000"), hits=hits)
    assert isinstance(e, RetriableError) and e.retry_after == wait
    assert "secondary rate limit" in str(e)
    bare = error(reply(429, None), hits=hits)
    assert isinstance(bare, RetriableError) and bare.retry_after == wait


def test_401_names_the_source_and_the_variable() -> None:
    e = error(reply(401, ERRORS["401"]))
    assert isinstance(e, AuthError)
    assert "'gh'" in str(e) and "ACME_GH_TOKEN" in str(e) and "Bad credentials" in str(e)
    anonymous = error(reply(401, ERRORS["401"]), token=None)
    assert isinstance(anonymous, AuthError) and "set ACME_GH_TOKEN" in str(anonymous)


def test_403_without_rate_limit_is_a_permission_problem() -> None:
    e = error(reply(403, ERRORS["403_forbidden"], x_ratelimit_remaining="4999"))
    assert isinstance(e, AuthError)
    assert "acme/web" in str(e) and "ACME_GH_TOKEN" in str(e)
    assert "metadata, issues and pull requests" in str(e)


def test_404_is_a_config_error_naming_the_repo() -> None:
    e = error(reply(404, ERRORS["404"]))
    assert isinstance(e, RepoUnavailable) and isinstance(e, ConfigError)
    assert "repository acme/web not found" in str(e) and e.name == "acme/web"
    org = to_error(
        reply(404, ERRORS["404"]), settings=settings(), scope="org acme", secondary_hits=0, now=NOW
    )
    assert isinstance(org, ConfigError) and "organisation acme not found" in str(org)


def test_410_says_issues_are_turned_off() -> None:
    e = error(reply(410, ERRORS["410"]))
    assert isinstance(e, RepoUnavailable) and e.status == 410
    assert "acme/web has issues turned off" in str(e)


def test_5xx_is_retried_and_other_answers_are_fatal() -> None:
    e = error(reply(502, None, retry_after="3"))
    assert isinstance(e, RetriableError) and e.retry_after == 3.0
    assert isinstance(error(reply(503, None)), RetriableError)
    fatal = error(reply(422, {"message": "Validation Failed"}))
    assert isinstance(fatal, FatalError) and "Validation Failed" in str(fatal)


def test_bodies_html_and_broken_json() -> None:
    assert parse_body(200, {}, '[{"a": 1}]', settings()) == [{"a": 1}]
    assert parse_body(304, {}, "", settings()) is None
    with pytest.raises(FatalError, match="not JSON: is base_url the API root"):
        parse_body(200, {"content-type": "text/html; charset=utf-8"}, "<html>", settings())
    with pytest.raises(FatalError, match="not JSON"):
        parse_body(200, {"content-type": "application/json"}, '[{"a": ', settings())
    assert parse_body(502, {}, "<html>Bad gateway</html>", settings()) is None  # status decides


def test_no_message_carries_the_token() -> None:
    answers = [
        reply(401, ERRORS["401"]),
        reply(403, ERRORS["403_forbidden"]),
        reply(404, ERRORS["404"]),
        reply(429, None),
    ]
    for r in answers:
        assert "ghp_token_value" not in str(error(r))


# --- a deadline for the whole response and a size cap, through PyGithub's own Requester ------


class _Issues(FakeServer):
    def handle(self, request: Request) -> Response:
        return Response(200, [], {"Content-Type": "application/json"})


def loopback_client(server: FakeServer, budget_s: float = 30.0) -> GitHubClient:
    return GitHubClient(
        ClientSettings(source="gh", base_url=server.url, token=None, token_env="GITHUB_TOKEN"),
        budget=Budget(budget_s),
        tally=Tally(),
    )


def test_a_trickling_page_ends_at_the_deadline_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_limits, "_limits", http_limits.Limits(0.5, 1 << 20))
    with _Issues() as server:
        server.inject(Fault("GET", "/repos/acme/web/issues", trickle=0.1, times=99))
        client = loopback_client(server, budget_s=1.5)
        t0 = time.monotonic()
        with pytest.raises(DeadlineExceeded) as info:
            client.fetch_json("/repos/acme/web/issues", scope="repo acme/web", what="issues")
        assert time.monotonic() - t0 < 0.5 + 1.5 + 0.5
        assert str(info.value).startswith(
            "source 'gh': GET 127.0.0.1:"
        ) and "/repos/acme/web/issues: no whole answer within 0.5 s" in str(info.value)
        assert server.count("GET") >= 2  # retried, within the budget
        client.close()


@pytest.mark.parametrize("chunked", [False, True])
def test_a_page_over_the_cap_fails_the_source_once(
    chunked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_limits, "_limits", http_limits.Limits(30, 1 << 20))
    with _Issues() as server:
        server.inject(Fault("GET", "/repos/acme/web", huge=3 << 20, chunked=chunked, times=99))
        client = loopback_client(server)
        with pytest.raises(ResponseTooLarge, match=r"^source 'gh': GET .*/repos/acme/web/issues"):
            client.fetch_json("/repos/acme/web/issues", scope="repo acme/web", what="issues")
        assert server.count("GET") == 1  # not retried: the same request, the same answer
        reply = client.fetch_json("/repos/acme/api/issues", scope="repo acme/api", what="issues")
        assert reply.data == []  # the connection it dropped is made again
        client.close()


def test_a_pygithub_without_the_connection_class_fails_loudly() -> None:
    with pytest.raises(RuntimeError, match=r"update sync/base/transport\.py"):
        limit_github(object())
