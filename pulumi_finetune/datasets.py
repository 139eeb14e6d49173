"""Validation of fine-tuning training data (JSONL), streaming and fast.

``validate_file`` reads the file in binary chunks, checks each line with hand-written checks on
the parsed object (a fast path for the common valid chat example, a detailed path that names
every problem otherwise), and keeps only fixed-size state plus an 8-byte digest per line for
duplicate detection, so memory does not grow with line size or content.

Every issue names its 1-based line and a JSON path inside the example (``$`` for the example
itself), and says what is wrong and how to fix it.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, cast

from pulumi_finetune import tokens as _tokens
from pulumi_finetune.models import is_completions_model, token_limit
from pulumi_finetune.rules import MIN_EXAMPLES, estimate_epochs

__all__ = [
    "MIN_EXAMPLES",
    "DataIssue",
    "Format",
    "ValidationReport",
    "compare_files",
    "estimate_epochs",
    "iter_lines",
    "sha256_file",
    "token_limit",
    "validate_file",
]

#: Lines longer than this are reported and skipped without being held in memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 20

Severity = Literal["error", "warning"]


class Format(StrEnum):
    CHAT = "chat"
    COMPLETIONS = "completions"
    PREFERENCE = "preference"
    REINFORCEMENT = "reinforcement"


@dataclass(frozen=True)
class DataIssue:
    line: int
    path: str
    message: str
    severity: Severity

    def __str__(self) -> str:
        return f"line {self.line}: {self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass
class ValidationReport:
    format: str
    example_count: int
    bytes: int
    sha256: str
    errors: list[DataIssue] = field(default_factory=list)
    error_count: int = 0
    warnings: list[DataIssue] = field(default_factory=list)
    warning_count: int = 0
    total_tokens: int | None = None
    max_example_tokens: int | None = None
    billed_tokens_estimate: int | None = None
    default_epochs: int | None = None
    #: "o200k_base" | "cl100k_base" | "estimate" (one token per 4 characters); None when
    #: token counting is off.
    tokenizer: str | None = None
    model: str | None = None
    token_limit: int | None = None
    path: str = ""
    line_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self) -> str:
        """One human line: the first error, or what the file holds."""
        if self.errors:
            first = str(self.errors[0])
            more = self.error_count - 1
            if more > 0:
                first += f" (and {more} more error{'s' if more != 1 else ''})"
            return first
        if self.error_count:
            return f"{self.error_count} errors"
        parts = [f"valid {self.format} data: {self.example_count:,} examples"]
        if self.total_tokens is not None:
            approx = "" if self.tokenizer != _tokens.ESTIMATE else "~"
            parts.append(f"{approx}{self.total_tokens:,} tokens ({self.tokenizer})")
            if self.billed_tokens_estimate is not None:
                parts.append(
                    f"~{self.billed_tokens_estimate:,} billed tokens over "
                    f"{self.default_epochs} epochs"
                )
        if self.warning_count:
            w = self.warning_count
            parts.append(f"{w} warning{'s' if w != 1 else ''}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "path": self.path,
            "format": self.format,
            "model": self.model,
            "example_count": self.example_count,
            "line_count": self.line_count,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "error_count": self.error_count,
            "errors": [i.to_dict() for i in self.errors],
            "warning_count": self.warning_count,
            "warnings": [i.to_dict() for i in self.warnings],
            "tokenizer": self.tokenizer,
            "token_limit": self.token_limit,
            "total_tokens": self.total_tokens,
            "max_example_tokens": self.max_example_tokens,
            "billed_tokens_estimate": self.billed_tokens_estimate,
            "default_epochs": self.default_epochs,
            "summary": self.summary(),
        }


# --------------------------------------------------------------------------------------------
# Rules shared with the rest of the package


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(hex SHA-256, byte count) of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


# --------------------------------------------------------------------------------------------
# Streaming lines


@dataclass
class _Reader:
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
            hasher = _Hasher(self.sha) if self.size > _THREADED_HASH_MIN else None
            sha_update = hasher.update if hasher else self.sha.update
            try:
                while chunk := f.read(_CHUNK):
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


#: Files larger than this are hashed on a second thread (hashlib releases the GIL).
_THREADED_HASH_MIN = 8 << 20


class _Hasher:
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
    for batch in _Reader(path).lines():
        for raw in batch:
            lineno += 1
            yield lineno, raw


# --------------------------------------------------------------------------------------------
# Duplicate detection: an open-addressing table of 64-bit digests (16 bytes per line at worst)


class _DigestTable:
    """Open addressing with linear probing over two flat arrays: 8-byte digests and 4-byte line
    numbers, at most 75 % full, so about 16 bytes per distinct line. ``reserve`` presizes it
    from an estimate of the line count so it rarely has to grow (which briefly needs both
    tables).
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

    def add(self, digest: int, line: int) -> int:
        """Records ``digest`` for ``line``; returns the earlier line with it, or 0."""
        digest = digest or 1
        digests = self.digests
        cap = self.cap
        i = digest % cap
        d = digests[i]
        while d:
            if d == digest:
                return self.lines[i]
            i += 1
            if i == cap:
                i = 0
            d = digests[i]
        digests[i] = digest
        self.lines[i] = line
        self.size += 1
        if self.size > self.limit:
            self._rehash(cap * 2)
        return 0

    def contains(self, digest: int) -> int:
        digest = digest or 1
        digests = self.digests
        cap = self.cap
        i = digest % cap
        d = digests[i]
        while d:
            if d == digest:
                return self.lines[i]
            i += 1
            if i == cap:
                i = 0
            d = digests[i]
        return 0

    def _rehash(self, capacity: int) -> None:
        old_d, old_l = self.digests, self.lines
        self._alloc(capacity)
        self.size = 0
        for d, ln in zip(old_d, old_l, strict=True):
            if d:
                self.add(d, ln)


