"""Reliability table: the money-safety scenarios of issue 5, run with the real pulumi CLI.

Each scenario gets a fresh local endpoint (a slow clock, so jobs stay running until the
scenario advances it) and a fresh project on a file backend, injects its faults or kills, and
counts the jobs at the endpoint that the stack's training file was used for. Prints a Markdown
table and writes it, with what it means for users, to docs/reliability.md (generated: edit this
script, not the page).

    python benchmarks/reliability.py            # all scenarios, writes docs/reliability.md
    python benchmarks/reliability.py --no-write # print only
    python benchmarks/reliability.py --face plugin  # one face only
    python benchmarks/reliability.py --flavor azure  # against the endpoint playing Azure
                                                     # (writes docs/reliability-azure.md)
    python benchmarks/reliability.py --flavor nebius   # Nebius as documented: no metadata
    python benchmarks/reliability.py --flavor bedrock  # Bedrock: no metadata, no seed
    python benchmarks/reliability.py --flavor together # Together AI: its own API, no metadata

Each flavor keeps only what its host documents (`pulumi_finetune.local.flavors`), and the jobs
are declared as a user of that host would: no `metadata` where the host keeps none, and on
Bedrock a reinforcement job with a Lambda grader on 120 prompts. The routes that faults target
and that are counted are the endpoint's own (its route table, under the host's API path), and
jobs are read back through the host's shape (`pulumi_finetune.shapes`), in OpenAI's vocabulary,
so a host with an API of its own (Together AI: `/v1/fine-tunes`) runs the same scenarios.

Both faces run every scenario: the Python program (dynamic provider) and the same resources in a
YAML program through the provider plugin (`pulumi_finetune.plugin`).

Bounded: every pulumi command has a timeout and the run stops starting scenarios after
--budget seconds (default 900); a face takes 4-7 minutes on 2 busy cores. Exit status 1 if a
scenario found something other than what it expected.
"""

from __future__ import annotations

import argparse
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readme_block import replace_block

from pulumi_finetune import hosts, shapes
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient, Project, engine_dir, start_pulumi
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir
from pulumi_finetune.settings import origin

REPO = Path(__file__).resolve().parents[1]
JSON = dict[str, Any]


DATASET = REPO / "tests" / "data" / "valid" / "chat_12.jsonl"
OUT = REPO / "docs" / "reliability.md"
MODEL = "gpt-4o-mini-2024-07-18"


@dataclass(frozen=True)
class Face:
    """How a program declares the resources: the Python face, or YAML through the plugin."""

    name: str
    job_type: str
    make: Callable[..., Project]
    engine: Callable[[], Path]

    @property
    def urn(self) -> str:
        return f"urn:pulumi:dev::e2e::{self.job_type}::bot"


FACES = {
    "python": Face("python", "pulumi-python:dynamic/finetune:FineTuningJob", Project, engine_dir),
    "plugin": Face("plugin", "finetune:index:FineTuningJob", PluginProject, language_hosts_dir),
}
ACTIVE = {"validating_files", "queued", "running", "paused"}
TIMEOUT = 180.0  # per pulumi command
# A local job lasts 4 + 10 s per epoch (at most 30) of its clock: 14 s for Together's default one
# epoch, which a scenario of 20-30 s outlives, so a job it expects running had finished (and a
# replaced one was rightly left alone). At 1/20 speed every job runs for at least 280 s.
CLOCK_SPEED = 0.05
JOB: dict[str, Any] = {"model": MODEL, "training_file": "@data", "metadata": {"team": "billing"}}
# The host the endpoint plays (`--flavor`), the stack config that names it, a model it offers.
FLAVOR = "openai"
RFT_DATASET = REPO / "examples" / "reinforcement" / "data" / "train.jsonl"
LAMBDA_GRADER = {
    "type": "lambda",
    "lambda": {"function": "arn:aws:lambda:us-west-2:123456789012:function:reward"},
}
# Each host's job as its users declare it (beside `training_file`), and its training data.
FLAVOR_JOBS: dict[str, tuple[dict[str, Any], Path]] = {
    "openai": (dict(JOB), DATASET),
    "azure": (dict(JOB), DATASET),
    "nebius": ({"model": "meta-llama/Meta-Llama-3.1-8B-Instruct"}, DATASET),
    "together": ({"model": "meta-llama/Meta-Llama-3.1-8B-Instruct"}, DATASET),
    "bedrock": (
        {
            "model": "openai.gpt-oss-20b",
            "method": {"type": "reinforcement", "reinforcement": {"grader": LAMBDA_GRADER}},
        },
        RFT_DATASET,
    ),
}


