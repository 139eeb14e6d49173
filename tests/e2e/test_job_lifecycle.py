"""FineTuningJob under the real pulumi CLI: up, no-change runs, diffs, refresh, destroy, secrets."""

from __future__ import annotations

import json
import re
from typing import Any

from .conftest import MODEL

JOB = {
    "model": MODEL,
    "training_file": "@data",
    "suffix": "support",
    "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    "metadata": {"team": "support"},
    "wait_for_completion": True,
}


def program(**job: Any) -> dict[str, Any]:
    return {"files": {"data": {"path": "train.jsonl"}}, "jobs": {"support-bot": {**JOB, **job}}}


def assert_no_changes(output: str) -> None:
    assert re.search(r"\d+ unchanged", output), output
    assert not re.search(r"\d+ (to )?(create|update|replace|delete)", output), output


def test_up_starts_one_job_and_exports_the_model(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(program())
    before = fast_endpoint.api.stats()["by_route"].get("POST /v1/fine_tuning/jobs", 0)

    project.up()

    outputs = project.outputs()
    after = fast_endpoint.api.stats()["by_route"].get("POST /v1/fine_tuning/jobs", 0)
    assert after - before == 1
    assert outputs["support-bot.status"] == "succeeded"
    assert outputs["support-bot.fine_tuned_model"].startswith("ft:gpt-4o-mini-2024-07-18:")
    assert ":support:" in outputs["support-bot.fine_tuned_model"]
    job = fast_endpoint.api.get(f"fine_tuning/jobs/{outputs['support-bot.id']}")
    assert job["metadata"]["team"] == "support"
    assert job["method"]["supervised"]["hyperparameters"]["n_epochs"] == 3


def test_first_preview_plans_the_file_and_the_job_without_requests(fast_endpoint, make_project):
    # The job's training_file is the TrainingFile's id: unknown until the upload happens.
    project = make_project(fast_endpoint)
    project.write(program())
    fast_endpoint.api.reset_stats()

    preview = project.preview()

    assert fast_endpoint.api.stats()["requests"] == 0
    # stack, the stack's provider, the waited job's own provider, file, job
    assert "5 to create" in preview.stdout, preview.stdout
    assert "finetune:FineTuningJob: (create)" in preview.stdout
    assert "estimated_billed_tokens: 4208" in preview.stdout  # the reviewer sees the job's size


def test_unchanged_program_makes_no_changes_and_no_requests(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(program())
    project.up()
    fast_endpoint.api.reset_stats()

    preview = project.preview()
    up = project.up()

    assert fast_endpoint.api.stats()["requests"] == 0
    assert_no_changes(preview.stdout)
    assert_no_changes(up.stdout)


def test_changing_suffix_previews_a_replace(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(program())
    project.up()
    project.write(program(suffix="support-v2"))
    fast_endpoint.api.reset_stats()

    preview = project.preview()

    assert fast_endpoint.api.stats()["requests"] == 0
    assert "+-" in preview.stdout and "replace" in preview.stdout, preview.stdout
    assert "suffix" in preview.stdout


def test_changing_only_the_wait_option_updates_in_place_without_api_calls(
    fast_endpoint, make_project
):
    project = make_project(fast_endpoint)
    project.write(program())
    project.up()
    model = project.outputs()["support-bot.fine_tuned_model"]
    project.write(program(wait_for_completion=False))
    fast_endpoint.api.reset_stats()

    preview = project.preview()
    up = project.up()

    assert fast_endpoint.api.stats()["requests"] == 0
    assert "1 to update" in preview.stdout, preview.stdout
    assert "replace" not in preview.stdout
    assert "1 updated" in up.stdout, up.stdout
    # The update keeps every output (the default dynamic update would wipe them).
    assert project.outputs()["support-bot.fine_tuned_model"] == model


def test_refresh_sees_a_job_cancelled_behind_pulumis_back(slow_endpoint, make_project):
    project = make_project(slow_endpoint)
    project.write(program(wait_for_completion=False))
    project.up()
    job_id = project.outputs()["support-bot.id"]
    assert project.outputs()["support-bot.status"] in ("validating_files", "queued", "running")

    slow_endpoint.api.post(f"fine_tuning/jobs/{job_id}/cancel")
    project.refresh()

    assert project.resource_outputs("support-bot")["status"] == "cancelled"


def test_destroy_cancels_a_running_job_and_leaves_a_succeeded_one(slow_endpoint, make_project):
    project = make_project(slow_endpoint)
    project.write(program(wait_for_completion=False))
    project.up()
    finished_id = project.outputs()["support-bot.id"]
    slow_endpoint.api.session.post(
        f"{slow_endpoint.api.root}/_local/clock", json={"advance_seconds": 100_000}, timeout=10
    ).raise_for_status()
    assert slow_endpoint.api.get(f"fine_tuning/jobs/{finished_id}")["status"] == "succeeded"
    project.write(
        {
            "files": {"data": {"path": "train.jsonl"}},
            "jobs": {
                "support-bot": {**JOB, "wait_for_completion": False},
                "still-running": {**JOB, "suffix": "running", "wait_for_completion": False},
            },
        }
    )
    project.up()
    running_id = project.outputs()["still-running.id"]
    assert slow_endpoint.api.get(f"fine_tuning/jobs/{running_id}")["status"] != "succeeded"
    slow_endpoint.api.reset_stats()

    project.destroy()

    assert slow_endpoint.api.get(f"fine_tuning/jobs/{running_id}")["status"] == "cancelled"
    assert slow_endpoint.api.get(f"fine_tuning/jobs/{finished_id}")["status"] == "succeeded"
    routes = slow_endpoint.api.stats()["by_route"]
    assert routes.get("POST /v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel", 0) == 1, routes


def test_api_key_is_kept_only_as_an_encrypted_secret(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(program())
    up = project.pulumi("up", "--yes", "--skip-preview", "--logtostderr", "--logflow", "-v=9")

    exported = project.export()
    state_files = "".join(
        p.read_text(errors="replace") for p in (project.root / "state").rglob("*") if p.is_file()
    )

    # Like every Pulumi provider's credentials: in state only as a secret, encrypted by the
    # stack's secrets provider; never in plaintext in state, the pickled provider or the logs.
    assert fast_endpoint.key not in exported
    assert fast_endpoint.key not in state_files
    assert fast_endpoint.key not in up.stdout + up.stderr
    provider = next(
        r for r in json.loads(exported)["deployment"]["resources"]
        if r["type"] == "pulumi:providers:pulumi-python"
    )  # fmt: skip
    assert "ciphertext" in json.dumps(provider["inputs"]["finetune:apiKey"])
    assert fast_endpoint.key in project.export(show_secrets=True)  # decryptable by the stack


def test_wait_timeout_records_the_running_job_instead_of_orphaning_it(slow_endpoint, make_project):
    project = make_project(slow_endpoint)
    project.write(program(wait_timeout_seconds=2))

    project.up()

    recorded = project.resource_outputs("support-bot")
    assert recorded["status"] in ("validating_files", "queued", "running")
    assert recorded["fine_tuned_model"] == ""  # kept in state, stable, until it succeeds
    live = slow_endpoint.api.get(f"fine_tuning/jobs/{recorded['job_id']}")
    assert live["status"] in ("validating_files", "queued", "running")
    # Later, refresh picks up the outcome of the job that state kept track of.
    slow_endpoint.server.advance_clock(100_000)
    project.refresh()
    assert project.resource_outputs("support-bot")["fine_tuned_model"].startswith("ft:")


def test_a_job_that_fails_while_waited_on_fails_up_with_openais_error(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    bad = project.dir / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n' * 12)
    file_id = fast_endpoint.api.upload(bad)  # uploaded behind TrainingFile's back: no preview check
    project.write({"jobs": {"support-bot": {**JOB, "training_file": file_id}}})

    result = project.up(check=False)

    assert result.returncode != 0
    job = next(j for j in fast_endpoint.api.jobs() if j["training_file"] == file_id)
    assert job["status"] == "failed"
    assert job["id"] in result.output
    assert job["error"]["code"] in result.output
    assert "line 1" in result.output
    assert "param: training_file" in result.output
