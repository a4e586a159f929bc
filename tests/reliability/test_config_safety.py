"""Guarantee 10: config safety.

- YAML is read with the safe loader: a `!!python/...` tag is a config error (exit 2) and nothing
  runs: the command it names is not executed, no request is made, no state is written.
- API roots (Jira `url`, GitHub `base_url`, Sheets `endpoint`) must be https; plain http only for
  loopback; credentials in a URL are refused. All such problems are reported in one go.
- Credentials are never sent to another host on a redirect. A fake that answers every request
  with a redirect to a second loopback fake (another port, or another host name) must not see
  that second fake receive an Authorization header, nor a service account's signed assertion:
  Jira (requests) strips the header across hosts and ports; PyGithub follows only a 301, only on
  the same host; the Sheets client (httplib2) follows no redirect at all, because httplib2 would
  re-post a token request, assertion and all, on a 308.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.github import TOKEN as GH_TOKEN
from tests.fakes.jira import FakeJira
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.sheets import FakeSheets
from tests.reliability.helpers import Workspace, config

EMAIL, TOKEN = "bot@acme.example", "atl-reliability-0123456789"
GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Work, measure: percent_done, select: [{source: src}]}
"""
CSV_SINK = "  - {type: csv, path: out/csv}\n"


# --- YAML tags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:subprocess.check_output [['touch', '{marker}']]",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!!python/object:builtins.object {{}}",
    ],
)
def test_a_python_tag_is_a_config_error_and_nothing_runs(tmp_path: Path, tagged: str) -> None:
    marker = tmp_path / "pwned"
    with FakeJira("cloud") as jira:
        ws = Workspace(tmp_path)
        ws.write_config(
            config(
                f"  src: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n",
                CSV_SINK,
                GOALS.replace("title: Ship billing", f"title: {tagged.format(marker=marker)}"),
            )
        )
        for command in ("run", "validate") if "apply:os.system" in tagged else ("run",):
            result = ws.goalsync(command)
            assert result.code == 2, result
            assert "!!python/object are not allowed" in result.output, result
        assert jira.count() == 0  # not a single request
    assert not marker.exists()
    assert not ws.state.exists() and not ws.out.exists()


# --- API roots ----------------------------------------------------------------------------------