_TRAILING_WS = frozenset(b"\r\t ")
_BOM = b"\xef\xbb\xbf"


def _digest(raw: bytes) -> int:
    # Python's bytes hash is SipHash-1-3 (64 bits, keyed per process): cheap and good enough to
    # find repeated lines within one run. Trailing whitespace (\r, spaces) does not count.
    if raw and raw[-1] in _TRAILING_WS:
        raw = raw.rstrip()
    return hash(raw) or 1


# --------------------------------------------------------------------------------------------
# Per-example checks

CHAT_ROLES = frozenset({"system", "user", "assistant", "tool", "function"})
REINFORCEMENT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_ROLES_HINT = "expected system, user, assistant, tool"
_RFT_ROLES_HINT = "expected system, developer, user, assistant, tool"
_FAST_ROLES = frozenset({"system", "user", "assistant"})
MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call", "refusal"}
)
_MESSAGE_KEYS_HINT = ", ".join(sorted(MESSAGE_KEYS))
CHAT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
PREFERENCE_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
COMPLETION_KEYS = frozenset({"prompt", "completion"})


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, str):
        return "string"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def _short(v: Any, limit: int = 40) -> str:
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _infer_format(obj: dict[str, Any]) -> Format | None:
    if "messages" in obj:
        extra = obj.keys() - CHAT_KEYS
        if extra:
            msgs = obj["messages"]
            last = msgs[-1] if isinstance(msgs, list) and msgs else None
            if not (isinstance(last, dict) and last.get("role") == "assistant"):
                return Format.REINFORCEMENT
        return Format.CHAT
    if "preferred_output" in obj or "non_preferred_output" in obj or "input" in obj:
        return Format.PREFERENCE
    if "prompt" in obj or "completion" in obj:
        return Format.COMPLETIONS
    return None


Add = Callable[[str, str, Severity], None]


