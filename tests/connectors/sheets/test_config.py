from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import google.auth
import pytest
from pydantic import ValidationError

from connectors.sheets.config import ADC_ENV, SheetsSinkConfig, SheetsSourceConfig, SheetTabs
from connectors.sheets.sink import SheetsSink
from connectors.sheets.source import SheetsSource
from sync.base import secrets
from sync.base.errors import ConfigError


def source(**data: Any) -> SheetsSourceConfig:
    return SheetsSourceConfig.model_validate({"type": "sheets", "spreadsheet_id": "1AbC"} | data)


def sink(**data: Any) -> SheetsSinkConfig:
    return SheetsSinkConfig.model_validate({"type": "sheets", "spreadsheet_id": "1XyZ"} | data)


def test_source_defaults_to_the_four_input_tabs() -> None:
    c = source()
    assert c.tabs == SheetTabs(
        goals="Goals", metrics="Metrics", overrides="Overrides", tasks="Tasks"
    )
    assert c.endpoint is None
    assert c.credentials == "default"


def test_tabs_may_be_left_out() -> None:
    c = source(tabs={"metrics": "KPIs"})
    assert c.tabs == SheetTabs(metrics="KPIs")
    assert c.tabs.goals is None


def test_unknown_tabs_and_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        source(tabs={"status": "Status"})
    with pytest.raises(ValidationError):
        source(range="A1:Z9")
    with pytest.raises(ValidationError):
        sink(tabs={"goals": "Goals"})


@pytest.mark.parametrize("make", [source, sink])
def test_spreadsheet_id_is_required(make: Any) -> None:
    with pytest.raises(ValidationError):
        make(spreadsheet_id="")


@pytest.mark.parametrize("make", [source, sink])
@pytest.mark.parametrize(
    ("endpoint", "kept"),
    [
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765/"),
        ("http://localhost:8765", "http://localhost:8765/"),
        ("https://sheets.googleapis.com", "https://sheets.googleapis.com/"),
    ],
)
def test_endpoint_https_or_loopback_http_ends_with_a_slash(
    make: Any, endpoint: str, kept: str
) -> None:
    assert make(endpoint=endpoint, credentials="anonymous").endpoint == kept


@pytest.mark.parametrize("make", [source, sink])
@pytest.mark.parametrize("endpoint", ["http://sheets.example.com/", "file:///tmp/x"])
def test_other_endpoints_are_refused(make: Any, endpoint: str) -> None:
    with pytest.raises(ValidationError, match="endpoint"):
        make(endpoint=endpoint)


def test_credentials_may_name_a_file() -> None:
    assert source(credentials="/etc/goalsync/sa.json").credentials == "/etc/goalsync/sa.json"
    assert sink(credentials="anonymous").credentials == "anonymous"


def key_file(path: Path, **changes: Any) -> Path:
    info = {
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEfakefakefake\n-----END PRIVATE KEY-----\n",
        "client_email": "goalsync@acme-prod.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    } | changes
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_adc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building never looks for application default credentials (that would probe a metadata
    server): fail loudly if it does."""
    monkeypatch.delenv(ADC_ENV, raising=False)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("google.auth.default() called while building")

    monkeypatch.setattr(google.auth, "default", refuse)


def test_source_and_sink_build_with_anonymous_credentials_on_a_local_endpoint(
    tmp_path: Path,
) -> None:
    built = source(endpoint="http://127.0.0.1:8765", credentials="anonymous").build(
        "plan", tmp_path
    )
    assert isinstance(built, SheetsSource) and built.type == "sheets"
    assert built.tabs == [
        ("goals", "Goals"),
        ("metrics", "Metrics"),
        ("overrides", "Overrides"),
        ("tasks", "Tasks"),
    ]
    assert built.access.mode == "anonymous"
    assert built.access.scope == "https://www.googleapis.com/auth/spreadsheets.readonly"
    assert built.access.endpoint == "http://127.0.0.1:8765/"
    out = sink(endpoint="http://127.0.0.1:8765", credentials="anonymous").build(tmp_path)
    assert isinstance(out, SheetsSink) and out.type == "sheets"
    assert out.access.scope == "https://www.googleapis.com/auth/spreadsheets"


def test_anonymous_needs_a_local_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="credentials: anonymous needs endpoint"):
        sink(credentials="anonymous").build(tmp_path)


def test_default_credentials_on_a_loopback_endpoint_are_anonymous(tmp_path: Path) -> None:
    built = sink(endpoint="http://localhost:9/").build(tmp_path)
    assert built.access.mode == "anonymous"


def test_default_credentials_read_the_key_named_by_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = key_file(tmp_path / "sa.json")
    monkeypatch.setenv(ADC_ENV, str(key))
    built = source(tabs={"tasks": "Plan"}).build("plan", tmp_path)
    assert built.access.mode == "key"
    assert built.access.account == "goalsync@acme-prod.iam.gserviceaccount.com"
    assert built.access.key_origin == f"{ADC_ENV} ({key})"
    assert "PRIVATE KEY" not in repr(built.access)
    # The key's secrets are registered, so logs mask them wherever they appear.
    assert "-----BEGIN PRIVATE KEY-----\nMIIEfakefakefake\n-----END PRIVATE KEY-----\n" in (
        secrets.known()
    )


def test_without_the_variable_google_uses_application_default_credentials_lazily(
    tmp_path: Path,
) -> None:
    built = sink().build(tmp_path)  # no request, no metadata probe: the fixture would fail
    assert built.access.mode == "adc" and built.access.endpoint is None


def test_credentials_may_name_a_key_file_relative_to_the_config(tmp_path: Path) -> None:
    key_file(tmp_path / "sa.json")
    built = sink(credentials="sa.json").build(tmp_path)
    assert built.access.mode == "key" and built.access.key_origin == str(tmp_path / "sa.json")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "does not exist"),
        ("not json", "is not JSON"),
        ('["a list"]', "is not a Google key file"),
        ('{"type": "authorized_user"}', "not a service account key"),
        ('{"type": "service_account", "client_email": "x@y"}', "no client_email or private_key"),
    ],
)
def test_bad_key_files_are_config_errors(tmp_path: Path, content: str | None, words: str) -> None:
    if content is not None:
        (tmp_path / "sa.json").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        sink(credentials="sa.json").build(tmp_path)


def test_a_missing_key_named_by_the_variable_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADC_ENV, str(tmp_path / "gone.json"))
    with pytest.raises(ConfigError, match=r"source 'plan': credentials file .*does not exist"):
        source().build("plan", tmp_path)


def test_other_kinds_of_google_credentials_go_through_adc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "user.json").write_text(
        json.dumps({"type": "authorized_user", "refresh_token": "1//refresh-secret-value"}),
        encoding="utf-8",
    )
    monkeypatch.setenv(ADC_ENV, str(tmp_path / "user.json"))
    assert sink().build(tmp_path).access.mode == "adc"
    assert "1//refresh-secret-value" in secrets.known()


def test_a_source_with_no_tab_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="names no tab"):
        source(tabs={}, credentials="anonymous", endpoint="http://127.0.0.1:1").build("p", tmp_path)
