"""What Jira's failures become at the connector boundary: 401/403 AuthError naming the source and
the variables, a JQL 400 a ConfigError quoting Jira, 429/503 retried in goalsync's one retry
layer (Retry-After, or X-RateLimit-Reset as an ISO date), HTML pages and timeouts translated, and
no secret anywhere in a message or a log line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses
import structlog
from pydantic import SecretStr

from connectors.jira.client import (
    DEFAULT_TIMEOUT,
    JiraAuth,
    open_client,
    parse_rate_limit_reset,
    retry_after,
)
from connectors.jira.source import JiraSource, JiraSourceConfig
from sync.base.contracts import PullContext
from sync.base.errors import AuthError, ConfigError, FatalError, RetriableError
from tests.connectors.helpers import load_json

URL = "https://acme.atlassian.net"
API3 = f"{URL}/rest/api/3"
RUN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
TOKEN = "atl-token-SECRET-123456"
EMAIL = "goalsync@acme.example"


def live(name: str) -> Any:
    return load_json("jira", "live", name)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def make(
    sleeps: list[float] | None = None, auth: JiraAuth | None = None, **config: Any
) -> JiraSource:
    cfg = JiraSourceConfig.model_validate(
        {"type": "jira", "url": URL, "jql": "project = PAY"} | config
    )
    auth = auth or JiraAuth(
        "basic", ("JIRA_EMAIL", "JIRA_API_TOKEN"), SecretStr(EMAIL), SecretStr(TOKEN)
    )
    recorded = sleeps if sleeps is not None else []
    return JiraSource("jira", cfg, auth, page_size=5, sleep=recorded.append)


def ctx(budget_s: float = 300.0, **kwargs: Any) -> PullContext:
    return PullContext(source="jira", run_started=RUN, tz=UTC, budget_s=budget_s, **kwargs)


def site(rsps: responses.RequestsMock, count: int = 0) -> None:
    """serverInfo, /field, and the complete pull's first question: the scope's size."""
    rsps.get(f"{URL}/rest/api/2/serverInfo", json=live("serverInfo-cloud.json"))
    rsps.get(f"{API3}/field", json=live("field-cloud.json"))
    rsps.post(f"{API3}/search/approximate-count", json={"count": count})


def paths(rsps: responses.RequestsMock) -> list[str]:
    return [urlsplit(str(c.request.url)).path for c in rsps.calls]


@pytest.mark.parametrize(("status", "why"), [(401, "credentials refused"), (403, "no access")])
def test_401_and_403_fail_at_once_naming_source_and_variables(
    rsps: responses.RequestsMock, status: int, why: str
) -> None:
    rsps.get(f"{URL}/rest/api/2/serverInfo", status=status, json=live("error-401.json"))
    sleeps: list[float] = []
    with structlog.testing.capture_logs() as logs, pytest.raises(AuthError) as info:
        make(sleeps).fetch(ctx())
    message = str(info.value)
    assert "'jira'" in message and str(status) in message and why in message
    assert "JIRA_EMAIL and JIRA_API_TOKEN" in message
    assert len(rsps.calls) == 1 and sleeps == []  # never retried
    assert TOKEN not in message and TOKEN not in repr(logs)


def test_a_403_captcha_says_what_to_do(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{URL}/rest/api/2/serverInfo",
        status=403,
        body="",
        headers={"X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE; login-url=https://x/login"},
    )
    with pytest.raises(AuthError, match="CAPTCHA"):
        make().fetch(ctx())


def test_anonymous_401_says_which_variables_to_set(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{URL}/rest/api/2/serverInfo", status=401, json=live("error-401.json"))
    anonymous = JiraAuth("anonymous", ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT"))
    with pytest.raises(AuthError) as info:
        make(auth=anonymous).fetch(ctx())
    assert "no credentials were set" in str(info.value)
    assert "JIRA_PAT (Data Center)" in str(info.value)


def test_data_center_answering_a_failed_login_as_anonymous_is_an_auth_error(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        f"{URL}/rest/api/2/serverInfo",
        json=live("serverInfo-dc.json"),
        headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
    )
    with pytest.raises(AuthError, match="answered as anonymous"):
        make().fetch(ctx())


@pytest.mark.parametrize(
    ("fixture", "quoted"),
    [
        ("error-400-jql.json", "Expecting operator but got 'PAY'"),
        ("error-400-project.json", "The value 'NOPE' does not exist for the field 'project'."),
    ],
)
def test_a_rejected_jql_is_a_config_error_quoting_jira(
    rsps: responses.RequestsMock, fixture: str, quoted: str
) -> None:
    site(rsps)
    rsps.get(f"{API3}/search/jql", status=400, json=live(fixture))
    with pytest.raises(ConfigError) as info:
        make(jql="project PAY").fetch(ctx())
    assert quoted in str(info.value)
    assert "'jira'" in str(info.value) and "(project PAY) ORDER BY" in str(info.value)
    assert paths(rsps).count("/rest/api/3/search/jql") == 1  # not retried


def test_a_jql_the_count_rejects_is_the_same_config_error_and_no_search_is_made(
    rsps: responses.RequestsMock,
) -> None:
    # A complete pull asks the scope's size first: Jira rejects a bad JQL there, with the same
    # 400 a search gets. It is named as the search's, with Jira's words, and not retried.
    rsps.get(f"{URL}/rest/api/2/serverInfo", json=live("serverInfo-cloud.json"))
    rsps.get(f"{API3}/field", json=live("field-cloud.json"))
    rsps.post(f"{API3}/search/approximate-count", status=400, json=live("error-400-jql.json"))
    with pytest.raises(ConfigError) as info:
        make(jql="project PAY").fetch(ctx())
    assert "Expecting operator but got 'PAY'" in str(info.value)
    assert "'jira'" in str(info.value) and "(project PAY)" in str(info.value)
    assert paths(rsps).count("/rest/api/3/search/approximate-count") == 1
    assert "/rest/api/3/search/jql" not in paths(rsps)


def test_a_rejected_jql_clause_is_a_config_error_naming_the_clause(
    rsps: responses.RequestsMock,
) -> None:
    site(rsps)

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        if "labelz" in str(request.url):
            return 400, {}, '{"errorMessages":["Field \'labelz\' does not exist."],"errors":{}}'
        return 200, {}, '{"issues": [], "isLast": true}'

    rsps.add_callback(responses.GET, f"{API3}/search/jql", callback=answer)
    with pytest.raises(ConfigError, match=r"labelz = x.*Field 'labelz' does not exist"):
        make().fetch(ctx(native_clauses={"jql": ("labelz = x",)}))


def test_429_waits_what_retry_after_says_then_goes_on(rsps: responses.RequestsMock) -> None:
    site(rsps)
    rsps.get(
        f"{API3}/search/jql",
        status=429,
        json=live("error-429.json"),
        headers={"Retry-After": "7", "RateLimit-Reason": "jira-quota-based"},
    )
    rsps.get(f"{API3}/search/jql", json=live("search-jql-empty.json"))
    sleeps: list[float] = []
    result = make(sleeps).fetch(ctx())
    assert sleeps == [7.0]
    assert paths(rsps).count("/rest/api/3/search/jql") == 2
    # serverInfo, /field, the count, and the search's two attempts: the retried one is counted
    assert result.requests == 3 + 2


def test_429_without_retry_after_waits_until_the_iso_rate_limit_reset(
    rsps: responses.RequestsMock,
) -> None:
    site(rsps)
    reset = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%MZ")
    rsps.get(f"{API3}/search/jql", status=429, headers={"X-RateLimit-Reset": reset})
    rsps.get(f"{API3}/search/jql", json=live("search-jql-empty.json"))
    sleeps: list[float] = []
    make(sleeps).fetch(ctx())
    assert len(sleeps) == 1 and 50 <= sleeps[0] <= 120


def test_503_is_retried_with_its_retry_after(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{URL}/rest/api/2/serverInfo", status=503, headers={"Retry-After": "2"})
    site(rsps)
    rsps.get(f"{API3}/search/jql", json=live("search-jql-empty.json"))
    sleeps: list[float] = []
    make(sleeps).fetch(ctx())
    assert sleeps == [2.0]


def test_a_wait_past_the_budget_gives_up_and_the_source_goes_stale(
    rsps: responses.RequestsMock,
) -> None:
    site(rsps)
    rsps.get(f"{API3}/search/jql", status=429, headers={"Retry-After": "3600"})
    sleeps: list[float] = []
    with pytest.raises(RetriableError, match="429"):
        make(sleeps).fetch(ctx(budget_s=60))
    assert sleeps == []


def test_an_html_page_instead_of_json_is_named_not_quoted(rsps: responses.RequestsMock) -> None:
    login = "<!DOCTYPE html><html><body><form>Log in to continue</form></body></html>"
    rsps.get(f"{URL}/rest/api/2/serverInfo", body=login, content_type="text/html")
    with pytest.raises(FatalError) as info:
        make().fetch(ctx())
    assert "not JSON" in str(info.value) and "<html" not in str(info.value)


def test_an_html_error_page_from_a_proxy_is_retried_and_summarised(
    rsps: responses.RequestsMock,
) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    rsps.get(f"{URL}/rest/api/2/serverInfo", status=502, body=page, content_type="text/html")
    with pytest.raises(RetriableError) as info:
        make().fetch(ctx(budget_s=0.01))
    assert "an HTML page" in str(info.value) and "<h1>" not in str(info.value)


def test_timeouts_and_connection_errors_are_retriable(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{URL}/rest/api/2/serverInfo", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(RetriableError, match="ReadTimeout"):
        make().fetch(ctx(budget_s=0.01))
    rsps.reset()
    rsps.get(f"{URL}/rest/api/2/serverInfo", body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(RetriableError, match="ConnectionError"):
        make().fetch(ctx(budget_s=0.01))


def test_a_bad_certificate_is_not_retried(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{URL}/rest/api/2/serverInfo", body=requests.exceptions.SSLError("bad cert"))
    with pytest.raises(FatalError, match="TLS certificate"):
        make().fetch(ctx())
    assert len(rsps.calls) == 1


def test_the_client_is_built_without_retries_with_a_timeout_and_no_request() -> None:
    auth = JiraAuth("bearer", ("JIRA_PAT",), None, SecretStr("pat-SECRET-000000"))
    with responses.RequestsMock() as mock:  # any request would fail: none registered
        client = open_client(URL, auth, DEFAULT_TIMEOUT)
        assert len(mock.calls) == 0
    assert client._session.max_retries == 0
    assert client._session.timeout == DEFAULT_TIMEOUT
    assert client._options["check_update"] is False


def test_retry_after_prefers_retry_after_then_the_iso_reset() -> None:
    now = datetime(2026, 11, 16, 9, 0, 30, tzinfo=UTC)
    assert retry_after({"Retry-After": "12"}, now) == 12.0
    assert retry_after({"X-RateLimit-Reset": "2026-11-16T09:02Z"}, now) == 90.0
    assert retry_after({"Retry-After": "3", "X-RateLimit-Reset": "2026-11-16T09:02Z"}, now) == 3
    assert retry_after({}, now) is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2026-11-16T09:02Z", 90.0),
        ("2026-11-16T09:02:00.000Z", 90.0),
        ("2026-11-16T10:02+0100", 90.0),
        ("2026-11-16T09:00Z", 0.0),  # in the past: no wait
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_rate_limit_reset_reads_jiras_iso_dates(
    value: str | None, seconds: float | None
) -> None:
    now = datetime(2026, 11, 16, 9, 0, 30, tzinfo=UTC)
    assert parse_rate_limit_reset(value, now) == seconds


def test_a_full_pull_never_asks_myself(rsps: responses.RequestsMock) -> None:
    # A scoped Cloud token is refused by /myself yet may search: the relative incremental bound
    # needs no user zone, so the pull never asks, and the site's zone serves the DC windows.
    site(rsps)
    rsps.get(f"{API3}/myself", status=401, json={"code": 401, "message": "scope does not match"})
    rsps.get(f"{API3}/search/jql", json=live("search-jql-empty.json"))
    result = make().fetch(ctx())
    assert result.state["zone"] == "Etc/UTC"
    assert "/rest/api/3/myself" not in paths(rsps)
