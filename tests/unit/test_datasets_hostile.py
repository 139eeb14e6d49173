"""Hostile and careless input to the validator: every case ends in a clear error that names the
line (or the file), within bounded memory and time, through ``validate_file`` and the CLI.

Memory is measured in a fresh subprocess (its own peak RSS, VmHWM, or that of its largest worker
process), so one test's allocations cannot hide another's.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.datasets import (
    DataFileError,
    compare_files,
    limits,
    sha256_file,
    validate_file,
)

MB = 1_000_000
#: The issue's bound for one 40 MB line (it took 560 MB before).
PEAK_RSS_LIMIT_MIB = 200


def chat(i: int) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": f"What is {i} + {i}?"},
            {"role": "assistant", "content": f"{2 * i}"},
        ]
    }


def write_lines(path: Path, lines: list[bytes]) -> Path:
    with path.open("wb") as f:
        for line in lines:
            f.write(line + b"\n")
    return path


def examples(n: int = 12) -> list[bytes]:
    return [json.dumps(chat(i)).encode() for i in range(n)]


# --------------------------------------------------------------------------------------------
# One huge line: bounded memory, an error that names the line


_CHILD = """
import json, resource, sys
from pulumi_finetune.datasets import validate_file

def peak_kib():
    # a file of 32 MB or more is validated in worker processes: the largest of them counts too
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return max(int(line.split()[1]), workers)
    raise RuntimeError("no VmHWM")

