"""Files: metadata in the ``files`` table, bytes at ``<data-dir>/files/<file-id>``."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InvalidRequest, NotFound
from ..ids import new_id
from .clock import Clock
from .db import JSON, Page, cursor_seq

# CreateFileRequest.purpose in OpenAI's OpenAPI description.
FILE_PURPOSES = frozenset({"assistants", "batch", "evals", "fine-tune", "user_data", "vision"})


class Files(Clock):
    """The Files API: create, retrieve, list, delete, content."""

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

    def _new_file(self) -> tuple[str, Path, Path]:
        """A fresh file id, the path its bytes end at, and the temporary path to write first."""
        file_id = new_id("file-", 22)
        final = self.file_path(file_id)
        return file_id, final, final.with_name(file_id + ".tmp")

    def create_file(self, filename: str, purpose: str, write: Callable[[Path], None]) -> JSON:
        """Store the bytes ``write`` puts at the path it is given, as a new File."""
        if purpose not in FILE_PURPOSES:
            raise InvalidRequest(
                f"Invalid purpose {purpose!r}; expected one of {sorted(FILE_PURPOSES)}.",
                param="purpose",
            )
        file_id, final, tmp = self._new_file()
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
                args.append(cursor_seq(db, "files", after))
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
