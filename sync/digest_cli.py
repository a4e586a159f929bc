"""`goalsync digest --print`: the weekly digest as the last run would send it, without a webhook.

It is made from the state dir alone, no request: the records the last run committed, evaluated
again at that run's instant (so Status, risks and check-ins are the ones it published), and the
History before that run's day for the week's changes. Nothing is written, and no week is marked
sent: printing never stops the scheduled message.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from mappings.evaluate import SourceHealth, evaluate
from sync import alerts
from sync.base.errors import EXIT_OK, ConfigError
from sync.config import load_config
from sync.engine import load_forecast_cache, plan_with_goal_rows
from sync.explain import stored_records
from sync.settings import Settings
from sync.store import Store


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(settings.config)
    store = Store(settings.state_dir)
    runs = store.last_runs(1)
    if not runs:
        raise ConfigError(
            f"no run committed in {settings.state_dir}: the digest is made from the last run "
            "(run `goalsync run` first, with the same --state-dir)"
        )
    at = datetime.fromisoformat(runs[0]["as_of"])
    records, matches = stored_records(config, store)
    health = {
        name: SourceHealth(
            ok=state.stale_since is None,
            last_success=state.last_success,
            stale_since=state.stale_since,
            error=state.last_error or "",
        )
        for name, state in store.source_states().items()
        if name in config.model.sources
    }
    today = at.astimezone(config.tz).date()
    history = [h for h in store.history() if h.date < today]
    report = evaluate(
        plan_with_goal_rows(config, records),
        records,
        at,
        rules=config.model.status,
        tz=config.tz,
        history=history,
        health=health,
        jql_matches=matches,
        people=config.people,
        forecast_cache=load_forecast_cache(store),  # read only: the last run's forecasts
    )
    levels = config.model.alerts.levels if config.model.alerts is not None else ("kr",)
    digest = alerts.build_digest(history, report, today, levels=levels)
    sys.stdout.write(alerts.digest_text(digest) + "\n")
    return EXIT_OK
