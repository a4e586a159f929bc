"""Structured logs: a readable console in a terminal, JSON lines otherwise (cron, containers).

How much is logged: a person at a terminal reads the summary the CLI prints, so the console log
shows warnings and errors only unless asked (`-v` info, `-vv` debug); JSON lines for machines keep
info (a log collector wants every run's events). An explicit level (`--log-level`,
GOALSYNC_LOG_LEVEL) wins over both.

Every event passes a redaction processor that replaces the values of secret-looking environment
variables (tokens, passwords, keys) wherever they appear, so a token that slips into an error
message or a URL never reaches the log.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from sync.base import secrets

# A variable holds a secret when a word of its name (split at "_") is one of these.
_SECRET_WORDS = frozenset(
    {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PAT", "KEY", "APIKEY", "EMAIL", "CREDENTIAL"}
)
_MIN_SECRET_LEN = 6  # shorter values would redact ordinary words
REDACTED = "***"


def secret_values(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they hold a secret."""
    env = os.environ if environ is None else environ
    found = []
    for name, value in env.items():
        words = set(name.upper().split("_"))
        if words & _SECRET_WORDS and len(value.strip()) >= _MIN_SECRET_LEN:
            found.append(value.strip())
    return sorted(set(found), key=len, reverse=True)


class Redactor:
    """A structlog processor that masks known secret values in every string of an event."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = [s for s in secrets if s]
        self.json = False  # whether the log is JSON lines (set by configure_logging)
        self.level = "info"  # the level in force (set by configure_logging)

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        for value in secrets.known():  # registered by connector builders as they read them
            self.add(value)
        if not self.secrets:
            return event
        return {k: self._clean(v) for k, v in event.items()}

    def add(self, secret: str) -> None:
        """Also mask `secret` (a token read from a variable with an unusual name)."""
        if len(secret) >= _MIN_SECRET_LEN and secret not in self.secrets:
            self.secrets.append(secret)
            self.secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._clean(v) for v in value)
        if isinstance(value, BaseException):
            return self.redact(f"{type(value).__name__}: {value}")
        return value


def default_level(use_json: bool, terminal: bool, verbose: int = 0) -> str:
    """The level when none was set: `-v` info, `-vv` debug; else warning for a console log in
    a terminal (a person reads the summary, not the events) and info otherwise (JSON lines,
    or a console log going to a file)."""
    if verbose >= 2:
        return "debug"
    if verbose == 1 or use_json or not terminal:
        return "info"
    return "warning"


def configure_logging(
    fmt: str = "auto", level: str | None = None, stream: TextIO | None = None, *, verbose: int = 0
) -> Redactor:
    """Set structlog up for this process. `level` None: `default_level`. Returns the redactor,
    for the CLI's own messages; its `level` is the level in force."""
    out = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    level = level or default_level(use_json, out.isatty(), verbose)
    redactor = Redactor(secret_values())
    redactor.json = use_json
    redactor.level = level
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Render exceptions as type and message only: tracebacks with locals can carry secrets.
        _exception_summary,
        redactor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    return redactor


def _exception_summary(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    exc = event.pop("exc_info", None)
    if exc:
        if exc is True:
            exc = sys.exc_info()[1]
        elif isinstance(exc, tuple):
            exc = exc[1]
        if isinstance(exc, BaseException):
            event["error"] = f"{type(exc).__name__}: {exc}"
    return event
