"""Selecting the work items of a key result from its select clauses.

An item matches a clause when it matches every key the clause gives (a list means any of);
it matches a key result when it matches any clause. Selection is indexed: each clause starts from
the smallest posting list among its indexed keys (source, project/repo, labels, parent, milestone,
components, jql) and checks the full predicate only on those candidates, so a plan of 300 key
results over 200,000 items does not cost items x clauses. Text compares without case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from mappings.model import SelectClause
from sync.records import WorkItem

JqlMatches = Mapping[tuple[str, str], frozenset[str]]  # (source, clause jql) -> item keys


class ItemIndex:
    """Posting lists over a fixed sequence of items. `evaluations` counts predicate checks."""

    def __init__(self, items: Sequence[WorkItem], jql_matches: JqlMatches | None = None) -> None:
        self.items = items
        self.evaluations = 0
        self._jql = jql_matches or {}
        self._by: dict[str, dict[str, list[int]]] = {
            k: {} for k in ("source", "project", "labels", "parent", "milestone", "components")
        }
        self._by_key: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            self._post("source", item.source, i)
            self._post("project", item.project, i)
            self._post("parent", item.parent, i)
            self._post("milestone", item.milestone, i)
            for label in set(item.labels):
                self._post("labels", label, i)
            for component in set(item.components):
                self._post("components", component, i)
            self._by_key.setdefault(item.key, []).append(i)

    def select(self, clauses: Iterable[SelectClause]) -> list[int]:
        """Indices of the items matching any clause, in the items' order, each once."""
        chosen: set[int] = set()
        for clause in clauses:
            chosen.update(self._select_clause(clause))
        return sorted(chosen)

    def _post(self, index: str, value: str | None, i: int) -> None:
        if value is not None:
            self._by[index].setdefault(value.casefold(), []).append(i)

    def _candidates(self, clause: SelectClause, jql_keys: set[str] | None) -> Iterable[int]:
        lists: list[list[int]] = []
        simple = {
            "source": clause.source,
            "project": clause.project,
            "parent": clause.parent,
            "milestone": clause.milestone,
        }
        for index, values in simple.items():
            if values is not None:
                lists.append(self._union(index, values))
        if clause.repo is not None:
            lists.append(self._union("project", clause.repo))
        if clause.labels is not None:
            lists.append(self._union("labels", clause.labels))
        if clause.labels_all is not None:
            lists.append(self._union("labels", clause.labels_all))
        if clause.components is not None:
            lists.append(self._union("components", clause.components))
        if jql_keys is not None:
            lists.append(sorted(i for k in jql_keys for i in self._by_key.get(k, [])))
        if not lists:
            return range(len(self.items))
        return min(lists, key=len)

    def _union(self, index: str, values: Iterable[str]) -> list[int]:
        postings = self._by[index]
        out: set[int] = set()
        for v in values:
            out.update(postings.get(v.casefold(), ()))
        return sorted(out)

    def _select_clause(self, clause: SelectClause) -> list[int]:
        jql_keys: set[str] | None = None
        if clause.jql is not None:  # keys from the extra search a jql clause ran
            jql_keys = set()
            for (source, jql), matched in self._jql.items():
                named = {s.casefold() for s in clause.source or ()}
                if jql == clause.jql and (not named or source.casefold() in named):
                    jql_keys.update(matched)
        out = []
        for i in self._candidates(clause, jql_keys):
            self.evaluations += 1
            if matches(self.items[i], clause, jql_keys):
                out.append(i)
        return out


def matches(item: WorkItem, clause: SelectClause, jql_keys: set[str] | None = None) -> bool:
    """The full predicate of one clause (every key given must match)."""
    if clause.source is not None and not _any_eq(item.source, clause.source):
        return False
    if clause.project is not None and not _any_eq(item.project, clause.project):
        return False
    if clause.repo is not None and not _any_eq(item.project, clause.repo):
        return False
    if clause.kind is not None and item.kind not in clause.kind:
        return False
    if clause.state is not None and item.state not in clause.state:
        return False
    if clause.parent is not None and not _any_eq(item.parent, clause.parent):
        return False
    if clause.milestone is not None and not _any_eq(item.milestone, clause.milestone):
        return False
    if clause.assignee is not None and not _any_eq(item.assignee, clause.assignee):
        return False
    if clause.status is not None and not _any_eq(item.status, clause.status):
        return False
    labels = {label.casefold() for label in item.labels}
    if clause.labels is not None and not labels & {v.casefold() for v in clause.labels}:
        return False
    if clause.labels_all is not None and not {v.casefold() for v in clause.labels_all} <= labels:
        return False
    if clause.components is not None:
        components = {c.casefold() for c in item.components}
        if not components & {v.casefold() for v in clause.components}:
            return False
    return not (clause.jql is not None and (jql_keys is None or item.key not in jql_keys))


def named_parents(clauses: Iterable[SelectClause]) -> set[str]:
    """Parent keys the clauses name (casefolded): such epics count as aligned work."""
    return {p.casefold() for c in clauses if c.parent for p in c.parent}


def _any_eq(value: str | None, options: Sequence[str]) -> bool:
    if value is None:
        return False
    folded = value.casefold()
    return any(folded == o.casefold() for o in options)
