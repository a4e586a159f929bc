"""A small working setup (two CSV sources, csv and xlsx sinks) shared by the sync tests."""

from __future__ import annotations

from pathlib import Path


def sample_config(cycle: str = "{start: 2026-10-01, due: 2026-12-31}") -> str:
    return f"""\
version: 1
timezone: Europe/Berlin
cycle: {cycle}
sources:
  tasks:
    type: file
    path: items.csv
    format: csv_items
  kpi:
    type: file
    path: metrics.csv
    format: csv_metrics
sinks:
  - type: csv
    path: out/csv
  - type: xlsx
    path: out/status.xlsx
goals:
  - id: G1
    title: Ship billing
    owner: Dana
    key_results:
      - id: G1.1
        title: Billing tasks done
        select:
          - {{source: tasks, labels: [billing]}}
      - id: G1.2
        title: Conversion
        measure: metric
        metric: conversion
        baseline: 2.0
        target: 3.0
"""


METRICS = "name,date,value\nconversion,2026-10-05,2.2\nconversion,2026-11-01,2.5\n"


def write_inputs(tmp_path: Path, config: str, items: str, metrics: str = METRICS) -> Path:
    """Write goalsync.yaml, items.csv and metrics.csv into tmp_path; return the config path."""
    (tmp_path / "items.csv").write_text(items, encoding="utf-8")
    (tmp_path / "metrics.csv").write_text(metrics, encoding="utf-8")
    path = tmp_path / "goalsync.yaml"
    path.write_text(config, encoding="utf-8")
    return path
