"""Alerts: one Slack-compatible webhook message after a run that someone should hear about.

What is said (each can be turned off with `events:`):
- `status_change`: a key result (and with `levels: [kr, goal]` a goal) whose status differs from
  its last status in the store's History (the last run that published: an earlier run the same
  day counts, so a change is told once), with its owner and why (the Note, progress against
  expected, its risks);
- `degraded`: the run published but some source could not be read (exit 3): which, since when,
  and whether it was ever read (a source never read leaves its key results No data);
- `failed`: publishing failed (exit 4, state unchanged), or a server rejected a source's scope
  (exit 2 after the config loaded);
- `digest` (not on by default): one message a week, on the first run on or after `digest_day`:
  the week's status changes, key results newly at risk or off track, the top risks, check-ins
  overdue and what owners said. The week it was sent for is kept in the state, committed with
  the run that sends it, so several runs that day send it once; `goalsync digest --print` shows
  it without a webhook.

The URL is a secret (it lets anyone post to the channel): it is read from the environment variable
that `webhook_env` names, through sync.base.secrets, so that the logs mask it, and it is never
put in a message. Sending never fails the run: any problem is logged and the run's exit code stands.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import structlog
from pydantic import BaseModel, ConfigDict, Field

from sync.base import secrets
from sync.base.errors import (
    EXIT_CONFIG,
    EXIT_PUBLISH,
    EXIT_STALE,
    DeadlineExceeded,
    ResponseTooLarge,
    RetriableError,
)
from sync.base.report import (
    NO_DATA,
    HistoryRow,
    RiskRow,
    RunInfo,
    SourceRun,
    StatusReport,
    StatusRow,
    status_counts,
)
from sync.base.retry import Budget, call, parse_retry_after
from sync.log import Redactor, secret_values

if TYPE_CHECKING:
    import requests

log = structlog.get_logger(__name__)

AlertEvent = Literal["status_change", "degraded", "failed", "digest"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip
DIGEST_MARK = "digest_week"  # the state's mark: the ISO week whose digest was sent
MAX_RISKS_SHOWN = 5  # in the digest, one of each kind first, the most severe kinds first
# The digest's order of risk kinds, most in need of a leader's question first.
RISK_ORDER = (
    "owner and data disagree", "forecast slip", "overdue", "blocked", "no data", "scope growth",
    "no check-in", "stale", "unassigned", "unestimated", "no owner",
)  # fmt: skip
MAX_CHANGES_SHOWN = 20  # a Slack message holds 50 blocks; the rest is counted
USER_AGENT = "goalsync-alerts"
ARROWS = {
    "On track": ":large_green_circle:",
    "At risk": ":large_yellow_circle:",
    "Off track": ":red_circle:",
    "Done": ":large_blue_circle:",
    "Not started": ":white_circle:",
    "No data": ":grey_question:",
}
# A status from which reaching At risk / Off track is news. No data is not one: its row said
# nothing about progress, so the first reading after it is not "newly" anything.
_BETTER = {"At risk": ("On track", "Done", "Not started"),
           "Off track": ("On track", "At risk", "Done", "Not started")}  # fmt: skip


class AlertsConfig(BaseModel):
    """`alerts:` in goalsync.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    webhook_env: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="the environment variable that holds the webhook URL (a secret), "
        "e.g. GOALSYNC_WEBHOOK_URL",
    )
    events: tuple[AlertEvent, ...] = Field(
        default=("status_change", "degraded", "failed"), description="what to alert on"
    )
    levels: tuple[Literal["kr", "goal"], ...] = Field(
        default=("kr",), description="whose status changes to tell: key results, goals"
    )
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    digest_day: Weekday = Field(
        default="monday", description="the weekday of the weekly digest (events: [digest])"
    )


@dataclass(frozen=True, slots=True)
class StatusChange:
    id: str
    level: str
    title: str
    owner: str | None
    before: str
    after: str
    since: date  # the date of the History row it changed from
    reason: str

    @property
    def newly(self) -> str | None:
        """ "at risk" or "off track" when the row got there from a better status; a change to
        or from No data is neither (a source that could not be read is not work going badly)."""
        if self.before in _BETTER.get(self.after, ()):
            return self.after.lower()
        return None


@dataclass(frozen=True, slots=True)
class AlertResult:
    sent: bool
    reason: str  # why not, or what was sent


