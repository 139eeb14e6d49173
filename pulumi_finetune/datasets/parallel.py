"""Validates a large file in parts, one worker process per usable CPU, and merges what the parts
found into the report one pass gives: the same counts, issues, line numbers and order.

A file of at least ``PARALLEL_MIN_BYTES`` is cut at line boundaries into one part per CPU. Each
part runs the same ``Validator`` loop in a forked worker (the parent's modules and tokenizer are
shared, not loaded again), numbering lines from the part's first, while the parent hashes the
file. What spans parts is put together in the parent:

* the format: inferred from the first example before the parts start, and given to later parts;
* file-level issues: the first part reports those of the start (an unknown model, a format the
  model cannot train on), the parent those of the end (a BOM, too few examples);
* duplicates: each part returns its table of first occurrences; a line whose digest is in an
  earlier part's table is a duplicate of that line, warned about in its place in the order, and a
  part's own duplicate warnings name the earliest line in the file;
* kept issues: the first ``max_errors`` of each severity, in the order one pass finds them.

It forks only from a process with a single thread: a fork copies only the calling thread, so a
lock another thread held would stay locked in the child. With other threads running, one usable
CPU, or a worker that fails, the caller validates the file in one pass instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import itertools
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, cast

from .decode import loads, measure_large_line
from .digests import DigestTable, duplicate_message
from .formats import Format, infer_format
from .lines import blank_message, wide_encoding
from .reader import CHUNK, HEAD_BYTES, Reader, open_regular
from .report import DataIssue
from .validator import Validator

#: Smaller files are validated in one pass: forking and merging would cost more than they save.
PARALLEL_MIN_BYTES = 32 << 20
#: How often the parent reports progress while it waits for the parts.
PROGRESS_SECONDS = 0.1


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    # Linux only: macOS system libraries are not safe to use after a fork
    return sys.platform.startswith("linux") and threading.active_count() == 1


@dataclass
class Part:
    """One part of the file: bytes ``start`` to ``end`` (after a newline, or the end of file),
    and, once its worker is done, what it found."""

    start: int
    end: int
    result: PartResult | None = None


@dataclass
class PartResult:
    errors: list[DataIssue]
    warnings: list[DataIssue]
    error_count: int
    warning_count: int
    #: Index in ``warnings`` -> digest of the duplicate line it names.
    dup_digests: dict[int, int]
    table: DigestTable
    tokens_total: int
    tokens_billed: int
    tokens_max: int
    examples: int
    fmt: Format | None
    #: Lines in the part; its issues and digest table number them from 1 for its first.
    lines: int
    blank: int
    bom_reported: bool


def split_points(f: Any, size: int, parts: int) -> list[int]:
    """Offsets that cut the file into about ``parts`` equal parts, each just after a newline;
    the first is 0 and the last ``size``."""
    points = [0]
    for i in range(1, parts):
        pos = max(size * i // parts, points[-1])
        f.seek(pos)
        while block := f.read(1 << 16):
            nl = block.find(b"\n")
            if nl != -1:
                pos += nl + 1
                break
            pos += len(block)
        if points[-1] < pos < size:
            points.append(pos)
    points.append(size)
    return points


def first_format(
    path: str | os.PathLike[str], max_line_bytes: int, end: int
) -> tuple[Format, int] | None:
    """The format one pass would infer and the line it infers it from, if that is in the first
    chunk of the file (else None: the caller validates in one pass)."""
    line = 0
    for batch in Reader(path, max_line_bytes, sha=None, end=min(end, CHUNK)).lines():
        for raw in batch:
            line += 1
            if raw is None:
                continue
            if type(raw) is bytearray and measure_large_line(raw):
                continue
            try:
                obj = loads(raw)
            except (ValueError, TypeError, RecursionError):
                continue
            if type(obj) is dict:
                fmt = infer_format(obj)
                if fmt is not None:
                    return fmt, line
    return None


def validate_in_parts(
    path: str | os.PathLike[str],
    fmt: Format | None,
    model: str | None,
    count_tokens: bool,
    max_errors: int,
    progress: Callable[[int], None] | None,
) -> tuple[Validator, str, int] | None:
    """The merged run over ``path`` (ready for ``finish``), its hex SHA-256 and byte count; None
    when the file is small or cannot be validated in parts (see the module docstring)."""
    cpus = usable_cpus()
    if cpus < 2 or not can_fork():
        return None
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size < PARALLEL_MIN_BYTES:
            return None
        head = f.read(HEAD_BYTES)
        if wide_encoding(head):
            return None
        points = split_points(f, size, cpus)
    if len(points) < 3:
        return None
    # the parent's validator: loads the tokenizer before the forks, and holds the merged result
    v = Validator(fmt, model, count_tokens, max_errors, file_issues=False)
    if fmt is None:
        found = first_format(path, v.max_line_bytes, points[1])
        if found is None:
            return None
        later_fmt, fmt_line = found
    else:
        later_fmt, fmt_line = fmt, 0
    parts = [Part(a, b) for a, b in itertools.pairwise(points)]
    run = _Run(path, fmt, later_fmt, fmt_line, model, count_tokens, max_errors, parts)
    done = False
    try:
        sha, nbytes = run.start_and_hash(progress)
        done = run.collect(progress)
    finally:
        run.stop(kill=not done)
    if not done:
        return None
    if progress is not None:
        progress(nbytes)
    merge(v, [p.result for p in parts if p.result is not None])
    v.line_problems.bom_in_head(head)
    return v, sha, nbytes


class _Run:
    def __init__(
        self,
        path: str | os.PathLike[str],
        fmt: Format | None,
        later_fmt: Format,
        fmt_line: int,
        model: str | None,
        count_tokens: bool,
        max_errors: int,
        parts: list[Part],
    ) -> None:
        self.path = path
        self.fmt = fmt
        self.later_fmt = later_fmt
        self.fmt_line = fmt_line
        self.model = model
        self.count_tokens = count_tokens
        self.max_errors = max_errors
        self.parts = parts
        self.ctx = multiprocessing.get_context("fork")
        #: Bytes each worker has read so far (shared memory), for progress.
        self.read = self.ctx.RawArray("q", len(parts))
        self.procs: list[Any] = []
        self.conns: dict[Connection, int] = {}

    def start_and_hash(self, progress: Callable[[int], None] | None) -> tuple[str, int]:
        """Starts the workers, then hashes the file while they run."""
        for k in range(len(self.parts)):
            self._start(k)
        sha = hashlib.sha256()
        nbytes = 0
        with open_regular(self.path) as f:
            while block := f.read(CHUNK):
                sha.update(block)
                nbytes += len(block)
                if progress is not None and nbytes % (16 * CHUNK) == 0:
                    progress(sum(self.read))
        return sha.hexdigest(), nbytes

    def _start(self, k: int) -> None:
        receive, send = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=self._work, args=(k, send), daemon=True)
        proc.start()
        send.close()
        self.procs.append(proc)
        self.conns[receive] = k

    def _work(self, k: int, send: Connection) -> None:
        """In the worker: validates part ``k`` and sends its result (None if it failed)."""
        part = self.parts[k]
        result = None
        # any failure sends None: the parent validates in one pass, which reports it
        try:
            if k == 0:
                v = Validator(self.fmt, self.model, self.count_tokens, self.max_errors)
            else:
                v = Validator(
                    self.later_fmt,
                    self.model,
                    self.count_tokens,
                    self.max_errors,
                    fmt_line=self.fmt_line,
                    file_issues=False,
                )
            read = self.read

            def progress(n: int) -> None:
                read[k] = n

            v.progress = progress
            v.run(self.path, start=part.start, end=part.end, hashing=False)
            issues, tally = v.issues, v.tally
            result = PartResult(
                errors=issues.errors,
                warnings=issues.warnings,
                error_count=issues.error_count,
                warning_count=issues.warning_count,
                dup_digests=v.dup_digests,
                table=v.dups,
                tokens_total=tally.total,
                tokens_billed=tally.billed,
                tokens_max=tally.max,
                examples=v.examples.count,
                fmt=v.examples.fmt,
                lines=v.line,
                blank=v.line_problems.blank,
                bom_reported=v.line_problems.bom_reported,
            )
        except BaseException:
            result = None
        with contextlib.suppress(OSError):  # the parent stopped waiting
            send.send(result)
        send.close()

    def collect(self, progress: Callable[[int], None] | None) -> bool:
        """Receives every part's result; False when a worker failed."""
        pending = dict(self.conns)
        while pending:
            ready = cast("list[Connection]", wait(list(pending), timeout=PROGRESS_SECONDS))
            if progress is not None:
                progress(sum(self.read))
            for conn in ready:
                k = pending.pop(conn)
                try:
                    result = conn.recv()
                except EOFError:
                    return False
                if result is None:
                    return False
                self.parts[k].result = result
        return True

    def stop(self, *, kill: bool) -> None:
        """Waits for the workers to exit; ``kill`` ends those still running first (a worker
        failed, or the parent was interrupted)."""
        for conn in self.conns:
            conn.close()
        for proc in self.procs:
            if kill:
                proc.kill()
            proc.join()


