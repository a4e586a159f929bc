"""The registry is the only door between `sync/` and the connectors: a new outside system is one
subpackage plus one registry line. Here a tiny system ("tally", a source and a sink defined in
this file) is registered through the public API and nothing else changes: its config validates
with every problem at its line, `schema` lists it, doctor checks it, `plan` reads it back, a run
pulls it (with a native clause kind it declares) and publishes to it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict

import connectors
from connectors.files.source import EXPORT_READERS
from sync.backfill import backfill
from sync.base.contracts import (
    CheckContext,
    CheckTarget,
    Export,
    Held,
    PublishContext,
    PullContext,
    PullResult,
    Rows,
    SourceTraits,
)
from sync.base.errors import EXIT_OK, ConfigError
from sync.base.records import WorkItem
from sync.base.report import Table
from sync.config import load_config
from sync.doctor import run_doctor
from sync.engine import RunOptions, run
from sync.preview import compare, read_sinks
from sync.schema import config_schema
from sync.store import Store
from tests.interpreter import fresh_python

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


class TallySource:
    type = "tally"

    def __init__(self, name: str, items: int) -> None:
        self.name, self.items = name, items
        self.seen: list[PullContext] = []

    def fetch(self, ctx: PullContext) -> PullResult:
        self.seen.append(ctx)
        items = [
            WorkItem(
                source=self.name,
                key=f"T-{n}",
                title=f"tally {n}",
                state="done" if n == 1 else "todo",
            )
            for n in range(1, self.items + 1)
        ]
        # Its native clause kind: "jql" text, which this toy reads as "the first N items".
        matches = {
            text: frozenset(f"T-{n}" for n in range(1, int(text.split()[-1]) + 1))
            for text in ctx.native_clauses.get("jql", ())
        }
        return PullResult(items=items, native_matches={"jql": matches} if matches else {})

    def check(self, target: CheckTarget, ctx: CheckContext) -> None:
        target.add("counted", "ok", f"{self.items} items")


class TallySourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["tally"]
    items: int

    def build(self, name: str, base_dir: Path) -> TallySource:
        SOURCES.append(TallySource(name, self.items))
        return SOURCES[-1]

    def traits(self) -> SourceTraits:
        return SourceTraits("items")


class TallyWrite:
    remote = False

    def __init__(self, sink: TallySink, tables: Sequence[Table]) -> None:
        self.sink, self.tables = sink, tables
        self.description = "tally"

    def apply(self) -> None:
        self.sink.written = {t.name: len(t.rows) for t in self.tables}

    def discard(self) -> None:
        pass


class TallySink:
    type = "tally"

    def __init__(self) -> None:
        self.written: dict[str, int] = {}

    def prepare(self, tables: Sequence[Table], ctx: PublishContext) -> TallyWrite:
        return TallyWrite(self, tables)

    def read_back(self, budget_s: float) -> Held:
        return Held(tabs=None, note="counts rows", render=_counts)


def _counts(tables: Sequence[Table]) -> dict[str, Rows]:
    return {t.name: [["Rows"], [str(len(t.rows))]] for t in tables}


SINKS: list[TallySink] = []
SOURCES: list[TallySource] = []


class TallySinkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["tally"]

    def build(self, base_dir: Path) -> TallySink:
        SINKS.append(TallySink())
        return SINKS[-1]


class OtherJiraConfig(BaseModel):
    type: Literal["jira"]


@pytest.fixture
def tally() -> Iterator[None]:
    connectors.register_source("tally", TallySourceConfig, native_clauses=("jql",))
    connectors.register_sink("tally", TallySinkConfig)
    try:
        yield
    finally:
        connectors.unregister("tally")
        connectors.unregister("tally", sink=True)
        SINKS.clear()
        SOURCES.clear()


CONFIG = """\
version: 1
cycle: {start: 2026-10-01, due: 2026-12-31}
sources:
  counted: {type: tally, items: 4}
sinks:
  - {type: tally}
goals:
  - id: G1
    title: Count things
    key_results:
      - id: K1
        title: All of them done
        select: [{source: counted}]
      - id: K2
        title: The first two done
        select: [{jql: first 2}]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "goalsync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_registered_system_validates_runs_and_publishes(tally: None, tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CONFIG))
    assert config.native_clauses("counted") == {"jql": ("first 2",)}
    outcome = run(config, Store(tmp_path / "state"), RunOptions(), lambda: NOW)
    assert outcome.exit_code == EXIT_OK
    assert outcome.report is not None
    values = {r.id: r.value for r in outcome.report.rows if r.level == "kr"}
    assert values == {"K1": 25.0, "K2": 50.0}  # T-1 done of T-1..4; of T-1, T-2 (its jql)
    (sink,) = SINKS
    assert sink.written["Items"] >= 4