def variant(index: int) -> dict[str, Any]:
    """What tells one of many jobs in a stack from the others, as a user would write it: its
    own metadata where the host keeps metadata; on a host that keeps no marker at all, its own
    hyperparameters (identical jobs there cannot be told apart, which preview warns about)."""
    row = hosts.by_name(FLAVOR) or hosts.COMPATIBLE
    if "metadata" in row.echoes:
        return {"metadata": {"name": f"job-{index:02d}"}}
    if "seed" in row.echoes:
        return {}  # the marker's seed names the resource
    method = JOB.get("method")
    if isinstance(method, dict) and method.get("type") == "reinforcement":
        hyper = {"batch_size": index + 1}
        detail = {**method["reinforcement"], "hyperparameters": hyper}
        return {"method": {**method, "reinforcement": detail}}
    return {"hyperparameters": {"batch_size": index + 1}}


def flavor_config() -> dict[str, str]:
    return {} if FLAVOR == "openai" else {"finetune:host": FLAVOR}


def program(jobs: dict[str, dict[str, Any]] | None = None, **job: Any) -> dict[str, Any]:
    return {
        "files": {"data": {"path": "train.jsonl"}},
        "jobs": jobs if jobs is not None else {"bot": {**JOB, **job}},
    }


def summary(statuses: list[str]) -> str:
    """'2 (1 active, 1 cancelled)': a count and its statuses (validating/queued/running: active)."""
    counts = Counter("active" if s in ACTIVE else s for s in statuses)
    detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"{len(statuses)} ({detail})" if statuses else "0"


class Listing:
    """The endpoint's API as a shape calls it (`shapes.Wire`), through the test client, so that
    jobs are read back in OpenAI's vocabulary whatever the host's wire (no retries: counting
    happens with no fault left on the listing)."""

    def __init__(self, api: EndpointClient) -> None:
        self.api = api

    def request(
        self,
        method: str,
        path: str,
        *,
        json: JSON | None = None,
        params: Mapping[str, Any] | None = None,
        retry_if_sent: bool = True,
    ) -> JSON:
        if method != "GET":
            raise ValueError(f"the scenarios only read: {method} {path}")
        page: JSON = self.api.get(path, **(params or {}))
        return page

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[JSON]:
        query = dict(params or {})
        while True:
            page = self.request("GET", path, params=query)
            yield from page["data"]
            if not page.get("has_more") or not page["data"]:
                return
            query["after"] = page["data"][-1]["id"]

    def post_file(self, path: str, **_: Any) -> JSON:
        raise ValueError(f"the scenarios upload through the stack, not here: {path}")


