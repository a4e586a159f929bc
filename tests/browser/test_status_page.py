"""The html status page in a real browser: headless Chromium, offline, file:// pages only.

What a leader meets: a phone 390 px wide (nothing wider than the screen, key results as cards,
goal titles on a full line), a laptop 1280 px wide, paper (A4 and Letter: the print stylesheet
applies, a goal card is never split across pages, nothing wider than the page) and a dark room
(the reader's colour scheme). Pages: the demo as `make demo` writes it, and the hostile sample
(markup in titles, a long unbroken title).

Needs `chromium` and poppler's `pdftotext` (Debian: `apt-get install -y chromium poppler-utils`).
Without them these tests fail, naming that command; they are never skipped, so CI cannot pass
without having looked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connectors.files.html import render_page
from sync.tables import to_tables
from tests.browser.cdp import INSTALL_HINT, Browser, BrowserMissing, chromium, find_chromium
from tests.connectors.helpers import BERLIN, NOW, sample_report, sample_run

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-16T09:00:00Z"
PHONE, LAPTOP = 390, 1280
MM = 72 / 25.4  # PDF points per millimetre
PAPERS = {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}  # inches
LONG_WORD = "Billing-v2-" + "x" * 80  # a title with no place to break

# Run in the page: what sticks out of the viewport, and how the goal titles are laid out.
PROBE = """(() => {
  const vw = document.documentElement.clientWidth, wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5))
      wide.push(`${el.tagName}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  const titles = [...document.querySelectorAll('.goal h3')]
    .map(h => h.getBoundingClientRect().width);
  const style = s => getComputedStyle(document.querySelector(s));
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: vw, wide, titles,
          krHead: style('.krs thead').display, krRow: style('.krs tbody tr').display,
          goalBreak: style('.goal').breakInside, body: style('body').backgroundColor,
          text: style('body').color};
})()"""

# Marks each goal card's first and last line, so the PDF's text shows where a card starts and ends.
MARK_GOALS = """(() => {
  document.querySelectorAll('.goal').forEach((g, i) => {
    const mark = w => { const s = document.createElement('span');
      s.textContent = `[[${w}${i}]]`; s.style.fontSize = '4px';
      s.style.position = 'absolute'; return s; };  // drawn where it stands, taking no room
    g.prepend(mark('start')); g.append(mark('end'));
  });
  return document.querySelectorAll('.goal').length;
})()"""


def _pdftotext() -> str:
    path = shutil.which("pdftotext")
    if not path:
        raise BrowserMissing(
            f"the print test reads the PDF with poppler's pdftotext: `{INSTALL_HINT}`"
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    missing = None
    try:
        find_chromium()
        _pdftotext()
    except BrowserMissing as exc:
        missing = str(exc)
    if missing:  # failed, never skipped: CI installs both (see the module's docstring)
        pytest.fail(missing, pytrace=False)
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pages")
    report = sample_report()
    rows = tuple(
        replace(r, title=f"{r.title} {LONG_WORD}") if r.id == "G1.1" else r for r in report.rows
    )
    tables = to_tables(replace(report, rows=rows), sample_run(), BERLIN)
    sample = root / "sample.html"
    sample.write_text(render_page(tables, title="t", generated=NOW), encoding="utf-8")
    return {"sample": sample, "demo": _demo_page(root)}


def _demo_page(root: Path) -> Path:
    """The demo's page as `make demo` writes it, from a copy of the demo."""
    shutil.copytree(
        REPO / "examples" / "demo",
        root / "examples" / "demo",
        ignore=shutil.ignore_patterns("__pycache__", "*.png"),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOALSYNC_")}
    cli = [sys.executable, "-m", "sync.cli"]
    where = ["--config", "examples/demo/goalsync.yaml", "--state-dir", "state"]
    # as `make demo` does: History from the cycle's start first, so the page has its charts
    backfill = [*cli, "backfill", *where, "--from", "2026-10-01", "--to", "2026-11-15"]
    for cmd in (backfill, [*cli, "run", *where, "--as-of", AS_OF]):
        done = subprocess.run(
            cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return root / "out" / "status.html"


def probe(browser: Browser, page: Path, width: int, **kw: Any) -> dict[str, Any]:
    browser.open(page.as_uri(), width=width, **kw)
    result: dict[str, Any] = browser.evaluate(PROBE)
    return result


@pytest.mark.parametrize("name", ["demo", "sample"])
@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_nothing_is_wider_than_the_screen(
    browser: Browser, pages: dict[str, Path], name: str, width: int
) -> None:
    seen = probe(browser, pages[name], width)
    assert seen["clientWidth"] == width
    assert seen["wide"] == []
    assert seen["scrollWidth"] <= width  # no sideways scrolling


def test_on_a_phone_key_results_are_cards_and_goal_titles_keep_a_full_line(
    browser: Browser, pages: dict[str, Path]
) -> None:
    phone = probe(browser, pages["demo"], PHONE)
    assert (phone["krHead"], phone["krRow"]) == ("none", "grid")
    assert len(phone["titles"]) == 3
    assert min(phone["titles"]) > PHONE / 2  # not one word a line beside the owner and pill
    laptop = probe(browser, pages["demo"], LAPTOP)
    assert (laptop["krHead"], laptop["krRow"]) == ("table-header-group", "table-row")


def _luminance(css_colour: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_the_page_follows_the_readers_dark_mode(browser: Browser, pages: dict[str, Path]) -> None:
    light = probe(browser, pages["demo"], LAPTOP)
    dark = probe(browser, pages["demo"], PHONE, dark=True)
    assert _luminance(light["body"]) > 0.9 and _luminance(light["text"]) < 0.2
    assert _luminance(dark["body"]) < 0.15 and _luminance(dark["text"]) > 0.8
    assert dark["wide"] == []
    printed_dark = probe(browser, pages["demo"], LAPTOP, dark=True, media="print")
    assert _luminance(printed_dark["body"]) > 0.99  # paper stays white


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize("name", ["demo", "sample"])
def test_printed_a_goal_is_never_split_and_nothing_leaves_the_page(
    browser: Browser, pages: dict[str, Path], tmp_path: Path, paper: str, name: str
) -> None:
    seen = probe(browser, pages[name], LAPTOP, media="print")
    assert seen["goalBreak"] == "avoid"  # the print stylesheet applies
    goals = browser.evaluate(MARK_GOALS)
    assert goals >= 2
    width_in, height_in = PAPERS[paper]
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(browser.pdf(paper_width_in=width_in, paper_height_in=height_in))
    text = subprocess.run(
        [_pdftotext(), "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    sheets = text.split("\f")
    assert len(sheets) > 1
    for i in range(goals):
        (first,) = [n for n, s in enumerate(sheets) if f"[[start{i}]]" in s]
        (last,) = [n for n, s in enumerate(sheets) if f"[[end{i}]]" in s]
        assert first == last, f"goal card {i} runs from page {first + 1} to page {last + 1}"
    boxes = subprocess.run(
        [_pdftotext(), "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    page_width = float(re.findall(r'<page width="([\d.]+)"', boxes)[0])
    right_edges = [float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes)]
    assert right_edges
    assert max(right_edges) <= page_width - 12 * MM + 1  # inside the right margin
    words = re.findall(r">([^<]+)</word>", boxes)
    assert "Risks" in " ".join(words)  # the Risks section is printed, inside those bounds
