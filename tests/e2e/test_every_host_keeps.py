"""Money safety whatever a host keeps of a job, under the real pulumi CLI against the local
endpoint playing each host as documented: OpenAI and Azure keep `metadata` (the marker), Nebius
keeps no metadata but a seed (the marker's seed), Amazon Bedrock neither (its job is recognised
by what it echoes). A create whose answer is lost (committed, then a 500 or a dropped
connection) leaves exactly one job, which the stack owns; a run killed mid-create is adopted.
Amazon Bedrock end to end (a reinforcement job with a Lambda grader), what its preview refuses
with no request, and a host's `shutdown_date` taken on refresh."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.local.testing import EndpointClient, Project, start_pulumi

from .conftest import MODEL, wait_until
from .test_job_lifecycle import assert_no_changes

REPO = Path(__file__).resolve().parents[2]
CHAT = REPO / "tests" / "data" / "valid" / "chat_12.jsonl"
RFT = REPO / "examples" / "reinforcement" / "data" / "train.jsonl"
CREATE = "POST /v1/fine_tuning/jobs"
# Together AI's wire is its own (`pulumi_finetune.shapes.together`): its create route and list.
CREATES = {"together": "POST /v1/fine-tunes"}
LISTS = {"together": "fine-tunes"}
SUCCEEDED = {"together": "completed"}  # a finished job's status on the host's own wire
OPEN_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
BEDROCK_MODEL = "openai.gpt-oss-20b"
ARN = "arn:aws:lambda:us-west-2:123456789012:function:ticket-triage-reward"
LAMBDA = {"type": "lambda", "lambda": {"function": ARN}}
RFT_METHOD = {
    "type": "reinforcement",
    "reinforcement": {"grader": LAMBDA, "hyperparameters": {"n_epochs": 1, "batch_size": 4}},
}
FLAVORS = ("openai", "azure", "nebius", "bedrock", "together")
# What each flavor trains: the job (beside its training file) and its data.
JOBS: dict[str, tuple[dict[str, Any], Path]] = {
    "openai": ({"model": MODEL, "metadata": {"team": "billing"}}, CHAT),
    "azure": ({"model": MODEL, "metadata": {"team": "billing"}}, CHAT),
    "nebius": ({"model": OPEN_MODEL}, CHAT),
    "bedrock": ({"model": BEDROCK_MODEL, "method": RFT_METHOD}, RFT),
    "together": ({"model": OPEN_MODEL}, CHAT),
}


@pytest.fixture(autouse=True)
def conformance() -> Iterator[None]:
    """These flavors answer in their hosts' shapes, not OpenAI's: no OpenAI schema check."""
    yield None


@dataclass
class Host:
    flavor: str
    server: LocalEndpoint
    url: str
    key: str
    api: EndpointClient

    @property
    def create_route(self) -> str:
        return CREATES.get(self.flavor, CREATE)

    def posts(self) -> int:
        return int(self.server.stats()["by_route"].get(self.create_route, 0))

    def jobs(self) -> list[dict[str, Any]]:
        if self.flavor in LISTS:  # Together's list: one page, in its own objects
            return list(self.api.get(LISTS[self.flavor])["data"])
        return self.api.jobs()


@contextlib.contextmanager
def flavored_endpoints(
    factory: pytest.TempPathFactory, clock_speed: float
) -> Iterator[dict[str, Host]]:
    """One endpoint per flavor, each with a key of its own, stopped at the end."""
    made: dict[str, Host] = {}
    try:
        for flavor in FLAVORS:
            key = "sk-local-" + secrets.token_hex(16)
            server = LocalEndpoint(
                factory.mktemp(flavor), key=key, clock_speed=clock_speed, flavor=flavor
            )
            made[flavor] = Host(flavor, server, server.url, key, EndpointClient(server.url, key))
        yield made
    finally:
        for host in made.values():
            host.server.stop()


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Host]]:
    """One endpoint per flavor, on a real-time clock (jobs keep running)."""
    with flavored_endpoints(tmp_path_factory, clock_speed=1.0) as made:
        yield made


@pytest.fixture(scope="module")
def fast_bedrock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    key = "sk-local-" + secrets.token_hex(16)
    data = tmp_path_factory.mktemp("fast-bedrock")
    with LocalEndpoint(data, key=key, clock_speed=500.0, flavor="bedrock") as server:
        yield Host("bedrock", server, server.url, key, EndpointClient(server.url, key))


@pytest.fixture
def hosted(engine: Path, tmp_path: Path) -> Iterator[Any]:
    made: list[Project] = []

    def make(endpoint: Host, host: str | None = None, data: Path | None = None) -> Project:
        root = tmp_path / f"p{len(made)}"
        project = Project(root=root, engine=engine, endpoint_url=endpoint.url, api_key=endpoint.key)
        project.pulumi("config", "set", "finetune:host", host or endpoint.flavor)
        shutil.copy(data or JOBS[endpoint.flavor][1], project.dir / "train.jsonl")
        made.append(project)
        return project

    yield make
    for project in made:
        project.cleanup()


def program(**job: Any) -> dict[str, Any]:
    jobs = {"bot": {"training_file": "@data", **job}} if job else {}
    return {"files": {"data": {"path": "train.jsonl"}}, "jobs": jobs}


def file_id(project: Project) -> str:
    return next(str(r["id"]) for r in project.state_resources() if r["urn"].endswith("::data"))


def jobs_of(host: Host, project: Project) -> list[dict[str, Any]]:
    """The jobs at the endpoint this project's stack started (by its training file)."""
    training_file = file_id(project)
    return [job for job in host.jobs() if job["training_file"] == training_file]


