from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.fakes.process import FakeProcessError, ForkedFake
from tests.fakes.server import FakeServer, Request, Response


@pytest.fixture(autouse=True)
def no_other_threads() -> Iterator[None]:
    """ForkedFake forks only without other threads; an earlier test's server may still be
    finishing its handler threads (daemons) for a moment."""
    deadline = time.monotonic() + 5
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    if threading.active_count() > 1:
        pytest.skip(f"other threads still running: {threading.enumerate()}")
    yield


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


def test_a_failed_call_raises_here_with_its_traceback_and_the_child_goes_on() -> None:
    with ForkedFake(Pid()) as served:
        with pytest.raises(FakeProcessError, match="ValueError: no such thing"):
            served.call(fail)
        assert served.call(set_value, "still there") == "seeded"


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


def test_refuses_to_fork_while_another_thread_runs() -> None:
    fake = Pid()
    with fake, Pid() as running:  # the second one's server thread
        with pytest.raises(FakeProcessError, match="other threads"):
            ForkedFake(fake).start()
        assert running.url
