"""goalsync.yaml: load it safely, validate all of it, and report every problem at once with the
file, the line, the field, what is wrong and how to fix it.

The models are owned where DESIGN.md says (goals, key results and `status:` in `mappings/`, each
source and sink type in its connector); this module assembles them into the whole file. YAML is
read with the safe loader only (a `!!python/object` tag is an error), keeping each key's line so
that pydantic's errors and the plan's checks can point at it.
"""

from __future__ import annotations

import difflib
import functools
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
    field_validator,
)

import connectors
from mappings.checks import CycleDates, PlanIssue, SourceInfo, check_plan
from mappings.model import (
    ALIGN_LABEL_PREFIX,
    Cycle,
    ForecastRules,
    Goal,
    KeyResult,
    People,
    SelectClause,
    StatusRules,
    people_index,
)
from mappings.plan import Plan, resolve_plan
from sync.alerts import AlertsConfig
from sync.base.contracts import (
    ItemRules,
    OwnsPlaces,
    ReadsPlaces,
    SinkConfigModel,
    SourceConfigModel,
)
from sync.base.errors import ConfigError, Problem
from sync.yamlmarks import Marks, dotted, line_of, parse_yaml, yaml_path


def _union(entries: Mapping[str, connectors.Connector]) -> Any:
    """The registered config models as one union, told apart by `type:`."""
    models = [entry.config for entry in entries.values()]
    return Annotated[functools.reduce(operator.or_, models), Field(discriminator="type")]


# A source or sink entry: the union of the config models in the registry (connectors/__init__.py)
# when the module is loaded; `config_model()` follows later registrations. To the type checker,
# the contract every such model keeps.
if TYPE_CHECKING:
    SourceConfig: TypeAlias = SourceConfigModel
    SinkConfig: TypeAlias = SinkConfigModel
else:
    SourceConfig = _union(connectors.sources())
    SinkConfig = _union(connectors.sinks())
