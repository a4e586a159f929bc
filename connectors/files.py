"""File sources (`type: file`): offline exports in the real APIs' shapes, and CSV tables.

`path` is a file or a glob, relative to the config file's folder. Every pull reads the whole
export, so a pull is a complete snapshot: what left the export leaves the store. A path that
matches nothing is a config error (exit 2, nothing published); a file that cannot be read or has
the wrong shape fails the source (it keeps its last good values, marked stale), naming the file
and what is wrong.
"""

from __future__ import annotations

import csv
import glob
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors import github_parse, jira_parse, tabular
from connectors.shapes import Skipped
from sync.contracts import PullContext, PullResult, resolve_path
from sync.errors import ConfigError, FatalError
from sync.records import Event, WorkItem

log = structlog.get_logger(__name__)

FileFormat = Literal[
    "jira_search", "github_issues", "csv_items", "csv_metrics", "csv_goals", "csv_overrides"
]
# Formats and what they yield, for the plan's checks of select clauses.
ITEM_FLAVOURS: dict[str, Literal["jira", "github", "items", "none"]] = {
    "jira_search": "jira",
    "github_issues": "github",
    "csv_items": "items",
    "csv_metrics": "none",
    "csv_goals": "none",
    "csv_overrides": "none",
}


class FileSourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["file"]
    path: str = Field(min_length=1)
    format: FileFormat
    points_field: str | None = None

    @model_validator(mode="after")
    def _points_only_for_jira(self) -> FileSourceConfig:
        if self.points_field is not None and self.format != "jira_search":
            raise ValueError("points_field applies only to format jira_search")
        return self

    def build(self, name: str, base_dir: Path) -> FileSource:
        pattern = resolve_path(base_dir, self.path)
        if not _matches(pattern):
            raise ConfigError(
                f"source {name!r}: path {self.path!r} matches no file (looked for {pattern}); "
                "fix the path (relative paths start at the config file's folder)"
            )
        return FileSource(name, self, pattern)


class FileSource:
    type = "file"

    def __init__(self, name: str, config: FileSourceConfig, pattern: Path) -> None:
        self.name = name
        self.config = config
        self.pattern = pattern

    def fetch(self, ctx: PullContext) -> PullResult:
        paths = _matches(self.pattern)
        if not paths:
            raise FatalError(f"source {self.name!r}: no file matches {self.pattern} any more")
        reader = _READERS[self.config.format]
        result = PullResult(complete=True)
        for path in paths:
            before = _rows(result)
            try:
                reader(self, path, ctx, result)
            except FatalError as exc:  # the parsers' messages do not know the file: add it
                if str(path) in str(exc) or str(exc).startswith(f"{path.name}: "):
                    raise
                raise FatalError(f"{path}: {exc}") from None
            except (AttributeError, TypeError) as exc:  # a nested value of the wrong type
                raise FatalError(f"{path}: not in the {self.config.format} shape ({exc})") from None
            ctx.progress(1, _rows(result) - before)  # a file a page
        for problem in result.warnings:
            log.warning("skipped_row", source=self.name, problem=problem)
        return result


def _rows(result: PullResult) -> int:
    r = result
    return len(r.items) + len(r.metrics) + len(r.goal_defs) + len(r.overrides)


def _matches(pattern: Path) -> list[Path]:
    text = str(pattern)
    if glob.has_magic(text):
        return sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
    return [pattern] if pattern.is_file() else []


