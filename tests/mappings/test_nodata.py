"""No data (issue 13, DESIGN.md "Measures and status"): a key result whose every source has never
been read successfully, an item measure whose selection matches no item, or a metric without a
value is No data, with blank Value and Progress and a Note saying why; never Off track. A goal rolls
up only its key results that have data. A source read before and failing now is stale instead.

Now 2026-11-16T09:00Z, cycle 2026-10-01 .. 2026-12-31: expected 50.5 (see test_evaluate.py).
"""

from __future__ import annotations

import math
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.evaluate import SourceHealth
from mappings.model import StatusRules
from sync.base.records import State, WorkItem
from tests.mappings.conftest import (
    event,
    goal,
    item,
    kr,
    override,
    plan_of,
    row,
    run,
    ts,
)

AUTH = (
    "source 'jira': Jira answered 401 to serverInfo (credentials refused); "
    "check JIRA_EMAIL and JIRA_API_TOKEN"
)
NEVER = SourceHealth(ok=False, last_success=None, stale_since=ts("2026-11-16T08:59Z"), error=AUTH)
STALE = SourceHealth(
    ok=False,
    last_success=ts("2026-11-15T09:00Z"),
    stale_since=ts("2026-11-16T08:00Z"),
    error="source 'jira': Jira answered 503 to search",
)
OK = SourceHealth(ok=True, last_success=ts("2026-11-16T09:00Z"))
JIRA = [{"source": "jira"}]
OPS = [{"source": "ops"}]


def ops_items(*states: State) -> list[WorkItem]:
    return [item(f"OPS-{n}", source="ops", state=s) for n, s in enumerate(states, start=1)]


def test_a_source_never_read_is_no_data_naming_the_source_and_its_error() -> None:
    plan = plan_of(goal("G1", kr("K1", select=JIRA), kr("K2", select=OPS), owner="Dana"))
    report = run(plan, ops_items("done", "todo"), health={"jira": NEVER, "ops": OK})
    k1 = row(report, "K1")
    assert (k1.status, k1.value, k1.progress) == ("No data", None, None)
    assert (k1.done, k1.total) == (None, None)  # not "0 / 0": nothing was counted
    assert k1.note == (
        "no data: source jira never read successfully (Jira answered 401 to serverInfo "
        "(credentials refused); check JIRA_EMAIL and JIRA_API_TOKEN)"
    )
    assert "stale" not in k1.note and "no items match" not in k1.note
    assert k1.forecast_p85 is None and k1.trend_7d is None
    # The goal rolls up K2 alone (50 %), and says which source it could not read.
    g1 = row(report, "G1")
    assert (g1.progress, g1.status) == (50.0, "On track")
    assert "source jira never read successfully" in g1.note


def test_a_goal_whose_every_key_result_has_no_data_is_no_data() -> None:
    plan = plan_of(goal("G1", kr("K1", select=JIRA), kr("K2", select=JIRA), owner="Dana"))
    report = run(plan, health={"jira": NEVER})
    g1 = row(report, "G1")
    assert (g1.status, g1.progress, g1.value) == ("No data", None, None)
    assert g1.note.startswith("no data: no key result has data; source jira never read")
    assert [r.status for r in report.rows] == ["No data"] * 3
    assert [(h.id, h.status, h.value, h.progress) for h in report.history] == [
        ("G1", "No data", None, None),
        ("K1", "No data", None, None),
        ("K2", "No data", None, None),
    ]
    assert [h.expected for h in report.history] == [50.5] * 3  # the plan's side still shows


def test_a_stale_source_keeps_its_last_good_values_and_is_not_no_data() -> None:
    plan = plan_of(goal("G1", kr("K1", select=JIRA), owner="Dana"))
    items = [item("PAY-1", state="done"), item("PAY-2", state="todo")]  # the committed records
    k1 = row(run(plan, items, health={"jira": STALE}), "K1")
    assert (k1.status, k1.value) == ("On track", 50.0)
    assert k1.note == "stale since 2026-11-16 09:00: source jira failed"


def test_a_clause_that_matches_nothing_is_named() -> None:
    select = [
        {"source": "ops", "labels": ["dnss"]},
        {"source": "ops", "parent": "OPS-100", "state": ["done", "todo"]},
    ]
    plan = plan_of(goal("G1", kr("K1", select=select), owner="Dana"))
    k1 = row(run(plan, ops_items("done"), health={"ops": OK}), "K1")
    assert k1.status == "No data"
    assert k1.note == (
        "no data: no items match {source: ops, labels: [dnss]} "
        "or {source: ops, parent: OPS-100, state: [done, todo]}: "
        'labels "dnss" is on no item of ops; parent "OPS-100" is on no item of ops'
    )