class _Checker:
    """Detailed checks of one parsed example; reports through ``add(path, message, severity)``."""

    def __init__(self, add: Add) -> None:
        self.add = add

    def err(self, path: str, message: str) -> None:
        self.add(path, message, "error")

    def warn(self, path: str, message: str) -> None:
        self.add(path, message, "warning")

    # -- messages -----------------------------------------------------------------------------

    def messages(
        self,
        msgs: Any,
        path: str,
        *,
        roles: frozenset[str] = CHAT_ROLES,
        roles_hint: str = _ROLES_HINT,
        where: str = "each line",
    ) -> list[dict[str, Any]] | None:
        if msgs is None:
            self.err(path, f"missing '{path}': {where} needs a \"messages\" list")
            return None
        if not isinstance(msgs, list):
            self.err(path, f"must be a list of messages, got {_type_name(msgs)}")
            return None
        if not msgs:
            self.err(path, "empty messages list: add at least a user and an assistant message")
            return None
        ok: list[dict[str, Any]] = []
        for i, m in enumerate(msgs):
            mp = f"{path}[{i}]"
            if not isinstance(m, dict):
                self.err(mp, f"each message must be an object, got {_type_name(m)}")
                continue
            self.message(m, mp, roles, roles_hint)
            ok.append(m)
        return ok

    def message(self, m: dict[str, Any], mp: str, roles: frozenset[str], roles_hint: str) -> None:
        for k in m:
            if k not in MESSAGE_KEYS:
                self.err(
                    f"{mp}.{k}",
                    f"unknown message key '{k}': remove it (allowed: {_MESSAGE_KEYS_HINT})",
                )
        role = m.get("role")
        if role is None:
            self.err(f"{mp}.role", f'missing role: add "role" ({roles_hint})')
        elif not isinstance(role, str):
            self.err(f"{mp}.role", f"role must be a string, got {_type_name(role)} ({roles_hint})")
        elif role not in roles:
            self.err(f"{mp}.role", f"unknown role {role!r} ({roles_hint})")
        has_calls = m.get("tool_calls") is not None or m.get("function_call") is not None
        if "content" not in m or (m["content"] is None and not has_calls):
            if not (role == "assistant" and has_calls):
                self.err(
                    f"{mp}.content",
                    'missing content: add "content" with the message text as a string',
                )
        else:
            self.content(m["content"], f"{mp}.content", role)
        name = m.get("name")
        if name is not None and not isinstance(name, str):
            self.err(f"{mp}.name", f"name must be a string, got {_type_name(name)}")
        if "weight" in m:
            w = m["weight"]
            if role != "assistant":
                self.err(f"{mp}.weight", "weight is only allowed on assistant messages: remove it")
            elif type(w) is not int or w not in (0, 1):
                self.err(
                    f"{mp}.weight",
                    f"weight must be 0 or 1, got {_short(w)}: use 0 to skip this message in "
                    "training, 1 to train on it",
                )
        if "tool_calls" in m:
            self.tool_calls(m["tool_calls"], f"{mp}.tool_calls", role)
        if "function_call" in m:
            fc = m["function_call"]
            if role != "assistant":
                self.err(
                    f"{mp}.function_call", "function_call is only allowed on assistant messages"
                )
            elif fc is not None:
                self.function(fc, f"{mp}.function_call")
        if role == "tool":
            tcid = m.get("tool_call_id")
            if tcid is None:
                self.err(
                    f"{mp}.tool_call_id",
                    "tool message without tool_call_id: add the id of the assistant tool call "
                    "it answers",
                )
            elif not isinstance(tcid, str):
                self.err(f"{mp}.tool_call_id", f"must be a string, got {_type_name(tcid)}")
        elif "tool_call_id" in m:
            self.err(f"{mp}.tool_call_id", "tool_call_id is only allowed on tool messages")

    def content(self, c: Any, cp: str, role: Any) -> None:
        if isinstance(c, str):
            return
        if c is None:
            return  # assistant with tool calls
        if not isinstance(c, list):
            self.err(
                cp,
                f"content must be a string or a list of content parts, got {_type_name(c)}: "
                "put the text in a string",
            )
            return
        if not c:
            self.err(cp, "empty content list: add a text part or use a string")
        for j, part in enumerate(c):
            pp = f"{cp}[{j}]"
            if not isinstance(part, dict):
                self.err(pp, f"content part must be an object, got {_type_name(part)}")
                continue
            t = part.get("type")
            if t == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    self.err(
                        f"{pp}.text", f'text part needs "text" as a string, got {_type_name(text)}'
                    )
            elif t == "image_url":
                if role == "assistant":
                    self.err(
                        pp,
                        "images are not allowed in assistant messages: move the image "
                        "to a user message",
                    )
                iu = part.get("image_url")
                url = iu.get("url") if isinstance(iu, dict) else None
                if not isinstance(url, str):
                    self.err(
                        f"{pp}.image_url",
                        'image part needs "image_url": {"url": "https://... or data:image/..."}',
                    )
            elif t is None:
                self.err(
                    f"{pp}.type", 'content part without type: add "type": "text" or "image_url"'
                )
            else:
                self.err(
                    f"{pp}.type",
                    f"unsupported content part type {_short(t)} (expected text or image_url)",
                )

    def tool_calls(self, tc: Any, tp: str, role: Any) -> None:
        if role != "assistant":
            self.err(tp, "tool_calls are only allowed on assistant messages")
            return
        if not isinstance(tc, list):
            self.err(tp, f"tool_calls must be a list, got {_type_name(tc)}")
            return
        for k, call in enumerate(tc):
            cp = f"{tp}[{k}]"
            if not isinstance(call, dict):
                self.err(cp, f"tool call must be an object, got {_type_name(call)}")
                continue
            cid = call.get("id")
            if not isinstance(cid, str) or not cid:
                self.err(
                    f"{cp}.id",
                    'tool call without id: add "id" (e.g. "call_1") and use '
                    "it as tool_call_id in the tool message that answers it",
                )
            if call.get("type") != "function":
                self.err(
                    f"{cp}.type",
                    f'tool call type must be "function", got {_short(call.get("type"))}',
                )
            self.function(call.get("function"), f"{cp}.function")

    def function(self, fn: Any, fp: str) -> None:
        if not isinstance(fn, dict):
            self.err(fp, f"must be an object with name and arguments, got {_type_name(fn)}")
            return
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            self.err(f"{fp}.name", 'missing function name: add "name" as a string')
        args = fn.get("arguments")
        if not isinstance(args, str):
            self.err(
                f"{fp}.arguments",
                f"arguments must be a JSON-encoded string, got {_type_name(args)}: encode the "
                "arguments object with json.dumps",
            )

    def tools(self, obj: dict[str, Any]) -> None:
        tools = obj.get("tools")
        if tools is not None:
            if not isinstance(tools, list):
                self.err(
                    "tools", f"tools must be a list of tool definitions, got {_type_name(tools)}"
                )
            else:
                for i, t in enumerate(tools):
                    fn = t.get("function") if isinstance(t, dict) else None
                    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                        self.err(
                            f"tools[{i}]",
                            'each tool needs {"type": "function", '
                            '"function": {"name": ..., "parameters": {...}}}',
                        )
        ptc = obj.get("parallel_tool_calls")
        if ptc is not None and not isinstance(ptc, bool):
            self.err("parallel_tool_calls", f"must be true or false, got {_type_name(ptc)}")

    # -- formats ------------------------------------------------------------------------------

    def chat(self, obj: dict[str, Any]) -> None:
        for k in obj:
            if k not in CHAT_KEYS:
                self.err(
                    k,
                    f"unknown key '{k}' in a chat example: remove it (allowed: "
                    "messages, tools, parallel_tool_calls)",
                )
        msgs = self.messages(obj.get("messages"), "messages")
        if msgs is None:
            return
        if not any(m.get("role") == "assistant" for m in msgs):
            self.err(
                "messages",
                "no assistant message: every example needs at least one "
                "assistant message (the reply to learn)",
            )
        self.tools(obj)

    def reinforcement(self, obj: dict[str, Any]) -> None:
        msgs = self.messages(
            obj.get("messages"), "messages", roles=REINFORCEMENT_ROLES, roles_hint=_RFT_ROLES_HINT
        )
        if msgs is None:
            return
        last = obj["messages"][-1]
        if isinstance(last, dict) and last.get("role") == "assistant":
            self.err(
                f"messages[{len(obj['messages']) - 1}].role",
                "reinforcement examples must end with the prompt, not an assistant message: "
                "remove it (the model writes the answer; put reference answers in another key "
                "for the grader)",
            )
        self.tools(obj)

    def completions(self, obj: dict[str, Any]) -> None:
        for key in ("prompt", "completion"):
            v = obj.get(key)
            if v is None:
                self.err(
                    key, f'missing \'{key}\': each line needs "prompt" and "completion" strings'
                )
            elif not isinstance(v, str):
                self.err(key, f"{key} must be a string, got {_type_name(v)}")
        for k in obj:
            if k not in COMPLETION_KEYS:
                self.err(
                    k,
                    f"unknown key '{k}' in a completions example: remove it (allowed: "
                    "prompt, completion)",
                )

    def preference(self, obj: dict[str, Any]) -> None:
        for k in obj:
            if k not in PREFERENCE_KEYS:
                self.err(
                    k,
                    f"unknown key '{k}' in a preference example: remove it (allowed: "
                    "input, preferred_output, non_preferred_output)",
                )
        inp = obj.get("input")
        if inp is None:
            self.err("input", "missing 'input': add {\"messages\": [...]} with the prompt")
        elif not isinstance(inp, dict):
            self.err(
                "input", f'input must be an object {{"messages": [...]}}, got {_type_name(inp)}'
            )
        else:
            self.messages(inp.get("messages"), "input.messages", where="input")
            ptc = inp.get("parallel_tool_calls")
            if ptc is not None and not isinstance(ptc, bool):
                self.err("input.parallel_tool_calls", "must be true or false")
        for key, what in (("preferred_output", "better"), ("non_preferred_output", "worse")):
            out = obj.get(key)
            if out is None:
                self.err(key, f"missing '{key}': add a list with one ({what}) assistant message")
                continue
            if not isinstance(out, list) or len(out) != 1:
                got = f"{len(out)} items" if isinstance(out, list) else _type_name(out)
                self.err(key, f"{key} must be a list with exactly one assistant message, got {got}")
                continue
            m = out[0]
            if not isinstance(m, dict):
                self.err(f"{key}[0]", f"must be a message object, got {_type_name(m)}")
                continue
            self.message(m, f"{key}[0]", CHAT_ROLES, _ROLES_HINT)
            if m.get("role") != "assistant":
                self.err(
                    f"{key}[0].role",
                    f"{key} must be an assistant message, got role "
                    f'{_short(m.get("role"))}: set "role": "assistant"',
                )


