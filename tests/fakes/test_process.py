from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.process import FakeProcessError, ForkedFake
from tests.fakes.server import FakeServer, Request, Response

REPO = Path(__file__).resolve().parents[2]
ISOLATED = "GOALSYNC_FORK_TEST"  # set in the fresh interpreter a test runs in (isolated)


def isolated(test: Callable[[], None]) -> Callable[[], None]:
    """Run the test in a fresh interpreter. ForkedFake forks only when no other thread runs,
    and a pytest process that ran other tests first may still hold some: a loopback server's
    handler thread that a fault test left sleeping on a hung connection, for instance."""

    @functools.wraps(test)
    def in_fresh_interpreter() -> None:
        if os.environ.get(ISOLATED) == test.__name__:
            test()
            return
        done = subprocess.run(
            [sys.executable, "-c", f"from {__name__} import {test.__name__} as t; t()"],
            cwd=REPO,
            env={**os.environ, ISOLATED: test.__name__},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    return in_fresh_interpreter


class Pid(FakeServer):
    """Answers with the process that answered and a value set through `call`."""

    def __init__(self) -> None:
        super().__init__()
        self.value = "seeded"

    def handle(self, request: Request) -> Response:
        return Response(200, {"pid": os.getpid(), "value": self.value})


def get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        answer: dict[str, object] = json.loads(resp.read())
        return answer


def set_value(fake: Pid, value: str) -> str:
    old, fake.value = fake.value, value
    return old


def fail(fake: Pid) -> None:
    raise ValueError("no such thing")


@isolated
def test_serves_the_seeded_fake_from_another_process_and_runs_calls_there() -> None:
    fake = Pid()
    fake.value = "before the fork"
    with ForkedFake(fake) as served:
        answer = get(f"{served.url}/x")
        assert answer["pid"] != os.getpid()
        assert answer["value"] == "before the fork"
        assert served.call(set_value, "changed") == "before the fork"
        assert get(f"{served.url}/x")["value"] == "changed"
        assert fake.value == "before the fork"  # the parent's copy is not the one served
        assert served.call(FakeServer.count) == 2
        served.call(FakeServer.reset_counts)
        assert served.call(FakeServer.count, path_prefix="/x") == 0
        assert served.cpu_seconds() > 0


@isolated
def test_a_failed_call_raises_here_with_its_traceback_and_the_child_goes_on() -> None:
    with ForkedFake(Pid()) as served:
        with pytest.raises(FakeProcessError, match="ValueError: no such thing"):
            served.call(fail)
        assert served.call(set_value, "still there") == "seeded"


@isolated
def test_the_child_ends_with_stop_and_when_the_parent_end_closes() -> None:
    served = ForkedFake(Pid()).start()
    process = served._process
    assert process is not None and process.is_alive()
    served.stop()
    assert not process.is_alive() and process.exitcode == 0
    with pytest.raises(FakeProcessError, match="not running"):
        served.call(FakeServer.count)

    # A parent that dies without stop(): the child reads end of file and exits on its own.
    served = ForkedFake(Pid()).start()
    process, conn = served._process, served._conn
    assert process is not None and conn is not None
    conn.close()
    process.join(5)
    assert not process.is_alive() and process.exitcode == 0
    served._conn = None
    served.stop()


@isolated
def test_a_fake_started_before_the_fork_is_served_on_the_same_port() -> None:
    fake = Pid()
    with fake:
        url = fake.url  # what a fake seeded after start may have written into its data
        fake.value = url
        with ForkedFake(fake) as served:
            assert served.url == url
            answer = get(f"{url}/x")
            assert answer["pid"] != os.getpid() and answer["value"] == url
        assert not fake.bound  # this process's copy of the port is closed


@isolated
def test_refuses_to_fork_while_another_thread_runs() -> None:
    fake = Pid()
    with fake, Pid() as running:  # the second one's server thread
        with pytest.raises(FakeProcessError, match="other threads"):
            ForkedFake(fake).start()
        assert running.url
