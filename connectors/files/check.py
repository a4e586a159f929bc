"""`goalsync doctor` for files: a file source is read and parsed (no network); a file sink's
target can be written (checked without writing)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sync.base.contracts import CheckContext, CheckTarget, PullContext
from sync.base.errors import GoalsyncError

if TYPE_CHECKING:
    from connectors.files.source import FileSource


def check_file_source(source: FileSource, target: CheckTarget, ctx: CheckContext) -> None:
    pull = PullContext(
        source=source.name, run_started=datetime.now(UTC), tz=ctx.tz, rules=ctx.rules
    )
    try:
        result = source.fetch(pull)
    except GoalsyncError as exc:
        target.add("readable", "fail", str(exc), "fix or replace the file")
        return
    what = [f"{len(result.items)} items"] if result.items else []
    what += [f"{len(result.metrics)} metric values"] if result.metrics else []
    what += [f"{len(result.goal_defs)} goal rows"] if result.goal_defs else []
    what += [f"{len(result.overrides)} overrides"] if result.overrides else []
    detail = f"{source.pattern}: {', '.join(what) or 'no rows'}"
    if result.warnings:
        target.add(
            "readable",
            "warn",
            f"{detail}; {len(result.warnings)} rows skipped, first: {result.warnings[0]}",
            "fix the rows named (the run's Run tab lists them all)",
        )
    else:
        target.add("readable", "ok", detail)
