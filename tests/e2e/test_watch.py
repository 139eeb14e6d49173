"""`pulumi-finetune watch --stack`: a real stack's jobs, endpoint and key, read with the CLI."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from .conftest import MODEL

JOBS = ("support-bot", "support-bot-2e")
PROGRAM: dict[str, Any] = {
    "files": {"data": {"path": "train.jsonl"}},
    "jobs": {
        "support-bot": {"model": MODEL, "training_file": "@data"},
        "support-bot-2e": {
            "model": MODEL,
            "training_file": "@data",
            "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
        },
    },
}


def test_watch_follows_a_stacks_jobs_by_resource_name(fast_endpoint, make_project, tmp_path):
    project = make_project(fast_endpoint)
    project.write(PROGRAM)
    project.up()
    job_ids = {name: project.resource_outputs(name)["job_id"] for name in JOBS}
    png = tmp_path / "loss.png"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # No OPENAI_* in the environment (pulumi_env drops them): endpoint and key come from the
    # stack's config, the jobs from its state.
    run = subprocess.run(
        [sys.executable, "-m", "pulumi_finetune.cli", "watch", "--stack", "dev",
         "--cwd", str(project.dir), "--interval", "0.2", "--png", str(png)],
        cwd=elsewhere, env=project.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert run.returncode == 0, run.stdout + run.stderr
    last = {line.split(":")[0]: line for line in run.stdout.splitlines()}
    assert set(last) == set(JOBS), run.stdout
    assert last["support-bot"].startswith(f"support-bot: {job_ids['support-bot']} succeeded")
    assert last["support-bot-2e"].startswith(
        f"support-bot-2e: {job_ids['support-bot-2e']} succeeded, step 24/24 (100%)"
    )
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert project.env["PULUMI_CONFIG_PASSPHRASE"] not in run.stdout + run.stderr


def test_watch_names_a_stack_it_cannot_read(fast_endpoint, make_project, tmp_path):
    project = make_project(fast_endpoint)

    run = subprocess.run(
        [sys.executable, "-m", "pulumi_finetune.cli", "watch", "--stack", "nope",
         "--cwd", str(project.dir), "--once"],
        env=project.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert run.returncode == 2
    assert run.stderr.startswith("pulumi-finetune watch: error: `pulumi config --json --stack nope")
    assert "no stack named 'nope'" in run.stderr and "Traceback" not in run.stderr