def test_a_source_is_told_how_far_back_the_measures_look(tally: None, tmp_path: Path) -> None:
    """PullContext.history_from: the cycle's start (2026-10-01, before the forecast's six weeks
    back from 2026-11-16), less a day; an --as-of day's windows when they reach further."""
    config = load_config(write(tmp_path, CONFIG))
    run(config, Store(tmp_path / "state"), RunOptions(), lambda: NOW)
    assert SOURCES[-1].seen[-1].history_from == datetime(2026, 9, 30, tzinfo=UTC)
    as_of = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)  # six weeks before: 2026-09-08
    run(config, Store(tmp_path / "state"), RunOptions(as_of=as_of), lambda: NOW)
    assert SOURCES[-1].seen[-1].history_from == datetime(2026, 9, 7, tzinfo=UTC)
    backfill(
        config, Store(tmp_path / "state"), date(2026, 9, 1), date(2026, 9, 2), clock=lambda: NOW
    )
    assert SOURCES[-1].seen[-1].history_from == datetime(2026, 7, 20, tzinfo=UTC)


def test_its_config_problems_are_reported_at_their_lines(tally: None, tmp_path: Path) -> None:
    text = CONFIG.replace("{type: tally, items: 4}", "{type: tally, items: 4, colour: red}")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    (problem,) = caught.value.problems
    assert problem.line == 4 and problem.message == "unknown key 'colour'"
    assert "allowed here: items, type" in problem.fix


def test_doctor_and_plan_ask_the_connector(tally: None, tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CONFIG))
    report = run_doctor(config, state_dir=tmp_path / "state")
    assert ("source counted (tally)", "counted", "ok") in [
        (t.name, c.check, c.status) for t in report.targets for c in t.checks
    ]
    assert "sink tally" in [t.name for t in report.targets]
    states = read_sinks([TallySink()])
    (diff,) = compare(states, [Table(name="Status", columns=(), rows=[])])
    assert diff.note == "nothing there yet: every tab would be created"


def test_the_schema_lists_a_registered_type(tally: None) -> None:
    schema = str(config_schema())
    assert "TallySourceConfig" in schema and "TallySinkConfig" in schema


def test_unknown_types_name_the_registered_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, CONFIG))
    fixes = " ".join(p.fix for p in caught.value.problems)
    assert "'jira', 'github', 'github_project', 'sheets', 'file'" in fixes
    assert "'sheets', 'xlsx', 'csv', 'html'" in fixes


def test_an_entry_is_checked_when_registered() -> None:
    with pytest.raises(TypeError, match="needs the field type"):
        connectors.register_source("counted", TallySourceConfig)  # its type: says "tally"
    with pytest.raises(ValueError, match="registered already"):
        connectors.register_source("jira", OtherJiraConfig)


def test_sync_finds_connectors_only_through_the_registry() -> None:
    """No module of sync/ names a connector subpackage (the layer contracts check imports;
    this checks the text too, lazy imports included)."""
    found = subprocess.run(
        ["grep", "-rnE", r"connectors\.(jira|github|sheets|files)", "sync/", "--include=*.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.stdout == ""


def test_validating_the_demo_loads_no_client_library() -> None:
    code = (
        "import sys; from sync.cli import main; "
        "rc = main(['validate', '--config', 'examples/demo/goalsync.yaml']); "
        "print(rc, sorted(m for m in ('jira', 'github', 'googleapiclient') if m in sys.modules))"
    )
    assert fresh_python(code).strip().splitlines()[-1] == "0 []"


def test_the_export_readers_are_imported_when_a_file_is_read() -> None:
    """The registry names each export format's reader; importing it loads none of them (nor a
    board's GraphQL client): a run without file sources never pays for them."""
    code = (
        "import sys, connectors; "
        "print(sorted(m for m in sys.modules if m.endswith('.export') "
        "or m.startswith('connectors.github_project.')))"
    )
    assert fresh_python(code).strip() == "['connectors.github_project.config']"


@pytest.mark.parametrize("fmt", ["jira_search", "github_issues", "github_project"])
def test_each_export_reader_reads_its_format(fmt: str, tmp_path: Path) -> None:
    out = PullResult()
    ctx = PullContext(source="export", run_started=datetime(2026, 11, 16, tzinfo=UTC), tz=UTC)
    EXPORT_READERS[fmt]([], Export("export", None, tmp_path / "export.json"), ctx, out)
    assert out.items == []
