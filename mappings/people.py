"""One person, one row: spellings of the same person across sources ("Dana Lee" in Jira,
"dana-lee" on GitHub, "dana.lee@acme.com" in a sheet) found among the assignees, proposed as
`people:` entries, and the `people:` block as YAML with them added. Pure: no I/O.

Two spellings are the same person when their folded forms are equal: case, accents,
punctuation, spaces, hyphens, dots and underscores folded away ("Sam O'Neil" = "sam-oneil" =
"SAM.ONEIL"), an e-mail address by its local part ("dana.lee@acme.com" = "Dana Lee"), so the
same e-mail or the same login in two sources is one person too. Nothing fuzzier: merging two
real people is worse than showing one twice.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mappings.model import people_index


def fold_name(name: str) -> str:
    """The comparable form of a name, login or e-mail: 'Gus Müller', 'gus.muller@x.io' and
    'GUS-MULLER' all fold to 'gusmuller'."""
    text = name.strip()
    if "@" in text and " " not in text:
        text = text.split("@", 1)[0]
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain.casefold() if c.isalnum() and not unicodedata.combining(c))


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonProposal:
    """`name` (a person of the `people:` map already, or the spelling chosen for one) and the
    other spellings the assignees use for them."""

    name: str
    aliases: tuple[str, ...]
    known: bool  # `name` is in the people map already: only aliases are added


def propose_people(
    assignees: Iterable[str], people: Mapping[str, Sequence[str]] | None = None
) -> list[PersonProposal]:
    """The people whose assignee spellings differ only by case, accents, punctuation or e-mail
    domain, and that the `people:` map does not join yet. Sorted by name."""
    people = people or {}
    index = people_index({p: tuple(a) for p, a in people.items()})
    groups: dict[str, set[str]] = {}  # folded -> spellings (the map's person stands for theirs)
    for person, aliases in people.items():
        for alias in (person, *aliases):
            groups.setdefault(fold_name(alias), set()).add(person)
    for name in assignees:
        if name and fold_name(name):
            groups.setdefault(fold_name(name), set()).add(index.get(name.casefold(), name))
    out: list[PersonProposal] = []
    for spellings in groups.values():
        if len(spellings) < 2:
            continue
        known = sorted(s for s in spellings if s in people)
        if len(known) > 1:
            continue  # two people of the map fold alike: the map says they differ
        name = known[0] if known else _display_name(spellings)
        aliases = tuple(sorted((s for s in spellings if s != name), key=str.casefold))
        out.append(PersonProposal(name=name, aliases=aliases, known=bool(known)))
    return sorted(out, key=lambda p: p.name.casefold())


def people_yaml(people: Mapping[str, Sequence[str]], proposals: Sequence[PersonProposal]) -> str:
    """The whole `people:` block with the proposals merged in, ready to replace the config's
    (or to be added when it has none); added aliases are marked `# new` on their line."""
    merged: dict[str, list[str]] = {p: list(a) for p, a in people.items()}
    added: set[str] = set()
    for proposal in proposals:
        aliases = merged.setdefault(proposal.name, [])
        for alias in proposal.aliases:
            if alias not in aliases:
                aliases.append(alias)
                added.add(proposal.name)
    lines = ["people:"]
    for person, aliases in merged.items():
        line = f"  {_yaml_str(person)}: [{', '.join(_yaml_str(a) for a in aliases)}]"
        lines.append(f"{line}   # new" if person in added else line)
    return "\n".join(lines) + "\n"


def _display_name(spellings: Iterable[str]) -> str:
    """The spelling a reader expects: a name with a space and capitals over a login or an
    e-mail; ties by the most letters (accents kept), then alphabetically."""

    def rank(s: str) -> tuple[bool, bool, bool, int, str]:
        return (" " in s.strip(), "@" not in s, s != s.lower(), len(s), s)

    return max(spellings, key=rank)


# YAML reads these plainly as something else, or they break a flow sequence.
_YAML_SPECIAL = set(":#,[]{}&*!|>'\"%@`")


def _yaml_str(text: str) -> str:
    needs_quotes = (
        not text
        or text != text.strip()
        or any(c in _YAML_SPECIAL for c in text)
        or text.casefold() in {"yes", "no", "true", "false", "on", "off", "null", "~"}
        or text[0] in "-?"
        or _is_number(text)
    )
    if not needs_quotes:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
