"""Exception types that say what to do about a failure.

Connectors translate their libraries' errors into these at the boundary, so the engine decides by
type alone: retry it, give up on the source (stale), fail the run as a config error, or fail the
publish. This module imports nothing from goalsync.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_STALE = 3
EXIT_PUBLISH = 4


class GoalsyncError(Exception):
    """Base class. The message is what a user reads: it names the thing and the fix."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One configuration problem, located in a file."""

    file: str
    line: int | None
    path: str  # "goals[0].key_results[1].select[0].source"
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


class ConfigError(GoalsyncError):
    """Bad configuration or usage, or a scope the server rejects: exit 2, publish nothing."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems = problems or []
        if self.problems:
            lines = "\n".join(f"  {p}" for p in self.problems)
            message = f"{message}\n{lines}"
        super().__init__(message)


class SourceError(GoalsyncError):
    """A source could not be read; it keeps its last good values and is marked stale."""


class RetriableError(SourceError):
    """A transient failure (timeout, 5xx, 429). `retry_after` is what the server asked for."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeadlineExceeded(RetriableError):
    """A response did not arrive whole (headers and body) within its deadline: a server that
    trickles bytes never trips a socket's read timeout. The message names the endpoint.
    `budget_cut`: the deadline was the end of the retry budget (a retry), not the setting."""

    def __init__(self, message: str, *, budget_cut: bool = False) -> None:
        super().__init__(message)
        self.budget_cut = budget_cut


class AuthError(SourceError):
    """Credentials missing, wrong or without access. Never retried."""


class FatalError(SourceError):
    """A failure retrying cannot fix (malformed payload, unexpected answer)."""


class ResponseTooLarge(FatalError):
    """A response was larger than the size cap (by its Content-Length, or as it was read): not
    retried, the same request would get the same answer. The message names the endpoint."""


class PublishError(GoalsyncError):
    """A sink could not be written: exit 4, state unchanged."""
