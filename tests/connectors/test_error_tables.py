"""Each connector's HTTP error table in front of the shared one (sync/base/httperrors.py): its
rules decide its own cases (GitHub's rate limit and paging limit, Jira's JQL error, Sheets'
quota) and pass the rest to the base."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connectors.github.client import (
    ClientSettings,
    PagingLimit,
    Reply,
    RepoUnavailable,
    to_error,
)
from connectors.jira.client import JIRA_ERRORS
from connectors.sheets.client import SHEETS_ERRORS
from sync.base.errors import AuthError, FatalError, RetriableError
from sync.base.httperrors import BASE

SETTINGS = ClientSettings(
    source="gh", base_url="https://api.github.com", token=SecretStr("t"), token_env="GITHUB_TOKEN"
)


def reply(status: int, data: Any = None, **headers: str) -> Reply:
    return Reply(status=status, url="/repos/acme/web/issues", headers=headers, data=data)


def github(status: int, data: Any = None, scope: str = "repo acme/web", **headers: str) -> Any:
    return to_error(
        reply(status, data, **headers), settings=SETTINGS, scope=scope, secondary_hits=0, now=100.0
    )


def test_github_403_with_rate_limit_headers_waits_for_the_reset() -> None:
    error = github(
        403,
        {"message": "API rate limit exceeded"},
        **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": "160"},
    )
    assert isinstance(error, RetriableError) and error.retry_after == 61.0
    assert "rate limit exhausted until" in str(error)
    refused = github(403, {"message": "Resource not accessible"})
    assert isinstance(refused, AuthError) and "GITHUB_TOKEN" in str(refused)


def test_github_422_paging_limit_and_other_422() -> None:
    limit = github(422, {"message": "In order to keep the API fast, pagination is limited"})
    assert isinstance(limit, PagingLimit)
    other = github(422, {"message": "Validation Failed"})
    assert type(other) is FatalError and "GitHub answered 422: Validation Failed" in str(other)


def test_github_404_names_the_repository_and_a_5xx_is_retried() -> None:
    missing = github(404, {"message": "Not Found"})
    assert isinstance(missing, RepoUnavailable) and missing.name == "acme/web"
    elsewhere = github(404, {"message": "Not Found"}, scope="issue acme/web#3")
    assert type(elsewhere) is FatalError
    assert isinstance(github(502, None, **{"retry-after": "3"}), RetriableError)
    assert github(200, []) is None and github(304) is None


def test_jira_and_sheets_tables_extend_the_base() -> None:
    assert JIRA_ERRORS.rules_for(400)[-1:] == BASE.rules_for(400)  # the base behind Jira's
    assert len(JIRA_ERRORS.rules_for(400)) == 2
    assert len(SHEETS_ERRORS.rules_for(429)) == 2 and SHEETS_ERRORS.rules_for(500) == ()
    assert SHEETS_ERRORS.rules_for("5xx") == BASE.rules_for("5xx")
