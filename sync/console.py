"""What the CLI shows a person: the Status table, a plan's changes, the run summary and the
doctor's checks, drawn with rich. Used by `sync/cli.py` only.

Colours only in a terminal (rich drops them elsewhere); markup is off, so text from a payload (an
issue title with "[brackets]") is shown as it is. Outside a terminal the width is fixed and wide,
so a log file or a CI page gets whole lines, not lines wrapped at 80 columns.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from sync.base.report import Cell, Link, Table

WIDE = 180  # columns when the output is not a terminal
STATUS_STYLES: dict[str, str] = {
    "On track": "bold green",
    "At risk": "bold yellow",
    "Off track": "bold red",
    "Done": "bold blue",
    "Not started": "dim",
    "No data": "bold magenta",  # not red: nothing was measured, nothing is late
}
CHECK_STYLES: dict[str, str] = {"ok": "green", "warn": "yellow", "fail": "bold red"}
STATUS_COLUMNS = (
    "ID",
    "Title",
    "Owner",
    "Due",
    "Value",
    "Target",
    "Progress %",
    "Expected %",
    "Status",
    "Risks",
    "Note",
)
TITLE_WIDTH = 44
NOTE_WIDTH = 36


def make_console(stream: TextIO | None = None, *, stderr: bool = False) -> Console:
    """A console on `stream` (default stdout, or stderr), wide and colourless off a terminal."""
    target = stream if stream is not None else (sys.stderr if stderr else sys.stdout)
    terminal = _isatty(target)
    return Console(
        file=stream,
        stderr=stderr,
        width=None if terminal else WIDE,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def status_text(word: str) -> Text:
    return Text(word, style=STATUS_STYLES.get(word, ""))


def cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Link):
        return value.text
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def status_table(table: Table, *, title: str | None = None, width: int = WIDE) -> RichTable:
    """The Status tab as a terminal table: goals bold, key results indented under them. A
    narrow terminal drops the least needed columns (Note first) rather than cut every one."""
    names = [c.name for c in table.columns]
    shown = set(_fitting(width))
    index = {name: names.index(name) for name in STATUS_COLUMNS if name in names and name in shown}
    out = RichTable(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        title_justify="left",
    )
    numeric = {"Value", "Target", "Progress %", "Expected %", "Risks"}
    # Title and Note take what the fixed columns leave, each within its bounds.
    fixed = sum(COLUMN_SPACE[n] + 1 for n in index if n not in ("Title", "Note"))
    left = max(0, width - fixed)
    if "Note" in index:  # the title first; the note takes what is left (16 at least)
        title_w = max(12, min(TITLE_WIDTH, left - 16 - 6))
        widths = {"Title": title_w, "Note": max(8, min(NOTE_WIDTH, left - title_w - 6))}
    else:
        widths = {"Title": max(12, min(TITLE_WIDTH, left - 4))}
    for name in index:
        room = widths.get(name, COLUMN_SPACE[name] - 2)
        out.add_column(
            name,
            justify="right" if name in numeric else "left",
            max_width=room,
            min_width=None if name in widths else room,
            overflow="ellipsis",
            no_wrap=True,
        )
    level = names.index("Level") if "Level" in names else None
    for row in table.rows:
        is_goal = level is None or row[level] != "kr"
        cells: list[Text] = []
        for name, i in index.items():
            text = cell_text(row[i])
            if name == "ID" and not is_goal:
                text = "  " + text
            if name == "Status":
                cells.append(status_text(text))
            else:
                cells.append(
                    Text(text, style="bold" if is_goal and name in ("ID", "Title") else "")
                )
        out.add_row(*cells)
    return out


# Columns in the order they are given up in a narrow terminal (last first), with the room each
# needs (its width and its padding; one more for the space between columns).
COLUMN_SPACE: dict[str, int] = {
    "ID": 10,
    "Title": 26,
    "Status": 13,
    "Progress %": 12,
    "Expected %": 12,
    "Due": 12,
    "Owner": 16,
    "Risks": 7,
    "Value": 9,
    "Target": 9,
    "Note": 24,
}


def _fitting(width: int) -> list[str]:
    out: list[str] = []
    used = 0
    for name, room in COLUMN_SPACE.items():
        if out and used + room + 1 > width:
            break
        out.append(name)
        used += room + 1
    return out


def tab_counts(tables: Sequence[Table]) -> Text:
    return Text("  ".join(f"{t.name} {len(t.rows)}" for t in tables), style="dim")


def checks_table(rows: Sequence[Mapping[str, str]]) -> RichTable:
    """Doctor's checks: one row per check (target, check, result, detail and the fix)."""
    out = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    out.add_column("Target", no_wrap=True)
    out.add_column("Check", no_wrap=True)
    out.add_column("Result", no_wrap=True)
    out.add_column("Detail / what to fix")
    last = ""
    for row in rows:
        target = row["target"] if row["target"] != last else ""
        last = row["target"]
        detail = Text(row["detail"])
        if row.get("fix"):
            detail.append("\nfix: ", style="bold")
            detail.append(row["fix"])
        result = Text(row["status"], style=CHECK_STYLES.get(row["status"], ""))
        out.add_row(Text(target, style="bold"), row["check"], result, detail)
    return out
