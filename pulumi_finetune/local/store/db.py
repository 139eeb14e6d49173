"""The data directory and its SQLite database: layout, lock, connections, transactions.

Layout: ``<data-dir>/state.sqlite3`` (WAL) holds every object; ``<data-dir>/files/<file-id>`` holds
file bytes (the client's filename is never used as a path); ``<data-dir>/uploads/<upload-id>/``
holds upload parts until completion. Writes go through one connection behind a lock: every
operation is one transaction, so a kill -9 leaves either all of an operation or none of it. Reads
use a pool of other connections and never wait for that lock: in WAL mode a reader sees the last
committed transaction. Reading a job writes only when its clock has passed a milestone.
``<data-dir>/lock`` is held (flock) while a store is open, so two endpoints never share a
directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import DataDirInUse, InvalidRequest
from ..flavors import OPENAI, Flavor

JSON = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL, filename TEXT NOT NULL, purpose TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, filename TEXT NOT NULL, purpose TEXT NOT NULL,
    bytes INTEGER NOT NULL, mime_type TEXT NOT NULL, status TEXT NOT NULL,
    expires_at INTEGER NOT NULL, file_id TEXT);
CREATE TABLE IF NOT EXISTS upload_parts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, upload_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, created_t REAL NOT NULL,
    model TEXT NOT NULL, base_model TEXT NOT NULL, training_file TEXT NOT NULL,
    validation_file TEXT, suffix TEXT, seed INTEGER NOT NULL, metadata TEXT, integrations TEXT,
    method_type TEXT NOT NULL, hyperparameters TEXT NOT NULL, grader TEXT,
    n_examples INTEGER NOT NULL, tokens_per_epoch INTEGER NOT NULL,
    speed REAL NOT NULL, active_since REAL, progress_base REAL NOT NULL DEFAULT 0,
    requeue_delay REAL NOT NULL DEFAULT 0, milestones_done INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL, finished_at INTEGER, fine_tuned_model TEXT, trained_tokens INTEGER,
    result_files TEXT NOT NULL DEFAULT '[]', error TEXT, datacheck TEXT,
    transitions INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, job_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL, type TEXT NOT NULL,
    data TEXT);
CREATE INDEX IF NOT EXISTS events_by_job ON events (job_id, seq);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, job_id TEXT NOT NULL,
    created_at INTEGER NOT NULL, model TEXT UNIQUE NOT NULL, step_number INTEGER NOT NULL,
    metrics TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS checkpoints_by_job ON checkpoints (job_id, seq);
CREATE TABLE IF NOT EXISTS deleted_models (id TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL);
"""
# Columns added after the first release, added to an older database when it is opened: the
# host's own create fields and the create request as received (flavors), the USD of training at
# which the host pauses the job itself, and whether it did.
_ADDED_JOB_COLUMNS = {
    "extras": "TEXT",
    "request": "TEXT",
    "cost_cap": "REAL",
    "host_paused": "INTEGER NOT NULL DEFAULT 0",
}


def _add_columns(db: sqlite3.Connection) -> None:
    present = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
    for name, kind in _ADDED_JOB_COLUMNS.items():
        if name not in present:
            db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")


@dataclass(frozen=True)
class Page:
    """One page of a list: ``data`` in API order and whether more follow."""

    data: list[JSON]
    has_more: bool


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def cursor_seq(db: sqlite3.Connection, table: str, after: str, *, job_id: str | None = None) -> int:
    """The position of the ``after`` cursor in ``table``; an unknown one is a 400 on every list."""
    sql = f"SELECT seq FROM {table} WHERE id=?"
    args = [after]
    if job_id is not None:
        sql += " AND job_id=?"
        args.append(job_id)
    row = db.execute(sql, args).fetchone()
    if row is None:
        raise InvalidRequest(f"Unknown cursor: {after}", param="after")
    return int(row["seq"])


def _lock_data_dir(data_dir: Path) -> IO[str]:
    """Hold ``<data_dir>/lock`` (flock) for the store's lifetime: one endpoint per directory."""
    handle = (data_dir / "lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirInUse(
            f"data directory {data_dir} is in use by another local endpoint (pid {holder}); "
            "stop it or pass another --data-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


class Database:
    """The data directory: its lock, the write connection, the read pool and transactions."""

    def __init__(
        self,
        data_dir: Path,
        *,
        org: str = "personal",
        clock_speed: float = 1.0,
        flavor: Flavor = OPENAI,
        cost_cap_usd: float | None = None,
    ) -> None:
        self.flavor = flavor
        self.cost_cap_usd = cost_cap_usd
        """The cost cap given to new jobs of a capped method; None: the host's own."""
        self.data_dir = Path(data_dir)
        self.files_dir = self.data_dir / "files"
        self.uploads_dir = self.data_dir / "uploads"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        self.org = org
        self.organization_id = f"org-{org}"
        self.clock_speed = clock_speed
        self._dir_lock = _lock_data_dir(self.data_dir)
        self._lock = threading.RLock()
        try:
            self._db = self._connect()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            _add_columns(self._db)
        except BaseException:
            self._dir_lock.close()
            raise
        self._idle_readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        with self._lock, self._readers_lock:
            self._closed = True
            for reader in self._readers:
                reader.close()
            self._db.close()
            self._dir_lock.close()

    # ----------------------------------------------------------------- plumbing

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.data_dir / "state.sqlite3", check_same_thread=False, isolation_level=None
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=5000")
        return db

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A connection of the read pool, for one thread at a time; statements outside a
        transaction each see the last committed state."""
        try:
            db = self._idle_readers.get_nowait()
        except queue.Empty:
            db = self._connect()
            db.execute("PRAGMA query_only=1")
            with self._readers_lock:
                if self._closed:
                    db.close()
                    raise sqlite3.ProgrammingError("the store is closed") from None
                self._readers.append(db)
        try:
            yield db
        finally:
            self._idle_readers.put(db)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (None when unset)."""
        with self._read() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row["value"])