def status_changes(
    previous: Sequence[HistoryRow],
    report: StatusReport,
    *,
    levels: Sequence[str] = ("kr",),
) -> list[StatusChange]:
    """Rows of `report` whose status differs from the latest History row of the same ID that is
    not after this run's date. IDs without a History row (the first run, a new key result) are
    not changes."""
    today = max((h.date for h in report.history), default=report.now.date())
    latest: dict[str, HistoryRow] = {}
    for h in previous:
        if h.date > today or not h.status:
            continue
        kept = latest.get(h.id)
        if kept is None or h.date >= kept.date:
            latest[h.id] = h
    out: list[StatusChange] = []
    for row in report.rows:
        if row.level not in levels:
            continue
        before = latest.get(row.id)
        if before is None or before.status == row.status:
            continue
        out.append(
            StatusChange(
                id=row.id,
                level=row.level,
                title=row.title,
                owner=row.owner,
                before=before.status,
                after=row.status,
                since=before.date,
                reason=reason_for(row, report),
            )
        )
    return out


def reason_for(row: StatusRow, report: StatusReport) -> str:
    """Why a row has its status, in one line: the Note (an override, a forecast), progress
    against expected, and its risks by kind."""
    parts: list[str] = []
    if row.note:
        parts.append(row.note)
    if row.progress is not None:
        parts.append(f"progress {row.progress:.1f} % vs expected {row.expected:.1f} %")
    mine = [r for r in report.risks if (r.key_result if row.level == "kr" else r.goal) == row.id]
    kinds = Counter(r.risk for r in mine)
    if kinds:
        parts.append(", ".join(f"{n} {kind}" for kind, n in kinds.most_common(4)))
    return "; ".join(parts) or "no detail"


def build_message(
    *,
    changes: Sequence[StatusChange],
    exit_code: int,
    run: RunInfo | None,
    error: str,
    events: Sequence[str],
    title: str = "goalsync",
) -> dict[str, Any] | None:
    """The Slack-compatible payload (`text` for any webhook, `blocks` for Slack), or None when
    there is nothing to say."""
    sections: list[str] = []
    headline: list[str] = []
    if "failed" in events and exit_code in (EXIT_PUBLISH, EXIT_CONFIG):
        what = "publishing failed" if exit_code == EXIT_PUBLISH else "a source's scope was refused"
        after = (
            "nothing was committed; the next run retries"
            if exit_code == EXIT_PUBLISH
            else "nothing was published; fix the config"
        )
        headline.append(f"run FAILED (exit {exit_code})")
        sections.append(f"*Run failed* (exit {exit_code}): {what}: {_esc(error)}. {after}.")
    if "degraded" in events and exit_code == EXIT_STALE and run is not None:
        failing = [s for s in run.sources if not s.ok]
        headline.append(f"run degraded: {len(failing)} source(s) stale")
        sections.append(_degraded(failing))
    shown_changes = list(changes) if "status_change" in events else []
    if shown_changes:
        n = len(shown_changes)
        newly = Counter(c.newly for c in shown_changes if c.newly)
        told = ", ".join(f"{newly[w]} newly {w}" for w in ("off track", "at risk") if newly[w])
        headline.append(
            f"{n} status change{'s' if n != 1 else ''}" + (f" ({told})" if told else "")
        )
        for c in shown_changes[:MAX_CHANGES_SHOWN]:
            owner = _esc(c.owner) if c.owner else "no owner"
            sections.append(
                f"*{_esc(c.id)} {_esc(c.title)}*\n"
                f"{ARROWS.get(c.before, '')} {c.before} → {ARROWS.get(c.after, '')} {c.after}"
                f" (since {c.since:%Y-%m-%d})\n"
                f"Owner: {owner} · {_esc(c.reason)}"
            )
        if n > MAX_CHANGES_SHOWN:
            sections.append(f"…and {n - MAX_CHANGES_SHOWN} more: see the Status tab.")
    if not sections:
        return None
    head = f"{title}: {', '.join(headline)}"
    context = f"run {run.run_id}, as of {run.as_of:%Y-%m-%d %H:%M} UTC" if run else ""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        *({"type": "section", "text": {"type": "mrkdwn", "text": s[:3000]}} for s in sections),
    ]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    text = "\n\n".join([head, *sections, context] if context else [head, *sections])
    return _masked({"text": text, "blocks": blocks})