model = sys.argv[2] or None
r = validate_file(sys.argv[1], model=model, count_tokens=True)
print(json.dumps({
    "peak_kib": peak_kib(),
    "errors": [[i.line, i.message] for i in r.errors],
    "warnings": [[i.line, i.message] for i in r.warnings],
    "examples": r.example_count,
    "tokens": r.total_tokens,
}))
"""


def validate_in_child(path: Path, model: str | None) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), model or ""],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def with_big_line(tmp_path: Path, big: bytes) -> Path:
    lines = examples()
    lines.insert(5, big)  # line 6
    return write_lines(tmp_path / "big.jsonl", lines)


def text_line(size: int) -> bytes:
    ex = chat(99)
    ex["messages"][0]["content"] = "word " * (size // 5)
    return json.dumps(ex).encode()


def image_line(n_images: int, image_bytes: int) -> bytes:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * (image_bytes - 8)
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    parts = [{"type": "image_url", "image_url": {"url": url}} for _ in range(n_images)]
    ex = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What is this?"}, *parts]},
            {"role": "assistant", "content": "A picture."},
        ]
    }
    return json.dumps(ex).encode()


@pytest.mark.parametrize("model", [None, "gpt-4o-mini-2024-07-18"])
def test_a_40mb_text_line_is_refused_unparsed_in_bounded_memory(
    tmp_path: Path, model: str | None
) -> None:
    path = with_big_line(tmp_path, text_line(40 * MB))
    r = validate_in_child(path, model)
    assert r["peak_kib"] / 1024 < PEAK_RSS_LIMIT_MIB, r["peak_kib"]
    [(line, message)] = r["errors"]
    assert line == 6
    assert "40,000,0" in message and "split it into several examples" in message
    assert r["examples"] == 12


def test_a_40mb_line_of_valid_images_validates_in_bounded_memory(tmp_path: Path) -> None:
    # four images of 7.5 MB each (10 MB of base64): valid vision data, so the line is parsed
    path = with_big_line(tmp_path, image_line(4, 7_500_000))
    assert path.stat().st_size > 40 * MB
    r = validate_in_child(path, "gpt-4o-2024-08-06")
    assert r["peak_kib"] / 1024 < PEAK_RSS_LIMIT_MIB, r["peak_kib"]
    assert r["errors"] == [] and r["examples"] == 13


def test_a_line_of_millions_of_values_is_refused_before_parsing(tmp_path: Path) -> None:
    # 6 MB of empty objects: under the text bound, but two million dicts if parsed
    ex = chat(99)
    ex["messages"][0]["content"] = [{}] * 2_000_000
    path = with_big_line(tmp_path, json.dumps(ex, separators=(",", ":")).encode())
    r = validate_in_child(path, None)
    assert r["peak_kib"] / 1024 < PEAK_RSS_LIMIT_MIB, r["peak_kib"]
    [(line, message)] = r["errors"]
    assert line == 6 and "4,000,00" in message and "JSON values" in message


def test_a_line_past_any_example_is_dropped_as_it_is_read(tmp_path: Path) -> None:
    # 11 images of 10.4 MB: longer than any example can be; the reader holds at most
    # MAX_LINE_BYTES of it (the longest valid example, 10 images of 10 MB), never the line
    path = with_big_line(tmp_path, image_line(11, 10_400_000))
    r = validate_in_child(path, None)
    baseline_mib = 120  # interpreter, modules and the o200k tokenizer
    assert r["peak_kib"] / 1024 < baseline_mib + limits.MAX_LINE_BYTES / 2**20, r["peak_kib"]
    [(line, message)] = r["errors"]
    assert line == 6 and "over the" in message and "10 images of 10 MB" in message


# --------------------------------------------------------------------------------------------
# Deep nesting


def test_100k_deep_line_is_a_line_numbered_error(tmp_path: Path) -> None:
    deep = b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    lines = examples()
    lines[2] = deep
    report = validate_file(write_lines(tmp_path / "deep.jsonl", lines))
    assert [(i.line, i.path) for i in report.errors] == [(3, "$")]
    assert "nested too deeply" in report.errors[0].message


def test_nesting_that_parses_but_is_too_deep_to_count_is_an_error(tmp_path: Path) -> None:
    # deep enough to pass the parser, too deep for json.dumps when its tokens are counted
    params = b'{"a": ' * 980 + b"{}" + b"}" * 980
    tool = b'[{"type": "function", "function": {"name": "f", "parameters": ' + params + b"}}]"
    lines = examples()
    lines[4] = lines[4][:-1] + b', "tools": ' + tool + b"}"
    report = validate_file(write_lines(tmp_path / "deep.jsonl", lines))
    assert [(i.line, i.path) for i in report.errors] == [(5, "$")]
    assert "nested too deeply" in report.errors[0].message


# --------------------------------------------------------------------------------------------
# Only regular files are read


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.jsonl"
    os.mkfifo(path)
    return path


def _loop(tmp_path: Path) -> Path:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.symlink_to(b)
    b.symlink_to(a)
    return a


def _dev_zero_link(tmp_path: Path) -> Path:
    path = tmp_path / "zero.jsonl"
    path.symlink_to("/dev/zero")
    return path


NOT_REGULAR = {
    "fifo": (_fifo, "named pipe (FIFO), not a regular file"),
    "dev-zero": (lambda _: Path("/dev/zero"), "character device, not a regular file"),
    "link-to-dev-zero": (_dev_zero_link, "character device, not a regular file"),
    "symlink-loop": (_loop, "symbolic links"),
    "name-too-long": (lambda p: p / ("x" * 5000 + ".jsonl"), "file name is too long"),
    "directory": (lambda p: p, "a directory, not a regular file"),
    "missing": (lambda p: p / "nope.jsonl", "no such file"),
}


@pytest.mark.parametrize("case", sorted(NOT_REGULAR))
def test_not_a_regular_file_is_a_clear_error(tmp_path: Path, case: str) -> None:
    make, words = NOT_REGULAR[case]
    path = make(tmp_path)
    for read in (validate_file, sha256_file, lambda p: compare_files(p, p)):
        with pytest.raises(DataFileError) as exc:
            read(path)
        message = str(exc.value)
        assert words in message and "\n" not in message and len(message) < 300


@pytest.mark.parametrize("case", sorted(NOT_REGULAR))
def test_cli_refuses_a_non_regular_file_in_one_line(tmp_path: Path, case: str) -> None:
    make, words = NOT_REGULAR[case]
    path = make(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "pulumi_finetune.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,  # a FIFO that were opened for reading would block here
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("pulumi-finetune: error: ") and words in last


# --------------------------------------------------------------------------------------------
# Not UTF-8 JSON


@pytest.mark.parametrize(
    ("codec", "name"),
    [
        ("utf-16", "UTF-16 (little-endian)"),  # Python writes a BOM
        ("utf-16-le", "UTF-16 (little-endian)"),
        ("utf-16-be", "UTF-16 (big-endian)"),
        ("utf-32", "UTF-32 (little-endian)"),
        ("utf-32-le", "UTF-32 (little-endian)"),
        ("utf-32-be", "UTF-32 (big-endian)"),
    ],
)
def test_utf16_and_utf32_files_are_refused(tmp_path: Path, codec: str, name: str) -> None:
    text = "\n".join(json.dumps(chat(i)) for i in range(12)) + "\n"
    path = tmp_path / "wide.jsonl"
    path.write_bytes(text.encode(codec))
    report = validate_file(path)
    assert [(i.line, i.message) for i in report.errors] == [
        (
            1,
            f"the file is {name}, not UTF-8: OpenAI reads UTF-8 JSON; re-save it as UTF-8 "
            "(without a byte order mark)",
        )
    ]
    assert report.line_count >= 12


def test_a_utf16_line_in_a_utf8_file_is_named(tmp_path: Path) -> None:
    lines = examples()
    lines[7] = json.dumps(chat(7)).encode("utf-16-le")
    report = validate_file(write_lines(tmp_path / "mixed.jsonl", lines))
    assert [i.line for i in report.errors] == [8]
    assert "NUL bytes" in report.errors[0].message and "UTF-16" in report.errors[0].message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_number_literals_are_refused(tmp_path: Path, literal: str) -> None:
    lines = examples()
    lines[3] = lines[3][:-1] + f', "score": {literal}}}'.encode()
    report = validate_file(write_lines(tmp_path / "nan.jsonl", lines), count_tokens=False)
    assert [(i.line, i.path) for i in report.errors] == [(4, "$")]
    assert report.errors[0].message.startswith(f"{literal} is not a JSON number")


def test_lone_surrogate_escapes_still_parse_like_openai(tmp_path: Path) -> None:
    # msgspec refuses "\\ud800", Python's json (which OpenAI's checks read with) accepts it
    lines = examples()
    lines[0] = lines[0].replace(b"What", b"\\ud800What")
    report = validate_file(write_lines(tmp_path / "sur.jsonl", lines))
    assert report.ok, report.summary()
