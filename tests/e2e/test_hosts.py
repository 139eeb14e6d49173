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


def test_moving_the_stack_to_another_endpoint_refuses_to_strand_a_model_then_keeps_it(
    fast_endpoint, make_project, tmp_path
):
    """A move by stack config alone: the old job's destroy would go through the stack's
    provider, now set for the new endpoint, so its model (on_destroy delete_model) could not be
    deleted: preview fails naming both origins, with 0 requests. on_destroy=keep, applied before
    the move, lets it go ahead: the old job and its model stay serving on the old host."""
    old = fast_endpoint
    project = make_project(old)
    project.pulumi("config", "set", "finetune:host", "openai")
    program = {
        "files": {"data": {"path": "train.jsonl"}},
        "jobs": {"support-bot": {**JOB, "on_destroy": "delete_model"}},
    }
    project.write(program)
    project.up()
    before = project.resource_outputs("support-bot")
    moved = ("finetune:baseUrl", "finetune:apiKey", "finetune:host")

    with running_endpoint(tmp_path / "new-host", 500.0) as new:
        project.pulumi("config", "set", "finetune:baseUrl", new.url)
        project.pulumi("config", "set", "--secret", "finetune:apiKey", new.key)
        project.pulumi("config", "rm", "finetune:host")
        old.api.reset_stats()
        refused = project.preview(check=False)
        said = " ".join(refused.output.split())
        assert refused.returncode != 0, refused.output
        assert f"its model {before['fine_tuned_model']} is to be deleted there" in said
        assert before["origin"] in said and new.url.rsplit("/", 1)[0] in said
        assert old.api.stats()["requests"] == 0 and new.api.stats()["requests"] == 0

        # The way out the error names: on_destroy=keep in an `up` before the move.
        for key in moved:
            project.pulumi("config", "rm", key)
        project.pulumi("config", "set", "finetune:baseUrl", old.url)
        project.pulumi("config", "set", "--secret", "finetune:apiKey", old.key)
        project.pulumi("config", "set", "finetune:host", "openai")
        program["jobs"]["support-bot"]["on_destroy"] = "keep"
        project.write(program)
        project.up()
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
        assert f"job {before['job_id']} lives at {before['origin']}" in up.output, up.output
        assert "left there as it is" in up.output
    model = old.api.session.get(f"{old.url}/models/{before['fine_tuned_model']}", timeout=10)
    assert model.status_code == 200  # still serving on the old host