def test_the_note_says_which_value_is_misspelt_and_the_closest_existing_one() -> None:
    # DESIGN: the clause that matches nothing, with the closest existing label as "did you mean".
    plan = plan_of(goal("G1", kr("K1", select=[{"source": "ops", "labels": ["bugg"]}])))
    items = [item("OPS-1", source="ops", labels=("bug",)), item("OPS-2", source="ops")]
    k1 = row(run(plan, items, health={"ops": OK}), "K1")
    assert k1.status == "No data"
    assert k1.note.endswith('labels "bugg" is on no item of ops; did you mean "bug"?'), k1.note


def test_a_clause_matching_nothing_while_another_source_was_never_read() -> None:
    # The key result could draw from jira (never read) and ops (read, nothing matches): both
    # causes are named.
    plan = plan_of(goal("G1", kr("K1", select=[{"labels": ["dnss"]}]), owner="Dana"))
    k1 = row(run(plan, ops_items("done"), health={"jira": NEVER, "ops": OK}), "K1")
    assert k1.status == "No data"
    assert k1.note.startswith(
        'no data: no items match {labels: [dnss]}: labels "dnss" is on no item; '
        "source jira never read"
    )


def test_a_key_result_with_data_names_a_source_it_could_not_read() -> None:
    plan = plan_of(goal("G1", kr("K1", select=[{"state": ["done", "todo"]}]), owner="Dana"))
    k1 = row(run(plan, ops_items("done", "todo"), health={"jira": NEVER, "ops": OK}), "K1")
    assert (k1.status, k1.value) == ("On track", 50.0)
    assert k1.note.startswith("source jira never read successfully (Jira answered 401")


def test_a_metric_without_a_value_is_no_data() -> None:
    nps = kr("K1", measure="metric", metric="nps", target=50)
    report = run(plan_of(goal("G1", nps, owner="Dana")))
    k1 = row(report, "K1")
    assert (k1.status, k1.value, k1.progress) == ("No data", None, None)
    assert k1.note == "no data: no value of metric 'nps' yet"


def test_a_metric_names_the_sources_never_read() -> None:
    nps = kr("K1", measure="metric", metric="nps", target=50)
    k1 = row(run(plan_of(goal("G1", nps, owner="Dana")), health={"plan": NEVER}), "K1")
    assert k1.status == "No data"
    assert k1.note.startswith("no data: no value of metric 'nps' yet; source plan never read")


def test_a_key_result_with_no_data_before_its_start_is_no_data() -> None:
    plan = plan_of(goal("G1", kr("K1", select=JIRA, start=date(2026, 12, 1)), owner="Dana"))
    assert row(run(plan, health={"jira": NEVER}), "K1").status == "No data"


def test_past_due_without_data_is_no_data_not_off_track() -> None:
    plan = plan_of(goal("G1", kr("K1", select=OPS, due=date(2026, 11, 1)), owner="Dana"))
    k1 = row(run(plan, health={"ops": OK}), "K1")
    assert (k1.status, k1.note) == (
        "No data",
        "no data: no items match {source: ops}: "
        "source ops has no items yet (not pulled, or its scope is empty)",
    )


def test_only_cancelled_items_is_no_data() -> None:
    plan = plan_of(goal("G1", kr("K1", select=OPS), owner="Dana"))
    k1 = row(run(plan, ops_items("cancelled", "cancelled")), "K1")
    assert (k1.status, k1.note) == ("No data", "no data: every selected item (2) is cancelled")


def test_nothing_done_in_the_window_throughput_is_0_and_cycle_time_no_data() -> None:
    # Done on 2026-09-01: outside the 6-week window before today.
    items = [item("PAY-1", state="done", created=ts("2026-08-01T00:00Z"))]
    events = [
        event("PAY-1", "2026-08-20T00:00Z", "todo", "in_progress"),
        event("PAY-1", "2026-09-01T00:00Z", "in_progress", "done"),
    ]
    plan = plan_of(
        goal(
            "G1",
            kr("K1", select=JIRA, measure="throughput", target=5),
            kr("K2", select=JIRA, measure="cycle_time", baseline=20, target=5),
            owner="Dana",
        )
    )
    report = run(plan, items, events=events)
    k1, k2 = row(report, "K1"), row(report, "K2")
    assert (k1.value, k1.progress, k1.status) == (0.0, 0.0, "Off track")
    assert (k2.value, k2.status) == (None, "No data")
    assert k2.note == "no data: nothing finished in the last 6 weeks"


