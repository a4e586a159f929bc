"""Writing local files so that readers never see half of one: render to a temporary file in
the same folder (so the rename stays on one filesystem), then rename it into place."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sync.errors import PublishError


class StagedFiles:
    """Temporary files waiting to replace their targets; a PreparedWrite for file sinks."""

    remote = False

    def __init__(self, description: str) -> None:
        self.description = description
        self._pending: list[tuple[Path, Path]] = []  # (temporary, target)

    def add(self, target: Path, render: Callable[[IO[bytes]], None]) -> None:
        """Render `target`'s new content into a temporary file beside it."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _remove_leftovers(target)
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
            )
        except OSError as exc:
            raise PublishError(
                f"{self.description}: cannot write in {target.parent}: {exc.strerror}"
            ) from None
        tmp = Path(tmp_name)
        self._pending.append((tmp, target))
        try:
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a status file is for readers
            with os.fdopen(fd, "wb") as fh:
                render(fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise PublishError(
                f"{self.description}: cannot write {target}: {exc.strerror}"
            ) from None

    def apply(self) -> None:
        for tmp, target in self._pending:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise PublishError(
                    f"{self.description}: cannot replace {target}: {exc.strerror}"
                ) from None
        self._pending.clear()

    def discard(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._pending.clear()


def _remove_leftovers(target: Path) -> None:
    """Delete temporary files of `target` that a killed run (SIGKILL, a power cut) could not
    delete itself. Runs of a state dir never overlap (the run lock), so any such file beside the
    target is an orphan; left alone, one would pile up per killed run."""
    for orphan in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            orphan.unlink()