class Scenario:
    """One endpoint, one project; helpers to count what the stack started."""

    def __init__(self, root: Path, engine: Path, face: Face) -> None:
        self.server = LocalEndpoint(
            data_dir=root / "endpoint",
            key="sk-local-" + secrets.token_hex(16),
            clock_speed=CLOCK_SPEED,
            flavor=FLAVOR,
        )
        self.api = EndpointClient(self.server.url, self.server.key)
        host = self.server.app.flavor.host
        self.shape = shapes.for_host(host)
        # Routes as the endpoint names them in stats and faults ("METHOD template"), by handler.
        routes = {h: f"{m} {t}" for m, t, h, _ in self._rules()}
        self.create = routes["create_job"]
        self.cancel = routes["cancel_job"]
        self.retrieve = routes["retrieve_job"]
        # Random faults match the request's path: every job route, under the host's API path.
        self.job_routes = f"* {host.api_path}{self.shape.jobs_path}*"
        self.face = face
        self.engine = engine
        self.project = self.new_project(root / "project")
        self.training_file = ""

    def new_project(self, root: Path) -> Project:
        project = self.face.make(
            root=root,
            engine=self.engine,
            endpoint_url=self.server.url,
            api_key=self.server.key,
            config=flavor_config(),
        )
        shutil.copy(FLAVOR_JOBS[FLAVOR][1], project.dir / "train.jsonl")
        return project

    def _rules(self) -> Iterator[tuple[str, str, str, object]]:
        for rule in self.server.app.url_map.iter_rules():
            yield rule.endpoint

    def pulumi(self, *args: str, check: bool = True) -> str:
        result = self.project.pulumi(*args, check=check, timeout=TIMEOUT)
        output: str = result.output
        return output

    def up(self, *extra: str, check: bool = True) -> str:
        return self.pulumi("up", "--yes", "--skip-preview", *extra, check=check)

    def upload(self) -> None:
        """Create the stack's TrainingFile first, so that faults only meet the jobs' requests."""
        self.project.write(program(jobs={}))
        self.up()
        for resource in self.project.state_resources():
            if resource["urn"].endswith("::data"):
                self.training_file = str(resource["id"])
        self.server.reset_stats()

    def all_jobs(self) -> list[JSON]:
        """Every job at the endpoint, in OpenAI's vocabulary (the host's shape translates)."""
        return list(self.shape.list_jobs(Listing(self.api), metadata=None, limit=100))

    def jobs(self) -> list[JSON]:
        return [job for job in self.all_jobs() if job["training_file"] == self.training_file]

    def statuses(self) -> list[str]:
        return [str(job["status"]) for job in self.jobs()]

    def posts(self) -> int:
        return int(self.server.stats()["by_route"].get(self.create, 0))

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not reached")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.stop()


@dataclass
class Row:
    scenario: str
    injected: str
    expected: str
    found: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.expected == self.found


# -- scenarios: each returns its rows' (expected, found), or (name, injected, expected, found) --

Outcome = tuple[str, str] | list[tuple[str, str, str, str]]


def with_posts(jobs: str, posts: int) -> str:
    return f"{jobs}; {posts} POST{'s' if posts != 1 else ''}"


def ambiguous_create(
    script: list[tuple[str, int]], expected_posts: int
) -> Callable[[Scenario], Outcome]:
    def run(s: Scenario) -> Outcome:
        s.upload()
        for kind, times in script:
            s.server.add_fault(s.create, kind, times=times)
        s.project.write(program())
        s.up()
        expected = with_posts(summary(["active"]), expected_posts)
        return expected, with_posts(summary(s.statuses()), s.posts())

    return run


def killed_during_create(s: Scenario) -> Outcome:
    s.upload()
    s.server.add_fault(s.create, "slow", delay=3.0)
    s.project.write(program())
    run = start_pulumi(s.project, "up", "--yes", "--skip-preview")
    s.wait_for(lambda: s.posts() == 1)
    time.sleep(0.3)
    run.kill()
    run.kill_leftovers()
    s.wait_for(lambda: s.server.stats()["jobs_created"] == 1)
    s.pulumi("cancel", "--yes")
    s.up()
    return with_posts(summary(["active"]), 1), with_posts(summary(s.statuses()), s.posts())


def killed_during_wait(s: Scenario) -> Outcome:
    s.upload()
    s.project.write(program(wait_for_completion=True))
    run = start_pulumi(s.project, "up", "--yes", "--skip-preview")
    s.wait_for(lambda: s.server.stats()["by_route"].get(s.retrieve, 0) >= 1)
    run.kill()
    run.kill_leftovers()
    s.server.advance_clock(100_000)
    s.pulumi("cancel", "--yes")
    s.up()
    return with_posts(summary(["succeeded"]), 1), with_posts(summary(s.statuses()), s.posts())


def replace_args(s: Scenario) -> list[str]:
    """`pulumi up --replace` of the bot; on the plugin face with `--refresh`, which tells the
    plugin which job the stack owns (the engine sends no state with a --replace: README, "Other
    languages")."""
    return ["--replace", s.face.urn, *(["--refresh"] if s.face.name == "plugin" else [])]


