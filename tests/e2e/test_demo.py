"""The demo, end to end: the real CLI as a subprocess on the embedded default.

Every expected value below was computed by hand from the raw exports (counting issues by epic,
label and statusCategory with a separate script and a calculator, not with goalsync), and is
written here literally:

- G1.1 Billing v2 epic (PAY-100) by points: 77 of 129 points done (19 of 34 issues; the two
  "Won't Do" children are left out) -> 59.69 %.
- G1.2 acme/web issues and PRs labelled billing: 7 of 12 done -> 58.33 %.
- G1.3 Invoicing epic (PAY-300), sum of done points: 13 of target 60 -> 21.7 %.
- G1.4 checkout_conversion: latest value on or before 2026-11-16 is 2.52; (2.52-2.1)/(3.0-2.1)
  -> 46.7 %.
- G2.1 open Jira issues labelled bug: 23 (18 of 41 done, one cancelled left out);
  (23-40)/(10-40) -> 56.7 %.
- G2.2 Zero-downtime deploys epic (CORE-200): 15 of 26 -> 57.69 %.
- G2.3 api_uptime_pct 99.91: 0.41/0.45 -> 91.1 %.
- G3.1 acme/sdk milestone v3.0: 15 of 15 (one not_planned left out) -> 100 %, Done.
- G3.2 docs-labelled GitHub items done: 6, target 12 -> 50 %.
- G3.3 developer_nps 33: 2/14 -> 14.3 %.
- G3.4 acme/sdk items labelled sample-app: none -> No data (blank Value and Progress, the Note
  names the clause), left out of G3's rollup: G3 is the mean of G3.1..G3.3 alone.
Expected progress at 2026-11-16T09:00Z in Europe/Berlin (start 00:00 CEST = 22:00Z the day
before; end of due 24:00 CET = 23:00Z): cycle goals 46.458 d / 92.042 d = 50.5 %; G1 (due
12-15) 46.458 / 76.042 = 61.1 %; G2.2 (due 11-30) 46.458 / 61.042 = 76.1 %; G3 (start 10-15)
32.458 / 78.042 = 41.6 %.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-16T09:00:00Z"

# id -> (value, target, progress, expected, status, done / total)
EXPECTED: dict[str, tuple[float | None, float | None, float | None, float, str, str | None]] = {
    "G1": (None, None, 46.6, 61.1, "At risk", None),
    "G1.1": (59.69, 100, 59.7, 61.1, "At risk", "19 / 34"),
    "G1.2": (58.33, 100, 58.3, 61.1, "At risk", "7 / 12"),
    "G1.3": (13, 60, 21.7, 61.1, "Off track", "5 / 19"),
    "G1.4": (2.52, 3.0, 46.7, 61.1, "At risk", None),
    "G2": (None, None, 68.5, 50.5, "On track", None),
    "G2.1": (23, 10, 56.7, 50.5, "On track", "18 / 41"),
    "G2.2": (57.69, 100, 57.7, 76.1, "At risk", "15 / 26"),
    "G2.3": (99.91, 99.95, 91.1, 50.5, "On track", None),
    "G3": (None, None, 54.8, 41.6, "At risk", None),
    "G3.1": (100, 100, 100, 41.6, "Done", "15 / 15"),
    "G3.2": (6, 12, 50, 41.6, "At risk", "6 / 16"),
    "G3.3": (33, 45, 14.3, 41.6, "Off track", None),
    "G3.4": (None, 4, None, 41.6, "No data", "0 / 0"),
}
STATUS_COLUMNS = [
    "ID", "Level", "Title", "Owner", "Start", "Due", "Value", "Target", "Progress %",
    "Expected %", "Status", "Trend 7d", "Forecast P85", "Risks", "Done / Total", "Sources",
    "Updated", "Note", "Confidence", "Comment",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Copy the demo beside an empty out/ and do what `make demo` does with the real CLI:
    backfill History from the cycle's start, then run; then run again."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(
        REPO / "examples" / "demo",
        root / "examples" / "demo",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOALSYNC_")}
    env["GOALSYNC_LOG_FORMAT"] = "json"
    # Any attempt to open a socket is recorded (and refused) by a sitecustomize guard.
    guard = root / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    env["PYTHONPATH"] = str(guard)
    env["NETWORK_ATTEMPTS"] = str(root / "network-attempts.txt")
    cmd = [
        sys.executable,
        "-m",
        "sync.cli",
        "run",
        "--config",
        "examples/demo/goalsync.yaml",
        "--state-dir",
        "state",
        "--as-of",
        AS_OF,
    ]
    backfill = subprocess.run(
        [*cmd[:3], "backfill", *cmd[4:8], "--from", "2026-10-01", "--to", "2026-11-15"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    first = subprocess.run(
        cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    snapshot = {p.name: p.read_bytes() for p in (root / "out" / "csv").glob("*.csv")}
    second = subprocess.run(
        cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return {
        "root": root,
        "backfill": backfill,
        "first": first,
        "second": second,
        "csv_after_first": snapshot,
    }


GUARD = """
import os, socket

