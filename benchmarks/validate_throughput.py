"""Throughput and memory of ``validate_file`` against two baselines measured in the same run.

    python benchmarks/validate_throughput.py            # 200 MB dataset, 1 GB for peak RSS
    python benchmarks/validate_throughput.py --mb 20    # quick (well under a minute)

Prints MB/s of:
  * a bare loop of ``json.loads`` over the lines (the floor any validator pays),
  * ``validate_file(count_tokens=False)`` and ``validate_file(count_tokens=True)``, as it runs
    (a file of 32 MB or more in parts, one worker process per usable CPU) and in one pass,
  * per-line ``jsonschema`` validation of the same chat rules (measured on the first
    ``--schema-mb`` MB only: it is slow),
and the ratios against the targets, then the peak RSS (VmHWM, or the largest worker's) of
validating, in a fresh subprocess, a ``--rss-mb`` file with one bad line in the middle, and files
with one ``--line-mb`` line (text, refused; images, valid) among small ones, tokens on. Files are
written to a temporary directory.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MB = 1_000_000

WORDS = " ".join(
    [
        "the of and to in is you that it he was for on are as with his they at be this have from",
        "or one had by word but not what all were we when your can said there use an each which",
        "she do how their if will up other about out many then them these so some her would make",
        "like him into time has look two more write go see number no way could people my than",
        "first water been call who oil its now find long down day did get come made may part",
        "capital country answer",
    ]
).split()


def _text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(lo, hi))).capitalize() + "."


def _example(rng: random.Random, i: int) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a helpful assistant. " + _text(rng, 5, 20)},
    ]
    for turn in range(rng.randint(1, 3)):
        messages.append({"role": "user", "content": f"[{i}.{turn}] " + _text(rng, 10, 60)})
        reply: dict[str, Any] = {"role": "assistant", "content": _text(rng, 20, 120)}
        if turn == 0 and rng.random() < 0.1:
            reply["weight"] = 0
        messages.append(reply)
    ex: dict[str, Any] = {"messages": messages}
    if rng.random() < 0.05:  # a few tool-calling examples take the detailed path
        call = {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": "lookup", "arguments": json.dumps({"q": _text(rng, 2, 5)})},
        }
        messages.insert(2, {"role": "assistant", "content": None, "tool_calls": [call]})
        messages.insert(3, {"role": "tool", "tool_call_id": f"call_{i}", "content": "{}"})
        ex["tools"] = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
    return ex


def generate(path: Path, mb: float, *, seed: int = 0, bad_line_at: float | None = None) -> int:
    """Writes about ``mb`` MB of unique chat examples; returns the line count."""
    rng = random.Random(seed)
    target = int(mb * MB)
    written = 0
    n = 0
    bad_at = None
    with path.open("wb") as f:
        buf: list[bytes] = []
        while written < target:
            n += 1
            if bad_line_at is not None and bad_at is None and written >= target * bad_line_at:
                bad_at = n
                line = b'{"messages": [{"role": "bot", "content": "broken"}]}\n'
            else:
                line = json.dumps(_example(rng, n)).encode() + b"\n"
            buf.append(line)
            written += len(line)
            if len(buf) >= 4096:
                f.write(b"".join(buf))
                buf.clear()
        f.write(b"".join(buf))
    return n


# --------------------------------------------------------------------------------------------
# Baselines


def bare_json_loop(path: Path, limit: int | None = None) -> int:
    loads = json.loads
    n = 0
    with path.open("rb") as f:
        for line in f:
            loads(line)
            n += len(line)
            if limit is not None and n >= limit:
                break
    return n


CHAT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["messages"],
    "additionalProperties": False,
    "properties": {
        "messages": {
            "type": "array",
            "minItems": 1,
            "contains": {"type": "object", "properties": {"role": {"const": "assistant"}}},
            "items": {
                "type": "object",
                "required": ["role"],
                "additionalProperties": False,
                "properties": {
                    "role": {"enum": ["system", "user", "assistant", "tool", "function"]},
                    "content": {
                        "anyOf": [
                            {"type": "string"},
                            {"type": "null"},
                            {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["type"],
                                    "properties": {"type": {"enum": ["text", "image_url"]}},
                                },
                            },
                        ]
                    },
                    "name": {"type": "string"},
                    "weight": {"enum": [0, 1]},
                    "tool_call_id": {"type": "string"},
                    "tool_calls": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "type", "function"],
                            "properties": {
                                "id": {"type": "string"},
                                "type": {"const": "function"},
                                "function": {
                                    "type": "object",
                                    "required": ["name", "arguments"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "arguments": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                    "function_call": {"type": "object"},
                    "refusal": {"type": ["string", "null"]},
                },
                "allOf": [
                    {
                        "if": {"properties": {"role": {"const": "tool"}}},
                        "then": {"required": ["tool_call_id"]},
                    },
                    {
                        "if": {"properties": {"role": {"not": {"const": "assistant"}}}},
                        "then": {"required": ["content"], "not": {"required": ["weight"]}},
                    },
                ],
            },
        },
        "tools": {"type": "array"},
        "parallel_tool_calls": {"type": "boolean"},
        "functions": {"type": "array"},
    },
}


def jsonschema_loop(path: Path, limit: int | None = None) -> int:
    import jsonschema

    validator = jsonschema.Draft202012Validator(CHAT_SCHEMA)
    loads = json.loads
    n = 0
    errors = 0
    with path.open("rb") as f:
        for line in f:
            for _ in validator.iter_errors(loads(line)):
                errors += 1
            n += len(line)
            if limit is not None and n >= limit:
                break
    return n


# --------------------------------------------------------------------------------------------


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = fn()
    return time.perf_counter() - t0, n


def best_of(repeat: int, fn: Callable[[], int]) -> tuple[float, int]:
    runs = [timed(fn) for _ in range(repeat)]
    return min(runs)


_CHILD = """
import json, resource, sys, time
from pulumi_finetune.datasets import parallel, validate_file

