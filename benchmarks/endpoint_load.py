"""Load on the local endpoint: 50 client threads create and poll 500 jobs against a subprocess.

    python benchmarks/endpoint_load.py                      # one run, ~a minute
    python benchmarks/endpoint_load.py --repeat 3           # three fresh runs, medians last
    python benchmarks/endpoint_load.py --seconds 20 --clock-speed 20   # the older, shorter load
    python benchmarks/endpoint_load.py --processes 5        # 50 clients in 5 processes

Each of ``--threads`` workers takes the next of ``--jobs`` job numbers, creates the job, polls it
every 0.1 s until it ends, and takes the next, until the jobs or ``--seconds`` run out. The default
clock speed (6) makes a job last ~5.7 s, so 500 jobs keep 50 clients busy for about a minute.

The figures are honest about the load generator. The client runs in this process, 50 Python
threads sharing one GIL, on the same 2 cores as the server: a latency measured here includes the
client's own queueing. So, in the same run, ``--probe-threads`` threads of this process time a
trivial route (``GET /_local/stats``: routing, auth and a counter snapshot, no store) every
``--probe-interval`` seconds. What retrieve adds over that baseline is the store's share; the
baseline itself is HTTP, the server's threads and the client. ``--processes N`` spreads the
clients over N processes, so that they queue less behind one GIL (they still share the 2 cores).
CPU time of the server and of the clients over the run (cores used) shows who is using the
machine; the load average at the start shows the others.

Prints how many responses were 5xx (and other errors), p50/p90/p99/max of creates, retrieves and
the baseline, and the target check (no 5xx, retrieve p99 < 50 ms). Exit status 1 on any 5xx or
connection error. Every loop is bounded by the job count and the deadline.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import requests

from pulumi_finetune.local.server import start_subprocess

TARGET_P99_MS = 50.0


def _training_file(n: int = 12) -> bytes:
    lines = []
    for i in range(n):
        messages = [
            {"role": "user", "content": f"Question {i}?"},
            {"role": "assistant", "content": f"Answer {i}."},
        ]
        lines.append(json.dumps({"messages": messages}))
    return ("\n".join(lines) + "\n").encode()


def _process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@dataclass
class RunResult:
    elapsed: float
    statuses: Counter[str]
    final: Counter[str]
    create_ms: list[float]
    retrieve_ms: list[float]
    baseline_ms: list[float]
    client_cores: float
    server_cores: float | None
    load_before: float

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def figures(self) -> dict[str, float]:
        out = {
            "req/s": self.requests / self.elapsed,
            "5xx": float(self.statuses["5xx"]),
            "create p50": pct(self.create_ms, 50),
            "create p99": pct(self.create_ms, 99),
            "retrieve p50": pct(self.retrieve_ms, 50),
            "retrieve p90": pct(self.retrieve_ms, 90),
            "retrieve p99": pct(self.retrieve_ms, 99),
            "retrieve max": max(self.retrieve_ms, default=float("nan")),
            "baseline p50": pct(self.baseline_ms, 50),
            "baseline p90": pct(self.baseline_ms, 90),
            "baseline p99": pct(self.baseline_ms, 99),
            "client cores": self.client_cores,
            "server cores": float("nan") if self.server_cores is None else self.server_cores,
        }
        return out


@dataclass
class ClientSpec:
    """One load-generating process: its threads, probes and share of the job numbers."""

    url: str
    root: str
    key: str
    file_id: str
    jobs: range
    threads: int
    probes: int
    probe_interval: float
    deadline: float  # time.monotonic() value; the clock is system-wide on Linux


@dataclass
class ClientOutcome:
    statuses: Counter[str]
    final: Counter[str]
    create_ms: list[float]
    retrieve_ms: list[float]
    baseline_ms: list[float]
    cpu_seconds: float


def run_client(spec: ClientSpec) -> ClientOutcome:
    """Run one client's threads to the end; its measurements and CPU seconds."""
    headers = {"Authorization": f"Bearer {spec.key}"}
    lock = threading.Lock()
    next_job = iter(spec.jobs)
    statuses: Counter[str] = Counter()
    final: Counter[str] = Counter()
    retrieve_ms: list[float] = []
    create_ms: list[float] = []
    baseline_ms: list[float] = []
    done = threading.Event()
    deadline = spec.deadline

    def record(kind: list[float], start: float, status_code: int) -> None:
        elapsed_ms = (time.perf_counter() - start) * 1000
        with lock:
            kind.append(elapsed_ms)
            statuses[f"{status_code // 100}xx"] += 1

    def connection_error() -> None:
        with lock:
            statuses["connection error"] += 1

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
                    spec.url + "/fine_tuning/jobs",
                    json={"model": "gpt-4o-mini", "training_file": spec.file_id,
                          "metadata": {"bench": str(index)}},
                    timeout=30,
                )  # fmt: skip
            except requests.RequestException:
                connection_error()
                continue
            record(create_ms, start, r.status_code)
            if r.status_code != 200:
                continue
            job_id = r.json()["id"]
            status = "unknown"
            while time.monotonic() < deadline:
                start = time.perf_counter()
                try:
                    r = session.get(f"{spec.url}/fine_tuning/jobs/{job_id}", timeout=30)
                except requests.RequestException:
                    connection_error()
                    time.sleep(0.1)
                    continue
                record(retrieve_ms, start, r.status_code)
                if r.status_code == 200:
                    status = r.json()["status"]
                    if status in ("succeeded", "failed", "cancelled"):
                        break
                time.sleep(0.1)
            with lock:
                final[status] += 1

    def probe() -> None:
        session = requests.Session()
        session.headers.update(headers)
        while not done.is_set() and time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                r = session.get(spec.root + "/_local/stats", timeout=30)
            except requests.RequestException:
                connection_error()
            else:
                record(baseline_ms, start, r.status_code)
            done.wait(spec.probe_interval)

    cpu0 = time.process_time()
    workers = [threading.Thread(target=worker, daemon=True) for _ in range(spec.threads)]
    probes = [threading.Thread(target=probe, daemon=True) for _ in range(spec.probes)]
    for t in [*workers, *probes]:
        t.start()
    for t in workers:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + 30)
    done.set()
    for t in probes:
        t.join(timeout=35)
    return ClientOutcome(
        statuses, final, create_ms, retrieve_ms, baseline_ms, time.process_time() - cpu0
    )


