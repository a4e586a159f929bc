"""`goalsync plan`: what a run would change in each sink, against what the sink holds now.

Each sink is read before the dry run (`read_sinks`) and compared after it (`compare`), tab by
tab and row by row, rows matched by their key (Status by ID, Items by key and key result, ...).
Each sink reads itself back (sync.base.contracts.ReadBack, in its connector):
- csv and xlsx sinks: the existing files, read back the same way as the new content is (the new
  tables are rendered exactly as the sink would write them, then parsed), so a difference is a
  difference in what a reader would see;
- a sheets sink: `spreadsheets.get` (tab titles) and one `values.batchGet` of the tabs goalsync
  owns: two calls, fewer than a publish's three. What was read also seeds the dry run's History
  when the state dir is empty (`seeded`), as a run would from the sheet, without reading again;
- an html sink: one page, re-rendered every run; said whether it exists.
Nothing is written anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sync.base.contracts import (
    HistoryKeeper,
    PreparedWrite,
    PublishContext,
    ReadBack,
    Rows,
    Sink,
    describe,
    trim_row,
)
from sync.base.errors import GoalsyncError
from sync.base.report import HistoryRow, Table

# How rows are matched between now and after, per tab; a key seen twice is told apart by order.
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "Status": ("ID",),
    "Risks": ("Key result", "Item", "Risk"),
    "Items": ("Key", "Key result"),
    "Unaligned": ("Key",),
    "Workload": ("Assignee", "Goal"),
    "History": ("Date", "ID"),
    "Run": ("Key",),
}
# Columns that change on every run without anything having changed (when the data was pulled).
VOLATILE: dict[str, tuple[str, ...]] = {"Status": ("Updated",)}


@dataclass(slots=True, kw_only=True)
class SinkState:
    """What one sink holds now."""

    sink: Sink
    description: str
    tabs: dict[str, Rows] | None = None  # None: nothing there yet (no file, no owned tab)
    history: list[HistoryRow] = field(default_factory=list)  # a sheet's History tab
    requests: int = 0
    error: str = ""  # the sink could not be read (compare says so and goes on)
    note: str = ""
    # The new tables as the sink would hold them, read back the same way; None: not compared.
    render: Callable[[Sequence[Table]], dict[str, Rows]] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    id: str
    title: str
    before: str
    after: str


@dataclass(slots=True, kw_only=True)
class TabDiff:
    tab: str
    before: int | None  # rows the sink holds now; None when the tab is not there
    after: int
    added: int = 0
    removed: int = 0
    changed: int = 0
    note: str = ""
    status_changes: list[StatusChange] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return self.before is not None and not (self.added or self.removed or self.changed)


@dataclass(slots=True, kw_only=True)
class SinkDiff:
    description: str
    tabs: list[TabDiff] = field(default_factory=list)
    error: str = ""
    note: str = ""
    requests: int = 0

    @property
    def status_changes(self) -> list[StatusChange]:
        return [c for t in self.tabs for c in t.status_changes]


# --- reading what the sinks hold ---------------------------------------------------------------


def read_sinks(sinks: Sequence[Sink], *, budget_s: float = 60.0) -> list[SinkState]:
    return [read_sink(sink, budget_s=budget_s) for sink in sinks]


def read_sink(sink: Sink, *, budget_s: float = 60.0) -> SinkState:
    description = describe(sink)
    if not isinstance(sink, ReadBack):
        return SinkState(sink=sink, description=description, note="cannot be compared")
    try:
        held = sink.read_back(budget_s)
    except GoalsyncError as exc:
        return SinkState(sink=sink, description=description, error=str(exc))
    return SinkState(
        sink=sink,
        description=description,
        tabs=held.tabs,
        history=held.history,
        requests=held.requests,
        note=held.note,
        render=held.render,
    )


# --- the dry run's History seeded from what was read ------------------------------------------


class _SeededSink:
    """A sink whose History was read already (HistoryKeeper without a second read)."""

    def __init__(self, sink: Sink, history: list[HistoryRow]) -> None:
        self.sink = sink
        self.type = sink.type
        self._history = history

    def read_history(self, budget_s: float | None = None) -> list[HistoryRow]:
        return list(self._history)

    def prepare(self, tables: Sequence[Table], ctx: PublishContext) -> PreparedWrite:
        return self.sink.prepare(tables, ctx)


def seeded(states: Sequence[SinkState]) -> list[Sink]:
    """The sinks for the dry run: a sink that keeps History and was read hands it over."""
    out: list[Sink] = []
    for s in states:
        if isinstance(s.sink, HistoryKeeper) and not s.error:
            out.append(_SeededSink(s.sink, s.history))
        else:
            out.append(s.sink)
    return out


# --- comparing --------------------------------------------------------------------------------


def compare(states: Sequence[SinkState], tables: Sequence[Table]) -> list[SinkDiff]:
    return [compare_sink(state, tables) for state in states]


def compare_sink(state: SinkState, tables: Sequence[Table]) -> SinkDiff:
    out = SinkDiff(
        description=state.description,
        error=state.error,
        note=state.note,
        requests=state.requests,
    )
    if state.error:
        return out
    if state.render is None:
        out.note = out.note or "cannot be compared"
        return out
    after = state.render(tables)
    if state.tabs is None:
        out.note = "nothing there yet: every tab would be created"
    for table in tables:
        new = after.get(table.name) or [[]]
        old = state.tabs.get(table.name) if state.tabs is not None else None
        out.tabs.append(diff_tab(table.name, old, new))
    return out


def diff_tab(name: str, old: Rows | None, new: Rows) -> TabDiff:
    header, body = (new[0], new[1:]) if new else ([], [])
    if old is None:
        return TabDiff(tab=name, before=None, after=len(body), added=len(body))
    old_header, old_body = (old[0], old[1:]) if old else ([], [])
    diff = TabDiff(tab=name, before=len(old_body), after=len(body))
    if trim_row(list(old_header)) != trim_row(list(header)):
        diff.added, diff.removed = len(body), len(old_body)
        diff.note = "columns differ: the tab is rewritten"
        return diff
    keys = [header.index(k) for k in ROW_KEYS.get(name, ()) if k in header]
    skip = {header.index(c) for c in VOLATILE.get(name, ()) if c in header}
    before, after = _keyed(old_body, keys), _keyed(body, keys)
    diff.added = sum(1 for k in after if k not in before)
    diff.removed = sum(1 for k in before if k not in after)
    for key, row in after.items():
        was = before.get(key)
        if was is not None and _visible(was, skip) != _visible(row, skip):
            diff.changed += 1
    if name == "Run" and (diff.added or diff.removed or diff.changed):
        diff.note = "refreshed on every run"
    if name == "Status" and "Status" in header and "ID" in header:
        col, ident = header.index("Status"), header.index("ID")
        title = header.index("Title") if "Title" in header else ident
        for key, row in after.items():
            was = before.get(key)
            if was is None:
                continue
            old_status, new_status = _at(was, col), _at(row, col)
            if old_status != new_status:
                diff.status_changes.append(
                    StatusChange(
                        id=_at(row, ident),
                        title=_at(row, title),
                        before=old_status,
                        after=new_status,
                    )
                )
    return diff


def _keyed(body: Sequence[list[str]], keys: Sequence[int]) -> dict[tuple[str, ...], list[str]]:
    seen: Counter[tuple[str, ...]] = Counter()
    out: dict[tuple[str, ...], list[str]] = {}
    for row in body:
        key = tuple(_at(row, i) for i in keys) if keys else tuple(row)
        seen[key] += 1
        out[(*key, str(seen[key]))] = row
    return out


def _visible(row: list[str], skip: set[int]) -> list[str]:
    return trim_row([v for i, v in enumerate(row) if i not in skip])


def _at(row: Sequence[str], index: int) -> str:
    return row[index] if index < len(row) else ""
