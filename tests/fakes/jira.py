"""A loopback fake Jira, Cloud or Data Center, in the real APIs' shapes.

Cloud: serverInfo (deploymentType Cloud), /field, /myself, `GET /rest/api/{2,3}/search/jql`
(nextPageToken paging; the old `/search` answers 410), `POST /rest/api/3/changelog/bulkfetch`,
and an embedded changelog cut to the latest `changelog_limit` histories, as Cloud does.
Data Center: serverInfo (deploymentType Server), `GET /rest/api/2/search` with startAt (refusing
offsets past `window_limit`), `GET /rest/api/2/issue/{key}?expand=changelog`; no search/jql, no
bulkfetch. Both: a small JQL evaluator (AND / OR / NOT, parentheses, = != > >= < <= IN / NOT IN
on project, key, labels, status, statusCategory, component, parent, issuetype, assignee,
created, updated; ORDER BY), JQL dates read in the user's time zone (`user_tz`) as Jira does,
credentials checked when `auth` is set, and FakeServer's counters and fault injection.
"""

from __future__ import annotations

import base64
import functools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.server import FakeServer, Request, Response

CATEGORIES = {"new": (2, "To Do"), "indeterminate": (4, "In Progress"), "done": (3, "Done")}
POINTS_CLOUD = "customfield_10016"  # "Story point estimate"
FLAGGED_CLOUD = "customfield_10021"
POINTS_DC = "customfield_10106"  # "Story Points" on a Data Center site
FLAGGED_DC = "customfield_10000"
JQL_FIELDS = {
    "project",
    "key",
    "issuekey",
    "labels",
    "status",
    "statuscategory",
    "component",
    "parent",
    "issuetype",
    "type",
    "assignee",
    "created",
    "updated",
}


def jira_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


def status_history(
    history_id: str, at: datetime, before: str, after: str, *, by: str = "Dana"
) -> dict[str, Any]:
    """A changelog history: one status change, by a person."""
    return {
        "id": history_id,
        "author": {"displayName": by, "active": True},
        "created": jira_time(at),
        "items": [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": "1",
                "fromString": before,
                "to": "2",
                "toString": after,
            }
        ],
    }


@dataclass
class Auth:
    mode: str  # basic | bearer
    user: str = ""
    secret: str = ""

    def accepts(self, header: str) -> bool:
        if self.mode == "bearer":
            return header == f"Bearer {self.secret}"
        expected = base64.b64encode(f"{self.user}:{self.secret}".encode()).decode()
        return header == f"Basic {expected}"


class JqlError(ValueError):
    pass


