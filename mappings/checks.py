"""Checking the plan's goals against the rest of the config, before anything runs.

`check_plan` finds every problem at once (duplicate IDs, dates, unknown sources, keys that do not
fit a measure or a source, `jql:` that could escape its scope) and returns them with their
location in the config, so that `sync/config.py` can point at the line. It checks whatever it is
given: with the cycle's dates unknown (a broken `cycle:`) the dates written out are still
compared, and with the sources unknown (a broken `sources:`) the clauses' own keys still are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from mappings.measures import MEASURES, OptionKey, direction_of, taking
from mappings.model import Cycle, Goal, KeyResult, SelectClause

Loc = tuple[str | int, ...]
# Which clause keys a source's items fill in; "any" for a source whose own config is broken
# (already reported), so that its clauses raise no second, misleading problem.
Flavour = Literal["jira", "github", "items", "none", "any"]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the plan needs to know about a configured source to check clauses against it."""

    name: str
    type: str
    flavour: Flavour  # which clause keys fit: jira (project, components, jql), github (repo)
    # The native clause keys it runs itself (`jql` for a jira source: its registry entry says);
    # None when not known (a source that does not validate: every clause passes).
    native: frozenset[str] | None = frozenset()
    native_scope: str | None = None  # a jira source's own `jql:`, which each search wraps


@dataclass(frozen=True, slots=True)
class CycleDates:
    """The cycle's dates where `cycle:` does not validate: those that do, None for the others."""

    start: date | None
    due: date | None


@dataclass(frozen=True, slots=True)
class PlanIssue:
    loc: Loc
    message: str
    fix: str = ""


# Clause keys that only some kinds of source fill in (a key missing from here fits every source).
_KEY_FLAVOURS: dict[str, frozenset[str]] = {
    "repo": frozenset({"github"}),
    "project": frozenset({"jira", "github"}),
    "components": frozenset({"jira"}),
    "milestone": frozenset({"github", "items"}),
}
_FLAVOUR_HINT = {
    "jira": "a jira source or jira_search file",
    "github": "a github source or github_issues file",
    "items": "a csv_items file or a sheet's Tasks tab",
}


def check_plan(
    goals: Sequence[Goal],
    cycle: Cycle | CycleDates,
    sources: Mapping[str, SourceInfo] | None,
) -> list[PlanIssue]:
    """Every problem of the goals section at once, each with its config location and a fix.
    `sources` None: the sources section is broken (reported already), so clauses are not
    checked against it."""
    issues: list[PlanIssue] = []
    for name, info in (sources or {}).items():
        scope = info.native_scope
        why = jql_escape(scope, order_by=True) if scope is not None else None
        if why:
            issues.append(
                PlanIssue(
                    ("sources", name, "jql"),
                    f"source {name}: jql {scope!r} is not self-contained: {why}; "
                    "every search wraps it in parentheses it would break out of",
                    _JQL_FIX,
                )
            )
    if cycle.start is not None and cycle.due is not None and cycle.due < cycle.start:
        issues.append(
            PlanIssue(
                ("cycle", "due"),
                f"due {cycle.due} is before start {cycle.start}",
                "set due on or after start",
            )
        )
    seen: dict[str, Loc] = {}

    def claim(identifier: str, loc: Loc) -> None:
        if identifier in seen:
            first = _fmt_loc(seen[identifier])
            issues.append(
                PlanIssue(
                    loc,
                    f"duplicate id {identifier!r} (first used at {first})",
                    "give every goal and key result its own id",
                )
            )
        else:
            seen[identifier] = loc

    goal_ids = {g.id for g in goals}
    for gi, goal in enumerate(goals):
        gloc: Loc = ("goals", gi)
        claim(goal.id, (*gloc, "id"))
        g_start = goal.start or cycle.start
        g_due = goal.due or cycle.due
        if g_start is not None and g_due is not None and g_due < g_start:
            issues.append(
                PlanIssue(
                    (*gloc, "due"),
                    f"goal {goal.id}: due {g_due} is before start {g_start}",
                    "set due on or after start (start and due default to the cycle's)",
                )
            )
        if goal.parent is not None:
            if goal.parent == goal.id:
                issues.append(
                    PlanIssue(
                        (*gloc, "parent"),
                        f"goal {goal.id} is its own parent",
                        "name another goal's id, or remove parent",
                    )
                )
            elif goal.parent not in goal_ids:
                issues.append(
                    PlanIssue(
                        (*gloc, "parent"),
                        f"unknown parent goal {goal.parent!r}",
                        f"use one of: {', '.join(sorted(goal_ids - {goal.id})) or 'none'}",
                    )
                )
        for ki, kr in enumerate(goal.key_results):
            kloc: Loc = (*gloc, "key_results", ki)
            claim(kr.id, (*kloc, "id"))
            k_start = kr.start or g_start
            k_due = kr.due or g_due
            # Dates a key result only inherits were reported at its goal: once is enough.
            if (
                k_start is not None
                and k_due is not None
                and k_due < k_start
                and (kr.start is not None or kr.due is not None)
            ):
                issues.append(
                    PlanIssue(
                        (*kloc, "due"),
                        f"key result {kr.id}: due {k_due} is before start {k_start}",
                        "set due on or after start (they default to the goal's)",
                    )
                )
            issues.extend(_check_kr(kr, kloc, sources))
    issues.extend(_check_parent_cycles(goals))
    return issues


