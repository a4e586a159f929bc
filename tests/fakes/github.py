"""A fake GitHub REST API on loopback (or behind `responses`), in the real shapes.

Payloads are built from recorded ones (tests/fixtures/github: octokit/fixtures' issues and
repository, the OpenAPI description's issue events and milestones) with only the varying fields
changed. It serves, at the root and under `/api/v3` (GitHub Enterprise):
- `GET /repos/{o}/{r}/issues` with state, sort, direction, since, per_page (max 100), page; Link
  headers whose next pages use `/repositories/{id}/...` as GitHub's do; 404 for a missing
  repository, 410 when its issues are turned off;
- `GET /repos/{o}/{r}/milestones`, `GET /repos/{o}/{r}/issues/events` (newest first),
  `GET /repos/{o}/{r}/issues/{n}/events` (one issue's, oldest first, without the embedded issue),
  `GET /orgs/{org}/repos`; `GET /rate_limit` (free, as GitHub's) and `GET /repos/{o}/{r}` (with
  `permissions` when a token is set), which `goalsync doctor` asks;
- GitHub's paging limit on the events stream, when `events_page_limit` is set: a page past it is
  answered 422 with GitHub's message, `rel="last"` names the last page allowed, and that page
  carries a `rel="next"` (into the 422) only when `next_on_last_allowed`;
- weak ETags over each answer, and 304 for a matching `If-None-Match` (free, like GitHub's);
- rate-limit headers (`x-ratelimit-*`) counting down; at 0 a 403 until the reset;
- a token check when `token` is set (401 "Bad credentials" otherwise).
Request counters, fault injection and latency come from FakeServer.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import responses
from pydantic import SecretStr

from connectors.github.source import MAX_PARALLEL_REPOS, GitHubSource, GitHubSourceConfig
from sync.base.contracts import PullContext, PullResult
from sync.base.records import WorkItem
from tests.fakes.server import FakeServer, Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"
API = "https://api.github.com"
WEB = "https://github.com"
TOKEN = "ghp_fake0token0for0tests0only0123456"
RUN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # every pull's run start in the unit tests


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


_ISSUE = _load("paginate-issues.json")[0]["response"][0]
_EVENT = _load("issue-events.json")[0]
_MILESTONE = _load("milestones.json")[0]
_REPO = _load("get-repository.json")[0]["response"]
ERRORS: dict[str, dict[str, Any]] = _load("error-responses.json")
# GitHub's answer past the events stream's paging limit, as clients met it (octokit/octokit.net
# issue 1417 quotes the message, MeltanoLabs/tap-github pull request 26 the whole body).
PAGING_LIMITED: dict[str, Any] = {
    "message": "In order to keep the API fast for everyone, pagination is limited for this "
    "resource. Check the rel=last link relation in the Link response header to see how far "
    "back you can traverse.",
    "documentation_url": "https://docs.github.com/v3/#pagination",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_payload(login: str) -> dict[str, Any]:
    user: dict[str, Any] = copy.deepcopy(_ISSUE["user"])
    user["login"] = login
    user["url"] = f"{API}/users/{login}"
    user["html_url"] = f"{WEB}/{login}"
    return user


def label_payload(repo: str, name: str) -> dict[str, Any]:
    digest = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return {
        "id": digest,
        "node_id": f"LA_{digest}",
        "url": f"{API}/repos/{repo}/labels/{name}",
        "name": name,
        "color": "ededed",
        "default": False,
        "description": None,
    }


def milestone_payload(
    repo: str,
    number: int,
    title: str,
    *,
    due_on: datetime | None = None,
    open_issues: int = 0,
    closed_issues: int = 0,
    state: str = "open",
) -> dict[str, Any]:
    m: dict[str, Any] = copy.deepcopy(_MILESTONE)
    m.update(
        url=f"{API}/repos/{repo}/milestones/{number}",
        html_url=f"{WEB}/{repo}/milestone/{number}",
        labels_url=f"{API}/repos/{repo}/milestones/{number}/labels",
        id=9000 + number,
        number=number,
        title=title,
        state=state,
        open_issues=open_issues,
        closed_issues=closed_issues,
        due_on=iso(due_on) if due_on else None,
        closed_at=None,
    )
    return m


def issue_payload(
    repo: str,
    number: int,
    *,
    updated: datetime,
    created: datetime | None = None,
    title: str | None = None,
    state: str = "open",
    state_reason: str | None = None,
    labels: Sequence[str] = (),
    assignee: str | None = None,
    milestone: Mapping[str, Any] | None = None,
    closed: datetime | None = None,
    pull: str | None = None,  # None (an issue), "open", "merged" or "closed" (unmerged)
) -> dict[str, Any]:
    i: dict[str, Any] = copy.deepcopy(_ISSUE)
    base = f"{API}/repos/{repo}/issues/{number}"
    kind = "pull" if pull else "issues"
    i.update(
        url=base,
        repository_url=f"{API}/repos/{repo}",
        labels_url=f"{base}/labels{{/name}}",
        comments_url=f"{base}/comments",
        events_url=f"{base}/events",
        timeline_url=f"{base}/timeline",
        html_url=f"{WEB}/{repo}/{kind}/{number}",
        id=100_000 + number,
        number=number,
        title=title or f"{'PR' if pull else 'Issue'} {number} of {repo}",
        state=state,
        state_reason=state_reason,
        labels=[label_payload(repo, name) for name in labels],
        assignee=user_payload(assignee) if assignee else None,
        assignees=[user_payload(assignee)] if assignee else [],
        milestone=copy.deepcopy(dict(milestone)) if milestone else None,
        created_at=iso(created or updated),
        updated_at=iso(updated),
        closed_at=iso(closed) if closed else None,
    )
    if pull:
        i["pull_request"] = {
            "url": f"{API}/repos/{repo}/pulls/{number}",
            "html_url": f"{WEB}/{repo}/pull/{number}",
            "diff_url": f"{WEB}/{repo}/pull/{number}.diff",
            "patch_url": f"{WEB}/{repo}/pull/{number}.patch",
            "merged_at": iso(closed) if pull == "merged" and closed else None,
        }
    return i


def event_payload(
    event_id: int,
    event: str,
    issue: Mapping[str, Any],
    *,
    at: datetime,
    actor: str = "octocat",
    label: str | None = None,
    assignee: str | None = None,
) -> dict[str, Any]:
    e: dict[str, Any] = copy.deepcopy(_EVENT)
    repo = str(issue["repository_url"]).split("/repos/", 1)[1]
    e.update(
        id=event_id,
        node_id=f"IE_{event_id}",
        url=f"{API}/repos/{repo}/issues/events/{event_id}",
        actor=user_payload(actor),
        event=event,
        commit_id=None,
        commit_url=None,
        created_at=iso(at),
        issue=copy.deepcopy(dict(issue)),
    )
    e.pop("label", None)
    e.pop("assignee", None)
    e.pop("assigner", None)
    if label is not None:
        e["label"] = {"name": label, "color": "ededed"}
    if assignee is not None:
        e["assignee"] = user_payload(assignee)
        e["assigner"] = user_payload(actor)
    return e


def repo_payload(
    full_name: str, repo_id: int, *, topics: Sequence[str] = (), has_issues: bool = True
) -> dict[str, Any]:
    r: dict[str, Any] = copy.deepcopy(_REPO)
    owner, name = full_name.split("/", 1)
    r.update(
        id=repo_id,
        name=name,
        full_name=full_name,
        url=f"{API}/repos/{full_name}",
        html_url=f"{WEB}/{full_name}",
        topics=list(topics),
        has_issues=has_issues,
    )
    r["owner"] = user_payload(owner)
    return r


@dataclass
class FakeRepo:
    full_name: str
    id: int
    topics: tuple[str, ...] = ()
    has_issues: bool = True
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def add_issue(self, number: int, **kwargs: Any) -> dict[str, Any]:
        payload = issue_payload(self.full_name, number, **kwargs)
        self.issues[number] = payload
        return payload

    def add_event(self, event: str, number: int, *, at: datetime, **kwargs: Any) -> dict[str, Any]:
        payload = event_payload(
            len(self.events) + 1 + self.id * 1000, event, self.issues[number], at=at, **kwargs
        )
        self.events.append(payload)
        return payload

    def update(self, number: int, *, at: datetime, **changes: Any) -> dict[str, Any]:
        """Change an issue as GitHub would: its updated_at moves to `at`."""
        issue = self.issues[number]
        issue.update(changes)
        issue["updated_at"] = iso(at)
        return issue


class FakeGitHub(FakeServer):
    def __init__(
        self,
        *,
        token: str | None = None,
        latency: float = 0.0,
        public_url: str | None = None,
        rate_limit: int = 5000,
        events_page_limit: int | None = None,
        next_on_last_allowed: bool = True,
    ) -> None:
        super().__init__(latency=latency)
        self.events_page_limit = events_page_limit  # pages of the events stream GitHub serves
        self.next_on_last_allowed = next_on_last_allowed
        self.token = token
        self.public_url = public_url  # the origin that Link headers name (responses: API)
        self.repos: dict[str, FakeRepo] = {}
        self.orgs: dict[str, list[str]] = {}
        self.rate_limit = rate_limit
        self.rate_remaining = rate_limit
        self.rate_reset = int(time.time()) + 3600
        self.not_modified = 0  # 304 answers given
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests being answered at once

    # --- data ------------------------------------------------------------------------------

    def add_repo(
        self, full_name: str, *, topics: Iterable[str] = (), has_issues: bool = True
    ) -> FakeRepo:
        repo = FakeRepo(
            full_name, id=1000 + len(self.repos), topics=tuple(topics), has_issues=has_issues
        )
        self.repos[full_name.lower()] = repo
        self.orgs.setdefault(full_name.split("/")[0].lower(), []).append(full_name)
        return repo

    # --- transport-independent answer -------------------------------------------------------

    def reset_counts(self) -> None:
        super().reset_counts()
        with self._lock:
            self.not_modified = 0
            self.max_in_flight = 0

    def answer(self, request: Request) -> Response | None:
        """Count, apply faults and answer: the loopback server and `responses` both call this."""
        return self._dispatch(request)

    def _dispatch(self, request: Request) -> Response | None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return super()._dispatch(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    def handle(self, request: Request) -> Response:
        prefix = "/api/v3" if request.path.startswith("/api/v3/") else ""
        path = request.path[len(prefix) :]
        if self.token is not None:
            sent = request.headers.get("authorization", "")
            if sent not in (f"token {self.token}", f"Bearer {self.token}"):
                return Response(401, ERRORS["401"], self._rate_headers(count=False))
        if request.method != "GET":
            return Response(404, ERRORS["404"])
        if path == "/rate_limit":  # free, even when the limit is exhausted (as GitHub's)
            return Response(200, self._rate_limit_body(), self._rate_headers(count=False))
        if self.rate_remaining <= 0 and time.time() < self.rate_reset:
            return Response(403, ERRORS["403_primary"], self._rate_headers(count=False))
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)", path)
        if m:  # GET a repository
            found = self.repos.get(m.group(1).lower())
            if found is None:
                return Response(404, ERRORS["404"], self._rate_headers())
            payload = repo_payload(
                found.full_name, found.id, topics=found.topics, has_issues=found.has_issues
            )
            if self.token is not None:
                payload["permissions"] = {"admin": False, "push": False, "pull": True}
            return Response(200, payload, self._rate_headers())
        routed = self._route(path)
        if routed is None:
            return Response(404, ERRORS["404"], self._rate_headers())
        kind, repo, rows_or_status = routed
        if isinstance(rows_or_status, int):
            return Response(rows_or_status, ERRORS[str(rows_or_status)], self._rate_headers())
        rows = self._select(kind, rows_or_status, request)
        per_page = min(100, int(request.arg("per_page", "30") or 30))
        page = max(1, int(request.arg("page", "1") or 1))
        limit = self.events_page_limit if kind == "issues/events" else None
        if limit is not None and page > limit:
            return Response(422, PAGING_LIMITED, self._rate_headers())
        chunk = rows[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {"Content-Type": "application/json; charset=utf-8"}
        link = self._link(prefix, kind, repo, request, page, per_page, len(rows), limit)
        if link:
            headers["Link"] = link
        body = json.dumps(chunk).encode("utf-8")
        etag = 'W/"' + hashlib.sha256(body + link.encode()).hexdigest()[:32] + '"'
        headers["ETag"] = etag
        if request.headers.get("if-none-match") == etag:
            with self._lock:
                self.not_modified += 1
            headers.pop("Content-Type")
            return Response(304, b"", headers | self._rate_headers(count=False))
        return Response(200, body, headers | self._rate_headers())

    # --- internals --------------------------------------------------------------------------

    def _route(self, path: str) -> tuple[str, FakeRepo | None, list[dict[str, Any]] | int] | None:
        m = re.fullmatch(r"/orgs/([^/]+)/repos", path)
        if m:
            names = self.orgs.get(m.group(1).lower())
            if names is None:
                return "orgs", None, 404
            repos = [self.repos[n.lower()] for n in names]
            payloads = [
                repo_payload(r.full_name, r.id, topics=r.topics, has_issues=r.has_issues)
                for r in repos
            ]
            return "orgs", None, payloads
        m = re.fullmatch(
            r"/(?:repos/([^/]+/[^/]+)|repositories/(\d+))"
            r"/(issues|milestones|issues/events|issues/(\d+)/events)",
            path,
        )
        if not m:
            return None
        repo = self._repo(m.group(1), m.group(2))
        kind = m.group(3)
        if repo is None:
            return kind, None, 404
        if m.group(4) is not None:  # one issue's events: oldest first, the issue not embedded
            number = int(m.group(4))
            if number not in repo.issues:
                return kind, repo, 404
            own = [e for e in repo.events if e["issue"]["number"] == number]
            ordered = sorted(own, key=lambda e: (e["created_at"], e["id"]))
            return kind, repo, [{k: v for k, v in e.items() if k != "issue"} for e in ordered]
        if kind == "issues":
            return kind, repo, 410 if not repo.has_issues else list(repo.issues.values())
        if kind == "milestones":
            return kind, repo, list(repo.milestones)
        return kind, repo, list(repo.events)

    def _repo(self, name: str | None, repo_id: str | None) -> FakeRepo | None:
        if name is not None:
            return self.repos.get(name.lower())
        return next((r for r in self.repos.values() if str(r.id) == repo_id), None)

    def _select(
        self, kind: str, rows: list[dict[str, Any]], request: Request
    ) -> list[dict[str, Any]]:
        if kind == "issues":
            state = request.arg("state", "open")
            if state != "all":
                rows = [r for r in rows if r["state"] == state]
            since = request.arg("since")
            if since:
                rows = [r for r in rows if r["updated_at"] >= since]
            milestone = request.arg("milestone")
            if milestone == "*":  # any milestone; "none" and a number as GitHub reads them
                rows = [r for r in rows if r.get("milestone")]
            elif milestone == "none":
                rows = [r for r in rows if not r.get("milestone")]
            elif milestone:
                rows = [
                    r for r in rows if str((r.get("milestone") or {}).get("number")) == milestone
                ]
            sort = {"created": "created_at", "updated": "updated_at"}.get(
                request.arg("sort", "created") or "created", "created_at"
            )
            desc = request.arg("direction", "desc") == "desc"
            return sorted(rows, key=lambda r: (r[sort], r["number"]), reverse=desc)
        if kind == "milestones":
            state = request.arg("state", "open")
            return [m for m in rows if state == "all" or m["state"] == state]
        if kind == "issues/events":  # newest first, as GitHub serves the stream
            return sorted(rows, key=lambda e: (e["created_at"], e["id"]), reverse=True)
        return rows

    def _link(
        self,
        prefix: str,
        kind: str,
        repo: FakeRepo | None,
        request: Request,
        page: int,
        per_page: int,
        total: int,
        limit: int | None = None,
    ) -> str:
        end = max(1, -(-total // per_page))  # the real last page
        last = min(end, limit) if limit is not None else end  # the last page served
        if end == 1:
            return ""
        origin = self.public_url or self.url
        path = f"{prefix}/repositories/{repo.id}/{kind}" if repo else f"{prefix}{request.path}"
        query = {k: v[0] for k, v in request.query.items()}

        def url(n: int) -> str:
            return f"<{origin}{path}?{urlencode(query | {'page': str(n)})}>"

        parts = []
        if page > 1:
            parts += [f'{url(page - 1)}; rel="prev"']
        # The last page allowed links a next one (into the 422) only if so told.
        if page < last or (page < end and self.next_on_last_allowed):
            parts += [f'{url(page + 1)}; rel="next"', f'{url(last)}; rel="last"']
        if page > 1:
            parts += [f'{url(1)}; rel="first"']
        return ", ".join(parts)

    def _rate_limit_body(self) -> dict[str, Any]:
        core = {
            "limit": self.rate_limit,
            "remaining": self.rate_remaining,
            "reset": self.rate_reset,
            "used": self.rate_limit - self.rate_remaining,
            "resource": "core",
        }
        return {"resources": {"core": core}, "rate": core}

    def _rate_headers(self, *, count: bool = True) -> dict[str, str]:
        with self._lock:
            if count and self.rate_remaining > 0:
                self.rate_remaining -= 1
            remaining = self.rate_remaining
        return {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(self.rate_limit - remaining),
            "x-ratelimit-reset": str(self.rate_reset),
            "x-ratelimit-resource": "core",
        }


@contextlib.contextmanager
def answering(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    """`fake` answering every GET to api.github.com made through `requests` (PyGithub's), with
    no socket, for the length of the block."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(
            responses.GET, re.compile(r"https://api\.github\.com:443/.*"), responses_callback(fake)
        )
        yield fake


