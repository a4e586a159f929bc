"""How a run's outcome is written to the state: the one write transaction's statements (schema,
records, cursors, History, the run's row) and `OpenRun`, which writes them while the sinks
publish and COMMITs after. `sync.store.Store` reads the state and opens these writes."""

from __future__ import annotations

import contextvars
import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from sync import signals
from sync.base.records import Record, Records, to_json
from sync.base.report import HistoryRow

if TYPE_CHECKING:
    from sync.store import Store

log = structlog.get_logger(__name__)
SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    source TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (source, kind, key));
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY, type TEXT NOT NULL, cursor TEXT, last_success TEXT,
    last_full TEXT, stale_since TEXT, last_error TEXT);
CREATE TABLE IF NOT EXISTS source_state (
    source TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (source, key));
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started TEXT NOT NULL, finished TEXT NOT NULL, as_of TEXT NOT NULL,
    exit_code INTEGER NOT NULL, summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    date TEXT NOT NULL, id TEXT NOT NULL, value REAL, progress REAL, expected REAL,
    status TEXT NOT NULL, PRIMARY KEY (date, id));
"""
MARK_PREFIX = "mark:"  # run-kept values in `meta`, apart from the schema's own keys
TABLES = ("meta", "records", "sources", "source_state", "runs", "history")
# An open run's writer (OpenRun): its page cache, and the bytes of records it writes before the
# publish ends. Within them SQLite keeps every changed page in memory, so the database file and
# its readers see nothing until the COMMIT (see OpenRun); a run larger than that writes the rest
# once the sinks published, as a plain commit does.
OPEN_CACHE_KIB = 64 * 1024
OPEN_BUDGET = 32 * 1024 * 1024
_ROW_BYTES = 64  # a record row's key and page overhead beside its payload, for OPEN_BUDGET
_PACE_ROWS = 200  # rows the writer writes between two pauses while the sinks publish (rows())
_CHUNK_ROWS = 2000  # records in one executemany (commit_source): between two, OpenRun.settle
# The page cache once the sinks published: SQLite's default. Spilling pages into the file is
# harmless then (the COMMIT follows), and a 64 MiB cache filled by a 100,000-item commit after
# the publish was the run's memory peak (413 MB; 391 MB settled).
SETTLED_CACHE_KIB = 2 * 1024
Row = tuple[str, str, str, str]  # a `records` row: source, kind, key, payload


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRow:
    """A run's own record (the `runs` table), written last, just before the COMMIT."""

    run_id: str
    started: datetime
    finished: datetime
    as_of: datetime
    exit_code: int
    summary: Mapping[str, Any]


@dataclass(slots=True, kw_only=True)
class SourceCommit:
    """One source's share of a run's commit: its pulled records when it succeeded, or the
    failure that makes it stale."""

    type: str
    ok: bool
    records: Records = field(default_factory=Records)
    complete: bool = True
    cursor: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    full: bool = False
    error: str = ""


