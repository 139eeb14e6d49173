"""A YAML program through the provider plugin, under the real pulumi CLI: one job, no churn,
an honest refresh, a destroy that cancels, and a first Ctrl-C that stops a wait."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.local.testing import start_pulumi
from pulumi_finetune.plugin.testing import PluginProject, language_hosts_dir

from .conftest import DATASET, MODEL, REPO, Endpoint, wait_until

POSTS = "POST /v1/fine_tuning/jobs"


EXAMPLE = REPO / "examples" / "yaml" / "Pulumi.yaml"


def program(wait: bool) -> str:
    """The example's program (its resources and outputs), waiting for the job or not."""
    body = "resources:" + EXAMPLE.read_text().split("\nresources:", 1)[1]
    return body.replace("waitForCompletion: true", f"waitForCompletion: {str(wait).lower()}")


@pytest.fixture(scope="module")
def hosts() -> Path:
    return language_hosts_dir()


@pytest.fixture
def yaml_project(hosts: Path, tmp_path: Path) -> Iterator[Callable[..., PluginProject]]:
    made: list[PluginProject] = []

    def make(endpoint: Endpoint, wait: bool) -> PluginProject:
        project = PluginProject(
            root=tmp_path / f"p{len(made)}",
            engine=hosts,
            endpoint_url=endpoint.url,
            api_key=endpoint.key,
            program=program(wait),
        )
        (project.dir / "data").mkdir()
        (project.dir / "data" / "train.jsonl").write_bytes(DATASET.read_bytes())
        made.append(project)
        return project

    yield make
    for project in made:
        project.cleanup()


def _posts(endpoint: Endpoint) -> int:
    count: int = endpoint.api.stats()["by_route"].get(POSTS, 0)
    return count


def _job(project: PluginProject) -> dict[str, Any]:
    (job,) = [r for r in project.state_resources() if r["type"] == "finetune:index:FineTuningJob"]
    return job


def test_yaml_up_creates_one_job_then_no_requests_refresh_and_destroy_cancels(
    ep: Endpoint, yaml_project: Callable[..., PluginProject]
) -> None:
    project = yaml_project(ep, wait=False)
    preview = project.preview()
    assert ep.api.stats()["requests"] == 0
    assert "+ 3 to create" in preview.stdout, preview.stdout  # stack, file, job

    project.up()
    outputs = project.outputs()
    assert _posts(ep) == 1
    assert outputs["jobId"].startswith("ftjob-") and outputs["estimatedCostUsd"] > 0
    job = ep.api.get(f"fine_tuning/jobs/{outputs['jobId']}")
    assert job["method"]["supervised"]["hyperparameters"]["n_epochs"] == 3
    assert job["metadata"]["pulumi_finetune"]  # the marker, as on the Python face

    ep.api.reset_stats()
    again = project.up()
    assert ep.api.stats()["requests"] == 0, ep.api.stats()
    assert "3 unchanged" in again.stdout, again.stdout

    ep.api.advance_clock(3600)
    project.refresh()
    assert _job(project)["outputs"]["status"] == "succeeded"  # refresh reads what the API says
    assert _job(project)["outputs"]["fineTunedModel"].startswith("ft:")

    project.write_program(program(wait=False).replace("suffix: support", "suffix: other"))
    diff = project.preview().stdout
    assert re.search(r"~ suffix\s*: \"support\" => \"other\"", diff), diff  # what replaces
    project.up()  # a replacement: a new job, running
    running = project.outputs()["jobId"]
    assert _posts(ep) == 1 and ep.api.get(f"fine_tuning/jobs/{running}")["status"] != "cancelled"

    project.destroy()
    assert ep.api.get(f"fine_tuning/jobs/{running}")["status"] == "cancelled"
    assert project.state_resources() == [] or all(
        r["type"].startswith("pulumi:") for r in project.state_resources()
    )


