"""Google Sheets sink (`type: sheets`): the status tabs in the sheet leadership opens.

One publish is at most three calls: `spreadsheets.get` (sheet properties and goalsync's marks
only), `values.batchGet` of the History tab (to upsert it by date and ID; skipped when the tab
does not exist yet, and not repeated when `read_history` already read it this run), and one
`spreadsheets.batchUpdate` that the API applies atomically; it leaves out the tabs that already
show this run's table (their mark says so, see sheets_plan). A publish too big for one body goes
through hidden staging tabs (see sheets_plan). `prepare` reads and plans; nothing is written
before `apply`.

goalsync owns only the tabs of sync.base.report.TAB_NAMES: every other tab (the plan's input tabs,
people's own tabs) is never named in a request, so it is never written, renamed or reordered.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import structlog

from connectors.sheets.batches import (
    BODY_LIMIT,
    SHEET_FIELDS,
    STAGING_PREFIX,
    SheetInfo,
    WritePlan,
    find_tab,
    merge_history,
    parse_sheets,
    to_write_plan,
)
from connectors.sheets.body import Body, sent_overlapped
from connectors.sheets.client import (
    DEFAULT_TIMEOUT_S,
    Access,
    SheetsClient,
    Transport,
    a1_tab,
)
from connectors.sheets.layout import read_history_values
from connectors.sheets.shapes import VALUE_RANGE, checked
from sync.base.contracts import CheckContext, CheckTarget, Held, PublishContext
from sync.base.errors import ConfigError, FatalError, GoalsyncError, PublishError
from sync.base.report import HistoryRow, Table
from sync.base.retry import Budget

log = structlog.get_logger(__name__)
HISTORY_TAB = "History"


@dataclass(slots=True)
class _Snapshot:
    """What the sheet held when it was read this run."""

    sheets: list[SheetInfo]
    history: list[HistoryRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    verbatim: list[tuple[Any, ...]] = field(default_factory=list)


class _HistoryRead:
    """The History tab read on a thread of its own, started by `open` once the sheet's
    properties are in: the run's sources are pulled meanwhile, and only `read_history` or
    `prepare` wait for it. The sink's client is used by this thread alone until it is joined."""

    def __init__(self, sink: SheetsSink, sheets: list[SheetInfo], budget: Budget) -> None:
        self.snapshot: _Snapshot | None = None
        self.error: Exception | None = None
        context = contextvars.copy_context()  # its log lines carry the run id
        self._thread = threading.Thread(
            target=context.run,
            args=(self._read, sink, sheets, budget),
            name="sheets-history",
            daemon=True,  # never keeps a failed run's process alive
        )
        self._thread.start()

    def _read(self, sink: SheetsSink, sheets: list[SheetInfo], budget: Budget) -> None:
        try:
            self.snapshot = sink._read_history_tab(sheets, budget)
        except Exception as exc:  # raised where the run waits for it, as if read there
            self.error = exc

    def join(self) -> _Snapshot:
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert self.snapshot is not None
        return self.snapshot