class OpenRun:
    """A run's commit, written while its sinks publish (`Store.open_run`).

    From `start`, a worker thread opens the transaction (BEGIN IMMEDIATE) and writes the
    sources' records and cursors, History and the kept marks (mostly JSON encoding) while the
    main thread waits for the remote sinks (the Sheets server); then `commit` writes the `runs`
    row and COMMITs, or `close` rolls back. Started as the remote writes start, not before the
    sinks prepare: their rendering is CPU work too, and a kill while file sinks render would
    then fall inside the transaction for nothing. The main thread keeps what signals need
    (`signals.deferred` and `settling` are the main thread's): a SIGTERM while the sinks
    publish ends the run with 143 and the state as it was; one after the publish waits for the
    COMMIT, as `Store._write` does.

    Until the COMMIT the database file is not written and its readers (explain, digest, doctor
    in another process) read the last committed state: the transaction holds SQLite's RESERVED
    lock, which readers share, and keeps its changed pages in its page cache. A page cache that
    overflows spills pages into the file, for which SQLite takes the EXCLUSIVE lock until the
    transaction ends: readers would wait for the whole publish (their busy timeout is 5 s) and
    fail. So the cache is OPEN_CACHE_KIB and the writer stops at OPEN_BUDGET bytes of records
    until the publish ends; a larger run writes the rest after it, as a plain commit does.
    A SIGKILL at any point leaves a journal the next reader rolls back, as for any write."""

    def __init__(
        self,
        store: Store,
        *,
        started: datetime,
        sources: Mapping[str, SourceCommit],
        history: Sequence[HistoryRow],
        kept: Mapping[str, str] | None,
        budget: int = OPEN_BUDGET,
    ) -> None:
        self._store = store
        self._budget = budget
        self._dirty = 0  # bytes of rows written, or about to be deleted (pages made dirty)
        self._waited = False  # past the budget, the writer waited for the publish
        self._settled = False  # the page cache went back to its default size (settle)
        self._published = threading.Event()  # past the budget, the writer waits for this
        self._cancel = threading.Event()
        self.written = threading.Event()  # every row is in: COMMIT is all that is left
        self._db: sqlite3.Connection | None = None
        self._fresh = False
        self._committed = False
        self._error: BaseException | None = None
        self._work = (started, sources, history, kept)
        self._thread = threading.Thread(
            target=self._write_in,
            args=(contextvars.copy_context(),),  # the log's run_id
            name="goalsync-state-writer",
            daemon=True,
        )

    def start(self) -> None:
        """Start writing (once; `commit` starts it when nothing did)."""
        if self._thread.ident is None:
            self._thread.start()

    def commit(self, row: RunRow) -> None:
        """After every sink published: wait for the writer (start it, if nothing did), write
        the run's record, COMMIT. The writer's error (disk full) is raised here. A SIGTERM
        meanwhile waits for the end: the sinks hold the publish, and a whole commit, a matter of
        a second even for 100,000 items, is worth more than a rollback that makes the next run
        pull it all again. Once committed, the run's outcome is settled (signals.settling)."""
        with signals.deferred():
            self._published.set()
            self.start()
            self._thread.join()
            if self._error is not None:
                raise self._error
            assert self._db is not None  # set before its first statement
            write_run_row(self._db, row)
            with signals.settling(row.exit_code):
                self._db.execute("COMMIT")
                self._committed = True

    def close(self) -> None:
        """Stop the writer and end its connection: rolled back unless `commit` went through."""
        with signals.deferred():  # a rollback cut short would leave a journal for the next run
            self._cancel.set()
            self._published.set()
            if self._thread.ident is not None:
                self._thread.join()
            if self._db is not None:
                db, self._db = self._db, None
                self._store.end_writer(db, fresh=self._fresh, committed=self._committed)

    def _write_in(self, context: contextvars.Context) -> None:
        context.run(self._write, *self._work)

    def _write(
        self,
        started: datetime,
        sources: Mapping[str, SourceCommit],
        history: Sequence[HistoryRow],
        kept: Mapping[str, str] | None,
    ) -> None:
        t0 = time.monotonic()
        try:
            self._db, self._fresh = self._store.connect_writer(threads=True)
            self._fresh = begin(self._db)
            self._db.execute(f"PRAGMA cache_size=-{OPEN_CACHE_KIB}")
            create_schema(self._db)
            write_outcome(self._db, sources, history, kept, started, self)
            self.written.set()
            log.info(
                "state_written",  # all but the run's record; committed once the sinks published
                seconds=round(time.monotonic() - t0, 3),
                waited_for_publish=self._waited,
            )
        except BaseException as exc:  # raised in the main thread, by `commit`
            self._error = exc

    def reserve(self, nbytes: int) -> None:
        """Before a statement that changes about `nbytes` of pages: past the budget, wait for
        the publish's end; stop if it failed."""
        if self._dirty + nbytes > self._budget and not self._published.is_set():
            self._waited = True
            self._published.wait()
        if self._cancel.is_set():
            raise _Abandoned
        self._dirty += nbytes

    def settle(self, db: sqlite3.Connection) -> None:
        """Between two statements: once the publish is over, the page cache goes back to its
        default size (its pages beyond that are spilled or freed), once."""
        if self._published.is_set() and not self._settled:
            db.execute(f"PRAGMA cache_size=-{SETTLED_CACHE_KIB}")
            self._settled = True

    def rows(self, rows: Iterable[Row]) -> Iterator[Row]:
        """The records' rows as SQLite takes them, each reserved. While the sinks publish, the
        writer pauses as long as it worked, every _PACE_ROWS rows: the publish's own threads
        (the Sheets sink makes each body while the one before is sent) need the GIL back
        promptly, and a writer that never pauses, holding it in 5 ms slices, stretched the
        publish by more than the writer's own CPU time (bench: a 30,000-item run's publish
        +2-4 s). At half pace it still ends well within the publish."""
        since = time.monotonic()
        for n, row in enumerate(rows, 1):
            self.reserve(len(row[3]) + _ROW_BYTES)
            yield row
            if n % _PACE_ROWS == 0 and not self._published.is_set():
                self._published.wait(time.monotonic() - since)  # ends early when it is done
                since = time.monotonic()


class _Abandoned(Exception):
    """The publish failed: the writer stops (its transaction is rolled back)."""


def begin(db: sqlite3.Connection) -> bool:
    """Open the write transaction; whether the database is new (no schema yet)."""
    db.execute("PRAGMA journal_mode=DELETE")  # no WAL: see the module's doc
    # BEGIN IMMEDIATE rolls back a hot journal a killed run left, then locks.
    db.execute("BEGIN IMMEDIATE")
    return not has_schema(db)


def create_schema(db: sqlite3.Connection) -> None:
    for statement in SCHEMA.strip().split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))


def write_outcome(
    db: sqlite3.Connection,
    sources: Mapping[str, SourceCommit],
    history: Sequence[HistoryRow],
    kept: Mapping[str, str] | None,
    started: datetime,
    budget: OpenRun,
) -> None:
    """A run's records, cursors, History and kept marks (all but its `runs` row)."""
    db.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)",
        [(f"{MARK_PREFIX}{k}", v) for k, v in (kept or {}).items()],
    )
    configured = list(sources)
    marks = ",".join("?" * len(configured)) or "''"
    # Sources no longer in the config: their records and cursors go.
    for table in ("records", "sources", "source_state"):
        db.execute(
            f"DELETE FROM {table} WHERE source NOT IN ({marks})",  # noqa: S608
            configured,
        )
    for name, commit in sources.items():
        commit_source(db, name, commit, started, budget)
    write_history(db, history)


