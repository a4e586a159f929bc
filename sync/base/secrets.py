"""The secrets this process holds, so that logging can mask them wherever they appear.

Connector builders register every secret they read (a token from a variable with any name);
`sync/log.py`'s redaction processor masks them along with secret-looking environment values.
Bottom of the project: imports nothing from goalsync.
"""

from __future__ import annotations

import os
import threading

from pydantic import SecretStr

_MIN_LEN = 6  # shorter values would mask ordinary words
_lock = threading.Lock()
_known: set[str] = set()


def register(value: str) -> None:
    if len(value) >= _MIN_LEN:
        with _lock:
            _known.add(value)


def known() -> list[str]:
    """Registered secrets, longest first (so a secret containing another is masked whole)."""
    with _lock:
        return sorted(_known, key=len, reverse=True)


def mask(text: str) -> str:
    """`text` with every registered secret replaced by `***`. For messages that go where the log's
    redaction does not reach (the Run tab, the state store, the CLI's summary): a server that
    quotes the credential it was sent in its error message must not put it in the sheet."""
    for value in known():
        if value in text:
            text = text.replace(value, "***")
    return text


def read_secret(env_name: str) -> SecretStr | None:
    """A secret from the environment, whitespace stripped (a token pasted with a newline
    otherwise fails as a 401), registered for masking; None when unset or blank."""
    value = os.environ.get(env_name, "").strip()
    if not value:
        return None
    register(value)
    return SecretStr(value)
