"""What an HTTP status means for goalsync, as a table that each connector extends.

The base table says what every API shares: 401/403 refuse the credentials (AuthError, naming what
to check), 408/429/5xx are worth another try (RetriableError, waiting what the server asked), a
404/410 names something that is not there and 400/422 a request the server refuses (FatalError:
retrying cannot fix them), anything else is an answer goalsync cannot use. A connector extends it
with what its API means beyond that (Jira: a 400 to a search is a JQL error, a config error;
GitHub: a 403 with its rate-limit headers is a wait, not a refusal; Sheets: a 429 is the quota),
each rule returning None where the case is not its own, so that the base decides. The connector
builds the `Answer` (its own words for where, what the server said, what to check); the rules
only choose the error. Bottom of the project: imports only `errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeAlias, TypeVar

from sync.base.errors import AuthError, FatalError, GoalsyncError, RetriableError

C = TypeVar("C")  # what a connector's own rules know beyond the answer (its request, its client)
D = TypeVar("D")

SERVER_ERROR: Literal["5xx"] = "5xx"  # the key of every status from 500 on
OTHER: Literal["other"] = "other"  # the key of whatever no other rule answers
Key: TypeAlias = int | Literal["5xx", "other"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """An error answer, as the connector words it."""

    status: int
    where: str  # who asked what: starts every message ("source 'jira': Jira answered 404 to …")
    message: str = ""  # the server's own words, short ("" when it said nothing usable)
    context: str = ""  # what it was about, after the message in brackets ("repo acme/web")
    check: str = ""  # what a person should check when access is refused (variable names)
    note: str = ""  # said after why access was refused (what the server asks a person to do)
    retry_after: float | None = None  # seconds the server asked to wait, read from its headers
    # How a message reads: the server's words, else the phrase ("…: Bad gateway"); or the
    # phrase, then status and words ("…: server error (503: Service Unavailable)").
    quote_first: bool = True

    def say(self, phrase: str) -> str:
        after = f" ({self.context})" if self.context else ""
        if self.quote_first:
            return f"{self.where}: {self.message or phrase}{after}"
        return f"{self.where}: {phrase} ({self.status}: {self.message}){after}"


Rule: TypeAlias = Callable[[Answer, C], GoalsyncError | None]


def _refused(answer: Answer, ctx: object) -> GoalsyncError:
    why = "credentials refused" if answer.status == 401 else "no access"
    note = f" ({answer.note})" if answer.note else ""
    return AuthError(f"{answer.where} ({why}){note}; check {answer.check}")


def _retriable(answer: Answer, ctx: object) -> GoalsyncError:
    phrase = {408: "request timeout", 429: "too many requests"}.get(answer.status, "server error")
    return RetriableError(answer.say(phrase), retry_after=answer.retry_after)


def _missing(answer: Answer, ctx: object) -> GoalsyncError:
    return FatalError(answer.say("not found"))


def _refused_request(answer: Answer, ctx: object) -> GoalsyncError:
    return FatalError(answer.say("the request was refused"))


def _unexpected(answer: Answer, ctx: object) -> GoalsyncError:
    return FatalError(answer.say("unexpected answer"))


class ErrorTable(Generic[C]):
    """Status -> rules, tried in order, most specific key first (the status, then "5xx", then
    "other"), and for each key this table's rules before its parent's."""

    def __init__(
        self,
        rules: Mapping[Key, Rule[C] | Sequence[Rule[C]]],
        parent: ErrorTable[Any] | None = None,
    ) -> None:
        self._rules: dict[Key, tuple[Rule[C], ...]] = {
            key: tuple(rule) if isinstance(rule, Sequence) else (rule,)
            for key, rule in rules.items()
        }
        self._parent = parent

    def extend(self, rules: Mapping[Key, Rule[D] | Sequence[Rule[D]]]) -> ErrorTable[D]:
        """This table with a connector's rules in front (this table's rules take any context)."""
        return ErrorTable(rules, parent=self)

    def error(self, answer: Answer, ctx: C) -> GoalsyncError:
        keys: list[Key] = [answer.status]
        if answer.status >= 500:
            keys.append(SERVER_ERROR)
        keys.append(OTHER)
        for key in keys:
            for rule in self.rules_for(key):
                found = rule(answer, ctx)
                if found is not None:
                    return found
        return _unexpected(answer, ctx)  # a table whose "other" rules all passed

    def rules_for(self, key: Key) -> tuple[Rule[Any], ...]:
        inherited = self._parent.rules_for(key) if self._parent is not None else ()
        return self._rules.get(key, ()) + inherited


BASE: ErrorTable[object] = ErrorTable(
    {
        401: _refused,
        403: _refused,
        404: _missing,
        410: _missing,
        400: _refused_request,
        422: _refused_request,
        408: _retriable,
        429: _retriable,
        SERVER_ERROR: _retriable,
        OTHER: _unexpected,
    }
)


def is_error(status: int) -> bool:
    """An answer to translate: not a success, and not a 304 (a conditional request's "same")."""
    return status >= 300 and status != 304