def replace_unchanged(s: Scenario) -> Outcome:
    s.upload()
    s.project.write(program())
    s.up()
    s.server.reset_stats()
    s.up(*replace_args(s))
    expected = with_posts(summary(["cancelled", "active"]), 1)
    return expected, with_posts(summary(s.statuses()), s.posts())


def killed_during_replace(s: Scenario) -> Outcome:
    s.upload()
    s.project.write(program())
    s.up()
    s.server.reset_stats()
    s.server.add_fault(s.create, "slow", delay=3.0)
    run = start_pulumi(s.project, "up", "--yes", "--skip-preview", *replace_args(s))
    s.wait_for(lambda: s.posts() == 1)
    run.kill()
    run.kill_leftovers()
    s.wait_for(lambda: s.server.stats()["jobs_created"] == 1)
    s.pulumi("cancel", "--yes")
    s.up(*replace_args(s))
    expected = with_posts(summary(["cancelled", "active"]), 1)
    return expected, with_posts(summary(s.statuses()), s.posts())


def teammate_same_stack_name(s: Scenario) -> Outcome:
    s.upload()
    s.project.write(program())
    s.up()
    # own file backend; same project and stack name
    teammate = s.new_project(s.project.root.parent / "teammate")
    teammate.write(program())
    teammate.pulumi("up", "--yes", "--skip-preview", timeout=TIMEOUT)
    theirs = {r["id"] for r in teammate.state_resources() if r["urn"].endswith("::bot")}
    teammate.pulumi("destroy", "--yes", "--skip-preview", timeout=TIMEOUT)
    their_statuses = [str(j["status"]) for j in s.all_jobs() if j["id"] in theirs]
    found = f"ours {summary(s.statuses())}; theirs {summary(their_statuses)}"
    expected = f"ours {summary(['active'])}; theirs {summary(['cancelled'])}"
    return with_posts(expected, 2), with_posts(found, s.posts())


def recreated_stack(s: Scenario) -> Outcome:
    s.upload()
    s.project.write(program(on_destroy="keep"))  # the first stack's job keeps running
    s.up()
    s.pulumi("destroy", "--yes", "--skip-preview")
    s.pulumi("stack", "rm", "dev", "--yes")
    s.project.init_stack()
    s.up()  # the new stack's TrainingFile uploads again: count by the first upload's jobs too
    statuses = [str(j["status"]) for j in s.all_jobs() if j["model"] == MODEL]
    return with_posts(summary(["active", "active"]), 2), with_posts(summary(statuses), s.posts())


def insufficient_quota(s: Scenario) -> Outcome:
    s.upload()
    s.server.add_fault(s.create, "insufficient_quota", times=10)
    s.project.write(program())
    output = s.up(check=False)
    shown = "You exceeded your current quota" in output and "request id req_" in output
    found = f"{with_posts(summary(s.statuses()), s.posts())}; message and request id shown: {shown}"
    row = hosts.by_name(FLAVOR)
    if row is not None and row.error_shape == "fastapi":
        # FastAPI's `{"detail": ...}` (Nebius) carries no code: an out-of-quota 429 reads as a
        # rate limit and is retried as one (1 + 6 retries), still never creating a job.
        return "0; 7 POSTs; message and request id shown: True", found
    return "0; 1 POST; message and request id shown: True", found


RANDOM_FAULTS = {"random_rate": 0.3, "kinds": ["429", "503", "drop"], "seed": 7}