def merge(v: Validator, results: Sequence[PartResult]) -> None:
    """Puts the parts' findings into ``v`` as one pass over the file would have left them."""
    issues = v.issues
    cap = issues.max_issues
    errors: list[DataIssue] = []
    warnings: list[DataIssue] = []
    earlier: list[tuple[DigestTable, int]] = []  # each part's table and its line offset
    offset = 0
    for r in results:
        issues.error_count += r.error_count
        issues.warning_count += r.warning_count
        if not earlier:
            errors += r.errors[:cap]
            warnings += r.warnings[:cap]
        else:
            if len(errors) < cap:
                errors += [_moved(e, offset) for e in r.errors[: cap - len(errors)]]
            found, cross = _cross_duplicates(r.table, offset, earlier, cap)
            issues.warning_count += found
            if len(warnings) < cap:
                own = [
                    _moved(w, offset)
                    if i not in r.dup_digests
                    else _duplicate(w, offset, r.dup_digests[i], r.table, earlier)
                    for i, w in enumerate(r.warnings)
                ]
                warnings += _by_line(cross, own)[: cap - len(warnings)]
        earlier.append((r.table, offset))
        offset += r.lines
        tally = v.tally
        tally.total += r.tokens_total
        tally.billed += r.tokens_billed
        tally.max = max(tally.max, r.tokens_max)
        v.examples.count += r.examples
        v.line_problems.blank += r.blank
    issues.errors[:] = errors
    issues.warnings[:] = warnings
    v.examples.fmt = results[0].fmt
    v.line_problems.bom_reported = results[0].bom_reported
    v.line = offset


