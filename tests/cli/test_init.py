"""`goalsync init`: the starter config validates as written, never overwrites by accident, and
refuses flags that would not validate (writing nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import structlog
import yaml

from connectors.files.html import HtmlSinkConfig
from connectors.github.config import GitHubSourceConfig
from connectors.jira.config import JiraSourceConfig
from connectors.sheets.config import SheetsSinkConfig
from sync.cli import main
from sync.config import load_config
from sync.init import SCHEMA_FILE, StarterOptions, quarter, render, split_values

FULL = [
    "--jira-url", "https://acme.atlassian.net",
    "--jira-project", "PAY", "--jira-project", "CORE",
    "--github-repo", "acme/web,acme/api", "--github-repo", "acme/sdk",
    "--sheet-id", "1XyZ",
    "--timezone", "Europe/Berlin",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("GOALSYNC_CONFIG", "GOALSYNC_STATE_DIR", "GOALSYNC_LOG_FORMAT", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "error")
    monkeypatch.chdir(tmp_path)
    yield
    structlog.reset_defaults()


def test_init_writes_a_starter_that_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", *FULL]) == 0
    out = capsys.readouterr().out
    assert "wrote goalsync.yaml: it validates (sources jira (jira), gh (github))" in out
    config = load_config(tmp_path / "goalsync.yaml")
    jira, gh = config.model.sources["jira"], config.model.sources["gh"]
    assert isinstance(jira, JiraSourceConfig) and isinstance(gh, GitHubSourceConfig)
    assert jira.type == "jira" and jira.jql == "project in (PAY, CORE)"
    assert gh.type == "github" and gh.repos == ("acme/web", "acme/api", "acme/sdk")
    (sink,) = config.model.sinks
    assert isinstance(sink, SheetsSinkConfig)
    assert sink.type == "sheets" and sink.spreadsheet_id == "1XyZ"
    assert config.model.timezone == "Europe/Berlin"
    krs = config.model.goals[0].key_results
    assert [c.source for kr in krs for c in kr.select] == [("jira",), ("gh",)]
    assert main(["validate"]) == 0


def test_the_starter_is_commented_and_points_editors_at_the_schema(tmp_path: Path) -> None:
    assert main(["init", *FULL]) == 0
    text = (tmp_path / "goalsync.yaml").read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first == f"# yaml-language-server: $schema=./{SCHEMA_FILE}"
    assert (tmp_path / SCHEMA_FILE).is_file()
    for hint in ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "GITHUB_TOKEN",
                 "GOOGLE_APPLICATION_CREDENTIALS", "Editor", "alerts:"):  # fmt: skip
        assert hint in text
    assert sum(1 for line in text.splitlines() if "#" in line) >= 25  # most lines explain


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "goalsync.yaml"
    path.write_text("mine: true\n", encoding="utf-8")
    assert main(["init", *FULL]) == 2
    assert "exists already; pass --force" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "mine: true\n"
    assert main(["init", *FULL, "--force"]) == 0
    assert load_config(path).model.sources.keys() == {"jira", "gh"}


def test_init_writes_where_config_says(tmp_path: Path) -> None:
    target = tmp_path / "team" / "payments.yaml"
    assert main(["init", "--config", str(target), "--github-repo", "acme/web"]) == 0
    config = load_config(target)
    (sink,) = config.model.sinks  # no --sheet-id: a local html page
    assert isinstance(sink, HtmlSinkConfig)
    assert sink.type == "html" and sink.path == "out/status.html"
    assert (tmp_path / "team" / SCHEMA_FILE).is_file()


def test_flags_that_would_not_validate_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--jira-url", "http://jira.acme.example"]) == 2
    err = capsys.readouterr().err
    assert "does not validate; nothing written" in err
    assert "must use https" in err
    assert "goalsync.yaml" in err and ".goalsync.yaml." not in err  # the target, not the temp
    assert list(tmp_path.iterdir()) == []


def test_init_needs_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--sheet-id", "1XyZ"]) == 2
    assert "at least one source" in capsys.readouterr().err
    assert not (tmp_path / "goalsync.yaml").exists()


def test_a_bad_project_key_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["init", "--jira-url", "https://a.atlassian.net", "--jira-project", "pay x"])
    assert code == 2
    assert "not a Jira project key" in capsys.readouterr().err


def test_no_schema_and_an_own_schema_file_is_kept(tmp_path: Path) -> None:
    assert main(["init", "--github-repo", "acme/web", "--no-schema"]) == 0
    assert not (tmp_path / SCHEMA_FILE).exists()
    (tmp_path / SCHEMA_FILE).write_text("{}", encoding="utf-8")
    assert main(["init", "--github-repo", "acme/web", "--force"]) == 0
    assert (tmp_path / SCHEMA_FILE).read_text(encoding="utf-8") != "{}"  # --force refreshes it
    (tmp_path / SCHEMA_FILE).write_text("{}", encoding="utf-8")
    (tmp_path / "goalsync.yaml").unlink()
    assert main(["init", "--github-repo", "acme/web"]) == 0
    assert (tmp_path / SCHEMA_FILE).read_text(encoding="utf-8") == "{}"  # not without it


@pytest.mark.parametrize(
    ("options", "kinds"),
    [
        (StarterOptions(jira_url="https://jira.acme.example", jira_jql="filter = 10042"),
         {"jira": "jira"}),
        (StarterOptions(github_org="acme", github_url="https://ghe.acme.example/api/v3"),
         {"gh": "github"}),
        (StarterOptions(plan_sheet_id="1Plan"), {"plan": "sheets"}),
        (StarterOptions(plan_sheet_id="1Plan", sheet_id="1Status", html="site/index.html"),
         {"plan": "sheets"}),
    ],
)  # fmt: skip
def test_every_combination_validates(
    tmp_path: Path, options: StarterOptions, kinds: dict[str, str]
) -> None:
    path = tmp_path / "goalsync.yaml"
    path.write_text(render(options), encoding="utf-8")
    config = load_config(path)
    assert {n: s.type for n, s in config.model.sources.items()} == kinds
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["goals"][0]["key_results"]


def test_the_default_cycle_is_this_quarter() -> None:
    assert quarter(date(2026, 11, 16)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert quarter(date(2026, 1, 1)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert quarter(date(2024, 5, 31)) == (date(2024, 4, 1), date(2024, 6, 30))
    assert quarter(date(2026, 9, 30)) == (date(2026, 7, 1), date(2026, 9, 30))
    text = render(StarterOptions(github_repos=("a/b",), today=date(2026, 2, 10)))
    assert "cycle: {start: 2026-01-01, due: 2026-03-31}" in text


def test_repeatable_flags_take_commas_and_drop_repeats() -> None:
    assert split_values(["acme/web, acme/api", "acme/web", ""]) == ("acme/web", "acme/api")
    assert split_values(None) == ()


def test_quotes_in_values_stay_yaml() -> None:
    text = render(
        StarterOptions(jira_url="https://a.atlassian.net", jira_jql='labels = "q4: billing"',
                       owner='Dana "DL" Lee')
    )  # fmt: skip
    data = yaml.safe_load(text)
    assert data["sources"]["jira"]["jql"] == 'labels = "q4: billing"'
    assert data["goals"][0]["owner"] == 'Dana "DL" Lee'
