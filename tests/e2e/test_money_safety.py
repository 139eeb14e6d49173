"""Money safety under the real pulumi CLI (issue 5): no duplicate jobs, no orphans, faults survived.

Every test runs `pulumi` against its own project and a local endpoint dedicated to this module
(faults never leak into other tests). Jobs are counted at the endpoint by the project's training
file, so each test sees exactly the jobs its stack started. The endpoint's clock runs at real
speed: jobs stay running (so destroy has something to cancel) until a test advances the clock.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from pulumi_finetune import hosts, identity
from pulumi_finetune.client import Client
from pulumi_finetune.local.testing import Project, start_pulumi
from pulumi_finetune.providers import job as job_provider
from pulumi_finetune.providers import waiting
from pulumi_finetune.settings import Settings
from pulumi_finetune.spec import MARKER_KEY as MARKER

from .conftest import DATASET, MODEL, Endpoint, wait_until

CREATE = "POST /v1/fine_tuning/jobs"
CANCEL = "POST /v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel"
RETRIEVE = "GET /v1/fine_tuning/jobs/{fine_tuning_job_id}"
JOB_ROUTES = "* /v1/fine_tuning/jobs*"  # every job route (create, list, retrieve, cancel, ...)
ACTIVE = {"validating_files", "queued", "running", "paused"}
TYPE = "pulumi-python:dynamic/finetune:FineTuningJob"

JOB: dict[str, Any] = {
    "model": MODEL,
    "training_file": "@data",
    "suffix": "money",
    "metadata": {"team": "billing"},
}


def program(jobs: dict[str, dict[str, Any]] | None = None, **job: Any) -> dict[str, Any]:
    return {
        "files": {"data": {"path": "train.jsonl"}},
        "jobs": jobs if jobs is not None else {"bot": {**JOB, **job}},
    }


@pytest.fixture
def project(ep: Endpoint, make_project: Callable[[Endpoint], Project]) -> Project:
    return make_project(ep)


def file_id(project: Project) -> str:
    for resource in project.state_resources():
        if resource["urn"].endswith("::data"):
            return str(resource["id"])
    raise KeyError("no TrainingFile in state")


def jobs_of(ep: Endpoint, project: Project) -> list[dict[str, Any]]:
    """The jobs at the endpoint that this project's stack started (by its training file)."""
    training_file = file_id(project)
    return [job for job in ep.api.jobs() if job["training_file"] == training_file]


def posts(ep: Endpoint) -> int:
    return int(ep.server.stats()["by_route"].get(CREATE, 0))


def job_ids_in_state(project: Project) -> list[str]:
    return [str(r["id"]) for r in project.state_resources() if r["type"] == TYPE]


def pending_operations(project: Project) -> list[dict[str, Any]]:
    deployment = json.loads(project.export())["deployment"]
    pending: list[dict[str, Any]] = deployment.get("pending_operations") or []
    return pending


def active_faults(ep: Endpoint) -> list[dict[str, Any]]:
    response = ep.api.session.get(f"{ep.api.root}/_local/faults", timeout=10)
    response.raise_for_status()
    faults: list[dict[str, Any]] = response.json()["data"]
    return faults


def upload_data(project: Project, ep: Endpoint) -> None:
    """Create the stack's TrainingFile first, so that only the job's requests are faulted."""
    project.write(program(jobs={}))
    project.up()
    ep.server.reset_stats()


# -- ambiguous creates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "expected_posts"),
    [
        pytest.param([("commit_then_500", 1)], 1, id="commit-then-500-once"),
        pytest.param([("commit_then_drop", 3)], 1, id="commit-then-drop-3-in-a-row"),
        pytest.param([("503", 1), ("drop", 1), ("commit_then_500", 1)], 3, id="503-drop-commit"),
    ],
)
def test_ambiguous_create_leaves_exactly_one_job(ep, project, script, expected_posts):
    upload_data(project, ep)
    for kind, times in script:
        ep.server.add_fault(CREATE, kind, times=times)
    project.write(program())

    project.up()

    jobs = jobs_of(ep, project)
    assert len(jobs) == 1, jobs
    assert job_ids_in_state(project) == [jobs[0]["id"]]
    assert posts(ep) == expected_posts
    assert ep.server.stats()["jobs_created"] == 1
    assert jobs[0]["metadata"]["team"] == "billing"  # the user's metadata kept beside the marker


