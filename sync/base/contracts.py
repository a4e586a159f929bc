"""What the engine and the connectors agree on: how a source is pulled and a sink written.

Bottom of the project (imports only `records`, `report`, `errors`), so that connectors depend on
these shapes and never on the engine. A connector's config model builds a `Source` or a `Sink`;
building checks what can be checked without a request and raises ConfigError otherwise.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

from sync.base.records import CheckIn, Event, GoalDef, Metric, Override, WorkItem
from sync.base.report import HistoryRow, Table


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRules:
    """The parts of `status:` that decide an item's state while it is parsed."""

    blocked_statuses: tuple[str, ...] = ("Blocked",)
    blocked_labels: tuple[str, ...] = ("blocked",)
    cancelled_resolutions: tuple[str, ...] = (
        "Won't Do",
        "Won't Fix",
        "Duplicate",
        "Cannot Reproduce",
        "Declined",
    )

    def is_blocked_status(self, status: str) -> bool:
        return status.casefold() in {s.casefold() for s in self.blocked_statuses}

    def has_blocked_label(self, labels: Sequence[str]) -> bool:
        wanted = {s.casefold() for s in self.blocked_labels}
        return any(label.casefold() in wanted for label in labels)

    def is_cancelled_resolution(self, resolution: str | None) -> bool:
        if not resolution:
            return False
        return resolution.casefold() in {s.casefold() for s in self.cancelled_resolutions}


# Told by a source as it reads: (pages, items) read since the last call. The CLI draws a progress
# bar per source from it; it must be cheap and may be called from several threads at once.
ProgressCallback: TypeAlias = Callable[[int, int], None]


def no_progress(pages: int, items: int) -> None:
    """The default: nobody is watching."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PullContext:
    """Everything a source needs for one pull."""

    source: str
    run_started: datetime  # cursors are capped here: what changed later is read next run
    tz: tzinfo  # how naive dates in sheets and CSV files are read
    rules: ItemRules = field(default_factory=ItemRules)
    cursor: str | None = None  # opaque to the engine; None means never pulled
    full: bool = False  # re-read the whole scope and drop what vanished (--full)
    last_full: datetime | None = None  # the last complete pull: a source's reconcile clock
    state: Mapping[str, str] = field(default_factory=dict)  # the source's own kept values
    # The select clauses this source runs itself, by kind (Jira's `jql:`: each an extra search):
    # the kinds its registry entry declares (connectors/__init__.py), and no others.
    native_clauses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    budget_s: float = 300.0
    progress: ProgressCallback = no_progress  # pages and items read, as they come
    # An item whose start (first move to in progress) a key result measures now: a cycle time
    # over its window. None: no key result needs a start from this source. A source whose
    # history reaches back only so far (GitHub's paging limit) reads those items' own history.
    needs_start: Callable[[WorkItem], bool] | None = None
    # The earliest instant this run's measures look back to (the cycle's start, the windows of
    # throughput and forecasts, an --as-of or backfill day before them). None: unknown. A
    # source whose history costs a request per page reads no further back on a first pull.
    history_from: datetime | None = None


@dataclass(slots=True, kw_only=True)
class PullResult:
    items: list[WorkItem] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    goal_defs: list[GoalDef] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    checkins: list[CheckIn] = field(default_factory=list)
    complete: bool = True  # a whole snapshot: it replaces what the store holds for the source
    has_history: bool = False  # the source reports status changes itself (a changelog)
    cursor: str | None = None
    state: dict[str, str] = field(default_factory=dict)
    # The keys each native clause matched: kind -> clause text -> item keys.
    native_matches: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    requests: int = 0
    warnings: list[str] = field(default_factory=list)


class Source(Protocol):
    name: str
    type: str

    def fetch(self, ctx: PullContext) -> PullResult:
        """Pull the scope. Raises SourceError (or a subclass) when it cannot."""
        ...


@dataclass(frozen=True, slots=True)
class Export:
    """An API export read by a file source (`format: jira_search`, `github_issues`): which
    source reads it, its points field, and the file (for messages)."""

    source: str
    points_field: str | None
    path: Path


# Reads one export file's parsed JSON into `out`; raises FatalError on a wrong shape. Each
# outside system reads its own payloads; the registry hands the readers to the file source.
ExportReader: TypeAlias = Callable[[object, Export, PullContext, "PullResult"], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishContext:
    run_id: str
    now: datetime
    tz: tzinfo
    history: Sequence[HistoryRow] = ()
    title: str = "goalsync status"
    budget_s: float = 300.0  # the run's retry budget, shared by a sink's calls in one publish


class PreparedWrite(Protocol):
    """A write made ready without touching what readers see; `apply` makes it visible."""

    description: str
    remote: bool

    def apply(self) -> None: ...

    def discard(self) -> None: ...


class Sink(Protocol):
    type: str

    def prepare(self, tables: Sequence[Table], ctx: PublishContext) -> PreparedWrite:
        """Render or build the write; raises PublishError when it cannot."""
        ...


@runtime_checkable
class Described(Protocol):
    """A sink that names itself in messages ("sheets 1XyZ", "csv out/"); else its type."""

    @property
    def description(self) -> str: ...


def describe(sink: Sink) -> str:
    return sink.description if isinstance(sink, Described) else sink.type


@runtime_checkable
class Opener(Protocol):
    """A sink that can be checked before any source is pulled (a remote one: the Sheets sink).
    The engine calls `open` first, so that a sink that does not exist (a wrong spreadsheet id)
    stops the run with exit 2 before a single source request; what it read is kept for this
    run's `prepare` (and `read_history`), which then do not read it again."""

    def open(self, budget_s: float | None = None) -> None:
        """Raises ConfigError when the sink does not exist (exit 2, nothing pulled) and
        PublishError when it cannot be read now (the publish tries again)."""
        ...


