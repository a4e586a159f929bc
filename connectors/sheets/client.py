"""The one place goalsync builds a Google Sheets API client, and the one place its errors are read.

The client is google-api-python-client built from the discovery document the library ships
(building never fetches anything), less its descriptions (see `_discovery_document`), over an
httplib2 transport with a timeout, a deadline for the whole response and a size cap
(`sync.base.transport.LimitedHttp`), authorised by google-auth. Every request runs
`execute(num_retries=0)` inside `sync.base.retry.call`, so goalsync's one retry layer decides
about 429 and 5xx (the Sheets quota is 60 write requests a minute per user) and attempts never
multiply across layers.

Errors are translated here, once: 429/5xx/timeouts -> RetriableError; 401/403 -> AuthError naming
the account that needs access; 404 -> ConfigError naming the spreadsheet; 400 -> BadRequest with
the API's message (callers know what a bad range or a rejected write means for them).
"""

from __future__ import annotations

import functools
import json
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
from googleapiclient import discovery, discovery_cache
from googleapiclient.errors import HttpError
from googleapiclient.model import JsonModel

from sync.base import http_limits, secrets
from sync.base.errors import (
    AuthError,
    ConfigError,
    DeadlineExceeded,
    FatalError,
    GoalsyncError,
    ResponseTooLarge,
    RetriableError,
)
from sync.base.httperrors import BASE, Answer, ErrorTable
from sync.base.retry import Budget, call, parse_retry_after
from sync.base.transport import LimitedHttp

log = structlog.get_logger(__name__)

