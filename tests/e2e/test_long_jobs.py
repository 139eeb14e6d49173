"""Long-running jobs under the real pulumi CLI (issue 10): progress a user sees, interrupting a
wait, pause and resume as desired state, existing jobs, outputs that fill in while a job runs,
drift a GitOps user sees, turning waiting on later, and the blue/green guarantee."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from pulumi_finetune.local.testing import Project, start_pulumi

from .conftest import DATASET, MODEL, Endpoint, wait_until

CREATE = "POST /v1/fine_tuning/jobs"
PAUSE = "POST /v1/fine_tuning/jobs/{fine_tuning_job_id}/pause"
RESUME = "POST /v1/fine_tuning/jobs/{fine_tuning_job_id}/resume"
ACTIVE = {"validating_files", "queued", "running", "paused"}
JOB: dict[str, Any] = {"model": MODEL, "training_file": "@data", "suffix": "long"}
STOP_HINT = "Ctrl-C twice stops waiting"


def program(jobs: dict[str, dict[str, Any]] | None = None, **job: Any) -> dict[str, Any]:
    return {
        "files": {"data": {"path": "train.jsonl"}},
        "jobs": jobs if jobs is not None else {"bot": {**JOB, **job}},
    }


@pytest.fixture
def project(ep: Endpoint, make_project: Callable[[Endpoint], Project]) -> Project:
    return make_project(ep)


def routes(ep: Endpoint) -> dict[str, int]:
    by_route: dict[str, int] = ep.server.stats()["by_route"]
    return by_route


def job(ep: Endpoint, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ep.api.get(f"fine_tuning/jobs/{job_id}")
    return found


def job_id_of(project: Project, name: str = "bot") -> str:
    return str(project.resource_outputs(name)["job_id"])


def running_job(ep: Endpoint, project: Project, name: str = "bot") -> str:
    """The job of `name`, once it runs and has trained a step (pausable)."""
    job_id = job_id_of(project, name)
    ep.server.advance_clock(5)
    wait_until(lambda: job(ep, job_id)["status"] == "running")
    return job_id


# -- progress -----------------------------------------------------------------------------------


def test_a_waited_job_shows_its_progress_on_its_row(ep, project):
    project.write(program(wait_for_completion=True, method=_epochs(4)))

    up = project.up()

    rows = [
        line for line in up.stdout.splitlines() if " bot creating (" in line and "ftjob-" in line
    ]
    messages = [re.sub(r".* bot creating \((\d+)s\) ", r"\1 ", row) for row in rows]
    texts = Counter(m.split(" ", 1)[1] for m in messages)
    assert len(texts) >= 3, up.stdout  # validating, queued, running ... at least
    assert int(messages[0].split(" ")[0]) <= 15  # the first line soon after the create
    assert max(texts.values()) <= 2, texts
    assert all(STOP_HINT in text for text in texts), texts
    assert any(re.search(r"step \d+/\d+ \(\d+%\), train loss", text) for text in texts), texts
    diagnostics = up.stdout.split("Diagnostics:")[1] if "Diagnostics:" in up.stdout else ""
    assert STOP_HINT not in diagnostics  # on the resource's row, not repeated as diagnostics
    outputs = project.resource_outputs("bot")
    assert outputs["metrics"]["step"] == outputs["metrics"]["total_steps"]
    assert outputs["checkpoints"] and outputs["checkpoints"][-1]["fine_tuned_model_checkpoint"]


def _epochs(n: int) -> dict[str, Any]:
    return {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": n}}}


# -- interrupting a wait --------------------------------------------------------------------------


def test_ctrl_c_twice_stops_waiting_and_the_next_up_finds_the_job(ep, project):
    project.write(program(wait_for_completion=True))
    run = start_pulumi(project, "up", "--yes", "--skip-preview")
    wait_until(lambda: STOP_HINT in run.output(), timeout=60)  # waiting, and saying how to stop

    run.process.send_signal(signal.SIGINT)
    time.sleep(1.0)
    run.process.send_signal(signal.SIGINT)
    second = time.monotonic()
    run.process.wait(timeout=30)
    exited_after = time.monotonic() - second
    time.sleep(1.0)
    left = run.leftovers()

    assert exited_after <= 10, exited_after
    assert left == [], left
    ep.server.advance_clock(100_000)
    project.up()  # no `pulumi cancel`, no clean-up by hand
    started = [j for j in ep.api.jobs() if j["id"] == job_id_of(project)]
    assert routes(ep).get(CREATE) == 1
    assert len(started) == 1 and started[0]["status"] == "succeeded"


def test_a_provider_whose_cli_was_killed_stops_within_seconds(ep, project):
    project.write(program(wait_for_completion=True))
    run = start_pulumi(project, "up", "--yes", "--skip-preview")
    wait_until(lambda: STOP_HINT in run.output(), timeout=60)

    run.kill()  # SIGKILL of the CLI alone, as the OOM killer does
    wait_until(lambda: not run.providers(), timeout=30)  # nothing polls the API any more

    polls = routes(ep).get("GET /v1/fine_tuning/jobs/{fine_tuning_job_id}", 0)
    time.sleep(3)
    assert routes(ep).get("GET /v1/fine_tuning/jobs/{fine_tuning_job_id}", 0) == polls
    run.kill_leftovers()  # Pulumi's own language host ends by its 5-minute health check
    project.pulumi("cancel", "--yes")
    ep.server.advance_clock(100_000)
    project.up()
    assert routes(ep).get(CREATE) == 1
    assert job(ep, job_id_of(project))["status"] == "succeeded"


# -- pause and resume as desired state ----------------------------------------------------------


def test_pause_resume_and_an_outside_pause_restored_by_up_refresh(ep, project):
    project.write(program())
    project.up()
    job_id = running_job(ep, project)

    project.write(program(paused=True))
    pause_preview = project.preview()
    project.up()
    assert job(ep, job_id)["status"] == "paused"
    project.write(program(paused=False))
    resume_preview = project.preview()
    project.up()
    assert job(ep, job_id)["status"] in ("queued", "running")
    wait_until(lambda: job(ep, job_id)["status"] == "running")
    ep.api.post(f"fine_tuning/jobs/{job_id}/pause")  # someone pauses it outside Pulumi
    refreshed = project.preview("--refresh")
    project.up("--refresh")

    for preview in (pause_preview, resume_preview, refreshed):
        assert "1 to update" in preview.stdout and "replace" not in preview.stdout, preview.stdout
    assert job(ep, job_id)["status"] in ("queued", "running")
    counts = routes(ep)
    assert counts.get(CREATE) == 1
    assert counts.get(PAUSE) == 2  # one from the provider, one from "outside"
    assert counts.get(RESUME) == 2  # both from the provider


# -- existing jobs ----------------------------------------------------------------------------


def _job_started_elsewhere(ep: Endpoint, **extra: Any) -> str:
    training_file = ep.api.upload(DATASET)
    started: dict[str, Any] = ep.api.post(
        "fine_tuning/jobs", {"model": MODEL, "training_file": training_file, **extra}
    )
    return str(started["id"])


def test_get_reads_a_job_without_managing_it(ep, project):
    job_id = _job_started_elsewhere(ep)
    project.write({"gets": {"existing": job_id}})
    ep.server.reset_stats()

    project.up()
    outputs = project.outputs()
    project.destroy()

    assert routes(ep).get(CREATE, 0) == 0
    assert outputs["existing.status"] in ACTIVE
    assert job(ep, job_id)["status"] in ACTIVE  # destroy left it alone


def test_adopting_a_job_takes_it_over_and_contradictions_fail(ep, project):
    job_id = _job_started_elsewhere(ep, suffix="adopted")
    training_file = job(ep, job_id)["training_file"]
    project.write(
        {"jobs": {"bot": {"model": "gpt-4.1-mini-2025-04-14", "training_file": training_file,
                          "adopt_job_id": job_id}}}
    )  # fmt: skip
    ep.server.reset_stats()

    wrong = project.up(check=False)
    project.write(
        {"jobs": {"bot": {"model": MODEL, "training_file": training_file, "adopt_job_id": job_id}}}
    )
    project.up()
    adopted = job_id_of(project)
    project.destroy()

    assert wrong.returncode != 0
    assert "adopt_job_id" in wrong.output and "model" in wrong.output, wrong.output
    assert adopted == job_id
    assert routes(ep).get(CREATE, 0) == 0
    assert job(ep, job_id)["status"] == "cancelled"  # managed: destroy followed on_destroy


# -- outputs of a job that was not waited on ------------------------------------------------------


def test_a_job_not_waited_on_feeds_consumers_without_churn(ep, project):
    project.write({**program(), "echoes": {"consumer": "@bot.fine_tuned_model"}})
    project.up()
    ep.server.reset_stats()

    preview = project.preview("--expect-no-changes")
    assert "[unknown]" not in preview.stdout, preview.stdout
    assert ep.server.stats()["requests"] == 0
    assert project.outputs()["bot.fine_tuned_model"] == ""

    ep.server.advance_clock(100_000)
    project.up("--refresh")
    model = project.outputs()["consumer.value"]
    assert model.startswith("ft:") and model == project.outputs()["bot.fine_tuned_model"]


def test_a_job_chained_on_an_unfinished_base_fails_before_posting(ep, project):
    project.write(program(jobs={"base": JOB, "child": {**JOB, "model": "@base.fine_tuned_model"}}))

    result = project.up(check=False)

    assert result.returncode != 0
    assert "wait_for_completion=True" in result.output, result.output
    assert routes(ep).get(CREATE) == 1  # the base only


# -- drift --------------------------------------------------------------------------------------


def test_a_job_cancelled_outside_pulumi_is_drift_and_replaced_once(ep, project):
    project.write(program())
    project.up()
    first = job_id_of(project)
    ep.api.post(f"fine_tuning/jobs/{first}/cancel")

    drift = project.preview("--refresh", "--expect-no-changes", check=False)
    project.up("--refresh")

    assert drift.returncode != 0
    assert "replace" in drift.stdout and "cancelled outside Pulumi" in drift.output, drift.output
    assert routes(ep).get(CREATE) == 2
    assert job(ep, job_id_of(project))["status"] in ACTIVE


def test_a_job_that_failed_by_itself_is_not_rerun(ep, project):
    bad = project.dir / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n' * 12)
    training_file = ep.api.upload(bad)  # uploaded behind TrainingFile's back: no preview check
    project.write({"jobs": {"bot": {"model": MODEL, "training_file": training_file}}})
    project.up()
    ep.server.advance_clock(100)

    preview = project.preview("--refresh")

    assert "replace" not in preview.stdout, preview.stdout
    assert "failed" in preview.output and "--replace" in preview.output, preview.output
    assert routes(ep).get(CREATE) == 1


# -- turning waiting on later; blue/green --------------------------------------------------------


def test_turning_waiting_on_waits_for_the_running_job(ep, project):
    project.write(program())
    project.up()
    job_id = job_id_of(project)
    project.write(program(wait_for_completion=True))
    advance = threading.Timer(4.0, lambda: ep.server.advance_clock(100_000))
    advance.start()

    started = time.monotonic()
    project.up()
    advance.join()

    assert time.monotonic() - started >= 4.0  # it waited
    outputs = project.resource_outputs("bot")
    assert outputs["job_id"] == job_id and outputs["status"] == "succeeded"
    assert outputs["fine_tuned_model"].startswith("ft:")
    assert routes(ep).get(CREATE) == 1


def test_a_failed_replacement_leaves_the_old_job_and_model(ep, project):
    project.write(program(wait_for_completion=True, on_destroy="delete_model"))
    threading.Timer(2.0, lambda: ep.server.advance_clock(100_000)).start()
    project.up()
    old_model = project.outputs()["bot.fine_tuned_model"]
    bad = project.dir / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n' * 12)
    bad_file = ep.api.upload(bad)
    project.write(
        {"jobs": {"bot": {**JOB, "training_file": bad_file, "wait_for_completion": True,
                          "on_destroy": "delete_model"}}}
    )  # fmt: skip
    threading.Timer(2.0, lambda: ep.server.advance_clock(100_000)).start()

    failed = project.up(check=False)

    assert failed.returncode != 0
    assert project.outputs()["bot.fine_tuned_model"] == old_model
    assert ep.api.get(f"models/{old_model}")["id"] == old_model  # not deleted
    project.write(program(wait_for_completion=True, on_destroy="delete_model", suffix="v2"))
    threading.Timer(2.0, lambda: ep.server.advance_clock(100_000)).start()
    project.up()
    new_model = project.outputs()["bot.fine_tuned_model"]
    assert new_model != old_model and ep.api.get(f"models/{new_model}")["id"] == new_model
    with pytest.raises(Exception, match="404"):
        ep.api.get(f"models/{old_model}")  # deleted only after the new job succeeded


def test_no_process_is_left_by_a_finished_run(ep, project):
    project.write(program())
    run = start_pulumi(project, "up", "--yes", "--skip-preview")
    run.process.wait(timeout=120)
    time.sleep(1)
    assert run.process.returncode == 0, run.output()
    assert run.leftovers() == []
