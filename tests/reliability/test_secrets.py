"""Guarantee 9: secrets never leak. Canary credentials sit where goalsync reads them from the
environment: JIRA_EMAIL + JIRA_API_TOKEN, GITHUB_TOKEN, a token under a custom `token_env`
whose name says nothing about secrets, and a service-account key (GOOGLE_APPLICATION_CREDENTIALS)
whose private key is exchanged at the fake Sheets' token endpoint for an access token.

None of them (nor the Basic auth header built from the Jira pair, nor the access token) may
appear in the logs (JSON and console, at debug level), a traceback, an error message, the sheet,
the csv / xlsx / html files or the state store: not on a healthy run, not when every server
answers 401 and echoes the credential it was sent in its error message, not on a settings or a
config validation error, not in an internal error's traceback.
"""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.github import FakeGitHub
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.server import Fault, Response
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import Result, Workspace, config, cycle_around_today, every_string

EMAIL = "canary-bot@acme.example"
JIRA_TOKEN = "CANARYjira0token0a1b2c3d4e5f6"
GITHUB_TOKEN = "ghp_CANARYgithub0token0a1b2c3d4e5"
CUSTOM_ENV = "ROBOT_AUTHORIZATION"  # a name the log's secret-word heuristics do not catch
CUSTOM_TOKEN = "CANARYcustom0token0f6e5d4c3b2a1"
KEY_ID = "CANARYkeyid0aa11bb22cc33dd44"
ACCESS_TOKEN = "ya29.CANARYaccess0token0zz99yy88"
PLAN, STATUS = "PLAN1", "STATUS1"
GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Jira, measure: percent_done, select: [{source: jira}]}
      - {id: G1.2, title: GitHub, measure: percent_done, select: [{source: gh}]}
      - {id: G1.3, title: Robot, measure: percent_done, select: [{source: robot}]}
      - {id: G1.4, title: NPS, measure: metric, metric: nps, baseline: 0, target: 100}
