"""Where a no-op `pulumi preview` of N jobs through the plugin spends its time beyond a trivial
plugin's: four YAML stacks of N resources, previewed in turn, many times, in one run.

    python benchmarks/plugin_preview_parts.py             # N=50, 10 previews each
    python benchmarks/plugin_preview_parts.py -n 20 --repeat 15

- `finetune`: N FineTuningJobs on one TrainingFile through the plugin (as `plugin_scale.py`);
- `finetune, no-op Check/Diff`: the same stack and plugin process, whose Check and Diff do no
  work (`shaped_plugin.py noop`): the difference to `finetune` is our Check and Diff;
- `shaped`: N resources of FineTuningJob's schema and recorded outputs with the trivial plugin's
  work (`shaped_plugin.py shaped`): the difference to the trivial plugin is what Pulumi's engine
  and YAML host spend on a resource of that shape;
- `trivial plugin`: N `benchecho:index:Echo`s (`trivial_plugin.py`).
Printed: each stack's median preview time and its median ratio to the trivial plugin's preview
taken just after it (the machine is shared: pairs taken together move together). Every preview
must report no change and make no request. Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import shaped_plugin
import trivial_plugin
from plugin_scale import DATASET, ECHO, MODEL, program

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir

KINDS = ("finetune", "finetune, no-op Check/Diff", "shaped", "trivial plugin")


def recorded_outputs(project: PluginProject, name: str) -> dict[str, Any]:
    """The outputs the stack records for the resource `name`."""
    deployment = json.loads(project.export())["deployment"]
    for resource in deployment.get("resources", []):
        if resource["urn"].endswith(f"::{name}"):
            outputs: dict[str, Any] = resource.get("outputs", {})
            return outputs
    raise SystemExit(f"no resource {name} in the stack")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", "--jobs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    hosts = language_hosts_dir()
    root = Path(tempfile.mkdtemp(prefix="pf-preview-parts-"))
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    load_before = os.getloadavg()
    try:
        with LocalEndpoint(data_dir=root / "endpoint", clock_speed=1.0) as server:
            api = EndpointClient(server.url, server.key)
            projects: dict[str, PluginProject] = {}
            for i, kind in enumerate(KINDS):
                project = PluginProject(
                    root=root / str(i),
                    engine=hosts,
                    endpoint_url=server.url,
                    api_key=server.key,
                    program="",
                )
                home = Path(project.env["PULUMI_HOME"])
                trivial_plugin.install(home)
                if kind == "shaped":
                    outputs = recorded_outputs(projects["finetune"], "job-00")
                    shaped_plugin.write_setup(home, outputs)
                    echo = ECHO.replace("benchecho:index:Echo", shaped_plugin.TOKEN)
                    project.write_program(
                        "resources:\n"
                        + "".join(echo.format(i=j, model=MODEL) for j in range(args.jobs))
                    )
                elif kind == "trivial plugin":
                    project.write_program(program(kind, args.jobs))
                else:
                    shutil.copy(DATASET, project.dir / "train.jsonl")
                    project.write_program(program("finetune", args.jobs))
                project.up()
                if kind.endswith("no-op Check/Diff"):
                    shaped_plugin.install(home, "noop")
                projects[kind] = project
            api.reset_stats()
            for _ in range(args.repeat):
                for kind, project in projects.items():
                    started = time.perf_counter()
                    project.pulumi("preview", "--expect-no-changes")
                    times[kind].append(time.perf_counter() - started)
            requests = api.stats()["by_route"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()
    base = times["trivial plugin"]
    print(f"\n| no-op `pulumi preview`, {args.jobs} resources | median | ÷ trivial plugin |")
    print("|---|---|---|")
    for kind in KINDS:
        ratio = statistics.median(a / b for a, b in zip(times[kind], base, strict=True))
        print(f"| {kind} | {statistics.median(times[kind]):.2f} s | {ratio:.2f}× |")
    print(
        f"\n{args.repeat} previews each, in turn; requests during them: {requests or 0}; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, "
        f"{len(os.sched_getaffinity(0))} cores"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
