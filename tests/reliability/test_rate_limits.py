"""Guarantee 6: rate limits. goalsync waits at least what the server asks (Retry-After in seconds
or as an HTTP date, GitHub's primary limit until `x-ratelimit-reset`, its secondary limit, the
Sheets quota's 429), never past the run's retry budget (GOALSYNC_RETRY_BUDGET_S), and attempts
do not multiply across layers: the libraries' own retries are off, so the fakes count exactly the
attempts of goalsync's one retry layer.

Each test runs the CLI once against a Jira, a GitHub and a Sheets fake (a plan tab as a source,
a status sheet as the sink) that record when every request arrived; the waits are measured
between arrivals at the server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import Fault, Response
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import Timed, Workspace, config, cycle_around_today, gaps

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
PLAN, STATUS = "PLAN1", "STATUS1"
SEARCH = "/rest/api/3/search/jql"
ISSUES = "/repos/acme/web/issues"
PLAN_VALUES = f"/v4/spreadsheets/{PLAN}/values:batchGet"
BATCH_UPDATE = f"/v4/spreadsheets/{STATUS}:batchUpdate"
MAX_ATTEMPTS = 8  # sync.base.retry.call's default
GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Jira work, measure: percent_done, select: [{source: jira}]}
      - {id: G1.2, title: GitHub work, measure: percent_done, select: [{source: gh}]}
      - {id: G1.3, title: NPS, measure: metric, metric: nps, baseline: 0, target: 100}
"""
GITHUB_SECONDARY = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you "
    "try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}


class TimedJira(Timed, FakeJira):
    pass


class TimedGitHub(Timed, FakeGitHub):
    pass


class TimedSheets(Timed, FakeSheets):
    pass


@dataclass
class Fakes:
    jira: TimedJira
    github: TimedGitHub
    sheets: TimedSheets


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    jira = TimedJira("cloud", auth=Auth("basic", EMAIL, TOKEN))
    github = TimedGitHub(token=GH_TOKEN)
    sheets = TimedSheets()
    with jira, github, sheets:
        old = datetime.now(UTC) - timedelta(days=3)
        for n in range(1, 5):
            jira.add_issue(f"PAY-{n}", updated=old)
        web = github.add_repo("acme/web")
        for n in range(1, 5):
            web.add_issue(n, updated=old)
        day = (date.today() - date(1899, 12, 30)).days - 1
        sheets.add_spreadsheet(PLAN, {"Metrics": [["name", "date", "value"], ["nps", day, 30]]})
        sheets.add_spreadsheet(STATUS)
        yield Fakes(jira, github, sheets)


def workspace(root: Path, fakes: Fakes, budget_s: float) -> Workspace:
    ws = Workspace(
        root,
        env={
            "JIRA_EMAIL": EMAIL,
            "JIRA_API_TOKEN": TOKEN,
            "GITHUB_TOKEN": GH_TOKEN,
            "GOALSYNC_RETRY_BUDGET_S": str(budget_s),
        },
    )
    sheets = f"endpoint: '{fakes.sheets.url}/', credentials: anonymous"
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{fakes.jira.url}', jql: project = PAY}}\n"
            f"  gh: {{type: github, repos: [acme/web], base_url: '{fakes.github.url}'}}\n"
            f"  plan: {{type: sheets, spreadsheet_id: {PLAN}, {sheets}, "
            "tabs: {metrics: Metrics}}\n",
            f"  - {{type: sheets, spreadsheet_id: {STATUS}, {sheets}}}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


def test_waits_at_least_what_each_server_asks_in_seconds(tmp_path: Path, fakes: Fakes) -> None:
    ws = workspace(tmp_path, fakes, budget_s=30)
    reset = int(time.time()) + 3
    fakes.jira.inject(Fault("GET", SEARCH, Response(429, {}, {"Retry-After": "2"})))
    fakes.github.inject(
        Fault(
            "GET",
            ISSUES,
            Response(
                403,
                {"message": "API rate limit exceeded for user ID 1."},
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            ),
        )
    )
    fakes.sheets.inject(Fault("GET", PLAN_VALUES, Response(429, {}, {"Retry-After": "1"})))
    fakes.sheets.inject(Fault("POST", BATCH_UPDATE, Response(429, {}, {"Retry-After": "2"})))
    run = ws.goalsync("run")
    assert run.code == 0, run

    (jira_gap,) = gaps(fakes.jira.arrived("GET", SEARCH))
    assert jira_gap >= 2.0
    _, second = fakes.github.arrived("GET", ISSUES)
    assert second.wall >= reset  # GitHub's primary limit: not before x-ratelimit-reset
    (plan_gap,) = gaps(fakes.sheets.arrived("GET", PLAN_VALUES))
    assert plan_gap >= 1.0
    (sink_gap,) = gaps(fakes.sheets.arrived("POST", BATCH_UPDATE))
    assert sink_gap >= 2.0
    assert len([e for e in run.events if e.get("event") == "retrying"]) == 4


