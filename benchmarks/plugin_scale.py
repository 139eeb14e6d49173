"""50 jobs through the plugin: `pulumi up` and a no-op `pulumi preview`, timed, requests counted.

    python benchmarks/plugin_scale.py               # N=50, 3 rounds
    python benchmarks/plugin_scale.py -n 20 --rounds 5 [--readme]

Three YAML programs on the same CLI (v3.274.1) and machine, each in a fresh stack per round:
- `finetune`: N `finetune:index:FineTuningJob`s (no wait) on one `TrainingFile`, created first
  and not timed, against the local endpoint (its requests are counted by route);
- `trivial plugin`: N `benchecho:index:Echo`s of `trivial_plugin.py`, a Python plugin on the same
  gRPC stack whose create returns its inputs (what any Python plugin costs);
- `empty`: no resources (the CLI's and YAML host's own floor).
Printed: the median and range of each command's wall time, and the finetune program's requests
(`up`: the creates and the marker lookups; the no-op preview: none expected). With `--readme`, the
table replaces the README's `plugin-scale` block. Terraform with mkdev's provider is not measured
here: its module (github.com/mkdev-me/terraform-provider-openai) is not served by the Go module
proxy this project builds from. Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import trivial_plugin
from readme_block import replace_block

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO / "tests" / "data" / "valid" / "chat_12.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"
FILE = """  data:
    type: finetune:index:TrainingFile
    properties:
      path: train.jsonl
"""
JOB = """  job-{i:02d}:
    type: finetune:index:FineTuningJob
    properties:
      model: {model}
      trainingFile: ${{data.id}}
      suffix: s{i}
"""
ECHO = """  job-{i:02d}:
    type: benchecho:index:Echo
    properties:
      model: {model}
      trainingFile: file-bench
      suffix: s{i}
"""


def program(kind: str, n: int) -> str:
    if kind == "empty":
        return "resources: {}\n"
    if kind == "trivial plugin":
        return "resources:\n" + "".join(ECHO.format(i=i, model=MODEL) for i in range(n))
    return "resources:\n" + FILE + "".join(JOB.format(i=i, model=MODEL) for i in range(n))


def timed(project: PluginProject, *args: str) -> float:
    started = time.perf_counter()
    project.pulumi(*args)
    return time.perf_counter() - started


def one_round(
    root: Path, hosts: Path, server: LocalEndpoint, kind: str, n: int
) -> tuple[float, float, dict[str, int], dict[str, int]]:
    """(up seconds, no-op preview seconds, up's requests by route, preview's requests)."""
    project = PluginProject(
        root=root, engine=hosts, endpoint_url=server.url, api_key=server.key, program=""
    )
    api = EndpointClient(server.url, server.key)
    trivial_plugin.install(Path(project.env["PULUMI_HOME"]))
    if kind == "finetune":
        shutil.copy(DATASET, project.dir / "train.jsonl")
        project.write_program("resources:\n" + FILE)
        project.up()  # the file first: only the jobs are timed
    project.write_program(program(kind, n))
    api.reset_stats()
    up = timed(project, "up", "--yes", "--skip-preview")
    up_requests: dict[str, int] = api.stats()["by_route"]
    api.reset_stats()
    preview = timed(project, "preview", "--expect-no-changes")
    preview_requests: dict[str, int] = api.stats()["by_route"]
    project.destroy()
    project.cleanup()
    return up, preview, up_requests, preview_requests


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", "--jobs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--readme", action="store_true", help="write the README's block")
    args = parser.parse_args()
    hosts = language_hosts_dir()
    root = Path(tempfile.mkdtemp(prefix="pf-plugin-scale-"))
    kinds = ("finetune", "trivial plugin", "empty")
    ups: dict[str, list[float]] = {k: [] for k in kinds}
    previews: dict[str, list[float]] = {k: [] for k in kinds}
    requests: tuple[dict[str, int], dict[str, int]] = ({}, {})
    try:
        with LocalEndpoint(data_dir=root / "endpoint", clock_speed=1.0) as server:
            for r in range(args.rounds):
                for kind in kinds:
                    up, preview, up_req, preview_req = one_round(
                        root / f"{r}-{kind.replace(' ', '-')}", hosts, server, kind, args.jobs
                    )
                    ups[kind].append(up)
                    previews[kind].append(preview)
                    if kind == "finetune":
                        requests = (up_req, preview_req)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    up_req, preview_req = requests
    lines = [
        f"| {args.jobs} resources, YAML, CLI v3.274.1 | `pulumi up` | no-op `pulumi preview` |",
        "|---|---|---|",
    ]
    for kind in kinds:
        lines.append(f"| {kind} | {spread(ups[kind])} | {spread(previews[kind])} |")
    lines += [
        "",
        f"Requests of the finetune program: `pulumi up` {sum(up_req.values())} "
        f"({', '.join(f'{route}: {n}' for route, n in sorted(up_req.items()))}); "
        f"no-op `pulumi preview` {sum(preview_req.values())}. Median (min-max) of "
        f"{args.rounds} rounds on {platform.machine()} with {_cores()} cores "
        f"(`benchmarks/plugin_scale.py`).",
    ]
    table = "\n".join(lines)
    print("\n" + table)
    if args.readme:
        replace_block("plugin-scale", table)
    return 0


def _cores() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main())