# -- interrupted runs -------------------------------------------------------------------------


def test_sigkill_during_create_then_up_adopts_the_job(ep, project):
    """The create request is in flight (slow) when pulumi is killed; the endpoint commits it."""
    upload_data(project, ep)
    ep.server.add_fault(CREATE, "slow", delay=3.0)
    project.write(program())

    run = start_pulumi(project, "up", "--yes", "--skip-preview")
    wait_until(lambda: posts(ep) == 1)
    time.sleep(0.3)
    leftovers = run.kill()
    run.kill_leftovers()
    wait_until(lambda: ep.server.stats()["jobs_created"] == 1)  # the lost request took effect
    (started,) = jobs_of(ep, project)
    assert leftovers, "the language host and provider outlive a SIGKILLed pulumi CLI"

    locked = project.up(check=False)
    assert locked.returncode != 0 and "locked" in locked.output
    project.pulumi("cancel", "--yes")  # the file backend's stale lock
    assert [op["type"] for op in pending_operations(project)] == ["creating"]
    up = project.up()

    assert "pending operations" in up.output
    assert [job["id"] for job in jobs_of(ep, project)] == [started["id"]]
    assert job_ids_in_state(project) == [started["id"]]
    assert posts(ep) == 1
    # pulumi up leaves the stale "creating" entry in state (and warns on every run) until a
    # refresh clears it; non-interactive refresh needs --clear-pending-creates to do so.
    assert [op["type"] for op in pending_operations(project)] == ["creating"]
    project.refresh("--clear-pending-creates")
    assert pending_operations(project) == []
    assert job_ids_in_state(project) == [started["id"]]


def test_sigkill_during_wait_then_up_adopts_the_job(ep, project):
    upload_data(project, ep)
    project.write(program(wait_for_completion=True))

    run = start_pulumi(project, "up", "--yes", "--skip-preview")
    wait_until(lambda: ep.server.stats()["by_route"].get(RETRIEVE, 0) >= 1)  # polling
    run.kill()
    run.kill_leftovers()
    (started,) = jobs_of(ep, project)
    assert started["status"] in ACTIVE
    ep.server.advance_clock(100_000)  # it trains to the end meanwhile

    project.pulumi("cancel", "--yes")
    project.up()

    (job,) = jobs_of(ep, project)
    assert job["id"] == started["id"] and job["status"] == "succeeded"
    assert job_ids_in_state(project) == [started["id"]]
    assert project.outputs()["bot.fine_tuned_model"] == job["fine_tuned_model"]
    assert posts(ep) == 1


def test_replace_starts_a_new_job_and_cancels_the_old_one_or_leaves_it_finished(ep, project):
    """Each `pulumi up --replace` of an unchanged spec posts a new job: neither the job being
    replaced nor an earlier finished one with the same marker is adopted."""
    project.write(program())
    project.up()
    (a,) = jobs_of(ep, project)
    urn = f"urn:pulumi:dev::e2e::{TYPE}::bot"
    ep.server.reset_stats()

    up = project.up("--replace", urn)  # a is running: cancelled
    assert "1 replaced" in up.output, up.output
    (b,) = [job for job in jobs_of(ep, project) if job["id"] != a["id"]]
    ep.server.advance_clock(100_000)  # b succeeds
    project.up("--replace", urn)  # b has finished: left as it is
    (c,) = [job for job in jobs_of(ep, project) if job["id"] not in (a["id"], b["id"])]
    project.up("--replace", urn)  # b (finished, same marker, no longer owned) is not adopted

    assert posts(ep) == 3
    jobs = {job["id"]: job for job in jobs_of(ep, project)}
    assert len(jobs) == 4
    (d,) = set(jobs) - {a["id"], b["id"], c["id"]}
    status = {
        name: jobs[job_id]["status"]
        for name, job_id in zip("abcd", [a["id"], b["id"], c["id"], d], strict=True)
    }
    assert status == {"a": "cancelled", "b": "succeeded", "c": "cancelled", "d": status["d"]}
    assert status["d"] in ACTIVE
    assert job_ids_in_state(project) == [d]


