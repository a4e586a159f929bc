"""`goalsync doctor`'s results: a check is ok, warn (works, but look) or fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["ok", "warn", "fail"]
BUDGET_S = 8.0  # retries per target: an unreachable host fails in seconds, not minutes


@dataclass(frozen=True, slots=True)
class Check:
    check: str  # "reachable", "credentials", "permissions", "rate limit", ...
    status: Status
    detail: str
    fix: str = ""


@dataclass(slots=True)
class Target:
    """One source, sink or local thing, and its checks."""

    name: str  # "source jira (jira)", "sink sheets 1XyZ", "state dir"
    checks: list[Check] = field(default_factory=list)
    requests: int = 0

    def add(self, check: str, status: Status, detail: str, fix: str = "") -> Check:
        found = Check(check, status, detail, fix)
        self.checks.append(found)
        return found

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)


@dataclass(slots=True)
class Report:
    targets: list[Target] = field(default_factory=list)
    appendix: str = ""  # printed after the checks: the people: block to paste

    @property
    def checks(self) -> list[Check]:
        return [c for t in self.targets for c in t.checks]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == "warn"]

    def rows(self) -> list[dict[str, str]]:
        return [
            {"target": t.name, "check": c.check, "status": c.status, "detail": c.detail,
             "fix": c.fix}
            for t in self.targets
            for c in t.checks
        ]  # fmt: skip