def test_waits_until_an_http_date_and_through_a_secondary_limit(
    tmp_path: Path, fakes: Fakes
) -> None:
    ws = workspace(tmp_path, fakes, budget_s=30)
    fakes.jira.limit_until_date("GET", SEARCH, 2)
    fakes.sheets.limit_until_date("GET", PLAN_VALUES, 2, status=503)
    fakes.sheets.limit_until_date("POST", BATCH_UPDATE, 2)
    fakes.github.inject(Fault("GET", ISSUES, Response(403, GITHUB_SECONDARY, {"Retry-After": "2"})))
    run = ws.goalsync("run")
    assert run.code == 0, run

    for server, method, path in (
        (fakes.jira, "GET", SEARCH),
        (fakes.sheets, "GET", PLAN_VALUES),
        (fakes.sheets, "POST", BATCH_UPDATE),
    ):
        _, second = server.arrived(method, path)
        assert second.wall >= server.asked_until[(method, path)], path
    (github_gap,) = gaps(fakes.github.arrived("GET", ISSUES))
    assert github_gap >= 2.0  # a secondary limit that names its wait


def test_a_wait_longer_than_the_budget_gives_up_at_once(tmp_path: Path, fakes: Fakes) -> None:
    """A server that asks for more than the run's budget is not waited for: the sources go
    stale, the publish fails, each after one attempt, and the run ends well inside the budget."""
    ws = workspace(tmp_path, fakes, budget_s=5)
    fakes.jira.inject(Fault("GET", SEARCH, Response(429, {}, {"Retry-After": "600"}), times=9))
    fakes.github.inject(Fault("GET", ISSUES, Response(403, GITHUB_SECONDARY), times=9))  # 60 s
    fakes.sheets.inject(
        Fault("GET", PLAN_VALUES, Response(429, {}, {"Retry-After": "120"}), times=9)
    )
    fakes.sheets.inject(
        Fault("POST", BATCH_UPDATE, Response(429, {}, {"Retry-After": "120"}), times=9)
    )
    run = ws.goalsync("run")
    assert run.code == 4, run
    assert run.seconds < 5
    assert fakes.jira.count("GET", SEARCH) == 1
    assert fakes.github.count("GET", ISSUES) == 1
    assert fakes.sheets.count("GET", PLAN_VALUES) == 1
    assert fakes.sheets.count("POST", BATCH_UPDATE) == 1
    failed = {e["source"]: e["error"] for e in run.events if e.get("event") == "source_failed"}
    assert sorted(failed) == ["gh", "jira", "plan"]
    assert "secondary rate limit" in failed["gh"]
    assert "retrying" not in run.names()


def test_attempts_do_not_multiply_across_layers(tmp_path: Path, fakes: Fakes) -> None:
    """Every server fails every time and asks for no wait: each request is attempted exactly
    as often as goalsync's retry layer allows, never that times a library's own retries."""
    ws = workspace(tmp_path, fakes, budget_s=30)
    now = {"Retry-After": "0"}
    fakes.jira.inject(Fault("GET", SEARCH, Response(503, {}, now), times=99))
    fakes.github.inject(Fault("GET", ISSUES, Response(502, {}, now), times=99))
    fakes.sheets.inject(Fault("GET", PLAN_VALUES, Response(503, {}, now), times=99))
    fakes.sheets.inject(Fault("POST", BATCH_UPDATE, Response(500, {}, now), times=99))
    run = ws.goalsync("run")
    assert run.code == 4, run
    assert fakes.jira.count("GET", SEARCH) == MAX_ATTEMPTS
    assert fakes.github.count("GET", ISSUES) == MAX_ATTEMPTS
    assert fakes.sheets.count("GET", PLAN_VALUES) == MAX_ATTEMPTS
    assert fakes.sheets.count("POST", BATCH_UPDATE) == MAX_ATTEMPTS


def test_backing_off_without_retry_after_stays_within_the_budget(
    tmp_path: Path, fakes: Fakes
) -> None:
    """429s and 503s that name no wait: exponential backoff, each source's waiting bounded by
    the budget (a sleep that would pass it is not started)."""
    budget = 3.0
    ws = workspace(tmp_path, fakes, budget_s=budget)
    fakes.jira.inject(Fault("GET", SEARCH, Response(429, {}), times=99))
    fakes.github.inject(Fault("GET", ISSUES, Response(503, {}), times=99))
    fakes.sheets.inject(Fault("GET", PLAN_VALUES, Response(429, {}), times=99))
    run = ws.goalsync("run")
    assert run.code == 3, run
    for server, method, path in (
        (fakes.jira, "GET", SEARCH),
        (fakes.github, "GET", ISSUES),
        (fakes.sheets, "GET", PLAN_VALUES),
    ):
        arrivals = server.arrived(method, path)
        assert 2 <= len(arrivals) < MAX_ATTEMPTS, (path, len(arrivals))
        assert arrivals[-1].monotonic - arrivals[0].monotonic <= budget, path
