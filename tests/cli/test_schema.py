"""`goalsync schema`: a valid JSON Schema (draft 2020-12) that accepts every config goalsync
accepts (the demo, init's starters, the deploy example, the test configs) and flags what an
editor should flag (unknown keys, unknown types, wrong values)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import structlog
import yaml

from sync.cli import main
from sync.config import load_config
from sync.init import StarterOptions, render
from sync.schema import DIALECT, config_schema
from tests.sync.samples import sample_config

REPO = Path(__file__).resolve().parents[2]


class Yaml12Loader(yaml.SafeLoader):
    """YAML as yaml-language-server reads it (1.2 core): 2026-10-01 is a string, not a date."""


Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def as_editor_reads(text: str) -> Any:
    return yaml.load(text, Loader=Yaml12Loader)  # a SafeLoader subclass


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(autouse=True)
def _logs() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def problems(validator: jsonschema.Draft202012Validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(as_editor_reads(text))]


def known_good_configs() -> list[tuple[str, str]]:
    configmap = yaml.safe_load((REPO / "deploy/kubernetes/configmap.yaml").read_text())
    return [
        ("demo", (REPO / "examples/demo/goalsync.yaml").read_text(encoding="utf-8")),
        ("deploy configmap", configmap["data"]["goalsync.yaml"]),
        ("sync sample", sample_config()),
        ("init, all three", render(StarterOptions(
            jira_url="https://a.atlassian.net", jira_projects=("PAY",), github_repos=("a/b",),
            sheet_id="1XyZ", plan_sheet_id="1Plan"))),
        ("init, plan sheet only", render(StarterOptions(plan_sheet_id="1Plan"))),
    ]  # fmt: skip


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    schema = config_schema()
    assert schema["$schema"] == DIALECT
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"version", "cycle", "sources", "sinks", "goals"}
    assert "alerts" in schema["properties"]


@pytest.mark.parametrize(("name", "text"), known_good_configs(), ids=lambda v: str(v)[:20])
def test_it_accepts_what_goalsync_accepts(
    validator: jsonschema.Draft202012Validator, name: str, text: str, tmp_path: Path
) -> None:
    assert problems(validator, text) == [], name
    if name != "demo":  # the demo's data files are beside it; the others need none
        path = tmp_path / "goalsync.yaml"
        path.write_text(text, encoding="utf-8")
        (tmp_path / "items.csv").write_text("key\n", encoding="utf-8")
        (tmp_path / "metrics.csv").write_text("name,date,value\n", encoding="utf-8")
        load_config(path)


@pytest.mark.parametrize(
    "clause",
    [
        "{source: jira, labels: billing}",  # one value where a list is allowed
        "{source: jira, parent: 100}",  # a number where a name is meant
        "{source: [jira, gh], state: done}",
        "{source: jira, state: [todo, in_progress]}",
        "{source: gh, milestone: 1.0}",
        "{source: gh, project_fields: {Iteration: Sprint 12, Estimate: [3, 5], Size: 8}}",
    ],
)
def test_the_loaders_leniency_is_in_the_schema(
    validator: jsonschema.Draft202012Validator, clause: str, tmp_path: Path
) -> None:
    text = sample_config().replace("{source: tasks, labels: [billing]}", clause)
    text = text.replace(
        "  tasks:\n    type: file\n    path: items.csv\n    format: csv_items\n",
        "  jira: {type: jira, url: 'https://a.atlassian.net', jql: 'project = PAY'}\n"
        "  gh: {type: github, repos: [acme/web]}\n",
    )
    assert problems(validator, text) == []
    path = tmp_path / "goalsync.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "metrics.csv").write_text("name,date,value\n", encoding="utf-8")
    load_config(path)  # and goalsync itself takes it


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("timezone: Europe/Berlin", "timezone: Europe/Berlin\ntimezon: UTC", "timezon"),
        ("    type: file\n    path: items.csv", "    type: fil\n    path: items.csv", "fil"),
        ("measure: metric", "measure: vibes", "vibes"),
        ("    owner: Dana\n", "    owner: Dana\n    ownr: Dan\n", "ownr"),
        ("version: 1", "version: 2", "1 was expected"),
    ],
)  # fmt: skip
def test_it_flags_what_an_editor_should(
    validator: jsonschema.Draft202012Validator, old: str, new: str, expected: str
) -> None:
    text = sample_config()
    assert old in text
    found = problems(validator, text.replace(old, new, 1))
    assert found and any(expected in p for p in found), found


def test_alerts_keys_are_checked(validator: jsonschema.Draft202012Validator) -> None:
    good = sample_config() + "alerts: {webhook_env: GOALSYNC_WEBHOOK_URL, events: [failed]}\n"
    assert problems(validator, good) == []
    bad = sample_config() + "alerts: {webhook_url: https://hooks.example/x}\n"
    assert problems(validator, bad)


def test_the_command_prints_it_and_writes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == config_schema()
    target = tmp_path / "goalsync.schema.json"
    assert main(["schema", "--output", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == printed
    assert f"wrote {target}" in capsys.readouterr().out
