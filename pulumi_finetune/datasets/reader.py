"""Reads a regular file as lines in 1 MiB chunks, hashing it on the way, without holding lines
longer than a limit; refuses anything that is not a regular file before reading a byte."""

from __future__ import annotations

import errno
import hashlib
import os
import queue
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from ..errors import DataFileError
from .limits import MAX_LINE_BYTES

CHUNK = 1 << 20
#: Files larger than this are hashed on a second thread (hashlib releases the GIL).
THREADED_HASH_MIN = 8 << 20
BOM = b"\xef\xbb\xbf"
#: Bytes kept from the start of the file, to tell its encoding.
HEAD_BYTES = 4

__all__ = ["BOM", "CHUNK", "MAX_LINE_BYTES", "Reader", "iter_lines", "sha256_file"]


_REASONS = {
    errno.ENOENT: "no such file",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Opens ``path`` for reading if it is a regular file (after following symlinks); raises
    :class:`DataFileError` otherwise. Opening never blocks: a FIFO is opened non-blocking and
    refused by its type, so a path to a pipe or a device fails at once."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        reason = _REASONS.get(e.errno or 0, e.strerror or str(e))
        raise DataFileError(path, f"cannot open: {reason}", e.errno) from None
    except ValueError as e:  # an embedded NUL byte
        raise DataFileError(path, f"cannot open: {e}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise DataFileError(
                path, f"is {kind}, not a regular file: give the path of a JSONL file"
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(hex SHA-256, byte count) of a regular file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    n = 0
    with open_regular(path) as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


@dataclass
class Reader:
    """Splits a regular file into lines chunk by chunk, hashing and counting bytes as it goes.

    ``lines()`` yields batches of lines without their ``\\n``. A line that fits in one chunk is
    ``bytes``; a longer one is a ``bytearray`` (grown in place, never joined, so it is held
    once). A line longer than ``max_line_bytes`` is not kept: it appears as ``None`` and its
    length is appended to ``overlong``; its bytes are hashed and dropped as they are read.

    ``start`` and ``end`` (byte offsets at line boundaries) read a part of the file; ``sha``
    None reads without hashing (a worker reading one part of a file, see ``parallel``).
    """

    path: str | os.PathLike[str]
    max_line_bytes: int = field(default_factory=lambda: MAX_LINE_BYTES)
    sha: Any = field(default_factory=hashlib.sha256)
    nbytes: int = 0
    #: The size of the file, or of the part read.
    size: int = 0
    head: bytes = b""
    overlong: list[int] = field(default_factory=list)
    start: int = 0
    end: int | None = None

    def lines(self) -> Iterator[list[bytes | bytearray | None]]:
        carry = bytearray()
        carry_len = 0
        skipping = False  # inside an over-long line
        limit = self.max_line_bytes
        with open_regular(self.path) as f:
            end = os.fstat(f.fileno()).st_size if self.end is None else self.end
            self.size = end - self.start
            if self.start:
                f.seek(self.start)
            left = self.size if self.end is not None else -1
            hasher = None
            sha_update = None
            if self.sha is not None:
                hasher = Hasher(self.sha) if self.size > THREADED_HASH_MIN else None
                sha_update = hasher.update if hasher else self.sha.update
            at_start = self.start == 0
            try:
                while chunk := f.read(CHUNK if left < 0 else min(CHUNK, left)):
                    if left > 0:
                        left -= len(chunk)
                    if at_start and len(self.head) < HEAD_BYTES:
                        self.head = (self.head + chunk)[:HEAD_BYTES]
                    if sha_update is not None:
                        sha_update(chunk)
                    self.nbytes += len(chunk)
                    parts = cast("list[bytes | bytearray | None]", chunk.split(b"\n"))
                    tail = cast(bytes, parts.pop())
                    if parts:
                        first = cast(bytes, parts[0])
                        if skipping:
                            self.overlong.append(carry_len + len(first))
                            parts[0] = None
                            skipping = False
                        elif carry_len:
                            if carry_len + len(first) > limit:
                                self.overlong.append(carry_len + len(first))
                                parts[0] = None
                            else:
                                carry += first
                                parts[0] = carry if len(carry) > CHUNK else bytes(carry)
                            carry = bytearray()
                        carry_len = 0
                        yield parts
                    if tail:
                        carry_len += len(tail)
                        if not skipping:
                            if carry_len > limit:
                                skipping = True
                                carry = bytearray()
                            else:
                                carry += tail
            finally:
                if hasher:
                    hasher.close()
        if skipping or carry_len > limit:
            self.overlong.append(carry_len)
            yield [None]
        elif carry_len:
            yield [carry if len(carry) > CHUNK else bytes(carry)]


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


def iter_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes | bytearray | None]]:
    """(1-based line number, raw bytes without ``\\n``) for every line of a regular file,
    streaming. Lines longer than MAX_LINE_BYTES come as ``None``."""
    lineno = 0
    for batch in Reader(path).lines():
        for raw in batch:
            lineno += 1
            yield lineno, raw
