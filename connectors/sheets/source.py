"""Google Sheets source (`type: sheets`): the plan tabs leadership and sheet-planning teams edit.

The Goals, Metrics, Overrides, Tasks and Check-ins tabs (names from `tabs:`) are read in one
`values.batchGet`, unformatted, with dates as serial numbers, so a cell's value does not depend
on its display format or the sheet's locale. Columns are found by header name (sync.base.tabular,
shared with the CSV file sources); a bad row is reported with tab, row and column and skipped.

Every pull reads the whole tabs: the result is a complete snapshot (what left the sheet leaves
the store). A sheet has no change history, so `has_history` is False and the engine records a
state-change Event itself whenever a task's state differs from the last pull.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from connectors.sheets.client import (
    DEFAULT_TIMEOUT_S,
    Access,
    BadRequest,
    SheetsClient,
    Transport,
    a1_tab,
)
from connectors.sheets.shapes import VALUE_RANGE, checked
from sync.base import tabular
from sync.base.contracts import CheckContext, CheckTarget, PullContext, PullResult
from sync.base.errors import ConfigError, FatalError, GoalsyncError
from sync.base.retry import Budget

log = structlog.get_logger(__name__)
# The order they are read and reported.
TAB_KINDS = ("goals", "metrics", "overrides", "tasks", "checkins")


class SheetsSource:
    type = "sheets"

    def __init__(
        self,
        name: str,
        access: Access,
        tabs: Mapping[str, str],
        *,
        transport: Transport | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.name = name
        self.access = access
        self.tabs = [(kind, tabs[kind]) for kind in TAB_KINDS if tabs.get(kind)]
        self.transport = transport
        self.timeout = timeout

    def check(self, target: CheckTarget, ctx: CheckContext) -> None:
        from connectors.sheets.check import check_sheets

        check_sheets(self.access, target, ctx, tabs=[title for _, title in self.tabs])

    def fetch(self, ctx: PullContext) -> PullResult:
        client = SheetsClient(self.access, timeout=self.timeout, transport=self.transport)
        budget = Budget(ctx.budget_s)
        ranges = [a1_tab(title) for _, title in self.tabs]
        try:
            value_ranges = client.fetch_values(ranges, budget=budget)
        except BadRequest as exc:
            if "Unable to parse range" not in exc.reason:
                raise
            raise self._missing_tabs(client, budget, exc) from None
        result = PullResult(complete=True, has_history=False)
        for (kind, title), value_range in zip(self.tabs, value_ranges, strict=True):
            checked(VALUE_RANGE, value_range, who=self.access.who, what="values.batchGet")
            values: list[list[Any]] = value_range.get("values") or []
            if not values:  # an empty tab, not even a header: nothing planned there
                continue
            parse_tab(kind, title, values, ctx, result, source=self.name)
        r = result
        rows = len(r.items) + len(r.metrics) + len(r.goal_defs) + len(r.overrides)
        ctx.progress(1, rows + len(r.checkins))
        result.requests = client.calls
        for problem in result.warnings:
            log.warning("skipped_row", source=self.name, problem=problem)
        return result

    def _missing_tabs(self, client: SheetsClient, budget: Budget, exc: BadRequest) -> Exception:
        """The API names only the first range it could not parse; one more request lists the
        sheet's tabs so the message names every configured tab that is missing."""
        try:
            reply = client.fetch_spreadsheet("sheets.properties.title", budget=budget)
        except GoalsyncError:
            return ConfigError(f"{exc}; check the tab names under tabs:")
        titles = [str((s.get("properties") or {}).get("title", "")) for s in reply["sheets"]]
        present = {t.casefold() for t in titles}
        missing = [title for _, title in self.tabs if title.casefold() not in present]
        if not missing:
            return ConfigError(f"{exc}; check the tab names under tabs:")
        return ConfigError(
            f"{self.access.who}: spreadsheet {self.access.spreadsheet_id} has no tab "
            f"{', '.join(repr(m) for m in missing)} (its tabs: {', '.join(titles)}); fix the "
            "names under tabs:, or leave a tab out"
        )


def parse_tab(
    kind: str,
    title: str,
    values: list[list[Any]],
    ctx: PullContext,
    out: PullResult,
    *,
    source: str,
) -> None:
    """One tab's values (header row first) into records. A missing required column fails the
    source (it keeps its last good records, marked stale), naming the tab and the column."""
    header, rows = values[0], values[1:]
    try:
        if kind == "tasks":
            parsed = tabular.parse_item_rows(
                header, rows, source=source, origin=title, tz=ctx.tz, rules=ctx.rules
            )
            out.items.extend(parsed.records)
        elif kind == "metrics":
            parsed = tabular.parse_metric_rows(header, rows, source=source, origin=title, tz=ctx.tz)
            out.metrics.extend(parsed.records)
        elif kind == "goals":
            parsed = tabular.parse_goal_rows(header, rows, source=source, origin=title)
            out.goal_defs.extend(parsed.records)
        elif kind == "checkins":
            parsed = tabular.parse_checkin_rows(header, rows, source=source, origin=title)
            out.checkins.extend(parsed.records)
        else:
            parsed = tabular.parse_override_rows(header, rows, source=source, origin=title)
            out.overrides.extend(parsed.records)
    except FatalError as exc:
        raise FatalError(f"source {source!r}: tab {exc}") from None
    out.warnings.extend(f"tab {p}" for p in parsed.problems)
