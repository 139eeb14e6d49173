"""50 jobs through the plugin: `pulumi up` and a no-op `pulumi preview`, timed, requests counted.

    python benchmarks/plugin_scale.py               # N=50, 3 rounds of 3 no-op previews
    python benchmarks/plugin_scale.py -n 20 --rounds 5 --previews 5 [--readme]
    python benchmarks/plugin_scale.py --terraform-provider DIR   # also Terraform, see below

Three YAML programs on the same CLI (v3.274.1) and machine, each in a fresh stack per round:
- `finetune`: N `finetune:index:FineTuningJob`s (no wait) on one `TrainingFile`, created first
  and not timed, against the local endpoint (its requests are counted by route);
- `trivial plugin`: N `benchecho:index:Echo`s of `trivial_plugin.py`, a Python plugin on the same
  gRPC stack whose create returns its inputs (what any Python plugin costs);
- `empty`: no resources (the CLI's and YAML host's own floor).
- with `--terraform-provider DIR` (a directory holding a built `terraform-provider-openai`, mkdev's
  provider, github.com/mkdev-me/terraform-provider-openai) and `terraform` on PATH: N
  `openai_fine_tuning_job`s on the same endpoint, `terraform apply` and a no-op `terraform plan`
  (which refreshes each job: N GETs). The provider's module is not served by the Go module proxy
  this project builds from, so no script here builds it: build it from a checkout
  (`go build -o DIR/terraform-provider-openai .`); Terraform runs it through `dev_overrides`.
Printed: the median and range of each command's wall time (the no-op preview run `--previews`
times a round), the requests of the finetune program and of Terraform (`up`/`apply`: the
creates, and the plugin's marker lookups; the no-op preview: none expected), and each command's
time over the trivial plugin's in the same round (median of the rounds: the machine is shared,
and its load moves every figure by tens of percent between rounds, much less within one). With
`--readme`, the table replaces the `plugin-scale` block of docs/performance-plugin.md (with the
machine's CPU and load). Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import trivial_plugin
from readme_block import replace_block

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir

REPO = Path(__file__).resolve().parents[1]
DOCUMENT = REPO / "docs" / "performance-plugin.md"
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
TERRAFORM_KIND = "Terraform, mkdev's provider"
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
    root: Path, hosts: Path, server: LocalEndpoint, kind: str, n: int, previews: int = 1
) -> tuple[float, list[float], dict[str, int], dict[str, int]]:
    """(up seconds, each no-op preview's seconds, up's requests by route, the previews'
    requests)."""
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
    preview = [timed(project, "preview", "--expect-no-changes") for _ in range(previews)]
    preview_requests: dict[str, int] = api.stats()["by_route"]
    project.destroy()
    project.cleanup()
    return up, preview, up_requests, preview_requests


TERRAFORM = """terraform {{
  required_providers {{
    openai = {{ source = "mkdev-me/openai" }}
  }}
}}
provider "openai" {{
  api_url = "{url}"
  api_key = "{key}"
}}
resource "openai_fine_tuning_job" "job" {{
  count         = {n}
  model         = "{model}"
  training_file = "{file}"
  suffix        = "s${{count.index}}"
}}
"""


def terraform_round(
    root: Path, server: LocalEndpoint, provider_dir: Path, n: int
) -> tuple[float, list[float], dict[str, int], dict[str, int]]:
    """(apply seconds, [plan seconds], apply's requests by route, plan's requests): one plan,
    since a plan after this apply is not a no-op (see `PROBLEMS`)."""
    root.mkdir(parents=True)
    api = EndpointClient(server.url, server.key)
    file_id = api.upload(DATASET)  # as the plugin's file: created first, not timed
    (root / "main.tf").write_text(
        TERRAFORM.format(url=server.url, key=server.key, n=n, model=MODEL, file=file_id)
    )
    config = root / "terraform.rc"
    config.write_text(
        "provider_installation {\n"
        f'  dev_overrides {{ "mkdev-me/openai" = "{provider_dir}" }}\n'
        "  direct {}\n}\n"
    )
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }

    def terraform(*args: str, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
        started = time.perf_counter()
        done = subprocess.run(
            ["terraform", *args, "-input=false", "-no-color"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        output = done.stdout + done.stderr
        if done.returncode not in ok:
            raise SystemExit(f"terraform {args[0]} failed:\n{output}")
        return time.perf_counter() - started, output

    api.reset_stats()
    # mkdev's provider (checked at 01bcb17) leaves four computed attributes unknown after a
    # create, which Terraform reports as an error: the apply exits 1 with every job created and
    # recorded, tainted; the next plan then replaces them. Both are timed as they are.
    apply, output = terraform("apply", "-auto-approve", ok=(0, 1))
    PROBLEMS["apply"] = output.count("Provider returned invalid result object after apply")
    PROBLEMS["apply_jobs"] = len(set(re.findall(r"openai_fine_tuning_job\.job\[(\d+)\]", output)))
    apply_requests: dict[str, int] = api.stats()["by_route"]
    api.reset_stats()
    plan, output = terraform("plan", "-detailed-exitcode", ok=(0, 2))  # 2: changes
    PROBLEMS["plan"] = output.count("is tainted, so must be replaced")
    plan_requests: dict[str, int] = api.stats()["by_route"]
    terraform("destroy", "-auto-approve")
    return apply, [plan], apply_requests, plan_requests


#: What Terraform reported in the last round: errors after apply, replacements planned.
PROBLEMS: dict[str, int] = {}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", "--jobs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--previews", type=int, default=3, help="no-op previews per round")
    parser.add_argument(
        "--readme", action="store_true", help=f"write the table into {DOCUMENT.relative_to(REPO)}"
    )
    parser.add_argument(
        "--terraform-provider", type=Path, help="a directory with mkdev's terraform-provider-openai"
    )
    args = parser.parse_args()
    hosts = language_hosts_dir()
    root = Path(tempfile.mkdtemp(prefix="pf-plugin-scale-"))
    kinds: tuple[str, ...] = ("finetune", "trivial plugin", "empty")
    if args.terraform_provider:
        kinds += (TERRAFORM_KIND,)
    ups: dict[str, list[float]] = {k: [] for k in kinds}
    previews: dict[str, list[float]] = {k: [] for k in kinds}
    # per round: (up, median preview) over the trivial plugin's in the same round
    ratios: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    requests: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    load_before = os.getloadavg()
    try:
        with LocalEndpoint(data_dir=root / "endpoint", clock_speed=1.0) as server:
            for r in range(args.rounds):
                this_round: dict[str, tuple[float, float]] = {}
                for kind in kinds:
                    where = root / f"{r}-{kind.split()[0]}"
                    if kind == TERRAFORM_KIND:
                        provider = args.terraform_provider.resolve()
                        measured = terraform_round(where, server, provider, args.jobs)
                    else:
                        measured = one_round(where, hosts, server, kind, args.jobs, args.previews)
                    ups[kind].append(measured[0])
                    previews[kind].extend(measured[1])
                    requests[kind] = (measured[2], measured[3])
                    this_round[kind] = (measured[0], statistics.median(measured[1]))
                up_base, preview_base = this_round["trivial plugin"]
                for kind, (up, preview) in this_round.items():
                    ratios[kind].append((up / up_base, preview / preview_base))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()
    lines = [
        f"| {args.jobs} resources (CLI v3.274.1, YAML) | `pulumi up` / `terraform apply` | "
        "requests | no-op `pulumi preview` / `terraform plan` | requests "
        "| ÷ trivial plugin (up / preview) |",
        "|---|---|---|---|---|---|",
    ]
    for kind in kinds:
        up_req, preview_req = requests.get(kind, ({}, {}))
        up_ratio = statistics.median(r[0] for r in ratios[kind])
        preview_ratio = statistics.median(r[1] for r in ratios[kind])
        lines.append(
            f"| {kind} | {spread(ups[kind])} | {_requests(up_req)} | {spread(previews[kind])} "
            f"| {_requests(preview_req)} | {up_ratio:.2f}× / {preview_ratio:.2f}× |"
        )
    if PROBLEMS:
        lines += [
            "",
            "Terraform with mkdev's provider (built from its repository at 01bcb17): every "
            "`terraform apply` exited 1 "
            f'({PROBLEMS["apply"]} errors "Provider returned invalid result object after apply" '
            f"on {PROBLEMS['apply_jobs']} jobs: the provider leaves "
            "`finished_at`, `trained_tokens`, `validation_loss`, `result_files` unknown after a "
            f"create) with the jobs recorded as tainted, so the next `terraform plan` replaces "
            f"{PROBLEMS['plan']} of them (new paid jobs on apply): its plan is timed as it is, "
            "not a no-op.",
        ]
    lines += [
        "",
        f"Median (min-max) of {args.rounds} rounds ({args.previews} no-op previews a round; "
        f"Terraform: one plan a round) on {_cpu()}, {_cores()} cores shared with other work, "
        f"load average {load_before[0]:.1f} before and {load_after[0]:.1f} after "
        f"({time.strftime('%Y-%m-%d', time.gmtime())}, `benchmarks/plugin_scale.py`); "
        "÷ trivial plugin: each command's time over the trivial plugin's in the same round, "
        "median of the rounds; requests to the local endpoint by route (the trivial plugin and "
        "the empty program make none).",
    ]
    table = "\n".join(lines)
    print("\n" + table)
    if args.readme:
        replace_block("plugin-scale", table, DOCUMENT)
    return 0


def _requests(by_route: dict[str, int]) -> str:
    if not by_route:
        return "0"
    detail = ", ".join(f"{n} {route}" for route, n in sorted(by_route.items()))
    return f"{sum(by_route.values())} ({detail})"


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def _cpu() -> str:
    """The CPU's model name (Linux), else the machine's architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({platform.machine()})"
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    raise SystemExit(main())
