"""Uploads: a pending upload collects parts under ``<data-dir>/uploads/<upload-id>/``; completing
it concatenates them into a new File."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..errors import Conflict, InvalidRequest, NotFound
from ..ids import new_id
from .db import JSON
from .files import FILE_PURPOSES, Files

UPLOAD_MAX_BYTES = 8 * 1024**3
UPLOAD_PART_MAX_BYTES = 64 * 1024**2
UPLOAD_TTL_SECONDS = 3600


class Uploads(Files):
    """The Uploads API: create, add part, complete, cancel."""

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
        file_id, final, tmp = self._new_file()
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
