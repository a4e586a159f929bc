"""GitHub issue exports read by a file source (`format: github_issues`): the same payloads the
issues list returns, parsed by the same code as a live pull."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.github import parse as github_parse
from sync.base.contracts import Export, PullContext, PullResult
from sync.base.errors import FatalError
from sync.base.shapes import Skipped


def read_issues_export(data: object, export: Export, ctx: PullContext, out: PullResult) -> None:
    """A `github_issues` file: a JSON array of issues as `GET /repos/{o}/{r}/issues` returns."""
    path = export.path
    if not isinstance(data, list):
        raise FatalError(
            f"{path}: expected a JSON array of issues, as GET /repos/{{owner}}/{{repo}}/issues "
            "returns"
        )
    rules = github_parse.IssueRules(items=ctx.rules)
    skipped = Skipped(export.source)
    for raw in data:
        if not isinstance(raw, Mapping):
            raise FatalError(f"{path}: an entry of the array is not an issue object")
        item = github_parse.checked_issue(raw, source=export.source, rules=rules, skipped=skipped)
        if item is not None:
            out.items.append(item)
    skipped.report(out.warnings, where=path.name)
