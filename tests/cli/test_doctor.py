"""`goalsync doctor` against the loopback fakes: every check passes on a good setup (with the
requests each target costs), and each kind of problem fails its check with what to fix, exit 1,
and no secret in the output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from sync import doctor_model
from sync.cli import main
from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import FakeServer, Fault, Request, Response
from tests.fakes.sheets import FakeSheets

EMAIL, JIRA_TOKEN = "bot@acme.example", "atl-doctor-token-0123456789"
HOOK_PATH = "/services/T000/B000/doctor-secret-path"
NOW = datetime.now(UTC)


class Webhook(FakeServer):
    """A Slack-like incoming webhook: answers `status` and keeps every JSON body."""

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.status = status
        self.bodies: list[dict[str, object]] = []

    def handle(self, request: Request) -> Response:
        self.bodies.append(request.json())
        return Response(self.status, "ok" if self.status == 200 else "invalid_payload")


@dataclass
class Fakes:
    jira: FakeJira
    github: FakeGitHub
    sheets: FakeSheets
    hook: Webhook


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with (
        FakeJira("cloud", auth=Auth("basic", EMAIL, JIRA_TOKEN)) as jira,
        FakeGitHub(token=GH_TOKEN) as github,
        FakeSheets() as sheets,
        Webhook() as hook,
    ):
        jira.projects.add("PAY")
        for n in range(1, 4):
            jira.add_issue(f"PAY-{n}", labels=["billing"], updated=NOW - timedelta(days=1))
        for repo in ("acme/web", "acme/api"):
            github.add_repo(repo).add_issue(1, updated=NOW - timedelta(days=1))
        sheets.add_spreadsheet("PLAN", {"Goals": [["id", "title"]], "Metrics": [["name"]]})
        sheets.add_spreadsheet("STATUS")
        yield Fakes(jira, github, sheets, hook)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fakes: Fakes) -> Iterator[None]:
    for name in ("GOALSYNC_CONFIG", "GOALSYNC_STATE_DIR", "GOALSYNC_LOG_FORMAT", "JIRA_PAT",
                 "GOOGLE_APPLICATION_CREDENTIALS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "error")
    monkeypatch.setenv("JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("JIRA_API_TOKEN", JIRA_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.setenv("GOALSYNC_WEBHOOK_URL", f"{fakes.hook.url}{HOOK_PATH}")
    monkeypatch.setattr(doctor_model, "BUDGET_S", 1.0)  # an unreachable server fails fast here
    monkeypatch.chdir(tmp_path)
    (tmp_path / "items.csv").write_text("key,title,state\nT-1,One,done\n", encoding="utf-8")
    yield
    structlog.reset_defaults()


def config(f: Fakes, *, jql: str = "project = PAY", repos: str = "acme/web, acme/api",
           tabs: str = "{goals: Goals, metrics: Metrics}", status_sheet: str = "STATUS",
           extra_select: str = "") -> str:  # fmt: skip
    return f"""\
version: 1
cycle: {{start: 2026-10-01, due: 2026-12-31}}
sources:
  jira: {{type: jira, url: "{f.jira.url}", jql: "{jql}"}}
  gh: {{type: github, repos: [{repos}], base_url: "{f.github.url}"}}
  plan: {{type: sheets, spreadsheet_id: PLAN, endpoint: "{f.sheets.url}/",
          credentials: anonymous, tabs: {tabs}}}
  tasks: {{type: file, path: items.csv, format: csv_items}}
sinks:
  - {{type: sheets, spreadsheet_id: {status_sheet}, endpoint: "{f.sheets.url}/",
      credentials: anonymous}}
  - {{type: csv, path: out/csv}}
alerts: {{webhook_env: GOALSYNC_WEBHOOK_URL}}
goals:
  - id: G1
    title: Billing
    key_results:
      - id: G1.1
        title: Jira billing done
        select:
          - {{source: jira, labels: [billing]}}{extra_select}
      - id: G1.2
        title: Web done
        select:
          - {{source: gh, repo: acme/web}}
          - {{source: tasks}}
