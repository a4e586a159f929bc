"""The plan's config models: goals, key results, select clauses and the `status:` rules.

These are the parts of goalsync.yaml that `mappings/` owns (DESIGN.md); `sync/config.py`
assembles them with the connectors' source and sink models. Unknown keys are errors everywhere.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from sync.base.records import Kind, State

# The measures of mappings/measures.py's registry (MEASURES), which says what each one does; a
# test holds the two lists equal.
Measure: TypeAlias = Literal[
    "percent_done",
    "count",
    "sum",
    "open_count",
    "throughput",
    "cycle_time",
    "lead_time",
    "milestone",
    "metric",
]
DEFAULT_CANCELLED_RESOLUTIONS = (
    "Won't Do",
    "Won't Fix",
    "Duplicate",
    "Cannot Reproduce",
    "Declined",
)


def _as_str_tuple(value: Any) -> Any:
    """A key may hold one value or a list of them ("a list inside a key means any of").
    YAML reads `parent: 100` or `milestone: 1.0` as numbers; they are names here."""
    if value is None:
        return None
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(
        str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in items
    )


# A number of the config: finite (`.nan`, `.inf`, and `1e400`, which YAML reads as text and a
# float field as inf, are errors) and small enough that differences, weighted sums and dates
# computed from it stay finite. 1e15 is where floats stop holding every integer.
NUMBER_LIMIT = 1e15
Number = Annotated[float, Field(allow_inf_nan=False, ge=-NUMBER_LIMIT, le=NUMBER_LIMIT)]
Weight = Annotated[float, Field(allow_inf_nan=False, gt=0, le=1_000_000)]

StrList = Annotated[tuple[str, ...] | None, BeforeValidator(_as_str_tuple)]


def _as_field_map(value: Any) -> Any:
    """`project_fields: {Iteration: Sprint 12, Estimate: [3, 5]}`: each field's value or
    values, as text (a board's numbers are compared as numbers in select.py)."""
    if not isinstance(value, dict):
        return value  # pydantic says what is wrong
    return {str(k): _as_str_tuple(v) for k, v in value.items()}


FieldMap = Annotated[dict[str, tuple[str, ...]] | None, BeforeValidator(_as_field_map)]
# The label prefix of an alignment tag (DESIGN "Alignment from inside the teams' tools").
ALIGN_LABEL_PREFIX = "goal:"
KindList = Annotated[tuple[Kind, ...] | None, BeforeValidator(_as_str_tuple)]
StateList = Annotated[tuple[State, ...] | None, BeforeValidator(_as_str_tuple)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )


class SelectClause(_Model):
    """An item matches a clause when it matches every key given (a list means any of)."""

    source: StrList = None
    project: StrList = None
    repo: StrList = None
    kind: KindList = None
    labels: StrList = None
    labels_all: StrList = None
    parent: StrList = None
    milestone: StrList = None
    components: StrList = None
    assignee: StrList = None
    status: StrList = None
    state: StateList = None
    # A board's fields (github_project items' fields["project_fields"]), {field: value(s)}.
    project_fields: FieldMap = None
    # A native clause: text a source runs itself in its own query language (Jira's jql, each
    # an extra search), for the sources whose registry entry declares the key.
    jql: str | None = None

    def given(self) -> dict[str, Any]:
        """The keys this clause sets."""
        return {k: v for k, v in self if v is not None}

    def native(self) -> dict[str, str]:
        """The native clauses this clause sets, by key."""
        return {} if self.jql is None else {"jql": self.jql}


class KeyResult(_Model):
    id: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int | float) else v)]
    title: str
    owner: str | None = None
    start: date | None = None
    due: date | None = None
    measure: Measure = "percent_done"
    by: Literal["count", "points"] = "count"
    select: list[SelectClause] = Field(default_factory=list)
    target: Number | None = None
    baseline: Number | None = None
    direction: Literal["up", "down"] | None = None
    weight: Weight = 1.0
    metric: str | None = None
    state: StateList = None
    field: str | None = None
    stat: Literal["p50", "p85", "mean"] | None = None
    window_weeks: int | None = Field(default=None, ge=1, le=52)


class Goal(_Model):
    id: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int | float) else v)]
    title: str
    owner: str | None = None
    start: date | None = None
    due: date | None = None
    weight: Weight = 1.0
    parent: str | None = None
    key_results: list[KeyResult] = Field(default_factory=list)


def check_people(people: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """An alias (a login, an e-mail) may stand for one person only."""
    owner: dict[str, str] = {}
    for person, aliases in people.items():
        for alias in (person, *aliases):
            key = alias.casefold()
            if owner.get(key, person) != person:
                raise ValueError(f"{alias!r} is listed for both {owner[key]!r} and {person!r}")
            owner[key] = person
    return people


People = Annotated[
    dict[str, Annotated[tuple[str, ...], BeforeValidator(_as_str_tuple)]],
    AfterValidator(check_people),
]


def people_index(people: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Casefolded name or alias -> the person's name as the config spells it."""
    return {
        alias.casefold(): person
        for person, aliases in people.items()
        for alias in (person, *aliases)
    }


class Cycle(_Model):
    start: date
    due: date


class ForecastRules(_Model):
    trials: int = Field(default=10000, ge=100, le=1_000_000)
    window_weeks: int = Field(default=6, ge=1, le=52)


class StatusRules(_Model):
    at_risk_gap: float = Field(default=10, ge=0, le=100)
    off_track_gap: float = Field(default=25, ge=0, le=100)
    # Bounded because they reach dates and counts: a billion days overflows `now - stale_after`.
    stale_after_days: int = Field(default=14, ge=1, le=3660)
    # A key result with an owner and no check-in for this long is a risk ("no check-in").
    checkin_stale_days: int = Field(default=14, ge=1, le=3660)
    goal_status: Literal["rollup", "worst"] = "rollup"
    wip_limit: int = Field(default=8, ge=1, le=100_000)
    scope_growth_pct: float = Field(default=20, ge=0, le=NUMBER_LIMIT)
    forecast: ForecastRules = Field(default_factory=ForecastRules)
    blocked_statuses: tuple[str, ...] = ("Blocked",)
    blocked_labels: tuple[str, ...] = ("blocked",)
    cancelled_resolutions: tuple[str, ...] = DEFAULT_CANCELLED_RESOLUTIONS
