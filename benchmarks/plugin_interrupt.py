"""The first Ctrl-C through the provider plugin: seconds from one SIGINT to `pulumi up`'s exit.

    python benchmarks/plugin_interrupt.py            # 3 waited jobs, 5 runs
    python benchmarks/plugin_interrupt.py -n 8 --runs 3

A YAML program declares N waited jobs on a real-time endpoint clock (each would take ~35 s);
once every job shows its progress, `pulumi up` gets one SIGINT, as a terminal's Ctrl-C sends
it. Printed per run: seconds until `pulumi up` exited, provider processes left 1 s later, the
jobs' statuses at the endpoint (none cancelled) and the jobs the state records (as partially
created). The Python face needs a second Ctrl-C (design.md, "Known limits"). Prints figures
only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from plugin_waits import DATASET, FILE, program  # type: ignore[import-not-found]

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient, start_pulumi
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir


def one_run(root: Path, hosts: Path, jobs: int) -> tuple[float, int, Counter[str], int]:
    with LocalEndpoint(data_dir=root / "endpoint", clock_speed=1.0) as server:
        api = EndpointClient(server.url, server.key)
        project = PluginProject(
            root=root, engine=hosts, endpoint_url=server.url, api_key=server.key, program=FILE
        )
        shutil.copy(DATASET, project.dir / "train.jsonl")
        project.pulumi("up", "--yes", "--skip-preview")
        project.write_program(program(jobs))
        run = start_pulumi(project, "up", "--yes", "--skip-preview", "--parallel", str(2 * jobs))
        deadline = time.monotonic() + 120
        while run.output().count("Ctrl-C stops waiting") < jobs:
            if time.monotonic() > deadline or run.process.poll() is not None:
                raise SystemExit(f"the jobs did not start waiting:\n{run.output()[-3000:]}")
            time.sleep(0.05)
        sent = time.monotonic()
        run.process.send_signal(signal.SIGINT)
        run.process.wait(timeout=120)
        seconds = time.monotonic() - sent
        time.sleep(1.0)
        left = len(run.leftovers())
        statuses = Counter(str(job["status"]) for job in api.jobs())
        recorded = sum(
            1
            for r in project.state_resources()
            if r["type"] == "finetune:index:FineTuningJob" and r.get("initErrors")
        )
        run.kill_leftovers()
        return seconds, left, statuses, recorded


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", "--jobs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    hosts = language_hosts_dir()
    times = []
    for i in range(args.runs):
        root = Path(tempfile.mkdtemp(prefix="pf-interrupt-"))
        try:
            seconds, left, statuses, recorded = one_run(root, hosts, args.jobs)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        times.append(seconds)
        print(
            f"run {i + 1}: exit {seconds:.2f} s after one SIGINT; {left} processes left; "
            f"jobs {dict(statuses)}; {recorded} recorded as partially created"
        )
    print(
        f"\n{args.jobs} waited jobs, {args.runs} runs: SIGINT to exit median "
        f"{statistics.median(times):.2f} s, max {max(times):.2f} s (target <= 5 s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
