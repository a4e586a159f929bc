"""Inline SVG charts for the html page: one line chart per goal (progress against expected, from
the Trends table) and a 30-day sparkline per key result (from the History table).

Plain SVG markup inside the page: no script, no font, nothing fetched. Every text is escaped.
Colours follow the page: lines in the progress bar's blue and a dashed grey for expected, axes
and labels in `currentColor` (so they follow the reader's dark mode). A day whose progress is
blank (No data) breaks the line: a gap, never a zero. A day without a History row (no run) has
no point, and the line joins its neighbours.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sync.base.report import Cell, Table, TrendBlock, row_dicts, trend_blocks

SPARK_DAYS = 30
PROGRESS_COLOUR = "#3b7dd8"  # the progress bar's blue
EXPECTED_COLOUR = "#8a8a8a"
# The goal chart's drawing box, in SVG units (the svg scales to its container's width).
_W, _H = 600, 160
_LEFT, _RIGHT, _TOP, _BOTTOM = 34, 8, 10, 24
_SPARK_W, _SPARK_H = 90, 22

Point = tuple[float, float]


@dataclass(slots=True)
class PageCharts:
    """What the page draws: each goal's trend block and each key result's History points."""

    today: date
    goals: dict[str, TrendBlock] = field(default_factory=dict)
    history: dict[str, list[tuple[date, float | None]]] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, tables: Sequence[Table], today: date) -> PageCharts:
        charts = cls(today)
        for table in tables:
            if table.name == "Trends":
                charts.goals = {b.goal: b for b in trend_blocks(table)}
            elif table.name == "History":
                charts.history = _history_points(row_dicts(table), today)
        return charts

    def goal(self, goal_id: Cell) -> str:
        """The goal's line chart, or an empty frame saying why there is none yet."""
        block = self.goals.get(str(goal_id))
        if block is None or not block.days:
            return _frame(
                f"{goal_id}: no trend yet",
                '<text x="0" y="16" fill="currentColor" opacity=".6" font-size="12">'
                "No trend yet: History starts with the first run (or goalsync backfill).</text>",
                height=24,
            )
        return trend_svg(block)

    def spark(self, kr_id: Cell) -> str:
        points = self.history.get(str(kr_id), [])
        return sparkline_svg(points, self.today, label=str(kr_id))


def _history_points(
    rows: Sequence[Mapping[str, Cell]], today: date
) -> dict[str, list[tuple[date, float | None]]]:
    first = today - timedelta(days=SPARK_DAYS - 1)
    out: dict[str, list[tuple[date, float | None]]] = {}
    for r in rows:
        day = r.get("Date")
        if not isinstance(day, date) or not first <= day <= today:
            continue
        progress = r.get("Progress %")
        value = float(progress) if isinstance(progress, int | float) else None
        out.setdefault(str(r.get("ID")), []).append((day, value))
    for points in out.values():
        points.sort(key=lambda p: p[0])
    return out


def trend_svg(block: TrendBlock) -> str:
    """A goal's progress and expected lines over its days, 0..100 %, dated at both ends."""
    first, last = block.days[0], block.days[-1]
    span = max(1, (last - first).days)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def at(day: date, value: float) -> Point:
        x = _LEFT + plot_w * (day - first).days / span
        y = _TOP + plot_h * (1 - min(100.0, max(0.0, value)) / 100)
        return x, y

    grid = "".join(
        f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{at(first, v)[1]:.1f}" '
        f'y2="{at(first, v)[1]:.1f}" stroke="currentColor" stroke-opacity=".15"/>'
        f'<text x="{_LEFT - 4}" y="{at(first, v)[1] + 4:.1f}" text-anchor="end" '
        f'font-size="10" fill="currentColor" opacity=".7">{v}</text>'
        for v in (0, 50, 100)
    )
    axis = (
        f'<text x="{_LEFT}" y="{_H - 6}" font-size="10" fill="currentColor" opacity=".7">'
        f"{first.isoformat()}</text>"
        f'<text x="{_W - _RIGHT}" y="{_H - 6}" text-anchor="end" font-size="10" '
        f'fill="currentColor" opacity=".7">{last.isoformat()}</text>'
        f'<text x="{_LEFT + plot_w / 2:.0f}" y="{_H - 6}" text-anchor="middle" font-size="10" '
        f'fill="currentColor"><tspan fill="{PROGRESS_COLOUR}">progress</tspan>'
        f'<tspan dx="12" fill="{EXPECTED_COLOUR}">expected (dashed)</tspan></text>'
    )
    days = block.days
    expected = _lines(
        [at(d, v) if v is not None else None for d, v in zip(days, block.expected, strict=True)],
        EXPECTED_COLOUR,
        dashed=True,
    )
    progress = _lines(
        [at(d, v) if v is not None else None for d, v in zip(days, block.progress, strict=True)],
        PROGRESS_COLOUR,
    )
    latest = next((v for v in reversed(block.progress) if v is not None), None)
    said = f"{latest:.0f} % on {last.isoformat()}" if latest is not None else "no data"
    label = f"{block.goal} progress against expected, {first.isoformat()} to {last}: {said}"
    return _frame(label, grid + axis + expected + progress)


def sparkline_svg(points: Sequence[tuple[date, float | None]], today: date, *, label: str) -> str:
    """A key result's progress over the 30 days up to `today`, 0..100 %, no axes."""
    first = today - timedelta(days=SPARK_DAYS - 1)

    def at(day: date, value: float) -> Point:
        x = 1 + (_SPARK_W - 2) * (day - first).days / (SPARK_DAYS - 1)
        y = 1 + (_SPARK_H - 2) * (1 - min(100.0, max(0.0, value)) / 100)
        return x, y

    line = _lines([at(d, v) if v is not None else None for d, v in points], PROGRESS_COLOUR)
    known = [v for _, v in points if v is not None]
    said = f"from {known[0]:.0f} % to {known[-1]:.0f} %" if known else "no progress measured"
    text = f"{label}, last {SPARK_DAYS} days: {said}"
    return (
        f'<svg class="spark" viewBox="0 0 {_SPARK_W} {_SPARK_H}" width="{_SPARK_W}" '
        f'height="{_SPARK_H}" role="img" aria-label="{_e(text)}"><title>{_e(text)}</title>'
        f'<line x1="0" x2="{_SPARK_W}" y1="{_SPARK_H - 0.5}" y2="{_SPARK_H - 0.5}" '
        f'stroke="currentColor" stroke-opacity=".2"/>{line}</svg>'
    )


def _lines(points: Sequence[Point | None], colour: str, *, dashed: bool = False) -> str:
    """A polyline per run of known points; a lone point (a gap on both sides) is a dot."""
    runs: list[list[Point]] = [[]]
    for p in points:
        if p is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(p)
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    out = []
    for run in runs:
        if len(run) == 1:
            (x, y) = run[0]
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{colour}"/>')
        elif run:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            out.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                f'stroke-width="2" stroke-linejoin="round"{dash}/>'
            )
    return "".join(out)


def _frame(label: str, body: str, *, height: int = _H) -> str:
    return (
        f'<svg class="trend" viewBox="0 0 {_W} {height}" width="100%" role="img" '
        f'style="max-width:{_W}px;display:block;margin:8px 0" aria-label="{_e(label)}">'
        f"<title>{_e(label)}</title>{body}</svg>"
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)