def _split(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def run_once(args: argparse.Namespace) -> RunResult:
    key = "sk-bench"
    load_before = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_subprocess(Path(tmp) / "data", key=key, clock_speed=args.clock_speed) as proc,
    ):
        file_id = requests.post(
            proc.url + "/files",
            headers={"Authorization": f"Bearer {key}"},
            files={"file": ("train.jsonl", _training_file())},
            data={"purpose": "fine-tune"},
            timeout=30,
        ).json()["id"]
        n = args.processes
        first_job = 0
        specs = []
        for i in range(n):
            jobs = _split(args.jobs, n, i)
            specs.append(
                ClientSpec(
                    url=proc.url,
                    root=proc.root,
                    key=key,
                    file_id=file_id,
                    jobs=range(first_job, first_job + jobs),
                    threads=_split(args.threads, n, i),
                    probes=_split(args.probe_threads, n, i),
                    probe_interval=args.probe_interval,
                    deadline=0.0,
                )
            )
            first_job += jobs
        server_cpu0 = _process_cpu_seconds(proc.pid)
        started = time.monotonic()
        for spec in specs:
            spec.deadline = started + args.seconds
        if n == 1:
            outcomes = [run_client(specs[0])]
        else:
            context = multiprocessing.get_context("fork")
            with context.Pool(n) as pool:
                outcomes = pool.map(run_client, specs)
        elapsed = time.monotonic() - started
        server_cpu1 = _process_cpu_seconds(proc.pid)
        server_cores = (
            None
            if server_cpu0 is None or server_cpu1 is None
            else (server_cpu1 - server_cpu0) / elapsed
        )

    statuses: Counter[str] = Counter()
    final: Counter[str] = Counter()
    for o in outcomes:
        statuses.update(o.statuses)
        final.update(o.final)
    return RunResult(
        elapsed=elapsed,
        statuses=statuses,
        final=final,
        create_ms=[v for o in outcomes for v in o.create_ms],
        retrieve_ms=[v for o in outcomes for v in o.retrieve_ms],
        baseline_ms=[v for o in outcomes for v in o.baseline_ms],
        client_cores=sum(o.cpu_seconds for o in outcomes) / elapsed,
        server_cores=server_cores,
        load_before=load_before,
    )