def _moved(issue: DataIssue, offset: int) -> DataIssue:
    """A later part's issue, numbered in the whole file."""
    line = issue.line + offset
    message = issue.message
    if message == blank_message(issue.line):
        message = blank_message(line)
    return DataIssue(line, issue.path, message, issue.severity)


def _duplicate(
    warning: DataIssue,
    offset: int,
    digest: int,
    table: DigestTable,
    earlier: list[tuple[DigestTable, int]],
) -> DataIssue:
    """A later part's duplicate warning, naming the first line in the whole file with the
    line's digest."""
    first = 0
    for t, off in earlier:
        first = t.contains(digest)
        if first:
            first += off
            break
    else:
        first = table.contains(digest) + offset
    return DataIssue(warning.line + offset, warning.path, duplicate_message(first), "warning")


def _cross_duplicates(
    table: DigestTable, offset: int, earlier: list[tuple[DigestTable, int]], keep: int
) -> tuple[int, list[DataIssue]]:
    """How many of ``table``'s lines (a part's first occurrences, from line ``offset`` + 1)
    repeat a line of an earlier part, and the warnings on the first ``keep`` of them."""
    found = 0
    heap: list[tuple[int, int]] = []  # (-line, first line): the `keep` smallest lines
    probes = [(t.digests, t.lines, t.cap, off) for t, off in earlier]
    for h, line in zip(table.digests, table.lines, strict=True):
        if not h:
            continue
        for digests, lines, cap, off in probes:  # DigestTable.contains, inlined
            i = h % cap
            d = digests[i]
            while d and d != h:
                i += 1
                if i == cap:
                    i = 0
                d = digests[i]
            if d:
                found += 1
                line += offset
                if len(heap) < keep:
                    heapq.heappush(heap, (-line, lines[i] + off))
                elif line < -heap[0][0]:
                    heapq.heapreplace(heap, (-line, lines[i] + off))
                break
    cross = sorted((-neg, first) for neg, first in heap)
    return found, [DataIssue(ln, "$", duplicate_message(first), "warning") for ln, first in cross]


def _by_line(cross: list[DataIssue], own: list[DataIssue]) -> list[DataIssue]:
    """Both lists (each in line order) merged by line; at one line the duplicate warning comes
    first, as one pass reports it before it checks the example."""
    return list(heapq.merge(cross, own, key=lambda w: w.line))


__all__ = ["PARALLEL_MIN_BYTES", "validate_in_parts"]
