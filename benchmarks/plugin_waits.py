"""One process for every wait: `pulumi up` of N waited jobs through the provider plugin vs one.

    python benchmarks/plugin_waits.py              # N=16, clock 2x (a job takes ~17 s)
    python benchmarks/plugin_waits.py -n 8 --clock 4

A YAML program declares N waited jobs on one training file; the plugin (`finetune`) serves
them all from one process, each wait in a thread of its pool. The N-job stack runs with
`--parallel 2N` (Pulumi's own cap on concurrent resource operations). Printed: the wall time of
the N-job `pulumi up` over the 1-job one (target <= 1.3), the peak total resident memory (VmRSS)
of the run's provider processes while the jobs wait (target <= 150 MiB), and how many provider
processes there were. The Python face's figures: benchmarks/parallel_waits.py. Prints figures
only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import run_rss_kib, start_pulumi
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO / "tests" / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"
RATIO_TARGET = 1.3
RSS_TARGET_MIB = 150
FILE = """resources:
  data:
    type: finetune:index:TrainingFile
    properties:
      path: train.jsonl
"""
JOB = """  sweep-{i:02d}:
    type: finetune:index:FineTuningJob
    properties:
      model: {model}
      trainingFile: ${{data.id}}
      suffix: s{i}
      waitForCompletion: true
      method:
        type: supervised
        supervised:
          hyperparameters:
            n_epochs: 4
"""


def program(n: int) -> str:
    return FILE + "".join(JOB.format(i=i, model=MODEL) for i in range(n))


def provider_processes(token: str) -> dict[int, int]:
    """pid -> VmRSS (KiB) of this run's plugin processes."""
    return run_rss_kib(token, b"pulumi_finetune.plugin")


def timed_up(
    root: Path, hosts: Path, server: LocalEndpoint, n: int, *extra: str
) -> tuple[float, int, int]:
    """Seconds of one `pulumi up` that creates and waits for n jobs; peak provider RSS (KiB);
    the number of provider processes seen."""
    project = PluginProject(
        root=root, engine=hosts, endpoint_url=server.url, api_key=server.key, program=FILE
    )
    shutil.copy(DATASET, project.dir / "train.jsonl")
    project.pulumi("up", "--yes", "--skip-preview")  # the file first: only the jobs are timed
    project.write_program(program(n))
    peak, pids = 0, set()
    started = time.monotonic()
    run = start_pulumi(project, "up", "--yes", "--skip-preview", *extra)
    while run.process.poll() is None:
        seen = provider_processes(run.token)
        pids |= set(seen)
        peak = max(peak, sum(seen.values()))
        time.sleep(0.25)
    seconds = time.monotonic() - started
    if run.process.returncode != 0:
        raise SystemExit(f"pulumi up of {n} jobs failed:\n{run.output()[-3000:]}")
    jobs = [r for r in project.state_resources() if r["type"] == "finetune:index:FineTuningJob"]
    assert len(jobs) == n and all(r["outputs"]["status"] == "succeeded" for r in jobs)
    return seconds, peak, len(pids)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", "--jobs", type=int, default=16)
    parser.add_argument("--clock", type=float, default=2.0, help="endpoint clock speed")
    args = parser.parse_args()
    hosts = language_hosts_dir()
    root = Path(tempfile.mkdtemp(prefix="pf-plugin-waits-"))
    wide = ("--parallel", str(2 * args.jobs))
    try:
        with LocalEndpoint(data_dir=root / "endpoint", clock_speed=args.clock) as server:
            one, one_rss, one_procs = timed_up(root / "one", hosts, server, 1, *wide)
            many, many_rss, many_procs = timed_up(root / "many", hosts, server, args.jobs, *wide)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"\none waited job: {one:.1f} s; {one_procs} provider process, "
        f"peak RSS {one_rss / 1024:.0f} MiB"
    )
    print(
        f"{args.jobs} waited jobs, --parallel {2 * args.jobs}: {many:.1f} s, ratio "
        f"{many / one:.2f} (target <= {RATIO_TARGET}); {many_procs} provider process(es), "
        f"peak RSS {many_rss / 1024:.0f} MiB (target <= {RSS_TARGET_MIB})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