class SheetsSink:
    type = "sheets"

    def __init__(
        self,
        access: Access,
        *,
        transport: Transport | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        budget_s: float = 300.0,
        body_limit: int = BODY_LIMIT,
    ) -> None:
        self.access = access
        self.client = SheetsClient(access, timeout=timeout, transport=transport)
        self.budget_s = budget_s
        self.body_limit = body_limit
        self._snapshot: _Snapshot | None = None
        self._history: _HistoryRead | None = None  # started by `open`, not joined yet

    @property
    def description(self) -> str:
        return f"sheets {self.access.spreadsheet_id}"

    def check(self, target: CheckTarget, ctx: CheckContext) -> None:
        from connectors.sheets.check import check_sheets

        check_sheets(self.access, target, ctx, tabs=None)

    def read_back(self, budget_s: float) -> Held:
        from connectors.sheets.readback import read_sheets_sink

        return read_sheets_sink(self, budget_s)

    def open(self, budget_s: float | None = None) -> None:
        """Read the sheet before any source is pulled (Opener): a spreadsheet that does not
        exist or is not shared raises ConfigError (exit 2) before Jira or GitHub are asked.
        Only `spreadsheets.get` is waited for: the History tab is read on a thread beside the
        pulls (`_HistoryRead`). What was read is kept for this run's `read_history` and
        `prepare`, so opening early costs no request."""
        if self._snapshot is None and self._history is None:
            budget = Budget(budget_s or self.budget_s)
            sheets = self._fetch_sheets(budget)
            if find_tab(sheets, HISTORY_TAB) is None:
                self._snapshot = _Snapshot(sheets)
            else:
                self._history = _HistoryRead(self, sheets, budget)

    def read_history(self, budget_s: float | None = None) -> list[HistoryRow]:
        """The History tab's rows (HistoryKeeper). What was read is kept for this run's
        `prepare`, which then does not read the sheet again."""
        self._snapshot = self._opened(Budget(budget_s or self.budget_s))
        return list(self._snapshot.history)

    def prepare(self, tables: Sequence[Table], ctx: PublishContext) -> SheetsWrite:
        # One budget for the whole publish (reads here, writes in apply): the run's retry
        # budget bounds this sink's waiting, not a fresh one per call.
        budget = Budget(ctx.budget_s)
        snapshot, self._snapshot = self._opened(budget), None
        merged = [
            merge_history(t, snapshot.history, snapshot.verbatim) if t.name == HISTORY_TAB else t
            for t in tables
        ]
        # The day of the run salts each tab's fingerprint: a tab already showing this run's
        # table is left out, and every tab is rewritten once a day (sheets_plan).
        salt = ctx.now.astimezone(ctx.tz).date().isoformat()
        try:
            plan = to_write_plan(merged, snapshot.sheets, body_limit=self.body_limit, salt=salt)
        except PublishError as exc:
            raise PublishError(f"{self.access.who}: {exc}") from None
        log.info(
            "sheets_prepared",
            sink=self.description,
            batches=len(plan.parts),
            bytes=plan.sizes,
            staged=plan.staged,
            added=plan.added,
            unchanged=plan.unchanged,
            cells=plan.cells,
        )
        return SheetsWrite(self, plan, budget)

    def _opened(self, budget: Budget) -> _Snapshot:
        """The sheet as read this run: kept, or the History read `open` started (joined here),
        or read now. A History read that failed is told and read again now, with `budget`, as
        when the open itself failed: its error, if it persists, is this call's PublishError."""
        if self._snapshot is not None:
            return self._snapshot
        if self._history is not None:
            pending, self._history = self._history, None
            try:
                return pending.join()
            except GoalsyncError as exc:
                log.warning(
                    "sheets_history_not_read",
                    sink=self.description,
                    error=str(exc),
                    effect="read again",
                )
        return self._fetch_snapshot(budget)

    def _fetch_snapshot(self, budget: Budget) -> _Snapshot:
        sheets = self._fetch_sheets(budget)
        return self._read_history_tab(sheets, budget)

    def _fetch_sheets(self, budget: Budget) -> list[SheetInfo]:
        """spreadsheets.get: the tabs' properties and goalsync's marks."""
        try:
            return parse_sheets(self.client.fetch_spreadsheet(SHEET_FIELDS, budget=budget))
        except ConfigError:
            raise  # no such spreadsheet: a config error (exit 2), found before any write
        except GoalsyncError as exc:
            raise PublishError(str(exc)) from None

    def _read_history_tab(self, sheets: list[SheetInfo], budget: Budget) -> _Snapshot:
        """The History tab's rows (values.batchGet), when the sheet has the tab."""
        tab = find_tab(sheets, HISTORY_TAB)
        if tab is None:
            return _Snapshot(sheets)
        try:
            (values,) = self.client.fetch_values([a1_tab(tab.title)], budget=budget)
            checked(VALUE_RANGE, values, who=self.access.who, what="values.batchGet")
        except ConfigError:
            raise
        except GoalsyncError as exc:
            raise PublishError(str(exc)) from None
        read = read_history_values(values.get("values") or [])
        if not read.header_ok:
            # Rewriting a tab named History that is not ours would destroy it: stop instead.
            raise PublishError(
                f"{self.access.who}: the History tab has no Date and ID columns; rename that "
                "tab or restore its header row (nothing was published)"
            )
        for problem in read.problems:
            log.warning("history_row_unreadable", sink=self.description, problem=problem)
        return _Snapshot(sheets, read.rows, read.problems, read.verbatim)


class SheetsWrite:
    """A planned publish (PreparedWrite): nothing is sent before `apply`."""

    remote = True

    def __init__(self, sink: SheetsSink, plan: WritePlan, budget: Budget) -> None:
        self.sink = sink
        self.plan = plan
        self.budget = budget
        self.description = sink.description

    def apply(self) -> None:
        t0 = time.monotonic()
        budget = self.budget
        sent = 0
        # Each body is made while the one before it is in flight; a failing batch stops the
        # bodies after it (closing() sends nothing more once a reply is refused).
        try:

            def send(body: Body) -> Any:
                return self.sink.client.write_body(body, budget=budget)

            with closing(sent_overlapped(self.plan.parts, send)) as replies:
                for reply in replies:
                    sent += 1
                    self._check_reply(reply)
        except GoalsyncError as exc:
            if sent and self.plan.staged:
                self._write_staging_removal()
            raise PublishError(str(exc)) from None
        log.info(
            "sheets_published",
            sink=self.description,
            batches=sent,
            staged=self.plan.staged,
            seconds=round(time.monotonic() - t0, 3),
        )

    def _check_reply(self, reply: Any) -> None:
        """A batchUpdate's reply names the spreadsheet it changed (the call asks for
        `fields=spreadsheetId` and nothing else). Anything else (another id, an empty object, a
        proxy's or login page's answer) is not the API confirming this write: the publish failed,
        whatever the status code said. Raises FatalError (made a PublishError by `apply`)."""
        wanted = self.sink.access.spreadsheet_id
        got = reply.get("spreadsheetId") if isinstance(reply, dict) else None
        if got != wanted:
            shown = f"spreadsheetId {got!r}" if isinstance(got, str) else "no spreadsheetId"
            raise FatalError(
                f"{self.sink.access.who}: spreadsheets.batchUpdate was answered with {shown}, "
                f"not the reply for {wanted!r} (a proxy or another endpoint answering?); the "
                "sheet may or may not show this run, the next run writes it again"
            )

    def discard(self) -> None:
        """Nothing was sent before apply; a failed apply cleans up after itself."""

    def _write_staging_removal(self) -> None:
        """Best effort after a failed staged publish: the live tabs are as they were (the swap
        is the last batch), so only the hidden staging tabs need to go; if this fails too, the
        next publish deletes them."""
        try:
            sheets = parse_sheets(
                self.sink.client.fetch_spreadsheet(SHEET_FIELDS, budget=Budget(30.0))
            )
            leftovers: list[dict[str, Any]] = [
                {"deleteSheet": {"sheetId": s.sheet_id}}
                for s in sheets
                if s.title.startswith(STAGING_PREFIX)
            ]
            if leftovers:
                self.sink.client.write_batch(leftovers, budget=Budget(30.0))
        except GoalsyncError as exc:
            log.warning("staging_not_removed", sink=self.description, error=str(exc))
