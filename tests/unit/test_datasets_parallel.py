"""A large file validated in parts by worker processes gives the report of one pass, byte for byte:
the same counts, kept issues, line numbers and messages (duplicates across parts included)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.datasets import parallel, validate_file
from pulumi_finetune.datasets.formats import Format


def chat(i: int, words: int = 3) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": f"What is {i} + {i}? " + "word " * words},
            {"role": "assistant", "content": f"{2 * i}"},
        ]
    }


def tool_chat(i: int) -> dict[str, Any]:
    call = {"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    return {
        "messages": [
            {"role": "user", "content": f"Look up {i}"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"c{i}", "content": "{}"},
            {"role": "assistant", "content": "done"},
        ]
    }


def mixed_lines(n: int) -> list[bytes]:
    """``n`` lines with something to report all through: duplicates of lines of earlier parts
    (some repeated again within a later part), blank lines, broken JSON, wrong roles, weight 0,
    other formats, tool calls."""
    rows: list[bytes] = [b"not json", b'{"what": 1}']  # the format is inferred from line 3
    for i in range(n):
        if i % 97 == 5:
            rows.append(rows[2 + (i * 7) % max(1, len(rows) - 2)])  # a duplicate, anywhere
        elif i % 131 == 7:
            rows.append(b"")
        elif i % 151 == 9:
            rows.append(b'{"messages": [{"role": "bot", "content": "x"}]}')
        elif i % 173 == 11:
            rows.append(b'{"messages": [')
        elif i % 181 == 13:
            rows.append(json.dumps({"prompt": "p", "completion": f"c{i}"}).encode())
        elif i % 41 == 3:
            ex = chat(i)
            ex["messages"][2]["weight"] = 0
            rows.append(json.dumps(ex).encode())
        elif i % 23 == 1:
            rows.append(json.dumps(tool_chat(i)).encode())
        else:
            rows.append(json.dumps(chat(i, words=i % 50)).encode())
    return rows


def write(path: Path, rows: list[bytes], *, end: bytes = b"\n", bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + b"\n".join(rows) + end)
    return path


def in_parts_and_in_one_pass(
    monkeypatch: pytest.MonkeyPatch, path: Path, cpus: int, **kw: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: cpus)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    fmt = Format(kw["format"]) if kw.get("format") else None
    merged = parallel.validate_in_parts(
        path, fmt, kw.get("model"), kw.get("count_tokens", True), kw.get("max_errors", 20), None
    )
    assert merged is not None, "validated in one pass, not in parts"
    in_parts = validate_file(path, **kw).to_dict()
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1 << 62)
    one_pass = validate_file(path, **kw).to_dict()
    return in_parts, one_pass


@pytest.mark.parametrize("cpus", [2, 3, 5])
@pytest.mark.parametrize("max_errors", [3, 20, 1000])
def test_parts_report_what_one_pass_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpus: int, max_errors: int
) -> None:
    path = write(tmp_path / "mixed.jsonl", mixed_lines(3000))
    in_parts, one_pass = in_parts_and_in_one_pass(monkeypatch, path, cpus, max_errors=max_errors)
    assert in_parts == one_pass
    # the file exercises what spans parts: duplicates of lines far back, a late blank line
    dups = [w for w in one_pass["warnings"] if w["message"].startswith("duplicate of line 3:")]
    assert len(dups) >= min(max_errors, 2) or max_errors < 20
    assert one_pass["warning_count"] > 30 and one_pass["error_count"] > 40
    assert one_pass["line_count"] == 3002 and one_pass["total_tokens"] > 0


def test_duplicates_across_parts_name_the_first_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [json.dumps(chat(i)).encode() for i in range(400)]
    rows += rows[10:12] + rows[10:12]  # lines 401-404 repeat lines 11 and 12, in the last part
    path = write(tmp_path / "dups.jsonl", rows, end=b"")
    in_parts, one_pass = in_parts_and_in_one_pass(monkeypatch, path, 2)
    assert in_parts == one_pass
    assert [(w["line"], w["message"]) for w in in_parts["warnings"]] == [
        (401, "duplicate of line 11: remove one of them"),
        (402, "duplicate of line 12: remove one of them"),
        (403, "duplicate of line 11: remove one of them"),
        (404, "duplicate of line 12: remove one of them"),
    ]


@pytest.mark.parametrize(
    "kw",
    [
        {"format": "chat", "model": "babbage-002"},  # a file-level error from the start
        {"model": "no-such-model"},  # a file-level warning
        {"count_tokens": False},
        {"format": "completions"},  # every line the wrong shape
    ],
)
def test_file_level_issues_come_once_and_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kw: dict[str, Any]
) -> None:
    path = write(tmp_path / "mixed.jsonl", mixed_lines(800), bom=True)
    in_parts, one_pass = in_parts_and_in_one_pass(monkeypatch, path, 3, max_errors=5, **kw)
    assert in_parts == one_pass
    assert one_pass["errors"][0]["line"] in (0, 1)


def test_a_file_without_a_format_in_its_first_chunk_is_validated_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "junk.jsonl", [b"[1, 2]"] * 300_000)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    assert parallel.validate_in_parts(path, None, None, False, 20, None) is None
    report = validate_file(path, count_tokens=False)
    assert report.error_count == 300_000 and report.line_count == 300_000


def test_a_small_file_is_validated_in_one_pass(tmp_path: Path) -> None:
    path = write(tmp_path / "small.jsonl", [json.dumps(chat(i)).encode() for i in range(20)])
    assert parallel.validate_in_parts(path, None, None, False, 20, None) is None


def test_progress_reaches_the_file_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "mixed.jsonl", mixed_lines(2000))
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    seen: list[int] = []
    report = validate_file(path, progress=seen.append)
    assert seen and seen[-1] == report.bytes == path.stat().st_size
    assert seen == sorted(seen)


def test_a_worker_that_dies_leaves_the_file_to_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "mixed.jsonl", mixed_lines(500))
    expected = validate_file(path).to_dict()
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)

    def die(self: Any, k: int, send: Any) -> None:
        os._exit(1)  # as if killed (out of memory)

    monkeypatch.setattr(parallel._Run, "_work", die)
    assert parallel.validate_in_parts(path, None, None, True, 20, None) is None
    assert validate_file(path).to_dict() == expected
