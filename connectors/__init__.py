"""The registry of outside systems: one subpackage per system (jira/, github/, sheets/, files/),
wired here and nowhere else. Raw API payloads never leave `connectors/`.

Adding a system is one new subpackage plus its line(s) here; `sync/` finds connectors only
through this module (ARCHITECTURE.md has the recipe).
"""

from __future__ import annotations

from connectors.files.source import EXPORT_READERS
from connectors.github.export import read_issues_export
from connectors.jira.export import read_search_export

# API exports a file source reads (`type: file`, `format: ...`): each system reads its own.
EXPORT_READERS.update(jira_search=read_search_export, github_issues=read_issues_export)
