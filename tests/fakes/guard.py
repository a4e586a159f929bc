"""The loopback guard for goalsync run as a subprocess: a sitecustomize that records and refuses
any connection that is not to 127.0.0.1 (a test that reached out of the machine, or an
application-default-credentials probe of a metadata server, shows up in the attempts file)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

GUARD = """
import os, socket

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_connect, _getaddrinfo = socket.socket.connect, socket.getaddrinfo


def _host(address):
    return address[0] if isinstance(address, tuple) else str(address)


def _record(what):
    with open(os.environ["NETWORK_ATTEMPTS"], "a") as fh:
        fh.write(repr(what) + "\\n")
    raise OSError("only loopback is allowed in this test")


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in _LOOPBACK:
        _record(address)
    return _connect(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host not in _LOOPBACK:
        _record(host)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.getaddrinfo = getaddrinfo
"""


def guarded_env(root: Path, env: dict[str, str], seams: str = "") -> dict[str, str]:
    """`env` with the guard installed for a child Python: its sitecustomize first on the path
    (then the repository), attempts recorded in `root/network-attempts.txt`. `seams` is more
    code for the same sitecustomize (test-only switches a suite needs in the child)."""
    guard = root / ".guard"
    guard.mkdir(parents=True, exist_ok=True)
    (guard / "sitecustomize.py").write_text(GUARD + seams, encoding="utf-8")
    return env | {
        "PYTHONPATH": os.pathsep.join([str(guard), str(REPO)]),
        "NETWORK_ATTEMPTS": str(attempts_file(root)),
    }


def attempts_file(root: Path) -> Path:
    """Where the guard writes each refused connection (absent when there was none)."""
    return root / "network-attempts.txt"