def _refuse(*args, **kwargs):
    with open(os.environ["NETWORK_ATTEMPTS"], "a") as fh:
        fh.write(repr(args) + "\\n")
    raise OSError("network is off in this test")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""


def test_demo_exits_0_and_prints_a_summary(demo: dict[str, Any]) -> None:
    run = demo["first"]
    assert run.returncode == 0, run.stderr
    assert (
        "3 goals, 11 key results: 2 on track, 5 at risk, 2 off track, 1 done, 1 no data"
        in run.stdout
    )
    assert "out/status.xlsx" in run.stdout and "out/status.html" in run.stdout
    for name in ("status.xlsx", "status.html"):
        assert (demo["root"] / "out" / name).is_file()


def test_xlsx_status_tab_matches_hand_computed_values(demo: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(demo["root"] / "out" / "status.xlsx")
    assert wb.sheetnames == [
        "Status", "Trends", "Risks", "Items", "Unaligned", "Workload", "History", "Run",
    ]  # fmt: skip
    ws = wb["Status"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == STATUS_COLUMNS
    by_id = {r[0]: dict(zip(STATUS_COLUMNS, r, strict=True)) for r in rows[1:]}
    assert list(by_id) == list(EXPECTED)  # goals, then their key results, in config order
    for ident, (value, target, progress, expected, status, done_total) in EXPECTED.items():
        row = by_id[ident]
        assert row["Value"] == (pytest.approx(value) if value is not None else None), ident
        assert row["Target"] == (pytest.approx(target) if target is not None else None), ident
        assert row["Progress %"] == (pytest.approx(progress) if progress is not None else None)
        assert row["Expected %"] == pytest.approx(expected), ident
        assert row["Status"] == status, ident
        assert row["Done / Total"] == done_total, ident
    assert by_id["G1"]["Level"] == "goal" and by_id["G1.1"]["Level"] == "kr"
    assert by_id["G1.1"]["Owner"] == "Ana Costa"
    assert by_id["G1.4"]["Owner"] == "Dana Lee"  # a key result without owner: its goal's
    # The demo's mix comes from its data: no override is configured or noted anywhere.
    assert not any("override" in str(r["Note"] or "") for r in by_id.values())
    # On track by the gap (expected - progress <= 10), but the Monte Carlo forecast of the
    # remaining work lands after the due date: at risk, and the Note says why.
    for ident, due in (
        ("G1.1", date(2026, 12, 15)),
        ("G1.2", date(2026, 12, 15)),
        ("G3.2", date(2026, 12, 31)),
    ):
        p85 = by_id[ident]["Forecast P85"]
        assert isinstance(p85, datetime) and p85.date() > due, ident
        assert by_id[ident]["Note"] == f"forecast after due (P85 {p85.date()})", ident
    # G2.1's forecast is in time; metrics (G1.4) and done work (G3.1) have none
    assert by_id["G2.1"]["Forecast P85"].date() <= date(2026, 12, 31)
    assert by_id["G1.4"]["Forecast P85"] is None and by_id["G3.1"]["Forecast P85"] is None


def test_xlsx_items_link_to_their_issues_and_risks_name_items(demo: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(demo["root"] / "out" / "status.xlsx")
    items = wb["Items"]
    header = [c.value for c in items[1]]
    assert header == [
        "Key",
        "Source",
        "Title",
        "State",
        "Status",
        "Assignee",
        "Points",
        "Goal",
        "Key result",
        "Updated",
        "URL",
    ]
    keys = {row[0].value: row[0] for row in items.iter_rows(min_row=2)}
    assert keys["PAY-120"].hyperlink.target == "https://acme.atlassian.net/browse/PAY-120"
    # 34 + 12 + 19 + 41 + 26 + 15 + 16 mapped items, the cancelled ones included in Items.
    mapped = [r for r in items.iter_rows(min_row=2, values_only=True)]
    assert len(mapped) == 167
    risks = {(r[0], r[2], r[3]) for r in wb["Risks"].iter_rows(min_row=2, values_only=True)}
    assert ("G1.1", "PAY-134", "blocked") in risks
    assert ("G1.3", "PAY-306", "unassigned") in risks
    assert ("G1.1", "PAY-126", "unestimated") in risks
    assert ws_frozen(wb)


def ws_frozen(wb: Any) -> bool:
    return all(wb[name].freeze_panes == "A2" for name in wb.sheetnames)


def test_csv_and_html_hold_the_same_status(demo: dict[str, Any]) -> None:
    out = demo["root"] / "out"
    names = sorted(p.name for p in (out / "csv").glob("*.csv"))
    assert names == [
        "History.csv",
        "Items.csv",
        "Risks.csv",
        "Run.csv",
        "Status.csv",
        "Trends.csv",
        "Unaligned.csv",
        "Workload.csv",
    ]
    with (out / "csv" / "Status.csv").open(newline="", encoding="utf-8") as fh:
        rows = {r["ID"]: r for r in csv.DictReader(fh)}
    assert rows["G1.3"]["Status"] == "Off track"
    assert rows["G1.3"]["Progress %"] == "21.7"
    assert rows["G2.1"]["Value"] == "23"
    page = (out / "status.html").read_text(encoding="utf-8")
    assert "<script" not in page and "src=" not in page
    assert "Launch self-serve billing" in page
    assert page.count('class="pill off"') == 2 and page.count('class="pill done"') == 1
    assert page.count('class="pill nd"') == 1
    assert rows["G3.4"]["Status"] == "No data" and rows["G3.4"]["Value"] == ""
    assert rows["G3.4"]["Note"].startswith(
        "no data: no items match {source: gh, repo: acme/sdk, labels: [sample-app]}"
    )


def test_rerun_is_idempotent(demo: dict[str, Any]) -> None:
    """Same data, same as-of: the same files (Run tab aside) and no duplicated History rows."""
    assert demo["second"].returncode == 0, demo["second"].stderr
    out = demo["root"] / "out" / "csv"
    for name, before in demo["csv_after_first"].items():
        if name != "Run.csv":  # holds the run's id and time
            assert (out / name).read_bytes() == before, name
    with (out / "History.csv").open(newline="", encoding="utf-8") as fh:
        history = list(csv.DictReader(fh))
    # 14 ids a day, from the cycle's start (backfilled) to the run's day, each once
    assert len(history) == 14 * 47
    assert len({(h["Date"], h["ID"]) for h in history}) == len(history)
    assert min(h["Date"] for h in history) == "2026-10-01"
    assert max(h["Date"] for h in history) == "2026-11-16"


def test_the_demo_shows_a_trend_from_the_cycles_start(demo: dict[str, Any]) -> None:
    """`make demo` backfills History first: the Trends tab, its charts and the page's lines go
    back to each goal's start (G3 starts 15 October), not just today's one point."""
    assert demo["backfill"].returncode == 0, demo["backfill"].stderr
    assert "History filled for 2026-10-01..2026-11-15: 644 rows" in demo["backfill"].stdout
    out = demo["root"] / "out"
    with (out / "csv" / "Trends.csv").open(newline="", encoding="utf-8") as fh:
        trends = list(csv.DictReader(fh))
    days = {g: [t["Date"] for t in trends if t["Goal"] == g] for g in ("G1", "G2", "G3")}
    assert [len(d) for d in days.values()] == [47, 47, 33]
    assert days["G3"][0] == "2026-10-15" and days["G1"][-1] == "2026-11-16"
    today = {t["Goal"]: t for t in trends if t["Date"] == "2026-11-16"}
    assert (today["G1"]["Progress %"], today["G1"]["Expected %"]) == ("46.6", "61.1")
    wb = openpyxl.load_workbook(out / "status.xlsx")
    charts = wb["Trends"]._charts
    assert len(charts) == 3
    assert [c.series[0].val.numRef.f for c in charts] == [
        "'Trends'!$D$2:$D$48", "'Trends'!$D$49:$D$95", "'Trends'!$D$96:$D$128",
    ]  # fmt: skip
    page = (out / "status.html").read_text(encoding="utf-8")
    assert page.count('<svg class="trend"') == 3 and page.count('<svg class="spark"') == 11
    assert 'aria-label="G1 progress against expected, 2026-10-01 to 2026-11-16: 47 %' in page


def test_demo_touches_no_network(demo: dict[str, Any]) -> None:
    """File sources and local sinks only: not one socket was opened, not one request made."""
    assert not (demo["root"] / "network-attempts.txt").exists()
    assert '"requests": 0' in demo["first"].stderr
    assert '"requests": 1' not in demo["first"].stderr


def test_committed_demo_data_is_what_the_generator_makes(tmp_path: Path) -> None:
    """The data is not hand-edited: the seeded generator reproduces it byte for byte."""
    demo_dir = REPO / "examples" / "demo"
    subprocess.run(
        [sys.executable, str(demo_dir / "generate.py"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(demo_dir / "data") for p in (demo_dir / "data").rglob("*") if p.is_file()
    )
    assert made == committed
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (demo_dir / "data" / rel).read_bytes(), rel


def test_the_status_tab_shows_owners_check_ins_beside_the_data(demo: dict[str, Any]) -> None:
    """Check-ins (data/checkins.csv) fill Confidence and Comment and never change a status."""
    wb = openpyxl.load_workbook(demo["root"] / "out" / "status.xlsx")
    rows = list(wb["Status"].iter_rows(values_only=True))
    by_id = {r[0]: dict(zip(STATUS_COLUMNS, r, strict=True)) for r in rows[1:]}
    assert by_id["G1.3"]["Status"] == "Off track"  # as computed from the data
    assert by_id["G1.3"]["Confidence"] == "On track"  # the owner's word beside it
    assert by_id["G1.3"]["Comment"] == (
        "Invoicing is fine, the points just land late (Farah Haddad, 2026-11-13)"
    )
    assert by_id["G1.1"]["Confidence"] == "At risk"  # the later of its two check-ins
    assert by_id["G3.3"]["Confidence"] is None  # never checked in
    risks = {(r[0], r[3]) for r in wb["Risks"].iter_rows(min_row=2, values_only=True)}
    assert ("G1.3", "owner and data disagree") in risks
    assert {k for k, kind in risks if kind == "no check-in"} == {"G2.2", "G3.3", "G3.4"}


def test_digest_print_shows_the_week_without_a_webhook(demo: dict[str, Any]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOALSYNC_")}
    done = subprocess.run(
        [sys.executable, "-m", "sync.cli", "digest", "--print", "--config",
         "examples/demo/goalsync.yaml", "--state-dir", "state"],
        cwd=demo["root"], env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(
        "Weekly digest 2026-W47: 2 on track, 5 at risk, 2 off track, 1 done, 1 no data\n"
    )
    assert "Status changes since 2026-11-09: none." in text  # the demo's statuses held all week
    assert (
        "• G1.3 owner and data disagree (Farah Haddad): owner says On track on 2026-11-13, "
        "data says Off track"
    ) in text
    assert "Check-ins overdue (3):" in text
    assert (
        "• G2.2 (Elena Rossi): last check-in 2026-10-20, 27 days ago; expected every 14 days"
    ) in text
    assert (
        "• G1.1 At risk “Two payment-provider stories slipped a sprint; catching up by 12-01” "
        "(Ana Costa, 2026-11-13); data says At risk"
    ) in text
    assert "*" not in text  # Slack's markup is the webhook's, not the terminal's