@runtime_checkable
class HistoryKeeper(Protocol):
    """A sink that holds History itself (the Sheets History tab). When the state dir is empty
    the engine seeds the store's History from it, so losing the state never loses the trend."""

    def read_history(self, budget_s: float | None = None) -> list[HistoryRow]:
        """The History rows the sink holds now; raises PublishError when it cannot read them."""
        ...


# --- what `sync/` asks of a connector's config model (the registry holds the classes) ---------


@dataclass(frozen=True, slots=True)
class SourceTraits:
    """What the plan's checks need to know of a source (mappings.checks.SourceInfo)."""

    flavour: Literal["jira", "github", "items", "none"]  # which select clause keys fit its items
    native_scope: str | None = None  # its scope in its own query language (a Jira source's jql)


@dataclass(frozen=True, slots=True)
class PlaceRead:
    """An input a source reads from a place a sink may also write (a tab of a spreadsheet)."""

    loc: tuple[str | int, ...]  # where it is named, under the source's entry in goalsync.yaml
    place: str  # compared with the sinks' `owned_places`
    clash: str  # the problem when a sink owns it
    fix: str


class SourceConfigModel(Protocol):
    """A `sources:` entry (a pydantic model with a `type:` literal, registered by its connector).
    `build` checks what can be checked without a request and raises ConfigError otherwise."""

    type: str

    def build(self, name: str, base_dir: Path) -> Source: ...

    def traits(self) -> SourceTraits: ...


class SinkConfigModel(Protocol):
    type: str

    def build(self, base_dir: Path) -> Sink: ...


@runtime_checkable
class ReadsPlaces(Protocol):
    """A source config whose inputs a sink could overwrite (the sheets source's tabs)."""

    def read_places(self) -> Sequence[PlaceRead]: ...


@runtime_checkable
class OwnsPlaces(Protocol):
    """A sink config that overwrites places on every publish (the sheets sink's tabs)."""

    def owned_places(self) -> Collection[str]: ...


