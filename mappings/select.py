"""Selecting the work items of a key result from its select clauses.

An item matches a clause when it matches every key the clause gives (a list means any of);
it matches a key result when it matches any clause. Selection is indexed: each clause starts from
the smallest posting list among its indexed keys (source, project/repo, labels, parent, milestone,
components, jql) and checks the full predicate only on those candidates, so a plan of 300 key
results over 200,000 items does not cost items x clauses. A posting list is built the first time
a clause needs it, so an evaluation pays only for the keys its plan uses. Text compares without
case.

Alignment from inside the teams' tools (DESIGN.md): a label `<prefix><id>` (`align_label_prefix`,
default `goal:`) or a board item's goal field naming a key result adds the item to that key
result as if a clause selected it (`alignment_tags`, `select_kr`). Only key-result ids align; a tag
naming a goal, a metric key result or no id is listed (`UnknownTag`). A key result counts each key
once, whichever sources selected it (the same issue through the github source and a board).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mappings.model import SelectClause
from sync.base.records import WorkItem
from sync.base.report import UnknownTag

JqlMatches = Mapping[tuple[str, str], frozenset[str]]  # (source, clause jql) -> item keys
Predicate = Callable[[WorkItem], bool]

_SCALAR: dict[str, Callable[[WorkItem], str | None]] = {
    "source": lambda i: i.source,
    "project": lambda i: i.project,
    "parent": lambda i: i.parent,
    "milestone": lambda i: i.milestone,
    "key": lambda i: i.key,
}
_MULTI: dict[str, Callable[[WorkItem], Sequence[str]]] = {
    "labels": lambda i: i.labels,
    "components": lambda i: i.components,
}


class ItemIndex:
    """Posting lists over a fixed sequence of items. `evaluations` counts predicate checks."""

    def __init__(self, items: Sequence[WorkItem], jql_matches: JqlMatches | None = None) -> None:
        self.items = items
        self.evaluations = 0
        self._jql = jql_matches or {}
        self._by: dict[str, dict[str, list[int]]] = {}

    def select(self, clauses: Iterable[SelectClause]) -> list[int]:
        """Indices of the items matching any clause, in the items' order, each once."""
        chosen: set[int] = set()
        for clause in clauses:
            chosen.update(self._select_clause(clause))
        return sorted(chosen)

    def _postings(self, field: str) -> dict[str, list[int]]:
        found = self._by.get(field)
        if found is not None:
            return found
        postings: dict[str, list[int]] = {}
        if field in _SCALAR:
            get = _SCALAR[field]
            fold = field != "key"  # keys are exact: PAY-1 is not pay-1 in any tracker
            for i, item in enumerate(self.items):
                value = get(item)
                if value is not None:
                    postings.setdefault(value.casefold() if fold else value, []).append(i)
        else:
            get_many = _MULTI[field]
            for i, item in enumerate(self.items):
                for value in {v.casefold() for v in get_many(item)}:
                    postings.setdefault(value, []).append(i)
        self._by[field] = postings
        return postings

    def _candidates(self, clause: SelectClause, jql_keys: set[str] | None) -> Sequence[int]:
        lists: list[list[int]] = []
        for field, values in (
            ("source", clause.source),
            ("project", clause.project),
            ("project", clause.repo),
            ("parent", clause.parent),
            ("milestone", clause.milestone),
            ("labels", clause.labels),
            ("labels", clause.labels_all),
            ("components", clause.components),
        ):
            if values is not None:
                postings = self._postings(field)
                lists.append(_union(postings.get(v.casefold(), ()) for v in values))
        if jql_keys is not None:
            postings = self._postings("key")
            lists.append(_union(postings.get(k, ()) for k in jql_keys))
        if not lists:
            return range(len(self.items))
        return min(lists, key=len)

    def _select_clause(self, clause: SelectClause) -> list[int]:
        jql_keys: set[str] | None = None
        if clause.jql is not None:  # keys from the extra search a jql clause ran
            jql_keys = set()
            named = {s.casefold() for s in clause.source or ()}
            for (source, jql), matched in self._jql.items():
                if jql == clause.jql and (not named or source.casefold() in named):
                    jql_keys.update(matched)
        check = compile_clause(clause, jql_keys)
        candidates = self._candidates(clause, jql_keys)
        items = self.items
        out = [i for i in candidates if check(items[i])]
        self.evaluations += len(candidates)
        return out


