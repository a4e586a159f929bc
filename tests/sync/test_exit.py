"""`python -m sync.cli` ends without the interpreter's teardown, and loses nothing by it."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import sys, threading, time
from sync.cli import exit_now
print("written", end="")  # buffered: a pipe, no newline
sys.stderr.write("logged")
if sys.argv[1] == "thread":  # another thread runs: the ordinary exit waits for it
    threading.Thread(target=lambda: (time.sleep(0.3), print(" by the thread", end=""))).start()
exit_now(3)
"""


@pytest.mark.parametrize(
    ("mode", "out"), [("alone", "written"), ("thread", "written by the thread")]
)
def test_exit_now_flushes_and_keeps_the_exit_code(mode: str, out: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert done.stdout == out
    assert done.stderr == "logged"
