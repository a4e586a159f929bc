"""sync.explain: per key result and clause, the matches from the state store (or a pull that
commits nothing), matched exactly as the evaluation matches (people map, Goals rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.base.errors import ConfigError
from sync.config import load_config
from sync.explain import explain, pulled_records, stored_records
from sync.store import Store

ITEMS = (
    "key,title,state,assignee,labels\n"
    "T-1,Invoices,done,Dana Lee,bug\n"
    "T-2,Refunds,todo,dana-lee,bug\n"
    "T-3,Tax,todo,Sam,billing\n"
)
CONFIG = """\
version: 1
cycle: {start: 2026-10-01, due: 2026-12-31}
sources:
  tasks: {type: file, path: items.csv, format: csv_items}
  kpis: {type: file, path: metrics.csv, format: csv_metrics}
sinks:
  - {type: csv, path: out/csv}
people:
  Sam Ortiz: [sam]
goals:
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Bugs, select: [{source: tasks, labels: [bugg]}, {labels: [billing]}]}
      - {id: G1.2, title: Sam's work, select: [{assignee: Sam Ortiz}]}
      - {id: G1.3, title: NPS, measure: metric, metric: nsp, target: 50}
  - id: G2
    title: Other
    key_results:
      - {id: G2.1, title: All, select: [{source: tasks}]}
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    (tmp_path / "metrics.csv").write_text("name,date,value\nnps,2026-11-01,40\n", encoding="utf-8")
    path = tmp_path / "goalsync.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_explain_counts_per_clause_with_a_sample_and_a_suggestion(
    config_path: Path, tmp_path: Path
) -> None:
    config = load_config(config_path)
    records, matches = pulled_records(config, Store(tmp_path / "state"), budget_s=5)
    assert not (tmp_path / "state" / "goalsync.sqlite3").exists()  # nothing committed
    found = explain(config, records, matches)
    by_id = {k.kr.id: k for k in found.key_results}
    assert found.items == 3 and found.per_source == {"tasks": 3, "kpis": 0}
    g11 = by_id["G1.1"]
    assert g11.selected == 1 and [len(c.matched) for c in g11.clauses] == [0, 1]
    assert 'did you mean "bug"?' in g11.clauses[0].message()
    assert [i.key for i in g11.clauses[1].sample] == ["T-3"]
    # the people map applies before matching, as in the evaluation: "Sam" is Sam Ortiz
    assert by_id["G1.2"].selected == 1
    assert by_id["G1.3"].metric_values == 0 and by_id["G1.3"].metric_closest == ("nps",)
    assert [(where, c.clause.labels) for where, c in found.unmatched] == [
        ("G1.1 clause 1", ("bugg",))
    ]
    assert [(p.name, p.aliases) for p in found.people] == [("Dana Lee", ("dana-lee",))]
    assert "Dana Lee: [dana-lee]   # new" in found.people_yaml
    assert "Sam Ortiz: [sam]" in found.people_yaml  # the existing map is kept


def test_explain_filters_by_goal_or_key_result_and_names_an_unknown_id(
    config_path: Path, tmp_path: Path
) -> None:
    config = load_config(config_path)
    records, matches = stored_records(config, Store(tmp_path / "state"))
    assert records.items == ()  # an empty state dir: no items, no error
    assert [k.kr.id for k in explain(config, records, matches, ["G2"]).key_results] == ["G2.1"]
    assert [k.kr.id for k in explain(config, records, matches, ["G1.2"]).key_results] == ["G1.2"]
    with pytest.raises(ConfigError, match=r"'G1\.4' is no goal or key result.*did you mean"):
        explain(config, records, matches, ["G1.4"])


def test_explain_counts_tagged_items_and_lists_unknown_tags(tmp_path: Path) -> None:
    (tmp_path / "items.csv").write_text(
        "key,title,state,labels\n"
        "T-1,Invoices,todo,team:pay;goal:G2.1\n"
        "T-2,Refunds,todo,goal:G2\n"
        "T-3,Tax,todo,Goal:G7\n",
        encoding="utf-8",
    )
    (tmp_path / "metrics.csv").write_text("name,date,value\n", encoding="utf-8")
    path = tmp_path / "goalsync.yaml"
    path.write_text(
        CONFIG.replace("{source: tasks}]", "{source: tasks, labels: [x]}]"), encoding="utf-8"
    )
    config = load_config(path)
    records, matches = pulled_records(config, Store(tmp_path / "state"), budget_s=5)
    found = explain(config, records, matches, ["G2.1"])
    (g21,) = found.key_results
    assert (g21.selected, g21.by_tag) == (1, ("T-1",))
    assert [(t.tag, t.keys) for t in found.unknown_tags] == [
        ("goal:G2", ("T-2",)),
        ("Goal:G7", ("T-3",)),
    ]
