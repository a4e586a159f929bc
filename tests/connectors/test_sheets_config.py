from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.sheets import SheetsSinkConfig, SheetsSourceConfig, SheetTabs
from sync.errors import ConfigError


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


def test_source_build_says_not_available_yet(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        source().build("plan", tmp_path)
    assert "'plan'" in str(info.value)
    assert "not available yet" in str(info.value)


def test_sink_build_says_not_available_yet(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not available yet"):
        sink().build(tmp_path)