def test_api_roots_must_be_https_except_loopback(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.write_config(
        config(
            "  a: {type: jira, url: 'http://jira.acme.example', jql: project = PAY}\n"
            "  b: {type: github, repos: [acme/web], base_url: 'http://ghe.acme.example/api/v3'}\n"
            "  c: {type: sheets, spreadsheet_id: X, endpoint: 'http://sheets.acme.example/'}\n"
            "  d: {type: jira, url: 'http://127.0.0.1.evil.example', jql: project = PAY}\n"
            "  e: {type: jira, url: 'https://bot:secret-in-url@jira.acme.example', jql: x = 1}\n"
            "  f: {type: jira, url: 'ftp://jira.acme.example', jql: project = PAY}\n"
            "  g: {type: github, repos: [acme/web], base_url: 'http://localhost.evil.example'}\n",
            CSV_SINK,
            GOALS.replace("source: src", "source: a"),
        )
    )
    result = ws.goalsync("validate", "--log-format", "console")
    assert result.code == 2, result
    for name in "abcdg":
        assert f"sources.{name}." in result.stderr, name  # every one named, in one go
    assert result.stderr.count("must use https") == 5
    assert "must not carry credentials" in result.stderr
    assert "secret-in-url" not in result.output
    assert "must be an http(s) URL" in result.stderr


def test_plain_http_is_accepted_for_loopback_only(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.write_config(
        config(
            "  src: {type: jira, url: 'http://127.0.0.1:8080', jql: project = PAY}\n"
            "  b: {type: github, repos: [acme/web], base_url: 'http://localhost:9000/api/v3'}\n"
            "  c: {type: jira, url: 'http://[::1]:8080', jql: project = PAY}\n"
            "  d: {type: sheets, spreadsheet_id: X, endpoint: 'http://127.0.0.1:8765/', "
            "credentials: anonymous}\n",
            CSV_SINK,
            GOALS,
        )
    )
    result = ws.goalsync("validate")
    assert result.code == 0, result


# --- redirects ----------------------------------------------------------------------------------


class Elsewhere(FakeServer):
    """The host a redirect points to: records what reaches it, answers like an API would."""

    def handle(self, request: Request) -> Response:
        if request.path == "/token":
            return Response(200, {"access_token": "ya29.elsewhere", "expires_in": 3600})
        return Response(200, {"issues": [], "isLast": True, "valueRanges": [{}]})

    def credentials_seen(self) -> list[str]:
        seen = [r.headers["authorization"] for r in self.requests if "authorization" in r.headers]
        seen += [r.body.decode() for r in self.requests if b"assertion=" in r.body]
        return seen


class Redirecting(FakeServer):
    """Answers every request under `prefix` with `status` and a Location on `target`."""

    def __init__(self, status: int, prefix: str = "/") -> None:
        super().__init__()
        self.status = status
        self.prefix = prefix
        self.target = ""

    def handle(self, request: Request) -> Response:
        query = "&".join(f"{k}={v[0]}" for k, v in request.query.items())
        location = f"{self.target}{request.path}" + (f"?{query}" if query else "")
        return Response(self.status, b"", {"Location": location})


class RedirectingSheets(FakeSheets):
    """The fake Sheets, but its token endpoint redirects (a 308 keeps the method and body)."""

    def __init__(self) -> None:
        super().__init__()
        self.redirect_token_to = ""

    def handle(self, request: Request) -> Response:
        if request.path == "/token" and self.redirect_token_to:
            return Response(308, b"", {"Location": f"{self.redirect_token_to}/token"})
        return super().handle(request)


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    with Elsewhere() as server:
        yield server


def other_host(server: FakeServer, host: str) -> str:
    return server.url.replace("127.0.0.1", host)


REDIRECTS = [(301, "127.0.0.1"), (302, "localhost"), (307, "127.0.0.1"), (308, "localhost")]
REDIRECT_IDS = [
    "301 to another port",
    "302 to another host",
    "307 to another port",
    "308 to another host",
]


@pytest.mark.parametrize(("status", "host"), REDIRECTS, ids=REDIRECT_IDS)
def test_jira_credentials_stay_home_on_a_redirect(
    tmp_path: Path, elsewhere: Elsewhere, status: int, host: str
) -> None:
    with Redirecting(status) as jira:
        jira.target = other_host(elsewhere, host)
        ws = Workspace(tmp_path, env={"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN})
        ws.write_config(
            config(
                f"  src: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n", CSV_SINK, GOALS
            )
        )
        result = ws.goalsync("run")
        assert result.code == 3, result  # the source fails (stale); nothing crashes
        assert jira.count() >= 1 and elsewhere.count() >= 1  # the redirect was followed ...
        assert elsewhere.credentials_seen() == []  # ... without the credentials


@pytest.mark.parametrize(("status", "host"), REDIRECTS, ids=REDIRECT_IDS)
def test_github_credentials_stay_home_on_a_redirect(
    tmp_path: Path, elsewhere: Elsewhere, status: int, host: str
) -> None:
    with Redirecting(status) as github:
        github.target = other_host(elsewhere, host)
        ws = Workspace(tmp_path, env={"GITHUB_TOKEN": GH_TOKEN})
        ws.write_config(
            config(
                f"  src: {{type: github, repos: [acme/web], base_url: '{github.url}'}}\n",
                CSV_SINK,
                GOALS,
            )
        )
        result = ws.goalsync("run")
        assert result.code == 3, result
        assert github.count() >= 1
        assert elsewhere.credentials_seen() == []
        assert GH_TOKEN not in result.output


def service_account(path: Path, token_uri: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "goalsync@acme-prod.iam.gserviceaccount.com",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info), encoding="utf-8")


@pytest.mark.parametrize(("status", "host"), REDIRECTS[1:3], ids=REDIRECT_IDS[1:3])
def test_sheets_credentials_stay_home_on_a_redirect(
    tmp_path: Path, elsewhere: Elsewhere, status: int, host: str
) -> None:
    """The API's requests redirected, and (separately) the token exchange redirected (with a
    308, which keeps the method and the body). Neither is followed: the source fails."""
    with Redirecting(status, prefix="/v4/") as api, RedirectingSheets() as tokens:
        api.target = other_host(elsewhere, host)
        tokens.token = "ya29.home-token"
        service_account(tmp_path / "sa.json", f"{tokens.url}/token")
        ws = Workspace(tmp_path, env={"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "sa.json")})
        ws.write_config(
            config(
                f"  src: {{type: sheets, spreadsheet_id: P1, endpoint: '{api.url}/', "
                "tabs: {tasks: Tasks}}\n",
                CSV_SINK,
                GOALS,
            )
        )
        result = ws.goalsync("run")
        assert result.code == 3, result
        assert api.count("GET", "/v4/") >= 1
        assert elsewhere.count() == 0

        # Now the token endpoint itself redirects: the signed assertion must not follow.
        tokens.redirect_token_to = other_host(elsewhere, host)
        ws.write_config(
            config(
                f"  src: {{type: sheets, spreadsheet_id: P1, endpoint: '{tokens.url}/', "
                "tabs: {tasks: Tasks}}\n",
                CSV_SINK,
                GOALS,
            )
        )
        tokens.add_spreadsheet("P1", {"Tasks": [["key"], ["T-1"]]})
        result = ws.goalsync("run")
        assert result.code == 3, result
        assert tokens.count("POST", "/token") >= 1
        assert elsewhere.credentials_seen() == [], "the signed assertion left for another host"
        assert "Google refused the credentials" in ws.source_row("src")["last_error"]
