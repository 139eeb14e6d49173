"""On the plugin face, creates of many jobs share one listing of the stack's marked jobs: a
`pulumi up` of N new jobs (YAML, real CLI, local endpoint) makes N creates and one listing, and
the money-safety guarantees still hold (a lost create answer, a run killed mid-create)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.local.testing import start_pulumi
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir

from .conftest import DATASET, MODEL, Endpoint, wait_until

CREATE = "POST /v1/fine_tuning/jobs"
LIST = "GET /v1/fine_tuning/jobs"
N = 50  # issue 28: `pulumi up` of 50 jobs makes at most 50 creates plus the listing's pages


@pytest.fixture(scope="module")
def hosts() -> Path:
    return language_hosts_dir()


@pytest.fixture
def project(ep: Endpoint, hosts: Path, tmp_path: Path) -> Iterator[PluginProject]:
    made = PluginProject(root=tmp_path / "p", engine=hosts, endpoint_url=ep.url, api_key=ep.key)
    (made.dir / "train.jsonl").write_bytes(DATASET.read_bytes())
    yield made
    made.cleanup()


def program(names: list[str], **job: Any) -> dict[str, Any]:
    jobs = {
        name: {"model": MODEL, "training_file": "@data", "suffix": name, **job} for name in names
    }
    return {"files": {"data": {"path": "train.jsonl"}}, "jobs": jobs}


def routes(ep: Endpoint) -> dict[str, int]:
    by_route: dict[str, int] = ep.server.stats()["by_route"]
    return by_route


def uploaded(ep: Endpoint, project: PluginProject) -> str:
    project.write(program([]))
    project.up()
    ep.server.reset_stats()
    (data,) = [r for r in project.state_resources() if r["urn"].endswith("::data")]
    return str(data["id"])


def jobs_of(ep: Endpoint, training_file: str) -> list[dict[str, Any]]:
    return [job for job in ep.api.jobs() if job["training_file"] == training_file]


def owned(project: PluginProject) -> list[str]:
    return sorted(
        str(r["id"]) for r in project.state_resources() if r["type"].endswith("FineTuningJob")
    )


def test_an_up_of_many_new_jobs_makes_one_listing_and_one_create_each(
    ep: Endpoint, project: PluginProject
) -> None:
    training_file = uploaded(ep, project)
    names = [f"job-{i:02d}" for i in range(N)]
    project.write(program(names))

    started = time.monotonic()
    project.up()
    seconds = time.monotonic() - started

    counts = routes(ep)
    assert counts.get(CREATE) == N
    assert counts.get(LIST) == 1, counts  # one page: the stack's marked jobs, listed once
    jobs = jobs_of(ep, training_file)
    assert len(jobs) == N and sorted(j["id"] for j in jobs) == owned(project)
    print(f"\n{N} jobs through the plugin: {sum(counts.values())} requests, {seconds:.1f} s")

    # an up that adds jobs to a stack with jobs: one more listing, one create per new job
    ep.server.reset_stats()
    project.write(program([*names, "job-new-1", "job-new-2"]))
    project.up()
    assert routes(ep).get(CREATE) == 2 and routes(ep).get(LIST) == 1
    assert len(jobs_of(ep, training_file)) == N + 2


@pytest.mark.parametrize("fault", ["commit_then_500", "commit_then_drop"])
def test_a_lost_create_answer_among_many_still_leaves_one_job_each(
    ep: Endpoint, project: PluginProject, fault: str
) -> None:
    training_file = uploaded(ep, project)
    names = [f"job-{i}" for i in range(5)]
    ep.server.add_fault(CREATE, fault, times=2)
    project.write(program(names))
    project.up()

    jobs = jobs_of(ep, training_file)
    assert len(jobs) == 5, [j["id"] for j in jobs]
    assert sorted(j["id"] for j in jobs) == owned(project)
    assert routes(ep).get(CREATE) == 5
    assert ep.server.stats()["jobs_created"] == 5


def test_a_run_killed_mid_create_is_adopted_from_the_shared_listing(
    ep: Endpoint, project: PluginProject
) -> None:
    training_file = uploaded(ep, project)
    ep.server.add_fault(CREATE, "slow", delay=3.0)
    project.write(program(["bot"]))
    run = start_pulumi(project, "up", "--yes", "--skip-preview")
    wait_until(lambda: routes(ep).get(CREATE, 0) == 1)
    time.sleep(0.3)
    run.kill()
    run.kill_leftovers()
    wait_until(lambda: ep.server.stats()["jobs_created"] == 1)
    (started,) = jobs_of(ep, training_file)
    ep.server.clear_faults()

    project.pulumi("cancel", "--yes")
    project.up()

    assert [j["id"] for j in jobs_of(ep, training_file)] == [started["id"]]
    assert owned(project) == [started["id"]]
    assert routes(ep).get(CREATE) == 1