def compile_clause(clause: SelectClause, jql_keys: set[str] | None = None) -> Predicate:
    """`matches` for one clause, as a function that checks only the keys the clause gives:
    the same answers, at a fraction of the cost per item."""
    checks: list[Predicate] = []

    def one_of(get: Callable[[WorkItem], str | None], options: Sequence[str]) -> None:
        wanted = frozenset(o.casefold() for o in options)
        checks.append(lambda i: (v := get(i)) is not None and v.casefold() in wanted)

    def any_of(get: Callable[[WorkItem], Sequence[str]], options: Sequence[str]) -> None:
        wanted = frozenset(o.casefold() for o in options)
        checks.append(lambda i: any(v.casefold() in wanted for v in get(i)))

    for field, values in (
        ("source", clause.source),
        ("project", clause.project),
        ("project", clause.repo),
        ("parent", clause.parent),
        ("milestone", clause.milestone),
    ):
        if values is not None:
            one_of(_SCALAR[field], values)
    if clause.assignee is not None:
        one_of(lambda i: i.assignee, clause.assignee)
    if clause.status is not None:
        one_of(lambda i: i.status, clause.status)
    if clause.kind is not None:
        kinds = frozenset(clause.kind)
        checks.append(lambda i: i.kind in kinds)
    if clause.state is not None:
        states = frozenset(clause.state)
        checks.append(lambda i: i.state in states)
    if clause.labels is not None:
        any_of(lambda i: i.labels, clause.labels)
    if clause.labels_all is not None:
        needed = frozenset(v.casefold() for v in clause.labels_all)
        checks.append(lambda i: needed <= {v.casefold() for v in i.labels})
    if clause.components is not None:
        any_of(lambda i: i.components, clause.components)
    if clause.project_fields is not None:
        wanted_fields = _wanted_fields(clause.project_fields)
        checks.append(lambda i: _fields_match(i, wanted_fields))
    if clause.jql is not None:
        keys = frozenset(jql_keys or ())
        checks.append(lambda i: i.key in keys)
    if len(checks) == 1:
        return checks[0]
    return lambda i: all(check(i) for check in checks)


def matches(item: WorkItem, clause: SelectClause, jql_keys: set[str] | None = None) -> bool:
    """The full predicate of one clause (every key given must match): the reference that the
    indexed, compiled selection must agree with."""
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
    if clause.project_fields is not None and not _fields_match(
        item, _wanted_fields(clause.project_fields)
    ):
        return False
    return not (clause.jql is not None and (jql_keys is None or item.key not in jql_keys))


def _field_text(value: Any) -> str:
    """A board field's value as compared: text without case; a number as a number, so that
    `Estimate: 3` matches a board's "3.0"."""
    text = str(value).strip().casefold()
    try:
        number = float(text)
    except ValueError:
        return text
    return repr(number) if math.isfinite(number) else text


