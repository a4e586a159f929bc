"""`goalsync doctor`'s checks of the outside systems. Each connector checks its own system
(the `check` method of the source or sink its config builds: connectors/*/check.py, the fewest
requests that answer "would a run work?"); this module hands each one what it needs."""

from __future__ import annotations

from sync import doctor_model
from sync.base.contracts import Checkable, CheckContext
from sync.config import LoadedConfig
from sync.doctor_model import Target


def check_context(config: LoadedConfig, source: str | None) -> CheckContext:
    """For a source (by name) or a sink (None)."""
    return CheckContext(
        budget_s=doctor_model.BUDGET_S,  # read now: a test shortens it
        tz=config.tz,
        rules=config.item_rules,
        native_clauses=config.native_clauses(source) if source is not None else {},
    )


def check_built(built: object, target: Target, ctx: CheckContext) -> None:
    if isinstance(built, Checkable):
        built.check(target, ctx)
    else:  # a connector that brings no checks of its own
        target.add("usable", "warn", "built; doctor has no further check for this type")