# --- `goalsync doctor`: a connector checks its own system --------------------------------------

CheckStatus: TypeAlias = Literal["ok", "warn", "fail"]


class CheckTarget(Protocol):
    """Where a connector's checks go: one source or sink of doctor's report (sync.doctor)."""

    requests: int  # the requests the checks made

    def add(self, check: str, status: CheckStatus, detail: str, fix: str = "") -> object: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckContext:
    budget_s: float  # retries per target: an unreachable host fails in seconds, not minutes
    tz: tzinfo
    rules: ItemRules = field(default_factory=ItemRules)
    native_clauses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # as PullContext


@runtime_checkable
class Checkable(Protocol):
    """A source or sink that doctor can check: the fewest requests that answer "would a run
    work?", each check added to `target` as ok, warn (works, but look) or fail."""

    def check(self, target: CheckTarget, ctx: CheckContext) -> None: ...


def writable(path: Path, *, kind: Literal["file", "folder"]) -> tuple[CheckStatus, str, str]:
    """Whether a run could write `path` (a file, or a folder it fills), without writing."""
    if path.exists():
        if kind == "folder" and not path.is_dir():
            return "fail", f"{path} exists and is not a folder", "point path: at a folder"
        if kind == "file" and path.is_dir():
            return "fail", f"{path} is a folder", "point path: at a file"
        folder = path if kind == "folder" else path.parent
        if os.access(folder, os.W_OK | os.X_OK):
            return "ok", f"{path} exists and can be replaced", ""
        return "fail", f"cannot write in {folder}", f"give this user write access to {folder}"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return "fail", f"{parent} is not a folder", "fix the path"
    if os.access(parent, os.W_OK | os.X_OK):
        return "ok", f"{path} will be created (in {parent})", ""
    return "fail", f"cannot create {path}: {parent} is not writable", f"make {parent} writable"


# --- `goalsync plan`: a sink reads back what it holds ------------------------------------------

Rows: TypeAlias = list[list[str]]  # a tab as text: the header row, then the rows; blanks trimmed


@dataclass(slots=True, kw_only=True)
class Held:
    """What a sink holds now, as text, and how it would hold new tables (read back the same way,
    so that a difference is a difference in what a reader would see)."""

    tabs: dict[str, Rows] | None = None  # None: nothing there yet (no file, no owned tab)
    history: list[HistoryRow] = field(default_factory=list)  # the History it keeps, if any
    requests: int = 0
    note: str = ""
    render: Callable[[Sequence[Table]], dict[str, Rows]] | None = None  # None: not compared


@runtime_checkable
class ReadBack(Protocol):
    def read_back(self, budget_s: float) -> Held:
        """Raises GoalsyncError when what the sink holds cannot be read."""
        ...


def cell_text(value: Any) -> str:
    """A read-back cell as text, the same way for every sink (numbers as a reader sees them)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            return ""
        return str(int(number)) if number.is_integer() else repr(round(number, 6))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def trim_row(row: list[str]) -> list[str]:
    """Trailing blanks dropped: a sheet or file does not keep them apart from a short row."""
    end = len(row)
    while end and row[end - 1] == "":
        end -= 1
    return row[:end]


def resolve_path(base_dir: Path, path: str) -> Path:
    """Relative paths in goalsync.yaml are relative to the config file's folder."""
    candidate = Path(path).expanduser()
    joined = candidate if candidate.is_absolute() else base_dir / candidate
    return Path(os.path.normpath(joined))  # "examples/demo/../../out" reads as "out"


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def check_base_url(url: str) -> str:
    """An API root must be https; plain http only for a loopback test server. Raises ValueError
    (which pydantic reports against the field)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as https://acme.atlassian.net")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise ValueError("must use https (plain http is allowed only for 127.0.0.1 / localhost)")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; they come from environment variables")
    return url.strip().rstrip("/")


def is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "") in _LOOPBACK_HOSTS
