"""Progress: each connector's pagination loop reports pages and items through PullContext's
callback; the engine hands one per source to a watcher; bars are drawn only in a terminal with
console logs (never with JSON logs), and the run summary follows them."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from rich.console import Console

from connectors.files.source import FileSourceConfig
from connectors.jira.client import JiraAuth
from connectors.jira.source import JiraSource, JiraSourceConfig
from connectors.sheets.config import SheetsSourceConfig
from sync.base.contracts import PullContext
from sync.progress import PullCounter, TerminalProgress, wants_progress
from tests.cli.helpers import REPO, clean_env, run_in_terminal
from tests.fakes.github import FakeGitHub, Puller
from tests.fakes.jira import Auth, FakeJira
from tests.fakes.sheets import FakeSheets

NOW = datetime.now(UTC).replace(microsecond=0)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, pages: int, items: int) -> None:
        with self._lock:
            self.calls.append((pages, items))
            self.threads.add(threading.current_thread().name)

    @property
    def pages(self) -> int:
        return sum(p for p, _ in self.calls)

    @property
    def items(self) -> int:
        return sum(i for _, i in self.calls)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("log_format", "tty", "disabled", "term", "expected"),
    [
        ("auto", True, False, "xterm", True),
        ("console", True, False, "xterm", True),
        ("json", True, False, "xterm", False),  # JSON logs: never bars between the lines
        ("auto", False, False, "xterm", False),  # cron, a container, CI
        ("auto", True, True, "xterm", False),  # --no-progress
        ("auto", True, False, "dumb", False),
    ],
)
def test_bars_only_for_a_person_at_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
    log_format: str,
    tty: bool,
    disabled: bool,
    term: str,
    expected: bool,
) -> None:
    monkeypatch.setenv("TERM", term)
    stream = Tty() if tty else io.StringIO()
    assert wants_progress(log_format, stream, disabled=disabled) is expected


def test_a_file_source_reports_a_page_per_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("key,title\nA-1,x\nA-2,y\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("key,title\nB-1,z\n", encoding="utf-8")
    source = FileSourceConfig.model_validate(
        {"type": "file", "path": "*.csv", "format": "csv_items"}
    ).build("tasks", tmp_path)
    seen = Recorder()
    result = source.fetch(PullContext(source="tasks", run_started=NOW, tz=UTC, progress=seen))
    assert seen.calls == [(1, 2), (1, 1)]
    assert len(result.items) == 3


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud", auth=Auth("bearer", secret="pat-0123456789")) as fake:
        fake.projects.add("PAY")
        for n in range(1, 26):
            fake.add_issue(f"PAY-{n}", labels=["billing"] if n % 2 else [],
                           updated=NOW - timedelta(days=1, minutes=n))  # fmt: skip
        yield fake


def test_jira_reports_each_search_page_of_the_scope_only(jira: FakeJira) -> None:
    cfg = JiraSourceConfig.model_validate({"type": "jira", "url": jira.url, "jql": "project = PAY"})
    auth = JiraAuth("bearer", ("JIRA_PAT",), None, SecretStr("pat-0123456789"))
    source = JiraSource("jira", cfg, auth, page_size=10, sleep=lambda s: None)
    seen = Recorder()
    ctx = PullContext(source="jira", run_started=datetime.now(UTC), tz=UTC, progress=seen,
                      native_clauses={"jql": ("labels = billing",)})  # fmt: skip
    result = source.fetch(ctx)
    assert seen.calls == [(1, 10), (1, 10), (1, 5)]  # the keys-only clause search is not items
    assert len(result.items) == 25


def test_jira_data_center_reports_its_start_at_pages() -> None:
    with FakeJira("dc", auth=Auth("bearer", secret="pat-0123456789")) as fake:
        fake.projects.add("PAY")
        for n in range(1, 8):
            fake.add_issue(f"PAY-{n}", updated=NOW - timedelta(hours=n))
        cfg = JiraSourceConfig.model_validate(
            {"type": "jira", "url": fake.url, "jql": "project = PAY"}
        )
        auth = JiraAuth("bearer", ("JIRA_PAT",), None, SecretStr("pat-0123456789"))
        source = JiraSource("jira", cfg, auth, page_size=3, sleep=lambda s: None)
        seen = Recorder()
        source.fetch(PullContext(source="jira", run_started=NOW, tz=UTC, progress=seen))
    # The first page comes first (its total names the others), which are read at once and
    # reported as they arrive: in any order, each once.
    assert seen.calls[0] == (1, 3)
    assert sorted(seen.calls[1:]) == [(1, 1), (1, 3)]


def test_github_reports_issue_pages_as_items_and_other_pages_as_pages() -> None:
    with FakeGitHub() as fake:
        for repo in ("acme/web", "acme/api"):
            r = fake.add_repo(repo)
            for n in range(1, 131 if repo == "acme/web" else 6):
                r.add_issue(n, updated=NOW - timedelta(days=2, minutes=n))
        puller = Puller(fake.url, repos=["acme/web", "acme/api"])
        seen = Recorder()
        ctx = PullContext(source="gh", run_started=NOW, tz=UTC, progress=seen)
        result = puller.source.fetch(ctx)
    assert seen.items == 135 == len(result.items)
    # web: 2 issue pages, api: 1; each repository: 1 milestones page and 1 events page
    assert seen.pages == 3 + 2 + 2
    assert len(seen.threads) >= 1  # called from the repositories' threads


def test_a_sheets_source_reports_its_one_read() -> None:
    with FakeSheets() as fake:
        fake.add_spreadsheet(
            "PLAN",
            {"Tasks": [["key", "title"], ["T-1", "a"], ["T-2", "b"]],
             "Metrics": [["name", "date", "value"], ["nps", "2026-11-01", 31]]},
        )  # fmt: skip
        source = SheetsSourceConfig.model_validate(
            {"type": "sheets", "spreadsheet_id": "PLAN", "endpoint": fake.url,
             "credentials": "anonymous", "tabs": {"tasks": "Tasks", "metrics": "Metrics"}}
        ).build("plan", Path("."))  # fmt: skip
        seen = Recorder()
        source.fetch(PullContext(source="plan", run_started=NOW, tz=UTC, progress=seen))
    assert seen.calls == [(1, 3)]


def test_the_counter_and_the_bars_count_per_source() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    with TerminalProgress(console) as bars:
        advance = bars.started("jira", "jira")
        advance(1, 100)
        advance(1, 21)
        bars.finished("jira", True)
        stale = bars.started("gh", "github")
        stale(1, 0)
        bars.finished("gh", False)
        bars.progress.refresh()
        drawn = buffer.getvalue()
    assert bars.sources["jira"].pages == 2 and bars.sources["jira"].items == 121
    assert bars.sources["jira"].ok is True and bars.sources["gh"].ok is False
    assert "jira (jira)" in drawn and "121 items" in drawn and "FAILED (stale)" in drawn
    counter = PullCounter()
    counter.started("x", "file")(3, 7)
    counter.finished("x", True)
    assert (counter.sources["x"].pages, counter.sources["x"].items) == (3, 7)


# --- in a real terminal (a pseudo-terminal), as a person sees it -------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tty")
    text = (REPO / "examples/demo/goalsync.yaml").read_text(encoding="utf-8")
    demo = REPO / "examples" / "demo"
    text = text.replace("path: data/", f"path: {demo}/data/").replace("../../out", "out")
    (root / "goalsync.yaml").write_text(text, encoding="utf-8")
    return root


def run_env(root: Path, log_format: str) -> dict[str, str]:
    env = clean_env(root)
    env["GOALSYNC_LOG_FORMAT"] = log_format
    return env


@pytest.mark.integration  # the CLI as its own process, on a pseudo-terminal
def test_a_terminal_gets_bars_and_a_summary_table(demo: Path) -> None:
    code, drawn = run_in_terminal(
        demo, "run", "-v", "--state-dir", "st-console", "--as-of", "2026-11-16T09:00:00Z",
        env=run_env(demo, "auto"),
    )  # fmt: skip
    assert code == 0, drawn
    assert "━" in drawn and "pages" in drawn and "jira (file)" in drawn  # the bars
    assert "source_pulled" in drawn  # console log lines (-v: info), printed above the bars
    for column in ("source", "requests", "pages", "goal", "progress"):
        assert column in drawn  # the summary's tables
    assert "\x1b[" in drawn  # colours


@pytest.mark.integration  # the CLI as its own process, on a pseudo-terminal
def test_json_logs_in_a_terminal_get_no_bars(demo: Path) -> None:
    code, drawn = run_in_terminal(
        demo, "run", "--state-dir", "st-json", "--as-of", "2026-11-16T09:00:00Z",
        env=run_env(demo, "json"),
    )  # fmt: skip
    assert code == 0, drawn
    assert "━" not in drawn and " pages " not in drawn
    logs = [line for line in drawn.splitlines() if line.startswith("{")]
    assert any('"source_pulled"' in line for line in logs)