def _load_json(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise FatalError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except UnicodeDecodeError as exc:
        raise FatalError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise FatalError(f"{path}: cannot be read ({exc.strerror})") from None


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise FatalError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except (OSError, csv.Error) as exc:
        raise FatalError(f"{path}: cannot be read as CSV ({exc})") from None
    if not rows:
        raise FatalError(f"{path}: empty file, expected a header row")
    return rows[0], rows[1:]


def _read_jira_search(src: FileSource, path: Path, ctx: PullContext, out: PullResult) -> None:
    data = _load_json(path)
    pages = data if isinstance(data, list) else [data]
    issues: list[Mapping[str, Any]] = []
    names: dict[str, str] = {}
    schema: dict[str, Any] = {}
    for n, page in enumerate(pages):
        if not isinstance(page, Mapping) or not isinstance(page.get("issues"), list):
            raise FatalError(
                f"{path}: page {n} is not a Jira search response (an object with an 'issues' "
                "list, as /rest/api/3/search/jql returns)"
            )
        if not all(isinstance(i, Mapping) for i in page["issues"]):
            raise FatalError(f"{path}: page {n} has 'issues' entries that are not objects")
        issues.extend(page["issues"])
        names.update(page.get("names") or {})
        schema.update(page.get("schema") or {})
    field_ids = jira_parse.find_field_ids(names, schema, src.config.points_field or "auto")
    if not field_ids.points:
        out.warnings.append(
            f"{path}: no story points field found (export with expand=names, or set "
            "points_field); points are unknown"
        )
    # Shapes first: statuses are learnt only from issues of the right shape; the others are
    # skipped and named.
    skipped = Skipped(src.name)
    good: list[Mapping[str, Any]] = []
    for raw in issues:
        problem = jira_parse.check_issue(raw, field_ids)
        if problem is None:
            good.append(raw)
        else:
            skipped.add(jira_parse.issue_name(raw), problem)
    categories = jira_parse.status_categories(good)
    # Pages of one export can overlap (an issue updated while paging moves to a later page):
    # the key is the identity, and the later copy is the newer one.
    parsed: dict[str, tuple[WorkItem, list[Event]]] = {}
    for raw in good:
        one = jira_parse.checked_issue(
            raw,
            source=src.name,
            fields_ids=field_ids,
            rules=ctx.rules,
            categories=categories,
            skipped=skipped,
            checked=True,
        )
        if one is None:
            continue
        parsed.pop(one[0].key, None)
        parsed[one[0].key] = one
        out.has_history = out.has_history or "changelog" in raw
    for item, events in parsed.values():
        out.items.append(item)
        out.events.extend(events)
    skipped.report(out.warnings, where=path.name)


def _read_github_issues(src: FileSource, path: Path, ctx: PullContext, out: PullResult) -> None:
    data = _load_json(path)
    if not isinstance(data, list):
        raise FatalError(
            f"{path}: expected a JSON array of issues, as GET /repos/{{owner}}/{{repo}}/issues "
            "returns"
        )
    rules = github_parse.IssueRules(items=ctx.rules)
    skipped = Skipped(src.name)
    for raw in data:
        if not isinstance(raw, Mapping):
            raise FatalError(f"{path}: an entry of the array is not an issue object")
        item = github_parse.checked_issue(raw, source=src.name, rules=rules, skipped=skipped)
        if item is not None:
            out.items.append(item)
    skipped.report(out.warnings, where=path.name)


def _read_csv_items(src: FileSource, path: Path, ctx: PullContext, out: PullResult) -> None:
    header, rows = _read_csv(path)
    parsed = tabular.parse_item_rows(
        header, rows, source=src.name, origin=path.name, tz=ctx.tz, rules=ctx.rules
    )
    out.items.extend(parsed.records)
    out.warnings.extend(parsed.problems)


def _read_csv_metrics(src: FileSource, path: Path, ctx: PullContext, out: PullResult) -> None:
    header, rows = _read_csv(path)
    parsed = tabular.parse_metric_rows(header, rows, source=src.name, origin=path.name, tz=ctx.tz)
    out.metrics.extend(parsed.records)
    out.warnings.extend(parsed.problems)


def _read_csv_goals(src: FileSource, path: Path, ctx: PullContext, out: PullResult) -> None:
    header, rows = _read_csv(path)
    parsed = tabular.parse_goal_rows(header, rows, source=src.name, origin=path.name)
    out.goal_defs.extend(parsed.records)
    out.warnings.extend(parsed.problems)


def _read_csv_overrides(src: FileSource, path: Path, ctx: PullContext, out: PullResult) -> None:
    header, rows = _read_csv(path)
    parsed = tabular.parse_override_rows(header, rows, source=src.name, origin=path.name)
    out.overrides.extend(parsed.records)
    out.warnings.extend(parsed.problems)


_READERS: dict[str, Callable[[FileSource, Path, PullContext, PullResult], None]] = {
    "jira_search": _read_jira_search,
    "github_issues": _read_github_issues,
    "csv_items": _read_csv_items,
    "csv_metrics": _read_csv_metrics,
    "csv_goals": _read_csv_goals,
    "csv_overrides": _read_csv_overrides,
}
