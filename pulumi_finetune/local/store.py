"""The endpoint's state: SQLite in the data directory, file bytes beside it, a method per operation.

Layout: ``<data-dir>/state.sqlite3`` (WAL) holds every object; ``<data-dir>/files/<file-id>`` holds
file bytes (the client's filename is never used as a path); ``<data-dir>/uploads/<upload-id>/``
holds upload parts until completion. Writes go through one connection behind a lock: every
operation is one transaction, so a kill -9 leaves either all of an operation or none of it. Reads
use a pool of other connections and never wait for that lock: in WAL mode a reader sees the last
committed transaction. Reading a job writes only when its clock has passed a milestone.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import math
import os
import queue
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import catalog, lifecycle
from .datacheck import DataCheck, check_training_file
from .errors import Conflict, DataDirInUse, InvalidRequest, NotFound, PermissionDenied
from .ids import new_id, stable_id
from .validation import JobRequest, resolve_hyperparameters

JSON = dict[str, Any]

FILE_PURPOSES = frozenset({"assistants", "batch", "evals", "fine-tune", "user_data", "vision"})
UPLOAD_MAX_BYTES = 8 * 1024**3
UPLOAD_PART_MAX_BYTES = 64 * 1024**2
UPLOAD_TTL_SECONDS = 3600
MAX_CLOCK_OFFSET_SECONDS = 100 * 365 * 86400

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


@dataclass(frozen=True)
class Page:
    """One page of a list: ``data`` in API order and whether more follow."""

    data: list[JSON]
    has_more: bool


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _cursor_seq(
    db: sqlite3.Connection, table: str, after: str, *, job_id: str | None = None
) -> int:
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


# Milestones after which the job's row itself changed (tokens, status): read it again.
_ROW_CHANGING = frozenset({"validated", "finished"})


@functools.lru_cache(maxsize=1024)
def _plan_of(hyperparameters: str, n_examples: int) -> lifecycle.Plan:
    hyper = json.loads(hyperparameters)
    return lifecycle.make_plan(hyper["n_epochs"], hyper["batch_size"], n_examples)


@functools.lru_cache(maxsize=1024)
def _milestones_of(plan: lifecycle.Plan) -> tuple[lifecycle.Milestone, ...]:
    return tuple(plan.milestones())


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


class Store:
    """All state of one endpoint. Thread-safe; methods are named after the API operations."""

    def __init__(self, data_dir: Path, *, org: str = "personal", clock_speed: float = 1.0) -> None:
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
            row = self._db.execute("SELECT value FROM meta WHERE key='clock_offset'").fetchone()
        except BaseException:
            self._dir_lock.close()
            raise
        offset = float(row["value"]) if row else 0.0
        # An older endpoint could persist inf/NaN, after which no job could be created.
        self._clock_offset = offset if 0 <= offset <= MAX_CLOCK_OFFSET_SECONDS else 0.0
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

    def now(self) -> float:
        """The endpoint's clock: wall time plus whatever ``advance_clock`` added."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> float:
        """Move the clock forward for every job; returns the total offset. Persisted."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise InvalidRequest(
                "'advance_seconds' must be a finite, non-negative number.", param="advance_seconds"
            )
        with self._tx() as db:
            offset = self._clock_offset + seconds
            if offset > MAX_CLOCK_OFFSET_SECONDS:
                raise InvalidRequest(
                    f"The clock can be advanced by at most {MAX_CLOCK_OFFSET_SECONDS} seconds "
                    "in all (100 years).",
                    param="advance_seconds",
                )
            db.execute(
                "INSERT INTO meta(key, value) VALUES('clock_offset', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (repr(offset),),
            )
            self._clock_offset = offset
        return offset

    def file_path(self, file_id: str) -> Path:
        return self.files_dir / file_id

    # ----------------------------------------------------------------- files

    def _file_json(self, row: sqlite3.Row) -> JSON:
        return {
            "id": row["id"],
            "object": "file",
            "bytes": row["bytes"],
            "created_at": row["created_at"],
            "filename": row["filename"],
            "purpose": row["purpose"],
            "status": "processed",
        }

    def _insert_file(
        self, db: sqlite3.Connection, file_id: str, size: int, filename: str, purpose: str
    ) -> None:
        db.execute(
            "INSERT OR IGNORE INTO files(id, bytes, created_at, filename, purpose) "
            "VALUES (?, ?, ?, ?, ?)",
            (file_id, size, int(self.now()), filename, purpose),
        )

    def create_file(self, filename: str, purpose: str, write: Callable[[Path], None]) -> JSON:
        """Store the bytes ``write`` puts at the path it is given, as a new File."""
        if purpose not in FILE_PURPOSES:
            raise InvalidRequest(
                f"Invalid purpose {purpose!r}; expected one of {sorted(FILE_PURPOSES)}.",
                param="purpose",
            )
        file_id = new_id("file-", 22)
        final = self.file_path(file_id)
        tmp = final.with_name(file_id + ".tmp")
        write(tmp)
        os.replace(tmp, final)
        size = final.stat().st_size
        with self._tx() as db:
            self._insert_file(db, file_id, size, filename or "file", purpose)
        return self.retrieve_file(file_id)

    def _file_row(self, file_id: str) -> sqlite3.Row:
        with self._read() as db:
            row = db.execute("SELECT * FROM files WHERE id=?", (file_id,)).fetchone()
        if row is None:
            raise NotFound(f"No such File object: {file_id}", param="file_id")
        return row  # type: ignore[no-any-return]

    def retrieve_file(self, file_id: str) -> JSON:
        return self._file_json(self._file_row(file_id))

    def list_files(self, *, purpose: str | None, after: str | None, limit: int, order: str) -> Page:
        direction = "ASC" if order == "asc" else "DESC"
        sql = "SELECT * FROM files WHERE 1=1"
        args: list[Any] = []
        if purpose:
            sql += " AND purpose=?"
            args.append(purpose)
        with self._read() as db:
            if after is not None:
                sql += " AND seq > ?" if direction == "ASC" else " AND seq < ?"
                args.append(_cursor_seq(db, "files", after))
            sql += f" ORDER BY seq {direction} LIMIT ?"
            args.append(limit + 1)
            rows = db.execute(sql, args).fetchall()
        return Page([self._file_json(r) for r in rows[:limit]], len(rows) > limit)

    def delete_file(self, file_id: str) -> JSON:
        with self._tx() as db:
            deleted = db.execute("DELETE FROM files WHERE id=?", (file_id,)).rowcount
        if not deleted:
            raise NotFound(f"No such File object: {file_id}", param="file_id")
        self.file_path(file_id).unlink(missing_ok=True)
        return {"id": file_id, "object": "file", "deleted": True}

    def file_content(self, file_id: str) -> tuple[Path, JSON]:
        info = self.retrieve_file(file_id)
        path = self.file_path(file_id)
        if not path.exists():
            raise NotFound(f"No content for File object: {file_id}", param="file_id")
        return path, info

    # ----------------------------------------------------------------- uploads

    def _upload_json(self, row: sqlite3.Row) -> JSON:
        status = row["status"]
        if status == "pending" and self.now() >= row["expires_at"]:
            status = "expired"
        file = None
        if row["file_id"]:
            with contextlib.suppress(NotFound):
                file = self.retrieve_file(row["file_id"])
        return {
            "id": row["id"],
            "object": "upload",
            "bytes": row["bytes"],
            "created_at": row["created_at"],
            "filename": row["filename"],
            "purpose": row["purpose"],
            "status": status,
            "expires_at": row["expires_at"],
            "file": file,
        }

    def _upload_row(self, upload_id: str) -> sqlite3.Row:
        with self._read() as db:
            row = db.execute("SELECT * FROM uploads WHERE id=?", (upload_id,)).fetchone()
        if row is None:
            raise NotFound(f"No such Upload object: {upload_id}", param="upload_id")
        return row  # type: ignore[no-any-return]

    def _pending_upload(self, upload_id: str) -> sqlite3.Row:
        row = self._upload_row(upload_id)
        status = self._upload_json(row)["status"]
        if status != "pending":
            raise InvalidRequest(
                f"Upload {upload_id} is {status}; only pending uploads accept this operation.",
                param="upload_id",
            )
        return row

    def create_upload(self, filename: str, purpose: str, size: int, mime_type: str) -> JSON:
        if purpose not in FILE_PURPOSES:
            raise InvalidRequest(f"Invalid purpose {purpose!r}.", param="purpose")
        if not 0 < size <= UPLOAD_MAX_BYTES:
            raise InvalidRequest(
                f"'bytes' must be between 1 and {UPLOAD_MAX_BYTES}.", param="bytes"
            )
        upload_id = new_id("upload_", 24)
        created = int(self.now())
        with self._tx() as db:
            db.execute(
                "INSERT INTO uploads(id, created_at, filename, purpose, bytes, mime_type, status,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (
                    upload_id,
                    created,
                    filename,
                    purpose,
                    size,
                    mime_type,
                    created + UPLOAD_TTL_SECONDS,
                ),
            )
        (self.uploads_dir / upload_id).mkdir(exist_ok=True)
        return self._upload_json(self._upload_row(upload_id))

    def add_upload_part(self, upload_id: str, write: Callable[[Path], None]) -> JSON:
        self._pending_upload(upload_id)
        part_id = new_id("part_", 24)
        final = self.uploads_dir / upload_id / part_id
        tmp = final.with_name(part_id + ".tmp")
        final.parent.mkdir(exist_ok=True)
        write(tmp)
        size = tmp.stat().st_size
        if size > UPLOAD_PART_MAX_BYTES:
            tmp.unlink()
            raise InvalidRequest("Upload parts may be at most 64 MB.", param="data")
        os.replace(tmp, final)
        created = int(self.now())
        with self._tx() as db:
            db.execute(
                "INSERT INTO upload_parts(id, upload_id, created_at, size) VALUES (?, ?, ?, ?)",
                (part_id, upload_id, created, size),
            )
        return {
            "id": part_id,
            "object": "upload.part",
            "created_at": created,
            "upload_id": upload_id,
        }

    def complete_upload(self, upload_id: str, part_ids: list[str], md5: str | None) -> JSON:
        upload = self._pending_upload(upload_id)
        with self._read() as db:
            rows = db.execute(
                "SELECT id, size FROM upload_parts WHERE upload_id=?", (upload_id,)
            ).fetchall()
        sizes = {r["id"]: r["size"] for r in rows}
        if not part_ids:
            raise InvalidRequest("'part_ids' must list at least one part.", param="part_ids")
        for part_id in part_ids:
            if part_id not in sizes:
                raise InvalidRequest(
                    f"Part {part_id} does not belong to upload {upload_id}.", param="part_ids"
                )
        if len(set(part_ids)) != len(part_ids):
            raise InvalidRequest("'part_ids' lists a part twice.", param="part_ids")
        total = sum(sizes[p] for p in part_ids)
        if total != upload["bytes"]:
            raise InvalidRequest(
                f"The parts hold {total} bytes but the upload declared {upload['bytes']}.",
                param="part_ids",
            )
        file_id = new_id("file-", 22)
        final = self.file_path(file_id)
        tmp = final.with_name(file_id + ".tmp")
        digest = hashlib.md5(usedforsecurity=False)
        with tmp.open("wb") as out:
            for part_id in part_ids:
                with (self.uploads_dir / upload_id / part_id).open("rb") as part:
                    while chunk := part.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if md5 is not None and md5.lower() != digest.hexdigest():
            tmp.unlink()
            raise InvalidRequest("The md5 checksum does not match the uploaded bytes.", param="md5")
        os.replace(tmp, final)
        with self._tx() as db:
            status = db.execute("SELECT status FROM uploads WHERE id=?", (upload_id,)).fetchone()[
                "status"
            ]
            if status != "pending":
                final.unlink(missing_ok=True)
                raise Conflict(f"Upload {upload_id} is already {status}.", param="upload_id")
            self._insert_file(db, file_id, total, upload["filename"], upload["purpose"])
            db.execute(
                "UPDATE uploads SET status='completed', file_id=? WHERE id=?", (file_id, upload_id)
            )
        shutil.rmtree(self.uploads_dir / upload_id, ignore_errors=True)
        return self._upload_json(self._upload_row(upload_id))

    def cancel_upload(self, upload_id: str) -> JSON:
        self._pending_upload(upload_id)
        with self._tx() as db:
            db.execute("UPDATE uploads SET status='cancelled' WHERE id=?", (upload_id,))
        shutil.rmtree(self.uploads_dir / upload_id, ignore_errors=True)
        return self._upload_json(self._upload_row(upload_id))

    # ----------------------------------------------------------------- models

    def _fine_tuned_models(self) -> list[JSON]:
        with self._read() as db:
            jobs = db.execute(
                "SELECT fine_tuned_model AS id, finished_at AS created FROM jobs "
                "WHERE fine_tuned_model IS NOT NULL ORDER BY seq"
            ).fetchall()
            ckpts = db.execute(
                "SELECT model AS id, created_at AS created FROM checkpoints ORDER BY seq"
            ).fetchall()
            deleted = {r["id"] for r in db.execute("SELECT id FROM deleted_models")}
        return [
            {
                "id": r["id"],
                "object": "model",
                "created": r["created"],
                "owned_by": self.organization_id,
            }
            for r in [*jobs, *ckpts]
            if r["id"] not in deleted
        ]

    def list_models(self) -> list[JSON]:
        base = [
            {"id": model, "object": "model", "created": created, "owned_by": "system"}
            for model, created in catalog.BASE_MODELS.items()
        ]
        return base + self._fine_tuned_models()

    def retrieve_model(self, model: str) -> JSON:
        for item in self.list_models():
            if item["id"] == model:
                return item
        raise NotFound(f"The model '{model}' does not exist", param="model", code="model_not_found")

    def delete_model(self, model: str) -> JSON:
        if catalog.resolve_base(model) is not None:
            raise PermissionDenied(
                f"You do not have permission to delete {model}: only fine-tuned models can be "
                "deleted.",
                param="model",
                code="model_not_deletable",
            )
        self.retrieve_model(model)
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO deleted_models(id, deleted_at) VALUES (?, ?)",
                (model, int(self.now())),
            )
        return {"id": model, "object": "model", "deleted": True}

    # ----------------------------------------------------------------- jobs: create

    def _resolve_model(self, model: str) -> str:
        base = catalog.resolve_base(model)
        if base is not None:
            return base
        if model.startswith("ft:") and any(m["id"] == model for m in self._fine_tuned_models()):
            return catalog.base_of_fine_tuned(model)
        raise InvalidRequest(
            f"Model {model} is not available for fine-tuning or does not exist.",
            param="model",
            code="model_not_available",
        )

    def _training_file(self, file_id: str, param: str) -> sqlite3.Row:
        try:
            row = self._file_row(file_id)
        except NotFound:
            raise InvalidRequest(
                f"Invalid file ID: {file_id}. The file does not exist.",
                param=param,
            ) from None
        if row["purpose"] != "fine-tune":
            raise InvalidRequest(
                f"File {file_id} has purpose '{row['purpose']}'; fine-tuning needs 'fine-tune'.",
                param=param,
            )
        return row

    def _count_examples(self, file_id: str) -> tuple[int, int]:
        """Non-empty lines and a ~4-bytes-per-token estimate, without parsing."""
        lines = 0
        size = 0
        with self.file_path(file_id).open("rb") as handle:
            for line in handle:
                size += len(line)
                if line.strip():
                    lines += 1
        return max(1, lines), max(1, size // 4)

    def create_job(self, req: JobRequest) -> JSON:
        base = self._resolve_model(req.model)
        self._training_file(req.training_file, "training_file")
        if req.validation_file is not None:
            self._training_file(req.validation_file, "validation_file")
        n_examples, tokens = self._count_examples(req.training_file)
        hyper = resolve_hyperparameters(req.method_type, req.hyperparameters, n_examples)
        seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
        job_id = new_id("ftjob-", 24)
        now = self.now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs(id, created_t, model, base_model, training_file, validation_file,"
                " suffix, seed, metadata, integrations, method_type, hyperparameters, grader,"
                " n_examples, tokens_per_epoch, speed, active_since, status)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, 'validating_files')",
                (
                    job_id,
                    now,
                    req.model,
                    base,
                    req.training_file,
                    req.validation_file,
                    req.suffix,
                    seed,
                    _dumps(req.metadata),
                    _dumps(req.integrations),
                    req.method_type,
                    _dumps(hyper),
                    _dumps(req.grader),
                    n_examples,
                    tokens,
                    self.clock_speed,
                    now,
                ),
            )
            self._event(db, job_id, "created", int(now), f"Created fine-tuning job: {job_id}")
            self._event(
                db, job_id, "validating", int(now), f"Validating training file: {req.training_file}"
            )
        return self.retrieve_job(job_id)

    # ----------------------------------------------------------------- jobs: lifecycle

    def _event(
        self,
        db: sqlite3.Connection,
        job_id: str,
        key: str,
        created_at: int,
        message: str,
        *,
        level: str = "info",
        type_: str = "message",
        data: JSON | None = None,
    ) -> None:
        db.execute(
            "INSERT OR IGNORE INTO events(id, job_id, created_at, level, message, type, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                stable_id("ftevent-", job_id, key),
                job_id,
                created_at,
                level,
                message,
                type_,
                _dumps(data if data is not None else {}),
            ),
        )

    @staticmethod
    def _timing(row: sqlite3.Row) -> lifecycle.Timing:
        return lifecycle.Timing(
            speed=row["speed"],
            active_since=row["active_since"],
            progress_base=row["progress_base"],
            requeue_delay=row["requeue_delay"],
        )

    @staticmethod
    def _plan(row: sqlite3.Row) -> lifecycle.Plan:
        return _plan_of(row["hyperparameters"], row["n_examples"])

    def _job_row(self, job_id: str) -> sqlite3.Row:
        with self._read() as db:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"Could not find fine-tuning job {job_id}.", param="fine_tuning_job_id")
        return row  # type: ignore[no-any-return]

    def _needs_datacheck(self, row: sqlite3.Row, now: float) -> bool:
        if row["status"] in lifecycle.TERMINAL or row["datacheck"] is not None:
            return False
        return self._timing(row).progress(now) >= lifecycle.VALIDATING_SECONDS

    def _run_datacheck(self, row: sqlite3.Row) -> DataCheck:
        path = self.file_path(row["training_file"])
        if not path.exists():
            return DataCheck(ok=False, message=f"Training file {row['training_file']} was deleted.")
        return check_training_file(path, file_id=row["training_file"], model=row["base_model"])

    def _due(self, row: sqlite3.Row, now: float) -> bool:
        """Whether bringing the job up to ``now`` changes anything (else reading it writes not)."""
        if row["status"] in lifecycle.TERMINAL or row["status"] == "paused":
            return False
        if self._needs_datacheck(row, now):
            return True
        milestones = _milestones_of(self._plan(row))
        done = row["milestones_done"]
        if done < len(milestones) and milestones[done].at <= self._timing(row).progress(now):
            return True
        return bool(self._live_status(row, now) != row["status"])

    def _advance(self, job_id: str) -> sqlite3.Row:
        """Bring a job up to the clock, applying each passed milestone once; returns the row.

        One transaction, and none when nothing is due. The slow parts run before it, outside
        the write lock: the data check (may read a large file) and the results file (written
        idempotently, so a kill -9 between the two leaves a file the retry reuses).
        """
        row = self._job_row(job_id)
        now = self.now()
        if not self._due(row, now):
            return row
        datacheck = None
        if self._needs_datacheck(row, now):
            datacheck = json.dumps(self._run_datacheck(row).__dict__)
        plan = self._plan(row)
        if (
            row["status"] not in lifecycle.TERMINAL
            and row["status"] != "paused"
            and self._timing(row).progress(now) >= plan.finished_at
        ):
            self._write_results(row, plan)
        with self._tx() as db:
            if datacheck is not None:
                db.execute(
                    "UPDATE jobs SET datacheck=? WHERE id=? AND datacheck IS NULL",
                    (datacheck, job_id),
                )
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            if row["status"] in lifecycle.TERMINAL or row["status"] == "paused":
                return row  # type: ignore[no-any-return]
            # The same `now` that decided whether to run the data check: reading the clock again
            # could pass the "validated" milestone without a check, and a bad file would pass.
            timing = self._timing(row)
            progress = timing.progress(now)
            milestones = _milestones_of(self._plan(row))
            done = row["milestones_done"]
            while done < len(milestones) and milestones[done].at <= progress:
                milestone = milestones[done]
                applied = self._apply(db, row, milestone, timing)
                if applied:
                    done += 1
                if not applied or milestone.kind in _ROW_CHANGING:
                    db.execute("UPDATE jobs SET milestones_done=? WHERE id=?", (done, job_id))
                    row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
                if not applied:
                    break
            status = row["status"]
            if status not in lifecycle.TERMINAL:
                status = self._live_status(row, now, done)
            if done != row["milestones_done"] or status != row["status"]:
                db.execute(
                    "UPDATE jobs SET milestones_done=?, status=? WHERE id=?",
                    (done, status, job_id),
                )
                row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            return row  # type: ignore[no-any-return]

    def _write_results(self, row: sqlite3.Row, plan: lifecycle.Plan) -> str:
        """The ``fine-tune-results`` file of a finished job, written once; returns its id."""
        result_id = stable_id("file-", row["id"], "results", length=22)
        path = self.file_path(result_id)
        if not path.exists():
            tmp = path.with_name(f"{result_id}.{threading.get_ident()}.tmp")
            tmp.write_bytes(lifecycle.results_csv(row["seed"], plan.total_steps))
            os.replace(tmp, path)
        return result_id

    def _live_status(self, row: sqlite3.Row, now: float, done: int | None = None) -> str:
        """The status a non-terminal job shows at ``now`` (``done``: milestones applied)."""
        if row["status"] == "paused":
            return "paused"
        if self._timing(row).requeued(now):
            return "queued"
        if done is None:
            done = row["milestones_done"]
        if done == 0:
            return "validating_files"
        if done == 1:
            return "queued"
        return "running"

    def _apply(
        self,
        db: sqlite3.Connection,
        row: sqlite3.Row,
        milestone: lifecycle.Milestone,
        timing: lifecycle.Timing,
    ) -> bool:
        """Apply one milestone idempotently. False when the job stops here (failed)."""
        job_id = row["id"]
        at = int(timing.clock_time_of(milestone.at))
        plan = self._plan(row)
        if milestone.kind == "validated":
            check = _loads(row["datacheck"]) or {"ok": True}
            if not check["ok"]:
                error = {
                    "code": "invalid_training_file",
                    "message": check["message"],
                    "param": "training_file",
                }
                self._event(db, job_id, "failed", at, check["message"], level="error")
                db.execute(
                    "UPDATE jobs SET status='failed', error=?, finished_at=? WHERE id=?",
                    (_dumps(error), at, job_id),
                )
                return False
            if check.get("tokens"):
                db.execute(
                    "UPDATE jobs SET tokens_per_epoch=? WHERE id=?", (check["tokens"], job_id)
                )
            self._event(db, job_id, "validated", at, "Files validated, moving job to queued state")
        elif milestone.kind == "started":
            self._event(db, job_id, "started", at, "Fine-tuning job started")
        elif milestone.kind == "step":
            metrics = lifecycle.step_metrics(row["seed"], milestone.step, plan.total_steps)
            self._event(
                db,
                job_id,
                f"step-{milestone.step}",
                at,
                f"Step {milestone.step}/{plan.total_steps}: training loss="
                f"{metrics['train_loss']:.2f}, validation loss={metrics['valid_loss']:.2f}",
                type_="metrics",
                data={"step": milestone.step, "total_steps": plan.total_steps, **metrics},
            )
        elif milestone.kind == "checkpoint":
            metrics = lifecycle.step_metrics(row["seed"], milestone.step, plan.total_steps)
            name = self._model_name(row) + f":ckpt-step-{milestone.step}"
            db.execute(
                "INSERT OR IGNORE INTO checkpoints(id, job_id, created_at, model, step_number,"
                " metrics) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    stable_id("ftckpt_", job_id, milestone.step),
                    job_id,
                    at,
                    name,
                    milestone.step,
                    _dumps(
                        {
                            "step": float(milestone.step),
                            **metrics,
                            "full_valid_loss": metrics["valid_loss"],
                            "full_valid_mean_token_accuracy": metrics["valid_mean_token_accuracy"],
                        }
                    ),
                ),
            )
            self._event(
                db,
                job_id,
                f"checkpoint-{milestone.step}",
                at,
                f"Checkpoint created at step {milestone.step}",
            )
        elif milestone.kind == "finished":
            result_id = self._write_results(row, plan)
            path = self.file_path(result_id)
            db.execute(
                "INSERT OR IGNORE INTO files(id, bytes, created_at, filename, purpose)"
                " VALUES (?, ?, ?, 'step_metrics.csv', 'fine-tune-results')",
                (result_id, path.stat().st_size, at),
            )
            model = self._model_name(row)
            hyper = json.loads(row["hyperparameters"])
            trained = row["tokens_per_epoch"] * hyper["n_epochs"]
            self._event(db, job_id, "model", at, f"New fine-tuned model created: {model}")
            self._event(db, job_id, "succeeded", at, "The job has successfully completed")
            db.execute(
                "UPDATE jobs SET status='succeeded', finished_at=?, fine_tuned_model=?,"
                " trained_tokens=?, result_files=? WHERE id=?",
                (at, model, trained, _dumps([result_id]), job_id),
            )
        return True

    def _model_name(self, row: sqlite3.Row) -> str:
        return catalog.fine_tuned_name(row["base_model"], self.org, row["suffix"], row["id"])

    def _job_json(self, row: sqlite3.Row) -> JSON:
        hyper = json.loads(row["hyperparameters"])
        method_detail: JSON = {"hyperparameters": hyper}
        if row["grader"] is not None:
            method_detail = {"grader": json.loads(row["grader"]), **method_detail}
        estimated = None
        if row["status"] == "running" and row["active_since"] is not None:
            finish = self._timing(row).clock_time_of(self._plan(row).finished_at)
            estimated = int(finish)
        return {
            "object": "fine_tuning.job",
            "id": row["id"],
            "model": row["model"],
            "created_at": int(row["created_t"]),
            "finished_at": row["finished_at"],
            "fine_tuned_model": row["fine_tuned_model"],
            "organization_id": self.organization_id,
            "result_files": json.loads(row["result_files"]),
            "status": row["status"],
            "validation_file": row["validation_file"],
            "training_file": row["training_file"],
            "hyperparameters": {
                "batch_size": hyper["batch_size"],
                "learning_rate_multiplier": hyper["learning_rate_multiplier"],
                "n_epochs": hyper["n_epochs"],
            },
            "trained_tokens": row["trained_tokens"],
            "error": _loads(row["error"]),
            "seed": row["seed"],
            "estimated_finish": estimated,
            "integrations": _loads(row["integrations"]),
            "metadata": _loads(row["metadata"]),
            "method": {"type": row["method_type"], row["method_type"]: method_detail},
        }

    # ----------------------------------------------------------------- jobs: operations

    def retrieve_job(self, job_id: str) -> JSON:
        return self._job_json(self._advance(job_id))

    def list_jobs(self, *, after: str | None, limit: int, metadata: dict[str, str]) -> Page:
        """Newest first; ``metadata`` keeps jobs whose metadata holds every given pair."""
        with self._read() as db:
            if after is not None:
                rows = db.execute(
                    "SELECT id, metadata FROM jobs WHERE seq < ? ORDER BY seq DESC",
                    (_cursor_seq(db, "jobs", after),),
                ).fetchall()
            else:
                rows = db.execute("SELECT id, metadata FROM jobs ORDER BY seq DESC").fetchall()
        ids: list[str] = []
        for r in rows:
            if metadata:
                meta = _loads(r["metadata"]) or {}
                if any(meta.get(k) != v for k, v in metadata.items()):
                    continue
            ids.append(r["id"])
            if len(ids) > limit:
                break
        return Page([self.retrieve_job(i) for i in ids[:limit]], len(ids) > limit)

    def cancel_job(self, job_id: str) -> JSON:
        def cancel(db: sqlite3.Connection, row: sqlite3.Row, now: float, n: int) -> None:
            if row["status"] in lifecycle.TERMINAL:
                raise InvalidRequest(
                    f"Job {job_id} has already completed (status: {row['status']}) "
                    "and cannot be cancelled."
                )
            self._event(db, job_id, f"cancel-{n}", int(now), "Fine-tuning job cancelled")
            db.execute(
                "UPDATE jobs SET status='cancelled', active_since=NULL, progress_base=?,"
                " transitions=? WHERE id=?",
                (self._timing(row).progress(now), n, job_id),
            )

        return self._transition(job_id, cancel)

    def pause_job(self, job_id: str) -> JSON:
        def pause(db: sqlite3.Connection, row: sqlite3.Row, now: float, n: int) -> None:
            if row["status"] != "running":
                raise InvalidRequest(
                    f"Job {job_id} is {row['status']}; only running jobs can be paused."
                )
            self._event(db, job_id, f"pause-{n}", int(now), "Fine-tuning job paused")
            db.execute(
                "UPDATE jobs SET status='paused', active_since=NULL, progress_base=?,"
                " requeue_delay=0, transitions=? WHERE id=?",
                (self._timing(row).progress(now), n, job_id),
            )

        return self._transition(job_id, pause)

    def resume_job(self, job_id: str) -> JSON:
        def resume(db: sqlite3.Connection, row: sqlite3.Row, now: float, n: int) -> None:
            if row["status"] != "paused":
                raise InvalidRequest(
                    f"Job {job_id} is {row['status']}; only paused jobs can be resumed."
                )
            self._event(db, job_id, f"resume-{n}", int(now), "Fine-tuning job resumed")
            db.execute(
                "UPDATE jobs SET status='queued', active_since=?, requeue_delay=?,"
                " transitions=? WHERE id=?",
                (now, lifecycle.QUEUED_SECONDS, n, job_id),
            )

        return self._transition(job_id, resume)

    def _transition(
        self,
        job_id: str,
        apply: Callable[[sqlite3.Connection, sqlite3.Row, float, int], None],
    ) -> JSON:
        """Bring the job up to the clock, then apply a user-requested status change (the n-th
        of the job, which keys its event) to the current row, in one transaction."""
        self._advance(job_id)
        with self._tx() as db:
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            apply(db, row, self.now(), row["transitions"] + 1)
        return self.retrieve_job(job_id)

    def _job_items(
        self, table: str, job_id: str, after: str | None, limit: int
    ) -> list[sqlite3.Row]:
        """Up to ``limit + 1`` rows of a job's events or checkpoints, newest first."""
        self._advance(job_id)
        sql = f"SELECT * FROM {table} WHERE job_id=?"
        args: list[Any] = [job_id]
        with self._read() as db:
            if after is not None:
                sql += " AND seq < ?"
                args.append(_cursor_seq(db, table, after, job_id=job_id))
            return db.execute(sql + " ORDER BY seq DESC LIMIT ?", [*args, limit + 1]).fetchall()

    def list_events(self, job_id: str, *, after: str | None, limit: int) -> Page:
        rows = self._job_items("events", job_id, after, limit)
        data = [
            {
                "object": "fine_tuning.job.event",
                "id": r["id"],
                "created_at": r["created_at"],
                "level": r["level"],
                "message": r["message"],
                "type": r["type"],
                "data": _loads(r["data"]) or {},
            }
            for r in rows[:limit]
        ]
        return Page(data, len(rows) > limit)

    def list_checkpoints(self, job_id: str, *, after: str | None, limit: int) -> Page:
        rows = self._job_items("checkpoints", job_id, after, limit)
        data = [
            {
                "object": "fine_tuning.job.checkpoint",
                "id": r["id"],
                "created_at": r["created_at"],
                "fine_tuned_model_checkpoint": r["model"],
                "step_number": r["step_number"],
                "metrics": json.loads(r["metrics"]),
                "fine_tuning_job_id": job_id,
            }
            for r in rows[:limit]
        ]
        return Page(data, len(rows) > limit)
