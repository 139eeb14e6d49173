"""Reads a file as lines in 1 MiB chunks, hashing it on the way, without holding over-long lines."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

#: Lines longer than this are reported and skipped without being held in memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
CHUNK = 1 << 20
#: Files larger than this are hashed on a second thread (hashlib releases the GIL).
THREADED_HASH_MIN = 8 << 20
BOM = b"\xef\xbb\xbf"


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(hex SHA-256, byte count) of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


@dataclass
class Reader:
    """Splits a binary file into lines chunk by chunk, hashing and counting bytes as it goes.

    ``lines()`` yields batches of lines without their ``\\n``; a line longer than
    MAX_LINE_BYTES is not kept: it appears as ``None`` and its length is appended to
    ``overlong``.
    """

    path: str | os.PathLike[str]
    sha: Any = field(default_factory=hashlib.sha256)
    nbytes: int = 0
    size: int = 0
    head: bytes = b""
    overlong: list[int] = field(default_factory=list)

    def lines(self) -> Iterator[list[bytes | None]]:
        carry: list[bytes] = []
        carry_len = 0
        skipping = False  # inside an over-long line
        with open(self.path, "rb", buffering=0) as f:
            self.size = os.fstat(f.fileno()).st_size
            hasher = Hasher(self.sha) if self.size > THREADED_HASH_MIN else None
            sha_update = hasher.update if hasher else self.sha.update
            try:
                while chunk := f.read(CHUNK):
                    if not self.nbytes:
                        self.head = chunk[:3]
                    sha_update(chunk)
                    self.nbytes += len(chunk)
                    parts = cast("list[bytes | None]", chunk.split(b"\n"))
                    tail = cast(bytes, parts.pop())
                    if parts:
                        if skipping:
                            self.overlong.append(carry_len + len(cast(bytes, parts[0])))
                            parts[0] = None
                            skipping = False
                        elif carry:
                            carry.append(cast(bytes, parts[0]))
                            parts[0] = b"".join(carry)
                        carry = []
                        carry_len = 0
                        yield parts
                    if tail:
                        carry_len += len(tail)
                        if not skipping:
                            carry.append(tail)
                            if carry_len > MAX_LINE_BYTES:
                                skipping = True
                                carry = []
            finally:
                if hasher:
                    hasher.close()
        if skipping:
            self.overlong.append(carry_len)
            yield [None]
        elif carry:
            yield [b"".join(carry)]


class Hasher:
    """Feeds chunks to a hash object on a worker thread, in order, with bounded buffering."""

    def __init__(self, sha: Any) -> None:
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self.thread = threading.Thread(target=self._run, args=(sha,), daemon=True)
        self.thread.start()

    def _run(self, sha: Any) -> None:
        get = self.queue.get
        update = sha.update
        while (chunk := get()) is not None:
            update(chunk)

    def update(self, chunk: bytes) -> None:
        self.queue.put(chunk)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()


def iter_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes | None]]:
    """(1-based line number, raw bytes without ``\\n``) for every line of a file, streaming.

    Lines longer than MAX_LINE_BYTES come as ``None``.
    """
    lineno = 0
    for batch in Reader(path).lines():
        for raw in batch:
            lineno += 1
            yield lineno, raw