SCOPE_READONLY = "https://www.googleapis.com/auth/spreadsheets.readonly"
SCOPE_READWRITE = "https://www.googleapis.com/auth/spreadsheets"
DEFAULT_TIMEOUT_S = 120.0  # a batchUpdate of ~8 MB can take the API a while to apply
_UNKNOWN_OUTCOME = "; the sheet may or may not show this run"

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
        self._auth: Credentials | None = None  # set when the client is built

    # --- requests ----------------------------------------------------------------------------

    def fetch_spreadsheet(self, fields: str, *, budget: Budget) -> dict[str, Any]:
        """spreadsheets.get with a field mask (never grid data)."""
        return self._run(
            lambda s: s.get(spreadsheetId=self.access.spreadsheet_id, fields=fields),
            what="spreadsheets.get",
            budget=budget,
        )

    def fetch_values(self, ranges: list[str], *, budget: Budget) -> list[dict[str, Any]]:
        """values.batchGet of A1 ranges, unformatted, dates as serial numbers: one entry per
        range, in the order asked."""
        reply = self._run(
            lambda s: s.values().batchGet(
                spreadsheetId=self.access.spreadsheet_id,
                ranges=ranges,
                majorDimension="ROWS",
                valueRenderOption="UNFORMATTED_VALUE",
                dateTimeRenderOption="SERIAL_NUMBER",
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
        return self.write_body(json.dumps({"requests": requests}), budget=budget)

    def write_body(self, body: str | bytes | memoryview, *, budget: Budget) -> dict[str, Any]:
        """spreadsheets.batchUpdate of a body already serialised (`{"requests": [...]}` as
        JSON; bytes are sent without another copy): sent as it is, never parsed into dicts and
        serialised again."""
        prepared = _Serialised(body)
        return self._run(
            lambda s: s.batchUpdate(
                spreadsheetId=self.access.spreadsheet_id, body=prepared, fields="spreadsheetId"
            ),
            what="spreadsheets.batchUpdate",
            budget=budget,
            idempotent=False,
        )

    # --- internals ---------------------------------------------------------------------------

    def _run(
        self, make: Callable[[Any], Any], *, what: str, budget: Budget, idempotent: bool = True
    ) -> dict[str, Any]:
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
            except (DeadlineExceeded, ResponseTooLarge) as exc:
                limited = http_limits.for_source(exc, self.access.who)
                if idempotent or isinstance(exc, ResponseTooLarge):
                    raise limited from None
                raise FatalError(f"{limited}{_UNKNOWN_OUTCOME}") from None  # as a timeout, below
            except TimeoutError as exc:  # socket.timeout is TimeoutError since 3.10
                message = f"{self.access.who}: {what}: no answer within {self.timeout:g} s ({exc})"
                if not idempotent:
                    # The write may have landed: sent again, it could fail on its own effect
                    # ("sheet already exists"). Stop; the next run plans from what the sheet
                    # holds then, and rewrites every owned tab whole.
                    raise FatalError(f"{message}{_UNKNOWN_OUTCOME}") from None
                raise RetriableError(message) from None
            except (OSError, httplib2.HttpLib2Error) as exc:
                raise RetriableError(
                    f"{self.access.who}: {what}: {type(exc).__name__}: {exc}"
                ) from None
            finally:
                self._register_token()
            if not isinstance(reply, dict):  # a proxy's HTML page, say: not the API talking
                raise FatalError(f"{self.access.who}: {what}: the answer is not JSON")
            log.debug("sheets_call", call=what, seconds=round(time.monotonic() - t0, 3))
            return reply

        return call(once, budget=budget, what=f"sheets {what}")

    def _register_token(self) -> None:
        """The access token a key was exchanged for is a credential too (it rides in every
        request's Authorization header): masked like the key wherever text leaves goalsync."""
        token = getattr(self._auth, "token", None)
        if isinstance(token, str):
            secrets.register(token)

    def _client(self) -> Any:
        """The client's `spreadsheets` resource, made once: googleapiclient writes every
        method's docstring whenever a resource is made (5 MB for batchUpdate's body schema),
        which cost 0.3 s and about 50 MB a request when it was made per call."""
        if self._service is None:
            self._service = self._build().spreadsheets()
        return self._service

    def _build(self) -> Any:
        options = {"api_endpoint": self.access.endpoint} if self.access.endpoint else None
        if self.transport.http is not None or self.transport.request_builder is not None:
            return discovery.build_from_document(
                _discovery_document(),
                http=self.transport.http or LimitedHttp(timeout=self.timeout),
                requestBuilder=self.transport.request_builder or discovery.HttpRequest,
                model=_JsonModel(),
                client_options=options,
            )
        credentials = self._auth = self._credentials()
        # `http` and `credentials` are mutually exclusive in build(): the credentials ride in
        # the AuthorizedHttp, which is how the timeout reaches every request (and the token
        # refresh of a service account, which goes through the same httplib2.Http).
        # Anonymous credentials cannot be refreshed: a 401 must surface as the 401 it is.
        refresh = () if self.access.mode == "anonymous" else (401,)
        transport = LimitedHttp(timeout=self.timeout)  # deadline and size cap: transport.py
        # httplib2 follows redirects by itself, and on a 308 it posts a service account's token
        # request, signed assertion and all, again to wherever Location points. Neither the
        # Sheets API nor Google's token endpoint redirects: a 3xx is the error it looks like.
        transport.follow_redirects = False
        http = AuthorizedHttp(credentials, http=transport, refresh_status_codes=refresh)
        return discovery.build_from_document(
            _discovery_document(), http=http, model=_JsonModel(), client_options=options
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
        answer = Answer(
            status=status,
            where=f"{self.access.who}: {what}",
            message=str(exc.reason or "").strip() or f"HTTP {status}",
            retry_after=parse_retry_after(exc.resp.get("retry-after")),
            quote_first=False,
        )
        return SHEETS_ERRORS.error(answer, self.access)


def _quota(answer: Answer, access: Access) -> GoalsyncError:
    return RetriableError(answer.say("quota exceeded"), retry_after=answer.retry_after)


def _credentials_refused(answer: Answer, access: Access) -> GoalsyncError:
    return AuthError(
        f"{access.who}: Google did not accept the credentials (401: {answer.message}); check "
        f"{access.key_origin or 'GOOGLE_APPLICATION_CREDENTIALS'}"
    )


def _not_shared(answer: Answer, access: Access) -> GoalsyncError:
    reason = answer.message
    if "has not been used" in reason or "is disabled" in reason:
        return AuthError(
            f"{access.who}: the Google Sheets API is not enabled for the credentials' project "
            f"(403: {reason}); enable it in the Google Cloud console"
        )
    role = "Editor" if access.scope == SCOPE_READWRITE else "Viewer"
    return AuthError(
        f"{access.who}: {access.principal} may not open spreadsheet {access.spreadsheet_id} "
        f"(403: {reason}); share the sheet with {access.principal} as {role}"
    )


def _no_spreadsheet(answer: Answer, access: Access) -> GoalsyncError:
    return ConfigError(
        f"{access.who}: spreadsheet {access.spreadsheet_id} was not found (404); check "
        "spreadsheet_id (the long id between /d/ and /edit in the sheet's URL) and that it is "
        f"shared with {access.principal}"
    )


def _bad_request(answer: Answer, access: Access) -> GoalsyncError:
    return BadRequest(f"{answer.where} was refused (400: {answer.message})", answer.message)


# Sheets beyond the shared table: a 429 is the per-minute quota; 401/403 name the key and whom
# to share the sheet with; a 404 is a wrong spreadsheet_id (exit 2); a 400 keeps the API's
# reason (a range naming no tab is how a missing tab is found).
SHEETS_ERRORS: ErrorTable[Access] = BASE.extend(
    {
        429: _quota,
        401: _credentials_refused,
        403: _not_shared,
        404: _no_spreadsheet,
        400: _bad_request,
    }
)


@dataclass(frozen=True, slots=True)
class _Serialised:
    """A request body that is JSON text already."""

    text: str | bytes | memoryview


class _JsonModel(JsonModel):  # type: ignore[misc]  # the library is not typed
    """The library's JSON model (the one it picks for Sheets), sending a `_Serialised` body as
    it is: a publish's bodies are up to 8 MB, made as JSON text from the rows."""

    def __init__(self) -> None:
        super().__init__(data_wrapper=False)

    def serialize(self, body_value: Any) -> Any:
        if isinstance(body_value, _Serialised):
            return body_value.text
        return super().serialize(body_value)


@functools.cache
def _discovery_document() -> str:
    """The Sheets v4 discovery document the library ships, without its descriptions and with
    each body schema an empty object.

    googleapiclient writes each method's docstring, with every body schema pretty-printed and
    commented by its descriptions, whenever it makes a resource: 5 MB for batchUpdate alone,
    about 55 MB allocated and 0.3 s per client; without the descriptions, still 29 ms per
    resource (two clients a run, plus `values`), pretty-printing the schemas' properties. The
    library sends a body as given and reads a reply as JSON: the schemas serve only those
    docstrings and the `*_next` paging helpers of list methods, which the methods used here
    (get, batchUpdate, values.batchGet) do not have. Methods, parameters and paths are kept
    whole, so what is sent is unchanged."""
    shipped = discovery_cache.get_static_doc("sheets", "v4")
    if shipped is None:
        raise FatalError("google-api-python-client ships no Sheets v4 discovery document")
    document = _without_descriptions(json.loads(shipped))
    document["schemas"] = {name: {"id": name, "type": "object"} for name in document["schemas"]}
    return json.dumps(document)


def _without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_without_descriptions(v) for v in node]
    return node


def a1_tab(title: str) -> str:
    """A tab's name as an A1 range of the whole tab: quoted, quotes doubled (the API's rule)."""
    return "'" + title.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
