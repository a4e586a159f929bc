"""The shapes of the Google Sheets replies goalsync reads: exactly the fields it uses.

From the Sheets v4 discovery document (`Spreadsheet`, `Sheet`, `SheetProperties`,
`DeveloperMetadata`, `BatchGetValuesResponse`). The API leaves out zero and false values
(sheetId 0, hidden false), so every field inside may be missing. A reply of the wrong shape is not
an item to skip: it fails the source (stale) or the publish (exit 4), via FatalError.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from sync.base.errors import FatalError
from sync.base.shapes import STRICT, problem_with


@with_config(STRICT)
class GridProperties(TypedDict, total=False):
    rowCount: int
    columnCount: int


@with_config(STRICT)
class SheetProperties(TypedDict, total=False):
    sheetId: int
    title: str
    hidden: bool
    gridProperties: GridProperties


@with_config(STRICT)
class Metadata(TypedDict, total=False):
    metadataId: int
    metadataKey: str
    metadataValue: str


@with_config(STRICT)
class Chart(TypedDict, total=False):
    chartId: int


@with_config(STRICT)
class Sheet(TypedDict, total=False):
    properties: SheetProperties
    developerMetadata: list[Metadata]
    conditionalFormats: list[Any]
    charts: list[Chart]


@with_config(STRICT)
class Spreadsheet(TypedDict):
    """spreadsheets.get with goalsync's field mask. Every spreadsheet has at least one sheet,
    so a reply without `sheets` is not one."""

    sheets: list[Sheet]


@with_config(STRICT)
class ValueRange(TypedDict, total=False):
    # Cells are a string, a number or a bool (UNFORMATTED_VALUE); an empty tab has no values.
    values: list[list[str | int | float | bool | None]]


SPREADSHEET: TypeAdapter[Spreadsheet] = TypeAdapter(Spreadsheet)
VALUE_RANGE: TypeAdapter[ValueRange] = TypeAdapter(ValueRange)


def checked(adapter: TypeAdapter[Any], reply: Any, *, who: str, what: str) -> None:
    """Raises FatalError naming the call and what is wrong when `reply` has not the shape."""
    problem = problem_with(adapter, reply)
    if problem is not None:
        raise FatalError(f"{who}: {what} answered something that is not its reply ({problem})")
