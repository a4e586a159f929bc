"""Guarantee 7: data that changes while it is paged, and items updated exactly at the cursor:
every item appears exactly once.

- While a run reads three 250-item scopes page by page (Jira Cloud, Jira Data Center, GitHub;
  100 a page), an item of the first page is edited: on a server whose pages are offsets into a
  list ordered by update time it would move to the end, and the item at the page boundary would
  slide onto the page already read and be missed. Every item must be in the Items tab exactly
  once, and in the store.
- With no lookback, an item updated exactly at the cursor the last run left is read by the next
  run, and shows once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import Request, Response
from tests.reliability.helpers import Workspace, config, cycle_around_today

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
N = 250
GOALS = """\
  - id: G1
    title: Everything
    key_results:
      - {id: G1.1, title: Cloud, measure: percent_done, select: [{source: cloud}]}
      - {id: G1.2, title: Data Center, measure: percent_done, select: [{source: dc}]}
      - {id: G1.3, title: GitHub, measure: percent_done, select: [{source: gh}]}
"""


class MovingJira(FakeJira):
    """Edits PAY-5 (on the first page) right after answering the first page of the scope."""

    moved = False

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        first_page = request.arg("nextPageToken") is None and request.arg("startAt") in (None, "0")
        fields = request.arg("fields") or ""
        search = request.path.endswith(("/search/jql", "/search")) and fields != "key"
        if search and first_page and not self.moved and response.status == 200:
            self.moved = True
            self.transition("PAY-5", "In Progress", "indeterminate")
        return response


class MovingGitHub(FakeGitHub):
    """Edits issue #5 (on the first page) right after answering the first issues page."""

    moved = False

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        issues = request.path.endswith("/issues") and request.arg("page") in (None, "1")
        if issues and not self.moved and response.status == 200:
            self.moved = True
            now = datetime.now(UTC).replace(microsecond=0)
            self.repos["acme/web"].update(5, at=now, title="edited while paged")
        return response


@pytest.fixture
def fakes() -> Iterator[tuple[MovingJira, MovingJira, MovingGitHub]]:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    cloud = MovingJira("cloud", auth=Auth("basic", EMAIL, TOKEN), max_page=100)
    dc = MovingJira("dc", auth=Auth("basic", EMAIL, TOKEN), max_page=100)
    github = MovingGitHub(token=GH_TOKEN)
    with cloud, dc, github:
        for fake in (cloud, dc):
            for n in range(1, N + 1):
                fake.add_issue(f"PAY-{n}", created=t0, updated=t0 + timedelta(minutes=n))
        web = github.add_repo("acme/web")
        for n in range(1, N + 1):
            web.add_issue(n, created=t0, updated=t0 + timedelta(minutes=n))
        yield cloud, dc, github


def workspace(
    root: Path, cloud: FakeJira, dc: FakeJira, github: FakeGitHub, extra: str
) -> Workspace:
    ws = Workspace(
        root, env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN, "GITHUB_TOKEN": GH_TOKEN}
    )
    ws.write_config(
        config(
            f"  cloud: {{type: jira, url: '{cloud.url}', jql: project = PAY{extra}}}\n"
            f"  dc: {{type: jira, url: '{dc.url}', jql: project = PAY{extra}}}\n"
            f"  gh: {{type: github, repos: [acme/web], base_url: '{github.url}'{extra}}}\n",
            "  - {type: csv, path: out/csv}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


def keys_in_items(ws: Workspace) -> Counter[tuple[str, str]]:
    return Counter((r["Source"], r["Key"]) for r in ws.csv_rows("Items"))


def expected_keys() -> set[tuple[str, str]]:
    jira = {f"PAY-{n}" for n in range(1, N + 1)}
    return {
        *(("cloud", k) for k in jira),
        *(("dc", k) for k in jira),
        *(("gh", f"acme/web#{n}") for n in range(1, N + 1)),
    }


def test_an_item_edited_while_its_scope_is_paged_moves_nothing_out(
    tmp_path: Path, fakes: tuple[MovingJira, MovingJira, MovingGitHub]
) -> None:
    cloud, dc, github = fakes
    ws = workspace(tmp_path, cloud, dc, github, "")
    run = ws.goalsync("run")
    assert run.code == 0, run
    assert cloud.moved and dc.moved and github.moved  # each edit happened mid-paging
    seen = keys_in_items(ws)
    assert set(seen) == expected_keys()  # nothing missed ...
    assert max(seen.values()) == 1  # ... and nothing twice
    stored = ws.query("SELECT source, key FROM records WHERE kind = 'item'")
    assert len(stored) == len(set(stored)) == 3 * N

    # The edit made while paging is read by the next run, still once.
    again = ws.goalsync("run")
    assert again.code == 0, again
    seen = keys_in_items(ws)
    assert set(seen) == expected_keys() and max(seen.values()) == 1
    items = {(r["Source"], r["Key"]): r for r in ws.csv_rows("Items")}
    assert items[("gh", "acme/web#5")]["Title"] == "edited while paged"
    assert items[("cloud", "PAY-5")]["State"] == "in_progress"
    assert items[("dc", "PAY-5")]["State"] == "in_progress"


def test_an_item_updated_exactly_at_the_cursor_is_read_once(
    tmp_path: Path, fakes: tuple[MovingJira, MovingJira, MovingGitHub]
) -> None:
    cloud, dc, github = fakes
    for fake in (cloud, dc, github):
        fake.moved = True  # no edits while paging here
    ws = workspace(tmp_path, cloud, dc, github, ", lookback_minutes: 0")
    assert ws.goalsync("run").code == 0

    # Jira's cursor is the last run's start; GitHub's the newest update it read.
    for name, fake in (("cloud", cloud), ("dc", dc)):
        at = datetime.fromisoformat(ws.source_row(name)["cursor"])
        fake.add_issue("PAY-900", created=at - timedelta(days=1), updated=at)
    watermark = json.loads(ws.source_row("gh")["cursor"])["repos"]["acme/web"]
    assert watermark == max(i["updated_at"] for i in github.repos["acme/web"].issues.values())
    github.repos["acme/web"].add_issue(
        900, created=datetime.fromisoformat(watermark) - timedelta(days=1),
        updated=datetime.fromisoformat(watermark),
    )  # fmt: skip

    second = ws.goalsync("run")
    assert second.code == 0, second
    seen = keys_in_items(ws)
    wanted = expected_keys() | {("cloud", "PAY-900"), ("dc", "PAY-900"), ("gh", "acme/web#900")}
    assert set(seen) == wanted
    assert max(seen.values()) == 1