def responses_callback(fake: FakeGitHub) -> Any:
    """A `responses` callback answering from `fake` (no socket): `rsps.add_callback("GET",
    re.compile(r"https://api\\.github\\.com/.*"), callback=responses_callback(fake))`."""

    def callback(prepared: Any) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(prepared.url)
        request = Request(
            method=prepared.method,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in prepared.headers.items()},
            body=b"",
        )
        response = fake.answer(request)
        if response is None:
            # what requests raises for a connection closed without an answer
            raise requests.exceptions.ConnectionError("dropped by the fake")
        return response.status, dict(response.headers), response.encoded()

    return callback


class Puller:
    """A GitHub source pulled the way the engine does: each pull gets the cursor and state the
    last successful one returned. Waits are recorded, not slept; the wall clock stands at RUN."""

    def __init__(
        self,
        base_url: str = API,
        *,
        token: str | None = TOKEN,
        timeout_s: int = 5,
        max_parallel: int = MAX_PARALLEL_REPOS,
        **config: Any,
    ) -> None:
        config.setdefault("repos", ["acme/web"] if "org" not in config else [])
        self.sleeps: list[float] = []
        self.source = GitHubSource(
            "gh",
            GitHubSourceConfig.model_validate({"type": "github", "base_url": base_url} | config),
            SecretStr(token) if token else None,
            timeout_s=timeout_s,
            max_parallel=max_parallel,
            sleep=self.sleeps.append,
            wall_clock=RUN.timestamp,
        )
        self.last: PullResult | None = None
        self.last_full: datetime | None = None

    def pull(
        self,
        *,
        full: bool = False,
        run_started: datetime = RUN,
        budget_s: float = 300.0,
        needs_start: Callable[[WorkItem], bool] | None = None,
        history_from: datetime | None = None,
    ) -> PullResult:
        last = self.last
        ctx = PullContext(
            needs_start=needs_start,
            history_from=history_from,
            source="gh",
            run_started=run_started,
            tz=UTC,
            cursor=last.cursor if last else None,
            state=last.state if last else {},
            full=full,
            last_full=self.last_full,
            budget_s=budget_s,
        )
        result = self.source.fetch(ctx)
        self.last = result
        if result.complete:
            self.last_full = run_started
        return result