def report(run: int, result: RunResult) -> None:
    f = result.figures()
    print(
        f"run {run}: elapsed={result.elapsed:.1f}s requests={result.requests}"
        f" ({f['req/s']:.0f}/s) load-before={result.load_before:.2f}"
        f" cpu: client={f['client cores']:.2f} server={f['server cores']:.2f} cores"
    )
    print(f"  responses: {dict(result.statuses)}  jobs finished: {dict(result.final)}")
    print(f"  create    p50={f['create p50']:6.1f}  p99={f['create p99']:6.1f} ms"
          f"  (n={len(result.create_ms)})")  # fmt: skip
    print(f"  retrieve  p50={f['retrieve p50']:6.1f}  p90={f['retrieve p90']:6.1f}"
          f"  p99={f['retrieve p99']:6.1f}  max={f['retrieve max']:6.1f} ms"
          f"  (n={len(result.retrieve_ms)})")  # fmt: skip
    print(f"  baseline  p50={f['baseline p50']:6.1f}  p90={f['baseline p90']:6.1f}"
          f"  p99={f['baseline p99']:6.1f} ms"
          f"  (GET /_local/stats, n={len(result.baseline_ms)})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--threads", type=int, default=50, help="clients, in all processes")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="spread the clients (and probes) over this many processes (less GIL queueing in"
        " the load generator; still the same 2 cores)",
    )
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clock-speed", type=float, default=6.0)
    parser.add_argument("--probe-threads", type=int, default=2)
    parser.add_argument("--probe-interval", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=1, help="fresh runs; medians are printed")
    args = parser.parse_args()
    if args.repeat < 1 or args.threads < 1 or not 1 <= args.processes <= args.threads:
        parser.error("--repeat and --threads must be at least 1, --processes 1 to --threads")

    print(
        f"threads={args.threads} jobs={args.jobs} seconds={args.seconds:g}"
        f" clock_speed={args.clock_speed:g} client processes={args.processes}"
        f" probes={args.probe_threads}"
        f" every {args.probe_interval:g}s, {os.cpu_count()} CPUs"
    )
    results = []
    for run in range(1, args.repeat + 1):
        result = run_once(args)
        report(run, result)
        results.append(result)

    figures = [r.figures() for r in results]
    median = {k: statistics.median(f[k] for f in figures) for k in figures[0]}
    if args.repeat > 1:
        print(f"median of {args.repeat} runs:")
        for name in ("create", "retrieve", "baseline"):
            print(
                f"  {name:9} p50={median[name + ' p50']:6.1f}  p99={median[name + ' p99']:6.1f} ms"
            )
        print(f"  req/s={median['req/s']:.0f}  cpu client={median['client cores']:.2f}"
              f" server={median['server cores']:.2f} cores")  # fmt: skip
    errors = sum(r.statuses["5xx"] + r.statuses["connection error"] for r in results)
    verdict = "met" if errors == 0 and median["retrieve p99"] < TARGET_P99_MS else "NOT met"
    print(
        f"target (no 5xx, retrieve p99 < {TARGET_P99_MS:g} ms): {verdict}"
        f" (5xx+connection errors={errors}, retrieve p99={median['retrieve p99']:.1f} ms,"
        f" baseline p99={median['baseline p99']:.1f} ms)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
