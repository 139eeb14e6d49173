"""OpenAI's fine-tuning wind-down under the real pulumi CLI, against a local endpoint playing
OpenAI (`finetune:host openai`, as a proxy user would set it): check fails a create after the
cutoff (and the override lets it through), warnings on the job's row ahead of it, a 403 or a
retired model on create read as what they are, existing jobs fully managed after the cutoff, and
`model_retires_on`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.lifecycle import CLOCK_ENV

from .conftest import MODEL, Endpoint, running_endpoint
from .test_job_lifecycle import assert_no_changes

BEFORE, AFTER = "2026-12-04", "2027-01-07"  # OpenAI takes no new jobs from 2027-01-06
PAST = "2026-01-01"  # for the endpoint: refusing already
JOB = {"model": MODEL, "training_file": "@data", "suffix": "bot"}
CREATES = "POST /v1/fine_tuning/jobs"
ACTIVE = ("validating_files", "queued", "running")


def program(**jobs: dict[str, Any]) -> dict[str, Any]:
    return {"files": {"data": {"path": "train.jsonl"}}, "jobs": jobs or {"bot": JOB}}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    with running_endpoint(tmp_path_factory.mktemp("wind-down"), 1.0) as endpoint:
        yield endpoint


@pytest.fixture
def ep(endpoint: Endpoint) -> Iterator[Endpoint]:
    """The module's endpoint, taking jobs and serving every model, its counts at zero."""
    endpoint.server.wind_down(jobs_end=None, retire={MODEL: None})
    endpoint.server.reset_stats()
    yield endpoint
    endpoint.server.wind_down(jobs_end=None, retire={MODEL: None})


def openai_project(make_project: Any, ep: Endpoint, today: str) -> Any:
    project = make_project(ep, env={CLOCK_ENV: today})
    project.pulumi("config", "set", "finetune:host", "openai")
    return project


def test_after_the_cutoff_a_new_job_fails_in_preview_and_the_override_lets_it_through(
    ep, make_project
):
    project = openai_project(make_project, ep, AFTER)
    project.write(program())

    refused = project.preview(check=False)

    assert ep.api.stats()["requests"] == 0
    assert refused.returncode != 0
    assert "takes no new fine-tuning jobs since 2027-01-06" in refused.output, refused.output
    assert "deprecations" in refused.output and "Azure OpenAI" in refused.output
    assert "finetune:lifecycle.openai.jobs_end" in refused.output
    assert "Traceback" not in refused.output

    project.pulumi("config", "set", "--path", "finetune:lifecycle.openai.jobs_end", "2027-06-30")
    allowed = project.preview()

    assert ep.api.stats()["requests"] == 0
    assert "finetune:FineTuningJob: (create)" in allowed.stdout, allowed.output


def test_within_60_days_the_job_row_carries_a_warning_naming_the_date(ep, make_project):
    project = openai_project(make_project, ep, BEFORE)
    project.write(program())

    preview = project.pulumi("preview")  # the display users see, one row per resource

    assert ep.api.stats()["requests"] == 0
    ends = "OpenAI takes no new fine-tuning jobs from 2027-01-06 (in 33 days)"
    retires = "gpt-4o-mini-2024-07-18 retires on OpenAI on 2027-01-14 (in 41 days)"
    row = re.compile(r"pulumi-python:dynamic/finetune:FineTuningJob bot +(create )?warning: (.*)")
    on_row = [m.group(2) for m in row.finditer(preview.stdout)]
    assert any(ends in line for line in on_row), preview.stdout
    assert any(retires in line for line in on_row), preview.stdout
    # and under the job's own heading in the diagnostics, not the stack's
    diagnostics = preview.stdout.split("Diagnostics:")[1]
    heading = "pulumi-python:dynamic/finetune:FineTuningJob (bot):"
    assert heading in diagnostics and "pulumi:pulumi:Stack" not in diagnostics, preview.stdout
    assert ends in diagnostics.split(heading)[1]
    # `--diff` prints diagnostics without rows: each warning names the job itself
    diff = project.preview()
    assert f"warning: {ends}: after that `bot` cannot be created" in diff.output, diff.output


