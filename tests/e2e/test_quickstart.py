"""The quickstart program, as the README runs it, against the local endpoint."""

from __future__ import annotations

import shutil

from .conftest import REPO


def test_quickstart_program_trains_once_and_exports_the_model(fast_endpoint, make_project):
    project = make_project(fast_endpoint)
    shutil.copytree(REPO / "examples" / "quickstart", project.dir, dirs_exist_ok=True)

    project.preview()
    project.up()
    again = project.up()

    outputs = project.outputs()
    assert outputs["status"] == "succeeded"
    assert outputs["model"].startswith("ft:gpt-4o-mini-2024-07-18:personal:support:")
    assert outputs["estimated_billed_tokens"] > 0
    assert "5 unchanged" in again.stdout, again.stdout  # stack, 2 providers, file, job
