"""Did you mean: for a select clause that matches no item, which of its keys is at fault and the
closest values the items do have (`labels: [bugg]` -> "bug"; `parent: PAY-99999` -> the
existing epics). Pure: no I/O; matching goes through `mappings.select.ItemIndex`, the one
matching logic, so an explanation never disagrees with what the evaluation selected.

A clause key is at fault when one of its values is on no item of the clause's scope (the
items of the sources it names, or all items): each such value gets the closest existing values
(difflib, case folded), or, when nothing is close, the most used ones. When every value exists
but no item has them all together, the keys whose removal would let the clause match are named,
with the values the items they would match do have.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from mappings.model import SelectClause
from mappings.nodata import clause_text
from mappings.plan import PlannedKR
from mappings.select import ItemIndex
from sync.base.records import WorkItem

# (clause key, scope) -> how often each value occurs there: many clauses share a scope.
Memo = dict[tuple[str, str], Counter[str]]
SAMPLE_SIZE = 3  # items named per clause ("PAY-101 Invoice PDF, ...")
MAX_CLOSEST = 3
_CUTOFF = 0.6  # difflib ratio: "bugg"/"bug" 0.86, "acme/wbe"/"acme/web" 0.88, "billing"/"build" 0.5


def _one(get: Callable[[WorkItem], str | None]) -> Callable[[WorkItem], Sequence[str]]:
    def values(item: WorkItem) -> Sequence[str]:
        value = get(item)
        return (value,) if value else ()

    return values


def _parents(item: WorkItem) -> Sequence[str]:
    """An item's parent, and an epic's own key: a `parent:` names an epic even before any item
    has been put under it."""
    found = (item.parent,) if item.parent else ()
    return (*found, item.key) if item.kind == "epic" else found


# Clause key -> the values an item has for it: what "the closest existing value" is drawn from.
# kind and state are checked against fixed words by the config's schema; jql has no values.
ITEM_VALUES: dict[str, Callable[[WorkItem], Sequence[str]]] = {
    "source": _one(lambda i: i.source),
    "project": _one(lambda i: i.project),
    "repo": _one(lambda i: i.project),
    "labels": lambda i: i.labels,
    "labels_all": lambda i: i.labels,
    "parent": _parents,
    "milestone": _one(lambda i: i.milestone),
    "components": lambda i: i.components,
    "assignee": _one(lambda i: i.assignee),
    "status": _one(lambda i: i.status),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyHint:
    """One key of a clause that matches nothing: the values that no item in scope has, and
    what does exist."""

    key: str
    missing: tuple[str, ...] = ()  # values of the key that no item (of the scope) has
    closest: tuple[str, ...] = ()  # "did you mean": existing values close to a missing one
    existing: tuple[tuple[str, int], ...] = ()  # nothing close: the most used values, items
    without: int = 0  # items the clause would match without this key (combination hints)
    said: str = ""  # a hint that is none of the above, said as is

    def text(self, scope: str) -> str:
        if self.said:
            return self.said
        used = ", ".join(f"{v} ({_count(n)})" for v, n in self.existing)
        if not self.missing:
            head = f"without {self.key} it would match {_count(self.without)}"
            return f"{head}, whose {self.key}: {used}" if used else head
        verb = "is" if len(self.missing) == 1 else "are"
        head = f"{self.key} {_values(self.missing)} {verb} on no item{scope}"
        if self.closest:
            return f"{head}; did you mean {_values(self.closest, 'or')}?"
        return f"{head}; nothing close; the most used: {used}" if used else head


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseCheck:
    """How one clause fares against the items: how many match, a sample, and for a clause that
    matches nothing, why."""

    clause: SelectClause
    matched: tuple[int, ...]  # indices into the index's items
    sample: tuple[WorkItem, ...] = ()
    hints: tuple[KeyHint, ...] = ()
    scope: str = ""  # " of jira": the sources the clause names, for the hints' text

    @property
    def empty(self) -> bool:
        return not self.matched

    def message(self) -> str:
        """'' when the clause matches; else one sentence, 'did you mean' included."""
        if self.matched:
            return ""
        head = f"{clause_text(self.clause)} matches no item"
        hint = self.hint()
        return f"{head}: {hint}" if hint else head

    def hint(self) -> str:
        """What is at fault in a clause that matches nothing, 'did you mean' included; '' when
        it matches or nothing can be said."""
        if self.matched:
            return ""
        if not self.hints:
            if self.clause.jql is not None:
                return "its jql found nothing (run goalsync doctor to test it)"
            return ""
        return "; ".join(h.text(self.scope) for h in self.hints)


def check_clause(
    clause: SelectClause,
    index: ItemIndex,
    known_sources: Iterable[str] = (),
    memo: Memo | None = None,
) -> ClauseCheck:
    """Count, sample and, for a clause that matches nothing, explain it. `known_sources`: the
    config's source names (a source with no items yet is not a misspelling)."""
    matched = tuple(index.select([clause]))
    items = index.items
    sample = tuple(items[i] for i in matched[:SAMPLE_SIZE])
    if matched:
        return ClauseCheck(clause=clause, matched=matched, sample=sample)
    scope_items, scope = _scope(clause, index)
    unread = _sources_without_items(clause, index, known_sources)
    if unread:
        said = f"source {', '.join(unread)} has no items yet (not pulled, or its scope is empty)"
        return ClauseCheck(clause=clause, matched=(), hints=(KeyHint(key="source", said=said),))
    memo = {} if memo is None else memo
    hints = _missing_values(clause, items, (scope_items, scope), known_sources, memo)
    if not hints:  # every value exists: the combination is what matches nothing
        hints = _combination(clause, index)
    return ClauseCheck(clause=clause, matched=(), hints=tuple(hints), scope=scope)


