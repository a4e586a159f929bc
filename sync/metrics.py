"""`goalsync run --metrics-file F`: the run in Prometheus' text format, for node-exporter's
textfile collector (`--collector.textfile.directory`; the file must end in `.prom`).

Written after every run that got as far as loading the config or failing to (a run that found
the lock held, or a dry run, leaves the file as it is), atomically: a temporary file in the same
folder (named `.<name>.tmp`, which the collector ignores) renamed over the target, so a scrape
never reads half a file. A write that fails is logged; it never changes the run's exit code.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog

from sync import __version__
from sync.base.report import SourceRun, StatusReport, status_counts

log = structlog.get_logger(__name__)

STATUS_LABELS = {
    "On track": "on_track",
    "At risk": "at_risk",
    "Off track": "off_track",
    "Done": "done",
    "Not started": "not_started",
    "No data": "no_data",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunMetrics:
    """What one run says about itself, and the two times the store remembers."""

    finished: datetime
    exit_code: int
    duration_s: float
    sources: Sequence[SourceRun] = ()
    report: StatusReport | None = None
    last_success: datetime | None = None  # the last run that published with every source fresh
    last_publish: datetime | None = None  # the last run that published (fresh or not)


@dataclass(slots=True)
class _Family:
    name: str
    help: str
    kind: str = "gauge"
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> None:
        self.samples.append((labels, value))


def render(m: RunMetrics) -> str:
    """The exposition text (format 0.0.4): HELP and TYPE once per family, then its samples."""
    families: list[_Family] = []

    def family(name: str, help_text: str) -> _Family:
        f = _Family(f"goalsync_{name}", help_text)
        families.append(f)
        return f

    family("info", "goalsync's version (the value is always 1)").add(1, version=__version__)
    family("last_run_timestamp_seconds", "when the last run finished (unix time)").add(
        m.finished.timestamp()
    )
    family(
        "last_run_exit_code",
        "exit code of the last run: 0 ok, 1 internal error, 2 config, 3 stale source, 4 publish",
    ).add(m.exit_code)
    family("last_run_duration_seconds", "how long the last run took").add(m.duration_s)
    if m.last_success is not None:
        family(
            "last_success_timestamp_seconds",
            "when a run last published with every source fresh (exit 0)",
        ).add(m.last_success.timestamp())
    if m.last_publish is not None:
        family(
            "last_publish_timestamp_seconds",
            "when a run last published, fresh or with stale sources (exit 0 or 3)",
        ).add(m.last_publish.timestamp())
    if m.sources:
        up = family("source_up", "1 when the source was read this run, 0 when it is stale")
        items = family("source_items", "items the source holds (pulled, or last good when stale)")
        metric_values = family("source_metric_values", "metric values the source holds")
        requests = family("source_requests", "requests the source sent this run")
        fresh = family(
            "source_last_success_timestamp_seconds", "when the source was last read (unix time)"
        )
        for s in m.sources:
            labels = {"source": s.name, "type": s.type}
            up.add(1 if s.ok else 0, **labels)
            items.add(s.items, **labels)
            metric_values.add(s.metrics, **labels)
            requests.add(s.requests, **labels)
            if s.last_success is not None:
                fresh.add(s.last_success.timestamp(), **labels)
    if m.report is not None:
        for level, name in (("kr", "key_results"), ("goal", "goals")):
            counts = family(name, f"{name.replace('_', ' ')} per status in the last evaluation")
            for word, n in status_counts(m.report, level).items():
                counts.add(n, status=STATUS_LABELS[word])
        family("risks", "risks listed in the Risks tab").add(len(m.report.risks))
        family("unaligned_items", "open or recently done items no key result selects").add(
            len(m.report.unaligned)
        )
        share = m.report.alignment.share_by_count
        if share is not None:
            family("aligned_ratio", "aligned share of the cycle's items, by count (0..1)").add(
                share / 100
            )
    return "".join(_lines(families))


def _lines(families: Iterable[_Family]) -> Iterable[str]:
    for f in families:
        if not f.samples:
            continue
        yield f"# HELP {f.name} {f.help}\n"
        yield f"# TYPE {f.name} {f.kind}\n"
        for labels, value in f.samples:
            yield f"{f.name}{_labels(labels)} {_value(value)}\n"


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def write(path: Path, text: str) -> bool:
    """Replace `path` with `text` atomically. False (logged) when it cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        log.warning("metrics_not_written", path=str(path), error=exc.strerror or str(exc))
        return False
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the collector runs as another user
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        log.warning("metrics_not_written", path=str(path), error=exc.strerror or str(exc))
        return False
    log.info("metrics_written", path=str(path))
    return True


def last_runs(runs: Sequence[Mapping[str, object]]) -> tuple[datetime | None, datetime | None]:
    """(last success, last publish) from the store's run records (newest first): every
    committed run published; a success is one with exit 0."""
    success: datetime | None = None
    publish: datetime | None = None
    for run in runs:
        try:
            finished = datetime.fromisoformat(str(run["finished"]))
        except (KeyError, ValueError):
            continue
        if publish is None or finished > publish:
            publish = finished
        if run.get("exit_code") == 0 and (success is None or finished > success):
            success = finished
    return success, publish
