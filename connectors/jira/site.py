"""What goalsync knows about a Jira site between runs, and how a complete pull learns it.

A complete pull asks serverInfo (Cloud or Server / Data Center, and the server's time zone, in
which Data Center's `updated` windows are cut) and `/field` (which custom fields hold story
points, the Flagged mark and, on Data Center, the Epic Link). The answers are kept in the
source's state (`PullResult.state`, handed back as `PullContext.state`), with the status names
seen so far and their categories (changelogs name statuses only), so that an incremental pull
asks nothing but its searches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from connectors.jira.client import JiraHttp
from connectors.jira.parse import CATEGORY_STATES, FieldIds, find_field_ids
from sync.base.contracts import PullContext
from sync.base.errors import FatalError
from sync.base.records import State
from sync.base.window import Window, choose

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Site:
    """What a complete pull learnt about the site, kept in the source's state between runs."""

    deployment: str  # serverInfo's deploymentType: Cloud, Server or DataCenter
    zone: str  # the server's zone, Data Center's window cuts: an IANA name or an offset +0100
    field_ids: FieldIds
    scope: str  # fingerprint of jql + points_field: a change forces a complete pull
    categories: Mapping[str, State] = field(default_factory=dict)

    def to_state(self) -> dict[str, str]:
        return {
            "deployment": self.deployment,
            "zone": self.zone,
            "points_fields": ",".join(self.field_ids.points),
            "flagged_field": self.field_ids.flagged or "",
            "epic_link_field": self.field_ids.epic_link or "",
            "scope": self.scope,
            "status_categories": json.dumps(dict(sorted(self.categories.items()))),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, str]) -> Site | None:
        if not state.get("deployment") or not state.get("zone") or not state.get("scope"):
            return None
        try:
            raw = json.loads(state.get("status_categories") or "{}")
        except json.JSONDecodeError:
            raw = {}
        valid = set(CATEGORY_STATES.values())
        categories = {str(k): v for k, v in raw.items() if v in valid}
        points = tuple(p for p in state.get("points_fields", "").split(",") if p)
        return cls(
            deployment=state["deployment"],
            zone=state["zone"],
            field_ids=FieldIds(
                points=points,
                flagged=state.get("flagged_field") or None,
                epic_link=state.get("epic_link_field") or None,
            ),
            scope=state["scope"],
            categories=categories,
        )


def fetch_site(http: JiraHttp, *, points_field: str, scope: str, kept: Site | None) -> Site:
    """serverInfo and /field: the site's flavour and zone, and its custom fields. Asked on
    complete pulls only."""
    info = _object(http.get("serverInfo", what="serverInfo"), "serverInfo")
    deployment = str(info.get("deploymentType") or "Server")
    http.use_deployment(deployment)
    rows = http.get("field", what="the field list")
    if not isinstance(rows, list):
        raise FatalError(f"source {http.source!r}: Jira's /field answer is not a list")
    known = [r for r in rows if isinstance(r, Mapping) and r.get("id")]
    names = {str(r["id"]): str(r.get("name") or "") for r in known}
    schema = {str(r["id"]): r["schema"] for r in known if isinstance(r.get("schema"), Mapping)}
    field_ids = find_field_ids(names, schema, points_field)
    zone = _server_zone(info)  # windows need one zone, used the same for every cut
    log.info(
        "jira_site",
        source=http.source,
        deployment=deployment,
        zone=zone,
        points_fields=list(field_ids.points),
        flagged_field=field_ids.flagged,
        epic_link_field=field_ids.epic_link,
    )
    categories = kept.categories if kept is not None else {}
    return Site(deployment, zone, field_ids, scope, categories)


def fetch_status_categories(http: JiraHttp) -> dict[str, State]:
    """Every status of the site with its category, from GET /status (one request)."""
    rows = http.get("status", what="the status list")
    if not isinstance(rows, list):
        raise FatalError(f"source {http.source!r}: Jira's /status answer is not a list")
    out: dict[str, State] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        name = row.get("name")
        key = (row.get("statusCategory") or {}).get("key")
        if isinstance(name, str) and key in CATEGORY_STATES:
            out[name.casefold()] = CATEGORY_STATES[key]
    return out


def pull_window(
    ctx: PullContext,
    kept: Site | None,
    scope: str,
    reconcile_hours: float,
    lookback: timedelta = timedelta(0),
) -> Window:
    """Complete (and why) or incremental (and from when): the shared rule, plus Jira's own
    reasons its kept site details cannot serve an incremental pull."""
    cursor = parse_cursor(ctx.cursor) if ctx.cursor is not None else None
    stale = None
    if kept is None:
        stale = "no site details kept"
    elif kept.scope != scope:
        stale = "jql or points_field changed"
    return choose(
        asked_full=ctx.full,
        cursor=ctx.cursor,
        readable=cursor is not None,
        last_full=ctx.last_full,
        run_started=ctx.run_started,
        reconcile_hours=reconcile_hours,
        lookback=lookback,
        newest=cursor,
        stale=stale,
    )


def scope_fingerprint(url: str, jql: str, points_field: str) -> str:
    """Changes when what a pull covers changes: then the next pull must be complete."""
    text = f"{url}\n{jql}\n{points_field}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parse_cursor(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _server_zone(info: Mapping[str, Any]) -> str:
    """Anonymous searches read JQL dates in the server's default zone: serverInfo names it on
    Cloud (serverTimeZone); Data Center shows only its offset, in serverTime."""
    named = info.get("serverTimeZone")
    if isinstance(named, str) and named:
        return named
    server_time = info.get("serverTime")
    if isinstance(server_time, str) and len(server_time) >= 5:
        tail = server_time[-5:]
        if tail[0] in "+-" and tail[1:].isdigit():
            return tail
    return "UTC"


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FatalError(f"Jira's {what} answer is not a JSON object")
    return value
