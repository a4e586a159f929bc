"""The one place goalsync builds a Google Sheets API client, and the one place its errors are read.

The client is google-api-python-client built from the discovery document the library ships
(`static_discovery=True`: building never fetches anything), over an httplib2 transport with a
timeout, authorised by google-auth. Every request runs `execute(num_retries=0)` inside
`sync.retry.call`, so goalsync's one retry layer decides about 429 and 5xx (the Sheets quota is
60 write requests a minute per user) and attempts never multiply across layers.

Errors are translated here, once: 429/5xx/timeouts -> RetriableError; 401/403 -> AuthError naming
the account that needs access; 404 -> ConfigError naming the spreadsheet; 400 -> BadRequest with
the API's message (callers know what a bad range or a rejected write means for them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import google.auth
import google.auth.exceptions
import httplib2
import structlog
from google.auth.credentials import AnonymousCredentials, Credentials
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from sync.errors import AuthError, ConfigError, FatalError, RetriableError
from sync.retry import Budget, call, parse_retry_after

log = structlog.get_logger(__name__)

SCOPE_READONLY = "https://www.googleapis.com/auth/spreadsheets.readonly"
SCOPE_READWRITE = "https://www.googleapis.com/auth/spreadsheets"
DEFAULT_TIMEOUT_S = 120.0  # a batchUpdate of ~8 MB can take the API a while to apply

CredentialMode = Literal["anonymous", "key", "adc"]


class BadRequest(FatalError):
    """The API refused a request as malformed (400): a range naming no tab, a write it rejects.
    `reason` is the API's own message."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class Access:
    """Which spreadsheet, through which API root, as whom: everything the builder could check
    without a request. `key_info` is a parsed key file (it holds a private key: never shown)."""

    spreadsheet_id: str
    who: str  # "source 'plan'" or "sink sheets", for messages
    scope: str
    endpoint: str | None = None  # API root; None is Google's
    mode: CredentialMode = "adc"
    key_info: Mapping[str, Any] | None = field(default=None, repr=False)
    key_origin: str = ""  # the file or variable the key came from, for messages
    account: str = ""  # the service account's email when known

    @property
    def principal(self) -> str:
        """Who must be given access to the sheet, as a person fixing it reads it."""
        if self.account:
            return self.account
        if self.mode == "anonymous":
            return "anonymous requests (credentials: anonymous)"
        return "the account of the application default credentials (gcloud auth, or the VM's)"


@dataclass(slots=True, kw_only=True)
class Transport:
    """Test seams: the client's own mocks (HttpMockSequence, RequestMockBuilder) go here."""

    http: Any = None
    request_builder: Any = None


