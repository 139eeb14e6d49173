"""Reports lines that hold no JSON object: over-long, blank, not UTF-8, not JSON, not an object,
and a byte order mark at the start of the file."""

from __future__ import annotations

import json
from typing import Any

from . import reader
from .checks.common import type_name
from .issues import IssueLog


def friendly_json_error(e: json.JSONDecodeError) -> str:
    msg = e.msg
    if msg == "Extra data":
        return (
            f"trailing characters after the JSON object at column {e.colno}: put exactly one "
            "JSON object on each line"
        )
    if msg.startswith("Expecting value") and e.pos == 0:
        return "not JSON: each line must be one JSON object"
    return f"invalid JSON: {msg} at column {e.colno}: each line must be one JSON object"


class LineProblems:
    def __init__(self, issues: IssueLog) -> None:
        self.issue = issues.issue
        self.bom_reported = False

    def bom(self, line: int) -> None:
        self.bom_reported = True
        self.issue(
            line,
            "$",
            "the file starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without BOM",
            "error",
        )

    def bom_in_head(self, head: bytes) -> None:
        """Reports a BOM at the start of the file unless line 1 already did (json.loads accepts
        one, so a parsed first line says nothing)."""
        if head == reader.BOM and not self.bom_reported:
            self.bom(1)

    def unparsable(self, line: int, raw: bytes | None, e: Exception, overlong: list[int]) -> None:
        """``raw`` is None for a line the reader skipped; its size is first in ``overlong``."""
        if raw is None:
            size = overlong.pop(0)
            self.issue(
                line,
                "$",
                f"line is {size:,} bytes, over the {reader.MAX_LINE_BYTES:,} bytes "
                "this validator reads: shorten the example or split it",
                "error",
            )
            return
        if not raw or raw.isspace():
            self.issue(line, "$", f"blank line {line}: remove it", "error")
            return
        if raw[:3] == reader.BOM and line == 1:
            self.bom(line)
            return
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            self.issue(line, "$", "the file is UTF-16: save it as UTF-8", "error")
            return
        if isinstance(e, UnicodeDecodeError):
            bad = raw[e.start : e.start + 1]
            self.issue(
                line,
                "$",
                f"invalid UTF-8 at byte {e.start + 1} (0x{bad.hex()}): the "
                "file must be UTF-8; re-save it as UTF-8 (it may be Latin-1 or "
                "Windows-1252)",
                "error",
            )
            return
        if isinstance(e, json.JSONDecodeError):
            self.issue(line, "$", friendly_json_error(e), "error")
            return
        self.issue(line, "$", f"cannot parse: {e}", "error")

    def not_object(self, line: int, obj: Any) -> None:
        if isinstance(obj, list):
            msg = (
                "a JSON array, not an object: put each example on its own line as an object "
                "(JSONL), not the whole dataset in one array"
            )
        else:
            msg = f"each line must be a JSON object, got {type_name(obj)}"
        self.issue(line, "$", msg, "error")
