"""GitHub Projects (v2) source (`type: github_project`): a board's issues, pull requests and
draft issues with their board field values, read with GitHub's GraphQL API.

Every pull reads the whole board (fetch.py says why: GitHub cannot list a board's items by
update time), so a pull is a complete snapshot: an item taken off the board, or archived, leaves
the store. The board has no change history goalsync can read cheaply (a status change is not an
event of the issue), so `has_history` is False and goalsync records an Event itself whenever a
pull shows an item's state changed, as for sheet tasks and csv items.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from pydantic import SecretStr

from connectors.github_project.client import DEFAULT_TIMEOUT, GraphQLClient
from connectors.github_project.config import GitHubProjectSourceConfig
from connectors.github_project.fetch import Board, board_pages, items_of
from connectors.github_project.parse import checked_item
from sync.base.contracts import CheckContext, CheckTarget, PullContext, PullResult
from sync.base.errors import AuthError
from sync.base.paging import dedupe_by_key
from sync.base.retry import Budget
from sync.base.shapes import Skipped

log = structlog.get_logger(__name__)


class GitHubProjectSource:
    type = "github_project"

    def __init__(
        self,
        name: str,
        config: GitHubProjectSourceConfig,
        token: SecretStr | None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.config = config
        self.token = token
        self.board = Board(config.owner, config.number)
        self._timeout = timeout
        self._sleep = sleep
        self._wall_clock = wall_clock
        self.last_points: tuple[int, int] = (0, 0)  # (requests, GraphQL cost) of the last pull

    def client(self, budget_s: float) -> GraphQLClient:
        """A client for one pull or check; AuthError without a token (GitHub's GraphQL API
        answers no anonymous request, so none is sent)."""
        if self.token is None:
            raise AuthError(
                f"source {self.name!r}: no token in {self.config.token_env}; GitHub's GraphQL "
                "API needs one (classic: the read:project scope, plus repo for private "
                "repositories; fine-grained: Projects read access)"
            )
        return GraphQLClient(
            source=self.name,
            url=self.config.graphql_url,
            token=self.token,
            token_env=self.config.token_env,
            budget=Budget(budget_s, sleep=self._sleep),
            timeout=self._timeout,
            wall_clock=self._wall_clock,
        )

    def check(self, target: CheckTarget, ctx: CheckContext) -> None:
        from connectors.github_project.check import check_github_project

        check_github_project(self, target, ctx)

    def fetch(self, ctx: PullContext) -> PullResult:
        who = f"source {self.name!r}"
        rules = self.config.rules(ctx.rules)
        skipped = Skipped(self.name)
        result = PullResult(complete=True, has_history=False)
        client = self.client(ctx.budget_s)
        items = []
        try:
            for page in board_pages(client, self.board, who=who, progress=ctx.progress):
                for raw in items_of(page, who):
                    item = checked_item(
                        raw, source=self.name, board=self.board.name, rules=rules, skipped=skipped
                    )
                    if item is not None:
                        items.append(item)
        finally:
            client.close()
        # An item moved while the board is read can come again on a later page.
        result.items = dedupe_by_key(items, lambda item: item.key)
        skipped.report(result.warnings)
        points = client.points
        result.requests = points.requests
        self.last_points = (points.requests, points.cost)
        log.info(
            "github_project_pulled",
            source=self.name,
            board=self.board.name,
            items=len(result.items),
            requests=points.requests,
            graphql_cost=points.cost,
            points_left=points.remaining,
        )
        return result
