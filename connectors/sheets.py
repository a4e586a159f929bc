"""Google Sheets: the plan tabs leadership edits (source, `type: sheets`) and the status sheet
it reads (sink, `type: sheets`).

The config models are complete and validate; the live connector is issue 6 and not built yet, so
building one is a config error that says so before any request is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync.contracts import Sink, Source, check_base_url
from sync.errors import ConfigError


class SheetTabs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    goals: str | None = None
    metrics: str | None = None
    overrides: str | None = None
    tasks: str | None = None


def _check_endpoint(value: str | None) -> str | None:
    return None if value is None else check_base_url(value) + "/"


class SheetsSourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["sheets"]
    spreadsheet_id: str = Field(min_length=1)
    tabs: SheetTabs = Field(
        default_factory=lambda: SheetTabs(
            goals="Goals", metrics="Metrics", overrides="Overrides", tasks="Tasks"
        )
    )
    endpoint: str | None = None
    credentials: Literal["default", "anonymous"] | str = "default"

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return _check_endpoint(value)

    def build(self, name: str, base_dir: Path) -> Source:
        del base_dir
        raise ConfigError(
            f"source {name!r} (type sheets): the Google Sheets connector is not available yet in "
            "this version; use file sources (csv_metrics, csv_items) for now"
        )


class SheetsSinkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["sheets"]
    spreadsheet_id: str = Field(min_length=1)
    endpoint: str | None = None
    credentials: Literal["default", "anonymous"] | str = "default"

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return _check_endpoint(value)

    def build(self, base_dir: Path) -> Sink:
        del base_dir
        raise ConfigError(
            "sink sheets: the Google Sheets connector is not available yet in this version; "
            "use the xlsx, csv or html sinks for now"
        )
