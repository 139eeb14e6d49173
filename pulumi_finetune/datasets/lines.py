"""Reports lines that hold no JSON object: over-long, blank, not UTF-8, not JSON, not an object,
nested too deep, a byte order mark at the start of the file, and a file in UTF-16 or UTF-32."""

from __future__ import annotations

import json
from typing import Any

from ..models import LARGEST_TOKEN_LIMIT
from . import reader
from .checks.common import type_name
from .decode import NonFiniteNumber
from .issues import IssueLog
from .limits import MAX_TEXT_BYTES


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


def wide_encoding(head: bytes) -> str | None:
    """The name of the UTF-16 or UTF-32 encoding the first bytes of a JSON file are in, with or
    without a byte order mark (RFC 4627's rule: JSON text starts with an ASCII character)."""
    boms = (
        (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
        (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
        (b"\xfe\xff", "UTF-16 (big-endian)"),
        (b"\xff\xfe", "UTF-16 (little-endian)"),
    )
    for bom, name in boms:
        if head.startswith(bom):
            return name
    if len(head) < 4:
        return None
    z = [b == 0 for b in head[:4]]
    if z == [True, True, True, False]:
        return "UTF-32 (big-endian)"
    if z == [False, True, True, True]:
        return "UTF-32 (little-endian)"
    if z[0] and not z[1]:
        return "UTF-16 (big-endian)"
    if not z[0] and z[1]:
        return "UTF-16 (little-endian)"
    return None


def blank_message(line: int) -> str:
    return f"blank line {line}: remove it"


class LineProblems:
    def __init__(self, issues: IssueLog, max_line_bytes: int, model: str | None) -> None:
        self.issue = issues.issue
        self.bom_reported = False
        self.max_line_bytes = max_line_bytes
        self.model = model
        #: Blank lines seen (they hold no example, and are not counted as one).
        self.blank = 0

    def bom(self, line: int) -> None:
        self.bom_reported = True
        self.issue(
            line,
            "$",
            "the file starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without BOM",
            "error",
        )

    def bom_in_head(self, head: bytes) -> None:
        """Reports a BOM at the start of the file unless line 1 already did."""
        if head[:3] == reader.BOM and not self.bom_reported:
            self.bom(1)

    def wide_encoding(self, name: str) -> None:
        self.issue(
            1,
            "$",
            f"the file is {name}, not UTF-8: OpenAI reads UTF-8 JSON; re-save it as UTF-8 "
            "(without a byte order mark)",
            "error",
        )

    def overlong(self, line: int, size: int) -> None:
        if self.max_line_bytes <= MAX_TEXT_BYTES:
            why = (
                f"{self.model} takes no images, and {MAX_TEXT_BYTES:,} bytes of text are far past "
                f"its token limit, at which an example is cut off"
            )
        else:
            why = (
                "at most 10 images of 10 MB and text up to the token limit "
                f"({LARGEST_TOKEN_LIMIT:,} tokens at most) fit in one example"
            )
        self.issue(
            line,
            "$",
            f"line is {size:,} bytes, over the {self.max_line_bytes:,} bytes one example can "
            f"hold ({why}): split it into several examples or shrink its images",
            "error",
        )

    def too_deep(self, line: int) -> None:
        self.issue(
            line,
            "$",
            "JSON nested too deeply (hundreds of levels): an example is a flat list of messages; "
            "check how this line was generated",
            "error",
        )

    def unparsable(self, line: int, raw: bytes | bytearray | None, e: Exception) -> None:
        """``raw`` is None for a line the reader skipped; its size is first in ``overlong``."""
        if not raw or raw.isspace():
            self.blank += 1
            self.issue(line, "$", blank_message(line), "error")
            return
        if raw[:3] == reader.BOM and line == 1:
            self.bom(line)
            return
        if isinstance(e, RecursionError):
            self.too_deep(line)
            return
        if isinstance(e, NonFiniteNumber):
            self.issue(
                line,
                "$",
                f"{e.literal} is not a JSON number: OpenAI reads strict JSON; write null or a "
                "number, or a string if the value is text",
                "error",
            )
            return
        if b"\x00" in raw:
            self.issue(
                line,
                "$",
                "the line holds NUL bytes: the file may be UTF-16 or UTF-32; save it as UTF-8",
                "error",
            )
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
