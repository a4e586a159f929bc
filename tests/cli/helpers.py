"""Shared by the CLI tests: the goalsync CLI as a subprocess (as a user or a scheduler runs it),
a loopback-only network guard for it, and a service account key whose token endpoint is the
fake Sheets server's."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.guard import guarded_env

REPO = Path(__file__).resolve().parents[2]
SA_EMAIL = "goalsync@acme-prod.iam.gserviceaccount.com"

# What a person's shell has beside what the test sets: nothing of goalsync's or the services'.
_DROPPED = ("GOALSYNC_", "JIRA_", "GITHUB_", "GOOGLE_")


def clean_env(root: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    env = guarded_env(root, env) | {"GOALSYNC_LOG_FORMAT": "json"}
    return env | dict(extra or {})


def goalsync(
    root: Path, *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`goalsync ARGS` in `root`, as a person types it (the console script's module)."""
    return subprocess.run(
        [sys.executable, "-m", "sync.cli", *args],
        cwd=root,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def service_account_key(path: Path, token_uri: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": SA_EMAIL,
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def run_in_terminal(root: Path, *args: str, env: dict[str, str]) -> tuple[int, str]:
    """The CLI with stdout and stderr on a pseudo-terminal; everything it drew, as text."""
    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "sync.cli", *args],
        cwd=root,
        env=env | {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"},
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        close_fds=True,
    )
    os.close(child_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 1.0)
        if ready:
            try:
                data = os.read(main_fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    code = process.wait(timeout=30)
    os.close(main_fd)
    return code, b"".join(chunks).decode("utf-8", errors="replace")