_DATE: TypeAdapter[date] = TypeAdapter(date)
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class GoalsyncConfig(BaseModel):
    """The whole of goalsync.yaml."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )

    version: Literal[1]
    timezone: str = "UTC"
    cycle: Cycle
    sources: dict[str, SourceConfig] = Field(min_length=1)
    sinks: list[SinkConfig] = Field(min_length=1)
    status: StatusRules = Field(default_factory=StatusRules)
    people: People = Field(default_factory=dict)
    alerts: AlertsConfig | None = None  # a webhook told of status changes and failed runs
    # A label `<prefix><key-result id>` aligns its item to that key result (DESIGN.md).
    align_label_prefix: str = Field(default=ALIGN_LABEL_PREFIX, min_length=1, max_length=50)
    goals: list[Goal] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin or UTC"
            ) from None
        return value

    @field_validator("sources")
    @classmethod
    def _names(cls, sources: dict[str, Any]) -> dict[str, Any]:
        for name in sources:
            if not _SOURCE_NAME.match(name):
                raise ValueError(f"source name {name!r}: use letters, digits, '_', '-' or '.'")
        return sources


_LOADED_AT = connectors.generation()


@functools.cache
def _extended(generation: int) -> type[GoalsyncConfig]:
    """GoalsyncConfig over the registry as it is at `generation` (a connector registered after
    this module was loaded: a test's fake, a plugin). The fields keep their places."""
    del generation  # the cache key
    sources: Any = dict[str, _union(connectors.sources())]  # type: ignore[misc]
    sinks: Any = list[_union(connectors.sinks())]  # type: ignore[misc]
    return create_model(
        "GoalsyncConfig",
        __base__=GoalsyncConfig,
        sources=(sources, Field(min_length=1)),
        sinks=(sinks, Field(min_length=1)),
    )


def config_model() -> type[GoalsyncConfig]:
    """The model of goalsync.yaml with every connector registered now."""
    generation = connectors.generation()
    return GoalsyncConfig if generation == _LOADED_AT else _extended(generation)


@functools.cache
def _source_adapter(generation: int) -> TypeAdapter[Any]:
    del generation  # the cache key
    return TypeAdapter(_union(connectors.sources()))


def _source_models() -> dict[str, type[BaseModel]]:
    return {name: entry.config for name, entry in connectors.sources().items()}


def _sink_models() -> dict[str, type[BaseModel]]:
    return {name: entry.config for name, entry in connectors.sinks().items()}


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    path: Path
    model: GoalsyncConfig
    tz: ZoneInfo
    plan: Plan

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def people(self) -> dict[str, str]:
        return people_index(self.model.people)

    @property
    def item_rules(self) -> ItemRules:
        s = self.model.status
        return ItemRules(
            blocked_statuses=s.blocked_statuses,
            blocked_labels=s.blocked_labels,
            cancelled_resolutions=s.cancelled_resolutions,
        )

    def native_clauses(self, source: str) -> dict[str, tuple[str, ...]]:
        """The select clauses `source` runs itself, by kind (Jira's `jql:`: each an extra
        search): the kinds its registry entry declares, from the clauses that select from it."""
        cfg = self.model.sources.get(source)
        entry = connectors.sources().get(cfg.type) if cfg is not None else None
        found: dict[str, set[str]] = {
            kind: set() for kind in (entry.native_clauses if entry else ())
        }
        for g in self.model.goals:
            for kr in g.key_results:
                for c in kr.select:
                    if c.source is not None and source not in c.source:
                        continue
                    for kind, text in c.native().items():
                        if kind in found:
                            found[kind].add(text)
        return {kind: tuple(sorted(texts)) for kind, texts in found.items() if texts}


def load_config(path: Path) -> LoadedConfig:
    """Read and validate `path`. Raises ConfigError listing every problem found."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {shown} not found; pass --config, set GOALSYNC_CONFIG, or run "
            "`goalsync init` to write a starter goalsync.yaml"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {shown} cannot be read: {exc}") from None
    data, marks, problems = parse_yaml(text, shown)
    if problems and not marks:  # unreadable YAML: nothing else can be checked
        raise ConfigError(f"{shown} is not valid YAML", problems)
    if not isinstance(data, Mapping):
        if problems:
            raise ConfigError(f"{shown} is not valid YAML", problems)
        raise ConfigError(f"{shown}: expected a mapping with version, cycle, sources, sinks, goals")
    try:
        model = config_model().model_validate(data)
    except ValidationError as exc:
        # Duplicate keys (found while reading) are reported together with the schema's problems,
        # and the plan's checks run on the parts that did validate: every problem in one go.
        problems = [*problems, *(_problem(err, data, marks, shown) for err in exc.errors())]
        issues = _check_valid_parts(data)
        problems += _plan_problems(issues, data, marks, shown, skip=problems)
        raise ConfigError(f"{shown} has {len(problems)} problem(s)", problems) from None
    infos = {name: _source_info(name, cfg) for name, cfg in model.sources.items()}
    issues = [*check_plan(model.goals, model.cycle, infos), *_place_clashes(model)]
    if issues or problems:
        problems += _plan_problems(issues, data, marks, shown)
        raise ConfigError(f"{shown} has {len(problems)} problem(s)", problems)
    return LoadedConfig(
        path=path,
        model=model,
        tz=ZoneInfo(model.timezone),
        plan=resolve_plan(model.goals, model.cycle, align_prefix=model.align_label_prefix),
    )


def _plan_problems(
    issues: Sequence[PlanIssue],
    data: Any,
    marks: Marks,
    shown: str,
    skip: Sequence[Problem] = (),
) -> list[Problem]:
    seen = {(p.line, p.path) for p in skip}
    out = []
    for i in issues:
        problem = Problem(
            shown, line_of(i.loc, data, marks), dotted(yaml_path(i.loc, data)), i.message, i.fix
        )
        if (problem.line, problem.path) not in seen:  # already reported by the schema
            out.append(problem)
    return out


def _check_valid_parts(data: Mapping[str, Any]) -> list[PlanIssue]:
    """The plan's checks on whatever validates of a config that as a whole does not: a broken
    `cycle:` or `sources:` does not hide a duplicate id or an unknown source elsewhere."""
    raw_cycle = data.get("cycle")
    try:
        cycle: Cycle | CycleDates = Cycle.model_validate(raw_cycle)
    except ValidationError:  # the dates that do validate; goals' own dates are still compared
        parts = raw_cycle if isinstance(raw_cycle, Mapping) else {}
        cycle = CycleDates(_date_or_none(parts.get("start")), _date_or_none(parts.get("due")))
    raw_goals = data.get("goals")
    listed = raw_goals if isinstance(raw_goals, list) else []
    goals = [_partial_goal(raw, n) for n, raw in enumerate(listed)]
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, Mapping):
        return check_plan(goals, cycle, None)  # reported already: no clause is checked against it
    infos: dict[str, SourceInfo] = {}
    for name, raw in raw_sources.items():
        try:
            adapter = _source_adapter(connectors.generation())
            infos[str(name)] = _source_info(str(name), adapter.validate_python(raw))
        except ValidationError:  # reported already; let clauses that name it pass
            infos[str(name)] = SourceInfo(str(name), "unknown", "any", native=None)
    return check_plan(goals, cycle, infos)


def _place_clashes(model: GoalsyncConfig) -> list[PlanIssue]:
    """An input that a sink overwrites on every publish (a plan tab that a sheets sink on the
    same spreadsheet owns) would be lost by the first publish: refuse it before anything runs."""
    owned: set[str] = set()
    for sink in model.sinks:
        if isinstance(sink, OwnsPlaces):
            owned.update(sink.owned_places())
    issues = []
    for name, source in model.sources.items():
        if not isinstance(source, ReadsPlaces):
            continue
        for read in source.read_places():
            if read.place in owned:
                issues.append(PlanIssue(("sources", name, *read.loc), read.clash, read.fix))
    return issues


# Stand-ins for the parts of a goal that do not validate: their problems are reported already,
# and each passes every plan check, so that the parts around them are checked at their places.
_STAND_IN_CLAUSE = SelectClause(kind=("issue",))
# Keys without which the other checks would mislead (another measure's rules, another id).
_VITAL_KR_KEYS = frozenset({"id", "measure"})


def _partial_goal(raw: Any, n: int) -> Goal:
    """A goal that does not validate, rebuilt from its parts that do (its valid key results,
    its dates), keeping list positions so that locations stay right."""
    try:
        return Goal.model_validate(raw)
    except ValidationError:
        pass
    raw = raw if isinstance(raw, Mapping) else {}
    raw_krs = raw.get("key_results")
    krs = [
        _partial_kr(raw_kr, n, k)
        for k, raw_kr in enumerate(raw_krs if isinstance(raw_krs, list) else [])
    ]
    return Goal.model_construct(
        id=str(raw.get("id") or f"\0invalid-{n}"),
        title=str(raw.get("title") or ""),
        owner=raw.get("owner") if isinstance(raw.get("owner"), str) else None,
        start=_date_or_none(raw.get("start")),
        due=_date_or_none(raw.get("due")),
        parent=raw.get("parent") if isinstance(raw.get("parent"), str) else None,
        weight=1.0,
        key_results=krs,
    )


def _partial_kr(raw: Any, n: int, k: int) -> KeyResult:
    """A key result without the keys that do not validate (invalid select clauses replaced by a
    stand-in), so that its other keys and clauses are still checked; a stand-in for the whole
    when even that fails or its id or measure is what is wrong."""
    try:
        return KeyResult.model_validate(raw)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    if isinstance(raw, Mapping) and not bad & _VITAL_KR_KEYS:
        kept = {str(key): v for key, v in raw.items() if str(key) not in bad - {"select"}}
        if isinstance(kept.get("select"), list):
            kept["select"] = [_clause_or_stand_in(c) for c in kept["select"]]
        kept.setdefault("title", "")
        try:
            return KeyResult.model_validate(kept)
        except ValidationError:
            pass
    return KeyResult(id=f"\0invalid-{n}-{k}", title="", measure="metric", metric="-", target=1)


def _clause_or_stand_in(raw: Any) -> SelectClause:
    try:
        return SelectClause.model_validate(raw)
    except ValidationError:
        return _STAND_IN_CLAUSE


def _date_or_none(value: Any) -> date | None:
    try:
        return _DATE.validate_python(value) if value is not None else None
    except ValidationError:
        return None


def _source_info(name: str, cfg: SourceConfigModel) -> SourceInfo:
    traits = cfg.traits()
    entry = connectors.sources()[cfg.type]
    return SourceInfo(
        name,
        cfg.type,
        traits.flavour,
        native=frozenset(entry.native_clauses),
        native_scope=traits.native_scope,
    )


def _model_at(path: Sequence[str | int], data: Any) -> type[BaseModel] | None:
    """The model that validates the mapping at `path`, for listing its allowed keys."""
    parts = [p for p in path if not isinstance(p, int)]
    if not parts:
        return GoalsyncConfig
    node = data
    for p in path:
        node = (
            node.get(p)
            if isinstance(node, Mapping)
            else (
                node[p] if isinstance(node, list) and isinstance(p, int) and p < len(node) else None
            )
        )
    kind = node.get("type") if isinstance(node, Mapping) else None
    if parts[0] == "sources" and len(parts) == 2:
        return _source_models().get(str(kind))
    if parts[0] == "sinks" and len(parts) == 1:
        return _sink_models().get(str(kind))
    table: dict[str, type[BaseModel]] = {
        **_nested_models(),
        "cycle": Cycle,
        "status": StatusRules,
        "forecast": ForecastRules,
        "goals": Goal,
        "key_results": KeyResult,
        "select": SelectClause,
        "alerts": AlertsConfig,
    }
    return table.get(str(parts[-1]))


def _nested_models() -> dict[str, type[BaseModel]]:
    """The models nested in connectors' entries, by key (a sheets source's `tabs:`)."""
    found: dict[str, type[BaseModel]] = {}
    for entry in [*connectors.sources().values(), *connectors.sinks().values()]:
        for key, field in entry.config.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                found[key] = field.annotation
    return found


def _problem(err: Mapping[str, Any], data: Any, marks: Marks, shown: str) -> Problem:
    loc = tuple(err["loc"])
    path = yaml_path(loc, data)
    line = line_of(loc, data, marks)
    kind = err["type"]
    msg = str(err["msg"]).removeprefix("Value error, ")
    fix = ""
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        model = _model_at(path[:-1], data)
        allowed = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(key, allowed, n=1)
        msg = f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        fix = f"remove it; allowed here: {', '.join(allowed)}" if allowed else "remove it"
    elif kind == "missing":
        msg = "required key is missing"
        fix = f"add {path[-1]}: <value>" if path else ""
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        # pydantic names the allowed tags only when the tag is unknown, not when it is missing
        models = _sink_models() if path and path[0] == "sinks" else _source_models()
        expected = err.get("ctx", {}).get("expected_tags") or ", ".join(map(repr, models))
        msg = "missing or unknown type" if kind == "union_tag_not_found" else "unknown type"
        fix = f"set type: to one of {expected}"
    return Problem(shown, line, dotted(path), msg, fix)
