"""One validation run over a file: the read loop, and the file-level checks at the end."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from .. import models, tokens
from ..rules import MIN_EXAMPLES
from ..tokens import REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE
from . import limits
from .checks.chat import NOTHING_TO_TRAIN
from .decode import loads, measure_large_line
from .digests import TRAILING_WS, DigestTable, duplicate_message, line_digest
from .examples import ExampleChecks
from .fastchat import (
    NOT_PLAIN,
    FastMessage,
    NotFast,
    decode_fast_chat,
    tool_chat_trained,
    weights_of,
)
from .formats import FAST_ROLES, Format
from .issues import FILE, IssueLog
from .lines import LineProblems, wide_encoding
from .reader import Reader
from .tally import TokenTally

#: ``plain`` for an example the typed path took whose messages are not needed.
NO_MESSAGES: list[FastMessage] = []


class Validator:
    def __init__(
        self,
        fmt: Format | None,
        model: str | None,
        count_tokens: bool,
        max_errors: int,
        *,
        fmt_line: int = 0,
        file_issues: bool = True,
    ) -> None:
        """``fmt_line`` and ``file_issues=False`` validate a part of a file after its start
        (see ``parallel``): the format as inferred from ``fmt_line`` (0: declared), and no
        file-level issues, which the part with the file's start reports."""
        self.issues = IssueLog(max_errors)
        self.family = models.known_family(model)
        if model and self.family is None and file_issues:
            open_model = models.base_model(model) in {s.id.lower() for s in models.OPEN_SNAPSHOTS}
            self.issues.issue(
                FILE,
                "$",
                f"open model {model!r}: tokens are counted with o200k_base, an estimate (the "
                "model's own tokenizer differs); its token limit is not checked"
                if open_model
                else f"unknown model {model!r}: its token limit, whether it takes images and "
                "which training methods it takes are not checked (known: "
                f"{', '.join(s.id for s in models.SNAPSHOTS)}, their fine-tuned models "
                "(ft:... and Azure's BASE.ft-...), and open models on Nebius: "
                f"{', '.join(s.id for s in models.OPEN_SNAPSHOTS)})",
                "warning",
            )
        tokenizer = tokens.tokenizer_for_model(model) if count_tokens else None
        self.tally = TokenTally(model, self.family, tokenizer, self.issues)
        self.examples = ExampleChecks(
            fmt,
            model,
            self.family,
            self.issues,
            self.tally,
            fmt_line=fmt_line,
            file_issues=file_issues,
        )
        vision = self.family is None or self.family.vision
        self.max_line_bytes = limits.MAX_LINE_BYTES if vision else limits.MAX_TEXT_LINE_BYTES
        self.line_problems = LineProblems(self.issues, self.max_line_bytes, model)
        self.dups = DigestTable()
        #: The line digest of each kept duplicate warning, by its index in the kept warnings: a
        #: part of a file renames it to the first line in the whole file (see ``parallel``).
        self.dup_digests: dict[int, int] = {}
        #: Lines read so far (at the end: the file's line count).
        self.line = 0
        #: The file is UTF-16 or UTF-32: reported once, its lines not parsed.
        self.wide_encoding = False
        #: Called with the bytes read so far after each chunk (a progress bar), if set.
        self.progress: Callable[[int], None] | None = None

    def run(
        self,
        path: str | os.PathLike[str],
        *,
        start: int = 0,
        end: int | None = None,
        first_line: int = 1,
        hashing: bool = True,
    ) -> tuple[str, int]:
        """Reads and checks every line; returns the file's (hex SHA-256, byte count). The loop
        inlines the duplicate-digest probe (``DigestTable.add``) and the fast path for a plain
        chat example (typed-decoded by msgspec: system/user/assistant messages with non-empty
        string content, ending with the assistant; with tokens off, also a tool-calling one, see
        ``fastchat.tool_chat_trained``); anything else is parsed to dicts and goes through
        ``ExampleChecks.check``, which reports what the fast path would not take.

        ``start``, ``end`` and ``first_line`` check a part of the file (from a line boundary);
        without ``hashing`` the hex digest is empty."""
        reader = Reader(
            path,
            self.max_line_bytes,
            sha=hashlib.sha256() if hashing else None,
            start=start,
            end=end,
        )
        issue = self.issues.issue
        problems = self.line_problems
        unparsable = problems.unparsable
        not_object = problems.not_object
        examples = self.examples
        check = examples.check
        tally = self.tally.add
        table = self.dups
        digests, lines, cap, limit = table.digests, table.lines, table.cap, table.limit
        used = table.size
        trailing_ws = TRAILING_WS
        chat = Format.CHAT
        tokenizer = self.tally.tokenizer
        count = tokenizer.count if tokenizer is not None else None
        per_role = (
            {role: TOKENS_PER_MESSAGE + count(role) for role in FAST_ROLES}
            if count is not None
            else {}
        )
        not_fast = NotFast
        fast = examples.fmt is chat
        progress = self.progress
        dup_digests = self.dup_digests
        kept_warnings = self.issues.warnings
        max_issues = self.issues.max_issues
        line = first_line - 1
        first = True
        for batch in reader.lines():
            if progress is not None:
                progress(reader.nbytes)
            if first:
                first = False
                wide = wide_encoding(reader.head)
                if wide:
                    problems.wide_encoding(wide)
                    self.wide_encoding = True
                # presize the duplicate table from the first chunk's line density
                per_line = max(reader.nbytes, 1) / max(len(batch), 1)
                table.reserve(int(reader.size / per_line * 1.1))
                digests, lines, cap, limit = table.digests, table.lines, table.cap, table.limit
            if self.wide_encoding:
                line += len(batch)
                continue
            for raw in batch:
                line += 1
                if raw is None:
                    problems.overlong(line, reader.overlong.pop(0))
                    continue
                large = type(raw) is bytearray
                if large:
                    problem = measure_large_line(raw)
                    if problem:
                        issue(line, "$", problem, "error")
                        continue
                # the fast path: a plain chat example, typed-decoded (see fastchat)
                plain = None
                untrained = False
                obj = None
                if fast:
                    try:
                        plain = decode_fast_chat(raw).messages
                    except not_fast:
                        # a tool-calling example, typed too when no tokens are counted (its
                        # count needs the calls' JSON as written, which the detailed path keeps)
                        if count is None and b'"tool' in raw:
                            trained = tool_chat_trained(raw)
                            if trained != NOT_PLAIN:
                                plain = NO_MESSAGES
                                untrained = not trained
                    else:
                        if plain[-1].role != "assistant":
                            plain = None
                        # weights are rare: look at each message only when the line has one
                        elif b'"weight"' in raw:
                            trained = weights_of(plain)
                            if trained == NOT_PLAIN:
                                plain = None
                            elif not trained:
                                untrained = True
                if plain is None:
                    try:
                        obj = loads(raw)
                    except (ValueError, TypeError, RecursionError) as e:
                        unparsable(line, raw, e)
                        continue
                    if type(obj) is not dict:
                        not_object(line, obj)
                        continue
                # duplicates: 64-bit digest of the line in an open-addressing table
                if large:
                    h = line_digest(raw)
                else:
                    h = hash(raw.rstrip() if raw[-1] in trailing_ws else raw) or 1  # type: ignore[arg-type]
                i = h % cap
                d = digests[i]
                while d:
                    if d == h:
                        if len(kept_warnings) < max_issues:
                            dup_digests[len(kept_warnings)] = h
                        issue(line, "$", duplicate_message(lines[i]), "warning")
                        break
                    i += 1
                    if i == cap:
                        i = 0
                    d = digests[i]
                else:
                    digests[i] = h
                    lines[i] = line
                    used += 1
                    if used > limit:
                        table.size = used
                        table._rehash(cap * 2)
                        digests, lines, cap, limit = (
                            table.digests,
                            table.lines,
                            table.cap,
                            table.limit,
                        )
                if plain is not None:
                    if untrained:
                        issue(line, "messages", NOTHING_TO_TRAIN, "warning")
                    examples.count += 1
                    if count is not None:
                        # count_chat_tokens of these messages: priming, and per message its
                        # overhead, role and content
                        n = REPLY_PRIMING_TOKENS
                        for m in plain:
                            n += per_role[m.role] + count(m.content)
                        tally(n, line)
                    continue
                assert obj is not None
                try:
                    check(obj, line)
                except RecursionError:
                    problems.too_deep(line)
                fast = examples.fmt is chat
        table.size = used
        self.line = line
        if end is None and not self.wide_encoding:  # a part's caller checks the whole file's head
            problems.bom_in_head(reader.head)
        return (reader.sha.hexdigest() if hashing else ""), reader.nbytes

    def finish(self) -> None:
        """File-level checks, once every line is read."""
        # Lines that hold something count as examples here, readable or not: with a broken
        # line among ten, fixing it is the remedy, not adding an example.
        held = self.line - self.line_problems.blank
        if held < MIN_EXAMPLES and not self.wide_encoding:
            self.issues.issue(
                FILE,
                "$",
                f"only {held} example{'s' if held != 1 else ''}: fine-tuning needs "
                f"at least {MIN_EXAMPLES}; add {MIN_EXAMPLES - held} more",
                "error",
            )
        self.issues.sort()