class FakeJira(FakeServer):
    def __init__(
        self,
        mode: str = "cloud",
        *,
        user_tz: str = "UTC",
        auth: Auth | None = None,
        changelog_limit: int | None = None,
        max_page: int | None = None,
        window_limit: int = 10_000,
        latency: float = 0.0,
    ) -> None:
        super().__init__(latency=latency)
        assert mode in ("cloud", "dc")
        self.mode = mode
        self.cloud = mode == "cloud"
        self.user_tz = user_tz
        self.auth = auth
        self.clock_offset = timedelta(0)  # Jira's clock minus this machine's (see `now`)
        # Cloud cuts the changelog embedded in a search to the latest ones; DC returns it whole.
        self.changelog_limit = (
            changelog_limit if changelog_limit is not None else (40 if self.cloud else 10_000)
        )
        self.max_page = max_page or (100 if self.cloud else 1000)
        self.window_limit = window_limit
        self.points_field = POINTS_CLOUD if self.cloud else POINTS_DC
        self.flagged_field = FLAGGED_CLOUD if self.cloud else FLAGGED_DC
        self.issues: dict[str, dict[str, Any]] = {}
        self.workflow: dict[str, str] = {}  # status name -> category key, as GET /status lists
        self.histories: dict[str, list[dict[str, Any]]] = {}
        self.projects: set[str] = set()
        self.repeat_token = False  # answer every page with the same nextPageToken
        self.searches: list[str] = []  # every JQL searched, in order
        # approximate-count answers this much off the true count (its index lags behind edits)
        self.count_error = 0
        self._token_starts: dict[str, int] = {}
        self._data_lock = threading.Lock()
        self._next_id = 10000
        self._next_history = 50000
        self._started_url = "http://127.0.0.1:0"

    # --- the data --------------------------------------------------------------------------

    def add_issue(
        self,
        key: str,
        *,
        summary: str = "",
        status: str = "To Do",
        category: str = "new",
        labels: Sequence[str] = (),
        components: Sequence[str] = (),
        parent: str | None = None,
        points: float | None = None,
        flagged: bool = False,
        issuetype: str = "Story",
        assignee: str | None = None,
        resolution: str | None = None,
        created: datetime | None = None,
        updated: datetime | None = None,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        created = created or now - timedelta(days=30)
        project = key.rsplit("-", 1)[0]
        with self._data_lock:
            self._next_id += 1
            issue_id = str(self._next_id)
            self.projects.add(project)
        base = self._base()
        fields: dict[str, Any] = {
            "summary": summary or f"Issue {key}",
            "status": self._status(status, category),
            "assignee": {"displayName": assignee, "active": True} if assignee else None,
            "labels": list(labels),
            "components": [{"name": c, "id": str(100 + i)} for i, c in enumerate(components)],
            "priority": {"name": "Medium", "id": "3"},
            "created": jira_time(created),
            "updated": jira_time(updated or created),
            "resolution": {"name": resolution} if resolution else None,
            "resolutiondate": jira_time(updated or created) if category == "done" else None,
            "duedate": None,
            "issuetype": {
                "name": issuetype,
                "subtask": False,
                "hierarchyLevel": 1 if issuetype == "Epic" else 0,
            },
            "project": {"key": project, "name": project.title(), "id": str(20000 + len(project))},
            self.points_field: points,
            self.flagged_field: [{"value": "Impediment", "id": "10019"}] if flagged else None,
            "description": "A long description nobody asked for. " * 20,
        }
        if parent:
            fields["parent"] = {"id": "1", "key": parent, "fields": {"summary": parent}}
        issue = {
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": issue_id,
            "self": f"{base}/rest/api/{'3' if self.cloud else '2'}/issue/{issue_id}",
            "key": key,
            "fields": fields,
        }
        with self._data_lock:
            self.issues[key] = issue
            self.histories.setdefault(key, [])
        return issue

    def now(self) -> datetime:
        """Jira's clock: `clock_offset` ahead of this machine's (behind when negative). It
        stamps edits, answers serverTime and the Date header, and reads relative JQL dates."""
        return datetime.now(UTC) + self.clock_offset

    def wall_clock(self) -> float:
        return self.now().timestamp()

    def transition(
        self, key: str, status: str, category: str, *, at: datetime | None = None, by: str = "Dana"
    ) -> None:
        """Move an issue to another status, as a person would: a history, a new `updated`."""
        at = at or self.now()
        with self._data_lock:
            fields = self.issues[key]["fields"]
            before = fields["status"]["name"]
            fields["status"] = self._status(status, category)
            fields["updated"] = jira_time(at)
            fields["resolutiondate"] = jira_time(at) if category == "done" else None
            self._next_history += 1
            self.histories[key].append(
                status_history(str(self._next_history), at, before, status, by=by)
            )

    def edit(self, key: str, *, at: datetime | None = None, **fields: Any) -> None:
        with self._data_lock:
            target = self.issues[key]["fields"]
            target.update(fields)
            target["updated"] = jira_time(at or self.now())

    def delete(self, key: str) -> None:
        with self._data_lock:
            self.issues.pop(key, None)

    def _status(self, name: str, category: str) -> dict[str, Any]:
        cid, cname = CATEGORIES[category]
        self.workflow[name] = category  # every status ever used: GET /status lists them
        return {
            "self": f"{self._base()}/rest/api/2/status/1",
            "name": name,
            "id": str(abs(hash(name)) % 10000),
            "statusCategory": {"id": cid, "key": category, "colorName": "grey", "name": cname},
        }

    def start(self) -> FakeJira:
        super().start()
        self._started_url = self.url  # answers still in flight after stop() need it
        return self

    def __enter__(self) -> FakeJira:
        return self.start()

    def _base(self) -> str:
        return self._started_url

    # --- requests --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if self.auth is not None and not self.auth.accepts(
            request.headers.get("authorization", "")
        ):
            return _error(
                401,
                "You are not authenticated. Authentication required to perform this operation.",
            )
        match = re.fullmatch(r"/rest/api/(2|3)/(.+)", request.path)
        if not match:
            return Response(
                404, "<html><body>Not found</body></html>", {"Content-Type": "text/html"}
            )
        version, path = match.groups()
        routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "serverInfo"): self._server_info,
            ("GET", "field"): self._fields,
            ("GET", "myself"): self._myself,
            ("GET", "status"): self._statuses,
            ("GET", "search/jql"): self._search_jql,
            ("POST", "search/jql"): self._search_jql,
            ("GET", "search"): self._search,
            ("POST", "search"): self._search,
            ("POST", "changelog/bulkfetch"): self._bulkfetch,
            ("POST", "search/approximate-count"): self._approximate_count,
        }
        route = routes.get((request.method, path))
        if route is not None:
            if version == "3" and not self.cloud:
                return _error(404, "null for uri: /rest/api/3")
            return route(request)
        issue = re.fullmatch(r"issue/([^/]+)", path)
        if issue and request.method == "GET":
            return self._issue(issue.group(1), request)
        return _error(404, f"No route for {request.method} {path}")

    def _statuses(self, request: Request) -> Response:
        with self._data_lock:
            workflow = dict(self.workflow)
        return Response(200, [self._status(name, cat) for name, cat in sorted(workflow.items())])

    def _server_info(self, request: Request) -> Response:
        now = jira_time(self.now())
        if self.cloud:
            body = {
                "baseUrl": self._base(),
                "displayUrl": self._base(),
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100290,
                "buildDate": "2026-10-01T00:00:00.000+0000",
                "serverTime": now,
                "scmInfo": "0d4a5f2c5b1c",
                "serverTitle": "Jira",
                "defaultLocale": {"locale": "en_US"},
                "serverTimeZone": "Etc/UTC",
            }
        else:
            body = {
                "baseUrl": self._base(),
                "version": "9.12.15",
                "versionNumbers": [9, 12, 15],
                "deploymentType": "Server",
                "buildNumber": 9120015,
                "buildDate": "2026-09-01T00:00:00.000+0000",
                "databaseBuildNumber": 9120015,
                "serverTime": now,
                "scmInfo": "5a6b3e1a",
                "serverTitle": "Acme Jira",
            }
        return Response(200, body)

    def _fields(self, request: Request) -> Response:
        rows: list[dict[str, Any]] = [
            _field(f, f.title(), custom=False)
            for f in ("summary", "status", "labels", "components", "parent", "updated")
        ]
        if self.cloud:
            rows.append(
                _field(
                    POINTS_CLOUD,
                    "Story point estimate",
                    custom=True,
                    schema_custom="com.pyxis.greenhopper.jira:jsw-story-points",
                    schema_type="number",
                )
            )
            rows.append(
                _field(
                    "customfield_10026",
                    "Story Points",
                    custom=True,
                    schema_custom="com.atlassian.jira.plugin.system.customfieldtypes:float",
                    schema_type="number",
                )
            )
        else:
            rows.append(
                _field(
                    POINTS_DC,
                    "Story Points",
                    custom=True,
                    schema_custom="com.atlassian.jira.plugin.system.customfieldtypes:float",
                    schema_type="number",
                )
            )
        rows.append(
            _field(
                self.flagged_field,
                "Flagged",
                custom=True,
                schema_custom="com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes",
                schema_type="array",
            )
        )
        return Response(200, rows)

    def _myself(self, request: Request) -> Response:
        return Response(
            200,
            {
                "self": f"{self._base()}/rest/api/2/user?accountId=5b10ac8d82e05b22cc7d4ef5",
                "accountId": "5b10ac8d82e05b22cc7d4ef5",
                "displayName": "goalsync bot",
                "active": True,
                "timeZone": self.user_tz,
                "locale": "en_US",
            },
        )

    def _search_jql(self, request: Request) -> Response:
        if not self.cloud:
            return _error(404, "null for uri: /rest/api/2/search/jql")
        args = _args(request)
        try:
            found = self._run_jql(str(args.get("jql") or ""))
        except JqlError as exc:
            return _error(400, f"Error in the JQL Query: {exc}")
        fields = _list_arg(args.get("fields")) or ["id"]
        keys_only = set(fields) <= {"id", "key"}
        size = min(int(args.get("maxResults") or 50), 5000 if keys_only else self.max_page)
        token = args.get("nextPageToken")
        start = self._token_starts.get(str(token), 0) if token else 0
        page = found[start : start + size]
        body: dict[str, Any] = {
            "issues": [self._render(i, fields, str(args.get("expand") or "")) for i in page],
        }
        if start + size < len(found):
            following = "CAEaAggD" if self.repeat_token else f"tok-{start + size}"
            self._token_starts.setdefault(following, start + size)
            body["nextPageToken"] = following
            body["isLast"] = False
        else:
            body["isLast"] = True
        return Response(200, body)

    def _approximate_count(self, request: Request) -> Response:
        """`POST /rest/api/3/search/approximate-count`: `{"jql"}` -> `{"count"}` (Cloud only;
        the JQL must be bounded)."""
        if not self.cloud:
            return _error(404, "null for uri: /rest/api/2/search/approximate-count")
        body = request.json() if request.body else {}
        jql = body.get("jql") if isinstance(body, Mapping) else None
        try:
            predicate, _ = parse_jql(
                str(jql or ""), ZoneInfo(self.user_tz), self.projects, now=self.now()
            )
        except JqlError as exc:
            return _error(400, f"Error in the JQL Query: {exc}")
        with self._data_lock:
            count = sum(1 for i in self.issues.values() if predicate(i))
        return Response(200, {"count": max(0, count + self.count_error)})

    def _search(self, request: Request) -> Response:
        if self.cloud:
            return _error(
                410,
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                "API. A full migration guideline is available at "
                "https://developer.atlassian.com/changelog/#CHANGE-2046",
            )
        args = _args(request)
        try:
            found = self._run_jql(str(args.get("jql") or ""))
        except JqlError as exc:
            return _error(400, f"Error in the JQL Query: {exc}")
        start = int(args.get("startAt") or 0)
        size = min(int(args.get("maxResults") or 50), self.max_page)
        if start + min(size, max(len(found) - start, 0)) > self.window_limit:
            return _error(400, f"startAt + maxResults must not pass {self.window_limit}")
        fields = _list_arg(args.get("fields")) or ["*navigable"]
        page = found[start : start + size]
        return Response(
            200,
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": len(found),
                "issues": [self._render(i, fields, str(args.get("expand") or "")) for i in page],
            },
        )

    def _bulkfetch(self, request: Request) -> Response:
        if not self.cloud:
            return _error(404, "null for uri: /rest/api/2/changelog/bulkfetch")
        body = request.json() or {}
        wanted = [str(v) for v in body.get("issueIdsOrKeys") or []]
        if not wanted or len(wanted) > 1000:
            return _error(400, "issueIdsOrKeys must hold 1 to 1000 issue ids or keys")
        field_ids = set(body.get("fieldIds") or [])
        size = int(body.get("maxResults") or 1000)
        by_id = {i["id"]: i for i in self.issues.values()}
        rows: list[tuple[str, dict[str, Any]]] = []
        for ref in wanted:
            issue = by_id.get(ref) or self.issues.get(ref)
            if issue is None:
                continue
            for history in self.histories.get(issue["key"], []):
                items = [
                    it for it in history["items"] if not field_ids or it["fieldId"] in field_ids
                ]
                if items:
                    rows.append((issue["id"], {**history, "items": items}))
        token = body.get("nextPageToken")
        start = int(str(token).rsplit("-", 1)[-1]) if token else 0
        page = rows[start : start + size]
        logs: dict[str, list[dict[str, Any]]] = {}
        for issue_id, history in page:
            logs.setdefault(issue_id, []).append(history)
        out: dict[str, Any] = {
            "issueChangeLogs": [{"issueId": iid, "changeHistories": hs} for iid, hs in logs.items()]
        }
        if start + size < len(rows):
            out["nextPageToken"] = f"bulk-{start + size}"
        return Response(200, out)

    def _issue(self, ref: str, request: Request) -> Response:
        issue = self.issues.get(ref) or next(
            (i for i in self.issues.values() if i["id"] == ref), None
        )
        if issue is None:
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        args = _args(request)
        fields = _list_arg(args.get("fields")) or ["*all"]
        rendered = self._render(issue, fields, "")
        if "changelog" in str(args.get("expand") or ""):
            histories = list(reversed(self.histories.get(issue["key"], [])))
            rendered["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }
        return Response(200, rendered)

    def _render(
        self, issue: Mapping[str, Any], fields: Sequence[str], expand: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {k: issue[k] for k in ("expand", "id", "self", "key")}
        all_fields = "*all" in fields or "*navigable" in fields
        out["fields"] = {k: v for k, v in issue["fields"].items() if all_fields or k in fields}
        if "changelog" in expand:
            # newest first, as Jira lists an embedded changelog
            histories = list(reversed(self.histories.get(issue["key"], [])))
            shown = histories[: self.changelog_limit]
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(shown),
                "total": len(histories),
                "histories": shown,
            }
        return out

    # --- JQL -------------------------------------------------------------------------------

    def _run_jql(self, jql: str) -> list[dict[str, Any]]:
        self.searches.append(jql)
        predicate, order = parse_jql(jql, ZoneInfo(self.user_tz), self.projects, now=self.now())
        with self._data_lock:
            found = [i for i in self.issues.values() if predicate(i)]
        for field, descending in reversed(order):  # stable sorts, last key first
            found.sort(key=functools.partial(_sort_key, field=field), reverse=descending)
        return found


# --- a small JQL evaluator ---------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>>=|<=|!=|=|>|<|~)'
    r"|(?P<punct>[(),])|(?P<word>[^\s(),=<>!~\"']+))"
)
Predicate = Callable[[Mapping[str, Any]], bool]