def test_replace_killed_mid_create_and_run_again_adopts_its_job(ep, project):
    """Re-running the interrupted `pulumi up --replace` adopts the job the killed run started
    (same previous inputs, same generation, same marker) instead of starting a third."""
    project.write(program())
    project.up()
    (old,) = jobs_of(ep, project)
    urn = f"urn:pulumi:dev::e2e::{TYPE}::bot"
    ep.server.reset_stats()
    ep.server.add_fault(CREATE, "slow", delay=3.0)

    run = start_pulumi(project, "up", "--yes", "--skip-preview", "--replace", urn)
    wait_until(lambda: posts(ep) == 1)
    run.kill()
    run.kill_leftovers()
    wait_until(lambda: ep.server.stats()["jobs_created"] == 1)
    project.pulumi("cancel", "--yes")
    project.up("--replace", urn)

    assert posts(ep) == 1
    jobs = {job["id"]: job for job in jobs_of(ep, project)}
    assert len(jobs) == 2
    (new_id,) = set(jobs) - {old["id"]}
    assert jobs[old["id"]]["status"] == "cancelled"
    assert jobs[new_id]["status"] in ACTIVE
    assert job_ids_in_state(project) == [new_id]


# -- rate limits and outages ------------------------------------------------------------------


def test_twenty_jobs_under_random_faults_then_destroy_leaves_none_running(ep, project):
    upload_data(project, ep)
    faults = {"random_rate": 0.3, "kinds": ["429", "503", "drop"], "route": JOB_ROUTES}
    ep.api.fault(**faults, seed=5)
    names = [f"job-{i:02d}" for i in range(20)]
    project.write(program(jobs={name: {**JOB, "metadata": {"name": name}} for name in names}))

    project.up()

    ep.server.clear_faults()  # the test's own counting is not under test
    jobs = jobs_of(ep, project)
    assert len(jobs) == 20
    assert sorted(job_ids_in_state(project)) == sorted(job["id"] for job in jobs)
    assert sorted(job["metadata"]["name"] for job in jobs) == names
    assert ep.server.stats()["jobs_created"] == 20 and posts(ep) >= 20
    ep.api.fault(**faults, seed=6)

    project.destroy()

    ep.server.clear_faults()
    after = jobs_of_file(ep, jobs[0]["training_file"])
    assert len(after) == 20 and {job["status"] for job in after} == {"cancelled"}
    assert job_ids_in_state(project) == []


def jobs_of_file(ep: Endpoint, training_file: str) -> list[dict[str, Any]]:
    return [job for job in ep.api.jobs() if job["training_file"] == training_file]


def test_insufficient_quota_fails_once_with_the_message_and_request_id(ep, project):
    upload_data(project, ep)
    ep.server.add_fault(CREATE, "insufficient_quota", times=10)
    project.write(program())

    up = project.up(check=False)

    assert up.returncode != 0
    assert "You exceeded your current quota" in up.output
    assert "insufficient_quota" in up.output
    assert "request id req_" in up.output
    assert posts(ep) == 1
    assert jobs_of(ep, project) == []


# -- destroy under faults ---------------------------------------------------------------------