def twenty_jobs(s: Scenario) -> Outcome:
    s.upload()
    s.api.fault(**RANDOM_FAULTS, route=s.job_routes)
    names = [f"job-{i:02d}" for i in range(20)]
    s.project.write(program(jobs={n: {**JOB, **variant(i)} for i, n in enumerate(names)}))
    s.up()
    up_requests = s.server.stats()["requests"]
    s.server.clear_faults()  # counting is not under test
    after_up = summary(s.statuses())
    s.server.reset_stats()
    s.api.fault(**RANDOM_FAULTS, route=s.job_routes)
    s.pulumi("destroy", "--yes", "--skip-preview")
    destroy_requests = s.server.stats()["requests"]
    s.server.clear_faults()
    injected = "30% of job requests: 429 (Retry-After 1 s), 503, dropped connection"
    return [
        (
            "20 jobs in one stack: `pulumi up`",
            f"{injected} ({up_requests} requests)",
            summary(["active"] * 20),
            after_up,
        ),
        (
            "the same 20: `pulumi destroy`",
            f"the same ({destroy_requests} requests)",
            summary(["cancelled"] * 20),
            summary(s.statuses()),
        ),
    ]


def destroy_under_faults(s: Scenario) -> Outcome:
    s.upload()
    s.project.write(program())
    s.up()
    s.server.add_fault(s.cancel, "429", times=100, retry_after=0.01)
    output = s.pulumi("destroy", "--yes", "--skip-preview", check=False)
    failed = "failed" if "HTTP 429" in output else "succeeded"
    first = f"destroy {failed}, {summary(s.statuses())}"
    s.server.clear_faults()
    for route, kind in ((s.retrieve, "503"), (s.retrieve, "drop"), (s.cancel, "drop")):
        s.server.add_fault(route, kind)
    s.server.add_fault(s.cancel, "commit_then_500")
    s.pulumi("destroy", "--yes", "--skip-preview")
    expected = f"destroy failed, {summary(['active'])}; then {summary(['cancelled'])}"
    return expected, f"{first}; then {summary(s.statuses())}"


SCENARIOS: list[tuple[str, str, Callable[[Scenario], Outcome]]] = [
    (
        "Lost create response",
        "commit_then_500 on create, once",
        ambiguous_create([("commit_then_500", 1)], 1),
    ),
    (
        "Lost create response, three in a row",
        "commit_then_drop on create, 3 queued",
        ambiguous_create([("commit_then_drop", 3)], 1),
    ),
    (
        "Failed creates, then a lost one",
        "503, drop, commit_then_500 on create",
        ambiguous_create([("503", 1), ("drop", 1), ("commit_then_500", 1)], 3),
    ),
    (
        "`pulumi up` killed mid-create; `pulumi cancel`; `pulumi up`",
        "SIGKILL while create is in flight (3 s slow create)",
        killed_during_create,
    ),
    (
        "`pulumi up` killed mid-wait; `pulumi cancel`; `pulumi up`",
        "SIGKILL while waiting for completion",
        killed_during_wait,
    ),
    (
        "`pulumi up --replace` (plugin: with `--refresh`), unchanged spec",
        "none",
        replace_unchanged,
    ),
    (
        "`pulumi up --replace` (plugin: with `--refresh`) killed mid-create; run again",
        "SIGKILL while the replacement's create is in flight",
        killed_during_replace,
    ),
    (
        "A teammate's stack: same project and stack name, own backend; `pulumi up` each, "
        "then the teammate's `pulumi destroy`",
        "none",
        teammate_same_stack_name,
    ),
    (
        "Stack destroyed (`on_destroy=keep`), removed and re-created under the same name; "
        "`pulumi up`",
        "none",
        recreated_stack,
    ),
    ("20 jobs in one stack", "random faults", twenty_jobs),
    (
        "Out of quota",
        "insufficient_quota on create",
        insufficient_quota,
    ),
    (
        "`pulumi destroy` under faults",
        "cancel rate-limited beyond retries; then 503, drops, commit_then_500",
        destroy_under_faults,
    ),
]


# -- credentials bound to origins (issue 26) ---------------------------------------------------


@contextmanager
def second_endpoint(s: Scenario) -> Iterator[LocalEndpoint]:
    """Origin B: another endpoint of the same flavor, with a key of its own."""
    with LocalEndpoint(
        data_dir=s.project.root.parent / "endpoint-b",
        key="sk-local-" + secrets.token_hex(16),
        flavor=FLAVOR,
    ) as b:
        yield b