def send(
    config: AlertsConfig,
    payload: dict[str, Any],
    *,
    post: Callable[..., requests.Response] | None = None,
    budget_s: float | None = None,
) -> AlertResult:
    """POST the payload to the webhook. Never raises: a failure is logged and returned.

    By default through a session with the deadline for the whole response and the size cap
    every other request has (DESIGN): a webhook that trickles its answer must not hold a
    committed run, and with it the lock, for longer than its budget."""
    # Imported when an alert goes out: this module's config model is part of every config's,
    # and a run without Jira or GitHub sources needs no requests otherwise (30 ms of start-up).
    import requests

    if post is None:
        from sync.base.transport import limit_session

        post = limit_session(requests.Session()).post
    url = secrets.read_secret(config.webhook_env)
    if url is None:
        log.warning(
            "alert_not_sent",
            reason=f"{config.webhook_env} is not set",
            fix=f"set {config.webhook_env} to the webhook URL, or remove alerts: from the config",
        )
        return AlertResult(False, f"{config.webhook_env} is not set")
    problem = check_url(url.get_secret_value())
    if problem:
        log.warning("alert_not_sent", reason=f"{config.webhook_env}: {problem}")
        return AlertResult(False, f"{config.webhook_env}: {problem}")
    body = json.dumps(payload).encode("utf-8")

    def once() -> None:
        try:
            response = post(
                url.get_secret_value(),
                data=body,
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
                timeout=config.timeout_s,
                allow_redirects=False,
            )
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            raise RetriableError(f"webhook: {type(exc).__name__}") from None
        except (DeadlineExceeded, ResponseTooLarge) as exc:  # messages name no secret path
            kind = RetriableError if isinstance(exc, DeadlineExceeded) else _Failed
            raise kind(f"webhook: {type(exc).__name__}") from None
        except requests.exceptions.RequestException as exc:
            raise _Failed(f"webhook: {type(exc).__name__}") from None
        status = response.status_code
        if status == 429 or status >= 500:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise RetriableError(f"webhook answered {status}", retry_after=wait)
        if status >= 300:
            raise _Failed(f"webhook answered {status}")

    budget = Budget(budget_s if budget_s is not None else 3 * config.timeout_s)
    try:
        call(once, budget=budget, what="alert webhook", max_attempts=3)
    except (RetriableError, _Failed) as exc:
        log.warning("alert_not_sent", reason=str(exc), effect="the run's exit code stands")
        return AlertResult(False, str(exc))
    log.info("alert_sent", variable=config.webhook_env, bytes=len(body))
    return AlertResult(True, "sent")


