from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from connectors.localfs import StagedFiles
from sync.errors import PublishError


def writer(content: bytes) -> Callable[[IO[bytes]], None]:
    def render(fh: IO[bytes]) -> None:
        fh.write(content)

    return render


@pytest.fixture
def strict_umask() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_the_target_is_untouched_until_apply(tmp_path: Path) -> None:
    target = tmp_path / "status.html"
    target.write_bytes(b"old")
    before = target.stat()
    staged = StagedFiles("html test")
    staged.add(target, writer(b"new"))
    assert target.read_bytes() == b"old"
    assert target.stat().st_ino == before.st_ino
    [tmp] = temps(tmp_path)
    assert tmp.name.startswith(".status.html.")
    assert tmp.read_bytes() == b"new"
    staged.apply()
    assert target.read_bytes() == b"new"
    assert temps(tmp_path) == []


def test_discard_removes_the_temporary_files_and_keeps_the_targets(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"old a")
    staged = StagedFiles("csv test")
    staged.add(tmp_path / "a.csv", writer(b"new a"))
    staged.add(tmp_path / "b.csv", writer(b"new b"))
    assert len(temps(tmp_path)) == 2
    staged.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
    assert (tmp_path / "a.csv").read_bytes() == b"old a"
    staged.apply()  # nothing left to apply
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_discard_twice_is_harmless(tmp_path: Path) -> None:
    staged = StagedFiles("t")
    staged.add(tmp_path / "x", writer(b"x"))
    staged.discard()
    staged.discard()
    assert list(tmp_path.iterdir()) == []


def test_apply_renames_the_temporary_file_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "status.xlsx"
    target.write_bytes(b"old")
    staged = StagedFiles("xlsx test")
    staged.add(target, writer(b"new"))
    [tmp] = temps(tmp_path)
    tmp_inode = tmp.stat().st_ino
    calls: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(src: Path, dst: Path) -> None:
        calls.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)  # localfs calls os.replace
    staged.apply()
    # one rename on the same filesystem (the temporary file sits beside its target): atomic
    assert calls == [(tmp, target)]
    assert tmp.parent == target.parent
    assert target.stat().st_ino == tmp_inode
    assert target.read_bytes() == b"new"


def test_applied_files_are_readable_by_everyone(tmp_path: Path, strict_umask: None) -> None:
    del strict_umask
    target = tmp_path / "status.html"
    staged = StagedFiles("t")
    staged.add(target, writer(b"page"))
    staged.apply()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_replacing_a_file_takes_the_new_mode(tmp_path: Path) -> None:
    target = tmp_path / "status.html"
    target.write_bytes(b"old")
    target.chmod(0o600)
    staged = StagedFiles("t")
    staged.add(target, writer(b"new"))
    staged.apply()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_missing_folders_are_created(tmp_path: Path) -> None:
    target = tmp_path / "out" / "deep" / "Status.csv"
    staged = StagedFiles("t")
    staged.add(target, writer(b"x"))
    assert target.parent.is_dir()
    assert not target.exists()
    staged.apply()
    assert target.read_bytes() == b"x"


def test_a_folder_that_cannot_be_made_is_a_publish_error(tmp_path: Path) -> None:
    (tmp_path / "out").write_bytes(b"a file where the folder should be")
    staged = StagedFiles("csv out/")
    with pytest.raises(PublishError, match="csv out/: cannot write in"):
        staged.add(tmp_path / "out" / "Status.csv", writer(b"x"))


def test_a_render_that_fails_leaves_a_temporary_file_that_discard_removes(tmp_path: Path) -> None:
    def broken(fh: IO[bytes]) -> None:
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    staged = StagedFiles("html page")
    with pytest.raises(PublishError, match=r"html page: cannot write .*No space left on device"):
        staged.add(tmp_path / "index.html", broken)
    staged.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_failed_apply_is_a_publish_error_and_discard_cleans_up(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "sub" / "b.csv"
    staged = StagedFiles("csv out/")
    staged.add(first, writer(b"a"))
    staged.add(second, writer(b"b"))
    second.mkdir()  # a folder in the way: the rename onto it fails
    (second / "keep").write_bytes(b"")
    with pytest.raises(PublishError, match="csv out/: cannot replace"):
        staged.apply()
    staged.discard()
    assert temps(tmp_path) == []
    assert temps(tmp_path / "sub") == []
    assert first.read_bytes() == b"a"


def test_it_is_a_local_write() -> None:
    staged = StagedFiles("t")
    assert staged.remote is False
    assert staged.description == "t"
