"""Progress bars in a terminal: one per source, counting the pages and items it reads.

`TerminalProgress` is the engine's PullWatcher (sync/pull.py): the engine tells it when a source
starts and ends, and the source's pagination loop calls the callback it hands out once a page.
Sources run in threads; rich's Progress takes its own lock, and the counters here take theirs.
Shown only when stderr is a terminal and the log is not JSON lines (`wants_progress`): a cron job,
a container or CI gets its JSON lines and nothing drawn between them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from sync.base.contracts import ProgressCallback

if TYPE_CHECKING:  # rich is imported when bars are drawn: a cron or JSON run never loads it
    from rich.console import Console
    from rich.progress import TaskID


def wants_progress(
    log_format: str, stream: TextIO | None = None, *, disabled: bool = False
) -> bool:
    """Bars only for a person at a terminal: never with JSON logs, --no-progress or TERM=dumb."""
    if disabled or log_format == "json" or os.environ.get("TERM") == "dumb":
        return False
    target: Any = stream if stream is not None else sys.stderr
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):
        return False


@dataclass(slots=True)
class SourceCount:
    type: str
    pages: int = 0
    items: int = 0
    ok: bool | None = None  # None while running
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0


class PullCounter:
    """A PullWatcher that only counts (pages, items, seconds per source): the summary's numbers,
    with or without bars."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sources: dict[str, SourceCount] = {}

    def started(self, name: str, type_: str) -> ProgressCallback:
        with self._lock:
            self.sources[name] = SourceCount(type_)

        def advance(pages: int, items: int) -> None:
            with self._lock:
                count = self.sources[name]
                count.pages += pages
                count.items += items
            self._changed(name)

        self._changed(name)
        return advance

    def finished(self, name: str, ok: bool) -> None:
        with self._lock:
            count = self.sources[name]
            count.ok = ok
            count.seconds = time.monotonic() - count.started
        self._changed(name)

    def _changed(self, name: str) -> None:
        """Subclasses redraw here."""


class TerminalProgress(PullCounter):
    """Bars on stderr while the sources are pulled; gone when the run's summary is printed."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        super().__init__()
        self.console = console or Console(stderr=True, highlight=False, markup=False)
        self.progress = Progress(
            SpinnerColumn(finished_text="•"),
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[pages]:>4} pages"),
            TextColumn("{task.fields[items]:>7} items"),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=True,  # log lines go above the bars, not through them
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> TerminalProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def _changed(self, name: str) -> None:
        with self._lock:
            count = self.sources[name]
            pages, items, ok = count.pages, count.items, count.ok
            label = f"{name} ({count.type})"
        state = "pulling" if ok is None else ("done" if ok else "FAILED (stale)")
        task = self._tasks.get(name)
        if task is None:
            task = self.progress.add_task(label, total=None, pages=0, items=0, state=state)
            self._tasks[name] = task
        finished = ok is not None
        self.progress.update(
            task,
            pages=pages,
            items=items,
            state=state,
            completed=items,
            total=max(items, 1) if finished else None,
        )
