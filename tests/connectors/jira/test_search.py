"""The pure parts of the live Jira source: JQL composition, JQL dates in the user's zone, the
kept site state, when a pull must be complete, and the changelog helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.jira.parse import FieldIds, parse_time
from connectors.jira.search import Query, is_cut_short, jql_time, site_zone, strip_order_by
from connectors.jira.site import Site, parse_cursor, pull_window, scope_fingerprint
from connectors.jira.source import entry_key, with_histories
from sync.base.contracts import PullContext
from sync.base.errors import FatalError
from sync.base.paging import dedupe_by_key

RUN = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("jql", "kept"),
    [
        ("project = PAY ORDER BY rank", "project = PAY"),
        ("project = PAY order   by created DESC", "project = PAY"),
        ('summary ~ "order by" AND project = PAY', 'summary ~ "order by" AND project = PAY'),
        ("project in (PAY, CORE)", "project in (PAY, CORE)"),
    ],
)
def test_strip_order_by_only_outside_quotes(jql: str, kept: str) -> None:
    assert strip_order_by(jql) == kept


def test_query_render_shapes() -> None:
    assert Query("project = PAY ORDER BY rank", "updated ASC, key ASC").render() == (
        "(project = PAY) ORDER BY updated ASC, key ASC"
    )
    assert Query("a = 1 OR b = 2", "key ASC", since="2026-11-16 09:50").render() == (
        '(a = 1 OR b = 2) AND updated >= "2026-11-16 09:50" ORDER BY key ASC'
    )
    assert Query("p = X", "key ASC", clause="labels = billing").render() == (
        "(p = X) AND (labels = billing) ORDER BY key ASC"
    )
    window = Query("p = X", "key ASC", window_from="2026-11-01 00:00", window_to="2026-11-02 00:00")
    assert window.render() == (
        '(p = X) AND updated >= "2026-11-01 00:00" AND updated < "2026-11-02 00:00" '
        "ORDER BY key ASC"
    )


@pytest.mark.parametrize(
    ("zone", "literal"),
    [
        ("UTC", "2026-11-16 07:50"),
        ("Europe/Berlin", "2026-11-16 08:50"),
        ("America/Los_Angeles", "2026-11-15 23:50"),
        ("Asia/Kolkata", "2026-11-16 13:20"),
        ("+0100", "2026-11-16 08:50"),
        ("-05:00", "2026-11-16 02:50"),
    ],
)
def test_jql_dates_are_written_in_the_users_zone(zone: str, literal: str) -> None:
    assert jql_time(datetime(2026, 11, 16, 7, 50, 59, tzinfo=UTC), site_zone(zone)) == literal


def test_an_unknown_zone_falls_back_to_utc() -> None:
    assert site_zone("Mars/Olympus_Mons") is UTC


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(["Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata"]),
)
def test_a_jql_date_never_lies_after_the_instant_it_stands_for(at: datetime, zone: str) -> None:
    """Rounded down to the minute: a search from it includes the instant itself."""
    tz = ZoneInfo(zone)
    text = jql_time(at, tz)
    read_back = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    assert read_back <= at < read_back + timedelta(minutes=1) or at.astimezone(tz).fold


def test_site_state_round_trips() -> None:
    site = Site(
        "Cloud",
        "Europe/Berlin",
        FieldIds(points=("customfield_10026", "customfield_10016"), flagged="customfield_10021"),
        "abc",
        {"in review": "in_progress", "done": "done"},
    )
    state = site.to_state()
    assert all(isinstance(v, str) for v in state.values())
    assert Site.from_state(state) == site
    assert Site.from_state({}) is None
    broken = {**state, "status_categories": "{not json"}
    assert Site.from_state(broken) == Site(site.deployment, site.zone, site.field_ids, "abc", {})


def ctx(**kwargs: object) -> PullContext:
    return PullContext(source="jira", run_started=RUN, tz=UTC, **kwargs)  # type: ignore[arg-type]


SITE = Site("Cloud", "UTC", FieldIds(), "scope")


@pytest.mark.parametrize(
    ("context", "kept", "reason"),
    [
        (ctx(full=True, cursor=RUN.isoformat(), last_full=RUN), SITE, "--full"),
        (ctx(), SITE, "first pull"),
        (ctx(cursor="yesterday", last_full=RUN), SITE, "unreadable cursor"),
        (ctx(cursor="2026-11-16T08:00:00", last_full=RUN), SITE, "unreadable cursor"),  # naive
        (ctx(cursor=RUN.isoformat(), last_full=RUN), None, "no site details kept"),
        (
            ctx(cursor=RUN.isoformat(), last_full=RUN),
            Site("Cloud", "UTC", FieldIds(), "other"),
            "jql or points_field changed",
        ),
        (ctx(cursor=RUN.isoformat(), last_full=RUN - timedelta(hours=24)), SITE, "reconcile"),
        (ctx(cursor=RUN.isoformat()), SITE, "reconcile"),
        (ctx(cursor=RUN.isoformat(), last_full=RUN - timedelta(hours=23)), SITE, None),
    ],
)
def test_when_a_pull_must_be_complete(
    context: PullContext, kept: Site | None, reason: str | None
) -> None:
    assert pull_window(context, kept, "scope", reconcile_hours=24).reason == reason


def test_scope_fingerprint_changes_with_what_is_pulled() -> None:
    base = scope_fingerprint("https://a", "project = PAY", "auto")
    assert base == scope_fingerprint("https://a", "project = PAY", "auto")
    assert base != scope_fingerprint("https://a", "project = CORE", "auto")
    assert base != scope_fingerprint("https://a", "project = PAY", "customfield_1")
    assert parse_cursor(RUN.isoformat()) == RUN


def test_cut_short_and_completed_changelogs() -> None:
    short: dict[str, Any] = {"key": "A-1", "changelog": {"total": 45, "histories": [{}] * 40}}
    whole = {"key": "A-2", "changelog": {"total": 2, "histories": [{}, {}]}}
    assert is_cut_short(short) and not is_cut_short(whole) and not is_cut_short({"key": "A-3"})
    completed = with_histories(short, [{"id": str(n)} for n in range(45)])
    assert not is_cut_short(completed)
    assert completed["changelog"]["total"] == 45 and short["changelog"]["total"] == 45


def test_dedupe_by_key_keeps_the_later_copy_in_the_later_place() -> None:
    issues = [{"key": "A-1", "v": 1}, {"key": "A-2", "v": 1}, {"key": "A-1", "v": 2}]
    assert dedupe_by_key(issues, entry_key) == [{"key": "A-2", "v": 1}, {"key": "A-1", "v": 2}]
    with pytest.raises(FatalError, match="without a key"):
        dedupe_by_key([{"id": "1"}], entry_key)


def test_bulkfetch_epoch_times_are_read() -> None:
    assert parse_time(1492070429) == datetime(2017, 4, 13, 8, 0, 29, tzinfo=UTC)
    assert parse_time(1492070429000) == datetime(2017, 4, 13, 8, 0, 29, tzinfo=UTC)
    assert parse_time("2026-10-05T11:00:00.000+0200") == datetime(2026, 10, 5, 9, tzinfo=UTC)
    assert parse_time("2026-10-05T11:00:00.000+0200").tzinfo == UTC  # type: ignore[union-attr]
