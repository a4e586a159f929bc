from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

import pytest

from connectors.files.localfs import FOLDER_MARK, StagedFiles, ensure_own_file, ensure_own_folder
from sync.base.errors import ConfigError, PublishError


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


# --- writing only what is goalsync's own -----------------------------------------------------


def says_ours(fh: IO[bytes]) -> bool:
    return fh.read(4) == b"MINE"


def no_legacy(folder: Path, names: Sequence[str]) -> Sequence[str]:
    return names


def test_a_new_path_and_a_path_under_a_file_are_not_refused(tmp_path: Path) -> None:
    ensure_own_file(tmp_path / "new" / "status.xlsx", "xlsx", says_ours)
    ensure_own_folder(tmp_path / "new" / "csv", "csv", no_legacy)
    (tmp_path / "file").write_bytes(b"x")
    # Nothing is at the path to lose: the publish fails on its own there (exit 4), as before.
    ensure_own_file(tmp_path / "file" / "status.xlsx", "xlsx", says_ours)
    ensure_own_folder(tmp_path / "file" / "csv", "csv", no_legacy)


def test_a_file_with_the_mark_is_ours_and_one_without_is_refused(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    ours.write_bytes(b"MINE and more")
    theirs.write_bytes(b"THEIRS")
    ensure_own_file(ours, "xlsx", says_ours)
    with pytest.raises(ConfigError) as caught:
        ensure_own_file(theirs, "xlsx", says_ours)
    assert str(caught.value) == (
        f"xlsx sink: {theirs} exists without goalsync's mark: goalsync did not write it; "
        f"goalsync replaces only files it made (fix: set path: to another file, or move or "
        f"delete {theirs} if it may be replaced)"
    )
    with pytest.raises(PublishError, match="goalsync did not write it"):
        ensure_own_file(theirs, "xlsx", says_ours, PublishError)
    assert theirs.read_bytes() == b"THEIRS"


def test_a_recognizer_that_fails_on_hostile_content_means_not_ours(tmp_path: Path) -> None:
    def explodes(fh: IO[bytes]) -> bool:
        raise RuntimeError("a zip bomb, say")

    target = tmp_path / "status.xlsx"
    target.write_bytes(b"MINE")
    with pytest.raises(ConfigError, match="without goalsync's mark"):
        ensure_own_file(target, "xlsx", explodes)


def test_links_folders_and_fifos_are_refused_without_following_or_hanging(tmp_path: Path) -> None:
    mine = tmp_path / "mine.html"
    mine.write_bytes(b"MINE")
    link = tmp_path / "link.html"
    link.symlink_to(mine)  # even to goalsync's own file: writing would replace the link
    with pytest.raises(ConfigError, match="is a symbolic link"):
        ensure_own_file(link, "html", says_ours)
    dangling = tmp_path / "dangling.html"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="is a symbolic link"):
        ensure_own_file(dangling, "html", says_ours)
    (tmp_path / "dir.html").mkdir()
    with pytest.raises(ConfigError, match=r"is a folder.*e\.g\. .*dir\.html/status\.html"):
        ensure_own_file(tmp_path / "dir.html", "html", says_ours)
    fifo = tmp_path / "fifo.html"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="is not a regular file"):
        ensure_own_file(fifo, "html", says_ours)
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        ensure_own_folder(mine, "csv", no_legacy)
    with pytest.raises(ConfigError, match="broken symbolic link"):
        ensure_own_folder(dangling, "csv", no_legacy)


def test_etc_passwd_is_refused() -> None:
    with pytest.raises(ConfigError, match="/etc/passwd"):
        ensure_own_file(Path("/etc/passwd"), "xlsx", says_ours)
    with pytest.raises(ConfigError, match="/etc holds files goalsync did not write"):
        ensure_own_folder(Path("/etc"), "csv", no_legacy)


def test_a_folder_is_ours_when_empty_marked_or_recognised(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    ensure_own_folder(folder, "csv", no_legacy)  # empty: adopted
    (folder / "notes.txt").write_bytes(b"keep")
    with pytest.raises(ConfigError) as caught:
        ensure_own_folder(folder, "csv", no_legacy)
    assert "holds files goalsync did not write (notes.txt)" in str(caught.value)
    assert f"create an empty {folder / FOLDER_MARK}" in str(caught.value)
    ensure_own_folder(folder, "csv", lambda f, names: [n for n in names if n != "notes.txt"])
    (folder / FOLDER_MARK).write_bytes(b"")
    ensure_own_folder(folder, "csv", no_legacy)
    assert (folder / "notes.txt").read_bytes() == b"keep"


def test_a_marker_that_is_a_link_or_a_folder_does_not_count(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    (tmp_path / "elsewhere").write_bytes(b"")
    (folder / FOLDER_MARK).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match=r"no \.goalsync-sink marker"):
        ensure_own_folder(folder, "csv", no_legacy)


def test_a_link_to_a_folder_of_its_own_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / FOLDER_MARK).write_bytes(b"")
    (real / "Status.csv").write_bytes(b"ID,Level\r\n")
    (tmp_path / "csv").symlink_to(real)
    ensure_own_folder(tmp_path / "csv", "csv", no_legacy)