def job_at_another_origin(s: Scenario) -> Outcome:
    with second_endpoint(s) as b:
        s.upload()
        s.project.write(program(base_url=b.url))
        output = s.up(check=False)
        named = f"base_url is at {origin(b.url)}" in output and origin(s.server.url) in output
        found = (
            f"{summary(s.statuses())}; {b.stats()['requests']} requests to B; "
            f"refused naming both origins: {named}"
        )
    return "0; 0 requests to B; refused naming both origins: True", found


def destroy_after_a_move_by_config(s: Scenario) -> Outcome:
    """`pulumi destroy` configures the provider from the stack's state (the last `up`'s
    settings), so the job is cancelled on its own host with its own key; B is never asked."""
    with second_endpoint(s) as b:
        s.upload()
        s.project.write(program())
        s.up()
        s.pulumi("config", "set", "finetune:baseUrl", b.url)
        s.pulumi("config", "set", "--secret", "finetune:apiKey", b.key)
        s.server.reset_stats()
        result = s.project.pulumi("destroy", "--yes", "--skip-preview", check=False)
        destroyed = "succeeded" if result.returncode == 0 else "failed"
        found = (
            f"destroy {destroyed}; {s.server.stats()['unauthorized']} refused keys at A; "
            f"{b.stats()['requests']} requests to B; at A: {summary(s.statuses())}"
        )
    expected = (
        f"destroy succeeded; 0 refused keys at A; 0 requests to B; at A: {summary(['cancelled'])}"
    )
    return expected, found


SCENARIOS += [
    (
        "A job whose `base_url` names another origin (B) than the stack's key",
        "none",
        job_at_another_origin,
    ),
    (
        "`finetune:baseUrl` and `finetune:apiKey` moved to B, then `pulumi destroy`",
        "none",
        destroy_after_a_move_by_config,
    ),
]


@contextmanager
def scenario_dir() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="pf-reliability-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_all(budget: float, only: str | None, face: Face) -> list[Row]:
    engine = face.engine()
    rows: list[Row] = []
    started = time.monotonic()
    for name, injected, fn in SCENARIOS:
        if only and only.lower() not in name.lower():
            continue
        if time.monotonic() - started > budget:
            rows.append(Row(name, injected, "-", "not run: time budget spent"))
            continue
        t0 = time.monotonic()
        outcome: Outcome
        with scenario_dir() as root:
            scenario = Scenario(root, engine, face)
            try:
                outcome = fn(scenario)
            except Exception as exc:  # the table says what went wrong; the exit status fails
                outcome = ("-", f"error: {type(exc).__name__}: {str(exc)[:300]}")
            finally:
                scenario.stop()
        seconds = time.monotonic() - t0
        if isinstance(outcome, tuple):
            outcome = [(name, injected, *outcome)]
        for row_name, row_injected, expected, found in outcome:
            row = Row(row_name, row_injected, expected, found, seconds)
            rows.append(row)
            mark = "ok  " if row.ok else "FAIL"
            print(f"{mark} {seconds:5.1f}s  {face.name}: {row_name}: {found}", file=sys.stderr)
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| scenario | injected | jobs expected | jobs found |", "|---|---|---|---|"]
    for row in rows:
        cells = [row.scenario, row.injected, row.expected, row.found]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


