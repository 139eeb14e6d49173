"""TrainingFile under the real pulumi CLI: one-run up with a job, content identity (edit / touch /
move), bad data failing preview, the size of the job shown in preview, destroy, multipart."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from typing import Any

import requests

from pulumi_finetune import uploads

from .conftest import MODEL

JOB = {
    "model": MODEL,
    "training_file": "@data",
    "suffix": "data",
    "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
}
FILE = {"path": "train.jsonl", "model": MODEL}
# tests/data/valid/chat_12.jsonl for gpt-4o-mini: 526 tokens, 12 examples -> 8 epochs (the
# default rule), so 8 x Σ min(limit, tokens) = 4208 billed tokens.
BILLED_TOKENS = 4208


def program(*, file: dict[str, Any] | None = None, **job: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"files": {"data": {**FILE, **(file or {})}}}
    if job.pop("with_job", True):
        out["jobs"] = {"bot": {**JOB, **job}}
    return out


def assert_no_changes(output: str) -> None:
    assert re.search(r"\d+ unchanged", output), output
    assert not re.search(r"\d+ (to )?(create|update|replace|delete)", output), output


def replaced(output: str, kind: str) -> bool:
    return re.search(rf"\+-pulumi-python:dynamic/finetune:{kind}: \(replace\)", output) is not None


def file_exists(endpoint: Any, file_id: str) -> bool:
    response = endpoint.api.session.get(f"{endpoint.api.url}/files/{file_id}", timeout=10)
    if response.status_code == 404:
        return False
    response.raise_for_status()
    return True


def edit_line(path: Any, line: int, change: Any) -> None:
    lines = path.read_text().splitlines()
    lines[line - 1] = json.dumps(change(json.loads(lines[line - 1])))
    path.write_text("\n".join(lines) + "\n")


def reword_answer(example: dict[str, Any]) -> dict[str, Any]:
    *rest, answer = example["messages"]
    return {**example, "messages": [*rest, {**answer, "content": answer["content"] + " Really."}]}


def test_file_and_job_go_up_in_one_run_and_destroy_deletes_the_file(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(program(wait_for_completion=True))
    fast_endpoint.api.reset_stats()

    # `pulumi up` as a user runs it: preview (file id still unknown), then the update.
    project.pulumi("up", "--yes")

    outputs = project.outputs()
    routes = fast_endpoint.api.stats()["by_route"]
    assert routes.get("POST /v1/files") == 1, routes
    assert routes.get("POST /v1/fine_tuning/jobs") == 1, routes
    job = fast_endpoint.api.get(f"fine_tuning/jobs/{outputs['bot.id']}")
    assert job["training_file"] == outputs["data.id"]
    assert outputs["bot.status"] == "succeeded"
    assert outputs["data.estimated_billed_tokens"] == BILLED_TOKENS
    state = project.resource_outputs("data")
    assert state["file_id"] == outputs["data.id"] and state["example_count"] == 12
    assert (
        state["total_tokens"] == 526
        and state["bytes"] == (project.dir / "train.jsonl").stat().st_size
    )

    project.destroy()

    assert not file_exists(fast_endpoint, outputs["data.id"])
    routes = fast_endpoint.api.stats()["by_route"]
    assert routes.get("DELETE /v1/files/{file_id}") == 1, routes


def test_touching_or_moving_the_file_previews_nothing(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(program(with_job=False))
    project.up()
    data = project.dir / "train.jsonl"
    fast_endpoint.api.reset_stats()

    later = time.time() + 3600
    os.utime(data, (later, later))
    touched = project.preview()

    (project.dir / "datasets").mkdir()
    shutil.move(data, project.dir / "datasets" / "support.jsonl")
    project.write(program(with_job=False, file={"path": "datasets/support.jsonl"}))
    moved = project.preview()
    up = project.up()

    assert_no_changes(touched.stdout)
    assert_no_changes(moved.stdout)
    assert_no_changes(up.stdout)
    assert fast_endpoint.api.stats()["requests"] == 0


def test_editing_one_line_previews_a_replace_of_the_file(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(program(with_job=False))
    project.up()
    edit_line(project.dir / "train.jsonl", 3, reword_answer)
    fast_endpoint.api.reset_stats()

    preview = project.preview()

    assert replaced(preview.stdout, "TrainingFile"), preview.stdout
    assert re.search(r"~ sha256\s*: \"\w+\" => \"\w+\"", preview.stdout), preview.stdout
    assert fast_endpoint.api.stats()["requests"] == 0


def test_editing_one_line_previews_a_replace_of_the_file_and_the_job(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(program())
    project.up()
    edit_line(project.dir / "train.jsonl", 3, reword_answer)
    fast_endpoint.api.reset_stats()

    preview = project.preview(check=False)

    assert preview.returncode == 0, preview.output
    assert replaced(preview.stdout, "TrainingFile"), preview.stdout
    assert replaced(preview.stdout, "FineTuningJob"), preview.stdout
    assert "2 to replace" in preview.stdout
    assert fast_endpoint.api.stats()["requests"] == 0


def test_bad_line_7_fails_preview_naming_the_line_and_the_reason(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    edit_line(
        project.dir / "train.jsonl",
        7,
        lambda ex: {"messages": [m for m in ex["messages"] if m["role"] != "assistant"]},
    )
    project.write(program(with_job=False))
    fast_endpoint.api.reset_stats()

    result = project.preview(check=False)

    assert result.returncode != 0, result.output
    assert "train.jsonl:7: messages: no assistant message" in result.output, result.output
    assert "train.jsonl:6" not in result.output and "train.jsonl:8" not in result.output
    assert fast_endpoint.api.stats()["requests"] == 0


def test_preview_of_a_new_program_shows_the_estimated_billed_tokens(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    project.write(program(with_job=False))
    fast_endpoint.api.reset_stats()

    preview = project.preview()

    # As the file's input (computed by check), and as the program's stack output.
    assert re.search(rf"estimated_billed_tokens\s*: {BILLED_TOKENS}\b", preview.stdout)
    assert re.search(rf"data\.estimated_billed_tokens\s*: {BILLED_TOKENS}\b", preview.stdout)
    assert re.search(r"example_count\s*: 12\b", preview.stdout)
    assert re.search(r"total_tokens\s*: 526\b", preview.stdout)
    assert fast_endpoint.api.stats()["requests"] == 0


def test_preview_of_a_new_program_with_a_job_shows_the_estimated_billed_tokens(
    fast_endpoint, make_project
):
    project = make_project(fast_endpoint)
    project.write(program())

    preview = project.preview(check=False)

    assert preview.returncode == 0, preview.output
    assert re.search(rf"data\.estimated_billed_tokens\s*: {BILLED_TOKENS}\b", preview.stdout)


def test_destroy_keeps_a_file_that_a_running_job_still_reads(slow_endpoint, make_project):
    project = make_project(slow_endpoint)
    project.write(program(wait_for_completion=False, on_destroy="keep"))
    project.up()
    outputs = project.outputs()
    slow_endpoint.api.reset_stats()

    project.destroy()

    job = slow_endpoint.api.get(f"fine_tuning/jobs/{outputs['bot.id']}")
    assert job["status"] in ("validating_files", "queued", "running"), job
    assert file_exists(slow_endpoint, outputs["data.id"])
    assert "DELETE /v1/files/{file_id}" not in slow_endpoint.api.stats()["by_route"]
    assert project.state_resources() == []
    slow_endpoint.api.post(f"fine_tuning/jobs/{outputs['bot.id']}/cancel")


def test_a_file_over_the_threshold_goes_up_in_parts(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    data = project.dir / "train.jsonl"
    size = data.stat().st_size
    project.env[uploads.THRESHOLD_ENV] = "1000"
    project.env[uploads.PART_SIZE_ENV] = "1024"
    project.write(program(with_job=False))
    fast_endpoint.api.reset_stats()

    project.up()

    file_id = project.outputs()["data.id"]
    routes = fast_endpoint.api.stats()["by_route"]
    assert routes.get("POST /v1/uploads") == 1, routes
    assert routes.get("POST /v1/uploads/{upload_id}/parts") == -(-size // 1024), routes
    assert routes.get("POST /v1/uploads/{upload_id}/complete") == 1, routes
    assert "POST /v1/files" not in routes and "POST /v1/uploads/{upload_id}/cancel" not in routes
    response = requests.get(
        f"{fast_endpoint.url}/files/{file_id}/content",
        headers={"Authorization": f"Bearer {fast_endpoint.key}"},
        timeout=10,
    )
    assert response.content == data.read_bytes()
    assert project.resource_outputs("data")["bytes"] == size
