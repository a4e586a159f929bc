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
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sync.base import tabular
from sync.base.contracts import (
    CheckContext,
    CheckTarget,
    Export,
    ExportReader,
    PullContext,
    PullResult,
    SourceTraits,
    resolve_path,
)
from sync.base.errors import ConfigError, FatalError

log = structlog.get_logger(__name__)

FileFormat = Literal[
    "jira_search",
    "github_issues",
    "github_project",
    "csv_items",
    "csv_metrics",
    "csv_goals",
    "csv_overrides",
    "csv_checkins",
]
# Formats and what they yield, for the plan's checks of select clauses.
ITEM_FLAVOURS: dict[str, Literal["jira", "github", "items", "none"]] = {
    "jira_search": "jira",
    "github_issues": "github",
    "github_project": "github",
    "csv_items": "items",
    "csv_metrics": "none",
    "csv_goals": "none",
    "csv_overrides": "none",
    "csv_checkins": "none",
}


# An API export's reader, by format: each outside system reads its own payloads (jira/export.py,
# github/export.py), and the registry puts them here, so that files/ imports no other connector.
EXPORT_READERS: dict[str, ExportReader] = {}


class FileSourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["file"]
    path: str = Field(min_length=1)
    format: FileFormat
    points_field: str | None = None

    @model_validator(mode="after")
    def _points_only_for_jira(self) -> FileSourceConfig:
        if self.points_field is not None and self.format not in ("jira_search", "github_project"):
            raise ValueError("points_field applies only to format jira_search or github_project")
        return self

    def build(self, name: str, base_dir: Path) -> FileSource:
        pattern = resolve_path(base_dir, self.path)
        if not _matches(pattern):
            raise ConfigError(
                f"source {name!r}: path {self.path!r} matches no file (looked for {pattern}); "
                "fix the path (relative paths start at the config file's folder)"
            )
        return FileSource(name, self, pattern)

    def traits(self) -> SourceTraits:
        return SourceTraits(ITEM_FLAVOURS[self.format])


class FileSource:
    type = "file"

    def __init__(self, name: str, config: FileSourceConfig, pattern: Path) -> None:
        self.name = name
        self.config = config
        self.pattern = pattern

    def check(self, target: CheckTarget, ctx: CheckContext) -> None:
        from connectors.files.check import check_file_source

        check_file_source(self, target, ctx)

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
    return len(r.items) + len(r.metrics) + len(r.goal_defs) + len(r.overrides) + len(r.checkins)


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


def _read_csv_checkins(src: FileSource, path: Path, ctx: PullContext, out: PullResult) -> None:
    header, rows = _read_csv(path)
    parsed = tabular.parse_checkin_rows(header, rows, source=src.name, origin=path.name)
    out.checkins.extend(parsed.records)
    out.warnings.extend(parsed.problems)


def _read_export(src: FileSource, path: Path, ctx: PullContext, out: PullResult) -> None:
    reader = EXPORT_READERS.get(src.config.format)
    if reader is None:  # the registry (connectors/__init__.py) names a reader per export format
        raise FatalError(f"format {src.config.format!r}: no reader registered")
    reader(_load_json(path), Export(src.name, src.config.points_field, path), ctx, out)


_READERS: dict[str, Callable[[FileSource, Path, PullContext, PullResult], None]] = {
    "jira_search": _read_export,
    "github_issues": _read_export,
    "github_project": _read_export,
    "csv_items": _read_csv_items,
    "csv_metrics": _read_csv_metrics,
    "csv_goals": _read_csv_goals,
    "csv_overrides": _read_csv_overrides,
    "csv_checkins": _read_csv_checkins,
}
