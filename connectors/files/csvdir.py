"""CSV sink (`type: csv`): one file per tab in a folder, `<path>/<Tab>.csv`.

Text that a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading
apostrophe (OWASP); numbers are written as numbers, so a real -3 stays -3. Datetimes are local
to the config's timezone, `YYYY-MM-DD HH:MM`.

The folder carries goalsync's mark, a `.goalsync-sink` file written with the tabs, and the sink
writes only into a folder that has it, that does not exist yet or is empty, or that holds only
what an earlier release wrote there (no mark yet): goalsync's `<Tab>.csv` files, Status.csv among
them with goalsync's header. Other files in a marked folder are left alone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.files.describe import LocalSink
from connectors.files.localfs import (
    FOLDER_MARK,
    UNMARKED_RELEASE_TABS,
    StagedFiles,
    ensure_own_folder,
    open_regular,
    write_folder_mark,
)
from sync.base.contracts import PublishContext, resolve_path
from sync.base.errors import PublishError
from sync.base.report import Cell, Link, Table, looks_like_formula, valid_unicode

_TAB_FILES = frozenset(f"{t}.csv" for t in UNMARKED_RELEASE_TABS)
_LEFTOVER = re.compile(r"^\.(?:\w+)\.csv\.\w+\.tmp$")  # a killed run's temporary file
_LEGACY_STATUS_HEADER = b"ID,Level,"


class CsvSinkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    type: Literal["csv"]
    path: str = Field(min_length=1)

    def build(self, base_dir: Path) -> CsvSink:
        sink = CsvSink(resolve_path(base_dir, self.path))
        ensure_own_folder(sink.folder, "csv", foreign_files)
        return sink


class CsvSink(LocalSink):
    type = "csv"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def place(self) -> tuple[Path, Literal["file", "folder"]]:
        return self.folder, "folder"

    def prepare(self, tables: Sequence[Table], ctx: PublishContext) -> StagedFiles:
        del ctx
        # Checked again: something may have appeared at the path while the sources were pulled.
        ensure_own_folder(self.folder, "csv", foreign_files, PublishError)
        staged = StagedFiles(f"csv {self.folder}/")
        try:
            for table in tables:
                staged.add(self.folder / f"{table.name}.csv", _renderer(table))
            staged.add(self.folder / FOLDER_MARK, write_folder_mark)
        except BaseException:
            staged.discard()
            raise
        return staged


def foreign_files(folder: Path, names: Sequence[str]) -> list[str]:
    """The files of an unmarked folder that an earlier release did not write there: none when
    it holds only goalsync's tab files (Status.csv among them, with goalsync's header) and
    temporary files of a killed run."""
    foreign = [n for n in names if n not in _TAB_FILES and not _LEFTOVER.match(n)]
    if foreign or "Status.csv" not in names:
        return foreign or list(names)
    with open_regular(folder / "Status.csv") as fh:
        ours = fh.read(len(_LEGACY_STATUS_HEADER)) == _LEGACY_STATUS_HEADER
    return [] if ours else ["Status.csv"]


def _renderer(table: Table) -> Callable[[IO[bytes]], None]:
    return lambda fh: write_csv(table, fh)


def write_csv(table: Table, fh: IO[bytes]) -> None:
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([c.name for c in table.columns])
    for row in table.rows:
        writer.writerow([to_csv_cell(v) for v in row])
    text.flush()
    text.detach()


def to_csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Link):
        value = value.text
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    text = valid_unicode(value)  # UTF-8 cannot write a lone surrogate
    return f"'{text}" if looks_like_formula(text) else text
