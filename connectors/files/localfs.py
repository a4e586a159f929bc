"""Writing local files so that readers never see half of one: render to a temporary file in
the same folder (so the rename stays on one filesystem), then rename it into place.

And writing only what is goalsync's own: a file sink replaces a file or fills a folder only when it
does not exist yet or carries goalsync's mark (a document property in the xlsx, a generator meta
tag in the html, a `.goalsync-sink` file in the csv folder). Anything else, a symbolic link, a
folder where a file goes, `/etc/passwd`, is refused with the path and the fix: at build time as a
ConfigError (exit 2, before any request; `validate` builds the sinks too) and again just before
rendering as a PublishError, in case something appeared at the path while the sources were pulled.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from sync.base.errors import ConfigError, GoalsyncError, PublishError

FOLDER_MARK = ".goalsync-sink"  # the file that makes a csv folder goalsync's
FOLDER_MARK_TEXT = (
    b"This folder is written by goalsync: its <Tab>.csv files are replaced on every run.\n"
    b"Other files here are left alone. Delete this file to stop goalsync writing here.\n"
)
# The tabs that releases before the mark wrote, in their order: how their outputs are recognised
# (a historical fact, so it does not follow the tabs of today).
UNMARKED_RELEASE_TABS = ("Status", "Risks", "Items", "Unaligned", "Workload", "History", "Run")
# Whether an open file is one goalsync wrote (its mark, or the exact shape of an earlier
# release's output). It reads the file as hostile input: it must not trust sizes or structure.
Recognizer = Callable[[IO[bytes]], bool]
# The names in a folder without the marker that are not what an earlier release wrote there
# (none: the folder is goalsync's).
FolderRecognizer = Callable[[Path, Sequence[str]], Sequence[str]]


class StagedFiles:
    """Temporary files waiting to replace their targets; a PreparedWrite for file sinks."""

    remote = False

    def __init__(self, description: str) -> None:
        self.description = description
        self._pending: list[tuple[Path, Path]] = []  # (temporary, target)

    def add(self, target: Path, render: Callable[[IO[bytes]], None]) -> None:
        """Render `target`'s new content into a temporary file beside it."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _remove_leftovers(target)
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
            )
        except OSError as exc:
            raise PublishError(
                f"{self.description}: cannot write in {target.parent}: {exc.strerror}"
            ) from None
        tmp = Path(tmp_name)
        self._pending.append((tmp, target))
        try:
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a status file is for readers
            with os.fdopen(fd, "wb") as fh:
                render(fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise PublishError(
                f"{self.description}: cannot write {target}: {exc.strerror}"
            ) from None

    def apply(self) -> None:
        for tmp, target in self._pending:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise PublishError(
                    f"{self.description}: cannot replace {target}: {exc.strerror}"
                ) from None
        self._pending.clear()

    def discard(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._pending.clear()


def _remove_leftovers(target: Path) -> None:
    """Delete temporary files of `target` that a killed run (SIGKILL, a power cut) could not
    delete itself. Runs of a state dir never overlap (the run lock), so any such file beside the
    target is an orphan; left alone, one would pile up per killed run."""
    for orphan in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            orphan.unlink()


def write_folder_mark(fh: IO[bytes]) -> None:
    fh.write(FOLDER_MARK_TEXT)


def open_regular(path: Path) -> IO[bytes]:
    """`path` opened for reading if it is a regular file. O_NOFOLLOW and O_NONBLOCK: a link or a
    FIFO put there (even since a check) can make the reader neither follow it nor hang on it."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    fh = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        fh.close()
        raise OSError(errno.EINVAL, "not a regular file")
    return fh


def ensure_own_file(
    path: Path, sink: str, recognize: Recognizer, error: type[GoalsyncError] = ConfigError
) -> None:
    """Raise `error` unless `sink` may replace `path`: it does not exist yet, or it is a regular
    file (not a link) that `recognize` knows as goalsync's."""
    problem = _file_problem(path, sink, recognize)
    if problem is not None:
        what, fix = problem
        raise error(
            f"{sink} sink: {path} {what}; goalsync replaces only files it made (fix: {fix})"
        )


def ensure_own_folder(
    folder: Path, sink: str, recognize: FolderRecognizer, error: type[GoalsyncError] = ConfigError
) -> None:
    """Raise `error` unless `sink` may write into `folder`: it does not exist yet, is empty, holds
    the `.goalsync-sink` marker, or holds only what `recognize` knows as an earlier release's."""
    problem = _folder_problem(folder, recognize)
    if problem is not None:
        what, fix = problem
        raise error(
            f"{sink} sink: {folder} {what}; goalsync writes only into a folder it made (fix: {fix})"
        )


def _file_problem(path: Path, sink: str, recognize: Recognizer) -> tuple[str, str] | None:
    other = f"set path: to another file, or move or delete {path} if it may be replaced"
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None  # a new file: nothing to lose (a publish under a file fails on its own)
    except OSError as exc:
        return f"cannot be checked ({exc.strerror}): goalsync did not write it", other
    if stat.S_ISLNK(st.st_mode):
        return (
            "is a symbolic link: goalsync did not write it, and writing would replace the link",
            "set path: to a file of its own, or remove the link",
        )
    if stat.S_ISDIR(st.st_mode):
        return (
            "is a folder: goalsync did not write it",
            f"name a file inside it, e.g. {path / f'status.{sink}'}",
        )
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file: goalsync did not write it", other
    try:
        fh = open_regular(path)
    except OSError as exc:
        return f"cannot be read to look for goalsync's mark ({exc.strerror})", other
    with fh:
        try:
            ours = recognize(fh)
        except Exception:  # a file it cannot parse is, by definition, not its own
            ours = False
    if ours:
        return None
    return "exists without goalsync's mark: goalsync did not write it", other


def _folder_problem(folder: Path, recognize: FolderRecognizer) -> tuple[str, str] | None:
    other = "set path: to another folder (a new or an empty one)"
    try:
        st = os.stat(folder)  # a link to a folder is fine: the files are written inside it
    except (FileNotFoundError, NotADirectoryError):
        if os.path.lexists(folder):
            return "is a broken symbolic link: goalsync did not write it", other
        return None  # a new folder: nothing to lose
    except OSError as exc:
        return f"cannot be checked ({exc.strerror}): goalsync did not write it", other
    if not stat.S_ISDIR(st.st_mode):
        return "is a file, not a folder: goalsync did not write it", other
    try:
        mark = os.lstat(folder / FOLDER_MARK)
    except FileNotFoundError:
        mark = None
    except OSError as exc:
        return f"cannot be checked ({exc.strerror}): goalsync did not write it", other
    if mark is not None and stat.S_ISREG(mark.st_mode):
        return None
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return f"cannot be listed ({exc.strerror}): goalsync did not write it", other
    if not names:
        return None  # an empty folder: nothing to lose, so it is adopted
    try:
        foreign = list(recognize(folder, names))
    except Exception:  # a folder it cannot read is, by definition, not its own
        foreign = names
    if not foreign:
        return None
    shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
    return (
        f"holds files goalsync did not write ({shown}) and no {FOLDER_MARK} marker",
        f"{other}; or, if every file there may be replaced, create an empty "
        f"{folder / FOLDER_MARK} to let goalsync write there",
    )
