"""sync/heap.py: the collector's policy for one command, and the pause around an evaluation."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sync.cli
import sync.engine
from sync.heap import BATCH_THRESHOLD, batch_collector, keep_long_lived, paused_gc

from .test_engine import DAY1, go, write_setup


class Probe:
    """A tracked object of the test's own."""


def frozen(obj: object) -> bool:
    """Tracked by the collector but in none of its generations: in the permanent one."""
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


@pytest.fixture(autouse=True)
def collector_as_found() -> Iterator[None]:
    threshold, count = gc.get_threshold(), gc.get_freeze_count()
    yield
    assert gc.get_threshold() == threshold  # every test leaves the collector as it found it
    assert gc.get_freeze_count() == count
    assert gc.isenabled()


def test_a_command_runs_with_rarer_passes_and_what_it_imported_frozen() -> None:
    before = gc.get_threshold()
    assert before != BATCH_THRESHOLD
    imported = Probe()
    with batch_collector():
        assert gc.get_threshold() == BATCH_THRESHOLD
        assert frozen(imported)
        made = Probe()
        assert not frozen(made)  # made during the command: collected as usual until kept
        keep_long_lived()
        assert frozen(made)
    assert gc.get_threshold() == before
    assert not frozen(imported) and not frozen(made)


def test_the_policy_is_undone_when_the_command_fails() -> None:
    before = gc.get_threshold()
    made = Probe()
    with pytest.raises(RuntimeError), batch_collector():
        keep_long_lived()
        assert frozen(made)
        raise RuntimeError("the command broke")
    assert gc.get_threshold() == before
    assert not frozen(made)


def test_outside_a_command_keep_long_lived_leaves_the_collector_alone() -> None:
    made = Probe()
    keep_long_lived()
    assert not frozen(made)


def test_a_nested_command_leaves_the_policy_to_the_outer_one() -> None:
    with batch_collector():
        with batch_collector():
            pass
        assert gc.get_threshold() == BATCH_THRESHOLD  # the inner one did not undo it
        made = Probe()
        keep_long_lived()
        assert frozen(made)


def test_a_process_that_froze_objects_itself_keeps_its_freeze() -> None:
    """A host that froze its own objects (before forking workers, say): the command makes the
    passes rarer but freezes nothing, so that undoing the policy cannot unfreeze the host's."""
    host = Probe()
    gc.freeze()
    try:
        with batch_collector():
            assert gc.get_threshold() == BATCH_THRESHOLD
            made = Probe()
            keep_long_lived()
            assert not frozen(made)
        assert frozen(host)  # still frozen: the command did not unfreeze it
    finally:
        gc.unfreeze()


def test_the_cli_runs_each_command_under_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int, int]] = []

    def command(argv: Any) -> int:
        seen.append(gc.get_threshold())
        return 0

    monkeypatch.setattr(sync.cli, "_command", command)
    assert sync.cli.main(["validate"]) == 0
    assert seen == [BATCH_THRESHOLD]


def test_a_run_keeps_its_pulled_records_out_of_later_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within a command, what the pull returned is frozen before the evaluation allocates."""
    seen: list[bool] = []
    evaluate = sync.engine._evaluate

    def watched(config: Any, pulled: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(frozen(pulled) and all(frozen(i) for i in pulled.records.items))
        return evaluate(config, pulled, *args, **kwargs)

    monkeypatch.setattr(sync.engine, "_evaluate", watched)
    config = write_setup(tmp_path)
    with batch_collector():
        assert go(config, tmp_path, DAY1).exit_code == 0
    assert go(config, tmp_path, DAY1).exit_code == 0  # outside a command: nothing frozen
    assert seen == [True, False]


def test_paused_gc_pauses_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
