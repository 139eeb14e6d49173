"""Waits in parallel: `pulumi up` of N waited jobs in one stack vs one waited job, same clock.

    python benchmarks/parallel_waits.py              # N=16, clock 2x (a job takes ~17 s)
    python benchmarks/parallel_waits.py -n 8 --clock 4

Each waited job gets its own provider process (Pulumi's dynamic-provider host serves 4 requests
at a time per process, and a wait holds one for the whole job). Pulumi itself runs at most
`--parallel` resource operations at once (default: 4 x CPU cores), so the N-job stack is run
both with the default and with `--parallel` raised to 2N, and the ratio N-jobs / 1-job wall
time is printed for each (target <= 1.3). While the N jobs wait, the resident memory (VmRSS) of
every dynamic-provider process of the run is sampled; the peak of their total is printed.
Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import Project, engine_dir, run_rss_kib, start_pulumi

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO / "tests" / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"
TARGET = 1.3


def program(n: int) -> dict[str, Any]:
    job = {
        "model": MODEL,
        "training_file": "@data",
        "wait_for_completion": True,
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 4}}},
    }
    return {
        "files": {"data": {"path": "train.jsonl"}},
        "jobs": {f"sweep-{i:02d}": {**job, "suffix": f"s{i}"} for i in range(n)},
    }


def provider_rss_kib(token: str) -> int:
    """Total VmRSS of this run's dynamic-provider processes."""
    return sum(run_rss_kib(token, b"pulumi.dynamic").values())


def timed_up(
    root: Path, engine: Path, server: LocalEndpoint, n: int, *extra: str
) -> tuple[float, int]:
    """Seconds of one `pulumi up` that creates and waits for n jobs; peak provider RSS (KiB)."""
    project = Project(root=root, engine=engine, endpoint_url=server.url, api_key=server.key)
    shutil.copy(DATASET, project.dir / "train.jsonl")
    project.write({"files": {"data": {"path": "train.jsonl"}}, "jobs": {}})
    project.pulumi("up", "--yes", "--skip-preview")  # the file first: only the jobs are timed
    project.write(program(n))
    peak = 0
    started = time.monotonic()
    run = start_pulumi(project, "up", "--yes", "--skip-preview", *extra)
    while run.process.poll() is None:
        peak = max(peak, provider_rss_kib(run.token))
        time.sleep(0.5)
    seconds = time.monotonic() - started
    if run.process.returncode != 0:
        raise SystemExit(f"pulumi up of {n} jobs failed:\n{run.output()[-3000:]}")
    jobs = [r for r in project.state_resources() if r["type"].endswith("finetune:FineTuningJob")]
    assert len(jobs) == n and all(r["outputs"]["status"] == "succeeded" for r in jobs)
    return seconds, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--jobs", type=int, default=16)
    parser.add_argument("--clock", type=float, default=2.0, help="endpoint clock speed")
    args = parser.parse_args()
    engine = engine_dir()
    root = Path(tempfile.mkdtemp(prefix="pf-parallel-"))
    try:
        with LocalEndpoint(data_dir=root / "endpoint", clock_speed=args.clock) as server:
            one, one_rss = timed_up(root / "one", engine, server, 1)
            default, default_rss = timed_up(root / "default", engine, server, args.jobs)
            wide, wide_rss = timed_up(
                root / "wide", engine, server, args.jobs, "--parallel", str(2 * args.jobs)
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    cpus = os.cpu_count() or 1
    print(f"\none waited job: {one:.1f} s (provider RSS {one_rss / 1024:.0f} MiB)")
    for label, seconds, rss in (
        (f"{args.jobs} jobs, default --parallel ({4 * cpus} on {cpus} CPUs)", default, default_rss),
        (f"{args.jobs} jobs, --parallel {2 * args.jobs}", wide, wide_rss),
    ):
        print(
            f"{label}: {seconds:.1f} s, ratio {seconds / one:.2f} "
            f"(target <= {TARGET}); peak provider RSS {rss / 1024:.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
