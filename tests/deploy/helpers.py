"""Reading deploy/'s files for the tests: the Dockerfile's instructions per stage, systemd unit
files, and the shared facts the files must agree on."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
STATE_DIR = "/var/lib/goalsync"
CONFIG = "/etc/goalsync/goalsync.yaml"
UID = 10001


@dataclass
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the rest, continuation lines joined


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.args for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """ENV key=value pairs (the only form the Dockerfile uses)."""
        out: dict[str, str] = {}
        for args in self.all("ENV"):
            for key, value in re.findall(r'([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)', args):
                out[key] = value.strip('"')
        return out


def dockerfile(path: Path = DEPLOY / "Dockerfile") -> tuple[dict[str, str], list[Stage]]:
    """(global ARGs with defaults, stages) of a Dockerfile: comments dropped, `\\` continuations
    joined."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "a continuation runs off the end"
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.IGNORECASE)
            assert m, line
            stages.append(Stage(m.group(1), m.group(2)))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        else:
            stages[-1].instructions.append(Instruction(keyword, rest.strip()))
    return args, stages


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def unit_file(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as section -> key -> values (a key may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: {line!r} is not key=value"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def cron_field_ok(text: str, low: int, high: int) -> bool:
    """One crontab time field: *, a number, a range, a list, with an optional /step."""
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            return False
        if base == "*":
            continue
        bounds = base.split("-")
        if len(bounds) > 2 or not all(b.isdigit() for b in bounds):
            return False
        if not all(low <= int(b) <= high for b in bounds):
            return False
    return True


def cron_schedule_ok(schedule: str) -> bool:
    fields = schedule.split()
    limits = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    return len(fields) == 5 and all(
        cron_field_ok(f, lo, hi) for f, (lo, hi) in zip(fields, limits, strict=True)
    )
