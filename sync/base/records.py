"""The records every source yields and every layer passes around.

This is the bottom of the project: it imports nothing from goalsync. Records are frozen,
slotted dataclasses (not pydantic models) because an evaluation handles hundreds of thousands
of them and validation already happened at the connector boundary. Every datetime is
timezone-aware UTC; `to_json` / `from_json` are the one serialisation the store uses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeAlias

State: TypeAlias = Literal["todo", "in_progress", "done", "cancelled"]
Kind: TypeAlias = Literal["issue", "pull_request", "task", "epic"]
EventKind: TypeAlias = Literal[
    "status_changed", "closed", "reopened", "merged", "labeled", "unlabeled", "assigned"
]
StatusWord: TypeAlias = Literal["On track", "At risk", "Off track", "Done", "Not started"]

STATES: tuple[State, ...] = ("todo", "in_progress", "done", "cancelled")
# What an owner may say of a key result in a check-in: a confidence, not a status (Done and Not
# started are facts the data tells; the owner tells how the rest feels).
Confidence: TypeAlias = Literal["On track", "At risk", "Off track"]
CONFIDENCES: tuple[Confidence, ...] = ("On track", "At risk", "Off track")


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkItem:
    """One piece of work: a Jira issue, a GitHub issue or pull request, a sheet task."""

    source: str
    key: str
    kind: Kind = "issue"
    title: str = ""
    url: str | None = None
    status: str = ""
    state: State = "todo"
    blocked: bool = False
    assignee: str | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    parent: str | None = None
    milestone: str | None = None
    project: str | None = None
    points: float | None = None
    priority: str | None = None
    created: datetime | None = None
    updated: datetime | None = None
    started: datetime | None = None
    done_at: datetime | None = None
    due: date | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.state in ("todo", "in_progress")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened to an item. `from_state` / `to_state` are the normalised states
    of a status change (the raw status names stay in `from_value` / `to_value`), so measures and
    `--as-of` never have to know a source's workflow."""

    source: str
    item_key: str
    at: datetime
    kind: EventKind
    from_value: str | None = None
    to_value: str | None = None
    actor: str | None = None
    from_state: State | None = None
    to_state: State | None = None

    @property
    def identity(self) -> str:
        """Events have no id of their own in every source; this one is stable across pulls."""
        return f"{self.item_key}|{self.at.isoformat()}|{self.kind}|{self.to_value or ''}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    """A number kept by hand (revenue, NPS) at a point in time."""

    source: str
    name: str
    at: datetime
    value: float

    @property
    def identity(self) -> str:
        return f"{self.name}|{self.at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class GoalDef:
    """A goal or key result row from a Goals tab or csv_goals file. Empty cells are None."""

    source: str
    id: str
    title: str | None = None
    owner: str | None = None
    start: date | None = None
    due: date | None = None
    target: float | None = None
    parent: str | None = None
    origin: str = ""  # "Goals!A7" or "goals.csv:7", for messages


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """A status set by hand for a goal or key result, valid through `until` (inclusive)."""

    source: str
    id: str
    status: StatusWord
    reason: str = ""
    until: date | None = None
    origin: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckIn:
    """An owner's word on a key result at a date: a confidence and a comment (a Check-ins tab
    or csv_checkins row). It never changes the status; it stands beside it."""

    source: str
    id: str
    date: date
    confidence: Confidence
    comment: str = ""
    by: str | None = None
    origin: str = ""


Record: TypeAlias = WorkItem | Event | Metric | GoalDef | Override | CheckIn


@dataclass(frozen=True, slots=True, kw_only=True)
class Records:
    """Everything one evaluation looks at."""

    items: tuple[WorkItem, ...] = ()
    events: tuple[Event, ...] = ()
    metrics: tuple[Metric, ...] = ()
    goal_defs: tuple[GoalDef, ...] = ()
    overrides: tuple[Override, ...] = ()
    checkins: tuple[CheckIn, ...] = ()


_TYPES: dict[str, type[Any]] = {
    "item": WorkItem,
    "event": Event,
    "metric": Metric,
    "goal_def": GoalDef,
    "override": Override,
    "checkin": CheckIn,
}


def to_json(record: Record) -> dict[str, Any]:
    """A JSON-safe dict of a record (dates as ISO strings, tuples as lists)."""
    out: dict[str, Any] = {}
    for name in _FIELD_NAMES[type(record)]:
        value = getattr(record, name)
        if value is None:
            pass
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[name] = value
    return out


def from_json(kind: str, data: Mapping[str, Any], shared: dict[str, str] | None = None) -> Record:
    """The inverse of `to_json` for a record of type `kind` ("item", "event", ...).

    `shared`: one dict for a whole load, so that records hold one copy of each repeated string
    (a source name, a status, an assignee, an event's item key): 100,000 items and their events
    hold a few million such strings otherwise, a quarter of a loaded state's memory."""
    try:
        record: Record = _FAST_DECODERS[kind](data, {} if shared is None else shared)
    except KeyError:
        if kind not in _FAST_DECODERS:
            raise
        return _from_json_checked(kind, data)  # a required field is missing: its TypeError
    return record


def _from_json_checked(kind: str, data: Mapping[str, Any]) -> Record:
    """`from_json` through the dataclass's own `__init__`."""
    values: dict[str, Any] = {}
    for name, convert in _DECODERS[kind]:
        if name not in data:
            continue
        value = data[name]
        if value is not None and convert is not None:
            value = convert(value)
        values[name] = value
    record: Record = _TYPES[kind](**values)
    return record


def _decoder(hint: str) -> Callable[[Any], Any] | None:
    """How a stored JSON value becomes a field's value, from the field's annotation."""
    if "datetime" in hint:
        return datetime.fromisoformat
    if hint.startswith("date"):
        return date.fromisoformat
    if hint.startswith("tuple"):
        return tuple
    return None


# Worked out once: the store reads and writes every record through these two functions, and
# `dataclasses.fields` with annotation parsing per record was most of their time.
_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _TYPES.values()
}
_DECODERS: dict[str, tuple[tuple[str, Callable[[Any], Any] | None], ...]] = {
    kind: tuple((f.name, _decoder(str(f.type))) for f in dataclasses.fields(cls))
    for kind, cls in _TYPES.items()
}


