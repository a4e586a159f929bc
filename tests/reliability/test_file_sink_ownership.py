"""File sinks write only what goalsync made.

An xlsx or html sink whose `path:` names a file that goalsync did not write, or a csv sink whose
folder holds other files and no `.goalsync-sink` marker, is refused with exit 2 naming the path
and the fix, before any request (the Jira fake sees none, no state dir is made) and with the
file byte for byte as it was; `validate`, `plan` and `run --dry-run` refuse it too. A symlink,
a folder where a file is expected and `/etc/passwd` are refused the same way. A path that does
not exist yet, an empty folder and a rerun onto goalsync's own output all work.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync.base.report import TAB_NAMES
from tests.fakes.jira import FakeJira
from tests.reliability.helpers import Workspace, config

GOALS = """\
  - id: G1
    title: Ship billing
    key_results:
      - {id: G1.1, title: Work, measure: percent_done, select: [{source: src}]}
"""
ITEMS = (
    "key,title,state,status,assignee,labels,parent,milestone,points,created,updated\n"
    "OPS-1,Migrate DNS,done,Done,Kim,,,,3,2026-10-01,2026-10-08\n"
    "OPS-2,Rotate keys,in_progress,Doing,,,,,2,2026-10-02,2026-10-09\n"
)
T0 = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
FOREIGN_XLSX = b"PK\x03\x04 a workbook someone keeps by hand"
FOREIGN_HTML = b"<!doctype html><title>The team's own page</title>\n"
COMMANDS: list[tuple[str, ...]] = [("run",), ("run", "--dry-run"), ("plan",), ("validate",)]


def sink_line(kind: str, path: str) -> str:
    return f"  - {{type: {kind}, path: '{path}'}}\n"


def jira_workspace(tmp_path: Path, jira: FakeJira, sinks: str) -> Workspace:
    """A workspace whose run would publish (a real scope, credentials set) were it let."""
    jira.add_issue("PAY-1", created=T0, updated=T0)
    ws = Workspace(tmp_path, env={"JIRA_EMAIL": "bot@acme.example", "JIRA_API_TOKEN": "t0ken"})
    ws.write_config(
        config(f"  src: {{type: jira, url: '{jira.url}', jql: project = PAY}}\n", sinks, GOALS)
    )
    return ws


def assert_refused(
    ws: Workspace,
    jira: FakeJira,
    shown: list[str],
    untouched: dict[Path, bytes],
    commands: list[tuple[str, ...]] = COMMANDS,
) -> None:
    for command in commands:
        result = ws.goalsync(*command)
        assert result.code == 2, (command, result)
        for name in shown:
            assert f"sink: {name} " in result.output, (command, name, result)
        assert result.output.count("goalsync did not write") == len(shown), (command, result)
        assert "fix:" in result.output, (command, result)
        for file, content in untouched.items():
            assert file.read_bytes() == content, (command, file)
    assert jira.count() == 0  # not a single request: the check runs before the pull
    assert not ws.state.exists()
    assert ws.temp_files() == []


@pytest.mark.parametrize(
    ("name", "content", "commands"),
    [
        ("status.xlsx", FOREIGN_XLSX, COMMANDS),  # every command: plan and --dry-run refuse too
        ("status.html", FOREIGN_HTML, [("run",), ("validate",)]),
    ],
)
def test_a_foreign_file_is_refused_untouched(
    tmp_path: Path, name: str, content: bytes, commands: list[tuple[str, ...]]
) -> None:
    target = tmp_path / "out" / name
    target.parent.mkdir()
    target.write_bytes(content)
    with FakeJira("cloud") as jira:
        ws = jira_workspace(tmp_path, jira, sink_line(name.split(".")[1], f"out/{name}"))
        assert_refused(ws, jira, [f"out/{name}"], {target: content}, commands)


def test_a_csv_folder_with_other_files_and_no_marker_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "csv"
    folder.mkdir(parents=True)
    theirs = {folder / "Status.csv": b"mine,not,goalsync's\r\n", folder / "notes.txt": b"keep"}
    for path, content in theirs.items():
        path.write_bytes(content)
    with FakeJira("cloud") as jira:
        ws = jira_workspace(tmp_path, jira, sink_line("csv", "out/csv"))
        assert_refused(ws, jira, ["out/csv"], theirs, [("run",), ("validate",)])
    assert sorted(p.name for p in folder.iterdir()) == ["Status.csv", "notes.txt"]
    assert "create an empty out/csv/.goalsync-sink" in ws.goalsync("validate").output


def test_links_folders_and_a_file_for_a_folder_are_refused_all_at_once(tmp_path: Path) -> None:
    precious = tmp_path / "passwd"
    precious.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "link.xlsx").symlink_to(precious)
    (out / "link.html").symlink_to(precious)
    for kind in ("xlsx", "html"):
        (out / f"folder.{kind}").mkdir()
        (out / f"folder.{kind}" / "inside.txt").write_bytes(b"keep")
    (out / "csv").write_bytes(b"a,b\r\n")
    paths = [
        ("xlsx", "out/link.xlsx"),
        ("html", "out/link.html"),
        ("xlsx", "out/folder.xlsx"),
        ("html", "out/folder.html"),
        ("csv", "out/csv"),
    ]
    untouched = {
        precious: precious.read_bytes(),
        out / "folder.xlsx" / "inside.txt": b"keep",
        out / "folder.html" / "inside.txt": b"keep",
        out / "csv": b"a,b\r\n",
    }
    with FakeJira("cloud") as jira:
        ws = jira_workspace(tmp_path, jira, "".join(sink_line(k, p) for k, p in paths))
        assert_refused(ws, jira, [p for _, p in paths], untouched, [("run",), ("validate",)])
    assert (out / "link.xlsx").is_symlink() and (out / "link.html").is_symlink()


def test_etc_passwd_is_refused_by_validate(tmp_path: Path) -> None:
    # Only `validate` here (it writes nothing): these tests may run as root, and a regression
    # must not be able to cost the machine its /etc/passwd.
    before = Path("/etc/passwd").read_bytes()
    with FakeJira("cloud") as jira:
        sinks = "".join(sink_line(kind, "/etc/passwd") for kind in ("xlsx", "html", "csv"))
        ws = jira_workspace(tmp_path, jira, sinks)
        result = ws.goalsync("validate")
        assert result.code == 2, result
        for kind in ("xlsx", "html", "csv"):
            assert f"{kind} sink: /etc/passwd " in result.output, result
        assert jira.count() == 0
    assert Path("/etc/passwd").read_bytes() == before


def file_workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path)
    (tmp_path / "items.csv").write_text(ITEMS, encoding="utf-8")
    ws.write_config(
        config(
            "  src: {type: file, path: items.csv, format: csv_items}\n",
            sink_line("xlsx", "out/status.xlsx")
            + sink_line("html", "out/status.html")
            + sink_line("csv", "out/csv"),
            GOALS,
        )
    )
    return ws


def test_reruns_onto_its_own_output_and_an_empty_folder_work(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path)
    (ws.out / "csv").mkdir(parents=True)  # an empty folder is safe to adopt
    first = ws.goalsync("run", "--as-of", "2026-10-20")
    assert first.code == 0, first
    assert (ws.out / "csv" / ".goalsync-sink").is_file()
    assert b'<meta name="generator" content="goalsync' in (ws.out / "status.html").read_bytes()
    for command in [("validate",), ("plan",), ("run", "--dry-run"), ("run",)]:
        dated = command if command[0] == "validate" else (*command, "--as-of", "2026-10-21")
        again = ws.goalsync(*dated)
        assert again.code == 0, (command, again)
    assert sorted(p.name for p in (ws.out / "csv").iterdir()) == sorted(
        [".goalsync-sink", *(f"{t}.csv" for t in TAB_NAMES)]
    )
    assert ws.temp_files() == []


def test_plan_and_dry_run_leave_no_mark_where_nothing_exists(tmp_path: Path) -> None:
    ws = file_workspace(tmp_path)
    for command in [("plan",), ("run", "--dry-run")]:
        result = ws.goalsync(*command, "--as-of", "2026-10-20")
        assert result.code == 0, (command, result)
    assert not ws.out.exists()
    assert not os.path.lexists(ws.out / "csv" / ".goalsync-sink")
