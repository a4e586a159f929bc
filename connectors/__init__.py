"""The registry of outside systems: one subpackage per system (jira/, github/, github_project/,
sheets/, files/), wired here and nowhere else. Raw API payloads never leave `connectors/`.

`sync/` finds connectors only through this module: one entry per `type:` of a source or a sink,
naming its config model (a pydantic model with a `type: Literal[...]` field that validates the
entry and builds the Source or Sink: sync.base.contracts.SourceConfigModel / SinkConfigModel)
and, for a source, the select clause keys it runs itself (Jira's `jql:`). Everything else `sync/`
asks of a connector is a method of what the model builds (checks for doctor, reading back for
plan, opening, History), found structurally through the protocols of sync.base.contracts.

Adding a system is one new subpackage plus its `register_*` line(s) below (ARCHITECTURE.md has
the recipe). Only config models are imported here, so that validating a config loads no client
library: each model imports its client when it builds. The export readers of `type: file` are
named here and imported when a file of their format is read.
"""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pydantic import BaseModel

from connectors.files.csvdir import CsvSinkConfig
from connectors.files.html import HtmlSinkConfig
from connectors.files.source import EXPORT_READERS, FileSourceConfig
from connectors.files.xlsx import XlsxSinkConfig
from connectors.github.config import GitHubSourceConfig
from connectors.github_project.config import GitHubProjectSourceConfig
from connectors.jira.config import NATIVE_CLAUSE as JQL
from connectors.jira.config import JiraSourceConfig
from connectors.sheets.config import SheetsSinkConfig, SheetsSourceConfig
from sync.base.contracts import Export, ExportReader, PullContext, PullResult


@dataclass(frozen=True, slots=True)
class Connector:
    type: str  # the `type:` of its entry in goalsync.yaml
    config: builtins.type[BaseModel]  # validates the entry and builds the Source or Sink
    native_clauses: tuple[str, ...] = ()  # select clause keys the source runs itself


_SOURCES: dict[str, Connector] = {}
_SINKS: dict[str, Connector] = {}
_generation = 0  # bumped on every change: sync/config.py rebuilds its model when it moves


def register_source(
    type_: str, config: type[BaseModel], *, native_clauses: tuple[str, ...] = ()
) -> Connector:
    return _register(_SOURCES, Connector(type_, config, native_clauses))


def register_sink(type_: str, config: type[BaseModel]) -> Connector:
    return _register(_SINKS, Connector(type_, config))


def unregister(type_: str, *, sink: bool = False) -> None:
    """Take an entry out again (a test's fake connector)."""
    global _generation
    (_SINKS if sink else _SOURCES).pop(type_, None)
    _generation += 1


def _register(table: dict[str, Connector], entry: Connector) -> Connector:
    global _generation
    field = entry.config.model_fields.get("type")
    if field is None or getattr(field.annotation, "__args__", None) != (entry.type,):
        raise TypeError(f"{entry.config.__name__} needs the field type: Literal[{entry.type!r}]")
    if entry.type in table and table[entry.type] != entry:
        raise ValueError(f"type {entry.type!r} is registered already")
    table[entry.type] = entry
    _generation += 1
    return entry


def sources() -> Mapping[str, Connector]:
    return MappingProxyType(_SOURCES)


def sinks() -> Mapping[str, Connector]:
    return MappingProxyType(_SINKS)


def generation() -> int:
    return _generation


def _export_reader(module: str, name: str) -> ExportReader:
    """`module.name`, imported when a file of its format is read: a run without such a file
    never loads that system's payload parsers (nor, for a board, its GraphQL client; 10 to 40 ms
    of every run's start-up each)."""

    def read(data: object, export: Export, ctx: PullContext, out: PullResult) -> None:
        reader: ExportReader = getattr(importlib.import_module(module), name)
        reader(data, export, ctx, out)

    read.__qualname__ = read.__name__ = name
    return read


register_source("jira", JiraSourceConfig, native_clauses=(JQL,))
register_source("github", GitHubSourceConfig)
register_source("github_project", GitHubProjectSourceConfig)
register_source("sheets", SheetsSourceConfig)
register_source("file", FileSourceConfig)
register_sink("sheets", SheetsSinkConfig)
register_sink("xlsx", XlsxSinkConfig)
register_sink("csv", CsvSinkConfig)
register_sink("html", HtmlSinkConfig)

# API exports a file source reads (`type: file`, `format: ...`): each system reads its own.
EXPORT_READERS.update(
    jira_search=_export_reader("connectors.jira.export", "read_search_export"),
    github_issues=_export_reader("connectors.github.export", "read_issues_export"),
    github_project=_export_reader("connectors.github_project.export", "read_project_export"),
)