def _check_kr(
    kr: KeyResult, kloc: Loc, sources: Mapping[str, SourceInfo] | None
) -> list[PlanIssue]:
    issues: list[PlanIssue] = []
    m = kr.measure
    spec = MEASURES[m]
    if spec.selects_items and not kr.select:
        issues.append(
            PlanIssue(
                (*kloc, "select"),
                f"key result {kr.id}: measure {m} needs select clauses",
                "add select: [{source: <name>, ...}] naming the items it measures",
            )
        )
    if m == "milestone":
        for ci, clause in enumerate(kr.select):
            if clause.milestone is None:
                issues.append(
                    PlanIssue(
                        (*kloc, "select", ci),
                        f"key result {kr.id}: measure milestone picks its items by milestone",
                        "add milestone: <title> to this clause",
                    )
                )
    if m == "metric":
        if not kr.metric:
            issues.append(
                PlanIssue(
                    (*kloc, "metric"),
                    f"key result {kr.id}: measure metric needs the metric's name",
                    "add metric: <name in the Metrics tab>",
                )
            )
        if kr.select:
            issues.append(
                PlanIssue(
                    (*kloc, "select"),
                    "a metric key result selects no items",
                    "remove select, or use an item measure",
                )
            )
    if m == "sum" and not kr.field:
        issues.append(
            PlanIssue(
                (*kloc, "field"),
                f"key result {kr.id}: measure sum needs a field",
                "add field: points (or a name from the items' extra fields)",
            )
        )
    given: dict[OptionKey, bool] = {
        "metric": kr.metric is not None,
        "state": kr.state is not None,
        "field": kr.field is not None,
        "stat": kr.stat is not None,
        "window_weeks": kr.window_weeks is not None,
        "by": kr.by == "points",  # `by: count` is the default every measure takes
    }
    issues.extend(
        _only_for(kloc, key) for key, set_ in given.items() if set_ and key not in spec.keys
    )
    if spec.needs_baseline and kr.baseline is None:
        issues.append(
            PlanIssue(
                (*kloc, "baseline"),
                f"key result {kr.id}: measure {m} needs a baseline (where the team started)",
                "add baseline: <number>",
            )
        )
    if kr.target is None and spec.default_target is None:
        issues.append(
            PlanIssue(
                (*kloc, "target"),
                f"key result {kr.id}: measure {m} needs a target",
                "add target: <number>",
            )
        )
    issues.extend(_check_direction(kr, kloc))
    for ci, clause in enumerate(kr.select):
        issues.extend(_check_clause(kr.id, clause, (*kloc, "select", ci), sources))
    return issues


def _check_direction(kr: KeyResult, kloc: Loc) -> list[PlanIssue]:
    spec = MEASURES[kr.measure]
    target = kr.target if kr.target is not None else spec.default_target
    if target is None or (kr.baseline is None and spec.needs_baseline):
        return []  # the missing target or baseline is the problem already reported
    baseline = kr.baseline if kr.baseline is not None else 0.0
    direction = direction_of(kr.measure, kr.direction)
    if target == baseline:
        return [
            PlanIssue(
                (*kloc, "target"),
                f"key result {kr.id}: target equals baseline "
                f"({target:g}), so progress has no range",
                "set a different baseline",
            )
        ]
    if direction == "up" and target < baseline:
        return [
            PlanIssue(
                (*kloc, "target"),
                f"key result {kr.id}: target {target:g} is below "
                f"baseline {baseline:g} but the measure goes up",
                "add direction: down, or fix target and baseline",
            )
        ]
    if direction == "down" and target > baseline:
        return [
            PlanIssue(
                (*kloc, "target"),
                f"key result {kr.id}: target {target:g} is above "
                f"baseline {baseline:g} but the measure goes down",
                "fix target and baseline (lower is better for this measure)",
            )
        ]
    return []


