"""Duplicate detection: an open-addressing table of 64-bit line digests (16 bytes per line at
worst)."""

from __future__ import annotations

import hashlib
from array import array

#: Trailing bytes that do not make a line different (a CRLF file's ``\r``, spaces).
TRAILING_WS = frozenset(b"\r\t ")


def line_digest(raw: bytes | bytearray) -> int:
    # Python's bytes hash is SipHash-1-3 (64 bits, keyed per process): cheap and good enough to
    # find repeated lines within one run. Trailing whitespace (\r, spaces) does not count.
    # A line longer than the reader's chunk comes as a bytearray (not hashable; copying it to
    # bytes would hold it twice): BLAKE2b's 8-byte digest instead. Lines of equal content have
    # equal length, so they always come as the same type and get the same digest.
    if type(raw) is bytearray:
        end = len(raw)
        while end and raw[end - 1] in TRAILING_WS:
            end -= 1
        digest = hashlib.blake2b(memoryview(raw)[:end], digest_size=8).digest()
        return int.from_bytes(digest, "little", signed=True) or 1
    if raw and raw[-1] in TRAILING_WS:
        raw = raw.rstrip()
    return hash(raw) or 1


def duplicate_message(first: int) -> str:
    """The warning on a line that repeats line ``first``."""
    return f"duplicate of line {first}: remove one of them"


class DigestTable:
    """Open addressing with linear probing over two flat arrays: 8-byte digests and 4-byte line
    numbers, at most 75 % full, so about 16 bytes per distinct line. ``reserve`` presizes it
    from an estimate of the line count so it rarely has to grow (which briefly needs both
    tables). 0 marks an empty slot, so a digest of 0 is stored as 1.

    The validator's read loop inlines ``add`` for speed; keep the two in step.
    """

    __slots__ = ("cap", "digests", "limit", "lines", "size")

    MAX_LOAD = 0.75

    def __init__(self, capacity: int = 4096) -> None:
        self.size = 0
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        self.cap = capacity
        self.digests = array("q", bytes(8 * capacity))
        self.lines = array("I", bytes(4 * capacity))
        self.limit = int(capacity * self.MAX_LOAD)

    def reserve(self, n: int) -> None:
        want = int(n / self.MAX_LOAD) + 1
        if want > self.cap:
            self._rehash(want)

    def _slot(self, digest: int) -> int:
        """The slot that holds ``digest``, or the empty slot where it would go."""
        digests = self.digests
        cap = self.cap
        i = digest % cap
        d = digests[i]
        while d and d != digest:
            i += 1
            if i == cap:
                i = 0
            d = digests[i]
        return i

    def add(self, digest: int, line: int) -> int:
        """Records ``digest`` for ``line``; returns the earlier line with it, or 0."""
        digest = digest or 1
        i = self._slot(digest)
        if self.digests[i]:
            return self.lines[i]
        self.digests[i] = digest
        self.lines[i] = line
        self.size += 1
        if self.size > self.limit:
            self._rehash(self.cap * 2)
        return 0

    def contains(self, digest: int) -> int:
        """The line recorded with ``digest``, or 0 (an empty slot's line number)."""
        return self.lines[self._slot(digest or 1)]

    def _rehash(self, capacity: int) -> None:
        old_d, old_l = self.digests, self.lines
        self._alloc(capacity)
        self.size = 0
        for d, ln in zip(old_d, old_l, strict=True):
            if d:
                self.add(d, ln)
