"""What the demo's generators share: the export instant, the people, the Jira site."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
EXPORTED = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)  # the export was taken just before as-of
CYCLE_START = datetime(2026, 10, 1, 7, 0, tzinfo=UTC)
JIRA = "https://acme.atlassian.net"
POINTS_FIELD = "customfield_10016"  # "Story point estimate" on this (imaginary) Jira Cloud site
FLAGGED_FIELD = "customfield_10021"
STATUSES = {  # name -> (id, statusCategory key, statusCategory id)
    "To Do": ("10000", "new", 2),
    "In Progress": ("3", "indeterminate", 4),
    "In Review": ("10001", "indeterminate", 4),
    "Blocked": ("10002", "indeterminate", 4),
    "Done": ("10003", "done", 3),
}
PEOPLE = [  # (display name, GitHub login)
    ("Ana Costa", "ana-costa"),
    ("Ben Okafor", "bokafor"),
    ("Chen Wei", "chenwei"),
    ("Dmitri Volkov", "dvolkov"),
    ("Elena Rossi", "erossi"),
    ("Farah Haddad", "fhaddad"),
    ("Gus Müller", "gmuller"),
    ("Hana Sato", "hsato"),
]
