"""The board queries against GitHub's GraphQL schema (the vendored types in schema.graphql):
every field asked for exists on the type it is asked of. With graphql-core installed, the full
validation runs too (it also catches the IssueState / PullRequestState conflict that
`prState: state` avoids)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connectors.github_project.check import FIELDS_QUERY
from connectors.github_project.fetch import ITEMS_QUERY

SCHEMA = (Path(__file__).parent / "schema.graphql").read_text()
_TOKEN = re.compile(r'\.\.\.|[A-Za-z_][A-Za-z0-9_]*|"[^"]*"|-?\d+(?:\.\d+)?|[{}():$!,=\[\]]')


def _types() -> dict[str, dict[str, str]]:
    """{type or interface: {field: the named type it returns}}; a union as {"|": members}."""
    out: dict[str, dict[str, str]] = {}
    for kind, name, body in re.findall(
        r"^(type|interface) (\w+)[^{]*\{(.*?)^\}", SCHEMA, re.M | re.S
    ):
        del kind
        fields = re.findall(r"^\s+(\w+)(?:\([^)]*\))?:\s*\[?(\w+)", body, re.M)
        out[name] = dict(fields)
    for name, members in re.findall(r"^union (\w+) = (.+)$", SCHEMA, re.M):
        out[name] = {"|": members}
    return out


def problems(query: str, root: str = "Query") -> list[str]:
    types = _types()
    tokens = _TOKEN.findall(query)
    start = tokens.index("{")
    found: list[str] = []

    def skip_args(i: int) -> int:
        depth = 0
        while True:
            depth += {"(": 1, ")": -1}.get(tokens[i], 0)
            i += 1
            if depth == 0:
                return i

    def walk(i: int, on: str) -> int:
        assert tokens[i] == "{"
        i += 1
        while tokens[i] != "}":
            if tokens[i] == "...":
                assert tokens[i + 1] == "on"
                cond = tokens[i + 2]
                if cond not in types:
                    found.append(f"unknown type {cond}")
                i = walk(i + 3, cond)
                continue
            name = tokens[i]
            i += 1
            if tokens[i] == ":":  # an alias
                name = tokens[i + 1]
                i += 2
            if tokens[i] == "(":
                i = skip_args(i)
            returns = types.get(on, {}).get(name)
            if name != "__typename" and returns is None:
                found.append(f"{on}.{name}")
            if tokens[i] == "{":
                i = walk(i, returns or "?")
        return i + 1

    walk(start, root)
    return found


@pytest.mark.parametrize("query", [ITEMS_QUERY, FIELDS_QUERY], ids=["items", "fields"])
def test_every_field_asked_for_is_in_githubs_schema(query: str) -> None:
    assert problems(query) == []


def test_the_check_finds_a_misspelt_field() -> None:
    assert problems(ITEMS_QUERY.replace("stateReason", "stateReasons")) == ["Issue.stateReasons"]
    assert problems(ITEMS_QUERY.replace("isArchived", "archived")) == ["ProjectV2Item.archived"]


@pytest.mark.parametrize("query", [ITEMS_QUERY, FIELDS_QUERY], ids=["items", "fields"])
def test_the_queries_validate_against_the_schema(query: str) -> None:
    graphql = pytest.importorskip("graphql")
    schema = graphql.build_schema(SCHEMA)
    assert graphql.validate(schema, graphql.parse(query)) == []
