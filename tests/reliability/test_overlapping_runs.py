"""Guarantee 4: overlapping runs. While one run holds the state dir's lock (held in its pull by a
slow Jira), a second process sees the lock, logs that it skipped, exits 0 and touches nothing: no
request, no state, no output. A lock whose holder died (killed with SIGKILL mid-run, or a lock
file naming a process long gone) is simply taken over by the next run.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import Fault
from tests.reliability.helpers import LOCK, Workspace, config, cycle_around_today, wait_for

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
SEARCH = "/rest/api/3/search/jql"
GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Jira work, measure: percent_done, select: [{source: jira}]}
"""


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud", auth=Auth("basic", EMAIL, TOKEN)) as fake:
        old = datetime.now(UTC) - timedelta(days=3)
        for n in range(1, 5):
            fake.add_issue(f"PAY-{n}", updated=old)
        yield fake


@pytest.fixture
def ws(tmp_path: Path, jira: FakeJira) -> Workspace:
    ws = Workspace(tmp_path, env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN})
    ws.write_config(
        config(
            f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n",
            "  - {type: csv, path: out/csv}\n",
            GOALS,
            cycle=cycle_around_today(),
        )
    )
    return ws


def test_a_second_process_skips_while_the_first_holds_the_lock(
    ws: Workspace, jira: FakeJira
) -> None:
    jira.inject(Fault("GET", SEARCH, delay=6.0))  # holds the first run in its pull
    first = ws.start("run")
    try:
        wait_for(lambda: jira.count("GET", SEARCH) == 1, what="the first run to search")
        requests = jira.count()
        assert not ws.lock_is_free()
        second = ws.goalsync("run")
        assert second.code == 0, second
        skipped = second.event("run_skipped")
        assert f"pid {first.pid}" in skipped["holder"]
        assert "run_started" not in second.names()
        assert jira.count() == requests  # the second run asked Jira nothing
        assert ws.db_bytes() is None and not ws.out.exists()  # and wrote nothing
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    assert ws.status()["G1.1"]["Done / Total"] == "0 / 4"
    assert (ws.state / LOCK).read_text() == ""  # released, naming no holder
    assert ws.goalsync("run").code == 0  # and the next run gets it


def test_a_lock_whose_holder_was_killed_is_taken_over(ws: Workspace, jira: FakeJira) -> None:
    jira.inject(Fault("GET", SEARCH, delay=30.0))
    holder = ws.start("run")
    wait_for(lambda: jira.count("GET", SEARCH) == 1, what="the run to search")
    assert not ws.lock_is_free()
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=10)
    assert f"pid {holder.pid}" in (ws.state / LOCK).read_text()  # a dead holder's name stays
    assert ws.db_bytes() is None

    taken = ws.goalsync("run")
    assert taken.code == 0, taken
    assert "run_skipped" not in taken.names()
    assert ws.status()["G1.1"]["Done / Total"] == "0 / 4"
    assert (ws.state / LOCK).read_text() == ""


def test_a_lock_file_left_by_a_process_long_gone_is_taken_over(ws: Workspace) -> None:
    ws.state.mkdir()
    dead = 2**22 + 12345  # above any pid this machine hands out
    with pytest.raises(ProcessLookupError):
        os.kill(dead, 0)
    (ws.state / LOCK).write_text(f"pid {dead} since 2026-11-16T01:00:00+00:00\n")
    run = ws.goalsync("run")
    assert run.code == 0, run
    assert "run_skipped" not in run.names()
    assert (ws.state / LOCK).read_text() == ""