def owned(project: Project) -> list[str]:
    return [str(r["id"]) for r in project.state_resources() if r["type"].endswith("FineTuningJob")]


def uploaded(host: Host, project: Project) -> None:
    """The stack's TrainingFile first, so that only the job's create is faulted."""
    project.write(program())
    project.up()
    host.server.reset_stats()


@pytest.mark.parametrize("fault", ["commit_then_500", "commit_then_drop"])
@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_lost_create_answer_leaves_exactly_one_job_the_stack_owns(
    endpoints: dict[str, Host], hosted: Any, flavor: str, fault: str
) -> None:
    host = endpoints[flavor]
    project = hosted(host)
    uploaded(host, project)
    job, _ = JOBS[flavor]
    host.server.add_fault(host.create_route, fault, times=1)
    try:
        project.write(program(**job))
        project.up()
    finally:
        host.server.clear_faults()

    jobs = jobs_of(host, project)
    assert len(jobs) == 1, jobs
    assert owned(project) == [jobs[0]["id"]]
    assert host.server.stats()["jobs_created"] == 1
    assert host.posts() == 1  # found again, never posted again
    if flavor in ("openai", "azure"):
        assert jobs[0]["metadata"]["team"] == "billing"  # the user's metadata beside the marker
    else:
        assert "metadata" not in jobs[0]  # the host keeps none, as documented


@pytest.mark.parametrize("finished", [False, True], ids=["still-running", "finished-meanwhile"])
@pytest.mark.parametrize("flavor", ["nebius", "bedrock", "together"])
def test_a_run_killed_mid_create_is_adopted_on_a_host_without_metadata(
    endpoints: dict[str, Host], hosted: Any, flavor: str, finished: bool
) -> None:
    host = endpoints[flavor]
    project = hosted(host)
    uploaded(host, project)
    host.server.add_fault(host.create_route, "slow", delay=3.0)
    project.write(program(**JOBS[flavor][0]))
    try:
        run = start_pulumi(project, "up", "--yes", "--skip-preview")
        wait_until(lambda: host.posts() == 1)
        time.sleep(0.3)
        run.kill()
        run.kill_leftovers()
        wait_until(lambda: host.server.stats()["jobs_created"] == 1)  # the lost request took effect
    finally:
        host.server.clear_faults()
    (started,) = jobs_of(host, project)
    if finished:
        host.server.advance_clock(100_000)  # it trains to the end before the run is re-run

    project.pulumi("cancel", "--yes")  # the file backend's stale lock
    project.up()

    (job,) = jobs_of(host, project)
    assert job["id"] == started["id"]
    if finished:
        # adopted all the same: no second paid job
        assert job["status"] == SUCCEEDED.get(flavor, "succeeded")
    assert owned(project) == [started["id"]]
    assert host.posts() == 1