def _compile_decoder(cls: type[Any]) -> Callable[[Mapping[str, Any], dict[str, str]], Any]:
    """A decoder of one record type that sets each slot straight (what the frozen dataclass's
    `__init__` does, without the keyword arguments): loading a state of 100,000 items calls
    it for every record, and `cls(**values)` was half of the load's time. Same rules as the
    checked path: an absent field takes its default, None stays None, the rest is converted."""
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_M": _ABSENT}
    lines = [
        "def decode(d, shared):",
        "    o = _new(_cls)",
        "    get = d.get",
        "    share = shared.setdefault",
    ]
    for n, f in enumerate(dataclasses.fields(cls)):
        env[f"_set{n}"] = cls.__dict__[f.name].__set__
        convert = _decoder(str(f.type))
        if f.default is not dataclasses.MISSING:
            env[f"_d{n}"] = f.default
            lines += [f"    v = get({f.name!r}, _M)", f"    if v is _M: v = _d{n}"]
        elif f.default_factory is not dataclasses.MISSING:
            env[f"_d{n}"] = f.default_factory
            lines += [f"    v = get({f.name!r}, _M)", f"    if v is _M: v = _d{n}()"]
        else:
            lines += [f"    v = d[{f.name!r}]", "    if False: pass"]
        if convert is not None:
            env[f"_c{n}"] = convert
            lines.append(f"    elif v is not None: v = _c{n}(v)")
        if f.name in _SHARED_FIELDS:
            lines.append("    if v.__class__ is str: v = share(v, v)")
        lines.append(f"    _set{n}(o, v)")
    lines.append("    return o")
    exec("\n".join(lines), env)  # noqa: S102 - code made above from the dataclass's own fields
    decode: Callable[[Mapping[str, Any], dict[str, str]], Any] = env["decode"]
    return decode


_ABSENT = object()
# Fields whose values repeat across records (a title or a URL does not): their strings are shared.
_SHARED_FIELDS = frozenset(
    ("source", "key", "item_key", "kind", "status", "state", "assignee", "parent", "milestone",
     "project", "priority", "from_value", "to_value", "actor", "from_state", "to_state", "name",
     "id", "confidence", "by")
)  # fmt: skip
_FAST_DECODERS: dict[str, Callable[[Mapping[str, Any], dict[str, str]], Any]] = {
    kind: _compile_decoder(cls) for kind, cls in _TYPES.items()
}