class SheetsClient:
    """A lazily built Sheets API client for one spreadsheet. `calls` counts HTTP requests."""

    def __init__(
        self,
        access: Access,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: Transport | None = None,
    ) -> None:
        self.access = access
        self.timeout = timeout
        self.transport = transport or Transport()
        self.calls = 0
        self._service: Any = None

    # --- requests ----------------------------------------------------------------------------

    def fetch_spreadsheet(self, fields: str, *, budget: Budget) -> dict[str, Any]:
        """spreadsheets.get with a field mask (never grid data)."""
        return self._run(
            lambda s: s.spreadsheets().get(spreadsheetId=self.access.spreadsheet_id, fields=fields),
            what="spreadsheets.get",
            budget=budget,
        )

    def fetch_values(self, ranges: list[str], *, budget: Budget) -> list[dict[str, Any]]:
        """values.batchGet of A1 ranges, unformatted, dates as serial numbers: one entry per
        range, in the order asked."""
        reply = self._run(
            lambda s: (
                s.spreadsheets()
                .values()
                .batchGet(
                    spreadsheetId=self.access.spreadsheet_id,
                    ranges=ranges,
                    majorDimension="ROWS",
                    valueRenderOption="UNFORMATTED_VALUE",
                    dateTimeRenderOption="SERIAL_NUMBER",
                )
            ),
            what="values.batchGet",
            budget=budget,
        )
        value_ranges: list[dict[str, Any]] = reply.get("valueRanges") or []
        if len(value_ranges) != len(ranges):
            raise FatalError(
                f"{self.access.who}: values.batchGet answered {len(value_ranges)} ranges for "
                f"{len(ranges)} asked"
            )
        return value_ranges

    def write_batch(self, requests: list[dict[str, Any]], *, budget: Budget) -> dict[str, Any]:
        """spreadsheets.batchUpdate: the API applies every request of one call, or none."""
        body = {"requests": requests}
        return self._run(
            lambda s: s.spreadsheets().batchUpdate(
                spreadsheetId=self.access.spreadsheet_id, body=body, fields="spreadsheetId"
            ),
            what="spreadsheets.batchUpdate",
            budget=budget,
        )

    # --- internals ---------------------------------------------------------------------------

    def _run(self, make: Callable[[Any], Any], *, what: str, budget: Budget) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            request = make(self._client())
            self.calls += 1
            t0 = time.monotonic()
            try:
                reply: dict[str, Any] = request.execute(num_retries=0)
            except HttpError as exc:
                raise self._http_error(exc, what) from None
            except google.auth.exceptions.RefreshError as exc:
                raise AuthError(
                    f"{self.access.who}: Google refused the credentials from "
                    f"{self.access.key_origin or 'the application default credentials'} "
                    f"({_first_line(exc)}); check the key is current and not revoked"
                ) from None
            except google.auth.exceptions.DefaultCredentialsError as exc:
                raise AuthError(
                    f"{self.access.who}: no Google credentials found ({_first_line(exc)}); set "
                    "GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or "
                    "`credentials:` to its path"
                ) from None
            except google.auth.exceptions.TransportError as exc:
                raise RetriableError(
                    f"{self.access.who}: {what}: token request failed ({_first_line(exc)})"
                ) from None
            except TimeoutError as exc:  # socket.timeout is TimeoutError since 3.10
                raise RetriableError(
                    f"{self.access.who}: {what}: no answer within {self.timeout:g} s ({exc})"
                ) from None
            except (OSError, httplib2.HttpLib2Error) as exc:
                raise RetriableError(
                    f"{self.access.who}: {what}: {type(exc).__name__}: {exc}"
                ) from None
            if not isinstance(reply, dict):  # a proxy's HTML page, say: not the API talking
                raise FatalError(f"{self.access.who}: {what}: the answer is not JSON")
            log.debug("sheets_call", call=what, seconds=round(time.monotonic() - t0, 3))
            return reply

        return call(once, budget=budget, what=f"sheets {what}")

    def _client(self) -> Any:
        if self._service is None:
            self._service = self._build()
        return self._service

    def _build(self) -> Any:
        options = {"api_endpoint": self.access.endpoint} if self.access.endpoint else None
        if self.transport.http is not None or self.transport.request_builder is not None:
            return discovery.build(
                "sheets",
                "v4",
                http=self.transport.http or httplib2.Http(timeout=self.timeout),
                requestBuilder=self.transport.request_builder or discovery.HttpRequest,
                client_options=options,
                static_discovery=True,
                cache_discovery=False,
                num_retries=0,
            )
        credentials = self._credentials()
        # `http` and `credentials` are mutually exclusive in build(): the credentials ride in
        # the AuthorizedHttp, which is how the timeout reaches every request (and the token
        # refresh of a service account, which goes through the same httplib2.Http).
        # Anonymous credentials cannot be refreshed: a 401 must surface as the 401 it is.
        refresh = () if self.access.mode == "anonymous" else (401,)
        http = AuthorizedHttp(
            credentials, http=httplib2.Http(timeout=self.timeout), refresh_status_codes=refresh
        )
        return discovery.build(
            "sheets",
            "v4",
            http=http,
            client_options=options,
            static_discovery=True,
            cache_discovery=False,
            num_retries=0,
        )

    def _credentials(self) -> Credentials:
        scopes = [self.access.scope]
        if self.access.mode == "anonymous":
            return AnonymousCredentials()  # type: ignore[no-untyped-call]
        if self.access.mode == "key":
            assert self.access.key_info is not None
            try:
                key: Credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                    dict(self.access.key_info), scopes=scopes
                )
                return key
            except (ValueError, KeyError, google.auth.exceptions.GoogleAuthError) as exc:
                raise ConfigError(
                    f"{self.access.who}: {self.access.key_origin} is not a usable service "
                    f"account key ({_first_line(exc)})"
                ) from None
        try:
            credentials, _ = google.auth.default(scopes=scopes)
        except google.auth.exceptions.DefaultCredentialsError as exc:
            raise AuthError(
                f"{self.access.who}: no Google credentials found ({_first_line(exc)}); set "
                "GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
            ) from None
        found: Credentials = credentials
        return found

    def _http_error(self, exc: HttpError, what: str) -> Exception:
        status = exc.resp.status
        reason = str(exc.reason or "").strip() or f"HTTP {status}"
        who, sheet = self.access.who, self.access.spreadsheet_id
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(exc.resp.get("retry-after"))
            kind = "quota exceeded" if status == 429 else "server error"
            return RetriableError(
                f"{who}: {what}: {kind} ({status}: {reason})", retry_after=retry_after
            )
        if status == 401:
            return AuthError(
                f"{who}: Google did not accept the credentials (401: {reason}); check "
                f"{self.access.key_origin or 'GOOGLE_APPLICATION_CREDENTIALS'}"
            )
        if status == 403:
            if "has not been used" in reason or "is disabled" in reason:
                return AuthError(
                    f"{who}: the Google Sheets API is not enabled for the credentials' project "
                    f"(403: {reason}); enable it in the Google Cloud console"
                )
            role = "Editor" if self.access.scope == SCOPE_READWRITE else "Viewer"
            return AuthError(
                f"{who}: {self.access.principal} may not open spreadsheet {sheet} (403: "
                f"{reason}); share the sheet with {self.access.principal} as {role}"
            )
        if status == 404:
            return ConfigError(
                f"{who}: spreadsheet {sheet} was not found (404); check spreadsheet_id (the "
                "long id between /d/ and /edit in the sheet's URL) and that it is shared with "
                f"{self.access.principal}"
            )
        if status == 400:
            return BadRequest(f"{who}: {what} was refused (400: {reason})", reason)
        return FatalError(f"{who}: {what}: unexpected answer {status}: {reason}")


def a1_tab(title: str) -> str:
    """A tab's name as an A1 range of the whole tab: quoted, quotes doubled (the API's rule)."""
    return "'" + title.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