def parse_jql(
    jql: str, zone: ZoneInfo, projects: set[str], *, now: datetime | None = None
) -> tuple[Predicate, list[tuple[str, bool]]]:
    tokens = _tokens(jql)
    order: list[tuple[str, bool]] = []
    lowered = [t.lower() for t in tokens]
    for i in range(len(tokens) - 1):
        if lowered[i] == "order" and lowered[i + 1] == "by":
            order = _order(tokens[i + 2 :])
            tokens = tokens[:i]
            break
    if not tokens:
        raise JqlError("the query is unbounded: give a search restriction")
    parser = _Parser(tokens, zone, projects, now or datetime.now(UTC))
    predicate = parser.or_expr()
    if parser.pos != len(tokens):
        raise JqlError(f"Expecting either 'OR' or 'AND' but got '{tokens[parser.pos]}'.")
    return predicate, order


def _tokens(jql: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(jql):
        if jql[pos:].strip() == "":
            break
        m = _TOKEN.match(jql, pos)
        if not m or m.end() == pos:
            raise JqlError(f"unexpected character at {pos}")
        out.append(m.group(m.lastgroup or "word"))
        pos = m.end()
    return out


def _order(tokens: Sequence[str]) -> list[tuple[str, bool]]:
    order: list[tuple[str, bool]] = []
    i = 0
    while i < len(tokens):
        field = tokens[i].lower()
        descending = i + 1 < len(tokens) and tokens[i + 1].lower() == "desc"
        if i + 1 < len(tokens) and tokens[i + 1].lower() in ("asc", "desc"):
            i += 1
        order.append((field, descending))
        i += 1
        if i < len(tokens) and tokens[i] == ",":
            i += 1
    return order


class _Parser:
    def __init__(
        self, tokens: list[str], zone: ZoneInfo, projects: set[str], now: datetime
    ) -> None:
        self.tokens = tokens
        self.pos = 0
        self.zone = zone
        self.projects = projects
        self.now = now  # Jira's clock, which relative dates ("-125m") count back from

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise JqlError("the query ends too early")
        self.pos += 1
        return token

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while (self.peek() or "").lower() == "or":
            self.take()
            parts.append(self.and_expr())
        return lambda i: any(p(i) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while (self.peek() or "").lower() == "and":
            self.take()
            parts.append(self.not_expr())
        return lambda i: all(p(i) for p in parts)

    def not_expr(self) -> Predicate:
        if (self.peek() or "").lower() == "not":
            self.take()
            inner = self.not_expr()
            return lambda i: not inner(i)
        if self.peek() == "(":
            self.take()
            inner = self.or_expr()
            if self.take() != ")":
                raise JqlError("expecting ')'")
            return inner
        return self.clause()

    def clause(self) -> Predicate:
        field = self.take().lower()
        if field not in JQL_FIELDS:
            raise JqlError(
                f"Field '{field}' does not exist or you do not have permission to view it."
            )
        op = self.take().lower()
        if op == "not" and (self.peek() or "").lower() == "in":
            self.take()
            op = "not in"
        if op not in ("=", "!=", ">", ">=", "<", "<=", "in", "not in"):
            raise JqlError(
                f"Expecting operator but got '{op}'. The valid operators are '=', '!=', '<', '>', "
                "'<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
            )
        values = self.values() if op in ("in", "not in") else [_unquote(self.take())]
        if field == "project":
            for v in values:
                if v.upper() not in self.projects:
                    raise JqlError(f"The value '{v}' does not exist for the field 'project'.")
        if field in ("created", "updated"):
            bound = self.instant(values[0])
            return lambda i: _compare(_issue_time(i, field), op, bound)
        wanted = {v.casefold() for v in values}

        def test(issue: Mapping[str, Any]) -> bool:
            have = {h.casefold() for h in _issue_values(issue, field)}
            hit = bool(have & wanted)
            return hit if op in ("=", "in") else not hit

        return test

    def values(self) -> list[str]:
        if self.take() != "(":
            raise JqlError("expecting '(' after IN")
        out: list[str] = []
        while True:
            out.append(_unquote(self.take()))
            token = self.take()
            if token == ")":
                return out
            if token != ",":
                raise JqlError("expecting ',' or ')'")

    def instant(self, text: str) -> datetime:
        relative = re.fullmatch(r"([+-])(\d+)([mhdw])", text.strip())
        if relative:  # "-125m": relative to now, the same in every zone
            sign = -1 if relative.group(1) == "-" else 1
            unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[relative.group(3)]
            return self.now + sign * timedelta(**{unit: int(relative.group(2))})
        for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=self.zone)
            except ValueError:
                continue
        raise JqlError(f"Date value '{text}' for field 'updated' is invalid.")


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


def _compare(have: datetime, op: str, bound: datetime) -> bool:
    return {
        "=": have == bound,
        "!=": have != bound,
        ">": have > bound,
        ">=": have >= bound,
        "<": have < bound,
        "<=": have <= bound,
    }[op]


def _issue_time(issue: Mapping[str, Any], field: str) -> datetime:
    text = issue["fields"][field]
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def _issue_values(issue: Mapping[str, Any], field: str) -> list[str]:
    f = issue["fields"]
    if field == "project":
        return [f["project"]["key"]]
    if field in ("key", "issuekey"):
        return [issue["key"]]
    if field == "labels":
        return list(f["labels"])
    if field == "status":
        return [f["status"]["name"]]
    if field == "statuscategory":
        return [f["status"]["statusCategory"]["key"], f["status"]["statusCategory"]["name"]]
    if field == "component":
        return [c["name"] for c in f["components"]]
    if field == "parent":
        return [f["parent"]["key"]] if f.get("parent") else []
    if field in ("issuetype", "type"):
        return [f["issuetype"]["name"]]
    if field == "assignee":
        return [f["assignee"]["displayName"]] if f.get("assignee") else []
    return []


def _sort_key(issue: Mapping[str, Any], field: str) -> Any:
    if field in ("key", "issuekey"):
        project, _, number = issue["key"].rpartition("-")
        return (project, int(number))
    if field in ("created", "updated"):
        return _issue_time(issue, field)
    return str(_issue_values(issue, field))


def _args(request: Request) -> dict[str, Any]:
    if request.method == "POST":
        body = request.json() or {}
        return dict(body)
    out: dict[str, Any] = {k: v[0] for k, v in request.query.items() if v}
    if "fields" in request.query:
        out["fields"] = request.query["fields"]
    return out


def _list_arg(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [part.strip() for v in values for part in str(v).split(",") if part.strip()]


def _field(
    fid: str,
    name: str,
    *,
    custom: bool,
    schema_custom: str | None = None,
    schema_type: str = "string",
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": schema_type}
    if custom:
        schema |= {"custom": schema_custom, "customId": int(fid.rsplit("_", 1)[-1])}
    else:
        schema["system"] = fid
    clause = [f"cf[{fid.rsplit('_', 1)[-1]}]", name] if custom else [fid]
    return {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": custom,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": clause,
        "schema": schema,
    }


def _error(status: int, message: str) -> Response:
    return Response(status, {"errorMessages": [message], "errors": {}})
