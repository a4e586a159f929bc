"""Draw examples/plan.png: what `goalsync plan` shows in a terminal, on the embedded demo.

The demo is published as of 2026-11-02 into a temporary folder, then planned as of 2026-11-16
(the demo's pinned instant): the plan shows the Status table in colour, and what a run would
change against what the csv, xlsx and html sinks hold (two weeks of work, three statuses moved).
The terminal is rich's own recording, exported as SVG and turned into a PNG by headless
Chromium (`--chromium` to name another binary). Nothing leaves the machine.

    .venv/bin/python examples/plan_picture.py            # writes examples/plan.png
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sync import cli, console  # noqa: E402  (after the path is set)

DEMO = REPO / "examples" / "demo"
PUBLISHED = "2026-11-02T09:00:00Z"
PLANNED = "2026-11-16T09:00:00Z"
WIDTH = 196
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


def record_plan(work: Path) -> Console:
    """Publish the demo, then plan it two weeks later, recording what the terminal shows."""
    text = (DEMO / "goalsync.yaml").read_text(encoding="utf-8")
    text = text.replace("path: data/", f"path: {DEMO}/data/").replace("../../out", "out")
    (work / "goalsync.yaml").write_text(text, encoding="utf-8")
    os.chdir(work)  # paths in the picture read as a user's would: out/status.xlsx
    common = ["--config", "goalsync.yaml", "--state-dir", ".goalsync", "--log-level", "error"]
    os.environ["GOALSYNC_LOG_FORMAT"] = "json"
    if cli.main(["run", *common, "--as-of", PUBLISHED]) != 0:
        raise SystemExit("the demo run failed")
    recorder = Console(
        record=True,
        width=WIDTH,
        force_terminal=True,
        color_system="truecolor",
        file=io.StringIO(),
        markup=False,
        highlight=False,
        emoji=False,
    )

    def recording(stream: Any = None, *, stderr: bool = False) -> Console:
        return recorder

    console.make_console = recording  # every line the plan prints, stdout and stderr
    if cli.main(["plan", *common, "--as-of", PLANNED, "--no-progress"]) != 0:
        raise SystemExit("the demo plan failed")
    return recorder


def to_png(svg: str, target: Path, chromium: str) -> None:
    match = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    if match is None:
        raise SystemExit("no viewBox in rich's SVG")
    width, height = (int(float(v)) + 1 for v in match.groups())
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "plan.html"
        page.write_text(
            "<!doctype html><html><head><style>html,body{margin:0;padding:0;"
            "background:#1e1e2e}</style></head><body>" + svg + "</body></html>",
            encoding="utf-8",
        )
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--window-size={width},{height}",
                f"--screenshot={target}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "examples" / "plan.png")
    parser.add_argument("--svg", type=Path, help="also keep the SVG here")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    args.output = args.output.resolve()
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            recorder = record_plan(Path(tmp))
        finally:
            os.chdir(here)
    svg = recorder.export_svg(title="goalsync plan")
    if args.svg:
        args.svg.write_text(svg, encoding="utf-8")
    to_png(svg, args.output, args.chromium)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
