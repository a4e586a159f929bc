"""The HTTP status -> error kind table: each status of the base to its kind, and how rules in
front of it decide or pass (the connectors' own tables: tests/connectors/test_error_tables.py)."""

from __future__ import annotations

from typing import Any

import pytest

from sync.base.errors import (
    AuthError,
    ConfigError,
    FatalError,
    GoalsyncError,
    RetriableError,
)
from sync.base.httperrors import BASE, OTHER, Answer, ErrorTable, is_error


def answer(status: int, **changes: Any) -> Answer:
    args: dict[str, Any] = {
        "status": status,
        "where": f"source 'x': Acme answered {status} to the list",
        "message": "",
        "check": "ACME_TOKEN",
        "retry_after": 7.0,
    }
    return Answer(**(args | changes))


@pytest.mark.parametrize(
    ("status", "kind", "text"),
    [
        (
            401,
            AuthError,
            "source 'x': Acme answered 401 to the list (credentials refused); check ACME_TOKEN",
        ),
        (403, AuthError, "source 'x': Acme answered 403 to the list (no access); check ACME_TOKEN"),
        (404, FatalError, "source 'x': Acme answered 404 to the list: not found"),
        (410, FatalError, "source 'x': Acme answered 410 to the list: not found"),
        (400, FatalError, "source 'x': Acme answered 400 to the list: the request was refused"),
        (422, FatalError, "source 'x': Acme answered 422 to the list: the request was refused"),
        (408, RetriableError, "source 'x': Acme answered 408 to the list: request timeout"),
        (429, RetriableError, "source 'x': Acme answered 429 to the list: too many requests"),
        (500, RetriableError, "source 'x': Acme answered 500 to the list: server error"),
        (503, RetriableError, "source 'x': Acme answered 503 to the list: server error"),
        (599, RetriableError, "source 'x': Acme answered 599 to the list: server error"),
        (418, FatalError, "source 'x': Acme answered 418 to the list: unexpected answer"),
        (302, FatalError, "source 'x': Acme answered 302 to the list: unexpected answer"),
    ],
)
def test_each_status_of_the_base_table_to_its_kind(
    status: int, kind: type[GoalsyncError], text: str
) -> None:
    error = BASE.error(answer(status), None)
    assert type(error) is kind and str(error) == text
    if isinstance(error, RetriableError):
        assert error.retry_after == 7.0  # what the server asked, as the connector read it


def test_the_server_words_and_the_context_in_a_message() -> None:
    said = answer(502, message="Bad gateway", context="repo acme/web")
    assert str(BASE.error(said, None)) == (
        "source 'x': Acme answered 502 to the list: Bad gateway (repo acme/web)"
    )
    status_form = answer(503, where="sink 'gs': update", message="Unavailable", quote_first=False)
    assert str(BASE.error(status_form, None)) == (
        "sink 'gs': update: server error (503: Unavailable)"
    )


def test_a_refusal_says_what_the_server_asks_of_a_person() -> None:
    error = BASE.error(answer(403, note="log in once in a browser"), None)
    assert str(error) == (
        "source 'x': Acme answered 403 to the list (no access) (log in once in a browser); "
        "check ACME_TOKEN"
    )


def test_a_connector_rule_in_front_decides_or_passes_to_the_base() -> None:
    def jql(a: Answer, search: str | None) -> GoalsyncError | None:
        return ConfigError(f"bad JQL {search!r}") if search is not None else None

    table: ErrorTable[str | None] = BASE.extend({400: jql})
    assert isinstance(table.error(answer(400), "a = b"), ConfigError)
    passed = table.error(answer(400), None)  # not a search: the base's rule
    assert type(passed) is FatalError and "the request was refused" in str(passed)
    assert isinstance(table.error(answer(503), None), RetriableError)  # untouched statuses


def test_rules_are_tried_in_order_and_the_status_before_other() -> None:
    calls: list[str] = []

    def first(a: Answer, ctx: object) -> GoalsyncError | None:
        calls.append("first")
        return None

    def second(a: Answer, ctx: object) -> GoalsyncError | None:
        calls.append("second")
        return AuthError("second")

    def anything(a: Answer, ctx: object) -> GoalsyncError | None:
        return FatalError("connector's other")

    table: ErrorTable[object] = BASE.extend({403: (first, second), OTHER: anything})
    assert str(table.error(answer(403), None)) == "second" and calls == ["first", "second"]
    assert str(table.error(answer(418), None)) == "connector's other"
    assert isinstance(table.error(answer(404), None), FatalError)  # the base's 404 first
    assert str(table.error(answer(404), None)).endswith("not found")
    assert isinstance(table.error(answer(500), None), RetriableError)  # base 5xx before other


def test_what_is_an_error() -> None:
    assert not is_error(200) and not is_error(204) and not is_error(304)
    assert is_error(301) and is_error(404) and is_error(500)
