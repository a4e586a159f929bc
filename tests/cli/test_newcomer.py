"""The README's path from nothing to a scheduled run, step by step, against the loopback fakes.

The steps are the documented ones, in order, as a newcomer types them (the CLI as a subprocess,
secrets in the environment, a service account key file for Google):
  1. goalsync init --jira-url ... --jira-project PAY --github-repo acme/web --sheet-id ...
  2. goalsync validate
  3. goalsync doctor
  4. goalsync plan
  5. goalsync run
  6. the scheduled run: deploy/crontab's command line, as cron runs it (/bin/sh, a bare
     environment, the secrets from the env file), with its paths pointed into the test folder.
The only differences from a real setup are the URLs: loopback fakes instead of Atlassian, GitHub
and Google (init's --github-url and --sheets-endpoint, which exist for such servers). A network
guard in the subprocesses refuses anything but loopback.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.helpers import REPO, SA_EMAIL, clean_env, goalsync, json_lines, service_account_key
from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.sheets import FakeSheets, FakeSpreadsheet

EMAIL, JIRA_TOKEN = "bot@acme.example", "atl-newcomer-token-0123456789"
GOOGLE_TOKEN = "ya29.newcomer-fake-token"
NOW = datetime.now(UTC).replace(microsecond=0)
SHEET = "1XyZstatus"

pytestmark = pytest.mark.integration  # the CLI as its own process, every step


@dataclass
class World:
    root: Path
    jira: FakeJira
    github: FakeGitHub
    sheets: FakeSheets
    book: FakeSpreadsheet
    env: dict[str, str]
    runs: dict[str, subprocess.CompletedProcess[str]]


def seed(jira: FakeJira, github: FakeGitHub) -> None:
    jira.projects.add("PAY")
    jira.add_issue("PAY-1", summary="Self-serve billing", issuetype="Epic",
                   status="In Progress", category="indeterminate")  # fmt: skip
    for n in range(2, 14):
        done = n < 8
        jira.add_issue(
            f"PAY-{n}",
            summary=f"Billing task {n}",
            parent="PAY-1",
            status="Done" if done else "To Do",
            category="done" if done else "new",
            assignee="Ana Ruiz",
            points=3.0,
            created=NOW - timedelta(days=20),
            updated=NOW - timedelta(days=2, minutes=n),
        )
    web = github.add_repo("acme/web")
    for n in range(1, 9):
        at = NOW - timedelta(days=3, hours=n)
        if n <= 3:
            web.add_issue(n, updated=at, state="closed", closed=at, labels=["billing"])
        else:
            web.add_issue(n, updated=at, labels=["billing"], assignee="ana-ruiz")


def crontab_command(root: Path) -> str:
    """deploy/crontab's command, with its install paths pointed into `root`."""
    line = next(
        ln
        for ln in (REPO / "deploy" / "crontab").read_text(encoding="utf-8").splitlines()
        if ln and not ln.startswith("#") and "=" not in ln.split()[0]
    )
    command = line.split(None, 5)[5]
    goalsync_bin = f"{shlex.quote(sys.executable)} -m sync.cli"
    for installed, here in {
        "/opt/goalsync/bin/goalsync": goalsync_bin,
        "/etc/goalsync/goalsync.env": str(root / "goalsync.env"),
        "/etc/goalsync/goalsync.yaml": str(root / "goalsync.yaml"),
        "/etc/goalsync/google-service-account.json": str(root / "service-account.json"),
        "/var/lib/goalsync": str(root / "cron-state"),
        "/var/lib/node_exporter/textfile_collector/goalsync.prom": str(root / "goalsync.prom"),
        "/var/log/goalsync/goalsync.log": str(root / "goalsync.log"),
    }.items():
        assert installed in command, f"deploy/crontab no longer names {installed}"
        command = command.replace(installed, here)
    return command


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("newcomer")
    with (
        FakeJira("cloud", user_tz="Europe/Berlin", auth=Auth("basic", EMAIL, JIRA_TOKEN)) as jira,
        FakeGitHub(token=GH_TOKEN) as github,
        FakeSheets() as sheets,
    ):
        seed(jira, github)
        sheets.token = GOOGLE_TOKEN
        book = sheets.add_spreadsheet(SHEET, {"Notes": [["Who", "What"], ["Dana", "keep me"]]})
        key = service_account_key(root / "service-account.json", f"{sheets.url}/token")
        # Step 0 of the README: the secrets, exported in the shell.
        env = clean_env(
            root,
            {
                "JIRA_EMAIL": EMAIL,
                "JIRA_API_TOKEN": JIRA_TOKEN,
                "GITHUB_TOKEN": GH_TOKEN,
                "GOOGLE_APPLICATION_CREDENTIALS": str(key),
            },
        )
        runs: dict[str, subprocess.CompletedProcess[str]] = {}
        runs["init"] = goalsync(
            root,
            "init",
            "--jira-url", jira.url,
            "--jira-project", "PAY",
            "--github-repo", "acme/web",
            "--github-url", github.url,
            "--sheet-id", SHEET,
            "--sheets-endpoint", f"{sheets.url}/",
            "--timezone", "Europe/Berlin",
            env=env,
        )  # fmt: skip
        for step in ("validate", "doctor", "plan", "run"):
            runs[step] = goalsync(root, step, env=env)
        # The scheduled run: cron's bare environment, the secrets from the env file.
        (root / "goalsync.env").write_text(
            f"JIRA_EMAIL={EMAIL}\nJIRA_API_TOKEN={JIRA_TOKEN}\nGITHUB_TOKEN={GH_TOKEN}\n",
            encoding="utf-8",
        )
        cron_env = {k: env[k] for k in ("PATH", "PYTHONPATH", "NETWORK_ATTEMPTS") if k in env} | {
            "HOME": str(root),
            "LOGNAME": "goalsync",
            "SHELL": "/bin/sh",
        }
        runs["cron"] = subprocess.run(
            ["/bin/sh", "-c", crontab_command(root)],
            cwd=root,
            env=cron_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        yield World(root, jira, github, sheets, book, env, runs)


def test_init_writes_a_config_that_names_the_three_systems(world: World) -> None:
    run = world.runs["init"]
    assert run.returncode == 0, run.stderr
    assert "wrote goalsync.yaml: it validates" in run.stdout
    text = (world.root / "goalsync.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=./goalsync.schema.json")
    assert 'jql: "project in (PAY)"' in text and '"acme/web"' in text and SHEET in text
    assert (world.root / "goalsync.schema.json").is_file()
    assert "export JIRA_EMAIL" in run.stdout and "goalsync doctor" in run.stdout


def test_validate_passes(world: World) -> None:
    run = world.runs["validate"]
    assert run.returncode == 0, run.stderr
    assert "ok: 1 goals, 2 key results" in run.stdout


def test_doctor_passes_every_check(world: World) -> None:
    run = world.runs["doctor"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"all \d+ checks passed", run.stdout)
    assert "fail" not in re.findall(r"\b(ok|warn|fail)\b", run.stdout)
    assert "signed in as goalsync bot" in run.stdout
    assert SA_EMAIL in run.stdout  # the account the sheet must be shared with
    # jira: serverInfo + myself + one search; gh: rate_limit + the repo + one item of each of
    # its issues, issue events and milestones; sheets: one get
    assert "source jira 3" in run.stdout and "source gh 5" in run.stdout
    assert f"sink sheets {SHEET} 1" in run.stdout


def test_plan_shows_the_status_and_that_the_sheet_is_new(world: World) -> None:
    run = world.runs["plan"]
    assert run.returncode == 0, run.stderr
    assert "G1.1" in run.stdout and "G1.2" in run.stdout
    assert "What a run would change" in run.stdout
    assert f"sheets {SHEET}" in run.stdout
    assert "nothing there yet" in run.stdout  # no owned tab in the sheet before the first run


def test_run_publishes_to_the_sheet(world: World) -> None:
    run = world.runs["run"]
    assert run.returncode == 0, run.stderr
    assert f"wrote: sheets {SHEET}" in run.stdout
    assert "jira ok, 13 items" in run.stdout and "gh ok, 8 items" in run.stdout
    titles = world.book.titles()
    assert "Notes" in titles and {"Status", "Items", "History", "Run"} <= set(titles)
    header, *rows = world.book.values("Status")
    by_id = {r[0]: dict(zip(header, r, strict=False)) for r in rows}
    # PAY-2..PAY-7 done of the 12 children and the epic; acme/web #1..#3 closed of 8.
    assert by_id["G1.1"]["Done / Total"] == "6 / 13"
    assert by_id["G1.2"]["Done / Total"] == "3 / 8"


def test_the_scheduled_run_works_from_crons_bare_environment(world: World) -> None:
    run = world.runs["cron"]
    assert run.returncode == 0, (run.stdout, run.stderr)
    log = (world.root / "goalsync.log").read_text(encoding="utf-8")
    events = [e["event"] for e in json_lines(log)]
    assert "run_finished" in events
    metrics = (world.root / "goalsync.prom").read_text(encoding="utf-8")
    assert "goalsync_last_run_exit_code 0" in metrics
    assert re.search(r"^goalsync_last_success_timestamp_seconds \d+", metrics, re.M)
    _header, *rows = world.book.values("History")
    assert len({r[1] for r in rows}) == 3  # G1, G1.1, G1.2: a rerun the same day replaces


def test_no_secret_reached_any_output(world: World) -> None:
    text = "".join(r.stdout + r.stderr for r in world.runs.values())
    text += (world.root / "goalsync.log").read_text(encoding="utf-8")
    for secret in (JIRA_TOKEN, GH_TOKEN, GOOGLE_TOKEN):
        assert secret not in text
    assert not (world.root / "network-attempts.txt").exists()


def test_every_documented_step_is_in_the_readme_quick_start() -> None:
    """The steps this test follows are the ones deploy/README.md tells a newcomer."""
    readme = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    assert "goalsync validate && goalsync doctor && goalsync plan && goalsync run" in readme
    assert "crontab -u goalsync deploy/crontab" in readme