# --------------------------------------------------------------------------------------------
# The file validator


def _friendly_json_error(e: json.JSONDecodeError) -> str:
    msg = e.msg
    if msg == "Extra data":
        return (
            f"trailing characters after the JSON object at column {e.colno}: put exactly one "
            "JSON object on each line"
        )
    if msg.startswith("Expecting value") and e.pos == 0:
        return "not JSON: each line must be one JSON object"
    return f"invalid JSON: {msg} at column {e.colno}: each line must be one JSON object"


class _Validator:
    def __init__(
        self,
        fmt: Format | None,
        model: str | None,
        count_tokens: bool,
        max_errors: int,
    ) -> None:
        self.fmt = fmt
        self.fmt_line = 0
        self.model = model
        self.max_errors = max(0, max_errors)
        self.errors: list[DataIssue] = []
        self.warnings: list[DataIssue] = []
        self.error_count = 0
        self.warning_count = 0
        self.examples = 0
        self.line = 0
        self.limit = token_limit(model)
        self.tokenizer: _tokens.Tokenizer | None = (
            _tokens.tokenizer_for_model(model) if count_tokens else None
        )
        self.total_tokens = 0
        self.billed_tokens = 0
        self.max_tokens = 0
        self.dups = _DigestTable()
        self.checker = _Checker(self._add)
        self.completion_model = is_completions_model(model)
        self.reader: _Reader | None = None
        self.bom_reported = False

    def _add(self, path: str, message: str, severity: Severity) -> None:
        self.issue(self.line, path, message, severity)

    def issue(self, line: int, path: str, message: str, severity: Severity) -> None:
        if severity == "error":
            self.error_count += 1
            if len(self.errors) < self.max_errors:
                self.errors.append(DataIssue(line, path or "$", message, "error"))
        else:
            self.warning_count += 1
            if len(self.warnings) < self.max_errors:
                self.warnings.append(DataIssue(line, path or "$", message, "warning"))

    def set_format(self, fmt: Format) -> None:
        self.fmt = fmt
        self.fmt_line = self.line
        if not self.model:
            return
        if fmt is Format.COMPLETIONS and not self.completion_model:
            self.issue(
                self.line,
                "$",
                f"completions data (prompt/completion) cannot train "
                f'{self.model}: convert each example to chat format {{"messages": '
                "[user, assistant]}} or choose babbage-002 / davinci-002",
                "error",
            )
        elif fmt is not Format.COMPLETIONS and self.completion_model:
            self.issue(
                self.line,
                "$",
                f"{fmt.value} data cannot train {self.model}, which "
                'takes completions data: convert each example to {"prompt": ..., '
                '"completion": ...} or choose a chat model such as gpt-4o-mini',
                "error",
            )

    def run(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Reads and checks every line. The loop inlines the duplicate-digest probe and the fast
        path for a plain chat example (system/user/assistant messages with string content,
        ending with the assistant); anything else goes through ``example()``."""
        reader = _Reader(path)
        self.reader = reader
        loads = json.loads
        table = self.dups
        digests, lines, cap, limit = table.digests, table.lines, table.cap, table.limit
        used = table.size
        trailing_ws = _TRAILING_WS
        fast_roles = _FAST_ROLES
        chat = Format.CHAT
        tokenizer = self.tokenizer
        count = tokenizer.count if tokenizer is not None else None
        count_chat = _tokens.count_chat_tokens
        fast = self.fmt is chat
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
                    self.line = line
                    self.bad_line(raw, e)
                    continue
                if type(obj) is not dict:
                    self.line = line
                    self.not_object(obj)
                    continue
                # duplicates: 64-bit digest of the line in an open-addressing table
                assert raw is not None
                h = hash(raw.rstrip() if raw[-1] in trailing_ws else raw) or 1
                i = h % cap
                d = digests[i]
                while d:
                    if d == h:
                        self.issue(
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
                                    self.examples += 1
                                    if count is not None:
                                        self.line = line
                                        self.tally(count_chat(msgs, count))
                                    continue
                        except (KeyError, TypeError, AttributeError):
                            pass
                self.line = line
                self.example(obj)
                fast = self.fmt is chat
        table.size = used
        self.line = line
        if reader.head == _BOM and not self.bom_reported:
            self.line = 1
            self.bom()
            self.line = line
        return reader.sha.hexdigest(), reader.nbytes

    def bom(self) -> None:
        self.bom_reported = True
        self.issue(
            self.line,
            "$",
            "the file starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without BOM",
            "error",
        )

    def bad_line(self, raw: bytes | None, e: Exception) -> None:
        line = self.line
        if raw is None:
            assert self.reader is not None
            size = self.reader.overlong.pop(0)
            self.issue(
                line,
                "$",
                f"line is {size:,} bytes, over the {MAX_LINE_BYTES:,} bytes "
                "this validator reads: shorten the example or split it",
                "error",
            )
            return
        if not raw or raw.isspace():
            self.issue(line, "$", f"blank line {line}: remove it", "error")
            return
        if raw[:3] == b"\xef\xbb\xbf" and line == 1:
            self.bom()
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
            self.issue(line, "$", _friendly_json_error(e), "error")
            return
        self.issue(line, "$", f"cannot parse: {e}", "error")

    def not_object(self, obj: Any) -> None:
        if isinstance(obj, list):
            msg = (
                "a JSON array, not an object: put each example on its own line as an object "
                "(JSONL), not the whole dataset in one array"
            )
        else:
            msg = f"each line must be a JSON object, got {_type_name(obj)}"
        self.issue(self.line, "$", msg, "error")

    def example(self, obj: dict[str, Any]) -> None:
        fmt = self.fmt
        if fmt is None:
            inferred = _infer_format(obj)
            if inferred is None:
                self.issue(
                    self.line,
                    "$",
                    "cannot tell the format of this example: expected "
                    '"messages" (chat), "prompt" and "completion" (completions) or '
                    '"input" with "preferred_output" (preference)',
                    "error",
                )
                return
            self.set_format(inferred)
            fmt = inferred
        self.examples += 1
        if fmt is Format.CHAT:
            msgs = obj.get("messages")
            # fast path: {"messages": [{role, content: str}...]} with an assistant message
            if type(msgs) is list and msgs and len(obj) == 1:
                assistant = False
                for m in msgs:
                    if type(m) is not dict or len(m) != 2:
                        break
                    role = m.get("role")
                    if role not in _FAST_ROLES or type(m.get("content")) is not str:
                        break
                    if role == "assistant":
                        assistant = True
                else:
                    if assistant:
                        if self.tokenizer is not None:
                            self.tally(_tokens.count_chat_tokens(msgs, self.tokenizer.count))
                        return
            before = self.error_count
            if "messages" not in obj and _infer_format(obj) not in (None, Format.CHAT):
                self.wrong_shape(obj)
                return
            self.checker.chat(obj)
            if self.tokenizer is not None and self.error_count == before:
                self.tally(
                    _tokens.count_chat_tokens(
                        obj["messages"], self.tokenizer.count, obj.get("tools")
                    )
                )
        elif fmt is Format.COMPLETIONS:
            p = obj.get("prompt")
            c = obj.get("completion")
            if not (type(p) is str and type(c) is str and len(obj) == 2):
                if "prompt" not in obj and "completion" not in obj and _infer_format(obj):
                    self.wrong_shape(obj)
                    return
                before = self.error_count
                self.checker.completions(obj)
                if self.error_count != before:
                    return
            if self.tokenizer is not None:
                count = self.tokenizer.count
                self.tally(count(obj["prompt"]) + count(obj["completion"]))
        elif fmt is Format.PREFERENCE:
            if "input" not in obj and "preferred_output" not in obj and _infer_format(obj):
                self.wrong_shape(obj)
                return
            before = self.error_count
            self.checker.preference(obj)
            if self.tokenizer is not None and self.error_count == before:
                count = self.tokenizer.count
                inp = obj["input"]
                base = _tokens.count_chat_tokens(
                    inp["messages"], count, inp.get("tools"), prime=False
                )
                out = max(
                    _tokens.count_chat_tokens(obj[k], count, prime=True)
                    for k in ("preferred_output", "non_preferred_output")
                )
                self.tally(base + out)
        else:
            if "messages" not in obj and _infer_format(obj):
                self.wrong_shape(obj)
                return
            before = self.error_count
            self.checker.reinforcement(obj)
            if self.tokenizer is not None and self.error_count == before:
                self.tally(
                    _tokens.count_chat_tokens(
                        obj["messages"], self.tokenizer.count, obj.get("tools")
                    )
                )

    def wrong_shape(self, obj: dict[str, Any]) -> None:
        got = _infer_format(obj)
        assert self.fmt is not None and got is not None
        where = f"inferred from line {self.fmt_line}" if self.fmt_line else "declared"
        self.issue(
            self.line,
            "$",
            f"this is a {got.value} example but the file is "
            f"{self.fmt.value} ({where}): use one format for the whole file",
            "error",
        )

    def tally(self, n: int) -> None:
        self.total_tokens += n
        if n > self.max_tokens:
            self.max_tokens = n
        limit = self.limit
        if n > limit:
            self.billed_tokens += limit
            assert self.tokenizer is not None
            approx = "" if self.tokenizer.exact else "about "
            self.issue(
                self.line,
                "$",
                f"example has {approx}{n:,} tokens, over the {limit:,} "
                f"token limit for {self.model or 'the default model'}: it will be "
                "truncated; shorten it or split it into several examples",
                "warning",
            )
        else:
            self.billed_tokens += n

    def finish(self) -> None:
        n = self.examples
        if n < MIN_EXAMPLES:
            line = max(self.line, 1)
            self.issue(
                line,
                "$",
                f"only {n} example{'s' if n != 1 else ''}: fine-tuning needs "
                f"at least {MIN_EXAMPLES}; add {MIN_EXAMPLES - n} more",
                "error",
            )


def validate_file(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    model: str | None = None,
    count_tokens: bool = True,
    max_errors: int = 20,
) -> ValidationReport:
    """Validates a JSONL fine-tuning file; see the module docstring."""
    fmt = Format(format) if format is not None else None
    v = _Validator(fmt, model, count_tokens, max_errors)
    sha, nbytes = v.run(path)
    v.finish()
    v.errors.sort(key=lambda i: i.line)
    v.warnings.sort(key=lambda i: i.line)
    tok = v.tokenizer
    epochs = estimate_epochs(v.examples)
    return ValidationReport(
        format=(v.fmt or Format.CHAT).value,
        example_count=v.examples,
        bytes=nbytes,
        sha256=sha,
        errors=v.errors,
        error_count=v.error_count,
        warnings=v.warnings,
        warning_count=v.warning_count,
        total_tokens=v.total_tokens if tok else None,
        max_example_tokens=v.max_tokens if tok else None,
        billed_tokens_estimate=v.billed_tokens * epochs if tok else None,
        default_epochs=epochs,
        tokenizer=tok.name if tok else None,
        model=model,
        token_limit=v.limit,
        path=os.fspath(path),
        line_count=v.line,
    )


def compare_files(
    train: str | os.PathLike[str],
    validation: str | os.PathLike[str],
    *,
    max_issues: int = 20,
) -> list[DataIssue]:
    """Warnings for validation-file lines that also appear in the training file.

    Lines are compared by a 64-bit digest of their bytes (trailing whitespace ignored). Each
    warning names the validation line and the training line; ``path`` is the validation file.
    At most ``max_issues`` warnings, plus one summarising the rest.
    """
    table = _DigestTable()
    for ln, raw in iter_lines(train):
        if raw is not None and raw and not raw.isspace():
            table.add(_digest(raw), ln)
    out: list[DataIssue] = []
    extra = 0
    for ln, raw in iter_lines(validation):
        if raw is None or not raw or raw.isspace():
            continue
        prev = table.contains(_digest(raw))
        if prev:
            if len(out) < max_issues:
                out.append(
                    DataIssue(
                        ln,
                        "$",
                        f"also in the training file at line {prev}: "
                        "validation examples should not be trained on; remove it "
                        "from one of the files",
                        "warning",
                    )
                )
            else:
                extra += 1
    if extra:
        out.append(
            DataIssue(
                out[-1].line,
                "$",
                f"... and {extra} more validation examples shared with the training file",
                "warning",
            )
        )
    return out
