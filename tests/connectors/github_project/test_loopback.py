"""The board source against the loopback GraphQL fake: paging, GraphQL points and rate limits
through the one retry layer, malformed items named, errors of the right kind, GHE endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.github_project.config import GitHubProjectSourceConfig, graphql_url
from connectors.github_project.source import GitHubProjectSource
from sync.base.contracts import PullContext, PullResult
from sync.base.errors import AuthError, ConfigError, FatalError, RetriableError
from tests.fakes.github_graphql import (
    POINTS_PER_HOUR,
    TOKEN,
    BoardItem,
    FakeGitHubGraphQL,
    make_board,
)

RUN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeGitHubGraphQL]:
    with FakeGitHubGraphQL(items=make_board(250)) as server:
        yield server


def source(
    fake: FakeGitHubGraphQL, sleeps: list[float] | None = None, **config: Any
) -> GitHubProjectSource:
    model = GitHubProjectSourceConfig.model_validate(
        {"type": "github_project", "owner": "acme", "number": 7, "base_url": fake.url} | config
    )
    recorded = sleeps if sleeps is not None else []
    return GitHubProjectSource("board", model, SecretStr(TOKEN), sleep=recorded.append)


def pull(src: GitHubProjectSource, budget_s: float = 300.0) -> PullResult:
    return src.fetch(PullContext(source=src.name, run_started=RUN, tz=UTC, budget_s=budget_s))


def test_a_board_of_three_pages_is_read_whole(fake: FakeGitHubGraphQL) -> None:
    result = pull(source(fake))
    assert len(result.items) == 250
    assert fake.served == 3 and result.requests == 3  # 100 + 100 + 50
    assert result.complete and not result.has_history
    states = {item.state for item in result.items}
    assert states == {"todo", "in_progress", "done"}
    assert result.items[0].key == "acme/api#1"


def test_a_rate_limit_answer_is_waited_out_until_the_reset(fake: FakeGitHubGraphQL) -> None:
    fake.reset_in_s = 40
    fake.rate_limit_at = {2}
    sleeps: list[float] = []
    result = pull(source(fake, sleeps))
    assert len(result.items) == 250
    assert fake.refused == 1 and fake.served == 4  # the refused page asked again
    assert len(sleeps) == 1 and 30 <= sleeps[0] <= 41  # x-ratelimit-reset, not a backoff


def test_a_rate_limit_past_the_budget_fails_the_source_as_retriable(
    fake: FakeGitHubGraphQL,
) -> None:
    fake.reset_in_s = 1800
    fake.rate_limit_at = {1}
    sleeps: list[float] = []
    with pytest.raises(RetriableError, match="rate limited"):
        pull(source(fake, sleeps), budget_s=60)
    assert sleeps == [] and fake.served == 1  # gave up rather than sleep past the budget


def test_points_running_out_are_waited_for_before_asking(fake: FakeGitHubGraphQL) -> None:
    """rateLimit says too few points for another query: goalsync waits for resetAt instead of
    sending a query GitHub would refuse."""
    fake.reset_in_s = 20
    fake.remaining = 12  # a page costs 5: two pages, then 2 points left
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake.remaining = POINTS_PER_HOUR  # the hour turned over while goalsync waited

    src = source(fake)
    src._sleep = sleep
    result = pull(src)
    assert len(result.items) == 250
    assert fake.refused == 0 and fake.served == 3
    assert len(sleeps) == 1 and 10 <= sleeps[0] <= 21
    assert src.last_points == (3, 15)


def test_a_malformed_item_is_skipped_and_named_in_the_warnings() -> None:
    items = make_board(3)
    items[1].malformed = True
    with FakeGitHubGraphQL(items=items) as fake:
        result = pull(source(fake))
    assert [i.key for i in result.items] == ["acme/api#1", "acme/api#3"]
    assert len(result.warnings) == 1
    assert "1 item skipped as malformed: acme/web#2 (content.number" in result.warnings[0]


def test_drafts_archived_and_not_planned_on_the_board() -> None:
    items = [
        BoardItem(kind="DRAFT_ISSUE", node_id="PVTI_d", title="Idea", status="In Progress"),
        BoardItem(number=2, archived=True, status="Done"),
        BoardItem(number=3, status="Done", state="CLOSED", state_reason="NOT_PLANNED"),
    ]
    with FakeGitHubGraphQL(items=items) as fake:
        result = pull(source(fake))
    assert {(i.key, i.state) for i in result.items} == {
        ("acme/project-7#draft-DI_PVTI_d", "in_progress"),
        ("acme/web#3", "cancelled"),
    }


def test_a_wrong_token_is_an_auth_error(fake: FakeGitHubGraphQL) -> None:
    fake.token = "another"
    with pytest.raises(AuthError, match="credentials refused"):
        pull(source(fake))


def test_an_unknown_board_or_owner_is_a_config_error(fake: FakeGitHubGraphQL) -> None:
    with pytest.raises(ConfigError, match="ProjectV2 with the number 8"):
        pull(source(fake, number=8))
    with pytest.raises(ConfigError, match="login of 'nobody'"):
        pull(source(fake, owner="nobody"))


def test_a_server_repeating_a_cursor_is_stopped(fake: FakeGitHubGraphQL) -> None:
    original = fake.items_page

    def stuck(first: int, after: str | None) -> dict[str, Any]:
        page = original(first, None)  # always the first page, with the same cursor
        return page

    fake.items_page = stuck  # type: ignore[method-assign]
    with pytest.raises(FatalError, match="same endCursor twice"):
        pull(source(fake))


def test_github_enterprise_server_is_asked_at_api_graphql(fake: FakeGitHubGraphQL) -> None:
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url("https://ghe.acme.io/api/v3") == "https://ghe.acme.io/api/graphql"
    assert graphql_url("https://ghe.acme.io/api/v3/") == "https://ghe.acme.io/api/graphql"
    result = pull(source(fake, base_url=f"{fake.url}/api/v3"))
    assert len(result.items) == 250
    assert fake.count("POST", "/api/graphql") == 3


def test_a_full_and_an_unchanged_read_of_a_2000_item_board() -> None:
    """The figures of the closing note: GitHub cannot list a board's items by update, so an
    unchanged read costs what a full one does."""
    with FakeGitHubGraphQL(items=make_board(2000)) as fake:
        src = source(fake)
        first = pull(src)
        full = src.last_points
        second = pull(src)
        unchanged = src.last_points
    assert len(first.items) == len(second.items) == 2000
    assert full == unchanged == (20, 100)  # 20 requests, 5 points each


def test_without_a_token_the_pull_fails_as_refused_and_sends_nothing(
    fake: FakeGitHubGraphQL,
) -> None:
    model = GitHubProjectSourceConfig.model_validate(
        {"type": "github_project", "owner": "acme", "number": 7, "base_url": fake.url}
    )
    with pytest.raises(AuthError, match="no token in GITHUB_TOKEN"):
        pull(GitHubProjectSource("board", model, None))
    assert fake.served == 0


def test_an_item_the_token_cannot_read_is_skipped_and_named_the_rest_read() -> None:
    """GitHub answers a board with an issue of a private repository the token cannot see with
    that item's content null and a FORBIDDEN error whose path names it: not a refusal."""
    items = make_board(3)
    items[1].hidden = True
    with FakeGitHubGraphQL(items=items) as fake:
        result = pull(source(fake))
    assert [i.key for i in result.items] == ["acme/api#1", "acme/api#3"]
    assert "1 item skipped as malformed: item PVTI_00001 of acme/project-7" in result.warnings[0]
    assert "not readable with this token" in result.warnings[0]
