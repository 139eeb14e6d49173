"""Load on the local endpoint: 50 client threads create and poll 500 jobs against a subprocess.

Run: ``python benchmarks/endpoint_load.py [--threads 50] [--jobs 500] [--seconds 60]``.
Prints how many responses were 5xx (and other errors) and the p50/p99 latency of job retrieves.
Every loop is bounded by the job count and the deadline, so the run always stops by itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from pulumi_finetune.local.server import start_subprocess


def _training_file(n: int = 12) -> bytes:
    lines = []
    for i in range(n):
        messages = [
            {"role": "user", "content": f"Question {i}?"},
            {"role": "assistant", "content": f"Answer {i}."},
        ]
        lines.append(json.dumps({"messages": messages}))
    return ("\n".join(lines) + "\n").encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clock-speed", type=float, default=20.0)
    args = parser.parse_args()

    key = "sk-bench"
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_subprocess(Path(tmp) / "data", key=key, clock_speed=args.clock_speed) as proc,
    ):
        headers = {"Authorization": f"Bearer {key}"}
        file_id = requests.post(
            proc.url + "/files",
            headers=headers,
            files={"file": ("train.jsonl", _training_file())},
            data={"purpose": "fine-tune"},
            timeout=30,
        ).json()["id"]

        lock = threading.Lock()
        next_job = iter(range(args.jobs))
        statuses: Counter[str] = Counter()
        final: Counter[str] = Counter()
        retrieve_ms: list[float] = []
        create_ms: list[float] = []
        deadline = time.monotonic() + args.seconds

        def worker() -> None:
            session = requests.Session()
            session.headers.update(headers)
            while time.monotonic() < deadline:
                with lock:
                    index = next(next_job, None)
                if index is None:
                    return
                start = time.perf_counter()
                try:
                    r = session.post(
                        proc.url + "/fine_tuning/jobs",
                        json={"model": "gpt-4o-mini", "training_file": file_id,
                              "metadata": {"bench": str(index)}},
                        timeout=30,
                    )  # fmt: skip
                except requests.RequestException:
                    with lock:
                        statuses["connection error"] += 1
                    continue
                with lock:
                    create_ms.append((time.perf_counter() - start) * 1000)
                    statuses[f"{r.status_code // 100}xx"] += 1
                if r.status_code != 200:
                    continue
                job_id = r.json()["id"]
                status = "unknown"
                while time.monotonic() < deadline:
                    start = time.perf_counter()
                    try:
                        r = session.get(f"{proc.url}/fine_tuning/jobs/{job_id}", timeout=30)
                    except requests.RequestException:
                        with lock:
                            statuses["connection error"] += 1
                        continue
                    with lock:
                        retrieve_ms.append((time.perf_counter() - start) * 1000)
                        statuses[f"{r.status_code // 100}xx"] += 1
                    if r.status_code == 200:
                        status = r.json()["status"]
                        if status in ("succeeded", "failed", "cancelled"):
                            break
                    time.sleep(0.1)
                with lock:
                    final[status] += 1

        started = time.monotonic()
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 30)
        elapsed = time.monotonic() - started

    def pct(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]

    total = sum(statuses.values())
    print(f"threads={args.threads} jobs={args.jobs} clock_speed={args.clock_speed:g}"
          f" elapsed={elapsed:.1f}s requests={total} ({total / elapsed:.0f}/s)")  # fmt: skip
    print(f"responses: {dict(statuses)}  5xx={statuses['5xx']}")
    print(f"jobs finished: {dict(final)}")
    print(f"create   p50={pct(create_ms, 50):.1f} ms  p99={pct(create_ms, 99):.1f} ms")
    print(f"retrieve p50={pct(retrieve_ms, 50):.1f} ms  p99={pct(retrieve_ms, 99):.1f} ms"
          f"  (n={len(retrieve_ms)})")  # fmt: skip
    return 1 if statuses["5xx"] or statuses["connection error"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