def _wanted_fields(fields: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    return {name.casefold(): frozenset(_field_text(v) for v in vs) for name, vs in fields.items()}


def _fields_match(item: WorkItem, wanted: Mapping[str, frozenset[str]]) -> bool:
    """Every field the clause gives has one of its values on the item (a list means any of)."""
    have = item.fields.get("project_fields")
    if not isinstance(have, Mapping):
        return False
    folded = {str(k).casefold(): v for k, v in have.items() if v is not None}
    return all(
        name in folded and _field_text(folded[name]) in options for name, options in wanted.items()
    )


@dataclass(frozen=True, slots=True)
class Tags:
    """The items each key result's alignment tags name, by index in item order, and the tags
    that align nothing."""

    by_kr: dict[str, list[int]]
    unknown: tuple[UnknownTag, ...] = ()


def alignment_tags(
    items: Sequence[WorkItem],
    prefix: str,
    krs: Mapping[str, str],
    *,
    goals: Mapping[str, Sequence[str]] | None = None,
    metric: Collection[str] = (),
) -> Tags:
    """Read every item's tags: its labels that start with `prefix` (without case; the rest,
    trimmed, is the id) and its board goal field (`fields["goal"]`, an id, the prefix allowed).
    `krs` maps key-result ids to their goal ids, `goals` goal ids to their key results'; ids
    compare without case. A tag naming a goal, a key result in `metric` (measured from a metric,
    never from items) or no id is listed, once per tag text, with the keys that carry it."""
    goals = goals or {}
    kr_of = {k.casefold(): k for k in krs}
    goal_of = {g.casefold(): g for g in goals}
    folded_prefix = prefix.casefold()
    by_kr: dict[str, list[int]] = {}
    unknown: dict[str, tuple[str, list[str]]] = {}  # casefolded tag -> (tag, keys)
    n = len(prefix)
    for i, item in enumerate(items):
        # Most items carry no tag: a plain loop finds that without a generator per item.
        tagged = item.fields.get("goal") is not None if item.fields else False
        if not tagged:
            for label in item.labels:
                if label[:n].casefold() == folded_prefix:
                    tagged = True
                    break
        if not tagged:
            continue
        for tag, ident in _tags_of(item, prefix, folded_prefix):
            kr = kr_of.get(ident.casefold())
            if kr is not None and kr not in metric:
                chosen = by_kr.setdefault(kr, [])
                if not chosen or chosen[-1] != i:  # two tags of one item for one key result
                    chosen.append(i)
                continue
            seen = unknown.setdefault(tag.casefold(), (tag, []))
            if not seen[1] or seen[1][-1] != item.key:
                seen[1].append(item.key)
    listed = tuple(
        UnknownTag(
            tag=tag,
            reason=_why_unknown(tag, kr_of, goal_of, goals, metric, prefix),
            keys=tuple(keys),
        )
        for tag, keys in unknown.values()
    )
    return Tags(by_kr=by_kr, unknown=listed)


def _tags_of(item: WorkItem, prefix: str, folded_prefix: str) -> Iterable[tuple[str, str]]:
    """(tag as carried, id) per alignment tag of the item."""
    n = len(prefix)
    for label in item.labels:
        if label[:n].casefold() == folded_prefix:  # casefolds only the prefix's length
            ident = label[n:].strip()
            if ident:
                yield label, ident
    value = item.fields.get("goal") if item.fields else None
    if value is not None:
        text = str(value).strip()
        ident = text[len(prefix) :].strip() if text.casefold().startswith(folded_prefix) else text
        if ident:
            yield text, ident


def _why_unknown(
    tag: str,
    kr_of: Mapping[str, str],
    goal_of: Mapping[str, str],
    goals: Mapping[str, Sequence[str]],
    metric: Collection[str],
    prefix: str,
) -> str:
    folded = tag.casefold()
    ident = tag[len(prefix) :].strip() if folded.startswith(prefix.casefold()) else tag.strip()
    kr = kr_of.get(ident.casefold())
    if kr is not None:
        return f"{kr} is measured from a metric: items do not count for it"
    goal = goal_of.get(ident.casefold())
    if goal is not None:
        names = ", ".join(goals.get(goal, ())) or "none"
        return f"names goal {goal}: only key-result ids align (its key results: {names})"
    near = difflib.get_close_matches(ident.casefold(), list(kr_of), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(kr_of[n] for n in near)}?" if near else ""
    return f"no goal or key result has the id {ident!r}{hint}"


def select_kr(
    index: ItemIndex, clauses: Iterable[SelectClause], tagged: Sequence[int] = ()
) -> tuple[list[int], frozenset[int]]:
    """A key result's items: those its clauses select and those tagged for it, in item order,
    each key once (its first copy: an issue read through the github source and a board is one
    piece of work). Also which of them only a tag brought in ("by tag" in the Items tab)."""
    chosen = index.select(clauses)
    if tagged:
        by_clause = set(chosen)
        chosen = sorted(by_clause.union(tagged))
    items = index.items
    seen: set[str] = set()
    once: list[int] = []
    for i in chosen:
        key = items[i].key
        if key not in seen:
            seen.add(key)
            once.append(i)
    by_tag = frozenset(i for i in once if i not in by_clause) if tagged else frozenset()
    return once, by_tag


def named_parents(clauses: Iterable[SelectClause]) -> set[str]:
    """Parent keys the clauses name (casefolded): such epics count as aligned work."""
    return {p.casefold() for c in clauses if c.parent for p in c.parent}


def _union(postings: Iterable[Sequence[int]]) -> list[int]:
    lists = [p for p in postings if p]
    if len(lists) == 1:
        return list(lists[0])  # already in item order
    return sorted({i for p in lists for i in p})


def _any_eq(value: str | None, options: Sequence[str]) -> bool:
    if value is None:
        return False
    folded = value.casefold()
    return any(folded == o.casefold() for o in options)
