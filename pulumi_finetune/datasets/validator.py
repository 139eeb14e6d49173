"""One validation run over a file: the read loop, and the file-level check at the end."""

from __future__ import annotations

import json
import os

from .. import tokens
from ..rules import MIN_EXAMPLES
from .digests import TRAILING_WS, DigestTable
from .examples import ExampleChecks
from .formats import FAST_ROLES, Format
from .issues import IssueLog
from .lines import LineProblems
from .reader import Reader
from .tally import TokenTally


class Validator:
    def __init__(
        self,
        fmt: Format | None,
        model: str | None,
        count_tokens: bool,
        max_errors: int,
    ) -> None:
        self.issues = IssueLog(max_errors)
        tokenizer = tokens.tokenizer_for_model(model) if count_tokens else None
        self.tally = TokenTally(model, tokenizer, self.issues)
        self.examples = ExampleChecks(fmt, model, self.issues, self.tally)
        self.line_problems = LineProblems(self.issues)
        self.dups = DigestTable()
        #: Lines read so far (at the end: the file's line count).
        self.line = 0

    def run(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Reads and checks every line; returns the file's (hex SHA-256, byte count). The loop
        inlines the duplicate-digest probe (``DigestTable.add``) and the fast path for a plain
        chat example (system/user/assistant messages with string content, ending with the
        assistant); anything else goes through ``ExampleChecks.check``."""
        reader = Reader(path)
        loads = json.loads
        issue = self.issues.issue
        unparsable = self.line_problems.unparsable
        not_object = self.line_problems.not_object
        examples = self.examples
        check = examples.check
        tally = self.tally.add
        table = self.dups
        digests, lines, cap, limit = table.digests, table.lines, table.cap, table.limit
        used = table.size
        trailing_ws = TRAILING_WS
        fast_roles = FAST_ROLES
        chat = Format.CHAT
        tokenizer = self.tally.tokenizer
        count = tokenizer.count if tokenizer is not None else None
        count_chat = tokens.count_chat_tokens
        fast = examples.fmt is chat
        line = 0
        for batch in reader.lines():
            if line == 0:
                # presize the duplicate table from the first chunk's line density
                per_line = max(reader.nbytes, 1) / max(len(batch), 1)
                table.reserve(int(reader.size / per_line * 1.1))
                digests, lines, cap, limit = table.digests, table.lines, table.cap, table.limit
            for raw in batch:
                line += 1
                try:
                    obj = loads(raw)  # type: ignore[arg-type]
                except (ValueError, TypeError) as e:
                    unparsable(line, raw, e, reader.overlong)
                    continue
                if type(obj) is not dict:
                    not_object(line, obj)
                    continue
                # duplicates: 64-bit digest of the line in an open-addressing table
                assert raw is not None
                h = hash(raw.rstrip() if raw[-1] in trailing_ws else raw) or 1
                i = h % cap
                d = digests[i]
                while d:
                    if d == h:
                        issue(
                            line,
                            "$",
                            f"duplicate of line {lines[i]}: remove one of them",
                            "warning",
                        )
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
                if fast:
                    msgs = obj.get("messages")
                    if type(msgs) is list and msgs and len(obj) == 1:
                        try:
                            for m in msgs:
                                if (
                                    len(m) != 2
                                    or m["role"] not in fast_roles
                                    or type(m["content"]) is not str
                                ):
                                    break
                            else:
                                if msgs[-1]["role"] == "assistant":
                                    examples.count += 1
                                    if count is not None:
                                        tally(count_chat(msgs, count), line)
                                    continue
                        except (KeyError, TypeError, AttributeError):
                            pass
                check(obj, line)
                fast = examples.fmt is chat
        table.size = used
        self.line = line
        self.line_problems.bom_in_head(reader.head)
        return reader.sha.hexdigest(), reader.nbytes

    def finish(self) -> None:
        """File-level checks, once every line is read."""
        n = self.examples.count
        if n < MIN_EXAMPLES:
            self.issues.issue(
                max(self.line, 1),
                "$",
                f"only {n} example{'s' if n != 1 else ''}: fine-tuning needs "
                f"at least {MIN_EXAMPLES}; add {MIN_EXAMPLES - n} more",
                "error",
            )
        self.issues.sort()
