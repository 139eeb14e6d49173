"""The host of a job under the real pulumi CLI: `finetune:host` (a proxy playing OpenAI), the
`host` output, a host change previewed as a replacement, and stacks recorded before the host
existed previewing "no changes" with no request."""

from __future__ import annotations

import re

from .conftest import MODEL, running_endpoint
from .test_job_lifecycle import assert_no_changes

JOB = {"model": MODEL, "training_file": "@data", "suffix": "support", "wait_for_completion": True}
PROGRAM = {"files": {"data": {"path": "train.jsonl"}}, "jobs": {"support-bot": JOB}}
# What this change added to the state of every job and file (see the e2e test below).
ADDED = ("host", "model_retires_on")


def test_a_proxy_playing_openai_records_its_host_and_a_host_change_replaces(
    fast_endpoint, make_project
):
    project = make_project(fast_endpoint)
    project.pulumi("config", "set", "finetune:host", "openai")
    project.write(PROGRAM)
    project.up()
    assert project.resource_outputs("support-bot")["host"] == "openai"
    assert project.resource_outputs("data")["host"] == "openai"

    # Moving the stack to another host by stack config alone: the file and the job are replaced.
    project.pulumi("config", "rm", "finetune:host")
    fast_endpoint.api.reset_stats()
    preview = project.preview()

    assert fast_endpoint.api.stats()["requests"] == 0
    assert "2 to replace" in preview.stdout, preview.stdout
    moved = re.findall(r'~ host\s+: "openai" => "compatible"', preview.stdout)
    assert len(moved) == 2, preview.stdout  # the file's and the job's


def test_a_stack_recorded_before_the_host_existed_previews_no_changes(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(PROGRAM)
    project.up()
    stripped = project.import_without(ADDED)
    assert stripped >= 4  # the file's and the job's host, in inputs and outputs
    fast_endpoint.api.reset_stats()

    preview = project.preview()
    up = project.up()

    assert fast_endpoint.api.stats()["requests"] == 0
    assert_no_changes(preview.stdout)
    assert_no_changes(up.stdout)
    # `pulumi refresh` records the host of a state that predates it
    project.refresh()
    assert project.resource_outputs("support-bot")["host"] == "compatible"


def test_moving_the_stack_to_another_endpoint_replaces_and_leaves_the_old_job_alone(
    fast_endpoint, make_project, tmp_path
):
    old = fast_endpoint
    project = make_project(old)
    project.pulumi("config", "set", "finetune:host", "openai")
    project.write(
        {
            "files": {"data": {"path": "train.jsonl"}},
            "jobs": {"support-bot": {**JOB, "on_destroy": "delete_model"}},
        }
    )
    project.up()
    before = project.resource_outputs("support-bot")

    with running_endpoint(tmp_path / "new-host", 500.0) as new:
        project.pulumi("config", "set", "finetune:baseUrl", new.url)
        project.pulumi("config", "set", "--secret", "finetune:apiKey", new.key)
        project.pulumi("config", "rm", "finetune:host")
        preview = project.preview()
        assert "2 to replace" in preview.stdout, preview.stdout
        assert "moves from host openai to compatible" in preview.output, preview.output
        old.api.reset_stats()

        up = project.up()

        after = project.resource_outputs("support-bot")
        assert after["host"] == "compatible" and after["job_id"] != before["job_id"]
        assert new.api.get(f"fine_tuning/jobs/{after['job_id']}")["status"] == "succeeded"
        # the engine destroys the old job through the new settings: the old host is not asked
        assert old.api.stats()["requests"] == 0
        assert f"job {before['job_id']} was created on host openai" in up.output, up.output
        assert "it is forgotten, not cancelled or deleted" in up.output
    model = old.api.session.get(f"{old.url}/models/{before['fine_tuned_model']}", timeout=10)
    assert model.status_code == 200  # still serving on the old host