def test_two_stacks_on_nebius_never_adopt_each_others_jobs(
    endpoints: dict[str, Host], hosted: Any
) -> None:
    """The marker's seed names the stack: a second stack training the first one's file the same
    way, whose create answer is lost, finds its own job, never the first stack's."""
    host = endpoints["nebius"]
    first, second = hosted(host), hosted(host)
    first.write(program(model=OPEN_MODEL))
    first.up()
    (theirs,) = jobs_of(host, first)
    shared = theirs["training_file"]
    second.write({"jobs": {"bot": {"model": OPEN_MODEL, "training_file": shared}}})
    host.server.reset_stats()
    host.server.add_fault(CREATE, "commit_then_500", times=1)
    try:
        second.up()
    finally:
        host.server.clear_faults()

    both = [job for job in host.api.jobs() if job["training_file"] == shared]
    assert len(both) == 2, both
    (mine,) = [job for job in both if job["id"] != theirs["id"]]
    assert owned(second) == [mine["id"]] and owned(first) == [theirs["id"]]
    assert mine["seed"] != theirs["seed"]
    assert host.posts() == 1


def test_nebius_flavor_keeps_no_metadata_and_its_list_takes_no_filter(
    endpoints: dict[str, Host], tmp_path: Path
) -> None:
    api = endpoints["nebius"].api
    training_file = api.upload(CHAT)
    body = {"model": OPEN_MODEL, "training_file": training_file, "metadata": {"k": "v"}}
    job = api.post("fine_tuning/jobs", body)
    assert "metadata" not in job and "metadata" not in api.get(f"fine_tuning/jobs/{job['id']}")
    listed = api.get("fine_tuning/jobs", **{"metadata[k]": "other", "limit": 100})["data"]
    assert job["id"] in [j["id"] for j in listed]  # the filter is not the host's: ignored
    api.post(f"fine_tuning/jobs/{job['id']}/cancel")


# -- Amazon Bedrock --------------------------------------------------------------------------


def test_bedrock_reinforcement_with_a_lambda_grader_create_wait_refresh_destroy(
    fast_bedrock: Host, hosted: Any
) -> None:
    project = hosted(fast_bedrock)
    project.write(program(model=BEDROCK_MODEL, method=RFT_METHOD, wait_for_completion=True))

    preview = project.preview("--diff")
    assert "keeps no marker" in preview.output, preview.output  # the weaker guarantee, named
    up = project.up()
    assert "Traceback" not in up.output
    out = project.resource_outputs("bot")
    assert out["status"] == "succeeded" and out["host"] == "bedrock"
    assert out["result_model"] == out["fine_tuned_model"] != ""
    received = fast_bedrock.server.job_request(out["job_id"])["received"]
    assert received["auth"] == "bearer-key"  # a Bedrock API key, as bearer
    assert received["body"]["method"]["reinforcement"]["grader"] == LAMBDA
    assert "metadata" not in received["body"] and "seed" not in received["body"]

    fast_bedrock.server.reset_stats()
    assert_no_changes(project.preview().stdout)
    assert fast_bedrock.server.stats()["requests"] == 0
    assert_no_changes(project.refresh().stdout)
    assert project.resource_outputs("bot")["result_model"] == out["result_model"]
    fast_bedrock.server.reset_stats()
    assert_no_changes(project.preview().stdout)
    assert fast_bedrock.server.stats()["requests"] == 0

    project.destroy()
    assert owned(project) == []


