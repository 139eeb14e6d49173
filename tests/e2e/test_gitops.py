"""The GitOps example's pipeline script (examples/gitops/gitops.py) run as CI runs it: against a
stack on the local endpoint with the real pulumi CLI, its Markdown summary read back from
$GITHUB_STEP_SUMMARY (issue 12 items 1 and 5).

The endpoint is this module's own, on a real-time clock: jobs keep running (so a replacement
has a running job to cancel) until a test advances the clock.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from pulumi_finetune.datasets import validate_file
from pulumi_finetune.local.testing import Project

from .conftest import DATASET, MODEL, REPO

GITOPS = REPO / "examples" / "gitops"
SCRIPT = GITOPS / "gitops.py"


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[str], summary: str) -> None:
        self.returncode = proc.returncode
        self.log = proc.stdout + proc.stderr
        self.summary = summary


def gitops(project: Project, *args: str) -> Run:
    """`python gitops.py <args> --cwd <project>` with the project's pulumi environment."""
    summary = project.root / "step-summary.md"
    summary.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--cwd", str(project.dir)],
        env={
            **project.env,
            "PULUMI": str(project.engine / "pulumi"),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Run(proc, summary.read_text() if summary.exists() else "")


def program(jobs: dict[str, dict[str, Any]], **files: str) -> dict[str, Any]:
    return {
        "files": {
            name: {"path": path} for name, path in (files or {"data": "train.jsonl"}).items()
        },
        "jobs": jobs,
    }


def job(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "training_file": "@data", **extra}


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def test_a_bad_dataset_fails_the_pr_step_with_the_line_numbers_of_every_file(
    endpoint, make_project
):
    project = make_project(endpoint)
    good = lines_of(DATASET)
    (project.dir / "a.jsonl").write_text("".join([*good[:2], '{"messages": "oops"}\n', *good[3:]]))
    (project.dir / "b.jsonl").write_text("".join([*good[:6], "not json\n", *good[7:]]))
    project.write(
        program({"bot": {"model": MODEL, "training_file": "@a"}}, a="a.jsonl", b="b.jsonl")
    )
    endpoint.api.reset_stats()

    run = gitops(project, "pr")

    assert run.returncode == 1, run.log
    assert "`a.jsonl:3` messages:" in run.summary, run.summary
    assert "`b.jsonl:7`" in run.summary, run.summary  # the preview alone stops at one file
    assert "| `a.jsonl` | 12 |" in run.summary and "❌" in run.summary
    assert "### Preview errors" in run.summary
    assert endpoint.api.stats()["requests"] == 0  # a pull request's checks call no API


def test_ten_jobs_on_one_file_show_their_own_tokens_and_cost_each(endpoint, make_project):
    project = make_project(endpoint)
    project.write(program({f"job{i}": job(suffix=f"s{i}") for i in range(10)}))

    run = gitops(project, "pr")

    assert run.returncode == 0, run.log
    # chat_12: 526 billed tokens per epoch; 12 examples -> OpenAI's default of 8 epochs;
    # gpt-4o-mini at $3.00 per 1M training tokens: 4,208 tokens, $0.012624 per job.
    for i in range(10):
        assert f"| `job{i}` | create | 8 | 4,208 | $0.0126 |" in run.summary, run.summary
    assert "| **total** (10 jobs) | | | 42,080 | $0.1262 |" in run.summary
    assert "4,208 tokens (526 × 8 epochs) at $3.00 per 1M training tokens" in run.summary

    # Applied on merge; a new price changes the estimate, never the jobs.
    merged = gitops(project, "merge")
    assert merged.returncode == 0, merged.log
    assert "pulumi up: applied" in merged.summary
    project.pulumi("config", "set", "--path", f'finetune:trainingPrices["{MODEL}"]', "30")
    repriced = gitops(project, "pr")
    assert repriced.returncode == 0, repriced.log
    assert "No fine-tuning job to start." in repriced.summary, repriced.summary


def test_a_data_change_shows_the_replacements_their_tokens_and_the_old_jobs_fate(
    endpoint, make_project
):
    project = make_project(endpoint)
    project.write(program({"done": job(suffix="done")}))
    project.up()
    endpoint.server.advance_clock(24 * 3600)  # "done" finishes
    project.write(program({"done": job(suffix="done"), "live": job(suffix="live")}))
    project.up()
    endpoint.server.advance_clock(6)  # "live" has validated and started training
    with (project.dir / "train.jsonl").open("a") as handle:
        handle.write(lines_of(DATASET)[0])  # one more example: the data changed
    expected = validate_file(project.dir / "train.jsonl", model=MODEL)

    run = gitops(project, "pr", "--refresh")  # the jobs' live status

    assert run.returncode == 0, run.log
    tokens = f"{expected.billed_tokens_estimate:,}"  # default epochs: the file's own estimate
    epochs = expected.default_epochs
    assert f"| `live` | replace (training_file) | {epochs} | {tokens} |" in run.summary
    assert f"| `done` | replace (training_file) | {epochs} | {tokens} |" in run.summary
    state = {name: project.resource_outputs(name)["job_id"] for name in ("done", "live")}
    assert f"`done`: old job `{state['done']}` has `succeeded`: it is kept" in run.summary
    assert f"`live`: old job `{state['live']}` is `running`: it is **cancelled** once" in (
        run.summary
    )
    assert "its training so far (step " in run.summary and ") is lost" in run.summary


def test_a_job_cancelled_outside_pulumi_fails_the_drift_check(endpoint, make_project):
    project = make_project(endpoint)
    project.write(program({"bot": job(suffix="drift")}))
    project.up()
    assert gitops(project, "drift").returncode == 0

    job_id = project.resource_outputs("bot")["job_id"]
    endpoint.api.post(f"fine_tuning/jobs/{job_id}/cancel")
    run = gitops(project, "drift")

    assert run.returncode != 0, run.log
    assert "Drift check: ❌" in run.summary
    assert "- `bot`: replace (status)" in run.summary, run.summary


def test_the_workflow_runs_each_step_of_the_script_on_its_event():
    workflow = yaml.safe_load((GITOPS / "workflow.yml").read_text())
    events = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert {"pull_request", "push", "schedule"} <= set(events)
    commands = {
        name: " ".join(step.get("run", "") for step in spec["steps"])
        for name, spec in workflow["jobs"].items()
    }
    assert "gitops.py pr" in commands["preview"] and "pull_request" in str(
        workflow["jobs"]["preview"]["if"]
    )
    assert "gitops.py merge" in commands["apply"]
    assert "gitops.py drift" in commands["drift"]
    assert "gitops.py lifecycle" in commands["drift"] and "--days 30" in commands["drift"]


def test_the_lifecycle_step_fails_for_a_model_retiring_within_30_days(endpoint, make_project):
    # A proxy in front of OpenAI: gpt-4o-mini-2024-07-18 retires there on 2027-01-14.
    project = make_project(endpoint, env={"PULUMI_FINETUNE_TODAY": "2026-12-04"})
    project.pulumi("config", "set", "finetune:host", "openai")
    project.write(program({"bot": job(suffix="life"), "other": job(suffix="other")}))
    project.up()
    endpoint.server.advance_clock(24 * 3600)
    project.refresh()
    model = project.resource_outputs("bot")["fine_tuned_model"]
    endpoint.api.reset_stats()

    calm = gitops(project, "lifecycle")  # 41 days ahead

    assert calm.returncode == 0, calm.log
    assert "no managed model retires within 30 days" in calm.summary
    assert endpoint.api.stats()["requests"] == 0

    project.env["PULUMI_FINETUNE_TODAY"] = "2026-12-20"  # 25 days ahead
    run = gitops(project, "lifecycle")

    assert run.returncode == 1, run.log
    assert "Model lifecycle: ❌" in run.summary
    assert f"| `bot` | `{model}` | openai | 2027-01-14 | 25 |" in run.summary, run.summary
    assert "| `other` |" in run.summary
    assert gitops(project, "lifecycle", "--days", "20").returncode == 0
    assert endpoint.api.stats()["requests"] == 0


def test_the_lifecycle_step_assumes_no_date_for_a_compatible_host(endpoint, make_project):
    project = make_project(endpoint, env={"PULUMI_FINETUNE_TODAY": "2027-01-10"})
    project.write(program({"bot": job(suffix="compat")}))
    project.up()

    run = gitops(project, "lifecycle")

    assert run.returncode == 0, run.log
    assert "no managed model retires within 30 days" in run.summary


def test_the_example_program_previews_its_jobs_with_costs(endpoint, engine, tmp_path):
    project = Project(
        root=tmp_path / "gitops",
        engine=engine,
        endpoint_url=endpoint.url,
        api_key=endpoint.key,
        name="finetune-gitops",
    )
    shutil.copytree(GITOPS, project.dir, dirs_exist_ok=True)

    run = gitops(project, "pr")

    assert run.returncode == 0, run.log
    assert "| `data/support.jsonl` | 12 |" in run.summary
    assert "| `support-bot-long` | create | 6 |" in run.summary
    assert "| `support-bot` | create | 8 |" in run.summary
