"""What a file sink tells `doctor` and `plan`: its name, whether its target can be written
(without writing), and what it holds now (connectors/files/readback.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from sync.base.contracts import CheckContext, CheckTarget, Held, writable


class LocalSink:
    """Mixed into the csv, xlsx and html sinks."""

    type: str

    def place(self) -> tuple[Path, Literal["file", "folder"]]:
        """What a publish writes: one file, or a folder of files."""
        raise NotImplementedError

    @property
    def description(self) -> str:
        path, kind = self.place()
        return f"{self.type} {path}/" if kind == "folder" else f"{self.type} {path}"

    def check(self, target: CheckTarget, ctx: CheckContext) -> None:
        path, kind = self.place()
        target.add("writable", *writable(path, kind=kind))

    def read_back(self, budget_s: float) -> Held:
        from connectors.files.readback import read_local_sink  # plan only: openpyxl and all

        return read_local_sink(self)
