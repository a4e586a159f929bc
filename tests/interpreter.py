"""Code run by a fresh Python interpreter, from the repository's root: what a command imports, or
what it does, without anything the test process loaded already counting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def fresh_python(code: str, *args: str) -> str:
    """The stdout of `python -c code args...`; a failure raises with its stderr in the message."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout
