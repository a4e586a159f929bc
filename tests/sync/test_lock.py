"""sync.lock.run_lock: one run per state dir; a dead holder's lock is simply taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

import sync
from sync.lock import LOCK_NAME, LockHeld, run_lock

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
REPO = Path(sync.__file__).resolve().parents[1]


def test_a_second_acquirer_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    with run_lock(tmp_path, NOW):
        text = (tmp_path / LOCK_NAME).read_text()
        assert f"pid {os.getpid()}" in text and NOW.isoformat() in text
        with pytest.raises(LockHeld) as held, run_lock(tmp_path, NOW):
            pytest.fail("a second holder got in")
        assert f"pid {os.getpid()}" in held.value.holder
    # Released: the next one gets it, and the file no longer names a holder.
    assert (tmp_path / LOCK_NAME).read_text() == ""
    with run_lock(tmp_path, NOW):
        pass


def test_the_lock_is_released_when_the_body_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), run_lock(tmp_path, NOW):
        raise RuntimeError("run failed")
    with run_lock(tmp_path, NOW):
        pass


def test_the_state_dir_is_created(tmp_path: Path) -> None:
    state_dir = tmp_path / "a" / "b"
    with run_lock(state_dir, NOW):
        assert (state_dir / LOCK_NAME).is_file()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from sync.lock import run_lock

    with run_lock(Path(sys.argv[1]), datetime.now(UTC)):
        print("locked", flush=True)
        time.sleep(120)
    """
)


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockHeld) as held, run_lock(tmp_path, NOW):
            pytest.fail("the lock of a live process was taken")
        assert f"pid {holder.pid}" in held.value.holder

        os.kill(holder.pid, signal.SIGKILL)
        assert holder.wait(timeout=10) == -signal.SIGKILL
        # The holder never ran its cleanup: the file still names it, yet the lock is free.
        assert f"pid {holder.pid}" in (tmp_path / LOCK_NAME).read_text()
        with run_lock(tmp_path, NOW):
            assert f"pid {os.getpid()}" in (tmp_path / LOCK_NAME).read_text()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
