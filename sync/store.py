"""The state dir's SQLite store: committed records, cursors, run records and History.

Reads never write: a run reads the committed state, stages what it pulled in memory, and writes
it in one transaction that COMMITs only after every sink published (`open_run`: the rows are
written while the sinks publish, see `OpenRun`). Until the COMMIT the
database file is untouched byte for byte (no WAL, no schema migration on open), so a failed
publish leaves the state exactly as it was. Deleting the state dir costs a full pull, nothing
else: History lives in the status sheet too.

A run killed at any instant, SIGKILL in the middle of the commit included, leaves a state the
next run opens by itself:
- the database keeps SQLite's rollback journal (journal_mode=DELETE). A commit killed midway
  leaves a "hot" journal beside a half-written file; the next connection that may write rolls it
  back before it reads anything, so every reader opens the file read-write (never creating it)
  with `PRAGMA query_only` (see `_read`). Without a hot journal such a reader changes nothing.
- a first commit killed midway leaves a file without the schema (0 bytes, or pages the journal
  rolls back to nothing): it reads as "no state yet", like a missing file.
WAL was considered and not taken: its readers never need to roll back, but the state would be
three files (a copy of the .sqlite3 alone can miss committed runs), a reader needs write access
for the -shm file anyway, and it needs shared memory, which network file systems (a Kubernetes
volume) do not always give. The rollback journal keeps the state one file, on any file system.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sync import signals, statewrite
from sync.base.records import Records, from_json
from sync.base.report import HistoryRow
from sync.statewrite import MARK_PREFIX, OpenRun, RunRow, SourceCommit

__all__ = [
    "DB_NAME",
    "MARK_PREFIX",
    "OpenRun",
    "RunRow",
    "SourceCommit",
    "SourceState",
    "Store",
]

DB_NAME = "goalsync.sqlite3"
_LOAD_CHUNK = 2000  # records parsed in one json.loads by load_records


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers of a source between runs."""

    cursor: str | None = None
    last_success: datetime | None = None
    last_full: datetime | None = None
    stale_since: datetime | None = None
    last_error: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)


