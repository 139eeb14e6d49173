"""A job belongs to the one stack instance that started it (issue 15).

Two people share one OpenAI project, each with their own backend and a stack of the same name;
or a stack is removed and re-created under the same name. Orphan adoption must never take over
a job another stack instance started, and its destroy must never cancel it.
"""

from __future__ import annotations

from typing import Any

from .conftest import MODEL

ACTIVE = {"validating_files", "queued", "running", "paused"}
JOB: dict[str, Any] = {"model": MODEL, "training_file": "@data", "suffix": "team"}


def program(**job: Any) -> dict[str, Any]:
    return {"files": {"data": {"path": "train.jsonl"}}, "jobs": {"support-bot": {**JOB, **job}}}


def status(endpoint: Any, job_id: str) -> str:
    return str(endpoint.api.get(f"fine_tuning/jobs/{job_id}")["status"])


def test_two_backends_with_the_same_stack_name_start_and_destroy_their_own_jobs(
    slow_endpoint, make_project
):
    alice = make_project(slow_endpoint)  # same project ("e2e") and stack ("dev") names,
    bob = make_project(slow_endpoint)  # each with its own file backend
    alice.write(program())
    bob.write(program())

    alice.up()
    bob.up()

    alices = alice.resource_outputs("support-bot")["job_id"]
    bobs = bob.resource_outputs("support-bot")["job_id"]
    assert alices != bobs
    assert status(slow_endpoint, alices) in ACTIVE and status(slow_endpoint, bobs) in ACTIVE

    bob.destroy()

    assert status(slow_endpoint, bobs) == "cancelled"
    assert status(slow_endpoint, alices) in ACTIVE  # Bob's destroy left Alice's job alone
    alice.destroy()


def test_a_stack_removed_and_recreated_under_the_same_name_starts_a_new_job(
    slow_endpoint, make_project
):
    project = make_project(slow_endpoint)
    project.write(program(on_destroy="keep"))  # the first stack's job keeps running
    project.up()
    first = project.resource_outputs("support-bot")["job_id"]
    project.destroy()
    project.pulumi("stack", "rm", "dev", "--yes")
    project.init_stack()

    project.up()

    second = project.resource_outputs("support-bot")["job_id"]
    assert second != first
    assert status(slow_endpoint, first) in ACTIVE and status(slow_endpoint, second) in ACTIVE
    slow_endpoint.api.post(f"fine_tuning/jobs/{first}/cancel")
    project.write(program())
    project.destroy()