@pytest.mark.parametrize(
    ("host", "job", "words"),
    [
        (
            "bedrock",
            {"model": BEDROCK_MODEL, "method": RFT_METHOD, "suffix": "triage"},
            "Amazon Bedrock does not take a suffix",
        ),
        (
            "openai",
            {"model": "o4-mini", "method": RFT_METHOD},
            "OpenAI does not take a 'lambda' grader (only Amazon Bedrock does)",
        ),
        (
            "azure",
            {"model": "o4-mini", "method": RFT_METHOD},
            "Azure OpenAI / Microsoft Foundry does not take a 'lambda' grader",
        ),
        (
            "bedrock",
            {
                "model": BEDROCK_MODEL,
                "method": {
                    "type": "reinforcement",
                    "reinforcement": {
                        "grader": {"type": "lambda", "lambda": {"function": "my-reward"}}
                    },
                },
            },
            "must be an AWS Lambda function's ARN",
        ),
        (
            "bedrock",
            {"model": BEDROCK_MODEL, "method": {"type": "supervised"}},
            "Amazon Bedrock does not take method 'supervised'",
        ),
        (
            "bedrock",
            {"model": BEDROCK_MODEL, "method": RFT_METHOD, "metadata": {"team": "x"}},
            "Amazon Bedrock keeps no metadata on a job",
        ),
    ],
)
def test_preview_refuses_what_bedrock_or_another_host_does_not_take_with_no_request(
    fast_bedrock: Host, hosted: Any, host: str, job: dict[str, Any], words: str
) -> None:
    project = hosted(fast_bedrock, host)
    project.write(program(**job))
    fast_bedrock.server.reset_stats()
    preview = project.preview(check=False)
    assert preview.returncode != 0
    assert words in preview.output, preview.output
    assert "Traceback" not in preview.output
    assert fast_bedrock.server.stats()["requests"] == 0


def test_bedrock_takes_at_most_twenty_thousand_prompts_and_at_least_a_hundred(
    fast_bedrock: Host, hosted: Any
) -> None:
    project = hosted(fast_bedrock, data=CHAT)  # 12 examples
    rft = project.dir / "train.jsonl"
    rft.write_text("".join(RFT.read_text().splitlines(keepends=True)[:12]))
    project.write(program(model=BEDROCK_MODEL, method=RFT_METHOD))
    fast_bedrock.server.reset_stats()
    preview = project.preview(check=False)
    assert preview.returncode != 0
    assert "Amazon Bedrock trains on 100 to 20,000" in preview.output, preview.output
    assert fast_bedrock.server.stats()["requests"] == 0


def test_a_create_bedrock_refuses_for_its_wind_down_is_one_post_and_a_readable_error(
    fast_bedrock: Host, hosted: Any
) -> None:
    project = hosted(fast_bedrock)
    uploaded(fast_bedrock, project)
    fast_bedrock.server.wind_down(jobs_end="2000-01-01")
    try:
        project.write(program(model=BEDROCK_MODEL, method=RFT_METHOD))
        up = project.up(check=False)
    finally:
        fast_bedrock.server.wind_down(jobs_end=None)
    assert up.returncode != 0
    assert "can no longer create fine-tuning jobs" in up.output, up.output
    assert "Traceback" not in up.output
    assert fast_bedrock.posts() == 1
    assert owned(project) == []


# -- the host's word on retirement -------------------------------------------------------------


def test_refresh_takes_the_hosts_shutdown_date_over_the_table(
    endpoints: dict[str, Host], hosted: Any
) -> None:
    host = endpoints["openai"]
    project = hosted(host, "openai")
    project.write(program(model=MODEL))
    project.up()
    table = project.resource_outputs("bot")["model_retires_on"]
    assert table == "2027-01-14"  # OpenAI's, from the lifecycle table
    host.server.wind_down(retire={MODEL: "2027-03-01"})
    try:
        host.server.reset_stats()
        assert_no_changes(project.preview().stdout)  # a no-op preview asks nothing
        assert host.server.stats()["requests"] == 0
        project.refresh()
        assert project.resource_outputs("bot")["model_retires_on"] == "2027-03-01"
        host.server.reset_stats()
        assert_no_changes(project.preview().stdout)
        assert host.server.stats()["requests"] == 0
        project.up()
        assert project.resource_outputs("bot")["model_retires_on"] == "2027-03-01"
    finally:
        host.server.wind_down(retire={MODEL: None})
    project.destroy()