if sys.argv[3] == "1":
    parallel.PARALLEL_MIN_BYTES = 1 << 62

def peak_kib():
    # VmHWM is this process's own peak (ru_maxrss would include the parent's, kept over exec);
    # a large file is validated in forked workers, whose largest peak counts too
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return max(int(line.split()[1]), workers)
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

base = peak_kib()
t0 = time.perf_counter()
r = validate_file(sys.argv[1], count_tokens=sys.argv[2] == "1")
elapsed = time.perf_counter() - t0
print(json.dumps({
    "elapsed": elapsed, "bytes": r.bytes, "peak_kib": peak_kib(), "import_kib": base,
    "errors": [str(e) for e in r.errors[:3]], "error_count": r.error_count,
    "examples": r.example_count, "tokenizer": r.tokenizer, "total_tokens": r.total_tokens,
}))
"""


def one_big_line(path: Path, mb: float, kind: str) -> None:
    """12 small chat examples with one ``mb`` MB line at line 6: a text message, or images
    (base64 PNG data URLs of 7.5 MB each, valid vision data)."""
    rng = random.Random(2)
    big: dict[str, Any] = {"messages": [{"role": "user"}, {"role": "assistant", "content": "ok"}]}
    if kind == "text":
        big["messages"][0]["content"] = "word " * int(mb * MB / 5)
    else:
        png = b"\x89PNG\r\n\x1a\n" + bytes(7_500_000 - 8)
        url = "data:image/png;base64," + base64.b64encode(png).decode()
        n = max(1, round(mb * MB / len(url)))
        big["messages"][0]["content"] = [
            {"type": "image_url", "image_url": {"url": url}} for _ in range(n)
        ]
    rows = [json.dumps(_example(rng, i)).encode() for i in range(12)]
    rows.insert(5, json.dumps(big).encode())
    path.write_bytes(b"\n".join(rows) + b"\n")


def child_run(path: Path, tokens: bool, *, one_pass: bool = False) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), "1" if tokens else "0", "1" if one_pass else "0"],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--mb", type=float, default=200, help="dataset size in MB (default 200)")
    p.add_argument(
        "--rss-mb",
        type=float,
        default=None,
        help="size of the file for the peak-RSS run (default 1000, or 5 x --mb when --mb < 200)",
    )
    p.add_argument(
        "--schema-mb",
        type=float,
        default=None,
        help="MB measured for the jsonschema baseline (default min(--mb, 10))",
    )
    p.add_argument("--repeat", type=int, default=1, help="best of N for the fast loops")
    p.add_argument("--dir", type=Path, default=None, help="where to write the files (temp dir)")
    p.add_argument("--no-rss", action="store_true", help="skip the peak-RSS runs")
    p.add_argument(
        "--line-mb", type=float, default=40, help="size of the one long line (default 40)"
    )
    args = p.parse_args(argv)

    rss_mb = args.rss_mb if args.rss_mb is not None else (1000 if args.mb >= 200 else 5 * args.mb)
    schema_mb = args.schema_mb if args.schema_mb is not None else min(args.mb, 10.0)

    from pulumi_finetune.datasets import parallel, validate_file

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        data = Path(tmp) / "train.jsonl"
        t0 = time.perf_counter()
        lines = generate(data, args.mb)
        size = data.stat().st_size
        print(
            f"dataset: {size / MB:.1f} MB, {lines:,} chat examples "
            f"(generated in {time.perf_counter() - t0:.1f} s)"
        )
        mbs = size / MB

        def validate_no_tokens() -> int:
            r = validate_file(data, count_tokens=False)
            assert r.ok, r.summary()
            return r.bytes

        def validate_no_tokens_one_pass() -> int:
            saved = parallel.PARALLEL_MIN_BYTES
            parallel.PARALLEL_MIN_BYTES = 1 << 62
            try:
                return validate_no_tokens()
            finally:
                parallel.PARALLEL_MIN_BYTES = saved

        bare_t, _ = best_of(args.repeat, lambda: bare_json_loop(data))
        val_t, _ = best_of(args.repeat, validate_no_tokens)
        one_t, _ = best_of(args.repeat, validate_no_tokens_one_pass)
        schema_t, schema_n = timed(lambda: jsonschema_loop(data, int(schema_mb * MB)))
        tok_run = child_run(data, tokens=True)
        tok_one = child_run(data, tokens=True, one_pass=True)

        bare = mbs / bare_t
        val = mbs / val_t
        schema = schema_n / MB / schema_t
        tok_speed = tok_run["bytes"] / MB / tok_run["elapsed"]
        cpus = parallel.usable_cpus()
        rows = [
            ("bare json.loads loop", bare),
            (f"validate_file, tokens off ({cpus} CPUs)", val),
            ("validate_file, tokens off, one pass", mbs / one_t),
            (f"validate_file, tokens on ({tok_run['tokenizer']}, {cpus} CPUs)", tok_speed),
            ("validate_file, tokens on, one pass", tok_one["bytes"] / MB / tok_one["elapsed"]),
            (f"jsonschema per line ({schema_n / MB:.0f} MB sample)", schema),
        ]
        print()
        for name, speed in rows:
            print(f"  {name:<46} {speed:8.1f} MB/s")
        print()
        print(f"  validate (tokens off) / bare json.loads : {val / bare:5.2f}  (target >= 1.50)")
        print(f"  validate (tokens off) / jsonschema      : {val / schema:5.1f}x (target >= 10x)")
        print(
            f"  validate (tokens on)  / bare json.loads : {tok_speed / bare:5.2f}  (target >= 0.25)"
        )
        print(
            f"  tokens-on run: {tok_run['total_tokens']:,} tokens, peak RSS "
            f"{tok_run['peak_kib'] / 1024:.0f} MiB "
            f"(after imports {tok_run['import_kib'] / 1024:.0f} MiB)"
        )

        if not args.no_rss:
            data.unlink()
            big = Path(tmp) / "big.jsonl"
            t0 = time.perf_counter()
            generate(big, rss_mb, seed=1, bad_line_at=0.5)
            gen_t = time.perf_counter() - t0
            r = child_run(big, tokens=False)
            print()
            print(
                f"peak RSS validating {r['bytes'] / MB:,.0f} MB ({r['examples']:,} examples, "
                f"generated in {gen_t:.0f} s), tokens off: {r['peak_kib'] / 1024:.0f} MiB "
                f"in {r['elapsed']:.1f} s ({r['bytes'] / MB / r['elapsed']:.0f} MB/s)"
            )
            print(f"  (after imports {r['import_kib'] / 1024:.0f} MiB)")
            print(f"  reported: {r['error_count']} error(s): {'; '.join(r['errors'])}")
            big.unlink()
            print()
            for kind in ("text", "images"):
                line_file = Path(tmp) / f"line-{kind}.jsonl"
                one_big_line(line_file, args.line_mb, kind)
                r = child_run(line_file, tokens=True)
                verdict = f"{r['error_count']} error(s)" + (
                    f": {r['errors'][0][:90]}..." if r["errors"] else ""
                )
                print(
                    f"peak RSS, one {line_file.stat().st_size / MB:.0f} MB line of {kind}, "
                    f"tokens on: {r['peak_kib'] / 1024:.0f} MiB in {r['elapsed']:.1f} s "
                    f"(target < 200 MB); {verdict}"
                )
                line_file.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
