"""The HTTP transports the Jira, GitHub and Sheets clients are built on: their libraries' own,
with `sync.base.http_limits` (a deadline for the whole response, a size cap) plugged in, once
for all.

- requests (the `jira` library, PyGithub): `limit_session` mounts a `LimitedAdapter`, an
  HTTPAdapter whose urllib3 pools make `LimitedConnection`s. It also caps the body once
  decompressed (a small gzip can inflate past any cap), which requests would otherwise join whole.
- PyGithub makes its requests.Session inside a connection object of its own, per Requester;
  `limit_github` has the Requester make that connection through `limit_session`.
- httplib2 (google-api-python-client): `LimitedHttp` makes its connections `LimitedConnection`s;
  its own decompression limit (`hard_limit`) is set to the cap, and its errors made ours.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import httplib2
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from sync.base import http_limits
from sync.base.http_limits import LimitedConnection

try:  # httplib2 >= 0.31 bounds what it decompresses; older ones inflate whatever comes
    from httplib2.decode import DecodeLimitError, DecodeRatioError

    _DECODE_ERRORS: tuple[type[Exception], ...] = (DecodeLimitError, DecodeRatioError)
except ImportError:  # pragma: no cover
    _DECODE_ERRORS = ()

_CHUNK = 64 * 1024


class _Urllib3Connection(LimitedConnection, HTTPConnection):
    pass


class _Urllib3TLSConnection(LimitedConnection, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Urllib3Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _Urllib3TLSConnection


_POOLS: Mapping[str, type[HTTPConnectionPool]] = {"http": _Pool, "https": _TLSPool}


class LimitedAdapter(HTTPAdapter):
    """requests' adapter, limited. `max_retries` stays 0: goalsync's retry layer decides."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # a SOCKS manager's pools are its own
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        response = super().send(
            request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        if not stream:  # read here, capped, rather than joined whole by requests
            response._content = _read_capped(response, request)
        return response


def _read_capped(response: requests.Response, request: requests.PreparedRequest) -> bytes:
    """The body, decompressed, failing past the cap (the bytes on the wire are metered)."""
    limit = http_limits.current().max_bytes
    parts: list[bytes] = []
    size = 0
    for piece in response.iter_content(_CHUNK):
        size += len(piece)
        if size > limit:
            response.close()
            where = http_limits.endpoint(str(request.method), request.url or "")
            raise http_limits.too_large(where, limit, " once decompressed")
        parts.append(piece)
    return b"".join(parts)


def limit_session(session: requests.Session) -> requests.Session:
    """Every request `session` sends from now on is limited, whatever its scheme."""
    adapter = LimitedAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def limit_github(requester: Any) -> None:
    """Have a PyGithub Requester make its connection (and so its requests.Session) limited.

    The Requester takes its connection class when it is made, and makes the connection on its
    first request (`Requester.__createConnection`). Its public `injectConnectionClasses` would
    change every Requester of the process; this sets this Requester's own. The private name is
    checked: a PyGithub that renames it fails here, loudly, instead of going unlimited."""
    name = "_Requester__connectionClass"
    make = getattr(requester, name, None)
    if make is None:
        raise RuntimeError(f"PyGithub's Requester has no {name}: update sync/base/transport.py")
    setattr(requester, name, functools.partial(_github_connection, make))


def _github_connection(make: Any, *args: Any, **kwargs: Any) -> Any:
    connection = make(*args, **kwargs)
    limit_session(connection.session)
    return connection


class _HttpLib2Connection(LimitedConnection, httplib2.HTTPConnectionWithTimeout):  # type: ignore[misc]
    pass


class _HttpLib2TLSConnection(LimitedConnection, httplib2.HTTPSConnectionWithTimeout):  # type: ignore[misc]
    pass


class LimitedHttp(httplib2.Http):  # type: ignore[misc]  # the library is not typed
    """httplib2.Http whose connections are limited (googleapiclient passes no connection_type,
    so the one chosen here is used)."""

    def request(self, uri: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("connection_type") is None:
            tls = uri.lower().startswith("https:")
            kwargs["connection_type"] = _HttpLib2TLSConnection if tls else _HttpLib2Connection
        limit = http_limits.current().max_bytes
        if isinstance(getattr(self, "limit_kwargs", None), dict):
            self.limit_kwargs["hard_limit"] = limit
        try:
            return super().request(uri, *args, **kwargs)
        except _DECODE_ERRORS:
            method = kwargs.get("method") or (args[0] if args else "GET")
            where = http_limits.endpoint(str(method), uri)
            raise http_limits.too_large(where, limit, " once decompressed") from None