"""


@dataclass
class Setup:
    ws: Workspace
    jira: FakeJira
    github: FakeGitHub
    robot: FakeGitHub
    sheets: FakeSheets
    canaries: dict[str, str]

    def leaks(self, run: Result) -> list[str]:
        """Every place a canary shows up: the run's output, the files, the sheet."""
        found = []
        places = {"stdout": run.stdout, "stderr": run.stderr, **self.written()}
        for where, text in places.items():
            for name, canary in self.canaries.items():
                if canary in text:
                    found.append(f"{name} in {where}")
        return found

    def written(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for path in [*self.ws.out.rglob("*"), *self.ws.state.rglob("*")]:
            if not path.is_file():
                continue
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as z:
                    out[str(path)] = "".join(
                        z.read(n).decode("utf-8", "replace") for n in z.namelist()
                    )
            else:
                out[str(path)] = path.read_bytes().decode("utf-8", "replace")
        book = self.sheets.spreadsheets[STATUS]
        out["the sheet"] = "\n".join(every_string(book.snapshot()))
        return out


def key_file(path: Path, token_uri: str) -> str:
    """A real service-account key (google-auth signs with it); returns a line of its PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": KEY_ID,
        "private_key": pem,
        "client_email": "goalsync@acme-prod.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return pem.splitlines()[5]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    old = datetime.now(UTC) - timedelta(days=3)
    with (
        FakeJira("cloud", auth=Auth("basic", EMAIL, JIRA_TOKEN)) as jira,
        FakeGitHub(token=GITHUB_TOKEN) as github,
        FakeGitHub(token=CUSTOM_TOKEN) as robot,
        FakeSheets() as sheets,
    ):
        jira.add_issue("PAY-1", updated=old)
        github.add_repo("acme/web").add_issue(1, updated=old)
        robot.add_repo("acme/robot").add_issue(1, updated=old)
        sheets.token = ACCESS_TOKEN
        day = (date.today() - date(1899, 12, 30)).days - 1
        sheets.add_spreadsheet(PLAN, {"Metrics": [["name", "date", "value"], ["nps", day, 30]]})
        sheets.add_spreadsheet(STATUS)
        pem_line = key_file(tmp_path / "sa.json", f"{sheets.url}/token")
        ws = Workspace(
            tmp_path,
            env={
                "JIRA_EMAIL": EMAIL,
                "JIRA_API_TOKEN": JIRA_TOKEN,
                "GITHUB_TOKEN": GITHUB_TOKEN,
                CUSTOM_ENV: CUSTOM_TOKEN,
                "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "sa.json"),
                "GOALSYNC_RETRY_BUDGET_S": "2",
            },
        )
        endpoint = f"endpoint: '{sheets.url}/'"
        ws.write_config(
            config(
                f"  jira: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n"
                f"  gh: {{type: github, repos: [acme/web], base_url: '{github.url}'}}\n"
                f"  robot: {{type: github, repos: [acme/robot], base_url: '{robot.url}', "
                f"token_env: {CUSTOM_ENV}}}\n"
                f"  plan: {{type: sheets, spreadsheet_id: {PLAN}, {endpoint}, "
                "tabs: {metrics: Metrics}}\n",
                f"  - {{type: sheets, spreadsheet_id: {STATUS}, {endpoint}}}\n"
                "  - {type: csv, path: out/csv}\n"
                "  - {type: xlsx, path: out/status.xlsx}\n"
                "  - {type: html, path: out/status.html}\n",
                GOALS,
                cycle=cycle_around_today(),
            )
        )
        basic = base64.b64encode(f"{EMAIL}:{JIRA_TOKEN}".encode()).decode()
        canaries = {
            "JIRA_API_TOKEN": JIRA_TOKEN,
            "the Jira Basic header": basic,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            CUSTOM_ENV: CUSTOM_TOKEN,
            "the key's private_key_id": KEY_ID,
            "the key's private key": pem_line,
            "the access token": ACCESS_TOKEN,
        }
        yield Setup(ws, jira, github, robot, sheets, canaries)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_a_healthy_run_at_debug_level_shows_no_secret(setup: Setup, log_format: str) -> None:
    run = setup.ws.goalsync("run", "--log-level", "debug", "--log-format", log_format)
    assert run.code == 0, run
    assert setup.sheets.count("POST", "/token") >= 1  # the key was really used
    assert setup.leaks(run) == []


def test_refusals_that_echo_the_credential_show_no_secret(setup: Setup) -> None:
    """Every source's server answers 401 (or 403) and quotes the credential it was sent (as a
    careless proxy or API might): the messages reach the log, the Run tab, the state store and
    the summary; the credentials must not."""
    assert setup.ws.goalsync("run").code == 0
    jira = {"errorMessages": [f"token {JIRA_TOKEN} of {EMAIL} is not valid"]}
    setup.jira.inject(Fault("GET", "/rest/api/", Response(401, jira), 9))
    setup.github.inject(Fault("GET", "/repos/", Response(401, {"message": GITHUB_TOKEN}), 9))
    setup.robot.inject(Fault("GET", "/repos/", Response(403, {"message": CUSTOM_TOKEN}), 9))
    refused = {"error": {"code": 401, "message": f"Bearer {ACCESS_TOKEN} refused"}}
    setup.sheets.inject(Fault("GET", f"/v4/spreadsheets/{PLAN}/", Response(401, refused), 9))
    for log_format in ("json", "console"):
        run = setup.ws.goalsync("run", "--log-level", "debug", "--log-format", log_format)
        assert run.code == 3, run
        leaks = setup.leaks(run)
        assert leaks == [], "\n".join(leaks)
    errors = {row[0]: row[1] for row in setup.ws.query("SELECT source, last_error FROM sources")}
    for name in ("gh", "robot", "plan"):  # these quote the server's words: masked, not dropped
        assert "***" in errors[name], errors[name]


def test_a_settings_error_shows_no_secret(setup: Setup) -> None:
    run = setup.ws.goalsync("run", env={"GOALSYNC_RETRY_BUDGET_S": JIRA_TOKEN})
    assert run.code == 2, run
    assert "GOALSYNC_RETRY_BUDGET_S" in run.stderr
    assert setup.leaks(run) == []


def test_a_config_error_shows_no_secret(setup: Setup) -> None:
    text = (setup.ws.root / "goalsync.yaml").read_text(encoding="utf-8")
    text = text.replace("jql: project = PAY", f"jql: project = PAY, token: {JIRA_TOKEN}")
    text = text.replace(
        f"url: '{setup.jira.url}'", f"url: 'https://bot:{GITHUB_TOKEN}@jira.example'"
    )
    setup.ws.write_config(text)
    for log_format in ("json", "console"):
        run = setup.ws.goalsync("run", "--log-format", log_format)
        assert run.code == 2, run
        assert "token" in run.stderr and "must not carry credentials" in run.stderr
        assert setup.leaks(run) == []


def test_an_internal_error_traceback_shows_no_secret(setup: Setup) -> None:
    crash = f"boom: {JIRA_TOKEN} {GITHUB_TOKEN} {CUSTOM_TOKEN} {KEY_ID} {ACCESS_TOKEN}"
    for log_format in ("json", "console"):
        run = setup.ws.goalsync(
            "run",
            "--log-level",
            "debug",
            "--log-format",
            log_format,
            env={"RELIABILITY_CRASH_EVALUATE": crash},
        )
        assert run.code == 1, run
        assert "Traceback (most recent call last)" in run.stderr
        assert "RuntimeError: boom: ***" in run.stderr
        assert setup.leaks(run) == []