def closest(
    wanted: str, existing: Iterable[str] | Mapping[str, int], n: int = MAX_CLOSEST
) -> list[str]:
    """The existing values (or values and how often they occur) closest to `wanted`, best
    first, compared without case; each in the spelling the items use most."""
    counts = existing if isinstance(existing, Mapping) else Counter(existing)
    spelled: dict[str, Counter[str]] = {}
    for value, n_used in counts.items():
        spelled.setdefault(value.casefold(), Counter())[value] += n_used
    folded = difflib.get_close_matches(wanted.casefold(), list(spelled), n=n, cutoff=_CUTOFF)
    return [spelled[f].most_common(1)[0][0] for f in folded]


def _scope(clause: SelectClause, index: ItemIndex) -> tuple[list[WorkItem], str]:
    """The items a clause's values are looked for in: those of the sources it names, when any
    has items (a misspelt source is itself a missing value, looked for in all items)."""
    if clause.source is None:
        return list(index.items), ""
    of_source = index.select([SelectClause(source=clause.source)])
    if not of_source:
        return list(index.items), ""
    return [index.items[i] for i in of_source], f" of {', '.join(clause.source)}"


def _sources_without_items(
    clause: SelectClause, index: ItemIndex, known_sources: Iterable[str]
) -> list[str]:
    """The sources a clause names that the config has but that have no items at all: then
    nothing else about the clause can be told."""
    if clause.source is None:
        return []
    known = {s.casefold() for s in known_sources}
    named = [s for s in clause.source if s.casefold() in known]
    if not named or len(named) < len(clause.source):
        return []
    return [] if index.select([SelectClause(source=tuple(named))]) else named


def _missing_values(
    clause: SelectClause,
    items: Sequence[WorkItem],
    scope: tuple[Sequence[WorkItem], str],
    known_sources: Iterable[str],
    memo: Memo,
) -> list[KeyHint]:
    hints: list[KeyHint] = []
    for key, wanted in clause.given().items():
        get = ITEM_VALUES.get(key)
        if get is None:
            continue
        if key == "source":  # a source the config names but that has no items is no typo
            have = _frequencies(get, items) + Counter(known_sources)
        else:  # the values of a key in a scope, counted once per evaluation (memo)
            if (key, scope[1]) not in memo:
                memo[(key, scope[1])] = _frequencies(get, scope[0])
            have = memo[(key, scope[1])]
        folded = {v.casefold() for v in have}
        missing = tuple(v for v in wanted if v.casefold() not in folded)
        if not missing:
            continue
        near: list[str] = []
        for value in missing:
            near += [c for c in closest(value, have) if c not in near]
        hints.append(
            KeyHint(
                key=key,
                missing=missing,
                closest=tuple(near[:MAX_CLOSEST]),
                existing=() if near else tuple(have.most_common(5)),
            )
        )
    return hints


def _combination(clause: SelectClause, index: ItemIndex) -> list[KeyHint]:
    """Every value exists, only not together: the keys whose removal lets the clause match,
    with the values of the items it would then match."""
    hints: list[KeyHint] = []
    given = clause.given()
    for key in given:
        if len(given) == 1:
            break
        without = clause.model_copy(update={key: None})
        chosen = index.select([without])
        if not chosen:
            continue
        get = ITEM_VALUES.get(key)
        have = _frequencies(get, [index.items[i] for i in chosen]) if get else Counter()
        hints.append(
            KeyHint(
                key=key,
                without=len(chosen),
                existing=tuple(have.most_common(5)),
            )
        )
    return hints


def _frequencies(
    get: Callable[[WorkItem], Sequence[str]], items: Iterable[WorkItem]
) -> Counter[str]:
    return Counter(v for item in items for v in get(item))


def _values(values: Sequence[str], joiner: str = "and") -> str:
    quoted = [f'"{v}"' for v in values]
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} {joiner} {quoted[-1]}"


def _count(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


def unmatched_clauses(
    krs: Iterable[PlannedKR],
    index: ItemIndex,
    selected: Mapping[str, Sequence[int]],
    known_sources: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """(where, why) per select clause of an item key result that matches no item, in plan
    order: ("G1.2 clause 1", '{source: jira, labels: [bugg]} matches no item: ... did you mean
    "bug"?'). `selected`: the items each key result selected (a one-clause key result that
    selected some is skipped without selecting again)."""
    known = tuple(known_sources)
    memo: Memo = {}
    out: list[tuple[str, str]] = []
    for kr in krs:
        if kr.measure == "metric":
            continue
        if len(kr.clauses) == 1 and selected.get(kr.id):
            continue
        for n, clause in enumerate(kr.clauses, start=1):
            found = check_clause(clause, index, known, memo)
            if found.empty:
                out.append((f"{kr.id} clause {n}", found.message()))
    return out
