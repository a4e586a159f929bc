"""Why a key result has no data, as data: the Note says it, and `goalsync explain` (with its "did
you mean" suggestions) can build on the same facts.

DESIGN.md: a key result whose every source has never been read successfully, an item measure
whose selection matches no item, or a metric without a value yet is No data. A source that was
read before and fails now is stale instead: its last good values stay, and it is not named here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mappings.model import SelectClause


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How a source stands after this run's pull: fresh, or stale since its first failure.
    Failing with no success ever (`last_success` None) is "never read", not stale."""

    ok: bool
    last_success: datetime | None
    stale_since: datetime | None = None
    error: str = ""

    @property
    def never_read(self) -> bool:
        return not self.ok and self.last_success is None


@dataclass(frozen=True, slots=True)
class NoData:
    """The facts behind a No data row.

    `reason`: what the measure found ("no items match {...}", "no value of metric 'nps' yet");
    empty when the only cause is sources never read. `unmatched`: the select clauses that match
    no item (where a suggestion would look for the closest label, epic, milestone or repo).
    `unread`: (source, error) per source of the key result never read successfully."""

    reason: str
    unmatched: tuple[SelectClause, ...] = ()
    unread: tuple[tuple[str, str], ...] = ()

    def note(self) -> str:
        parts = [self.reason] if self.reason else []
        parts += [unread_note(name, error) for name, error in self.unread]
        return "no data: " + "; ".join(parts or ["nothing to measure"])


def unread_note(name: str, error: str) -> str:
    # The error usually starts with "source 'jira': " (the connectors name their source): once
    # is enough.
    detail = error.removeprefix(f"source {name!r}: ") or "no successful pull yet"
    return f"source {name} never read successfully ({detail})"


def unread_sources(
    health: Mapping[str, SourceHealth], names: Iterable[str] | None
) -> tuple[tuple[str, str], ...]:
    """(name, error) of the sources among `names` (None: every source) never read successfully,
    by name. Source names compare without case, as select clauses do."""
    wanted = None if names is None else {n.casefold() for n in names}
    return tuple(
        (name, h.error)
        for name, h in sorted(health.items())
        if h.never_read and (wanted is None or name.casefold() in wanted)
    )


def candidate_sources(clauses: Sequence[SelectClause]) -> set[str] | None:
    """The sources a key result's clauses can select from; None when a clause names no source
    (it selects from every source)."""
    out: set[str] = set()
    for clause in clauses:
        if clause.source is None:
            return None
        out.update(clause.source)
    return out


def clause_text(clause: SelectClause) -> str:
    """A clause as the YAML flow mapping it was written as: `{source: ops, labels: [dnss]}`."""
    return "{" + ", ".join(f"{k}: {_flow(k, v)}" for k, v in clause.given().items()) + "}"


_LIST_KEYS = frozenset({"labels", "labels_all", "components"})  # written as lists even for one


def _flow(key: str, value: Any) -> str:
    if isinstance(value, dict):  # project_fields: {Iteration: Sprint 12, Team: [A, B]}
        return "{" + ", ".join(f"{k}: {_flow(k, v)}" for k, v in value.items()) + "}"
    if not isinstance(value, tuple | list):
        return str(value)
    if len(value) == 1 and key not in _LIST_KEYS:
        return str(value[0])
    return "[" + ", ".join(str(v) for v in value) + "]"