def test_a_403_on_create_is_one_post_and_a_readable_error(ep, make_project):
    # An organization shut out by an earlier gate: the table allows it, the host refuses.
    project = openai_project(make_project, ep, BEFORE)
    project.write(program())
    ep.server.wind_down(jobs_end=PAST)

    up = project.up(check=False)

    assert up.returncode != 0
    assert ep.api.stats()["by_route"].get(CREATES, 0) == 1
    assert ep.api.stats()["jobs_created"] == 0
    output = up.output
    assert "Unable to create the fine-tuning job at" in output
    assert "failed with HTTP 403" in output and "no longer create fine-tuning jobs" in output
    assert re.search(r"\[request id [\w-]+\]", output), output
    assert "since 2026-05-07 organizations that never fine-tuned" in output
    assert "Fix: move the job to a host that still trains" in output
    assert "Traceback" not in output


def test_a_create_on_a_retired_base_model_is_one_post_and_a_readable_error(ep, make_project):
    project = openai_project(make_project, ep, BEFORE)
    project.write(program())
    ep.server.wind_down(retire={MODEL: PAST})

    up = project.up(check=False)

    assert up.returncode != 0
    assert ep.api.stats()["by_route"].get(CREATES, 0) == 1
    assert "HTTP 404 (code=model_not_found, param=model)" in up.output, up.output
    assert "OpenAI has no base model gpt-4o-mini-2024-07-18 to fine-tune" in up.output
    assert "(retired on 2027-01-14" in up.output  # the table's date, for the reader
    assert "Fix: choose a base model the host still trains" in up.output
    assert "Traceback" not in up.output


def test_after_the_cutoff_existing_jobs_stay_fully_managed(ep, make_project, tmp_path: Path):
    project = openai_project(make_project, ep, BEFORE)
    project.write(program(done={**JOB, "on_destroy": "delete_model"}))
    project.up()
    ep.server.advance_clock(100_000)
    project.refresh()
    done = project.resource_outputs("done")
    assert done["status"] == "succeeded" and done["model_retires_on"] == "2027-01-14"
    assert done["host"] == "openai"
    model = done["fine_tuned_model"]
    project.write(program(done={**JOB, "on_destroy": "delete_model"}, running=JOB))
    project.up()
    running_id = project.outputs()["running.id"]
    elsewhere = ep.api.post(  # started outside Pulumi, adopted after the cutoff
        "fine_tuning/jobs", {"model": MODEL, "training_file": project.outputs()["data.id"]}
    )["id"]

    # the cutoff passes: the host refuses new jobs, the table says so too
    ep.server.wind_down(jobs_end=PAST)
    project.env[CLOCK_ENV] = AFTER
    ep.api.reset_stats()
    assert_no_changes(project.preview().stdout)
    assert ep.api.stats()["requests"] == 0

    project.refresh()
    assert project.resource_outputs("running")["status"] in ACTIVE
    project.write(
        {
            **program(
                done={**JOB, "on_destroy": "delete_model"},
                running=JOB,
                adopted={"model": MODEL, "training_file": "@data", "adopt_job_id": elsewhere},
            ),
            "gets": {"seen": running_id},
        }
    )
    project.up()
    assert project.outputs()["seen.status"] in ACTIVE
    assert project.resource_outputs("adopted")["job_id"] == elsewhere

    project.destroy()

    assert ep.api.get(f"fine_tuning/jobs/{running_id}")["status"] == "cancelled"
    assert ep.api.get(f"fine_tuning/jobs/{elsewhere}")["status"] == "cancelled"
    assert ep.api.stats()["by_route"].get(CREATES, 0) == 0
    gone = ep.api.session.get(f"{ep.url}/models/{model}", timeout=10)
    assert gone.status_code == 404


def test_model_retires_on_is_empty_on_a_compatible_host(ep, make_project):
    project = make_project(ep, env={CLOCK_ENV: BEFORE})  # the local URL: compatible
    project.write(program())
    preview = project.preview()
    project.up()

    outputs = project.resource_outputs("bot")
    assert (outputs["host"], outputs["model_retires_on"]) == ("compatible", "")
    assert "warning" not in preview.stdout