def test_one_sigint_stops_the_wait_keeps_the_job_and_the_next_up_resumes_without_a_post(
    ep: Endpoint, yaml_project: Callable[..., PluginProject]
) -> None:
    project = yaml_project(ep, wait=True)
    earlier = {job["id"] for job in ep.api.jobs()}
    run = start_pulumi(project, "up", "--yes", "--skip-preview")
    wait_until(lambda: "Ctrl-C stops waiting" in run.output(), timeout=120)
    # The progress is on the job's own row, naming the job and its status.
    row = r"FineTuningJob support-bot creating \(\d+s\) ftjob-\w+ validating_files\. Ctrl-C"
    assert re.search(row, run.output()), run.output()
    (started,) = [job for job in ep.api.jobs() if job["id"] not in earlier]

    sent = time.monotonic()
    run.process.send_signal(signal.SIGINT)  # once
    run.process.wait(timeout=60)
    print(f"pulumi up exited {time.monotonic() - sent:.2f} s after one SIGINT")
    wait_until(lambda: not run.leftovers(), timeout=30)  # no provider process left behind

    job = ep.api.get(f"fine_tuning/jobs/{started['id']}")
    assert job["status"] in ("validating_files", "queued", "running")  # not cancelled
    recorded = _job(project)
    assert recorded["id"] == started["id"]  # a partially created resource, with its id
    assert recorded.get("initErrors"), json.dumps(recorded)[:2000]

    # A second Ctrl-C, during the wait the next `pulumi up` resumes: still recorded as
    # interrupted, so the up after it waits again (not "unchanged" on a running job).
    ep.api.reset_stats()
    again = start_pulumi(project, "up", "--yes", "--skip-preview")
    wait_until(lambda: "Ctrl-C stops waiting" in again.output(), timeout=120)
    again.process.send_signal(signal.SIGINT)
    again.process.wait(timeout=60)
    wait_until(lambda: not again.leftovers(), timeout=30)
    assert _job(project).get("initErrors"), json.dumps(_job(project))[:2000]

    ep.api.advance_clock(3600)
    project.up()
    assert _posts(ep) == 0
    assert _job(project)["outputs"]["status"] == "succeeded"
    assert project.outputs()["model"].startswith("ft:")


def test_pulumi_import_takes_over_a_job_and_the_next_preview_shows_no_changes(
    ep: Endpoint, yaml_project: Callable[..., PluginProject]
) -> None:
    training_file = ep.api.upload(DATASET)
    job = ep.api.post("fine_tuning/jobs", {"model": MODEL, "training_file": training_file})
    project = yaml_project(ep, wait=False)
    project.write_program("")

    imported = project.pulumi(
        "import", "finetune:index:FineTuningJob", "adopted", job["id"], "--yes"
    )
    # The program Pulumi generates from the plugin's schema and the imported inputs.
    assert f"trainingFile: {training_file}" in imported.stdout, imported.stdout
    recorded = _job(project)
    assert recorded["id"] == job["id"] and recorded["outputs"]["trainingFile"] == training_file

    project.write_program(
        f"""resources:
  adopted:
    type: finetune:index:FineTuningJob
    properties:
      model: {MODEL}
      trainingFile: {training_file}
    options:
      protect: true
"""
    )
    ep.api.reset_stats()
    project.preview("--expect-no-changes")
    project.up("--expect-no-changes")
    assert _posts(ep) == 0


def test_replace_with_refresh_starts_a_new_job_and_cancels_the_old_one(
    ep: Endpoint, yaml_project: Callable[..., PluginProject]
) -> None:
    """`pulumi up --replace` sends the plugin no state of the job it replaces: the job is kept,
    with a warning that says how to train again; with `--refresh` the refresh's read tells the
    plugin which job the stack owns, so the replacement trains anew and cancels the old job."""
    project = yaml_project(ep, wait=False)
    project.up()
    old = project.outputs()["jobId"]
    urn = _job(project)["urn"]

    kept = project.up("--replace", urn)  # without the refresh: kept, and said so
    assert project.outputs()["jobId"] == old and "--refresh" in kept.stdout + kept.stderr

    ep.api.reset_stats()
    project.up("--replace", urn, "--refresh")
    new = project.outputs()["jobId"]
    assert new != old and _posts(ep) == 1
    assert ep.api.get(f"fine_tuning/jobs/{old}")["status"] == "cancelled"
    assert ep.api.get(f"fine_tuning/jobs/{new}")["status"] != "cancelled"
