"""`goalsync init --github-project owner/number`: a board source that validates as written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from connectors.github_project.config import GitHubProjectSourceConfig
from sync.base.errors import ConfigError
from sync.cli import main
from sync.config import load_config
from sync.init import StarterOptions, render


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("GOALSYNC_CONFIG", "GOALSYNC_STATE_DIR", "GOALSYNC_LOG_FORMAT", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOALSYNC_LOG_LEVEL", "error")
    monkeypatch.chdir(tmp_path)
    yield
    structlog.reset_defaults()


def test_init_with_a_board_writes_a_source_that_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--github-project", "acme/7", "--github-url", "https://ghe.acme.io/api/v3"]
    assert main(["init", *flags]) == 0
    assert "sources board (github_project)" in capsys.readouterr().out
    board = load_config(tmp_path / "goalsync.yaml").model.sources["board"]
    assert isinstance(board, GitHubProjectSourceConfig)
    assert (board.owner, board.number, board.status_field) == ("acme", 7, "Status")
    assert board.graphql_url == "https://ghe.acme.io/api/graphql"
    assert main(["validate"]) == 0


@pytest.mark.parametrize("bad", ["acme", "acme/seven", "/7"])
def test_a_board_that_is_not_owner_slash_number_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="not owner/number"):
        render(StarterOptions(github_project=bad))