def write_run_row(db: sqlite3.Connection, row: RunRow) -> None:
    db.execute(
        "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?)",
        (
            row.run_id,
            row.started.isoformat(),
            row.finished.isoformat(),
            row.as_of.isoformat(),
            row.exit_code,
            json.dumps(row.summary, default=str),
        ),
    )


def has_schema(db: sqlite3.Connection) -> bool:
    """Whether the database holds goalsync's tables (created together, in one transaction).
    The first read of a connection: SQLite rolls back a hot journal here, before it answers."""
    marks = ",".join("?" * len(TABLES))
    (found,) = db.execute(
        f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({marks})",  # noqa: S608
        TABLES,
    ).fetchone()
    return bool(found)


def commit_source(
    db: sqlite3.Connection,
    name: str,
    c: SourceCommit,
    pulled: datetime,
    budget: OpenRun,
) -> None:
    if not c.ok:
        db.execute(
            "INSERT INTO sources (source, type, stale_since, last_error) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(source) DO UPDATE SET type=excluded.type, "
            "stale_since=COALESCE(sources.stale_since, excluded.stale_since), "
            "last_error=excluded.last_error",
            (name, c.type, pulled.isoformat(), c.error),
        )
        return
    r = c.records
    if c.complete:
        budget.reserve(bytes_of(db, name))  # the DELETE changes every page of those rows
        # A snapshot replaces the source's records. Events stay (a source without history
        # accumulates the ones goalsync recorded), except those of items that are gone.
        db.execute("DELETE FROM records WHERE source = ? AND kind != 'event'", (name,))
        keys = [i.key for i in r.items]
        db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key TEXT PRIMARY KEY)")
        db.execute("DELETE FROM keep")
        db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(k,) for k in keys])
        db.execute(
            "DELETE FROM records WHERE source = ? AND kind = 'event' AND "
            "json_extract(payload, '$.item_key') NOT IN (SELECT key FROM keep)",
            (name,),
        )
    # Generators, not lists: each record's JSON is made as SQLite takes it (a full pull of
    # 100,000 items would otherwise hold all their JSON at once, the peak of the whole run).
    rows: Iterable[Row] = itertools.chain(
        ((name, "item", i.key, payload(i)) for i in r.items),
        ((name, "event", e.identity, payload(e)) for e in r.events),
        ((name, "metric", m.identity, payload(m)) for m in r.metrics),
        ((name, "goal_def", f"{n:08d}|{g.id}", payload(g)) for n, g in enumerate(r.goal_defs)),
        ((name, "override", f"{n:08d}|{o.id}", payload(o)) for n, o in enumerate(r.overrides)),
        ((name, "checkin", f"{n:08d}|{c.id}", payload(c)) for n, c in enumerate(r.checkins)),
    )
    # In chunks: between two, a writer whose publish ended gives back its big page cache
    # (OpenRun.settle), so the rows written after the publish never grow it to its full size.
    paced = iter(budget.rows(rows))
    while chunk := list(itertools.islice(paced, _CHUNK_ROWS)):
        db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", chunk)
        budget.settle(db)
    db.execute(
        "INSERT INTO sources (source, type, cursor, last_success, last_full, stale_since, "
        "last_error) VALUES (?, ?, ?, ?, ?, NULL, NULL) ON CONFLICT(source) DO UPDATE SET "
        "type=excluded.type, cursor=excluded.cursor, last_success=excluded.last_success, "
        "last_full=COALESCE(excluded.last_full, sources.last_full), stale_since=NULL, "
        "last_error=NULL",
        (
            name,
            c.type,
            c.cursor,
            pulled.isoformat(),
            pulled.isoformat() if c.full or c.complete else None,
        ),
    )
    db.execute("DELETE FROM source_state WHERE source = ?", (name,))
    db.executemany(
        "INSERT INTO source_state VALUES (?, ?, ?)", [(name, k, v) for k, v in c.values.items()]
    )


def bytes_of(db: sqlite3.Connection, name: str) -> int:
    """About the bytes of a source's records but its events: their share of the file's pages
    (two counts on the primary key's index, no payload read)."""
    count = "SELECT count(*) FROM records"
    (mine,) = db.execute(f"{count} WHERE source = ? AND kind != 'event'", (name,)).fetchone()
    if not mine:
        return 0
    (every,) = db.execute(count).fetchone()
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    (size,) = db.execute("PRAGMA page_size").fetchone()
    return int(pages * size * mine // max(every, 1))


def write_history(db: sqlite3.Connection, rows: Sequence[HistoryRow]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?, ?, ?)",
        [(h.date.isoformat(), h.id, h.value, h.progress, h.expected, h.status) for h in rows],
    )


def payload(record: Record) -> str:
    return json.dumps(to_json(record), separators=(",", ":"), default=str)
