"""`goalsync explain [ID...]` and the warnings `plan` prints about clauses that match nothing:
what they print (sync/explain.py computes it)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from mappings.nodata import clause_text
from mappings.people import PersonProposal
from mappings.suggest import ClauseCheck
from sync import console
from sync.base.errors import EXIT_OK
from sync.base.report import UnknownTag
from sync.config import load_config
from sync.explain import Explanation, KrExplained, explain, pulled_records, stored_records
from sync.settings import Settings
from sync.store import Store

SAMPLE_TITLE = 60  # characters of a sample item's title
SAMPLE_TAG_KEYS = 5  # items named per alignment tag that aligns nothing


def cmd_explain(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(settings.config)
    store = Store(settings.state_dir)
    if args.pull:
        records, matches = pulled_records(config, store, settings.retry_budget_s)
    else:
        records, matches = stored_records(config, store)
    found = explain(config, records, matches, args.ids)
    found.pulled = args.pull
    print_explanation(console.make_console(), found, settings)
    return EXIT_OK


def print_explanation(out: Console, found: Explanation, settings: Settings) -> None:
    where = "pulled now (nothing committed)" if found.pulled else f"in {settings.state_dir}"
    per_source = ", ".join(f"{name} {n}" for name, n in found.per_source.items())
    out.print(Text(f"goalsync explain: {found.items} items {where} ({per_source})", style="bold"))
    if not found.items:
        out.print(
            "  no items to match yet: run goalsync run first, or goalsync explain --pull to "
            "read the sources now"
        )
    goal = ""
    for k in found.key_results:
        if k.goal_id != goal:
            goal = k.goal_id
            out.print(Text(goal, style="bold"))
        _print_kr(out, k)
    print_unknown_tags(out, found.unknown_tags)
    print_people(out, found.people, found.people_yaml)


def print_unknown_tags(out: Console, unknown: Sequence[UnknownTag]) -> None:
    """Alignment tags that align nothing (DESIGN: only key-result ids align)."""
    if not unknown:
        return
    out.print(Text(f"{_plural(len(unknown), 'alignment tag')} align nothing:", style="yellow"))
    for t in unknown:
        keys = ", ".join(t.keys[:SAMPLE_TAG_KEYS])
        more = f" and {len(t.keys) - SAMPLE_TAG_KEYS} more" if len(t.keys) > SAMPLE_TAG_KEYS else ""
        out.print(Text(f"  {t.tag}: {t.reason}; on {keys}{more}", style="yellow"))


def _print_kr(out: Console, k: KrExplained) -> None:
    kr = k.kr
    head = Text(f"  {kr.id} {kr.title} ({kr.measure}): ")
    if kr.measure == "metric":
        head.append(f"metric {kr.metric}: {_plural(k.metric_values, 'value')}")
        out.print(head)
        if not k.metric_values:
            near = " or ".join(f'"{m}"' for m in k.metric_closest)
            out.print(Text(f"    no value of metric {kr.metric!r} yet" + (
                f"; did you mean {near}?" if near else ""), style="yellow"))  # fmt: skip
        return
    head.append(_plural(k.selected, "item"), style="" if k.selected else "yellow")
    if k.by_tag:
        head.append(f" ({len(k.by_tag)} by tag: {', '.join(k.by_tag[:SAMPLE_TAG_KEYS])})")
    out.print(head)
    if not kr.clauses:
        out.print(Text("    no select clause: it selects nothing", style="yellow"))
    for n, check in enumerate(k.clauses, start=1):
        _print_clause(out, n, check)


def _print_clause(out: Console, n: int, check: ClauseCheck) -> None:
    line = Text(f"    clause {n} {clause_text(check.clause)}: ")
    line.append(_plural(len(check.matched), "item"), style="" if check.matched else "yellow")
    out.print(line)
    for item in check.sample:
        out.print(Text(f"      {item.key} {item.title[:SAMPLE_TITLE]}", style="dim"))
    if len(check.matched) > len(check.sample):
        out.print(Text(f"      and {len(check.matched) - len(check.sample)} more", style="dim"))
    for hint in check.hints:
        out.print(Text(f"      {hint.text(check.scope)}", style="yellow"))
    if check.empty and not check.hints and check.clause.jql is not None:
        out.print(Text(f"      {check.message().split(': ', 1)[-1]}", style="yellow"))


def print_people(out: Console, people: Sequence[PersonProposal], block: str) -> None:
    """The people: proposals, and the block to paste (it replaces the config's people:)."""
    if not people:
        return
    out.print()
    out.print(
        Text(
            f"{_plural(len(people), 'person')} spelt differently across sources "
            "(one person, one row in Workload): paste this block into goalsync.yaml, in place "
            "of its people: block if it has one",
            style="bold",
        )
    )
    for p in people:
        out.print(Text(f"  # {p.name} = {', '.join(p.aliases)}", style="dim"))
    out.print()
    out.print(Text(block.rstrip("\n")))
    out.print()


def print_unmatched(out: Console, unmatched: Sequence[tuple[str, str]]) -> None:
    """`plan`: every select clause that matches no item, with its did-you-mean."""
    if not unmatched:
        return
    verb = "matches" if len(unmatched) == 1 else "match"
    out.print(Text(f"{_plural(len(unmatched), 'select clause')} {verb} no item:", style="yellow"))
    for where, why in unmatched:
        out.print(Text(f"  {where}: {why}", style="yellow"))
    out.print(Text("  see goalsync explain ID for what each clause matches", style="dim"))
    out.print()


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} people" if word == "person" else f"{n} {word}s"
