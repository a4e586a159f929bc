"""Every request has a deadline for the whole response and a size cap (DESIGN, "Rules that keep it
honest"): a response past either fails that source (stale), never the run.

Found before the fix: a GitHub list that sent its headers and then one byte every 2 s kept a run
going for over four minutes, holding the run lock (the socket's read timeout is per byte, not per
response); a 50 MB answer was read whole (peak RSS 300 MB against 108 MB normally).

Here each of the three sources (Jira, GitHub, a Sheets plan tab) meets, through its real client
library, a loopback fake that (a) sends its headers and then one byte every 0.5 s, or (b) sends a
50 MB body, with or without Content-Length. The run must exit 3 with that source stale, its error
naming the endpoint, within the deadline plus the retry budget, with the run lock released; and a
run fed a 50 MB body must peak at about the memory of a normal run.
"""

# ruff: noqa: F811
from __future__ import annotations

import pytest

from tests.fakes.server import Fault
from tests.reliability.helpers import Result, Workspace

# The stale-source suite's three live sources and its workspace (read timeouts of 1 s), shared
# rather than copied: its fixtures `fakes` and `ws` are imported (hence F811 off in this file:
# the tests' parameters are those fixtures).
from tests.reliability.test_failing_source_stays_stale import (  # noqa: F401
    ISSUES,
    SEARCH,
    VALUES,
    Fakes,
    fakes,
    ws,
)

PATH_OF = {"jira": SEARCH, "gh": ISSUES, "plan": VALUES}
SERVER_OF = {"jira": "jira", "gh": "github", "plan": "sheets"}
DEADLINE_S = 1.5
BUDGET_S = 4.0
# The read timeout (1 s) is longer than the gap between trickled bytes: the socket never times
# out, only a deadline for the whole response can end such a request.
ENV = {"GOALSYNC_RETRY_BUDGET_S": str(BUDGET_S), "GOALSYNC_REQUEST_DEADLINE_S": str(DEADLINE_S)}
# Interpreter start-up, the healthy sources and publishing: a run takes about 2 s here.
SLACK_S = 8.0
MB = 1 << 20
HUGE = 50 * MB


def run(
    ws: Workspace, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> Result:
    return ws.goalsync(*args, env=ENV | (env or {}), timeout=timeout)


def assert_only_stale(ws: Workspace, result: Result, source: str, *words: str) -> None:
    assert result.code == 3, result
    assert result.event("run_finished")["stale"] == [source]
    error = ws.source_row(source)["last_error"]
    assert ws.source_row(source)["stale_since"] is not None
    for word in (*words, PATH_OF[source]):  # the error names the endpoint
        assert word in error, (word, error)
    assert ws.lock_is_free()
    assert not ws.temp_files()


@pytest.mark.parametrize("source", ["gh", "jira", "plan"])
def test_a_trickling_answer_makes_its_source_stale_within_deadline_and_budget(
    source: str, ws: Workspace, fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(ws, "run").code == 0
    fakes.inject(source, Fault("GET", PATH_OF[source], trickle=0.5, times=99))
    # Unfixed, the trickle lasts nine hours: the timeout shows the hang as a failure.
    slow = run(ws, "run", timeout=40)
    assert_only_stale(ws, slow, source, "deadline")
    assert slow.seconds < DEADLINE_S + BUDGET_S + SLACK_S, slow.seconds
    with capsys.disabled():
        error = ws.source_row(source)["last_error"]
        print(f"\n{source}: a trickle made the run exit 3 after {slow.seconds:.1f} s: {error}")

    getattr(fakes, SERVER_OF[source]).faults.clear()
    healed = run(ws, "run")  # the lock was released: the next run runs, and heals
    assert healed.code == 0, healed


@pytest.mark.parametrize(
    ("source", "chunked"),
    # requests (Jira, GitHub) and httplib2 (Sheets), each with and without Content-Length
    [("gh", False), ("jira", True), ("plan", False), ("plan", True)],
)
def test_a_huge_answer_makes_its_source_stale(
    source: str, chunked: bool, ws: Workspace, fakes: Fakes
) -> None:
    assert run(ws, "run").code == 0
    server = getattr(fakes, SERVER_OF[source])
    server.reset_counts()
    server.inject(Fault("GET", PATH_OF[source], huge=HUGE, chunked=chunked, times=99))
    huge = run(ws, "run", timeout=60)
    assert_only_stale(ws, huge, source, "larger than", "32 MB", "GOALSYNC_MAX_RESPONSE_MB")
    # Too large is not retried: the same request would get the same answer.
    assert server.count("GET", PATH_OF[source]) == 1


def test_the_size_cap_is_a_setting(ws: Workspace, fakes: Fakes) -> None:
    assert run(ws, "run").code == 0
    fakes.inject("gh", Fault("GET", ISSUES, huge=3 * MB, times=99))
    small = run(ws, "run", env={"GOALSYNC_MAX_RESPONSE_MB": "2"})
    assert_only_stale(ws, small, "gh", "larger than", "2 MB")
    run(ws, "run", env={"GOALSYNC_MAX_RESPONSE_MB": "4"})  # read, then refused by shape
    assert "larger than" not in ws.source_row("gh")["last_error"]


def measured(ws: Workspace, *args: str, timeout: float = 120) -> tuple[int, int]:
    """Run the CLI; its exit code and its own peak resident memory in KB (VmHWM, which the
    child reports as it exits: rusage would count the pytest process it was forked from)."""
    result = ws.goalsync(*args, env=ENV, timeout=timeout)
    (ws.root / "measured.err").write_text(result.stderr, encoding="utf-8")
    assert result.peak_mb > 0, "the child did not report its peak"
    return result.code, int(result.peak_mb * 1024)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_huge_answer_is_not_read_whole(
    chunked: bool, ws: Workspace, fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    code, normal_kb = measured(ws, "run")
    assert code == 0, (ws.root / "measured.err").read_text()[-3000:]
    fakes.inject("gh", Fault("GET", ISSUES, huge=HUGE, chunked=chunked, times=99))
    code, huge_kb = measured(ws, "run")
    assert code == 3, (ws.root / "measured.err").read_text()[-3000:]
    with capsys.disabled():
        print(f"\npeak RSS: normal run {normal_kb // 1024} MB, 50 MB body {huge_kb // 1024} MB")
    # At most what the cap lets in (32 MB) once more than a normal run, nowhere near the
    # 300 MB seen when the body was read whole and parsed.
    assert huge_kb < normal_kb + 48 * 1024, (normal_kb, huge_kb)
