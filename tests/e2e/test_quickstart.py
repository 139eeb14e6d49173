"""The quickstart program, as the README runs it, against the local endpoint."""

from __future__ import annotations

import shutil

import pytest

from pulumi_finetune.prices import TRAINING_PRICES

from .conftest import REPO


def test_quickstart_program_trains_once_and_exports_the_model(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    shutil.copytree(REPO / "examples" / "quickstart", project.dir, dirs_exist_ok=True)

    preview = project.preview()
    project.up()
    again = project.up()

    outputs = project.outputs()
    assert outputs["status"] == "succeeded"
    assert outputs["model"].startswith("ft:gpt-4o-mini-2024-07-18:personal:support:")
    # The exported estimate is the job's own (3 epochs), shown before anything is posted, and
    # it is what the endpoint reports as trained: not the file's estimate at OpenAI's default
    # epochs for 12 examples.
    trained = fast_endpoint.api.get(f"fine_tuning/jobs/{outputs['job']}")["trained_tokens"]
    assert outputs["estimated_billed_tokens"] == trained == outputs["trained_tokens"] > 0
    assert f"estimated_billed_tokens: {trained}" in preview.stdout, preview.stdout
    per_million = TRAINING_PRICES["gpt-4o-mini-2024-07-18"]
    file = project.resource_outputs("support-data")
    assert file["estimated_billed_tokens"] != trained  # the default epochs are not the job's
    assert outputs["estimated_cost_usd"] == pytest.approx(trained * per_million / 1_000_000)
    assert "5 unchanged" in again.stdout, again.stdout  # stack, 2 providers, file, job