def _check_clause(
    kr_id: str, clause: SelectClause, cloc: Loc, sources: Mapping[str, SourceInfo] | None
) -> list[PlanIssue]:
    issues: list[PlanIssue] = []
    given = clause.given()
    if not given:
        issues.append(
            PlanIssue(
                cloc, "an empty select clause would match every item", "name at least a source"
            )
        )
        return issues
    why = jql_escape(clause.jql) if clause.jql is not None else None
    if why:
        issues.append(
            PlanIssue(
                (*cloc, "jql"),
                f"key result {kr_id}: jql clause {clause.jql!r} is not self-contained: {why}; "
                "it runs as (<source jql>) AND (<clause>) and could reach outside the source",
                _JQL_FIX,
            )
        )
    if sources is None:
        return issues
    item_sources = {n: s for n, s in sources.items() if s.flavour != "none"}
    named = clause.source or ()
    for name in named:
        if name not in sources:
            issues.append(
                PlanIssue(
                    (*cloc, "source"),
                    f"unknown source {name!r}",
                    f"use one of: {', '.join(sorted(item_sources)) or '(none)'}",
                )
            )
        elif name not in item_sources:
            issues.append(
                PlanIssue(
                    (*cloc, "source"),
                    f"source {name!r} yields no work items",
                    f"select from one of: {', '.join(sorted(item_sources))}",
                )
            )
    targets = [item_sources[n] for n in named if n in item_sources] or list(item_sources.values())
    flavours = {s.flavour for s in targets}
    for key in given:
        if key == "jql" and not any(s.native is None or key in s.native for s in targets):
            issues.append(
                PlanIssue(
                    (*cloc, key),
                    "jql runs only against a source of type jira",
                    "name a jira source in this clause, or select by other keys",
                )
            )
        elif (
            key in _KEY_FLAVOURS
            and targets
            and "any" not in flavours
            and not flavours & _KEY_FLAVOURS[key]
        ):
            fits = " or ".join(_FLAVOUR_HINT[f] for f in sorted(_KEY_FLAVOURS[key]))
            issues.append(
                PlanIssue(
                    (*cloc, key),
                    f"{key} is not set on the items of "
                    f"{', '.join(sorted(s.name for s in targets))}",
                    f"use {key} with {fits}",
                )
            )
    return issues


_JQL_FIX = (
    "balance the parentheses and quotes (a literal ( ) or quote goes inside \"...\" or '...', "
    "a quote inside a string is escaped with \\), and leave out ORDER BY"
)
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def jql_escape(jql: str, *, order_by: bool = False) -> str | None:
    """Why `jql` is not self-contained, or None when it is. goalsync runs a clause as
    `(<scope>) AND (<clause>) AND updated >= ... ORDER BY key`: a clause must not close a
    parenthesis it did not open, leave one or a string open, or end with a backslash (any of
    these lets it reach outside the parentheses), nor order the results (`order_by` allows that,
    for a source's scope, whose ORDER BY is cut off). Strings are "..." or '...' with backslash
    escapes, as in Jira; outside them a backslash escapes the next character, as in Jira."""
    if not jql.strip():
        return "it is empty"
    depth = 0
    bare: list[str] = []  # the text outside strings, where ORDER BY would count
    i = 0
    while i < len(jql):
        char = jql[i]
        if char == "\\":
            if i + 1 == len(jql):
                return "it ends with a backslash, which would escape the closing parenthesis"
            bare.append("  ")
            i += 2
            continue
        if char in "\"'":
            end = i + 1
            while end < len(jql) and jql[end] != char:
                end += 2 if jql[end] == "\\" else 1
            if end >= len(jql):
                return f"the string opened by {char} at character {i + 1} is never closed"
            bare.append(" " * (end + 1 - i))
            i = end + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return f"the ) at character {i + 1} closes a parenthesis it did not open"
        bare.append(char)
        i += 1
    if depth:
        return f"{depth} parenthes{'is' if depth == 1 else 'es'} opened but never closed"
    if not order_by and _ORDER_BY.search("".join(bare)):
        return "it has an ORDER BY (goalsync orders the searches itself)"
    return None


def _check_parent_cycles(goals: Sequence[Goal]) -> list[PlanIssue]:
    parents = {g.id: g.parent for g in goals}
    issues: list[PlanIssue] = []
    for gi, g in enumerate(goals):
        seen = {g.id}
        current = g.parent
        while current is not None and current in parents:
            if current in seen:
                if current != g.id or g.parent == g.id:
                    break  # reported from the goal inside the cycle, or as "its own parent"
                issues.append(
                    PlanIssue(
                        ("goals", gi, "parent"),
                        f"goal {g.id} is its own ancestor (parent cycle)",
                        "break the cycle of parent goals",
                    )
                )
                break
            seen.add(current)
            current = parents[current]
    return issues


def _only_for(kloc: Loc, key: OptionKey) -> PlanIssue:
    names = taking(key)
    if len(names) <= 2:
        where = "measure: " + " or ".join(names)
    else:
        where = f"{', '.join(names[:-1])} and {names[-1]}"
    return PlanIssue((*kloc, key), f"{key} applies only to {where}", f"remove {key}")


def _fmt_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
