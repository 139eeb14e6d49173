"""Peak memory of uploading a large training file through the TrainingFile provider.

    python benchmarks/upload_memory.py               # 1 GB: multipart Uploads, 64 MiB parts
    python benchmarks/upload_memory.py --mb 100      # quick (seconds)
    python benchmarks/upload_memory.py --mb 100 --threshold-mb 512   # the one-request path

Generates a chat dataset of ``--mb`` MB (10^6 bytes) in a temporary directory, starts the local
endpoint as a subprocess (with ``--max-upload-bytes`` large enough for any part or file), and
uploads the dataset in a fresh child process through the provider's own path:
``TrainingFileProvider.create``, which streams the file in one ``POST /files`` up to the
threshold and uses the multipart Uploads API (parts in parallel, md5 at completion) above it.
Prints the file size next to the child's peak RSS (``ru_maxrss`` from ``wait4``), the peak RSS of
the same child that only imports and does not upload (the interpreter's floor), the time and the
throughput. Target: peak RSS under 100 MB for a 1 GB file. Everything is removed at the end; the
child is killed after ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MB = 1_000_000
MiB = 1024 * 1024
TARGET_RSS_MB = 100.0

_TEXT = (
    "the of and to in is you that it he was for on are as with his they at be this have from or "
    "one had by word but not what all were we when your can said there use an each which she do "
    "how their if will up other about out many then them these so some her would make like him"
)
WORDS = _TEXT.split()


def generate(path: Path, size: int, seed: int = 7) -> int:
    """A chat JSONL of at least `size` bytes, written 4 MiB at a time (lines differ)."""
    rng = random.Random(seed)
    written = 0
    i = 0
    with path.open("wb") as out:
        while written < size:
            block = bytearray()
            while len(block) < 4 * MiB and written + len(block) < size:
                words = " ".join(rng.choices(WORDS, k=40))
                line = {
                    "messages": [
                        {"role": "system", "content": "You are terse."},
                        {"role": "user", "content": f"[{i}] {words[:120]}?"},
                        {"role": "assistant", "content": words.capitalize() + "."},
                    ]
                }
                block += json.dumps(line).encode() + b"\n"
                i += 1
            out.write(block)
            written += len(block)
    return written


def child(args: argparse.Namespace) -> None:
    """Runs in the measured process: import, optionally upload, report."""
    from pulumi_finetune import datasets
    from pulumi_finetune.providers.file import TrainingFileProvider

    report: dict[str, Any] = {}
    if args.child_path:
        path = Path(args.child_path)
        started = time.perf_counter()
        digest, size = datasets.sha256_file(path)  # as check does, before create
        hashed = time.perf_counter()
        result = TrainingFileProvider().create(
            {
                "path": str(path),
                "purpose": "fine-tune",
                "filename": path.name,
                "sha256": digest,
                "bytes": size,
            }
        )
        done = time.perf_counter()
        outs = result.outs or {}
        report.update(
            file_id=result.id,
            bytes=outs.get("bytes"),
            status=outs.get("status"),
            hash_seconds=hashed - started,
            upload_seconds=done - hashed,
        )
    report["self_maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(report), flush=True)


def run_child(
    extra: list[str], env: dict[str, str], timeout: float
) -> tuple[dict[str, Any], float]:
    """Run this script in child mode; (its report, its peak RSS in MB from wait4)."""
    proc = subprocess.Popen(
        [sys.executable, __file__, *extra], stdout=subprocess.PIPE, env=env, text=True
    )
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            raise SystemExit(f"the upload did not finish within {timeout:.0f} s; killed it")
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stdout is not None
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"the child failed with exit code {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1024, help="dataset size in MB (10^6 B)")
    parser.add_argument("--threshold-mb", type=float, default=None, help="multipart above this")
    parser.add_argument("--part-mb", type=float, default=None, help="part size (default 64 MiB)")
    parser.add_argument("--parallelism", type=int, default=None, help="parts in flight")
    parser.add_argument("--timeout", type=float, default=900, help="kill the upload after this")
    parser.add_argument("--dir", default=None, help="where to write (default: a temp dir)")
    parser.add_argument("--child-path", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from pulumi_finetune import uploads
    from pulumi_finetune.local.server import start_subprocess

    size = int(args.mb * MB)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PULUMI_"))}
    if args.threshold_mb is not None:
        env[uploads.THRESHOLD_ENV] = str(int(args.threshold_mb * MB))
    if args.part_mb is not None:
        env[uploads.PART_SIZE_ENV] = str(int(args.part_mb * MB))
    if args.parallelism is not None:
        env[uploads.PARALLELISM_ENV] = str(args.parallelism)
    options = uploads.UploadOptions.from_env(env)

    with tempfile.TemporaryDirectory(prefix="upload-bench-", dir=args.dir) as tmp:
        data = Path(tmp) / "train.jsonl"
        t0 = time.perf_counter()
        size = generate(data, size)
        print(f"dataset      {size / MB:8.1f} MB  generated in {time.perf_counter() - t0:.1f} s")
        multipart = size > options.threshold
        parts = -(-size // options.part_size) if multipart else 0
        endpoint = start_subprocess(
            Path(tmp) / "endpoint",
            extra_args=["--max-upload-bytes", str(max(size, options.part_size) + MiB)],
        )
        try:
            env.update(OPENAI_BASE_URL=endpoint.url, OPENAI_API_KEY=endpoint.key)
            _, floor_mb = run_child(["--child"], env, timeout=60)
            report, peak_mb = run_child(
                ["--child", "--child-path", str(data)], env, timeout=args.timeout
            )
            routes = endpoint.stats()["by_route"]
        finally:
            endpoint.terminate()
    if report.get("bytes") != size:
        raise SystemExit(f"uploaded {report.get('bytes')} bytes, expected {size}")
    if multipart:
        got = routes.get("POST /v1/uploads/{upload_id}/parts", 0)
        assert got == parts, f"{got} part requests, expected {parts}"
        path = (
            f"multipart Uploads API: {parts} parts of {options.part_size / MiB:g} MiB, "
            f"{options.parallelism} in flight, md5 verified at /complete"
        )
    else:
        path = "one streamed POST /files"
    seconds = report["upload_seconds"]
    print(f"path         {path}")
    print(f"sha256 pass  {report['hash_seconds']:8.1f} s   (the provider's pre-upload check)")
    rate = size / MB / seconds
    print(f"upload       {seconds:8.1f} s   {rate:8.1f} MB/s   file {report['file_id']}")
    print(f"file size    {size / MB:8.1f} MB")
    print(f"peak RSS     {peak_mb:8.1f} MB   (uploading child, ru_maxrss)")
    print(f"floor RSS    {floor_mb:8.1f} MB   (same child, imports only)")
    verdict = "PASS" if peak_mb < TARGET_RSS_MB else "FAIL"
    print(f"target       < {TARGET_RSS_MB:.0f} MB peak RSS: {verdict}")
    if verdict == "FAIL":
        raise SystemExit(1)


if __name__ == "__main__":
    main()
