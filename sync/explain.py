"""`goalsync explain`: why a key result shows what it shows, from the items in the state dir.

Per key result and select clause: how many items match, a few of them, and for a clause that
matches nothing, the key at fault and the closest existing values ("did you mean"). Also the
`people:` entries that would join one person's spellings across sources. The items are the
state store's (no request), or a fresh pull that commits nothing (`--pull`); they are prepared
and matched exactly as an evaluation does (mappings.evaluate.evaluation_items, ItemIndex).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mappings.evaluate import evaluation_items, plan_tags
from mappings.people import PersonProposal, people_yaml, propose_people
from mappings.plan import Plan, PlannedKR
from mappings.select import ItemIndex, JqlMatches, Tags, select_kr
from mappings.suggest import ClauseCheck, check_clause, closest
from sync.base.errors import ConfigError
from sync.base.records import Records
from sync.base.report import UnknownTag
from sync.config import LoadedConfig
from sync.engine import build, plan_with_goal_rows
from sync.pull import _kept_matches as kept_matches
from sync.pull import pull_sources
from sync.staging import merge
from sync.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class KrExplained:
    goal_id: str
    kr: PlannedKR
    selected: int  # items the key result selects (its clauses and tags together, each key once)
    clauses: tuple[ClauseCheck, ...]
    by_tag: tuple[str, ...] = ()  # keys only an alignment tag brought in
    metric_values: int = 0  # for a metric key result: values of its metric
    metric_closest: tuple[str, ...] = ()  # metric names close to one with no value


@dataclass(slots=True, kw_only=True)
class Explanation:
    items: int
    per_source: dict[str, int]
    key_results: list[KrExplained] = field(default_factory=list)
    people: list[PersonProposal] = field(default_factory=list)
    people_yaml: str = ""
    unknown_tags: tuple[UnknownTag, ...] = ()  # alignment tags that align nothing
    pulled: bool = False  # read from the sources now (--pull), not the state dir

    @property
    def unmatched(self) -> list[tuple[str, ClauseCheck]]:
        """("G1.2 clause 1", check) per clause that matches nothing."""
        return [
            (f"{k.kr.id} clause {n}", c)
            for k in self.key_results
            for n, c in enumerate(k.clauses, start=1)
            if c.empty
        ]


def stored_records(config: LoadedConfig, store: Store) -> tuple[Records, JqlMatches]:
    """The committed records of the config's sources, and the keys their jql clauses matched
    at the last successful pull."""
    names = list(config.model.sources)
    records = merge(store.load_records(names).values())
    matches: dict[tuple[str, str], frozenset[str]] = {}
    for name, state in store.source_states().items():
        if name in config.model.sources:
            matches.update({(name, jql): keys for jql, keys in kept_matches(state).items()})
    return records, matches


def pulled_records(
    config: LoadedConfig, store: Store, budget_s: float
) -> tuple[Records, JqlMatches]:
    """A fresh pull of every source, as a dry run pulls: nothing is committed."""
    sources, _ = build(config)
    pulled = pull_sources(config, sources, store, datetime.now(UTC), budget_s=budget_s)
    if pulled.rejected:
        raise ConfigError("; ".join(pulled.rejected))
    return pulled.records, pulled.jql_matches


def explain(
    config: LoadedConfig,
    records: Records,
    jql_matches: JqlMatches,
    ids: Sequence[str] = (),
    *,
    now: datetime | None = None,
) -> Explanation:
    """Per key result (those of `ids`, goal ids meaning all their key results; all when
    empty) and clause: the matches and, for a clause that matches nothing, why."""
    plan = plan_with_goal_rows(config, records)
    wanted = _wanted(plan, ids)
    items = evaluation_items(records, now or datetime.now(UTC), people=config.people)
    index = ItemIndex(items, jql_matches)
    tags = plan_tags(plan, items)
    known = tuple(config.model.sources)
    out = Explanation(
        items=len(items), per_source=_per_source(config, records), unknown_tags=tags.unknown
    )
    for goal in plan.goals:
        for kr in goal.key_results:
            if kr.id not in wanted:
                continue
            out.key_results.append(_explain_kr(goal.id, kr, index, tags, records, known))
    people = {p: tuple(a) for p, a in config.model.people.items()}
    out.people = propose_people((i.assignee for i in records.items if i.assignee), people)
    if out.people:
        out.people_yaml = people_yaml(people, out.people)
    return out


def _explain_kr(
    goal_id: str,
    kr: PlannedKR,
    index: ItemIndex,
    tags: Tags,
    records: Records,
    known: Sequence[str],
) -> KrExplained:
    if kr.measure == "metric":
        name = kr.metric or ""
        values = sum(1 for m in records.metrics if m.name.casefold() == name.casefold())
        near = () if values else tuple(closest(name, {m.name for m in records.metrics}))
        return KrExplained(
            goal_id=goal_id,
            kr=kr,
            selected=0,
            clauses=(),
            metric_values=values,
            metric_closest=near,
        )
    checks = tuple(check_clause(c, index, known) for c in kr.clauses)
    chosen, by_tag = select_kr(index, kr.clauses, tags.by_kr.get(kr.id, ()))
    return KrExplained(
        goal_id=goal_id,
        kr=kr,
        selected=len(chosen),
        clauses=checks,
        by_tag=tuple(index.items[i].key for i in chosen if i in by_tag),
    )


def _wanted(plan: Plan, ids: Sequence[str]) -> set[str]:
    every = {kr.id: g.id for g in plan.goals for kr in g.key_results}
    if not ids:
        return set(every)
    goals = {g.id for g in plan.goals}
    wanted: set[str] = set()
    unknown: list[str] = []
    for ident in ids:
        if ident in every:
            wanted.add(ident)
        elif ident in goals:
            wanted.update(kr for kr, goal in every.items() if goal == ident)
        else:
            unknown.append(ident)
    if unknown:
        problems = []
        for ident in unknown:
            near = closest(ident, [*goals, *every])
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            problems.append(f"{ident!r} is no goal or key result of the config{hint}")
        raise ConfigError("goalsync explain: " + "; ".join(problems))
    return wanted


def _per_source(config: LoadedConfig, records: Records) -> dict[str, int]:
    counts = dict.fromkeys(config.model.sources, 0)
    for item in records.items:
        counts[item.source] = counts.get(item.source, 0) + 1
    return counts