def test_worst_of_the_key_results_leaves_no_data_out() -> None:
    plan = plan_of(goal("G1", kr("K1", select=JIRA), kr("K2", select=OPS), owner="Dana"))
    rules = StatusRules(goal_status="worst")
    report = run(plan, ops_items("done", "todo"), rules=rules, health={"jira": NEVER, "ops": OK})
    assert row(report, "G1").status == "On track"


def test_a_child_goal_with_no_data_is_left_out_of_its_parent() -> None:
    parent = goal("G1", kr("K1", select=OPS), owner="Dana")
    child = goal("G2", kr("K2", select=JIRA), owner="Kim", parent="G1")
    report = run(plan_of(parent, child), ops_items("done", "done", "todo", "todo"))
    assert row(report, "G2").status == "No data"
    assert row(report, "G1").progress == 50.0  # K1 alone, not (50 + 0) / 2


def test_an_override_still_wins_and_says_so() -> None:
    plan = plan_of(goal("G1", kr("K1", select=JIRA), owner="Dana"))
    report = run(plan, health={"jira": NEVER}, overrides=[override("K1", "At risk", reason="x")])
    k1 = row(report, "K1")
    assert k1.status == "At risk" and k1.value is None
    assert k1.note.startswith("override: x; no data: source jira never read")


# --- property: No data is never Off track and never weighs on its goal ----------------------------

HEALTH = st.sampled_from(["ok", "stale", "never"])
STATES: list[State] = ["todo", "in_progress", "done", "cancelled"]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, str], list[WorkItem], list[tuple[str, float]]]:
    health = {"a": draw(HEALTH), "b": draw(HEALTH)}
    items: list[WorkItem] = []
    for source in ("a", "b"):
        if health[source] == "never":
            continue  # a source never read has no committed records
        for n in range(draw(st.integers(0, 4))):
            epic = draw(st.sampled_from(["E1", "E2", "E3"]))
            state = draw(st.sampled_from(STATES))
            items.append(item(f"{source}-{n}", source=source, parent=epic, state=state))
    krs = draw(
        st.lists(
            st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["E1", "E2", "E3"])),
            min_size=1,
            max_size=4,
        )
    )
    weights = draw(st.lists(st.sampled_from([0.5, 1.0, 3.0]), min_size=len(krs), max_size=len(krs)))
    return health, items, [(f"{s}:{e}", w) for (s, e), w in zip(krs, weights, strict=True)]


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.sampled_from([date(2026, 10, 20), date(2026, 11, 1), date(2026, 12, 31)]))
def test_no_data_is_never_off_track_nor_part_of_the_rollup(
    scenario: tuple[dict[str, str], list[WorkItem], list[tuple[str, float]]], due: date
) -> None:
    kinds, items, krs = scenario
    health = {
        name: {"ok": OK, "stale": STALE, "never": NEVER}[kind] for name, kind in kinds.items()
    }
    key_results = [
        kr(
            f"K{n}",
            select=[{"source": spec.split(":")[0], "parent": spec.split(":")[1]}],
            weight=weight,
            due=due,
        )
        for n, (spec, weight) in enumerate(krs)
    ]
    report = run(plan_of(goal("G1", *key_results, owner="Dana")), items, health=health)
    rows = [row(report, f"K{n}") for n in range(len(krs))]
    for r in rows:
        assert (r.status == "No data") == (r.value is None), r
        assert not (r.value is None and r.status == "Off track"), r
        if r.status == "No data":
            assert r.progress is None and r.note.startswith("no data: "), r
    with_data = [
        (w, r.progress) for (_, w), r in zip(krs, rows, strict=True) if r.progress is not None
    ]
    g1 = row(report, "G1")
    if not with_data:
        assert (g1.status, g1.progress) == ("No data", None)
        return
    assert g1.status != "No data"
    mean = math.fsum(w * p for w, p in with_data) / math.fsum(w for w, _ in with_data)
    assert g1.progress is not None and abs(g1.progress - mean) <= 0.051
