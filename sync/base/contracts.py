"""What the engine and the connectors agree on: how a source is pulled and a sink written.

Bottom of the project (imports only `records`, `report`, `errors`), so that connectors depend on
these shapes and never on the engine. A connector's config model builds a `Source` or a `Sink`;
building checks what can be checked without a request and raises ConfigError otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Protocol, TypeAlias

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
    jql_clauses: tuple[str, ...] = ()  # extra Jira searches that select key results
    budget_s: float = 300.0
    progress: ProgressCallback = no_progress  # pages and items read, as they come
    # An item whose start (first move to in progress) a key result measures now: a cycle time
    # over its window. None: no key result needs a start from this source. A source whose
    # history reaches back only so far (GitHub's paging limit) reads those items' own history.
    needs_start: Callable[[WorkItem], bool] | None = None


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
    jql_matches: dict[str, frozenset[str]] = field(default_factory=dict)
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


class Opener(Protocol):
    """A sink that can be checked before any source is pulled (a remote one: the Sheets sink).
    The engine calls `open` first, so that a sink that does not exist (a wrong spreadsheet id)
    stops the run with exit 2 before a single source request; what it read is kept for this
    run's `prepare` (and `read_history`), which then do not read it again."""

    def open(self, budget_s: float | None = None) -> None:
        """Raises ConfigError when the sink does not exist (exit 2, nothing pulled) and
        PublishError when it cannot be read now (the publish tries again)."""
        ...


class HistoryKeeper(Protocol):
    """A sink that holds History itself (the Sheets History tab). When the state dir is empty
    the engine seeds the store's History from it, so losing the state never loses the trend."""

    def read_history(self, budget_s: float | None = None) -> list[HistoryRow]:
        """The History rows the sink holds now; raises PublishError when it cannot read them."""
        ...


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