class Store:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / DB_NAME

    @property
    def exists(self) -> bool:
        """Whether a committed state is there. A file a killed first commit left (no schema,
        maybe a journal to roll back) is none: the next run starts from nothing, as without it."""
        try:
            with self._read() as db:
                return db is not None
        except sqlite3.DatabaseError:
            # Damaged, foreign or locked: a file is there all the same, not an empty state (that
            # would quietly start History over); the reads raise and say why (doctor names it).
            return True

    # --- reads (never write) -----------------------------------------------------------------

    def load_records(self, sources: Iterable[str]) -> dict[str, Records]:
        """Committed records of each named source."""
        wanted = list(sources)
        out = {name: Records() for name in wanted}
        if not wanted:
            return out
        grouped: dict[str, dict[str, list[Any]]] = {name: {} for name in wanted}
        shared: dict[str, str] = {}  # one copy of each repeated string (from_json)
        marks = ",".join("?" * len(wanted))
        with self._read() as db:
            if db is None:
                return out
            rows = db.execute(
                f"SELECT source, kind, payload FROM records WHERE source IN ({marks}) "  # noqa: S608
                "ORDER BY source, kind, key",
                wanted,
            )
            # Parsed a chunk at a time, as one JSON array: the parser then makes each key
            # string once per chunk, not once per record (a third of the parse), and only one
            # chunk's dicts are alive at a time.
            for (source, kind), chunk in itertools.groupby(rows, key=lambda r: (r[0], r[1])):
                into = grouped[source].setdefault(kind, [])
                while batch := [p for _, _, p in itertools.islice(chunk, _LOAD_CHUNK)]:
                    into.extend(
                        from_json(kind, d, shared) for d in json.loads(f"[{','.join(batch)}]")
                    )
        for name, kinds in grouped.items():
            out[name] = Records(
                items=tuple(kinds.get("item", ())),
                events=tuple(kinds.get("event", ())),
                metrics=tuple(kinds.get("metric", ())),
                goal_defs=tuple(kinds.get("goal_def", ())),
                overrides=tuple(kinds.get("override", ())),
                checkins=tuple(kinds.get("checkin", ())),
            )
        return out

    def source_states(self) -> dict[str, SourceState]:
        out: dict[str, SourceState] = {}
        with self._read() as db:
            if db is None:
                return out
            values: dict[str, dict[str, str]] = {}
            for source, key, value in db.execute("SELECT source, key, value FROM source_state"):
                values.setdefault(source, {})[key] = value
            for row in db.execute(
                "SELECT source, cursor, last_success, last_full, stale_since, last_error "
                "FROM sources"
            ):
                out[row[0]] = SourceState(
                    cursor=row[1],
                    last_success=_dt(row[2]),
                    last_full=_dt(row[3]),
                    stale_since=_dt(row[4]),
                    last_error=row[5],
                    values=values.get(row[0], {}),
                )
        return out

    def history(self) -> list[HistoryRow]:
        with self._read() as db:
            if db is None:
                return []
            return [
                HistoryRow(
                    date=date.fromisoformat(d), id=i, value=v, progress=p, expected=e, status=s
                )
                for d, i, v, p, e, s in db.execute(
                    "SELECT date, id, value, progress, expected, status FROM history "
                    "ORDER BY date, id"
                )
            ]

    def mark(self, name: str) -> str | None:
        """A value a run kept with `open_run(kept=...)`, None if never kept."""
        with self._read() as db:
            if db is None:
                return None
            row = db.execute(
                "SELECT value FROM meta WHERE key = ?", (f"{MARK_PREFIX}{name}",)
            ).fetchone()
        return str(row[0]) if row else None

    def last_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        with self._read() as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT run_id, started, finished, as_of, exit_code, summary FROM runs "
                "ORDER BY started DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            {
                "run_id": r[0],
                "started": r[1],
                "finished": r[2],
                "as_of": r[3],
                "exit_code": r[4],
                "summary": json.loads(r[5]),
            }
            for r in rows
        ]

    # --- the one write -----------------------------------------------------------------------

    @contextlib.contextmanager
    def open_run(
        self,
        *,
        started: datetime,
        sources: Mapping[str, SourceCommit],
        history: Sequence[HistoryRow],
        kept: Mapping[str, str] | None = None,
    ) -> Iterator[OpenRun]:
        """A run's outcome, written in one transaction: all of it, or (on any error) none. The
        block publishes, calling `OpenRun.start` as the remote writes start (the rows are written
        while the sinks publish), then `OpenRun.commit`, which writes the rest and COMMITs; once
        committed the run's outcome is settled (a SIGTERM from then on ends the process with its
        exit code, not 143: sync.signals). A block left without that commit (a failed publish,
        SIGTERM) rolls back: the database file as it was. `kept`: values the run keeps beside its
        records (the week whose digest was sent, the forecasts), committed with it or not at all."""
        writer = OpenRun(self, started=started, sources=sources, history=history, kept=kept)
        try:
            yield writer
        finally:
            writer.close()

    def add_history(self, rows: Sequence[HistoryRow], exit_code: int | None = None) -> None:
        """Upsert History rows by (date, ID) in one transaction (backfill). With `exit_code`, a
        SIGTERM after the commit leaves the process that code, as a run's commit does."""
        with self._write(settles=exit_code) as db:
            statewrite.write_history(db, rows)

    @contextlib.contextmanager
    def _write(self, settles: int | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction (creating the schema on first use): all of it, or none.

        A SIGTERM that arrives meanwhile waits for the transaction's end (signals.deferred), as
        in `OpenRun.commit`. The backstop still ends a commit that outlasts its grace; a kill
        mid-commit is healed by the next reader. `settles`: the exit code this commit settles
        (signals.settling)."""
        with signals.deferred():
            db, fresh = self.connect_writer()
            committed = False
            try:
                fresh = statewrite.begin(db)
                statewrite.create_schema(db)
                yield db
                with signals.settling(settles):
                    db.execute("COMMIT")
                    committed = True
            finally:
                self.end_writer(db, fresh=fresh, committed=committed)

    def connect_writer(self, *, threads: bool = False) -> tuple[sqlite3.Connection, bool]:
        """The writer's connection (rwc: the one that may create the file), and whether the file
        is new. `threads`: the connection may be used by another thread, one at a time."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.is_file()
        return sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=not threads
        ), fresh

    def end_writer(self, db: sqlite3.Connection, *, fresh: bool, committed: bool) -> None:
        """Close a write connection; a transaction it did not commit is rolled back. A failed
        first commit leaves no file behind (it would read as empty anyway: this keeps the state
        dir as it was). Never after the COMMIT went through."""
        try:
            if db.in_transaction:
                db.execute("ROLLBACK")
        finally:
            db.close()
            if fresh and not committed:
                self.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        """A connection that reads the committed state, or None when there is none (no file, or
        a file without the schema: what a first commit killed midway leaves).

        Opened `mode=rw` with `PRAGMA query_only`, not `mode=ro`: a read-only connection cannot
        roll back the hot journal a commit killed midway leaves, and fails ("attempt to write a
        readonly database"; on a first run, "no such table") on every later run. A read-write
        one rolls it back first, as SQLite's own protocol for a crashed writer has it; with no
        hot journal (the normal case: a live writer holds its lock, so its journal is not hot)
        it changes nothing, byte for byte. Never `rwc`: a reader does not create the file. A
        file the process may not write is opened read-only by SQLite all the same."""
        if not self.path.is_file():
            yield None
            return
        try:
            db = _ClosingConnection(f"file:{self.path}?mode=rw", uri=True)
        except sqlite3.OperationalError:
            if self.path.exists():
                raise
            yield None  # removed meanwhile (a failed first commit)
            return
        with db:
            db.execute("PRAGMA query_only=ON")
            yield db if statewrite.has_schema(db) else None


class _ClosingConnection(sqlite3.Connection):
    """`with` closes the connection (sqlite3's own context manager only ends a transaction)."""

    def __exit__(self, *exc: object) -> None:  # type: ignore[override]
        self.close()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
