"""Owners' check-ins: the latest word per goal or key result, and the two risks they raise.

A check-in never changes a status (an override does that): it stands beside it in Confidence
and Comment. What it adds are two questions for a leader: a key result whose owner has not said
anything for `checkin_stale_days` ("no check-in"), and an owner whose confidence is two levels
away from what the data says ("owner and data disagree": On track against Off track, either way).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date

from mappings.plan import PlannedKR
from sync.base.records import CheckIn
from sync.base.report import RiskRow, RowStatus, StatusRow

NO_CHECKIN = "no check-in"
DISAGREE = "owner and data disagree"
# How far apart two words are: On track and Off track are two levels apart.
_LEVEL: dict[str, int] = {"On track": 0, "At risk": 1, "Off track": 2}


@dataclass(frozen=True, slots=True)
class CheckIns:
    """The latest check-in at or before today per id, and the rows skipped (for the Run tab)."""

    latest: dict[str, CheckIn]
    in_use: bool  # any check-in at all: only then is a missing one a risk
    problems: tuple[str, ...]


def latest_checkins(checkins: Sequence[CheckIn], ids: Collection[str], today: date) -> CheckIns:
    """Per known id, the check-in with the latest date not after `today` (on the same date, the
    later row wins: the one written last). A row naming an id the plan does not have is skipped
    and named; one dated after today waits for its day."""
    latest: dict[str, CheckIn] = {}
    problems: list[str] = []
    for c in checkins:
        if c.id not in ids:
            where = f"{c.origin}: " if c.origin else ""
            problems.append(f"{where}check-in for unknown id {c.id!r}; row skipped")
            continue
        if c.date > today:
            continue
        current = latest.get(c.id)
        if current is None or c.date >= current.date:
            latest[c.id] = c
    return CheckIns(latest, bool(checkins), tuple(problems))


def checkin_risks(
    kr: PlannedKR,
    computed: RowStatus,
    checkin: CheckIn | None,
    today: date,
    *,
    stale_days: int,
    in_use: bool,
) -> list[RiskRow]:
    """The check-in risks of one key result. `computed` is its status before any override: the
    question is whether the owner and the data agree, not the owner and a hand-set word."""
    out: list[RiskRow] = []
    if checkin is not None and abs(_LEVEL.get(computed, 1) - _LEVEL[checkin.confidence]) == 2:
        who = f" ({checkin.by})" if checkin.by and checkin.by != kr.owner else ""
        out.append(
            _risk(
                kr,
                DISAGREE,
                checkin.date,
                f"owner says {checkin.confidence}{who} on {checkin.date}, data says {computed}",
            )
        )
    # Before its start or once done, nobody owes a check-in; without an owner, nobody can give
    # one (that is the "no owner" risk already); with no check-in anywhere, the team does not use
    # them, and every key result flagged would bury the risks that matter.
    if not in_use or not kr.owner or computed in ("Done", "Not started"):
        return out
    since = checkin.date if checkin is not None else kr.start
    days = (today - since).days
    if days > stale_days:
        reason = (
            f"last check-in {checkin.date}, {days} days ago"
            if checkin is not None
            else f"no check-in since the start ({kr.start}, {days} days ago)"
        )
        out.append(_risk(kr, NO_CHECKIN, since, f"{reason}; expected every {stale_days} days"))
    return out


def _risk(kr: PlannedKR, kind: str, since: date, reason: str) -> RiskRow:
    return RiskRow(
        key_result=kr.id,
        goal=kr.goal_id,
        item=None,
        risk=kind,
        owner=kr.owner,
        since=since,
        reason=reason,
    )


def with_checkin(
    row: StatusRow,
    risks: list[RiskRow],
    kr: PlannedKR,
    checkins: CheckIns,
    computed: RowStatus,
    today: date,
    stale_days: int,
) -> tuple[StatusRow, list[RiskRow]]:
    """A key result's row and risks with its latest check-in and the risks it raises."""
    checkin = checkins.latest.get(kr.id)
    found = checkin_risks(
        kr, computed, checkin, today, stale_days=stale_days, in_use=checkins.in_use
    )
    if checkin is None and not found:
        return row, risks
    return replace(row, checkin=checkin, risks=row.risks + len(found)), [*risks, *found]
