"""Did you mean: a clause that matches nothing names the key at fault and the closest existing
values; assignee spellings of one person are proposed as `people:` entries."""

from __future__ import annotations

import yaml

from mappings.model import SelectClause, check_people
from mappings.people import fold_name, people_yaml, propose_people
from mappings.select import ItemIndex
from mappings.suggest import check_clause, closest
from tests.mappings.conftest import item

ITEMS = [
    item("PAY-100", kind="epic", title="Billing v2", labels=("billing",)),
    item("PAY-101", title="Invoice PDF", parent="PAY-100", labels=("billing", "bug")),
    item("PAY-102", title="Refunds", parent="PAY-100", labels=("bug",), status="In Review"),
    item("PAY-103", title="Tax", parent="PAY-100", labels=("bug",), assignee="Dana Lee"),
    item("CORE-7", title="Deploys", parent="CORE-1", components=("Deploy pipeline",)),
    item("acme/web#1", "gh", title="Checkout", project="acme/web", labels=("billing",)),
    item("acme/sdk#2", "gh", title="SDK", project="acme/sdk", milestone="v3.0"),
]
SOURCES = ("jira", "gh", "plan")


def clause(**keys: object) -> SelectClause:
    return SelectClause.model_validate(keys)


def did_you_mean(c: SelectClause, index: ItemIndex, known: tuple[str, ...] = ()) -> str:
    """What the No data Note says of a clause that matches nothing."""
    return check_clause(c, index, known).message()


def test_a_misspelt_label_names_the_closest_existing_one() -> None:
    index = ItemIndex(ITEMS)
    found = check_clause(clause(source="jira", labels=["bugg"]), index, SOURCES)
    assert found.empty and found.matched == ()
    assert [(h.key, h.missing, h.closest) for h in found.hints] == [("labels", ("bugg",), ("bug",))]
    assert found.message() == (
        '{source: jira, labels: [bugg]} matches no item: labels "bugg" is on no item of jira; '
        'did you mean "bug"?'
    )


def test_a_clause_that_matches_has_a_count_a_sample_and_no_message() -> None:
    found = check_clause(clause(source="jira", labels=["bug"]), ItemIndex(ITEMS))
    assert len(found.matched) == 3 and not found.empty
    assert [i.key for i in found.sample] == ["PAY-101", "PAY-102", "PAY-103"]
    assert found.message() == "" and found.hints == ()


def test_an_unknown_parent_with_nothing_close_lists_the_most_used_parents() -> None:
    text = did_you_mean(clause(source="jira", parent="PAY-99999"), ItemIndex(ITEMS), SOURCES)
    assert 'parent "PAY-99999" is on no item of jira; nothing close; the most used: ' in text
    assert "PAY-100 (4 items)" in text  # three children and the epic itself
    assert "CORE-1 (1 item)" in text


def test_a_close_parent_key_is_suggested() -> None:
    text = did_you_mean(clause(parent="PAY-10"), ItemIndex(ITEMS), SOURCES)
    assert text.endswith('did you mean "PAY-100"?')


def test_values_are_looked_for_in_the_named_sources_only() -> None:
    # "billing" is a gh label too, but "biling" in jira is compared with jira's labels
    found = check_clause(clause(source="gh", labels=["bug"]), ItemIndex(ITEMS), SOURCES)
    assert found.hints[0].missing == ("bug",) and "bug" not in found.hints[0].closest
    assert "of gh" in found.message()


def test_a_misspelt_source_or_repo_or_status_or_assignee() -> None:
    index = ItemIndex(ITEMS)
    assert did_you_mean(clause(source="jria"), index, SOURCES).endswith('did you mean "jira"?')
    assert 'did you mean "acme/web"' in did_you_mean(clause(repo="acme/wbe"), index, SOURCES)
    assert 'did you mean "In Review"' in did_you_mean(clause(status="In Reveiw"), index)
    assert 'did you mean "Dana Lee"' in did_you_mean(clause(assignee="dana lea"), index)


def test_a_configured_source_without_items_is_said_so_not_misspelt() -> None:
    text = did_you_mean(clause(source="plan", labels=["bug"]), ItemIndex(ITEMS), SOURCES)
    assert "source plan has no items yet" in text and "did you mean" not in text


def test_values_that_exist_but_not_together_name_the_key_to_drop() -> None:
    text = did_you_mean(clause(repo="acme/web", milestone="v3.0"), ItemIndex(ITEMS), SOURCES)
    assert "without repo it would match 1 item, whose repo: acme/sdk (1 item)" in text
    assert "without milestone it would match 1 item" in text


def test_closest_ignores_case_and_keeps_the_items_spelling() -> None:
    assert closest("BILLNG", ["billing", "Billing", "billing", "bug"]) == ["billing"]
    assert closest("zzz", ["billing"]) == []


# --- people ------------------------------------------------------------------------------------


def test_fold_name_folds_case_accents_punctuation_and_email_domains() -> None:
    assert fold_name("Dana Lee") == fold_name("dana-lee") == fold_name("DANA.LEE") == "danalee"
    assert fold_name("Sam O'Neil") == fold_name("sam-oneil") == fold_name("sam_oneil")
    assert fold_name("Gus Müller") == fold_name("gus.muller@acme.io") == "gusmuller"
    assert fold_name("Dana Lee") != fold_name("Dan Alee Smith")


def test_spellings_of_one_person_are_proposed_under_the_display_name() -> None:
    found = propose_people(
        ["Dana Lee", "dana-lee", "Sam O'Neil", "sam-oneil", "sam.oneil@acme.com", "Ben", "bokafor"]
    )
    assert [(p.name, p.aliases, p.known) for p in found] == [
        ("Dana Lee", ("dana-lee",), False),
        ("Sam O'Neil", ("sam-oneil", "sam.oneil@acme.com"), False),
    ]


def test_the_people_map_is_respected_and_extended() -> None:
    people = {"Dana Lee": ("dlee",), "Ana Costa": ("ana-costa",)}
    found = propose_people(["dlee", "ana-costa", "Ana Costa", "DANA.LEE", "dana-lee"], people)
    assert [(p.name, p.aliases, p.known) for p in found] == [
        ("Dana Lee", ("dana-lee", "DANA.LEE"), True)
    ]
    assert propose_people(["ana-costa", "Ana Costa"], people) == []  # joined already


def test_the_yaml_block_parses_and_passes_the_configs_own_check() -> None:
    people = {"Dana Lee": ("dlee",)}
    found = propose_people(["Dana Lee", "dana-lee", "Sam O'Neil", "sam-oneil", "@x"], people)
    text = people_yaml(people, found)
    assert text.splitlines()[0] == "people:"
    assert "Dana Lee: [dlee, dana-lee]   # new" in text
    parsed = yaml.safe_load(text)["people"]
    assert parsed == {"Dana Lee": ["dlee", "dana-lee"], "Sam O'Neil": ["sam-oneil"]}
    check_people({k: tuple(v) for k, v in parsed.items()})