def test_destroy_retries_faults_tolerates_404_and_never_reports_a_running_job_gone(ep, project):
    project.write(program(jobs={"bot": JOB, "gone": {**JOB, "suffix": "gone"}}))
    project.up()
    by_name = {r["urn"].rsplit("::", 1)[1]: r.get("id") for r in project.state_resources()}
    # The "gone" job vanished behind Pulumi's back: state now points at an id the API 404s.
    state = json.loads(project.export())
    for resource in state["deployment"]["resources"]:
        if resource["urn"].endswith("::gone"):
            resource["id"] = resource["outputs"]["job_id"] = "ftjob-doesnotexist"
    (project.root / "state.json").write_text(json.dumps(state))
    project.pulumi("stack", "import", "--file", str(project.root / "state.json"))
    running = by_name["bot"]

    # Cancelling keeps failing (rate limited beyond the client's retries): destroy must fail and
    # keep the running job in state.
    ep.server.add_fault(CANCEL, "429", times=100, retry_after=0.01)
    failed = project.destroy(check=False)
    assert failed.returncode != 0
    assert "HTTP 429" in failed.output and "rate_limit_exceeded" in failed.output
    assert ep.api.get(f"fine_tuning/jobs/{running}")["status"] in ACTIVE
    assert job_ids_in_state(project) == [running]  # the 404 one is gone from state, this one not

    # Transient faults on every step: read (503, drop), cancel (drop, commit then 500).
    ep.server.clear_faults()
    ep.server.add_fault(RETRIEVE, "503")
    ep.server.add_fault(RETRIEVE, "drop")
    ep.server.add_fault(CANCEL, "drop")
    ep.server.add_fault(CANCEL, "commit_then_500")
    project.destroy()

    assert ep.api.get(f"fine_tuning/jobs/{running}")["status"] == "cancelled"
    assert job_ids_in_state(project) == []
    assert active_faults(ep) == []  # every injected fault was met and survived


# -- in-process: paths the endpoint cannot script through the CLI ---------------------------


NOTHING_OWNED = {"job_id": "", "created_at": 0}  # a fresh resource: the stack owns no job


class LaggingList(job_provider._Orphans):
    """A list that misses a job created a moment ago (eventual consistency), once."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.misses = 1

    def find(self, posted: bool = False) -> dict[str, Any] | None:
        if self.misses:
            self.misses -= 1
            return None
        return super().find(posted)


def client_for(ep: Endpoint) -> Client:
    return Client(Settings(base_url=ep.url, api_key=ep.key))


def test_a_create_that_posted_again_cancels_the_job_the_list_missed(ep):
    with client_for(ep) as client:
        training_file = client.upload_file(DATASET, purpose="fine-tune")["id"]
        marker = identity.marker_for(str(uuid.uuid4()), "e2e/dev/lagging", secrets.token_hex(8))
        body = {"model": MODEL, "training_file": training_file, "metadata": {MARKER: marker}}
        ep.server.add_fault(CREATE, "commit_then_500")

        orphans = LaggingList(client, hosts.COMPATIBLE, "metadata", marker, body, NOTHING_OWNED)
        job = job_provider._create_once(client, body, orphans)

        jobs = {j["id"]: j for j in ep.api.jobs() if j["training_file"] == training_file}
    assert posts(ep) == 2 and len(jobs) == 2
    (late,) = set(jobs) - {job["id"]}
    assert jobs[late]["status"] == "cancelled"
    assert jobs[job["id"]]["status"] in ACTIVE


def test_a_wait_the_endpoint_interrupts_returns_the_running_job(ep):
    with client_for(ep) as client:
        training_file = client.upload_file(DATASET, purpose="fine-tune")["id"]
        job = client.create_job({"model": MODEL, "training_file": training_file})
        ep.server.add_fault(RETRIEVE, "insufficient_quota")

        progress = waiting.Progress("bot", log=waiting.EngineLog(None))
        seen = waiting.wait_for_job(client, job, timeout=30.0, progress=progress)

    assert seen["id"] == job["id"] and seen["status"] in ACTIVE  # recorded, not forgotten