PAGE = """# Reliability: no duplicate jobs, no orphans, faults survived

<!-- Generated by `python benchmarks/reliability.py`; edit the script, not this page. -->

Each row runs the real `pulumi` CLI ({pulumi}) on a file backend against the local endpoint, once
with the Python program and once with the same resources in a YAML program through the plugin,
with the faults in "injected" scripted at the endpoint, then counts the fine-tuning jobs at the
endpoint that the stack started ("active": validating, queued or running) and, where it
matters, the create requests (POSTs) the endpoint received.

**{verdict}** Run at commit {commit} on {host}, Python {python}, in {seconds:.0f} s.

{table}

## How it works

- **Ambiguous creates.** OpenAI has no idempotency keys. Every job carries a marker in its
  `metadata` (one of the 16 slots; your `metadata` keeps the other 15): a digest of the stack
  instance, the resource (project/stack/name) and its spec. When a create's outcome is unknown
  (5xx, dropped connection, timeout) the provider lists the jobs with that marker and adopts the
  one it finds instead of posting again. 429s and refused connections never reached the server
  and are retried; `insufficient_quota` and other 4xx fail at once with the API's message and
  request id.
- **Hosts that keep no metadata.** The marker lives where the host's documented job object
  keeps it (its row's `echoes` in `hosts.py`). Nebius and Together AI keep no `metadata` but
  return the job's seed (Together's `random_seed`): a job whose program declares no seed is sent
  one derived from the marker, and found by it (with its model and files) in the host's job
  list, which neither filters by metadata. Amazon Bedrock documents neither: its job is
  recognised by what it echoes (model, files, hyperparameters, the method and its Lambda
  grader), and after a lost answer only among the jobs that the listing taken before the first
  POST did not hold (the host's own ids and `created_at`, never this machine's clock). That
  cannot tell two identical jobs apart (two resources with the same spec and files), so preview
  warns on the job's row, and two candidates fail the create rather than guess.
- **Whose job.** The stack instance is the id the engine drew (a random UUID) when it created
  the stack's `pulumi-finetune` provider resource, kept in the stack's state. A teammate's stack
  of the same name in another backend, or a stack removed and re-created under the same name,
  has another id, so another marker: it never adopts (or destroys) a job it did not start.
- **Orphan or predecessor.** The program reads, through the engine (its built-in
  `readStackResourceOutputs`, no `pulumi` CLI), which job the stack's last checkpoint records for
  each resource, and passes it to the provider. That job (the one `pulumi up --replace`
  replaces) and anything older (an earlier incarnation) is never adopted, so `--replace` starts
  a new job and then cancels the old one (a finished one is left as it is). A newer marked job is
  the orphan of an interrupted run: it is adopted.
- **The plugin face** (a YAML program through `pulumi-resource-finetune`) keeps the same marker:
  its stack instance is the id the engine drew for the stack's `finetune` provider resource (sent
  to the plugin in `Configure`), and the owned job is what the state the engine sends to `diff`,
  `update`, `read` and `delete` records. For `pulumi up --replace` the engine sends the plugin
  nothing about the resource it replaces: without `--refresh` an unchanged job is kept (no POST,
  nothing cancelled, a warning on its row) rather than risk taking it for an orphan; with
  `pulumi up --replace <urn> --refresh`, as the two `--replace` scenarios run on this face, the
  refresh tells the plugin which job the stack owns and it behaves as the Python face.
- **Credentials stay with their origin.** The stack's key is bound to the origin of
  `finetune:baseUrl` (else `OPENAI_BASE_URL`, else the host's default). A job whose `base_url`
  names another origin is refused naming both origins, and that origin gets no request at all;
  it needs a provider of its own with its own key. `pulumi destroy` configures the provider from
  the stack's state (the last `pulumi up`'s settings), so after `finetune:baseUrl` and
  `finetune:apiKey` are moved to another origin the job is still cancelled on its own host with
  its own key, and the new origin is never asked.
- **Retries.** 429 waits for `retry-after-ms`/`retry-after` (up to 60 s), 408/409/5xx/dropped
  connections back off 0.5 s x 2^n (cap 8 s) with jitter, at most 6 retries within 300 s per
  request; a create is never re-sent by the client once it may have reached the server. At most 4
  requests are in flight per provider process (`PULUMI_FINETUNE_MAX_CONCURRENT_REQUESTS`).
- **Destroy** re-reads the job, cancels it unless it finished, and returns only when the endpoint
  reports a terminal status (404: already gone). If it cannot, `pulumi destroy` fails and the job
  stays in state for the next attempt.
- **Waits.** A wait that times out or that the endpoint interrupts records the job as last seen
  (state never forgets a running job); `pulumi refresh` picks up its outcome.

## After `pulumi up` was killed (SIGKILL, OOM, a cancelled CI job)

Measured with pulumi v3.274 and the file backend:

1. The provider processes **stop by themselves** within seconds of the engine's port closing
   (each watches it), so nothing keeps polling the API; a job one had started keeps running.
   Pulumi's own language host (`pulumi-language-python`) lingers until its 5-minute health
   check ends it (CI runners kill the whole job anyway). Ctrl-C twice needs none of this: the
   CLI stops its plugins and releases the stack, and the next `pulumi up` adopts the job.
2. The stack stays **locked**: `pulumi up` fails with "the stack is currently locked by 1
   lock(s)". Run `pulumi cancel --yes` (with the file backend it deletes the stale lock file).
3. Run the **same command again** (`pulumi up`, or `pulumi up --replace <urn>` if that was the
   interrupted one). It warns "Attempting to deploy or update resources with 1 pending operations
   from previous deployment" and goes on; the provider adopts the job the killed run started (no
   second job). Do this before changing the resource's spec: a changed spec has a new marker and
   starts a new job, and the orphan would keep running until you cancel it.
4. The stale "creating" entry stays in the state (and the warning with it) after the re-run. Clear
   it with `pulumi refresh --yes --clear-pending-creates`; a non-interactive `pulumi refresh`
   without that flag leaves it. Clearing it before the re-run is also safe: adoption does not
   depend on it.

If a request was still in flight when the process died, the endpoint may take the job a few
seconds later; re-running while it is still in flight can miss it. Wait until the killed run's
requests have ended (at most the client's 120 s read timeout) before step 3.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=900.0, help="seconds per face; then stop")
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    parser.add_argument("--face", choices=[*FACES, "both"], default="both")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the page")
    parser.add_argument(
        "--flavor",
        choices=list(FLAVOR_JOBS),
        default="openai",
        help="the host the local endpoint plays (not openai: writes docs/reliability-FLAVOR.md "
        "and leaves README.md's table alone)",
    )
    args = parser.parse_args()
    global FLAVOR, MODEL, OUT
    FLAVOR = args.flavor
    if FLAVOR != "openai":
        JOB.clear()
        JOB.update({**FLAVOR_JOBS[FLAVOR][0], "training_file": "@data"})
        MODEL = JOB["model"]
        OUT = OUT.with_name(f"reliability-{FLAVOR}.md")

    started = time.monotonic()
    faces = list(FACES.values()) if args.face == "both" else [FACES[args.face]]
    tables, failed, total = [], [], 0
    for face in faces:
        rows = run_all(args.budget, args.only, face)
        total += len(rows)
        failed += [row for row in rows if not row.ok]
        tables.append(f"**{FACE_TITLES[face.name]}**\n\n{table(rows)}")
    text = "\n\n".join(tables)
    print(text)
    if not args.no_write and not args.only and args.face == "both":
        version = _pulumi_version(engine_dir())
        verdict = (
            f"All {total} scenarios (both faces) found what they expected."
            if not failed
            else f"{len(failed)} of {total} scenarios did NOT find what they expected."
        )
        if FLAVOR != "openai":
            verdict += f" (The local endpoint playing `{FLAVOR}`: `--flavor {FLAVOR}`.)"
        OUT.parent.mkdir(exist_ok=True)
        OUT.write_text(
            PAGE.format(
                pulumi=version,
                verdict=verdict,
                host=f"{platform.system()} {platform.machine()}",
                python=platform.python_version(),
                commit=_commit(),
                seconds=time.monotonic() - started,
                table=text,
            )
        )
        if FLAVOR == "openai":
            replace_block("reliability", f"{verdict} ({version}, {_commit()})\n\n{text}")
        print(f"wrote {OUT.relative_to(REPO)}", file=sys.stderr)
    return 1 if failed else 0


FACE_TITLES = {
    "python": "Python program (the dynamic provider)",
    "plugin": "YAML program through the provider plugin (`pulumi_finetune.plugin`)",
}


def _commit() -> str:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    dirty = git("status", "--porcelain", "--", "pulumi_finetune", "benchmarks/reliability.py")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + (" (modified)" if dirty else "")


def _pulumi_version(engine: Path) -> str:
    out = subprocess.run(
        [str(engine / "pulumi"), "version"], capture_output=True, text=True, check=False
    )
    return f"pulumi {out.stdout.strip()}" if out.returncode == 0 else "pulumi"


if __name__ == "__main__":
    sys.exit(main())