"""


def doctor_run(tmp_path: Path, text: str, *args: str) -> tuple[int, str]:
    path = tmp_path / "goalsync.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["doctor", "--config", str(path), "--state-dir", str(tmp_path / "state"), *args])
    return code, path.name


def rows(out: str) -> dict[tuple[str, str], str]:
    """(target, check) -> ok | warn | fail, from the printed table."""
    found: dict[tuple[str, str], str] = {}
    target = ""
    for line in out.splitlines():
        m = re.match(r"^(\S.*?)?\s{2,}(\S.*?)\s{2,}(ok|warn|fail)\s{2,}", line)
        if m is None:
            continue
        target = (m.group(1) or "").strip() or target
        found[(target, m.group(2).strip())] = m.group(3)
    return found


def test_a_good_setup_passes_every_check(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.jira.reset_counts()
    code, _ = doctor_run(tmp_path, config(fakes))
    out = capsys.readouterr().out
    assert code == 0, out
    checks = rows(out)
    assert set(checks.values()) == {"ok"}, checks
    assert checks[("source jira (jira)", "credentials")] == "ok"
    assert checks[("source gh (github)", "repo acme/api")] == "ok"
    assert checks[("source plan (sheets)", "tabs")] == "ok"
    assert checks[("source tasks (file)", "readable")] == "ok"
    assert re.search(r"all \d+ checks passed", out)
    # The requests each target costs: Jira serverInfo + myself + one search; GitHub rate_limit
    # + one per repository; a sheet one get. Nothing was written anywhere.
    assert "source jira 3, source gh 9, source plan 1, sink sheets STATUS 1" in out
    assert fakes.jira.count("GET", "/rest/api/3/search/jql") == 1
    assert fakes.sheets.batch_updates("STATUS") == 0 and not fakes.hook.bodies
    assert not (tmp_path / "state").exists() and not (tmp_path / "out").exists()


def test_each_jql_clause_is_checked_too(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = config(fakes, extra_select='\n          - {source: jira, jql: "labels = billing"}')
    code, _ = doctor_run(tmp_path, text)
    out = capsys.readouterr().out
    assert code == 0, out
    assert rows(out)[("source jira (jira)", "jql clause")] == "ok"
    assert "source jira 4" in out


def test_refused_jira_credentials_fail_and_name_the_variables(
    fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("JIRA_API_TOKEN", "wrong-token-0000000000")
    code, _ = doctor_run(tmp_path, config(fakes))
    out, err = capsys.readouterr()
    assert code == 1
    assert rows(out)[("source jira (jira)", "credentials")] == "fail"
    assert "JIRA_EMAIL and JIRA_API_TOKEN" in out
    assert "checks failed" in out
    assert "wrong-token-0000000000" not in out + err and JIRA_TOKEN not in out + err


def test_a_rejected_jql_fails_the_scope_check(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = doctor_run(tmp_path, config(fakes, jql="project = = PAY"))
    out = capsys.readouterr().out
    assert code == 1
    assert rows(out)[("source jira (jira)", "scope")] == "fail"
    assert "Jira rejected the JQL" in out and "fix the JQL" in out


def test_a_jql_that_matches_nothing_is_a_warning(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = doctor_run(tmp_path, config(fakes, jql="project = PAY AND labels = nothing"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert rows(out)[("source jira (jira)", "scope")] == "warn"
    assert "Browse projects" in out and "1 warnings" in out


def test_an_unreachable_server_fails_fast(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeJira() as gone:
        url = gone.url
    text = config(fakes).replace(fakes.jira.url, url)
    started = datetime.now(UTC)
    code, _ = doctor_run(tmp_path, text)
    out = capsys.readouterr().out
    assert code == 1
    assert rows(out)[("source jira (jira)", "reachable")] == "fail"
    assert "check url" in out
    assert datetime.now(UTC) - started < timedelta(seconds=30)


def test_github_problems_fail_their_checks(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = doctor_run(tmp_path, config(fakes, repos="acme/web, acme/gone"))
    out = capsys.readouterr().out
    assert code == 1
    checks = rows(out)
    assert checks[("source gh (github)", "repo acme/gone")] == "fail"
    assert checks[("source gh (github)", "repo acme/web")] == "ok"
    assert "acme/gone not found" in out


def test_an_exhausted_github_rate_limit_fails(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.github.rate_remaining = 0
    code, _ = doctor_run(tmp_path, config(fakes))
    out = capsys.readouterr().out
    assert code == 1
    assert rows(out)[("source gh (github)", "rate limit")] == "fail"
    assert "exhausted: 0 of 5000 left" in out


def test_a_missing_github_token_is_a_warning(
    fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.delenv("GITHUB_TOKEN")
    fakes.github.token = None
    code, _ = doctor_run(tmp_path, config(fakes))
    out = capsys.readouterr().out
    assert code == 0, out
    assert rows(out)[("source gh (github)", "credentials")] == "warn"
    assert "set GITHUB_TOKEN" in out


def test_sheet_problems_fail_with_what_to_fix(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = config(fakes, tabs="{goals: Goals, overrides: Overrides}", status_sheet="NOPE")
    code, _ = doctor_run(tmp_path, text)
    out = capsys.readouterr().out
    assert code == 1
    checks = rows(out)
    assert checks[("source plan (sheets)", "tabs")] == "fail"
    assert "no tab 'Overrides' (its tabs: Goals, Metrics)" in out
    assert checks[("sink sheets NOPE", "spreadsheet")] == "fail"
    assert "check spreadsheet_id" in out


def test_sheets_credentials_refused(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.sheets.token = "ya29.required"  # anonymous requests get 401 now
    code, _ = doctor_run(tmp_path, config(fakes))
    out = capsys.readouterr().out
    assert code == 1
    assert rows(out)[("source plan (sheets)", "credentials")] == "fail"


def test_local_file_problems(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "items.csv").write_text("title\nno key column\n", encoding="utf-8")
    (tmp_path / "out").write_text("a file where a folder should be", encoding="utf-8")
    code, _ = doctor_run(tmp_path, config(fakes))
    out = capsys.readouterr().out
    assert code == 1
    checks = rows(out)
    assert checks[("source tasks (file)", "readable")] == "fail"
    assert "no column key" in out
    assert checks[(f"sink csv {tmp_path}/out/csv/", "writable")] == "fail"


def test_alerts_need_their_variable_and_a_test_alert_is_sent(
    fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    code, _ = doctor_run(tmp_path, config(fakes), "--test-alert")
    out = capsys.readouterr().out
    assert code == 0, out
    assert rows(out)[("alerts", "test alert")] == "ok"
    (body,) = fakes.hook.bodies
    assert "test alert" in json.dumps(body)
    assert HOOK_PATH not in out  # the URL is a secret
    monkeypatch.delenv("GOALSYNC_WEBHOOK_URL")
    code, _ = doctor_run(tmp_path, config(fakes))
    out = capsys.readouterr().out
    assert code == 1
    assert rows(out)[("alerts", "webhook")] == "fail"
    assert "GOALSYNC_WEBHOOK_URL is not set" in out


def test_a_failing_test_alert_fails_the_check(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.hook.status = 404
    code, _ = doctor_run(tmp_path, config(fakes), "--test-alert")
    out = capsys.readouterr().out
    assert code == 1
    assert rows(out)[("alerts", "test alert")] == "fail"
    assert "webhook answered 404" in out


def test_a_config_that_does_not_load_is_one_failed_check(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = doctor_run(tmp_path, config(fakes).replace("version: 1", "version: 1\nsorces: {}"))
    out = capsys.readouterr().out
    assert code == 1
    assert "unknown key 'sorces'" in out and "fix the lines" in out


def test_the_state_dir_reports_its_last_run(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "version: 1\ncycle: {start: 2026-10-01, due: 2026-12-31}\n"
        "sources:\n  tasks: {type: file, path: items.csv, format: csv_items}\n"
        "sinks:\n  - {type: csv, path: out/csv}\n"
        "goals:\n  - id: G1\n    title: T\n    key_results:\n"
        "      - {id: G1.1, title: T, select: [{source: tasks}]}\n"
    )
    path = tmp_path / "goalsync.yaml"
    path.write_text(text, encoding="utf-8")
    state = str(tmp_path / "state")
    assert main(["run", "--config", str(path), "--state-dir", state]) == 0
    capsys.readouterr()
    assert main(["doctor", "--config", str(path), "--state-dir", state]) == 0
    out = capsys.readouterr().out
    assert rows(out)[(f"state dir {state}", "last run")] == "ok"
    assert "with exit 0" in out


def test_a_secret_quoted_back_by_a_server_is_masked(
    fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    canary = "canary-token-0f9e8d7c"
    monkeypatch.setenv("SOME_API_TOKEN", canary)
    doctor_run(tmp_path, config(fakes, jql=f"project = PAY AND labels = {canary}"))
    out = capsys.readouterr().out
    assert canary not in out
    assert "labels = ***" in out


# --- issue 13: setup mistakes named where they are ------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "check"),
    [("issues/events", "issue events"), ("milestones", "milestones"), ("issues", "issues")],
)
def test_every_endpoint_a_run_reads_is_probed(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str], endpoint: str, check: str
) -> None:
    """A token may see a repository and not what a run reads under it: /repos/{o}/{r} alone
    passed while the run failed."""
    path = f"/repos/acme/web/{endpoint}"
    fakes.github.inject(Fault("GET", path, Response(404, {"message": "Not Found"}), times=9))
    code, _ = doctor_run(tmp_path, config(fakes))
    out = capsys.readouterr().out
    assert code == 1, out
    checks = rows(out)
    assert checks[("source gh (github)", f"repo acme/web {check}")] == "fail", checks
    said = " ".join(out.split())  # the table wraps its cells
    assert f"GET {path} answered 404" in said and "exists" in said
    assert "read access to issues" in said  # the fix
    assert checks[("source gh (github)", "repo acme/api")] == "ok"


def test_adc_variable_pointing_at_a_missing_file_is_named_in_the_fix(
    fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "gone" / "key.json"))
    sink = f'endpoint: "{fakes.sheets.url}/",\n      credentials: anonymous}}'
    text = config(fakes).replace(sink, f'endpoint: "{fakes.sheets.url}/"}}')
    assert text.count("credentials: anonymous") == 1  # the plan source keeps its own
    code, _ = doctor_run(tmp_path, text)
    out = capsys.readouterr().out
    assert code == 1, out
    assert rows(out)[("sink 1 (sheets)", "usable")] == "fail", out
    fix = out[out.index("sink 1 (sheets)") :]
    assert "fix the sink in goalsync.yaml" not in fix
    assert "fix: point GOOGLE_APPLICATION_CREDENTIALS at" in " ".join(fix.split())


def test_a_test_alert_without_an_alerts_block_says_so_and_fails(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = config(fakes).replace("alerts: {webhook_env: GOALSYNC_WEBHOOK_URL}\n", "")
    code, _ = doctor_run(tmp_path, text, "--test-alert")
    out = capsys.readouterr().out
    assert code == 1, out
    assert rows(out)[("alerts", "test alert")] == "fail", out
    assert "no alerts: block" in " ".join(out.split())
    assert "checks passed" not in out and not fakes.hook.bodies
    code, _ = doctor_run(tmp_path, text)  # not asked for: no alerts row, all passed
    out = capsys.readouterr().out
    assert code == 0, out
    assert ("alerts", "test alert") not in rows(out)


def test_a_clock_far_from_jiras_is_a_warning(
    fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.jira.clock_offset = timedelta(minutes=-3)  # this machine runs 3 minutes ahead
    code, _ = doctor_run(tmp_path, config(fakes))
    out = capsys.readouterr().out
    assert code == 0, out
    assert rows(out)[("source jira (jira)", "clock")] == "warn"
    assert "3 minutes ahead of Jira's" in " ".join(out.split())
