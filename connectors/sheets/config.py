"""Google Sheets: the plan tabs leadership edits (source, `type: sheets`) and the status sheet
it reads (sink, `type: sheets`).

This module holds the config models and the builders: they check everything that can be checked
without a request (an `endpoint:` is https or loopback http, a key file exists and is a service
account key, `credentials: anonymous` has a local endpoint) and raise ConfigError otherwise.
Credentials are read here and only here: `credentials:` names a service account key file,
`default` reads GOOGLE_APPLICATION_CREDENTIALS or else the application default credentials, and
`anonymous` sends no credentials (a local Sheets-compatible server). The client itself is built
lazily by `sheets_client` at the first request, so `validate` never opens a socket.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sync.base import secrets
from sync.base.contracts import PlaceRead, SourceTraits, check_base_url, is_loopback, resolve_path
from sync.base.errors import ConfigError
from sync.base.report import TAB_NAMES

# The client, the source and the sink are imported where they are built: validating a config
# must not load the Google API client.
if TYPE_CHECKING:
    from connectors.sheets.client import Access
    from connectors.sheets.sink import SheetsSink
    from connectors.sheets.source import SheetsSource

log = structlog.get_logger(__name__)

ADC_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
# Fields of Google key files that are secrets: registered so that logs mask them anywhere.
_SECRET_FIELDS = ("private_key", "private_key_id", "refresh_token", "client_secret")


class CredentialsVariableError(ConfigError):
    """A credentials variable (GOOGLE_APPLICATION_CREDENTIALS) names a file that cannot be used:
    the fix is in the environment, not in goalsync.yaml (`fix` says what to do)."""

    def __init__(self, message: str, *, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


class SheetTabs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    goals: str | None = None
    metrics: str | None = None
    overrides: str | None = None
    tasks: str | None = None
    checkins: str | None = None  # owners' check-ins; not in the default (a sheet may lack it)


def _check_endpoint(value: str | None) -> str | None:
    return None if value is None else check_base_url(value) + "/"


# `/spreadsheets/d/<id>`, also under a signed-in account's `/u/1/`; ids are URL-safe base64.
_SHEET_URL_ID = re.compile(r"/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]+)(?:/|$)")


def spreadsheet_id(value: str) -> str:
    """The spreadsheet id, also from the sheet's URL as a browser shows it
    (`https://docs.google.com/spreadsheets/d/<id>/edit#gid=0`): people paste the URL. Raises
    ValueError for a URL of anything else (a document, a published `/d/e/` page)."""
    text = value.strip()
    if "://" not in text:
        return text
    parts = urlsplit(text)
    found = _SHEET_URL_ID.search(parts.path)
    if found is None or found.group(1) == "e":
        raise ValueError(
            f"{text[:120]!r} is not a Google Sheets URL of the form "
            "https://docs.google.com/spreadsheets/d/<id>/edit: give the spreadsheet id (the part "
            "after /d/ in the sheet's address bar) or that URL"
        )
    return found.group(1)


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

    @field_validator("spreadsheet_id")
    @classmethod
    def _spreadsheet_id(cls, value: str) -> str:
        return spreadsheet_id(value)

    def traits(self) -> SourceTraits:
        return SourceTraits("items" if self.tabs.tasks else "none")

    def read_places(self) -> list[PlaceRead]:
        return [
            PlaceRead(
                ("tabs", key),
                _tab_place(self.spreadsheet_id, tab),
                f"tab {tab!r} is one that the sheets sink on the same spreadsheet writes: the "
                "first publish would overwrite this input",
                f"name an input tab other than {', '.join(TAB_NAMES)}",
            )
            for key, tab in self.tabs
            if tab is not None
        ]

    def build(self, name: str, base_dir: Path) -> SheetsSource:
        from connectors.sheets.client import SCOPE_READONLY
        from connectors.sheets.source import SheetsSource

        who = f"source {name!r}"
        tabs = {kind: title for kind, title in self.tabs.model_dump().items() if title}
        if not tabs:
            raise ConfigError(f"{who} (type sheets): tabs: names no tab to read")
        access = resolve_access(
            spreadsheet_id=self.spreadsheet_id,
            endpoint=self.endpoint,
            credentials=self.credentials,
            base_dir=base_dir,
            who=who,
            scope=SCOPE_READONLY,
        )
        return SheetsSource(name, access, tabs)


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

    @field_validator("spreadsheet_id")
    @classmethod
    def _spreadsheet_id(cls, value: str) -> str:
        return spreadsheet_id(value)

    def owned_places(self) -> set[str]:
        """The tabs every publish rewrites."""
        return {_tab_place(self.spreadsheet_id, tab) for tab in TAB_NAMES}

    def build(self, base_dir: Path) -> SheetsSink:
        from connectors.sheets.client import SCOPE_READWRITE
        from connectors.sheets.sink import SheetsSink

        access = resolve_access(
            spreadsheet_id=self.spreadsheet_id,
            endpoint=self.endpoint,
            credentials=self.credentials,
            base_dir=base_dir,
            who=f"sink sheets {self.spreadsheet_id}",
            scope=SCOPE_READWRITE,
        )
        return SheetsSink(access)


def _tab_place(spreadsheet_id: str, tab: str) -> str:
    return f"sheets:{spreadsheet_id}:{tab.casefold()}"


def resolve_access(
    *,
    spreadsheet_id: str,
    endpoint: str | None,
    credentials: str,
    base_dir: Path,
    who: str,
    scope: str,
) -> Access:
    """Which credentials a source or sink will use; local checks only, no request."""
    from connectors.sheets.client import Access

    common: dict[str, Any] = {
        "spreadsheet_id": spreadsheet_id,
        "who": who,
        "scope": scope,
        "endpoint": endpoint,
    }
    if credentials == "anonymous":
        if endpoint is None:
            raise ConfigError(
                f"{who}: credentials: anonymous needs endpoint: (a local Sheets-compatible "
                "server such as http://127.0.0.1:8765/); Google's API refuses anonymous "
                f"requests: use a service account key ({ADC_ENV} or credentials: <key file>)"
            )
        return Access(mode="anonymous", **common)
    if credentials == "default":
        from_env = os.environ.get(ADC_ENV, "").strip()
        if from_env:
            path = Path(from_env).expanduser()
            try:
                return _key_access(path, f"{ADC_ENV} ({path})", who, common, explicit=False)
            except ConfigError as exc:
                # The config is right; the environment is not: say which variable to fix.
                raise CredentialsVariableError(
                    str(exc),
                    fix=f"point {ADC_ENV} at a service account key file (JSON) that this user "
                    "can read, or unset it to use the application default credentials",
                ) from None
        if endpoint is not None and is_loopback(endpoint):
            # Application default credentials would probe the GCE metadata server, a request
            # off this machine, for a server that is on it: send no credentials instead.
            log.warning(
                "sheets_anonymous",
                who=who,
                reason=f"loopback endpoint and no {ADC_ENV}: requests carry no credentials",
            )
            return Access(mode="anonymous", **common)
        return Access(mode="adc", key_origin="the application default credentials", **common)
    path = resolve_path(base_dir, credentials)
    return _key_access(path, str(path), who, common, explicit=True)


def _key_access(
    path: Path, origin: str, who: str, common: dict[str, Any], *, explicit: bool
) -> Access:
    from connectors.sheets.client import Access

    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{who}: credentials file {origin} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{who}: credentials file {origin} cannot be read ({exc})") from None
    except json.JSONDecodeError:
        raise ConfigError(
            f"{who}: credentials file {origin} is not JSON; download a service account key "
            "(IAM > Service accounts > Keys > Add key > JSON)"
        ) from None
    if not isinstance(info, dict):
        raise ConfigError(f"{who}: credentials file {origin} is not a Google key file")
    for name in _SECRET_FIELDS:
        value = info.get(name)
        if isinstance(value, str):
            secrets.register(value)
    kind = info.get("type")
    if kind == "service_account":
        email = info.get("client_email")
        if not isinstance(email, str) or not isinstance(info.get("private_key"), str):
            raise ConfigError(
                f"{who}: credentials file {origin} has no client_email or private_key"
            )
        return Access(mode="key", key_info=info, key_origin=origin, account=email, **common)
    if explicit:
        raise ConfigError(
            f"{who}: credentials file {origin} is of type {kind!r}, not a service account key "
            f"(type 'service_account'); other kinds of credentials go through {ADC_ENV}"
        )
    # Another kind google-auth knows (authorized_user, external_account, ...): it reads the
    # variable itself.
    return Access(mode="adc", key_origin=origin, **common)
