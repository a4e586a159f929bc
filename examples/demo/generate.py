"""Generate the demo's data: a believable quarter at "Acme", in the real APIs' shapes.

    python examples/demo/generate.py [OUT]  # rewrites examples/demo/data/ (or OUT)

Writes a Jira search export (two pages of `/rest/api/3/search/jql` with expand=names,changelog),
two GitHub issues exports (`GET /repos/{o}/{r}/issues?state=all` arrays), a metrics CSV and the
owners' check-ins (a csv_checkins file) and a GitHub Projects board's GraphQL answers
(gen_board.py). The states of the work are set per group (epic, label,
milestone) so that the demo shows a mix of on track, at risk, off track and done that comes from
the data, not from overrides. Seeded:
running it again gives the same files byte for byte. Every time is before the export instant,
which is just before the demo's --as-of instant (2026-11-16T09:00:00Z).
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from demo_common import DATA
from gen_board import board_pages
from gen_github import github_issues
from gen_jira import jira_issues
from jira_payload import jira_names


def main(out: Path = DATA) -> None:
    rng = random.Random(20261116)
    (out / "github").mkdir(parents=True, exist_ok=True)
    issues = jira_issues(rng)
    half = 100  # the page size the search used
    pages = [
        {
            "issues": issues[:half],
            "nextPageToken": "CAEaAggD",
            "isLast": False,
            "names": jira_names(),
        },
        {"issues": issues[half:], "isLast": True, "names": jira_names()},
    ]
    _write_json(out / "jira-search.json", pages)
    web, sdk = github_issues(rng)
    _write_json(out / "github" / "acme-web.json", web)
    _write_json(out / "github" / "acme-sdk.json", sdk)
    write_metrics(out / "metrics.csv")
    write_checkins(out / "checkins.csv")
    _write_json(out / "board.json", board_pages())
    print(f"wrote {len(issues)} Jira issues, {len(web) + len(sdk)} GitHub issues and PRs")


def write_metrics(path: Path) -> None:
    rows: list[tuple[str, str, str]] = []
    conversion = [2.10, 2.14, 2.19, 2.23, 2.31, 2.36, 2.44, 2.52]
    uptime = [99.52, 99.61, 99.70, 99.74, 99.83, 99.86, 99.90, 99.91]
    for week, (c, u) in enumerate(zip(conversion, uptime, strict=True)):
        day = date(2026, 9, 28) + timedelta(weeks=week)
        rows.append(("checkout_conversion", day.isoformat(), f"{c:.2f}"))
        rows.append(("api_uptime_pct", day.isoformat(), f"{u:.2f}"))
    for day, nps in ((date(2026, 10, 1), 31), (date(2026, 10, 31), 32), (date(2026, 11, 14), 33)):
        rows.append(("developer_nps", day.isoformat(), str(nps)))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["name", "date", "value"])
        writer.writerows(sorted(rows))


# Owners' check-ins, as they would type them in the plan sheet's Check-ins tab: G1.3's owner
# says On track where the data says Off track (owner and data disagree); G2.2's last word is
# four weeks old, and G3.3 and G3.4 have none (no check-in).
CHECKINS = (
    ("G1", "2026-11-13", "At risk", "Billing launch holds for 12-15 if invoicing catches up",
     "Dana Lee"),
    ("G1.1", "2026-11-06", "On track", "Provider integration merged", "Ana Costa"),
    ("G1.1", "2026-11-13", "At risk",
     "Two payment-provider stories slipped a sprint; catching up by 12-01", "Ana Costa"),
    ("G1.2", "2026-11-12", "On track", "UI is feature complete behind a flag", "Chen Wei"),
    ("G1.3", "2026-11-13", "On track", "Invoicing is fine, the points just land late",
     "Farah Haddad"),
    ("G1.4", "2026-11-11", "At risk", "Conversion test on the new checkout starts 11-23",
     "Dana Lee"),
    ("G2.1", "2026-11-10", "On track", "Bug bash on 11-05 closed nine", "Dmitri Volkov"),
    ("G2.2", "2026-10-20", "At risk", "Canary rollout blocked on the load balancer change",
     "Elena Rossi"),
    ("G2.3", "2026-11-16", "On track", "", "Hana Sato"),
    ("G3.2", "2026-11-09", "At risk", "Two writers out sick this week", "Elena Rossi"),
)  # fmt: skip


def write_checkins(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "date", "confidence", "comment", "by"])
        writer.writerows(CHECKINS)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