def check_url(url: str) -> str:
    """Why a webhook URL will not do ("" when it will): https, or http to loopback only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL"
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return "must be https (the URL is a secret; plain http would show it on the way)"
    return ""


class _Failed(Exception):
    """A webhook answer retrying cannot fix."""


def _degraded(failing: Sequence[SourceRun]) -> str:
    """Which sources could not be read and what their key results show meanwhile: the last good
    values of a stale source; No data for one never read."""
    lines = []
    for s in failing:
        since = f" since {s.stale_since:%Y-%m-%d %H:%M} UTC" if s.stale_since else ""
        state = f"never read successfully (failing{since})" if s.never_read else f"stale{since}"
        lines.append(f"• *{_esc(s.name)}* ({s.type}) {state}: {_esc(s.error)}")
    never = sum(s.never_read for s in failing)
    if not never:
        shown = "their key results show their last good values"
    elif never == len(failing):
        shown = f"their key results show {NO_DATA}"
    else:
        shown = f"key results show a stale source's last good values, {NO_DATA} for one never read"
    return (
        f"*Run degraded* (exit 3): published, but these sources could not be read; {shown}:\n"
        + ("\n".join(lines))
    )


def _esc(text: str) -> str:
    """Slack mrkdwn: &, < and > must be escaped; everything else shows as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _masked(payload: dict[str, Any]) -> dict[str, Any]:
    """No secret leaves in an alert, whatever an error message carried."""
    redactor = Redactor(secret_values())
    for value in secrets.known():
        redactor.add(value)

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redactor.redact(value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    masked: dict[str, Any] = clean(payload)
    return masked


# --- the weekly digest ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Digest:
    """What a week looked like, for a leader who reads one message a week."""

    week: str  # ISO week, "2026-W47"
    since: date  # a week before today: changes are against History rows up to then
    today: date
    counts: dict[str, int]  # key results per status
    changes: list[StatusChange]
    risks: list[RiskRow]  # all of them; the message shows the top ones
    overdue: list[RiskRow]  # "no check-in" risks
    said: list[StatusRow]  # key results (and goals) whose owner checked in this week


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_due(config: AlertsConfig, today: date, sent: str | None) -> bool:
    """Whether a run on `today` sends the digest: asked for, on or after this week's digest day,
    and not sent for this week yet (a week without a run on the day still gets its digest)."""
    if "digest" not in config.events:
        return False
    return today.weekday() >= WEEKDAYS.index(config.digest_day) and sent != week_of(today)


def build_digest(
    previous: Sequence[HistoryRow], report: StatusReport, today: date, *, levels: Sequence[str]
) -> Digest:
    """The week up to `today` from the History before this run and this run's report: a status
    change is against the last History row at least 7 days old (or, for a key result younger
    than that, its first row)."""
    week_ago = today - timedelta(days=7)
    by_id: dict[str, list[HistoryRow]] = {}
    for h in previous:
        if h.date < today and h.status:
            by_id.setdefault(h.id, []).append(h)
    base: dict[str, HistoryRow] = {}
    for ident, rows in by_id.items():
        old = [h for h in rows if h.date <= week_ago]
        base[ident] = max(old, key=_day) if old else min(rows, key=_day)
    changes = status_changes(list(base.values()), report, levels=levels)
    return Digest(
        week=week_of(today),
        since=week_ago,
        today=today,
        counts=status_counts(report),
        changes=changes,
        risks=sorted(report.risks, key=_risk_rank),
        overdue=[r for r in report.risks if r.risk == "no check-in"],
        said=[r for r in report.rows if r.checkin is not None and r.checkin.date > week_ago],
    )


def digest_sections(d: Digest) -> tuple[str, list[str]]:
    """The digest's headline and sections, in Slack mrkdwn (which reads as plain text too)."""
    shown = ", ".join(f"{n} {w.lower()}" for w, n in d.counts.items() if n)
    head = f"Weekly digest {d.week}: {shown or 'no key results'}"
    sections: list[str] = []
    if d.changes:
        lines = [
            f"• *{_esc(c.id)}* {_esc(c.title)}: {c.before} → {c.after}"
            f" ({_esc(c.owner) if c.owner else 'no owner'}) · {_esc(c.reason)}"
            for c in d.changes[:MAX_CHANGES_SHOWN]
        ]
        more = len(d.changes) - MAX_CHANGES_SHOWN
        lines += [f"…and {more} more: see the Status tab."] if more > 0 else []
        sections.append(
            f"*Status changes since {d.since:%Y-%m-%d}* ({len(d.changes)}):\n" + "\n".join(lines)
        )
    else:
        sections.append(f"*Status changes since {d.since:%Y-%m-%d}*: none.")
    newly = [c for c in d.changes if c.newly]
    if newly:
        sections.append(
            "*Newly at risk or off track*: " + ", ".join(f"{_esc(c.id)} ({c.newly})" for c in newly)
        )
    if d.risks:
        kinds = Counter(r.risk for r in d.risks)
        counted = ", ".join(f"{kinds[k]} {k}" for k in sorted(kinds, key=_kind_rank))
        lines = [f"• {_risk_line(r)}" for r in _top_risks(d.risks)]
        sections.append(f"*Top risks* ({len(d.risks)}: {counted}):\n" + "\n".join(lines))
    if d.overdue:
        lines = [
            f"• *{_esc(r.key_result)}* ({_esc(r.owner or 'no owner')}): {_esc(r.reason)}"
            for r in d.overdue
        ]
        sections.append(f"*Check-ins overdue* ({len(d.overdue)}):\n" + "\n".join(lines))
    if d.said:
        lines = []
        for row in d.said:
            c = row.checkin
            assert c is not None
            comment = f" “{_esc(c.comment)}”" if c.comment else ""
            who = f"{_esc(c.by)}, " if c.by else ""
            lines.append(
                f"• *{_esc(row.id)}* {c.confidence}{comment} ({who}{c.date:%Y-%m-%d});"
                f" data says {row.status}"
            )
        sections.append("*Owners say*:\n" + "\n".join(lines))
    return head, sections


def digest_message(d: Digest, *, title: str = "goalsync") -> dict[str, Any]:
    """The digest as a Slack-compatible payload (`text` for any webhook, `blocks` for Slack)."""
    head, sections = digest_sections(d)
    head = f"{title}: {head}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        *({"type": "section", "text": {"type": "mrkdwn", "text": s[:3000]}} for s in sections),
    ]
    return _masked({"text": "\n\n".join([head, *sections]), "blocks": blocks})


def digest_text(d: Digest) -> str:
    """The digest for a terminal: the message's text without Slack's markup."""
    head, sections = digest_sections(d)
    text = "\n\n".join([head, *sections]).replace("*", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _day(h: HistoryRow) -> date:
    return h.date


def _kind_rank(kind: str) -> int:
    return RISK_ORDER.index(kind) if kind in RISK_ORDER else len(RISK_ORDER)


def _risk_rank(r: RiskRow) -> tuple[int, str, str]:
    return (_kind_rank(r.risk), r.key_result or r.goal, r.item or "")


def _top_risks(risks: Sequence[RiskRow]) -> list[RiskRow]:
    """One of each kind first (most severe kinds first), then the next ones in order: five
    overdue items would hide that an owner and the data disagree."""
    firsts: dict[str, RiskRow] = {}
    for r in risks:
        firsts.setdefault(r.risk, r)
    top = list(firsts.values())[:MAX_RISKS_SHOWN]
    top += [r for r in risks if r not in top][: MAX_RISKS_SHOWN - len(top)]
    return sorted(top, key=_risk_rank)


def _risk_line(r: RiskRow) -> str:
    where = r.key_result or r.goal
    item = f" {_esc(r.item)}" if r.item else ""
    owner = f" ({_esc(r.owner)})" if r.owner else ""
    return f"*{_esc(where)}* {r.risk}{item}{owner}: {_esc(r.reason)}"
