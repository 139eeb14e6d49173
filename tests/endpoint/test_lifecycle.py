"""Job lifecycle on a clock the tests move: statuses, pause/resume, cancel, events, checkpoints."""

from __future__ import annotations

from pulumi_finetune.local.server import LocalEndpoint

from .conftest import Api, training_bytes, wait_for


def test_statuses_follow_the_clock(slow_endpoint: LocalEndpoint) -> None:
    api = Api(slow_endpoint.url, slow_endpoint.key)
    job = api.create_job(hyperparameters={"n_epochs": 3, "batch_size": 4})
    assert job["status"] == "validating_files"
    slow_endpoint.advance_clock(2.5)
    assert api.job(job["id"])["status"] == "queued"
    slow_endpoint.advance_clock(2)
    running = api.job(job["id"])
    assert running["status"] == "running"
    assert running["estimated_finish"] >= running["created_at"]
    assert running["fine_tuned_model"] is None and running["trained_tokens"] is None
    slow_endpoint.advance_clock(31)
    done = api.job(job["id"])
    assert done["status"] == "succeeded" and done["estimated_finish"] is None
    assert done["hyperparameters"] == {
        "n_epochs": 3,
        "batch_size": 4,
        "learning_rate_multiplier": 1.8,
    }


def test_pause_resume_and_cancel(slow_endpoint: LocalEndpoint) -> None:
    api = Api(slow_endpoint.url, slow_endpoint.key)
    job = api.create_job()
    refused = api.post(f"/fine_tuning/jobs/{job['id']}/pause")
    assert refused.status_code == 400  # still validating
    slow_endpoint.advance_clock(5)
    paused = api.post(f"/fine_tuning/jobs/{job['id']}/pause").json()
    assert paused["status"] == "paused"
    slow_endpoint.advance_clock(100)
    assert api.job(job["id"])["status"] == "paused"  # the clock does not move a paused job
    resumed = api.post(f"/fine_tuning/jobs/{job['id']}/resume").json()
    assert resumed["status"] == "queued"
    slow_endpoint.advance_clock(3)
    assert api.job(job["id"])["status"] == "running"
    cancelled = api.post(f"/fine_tuning/jobs/{job['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["fine_tuned_model"] is None
    slow_endpoint.advance_clock(100)
    assert api.job(job["id"])["status"] == "cancelled"
    events = api.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 1000}).json()
    transitions = [
        e["message"]
        for e in events["data"]
        if e["message"].startswith("Fine-tuning job ") and e["type"] == "message"
    ]
    assert transitions == [
        "Fine-tuning job cancelled",
        "Fine-tuning job resumed",
        "Fine-tuning job paused",
        "Fine-tuning job started",
    ]


def test_cancelling_a_finished_job_is_a_400(api: Api) -> None:
    """Documented choice: 400 invalid_request_error, param null, code null; the job is unchanged."""
    job = api.create_job()
    wait_for(lambda: api.job(job["id"])["status"] == "succeeded")
    response = api.post(f"/fine_tuning/jobs/{job['id']}/cancel")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] is None and error["code"] is None
    assert "already completed" in error["message"]
    assert api.job(job["id"])["status"] == "succeeded"


def test_events_newest_first_with_pagination(api: Api) -> None:
    job = api.create_job()
    wait_for(lambda: api.job(job["id"])["status"] == "succeeded")
    every = api.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 1000}).json()
    events = every["data"]
    assert not every["has_more"]
    assert events[0]["message"] == "The job has successfully completed"
    assert events[-1]["message"].startswith("Created fine-tuning job")
    assert [e["created_at"] for e in events] == sorted(
        (e["created_at"] for e in events), reverse=True
    )
    metrics = [e for e in events if e["type"] == "metrics"]
    assert metrics and {"step", "train_loss", "total_steps"} <= set(metrics[0]["data"])
    pages, after = [], None
    while True:
        params = {"limit": 4} | ({"after": after} if after else {})
        page = api.get(f"/fine_tuning/jobs/{job['id']}/events", params=params).json()
        pages.extend(page["data"])
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert [e["id"] for e in pages] == [e["id"] for e in events]


def test_checkpoints_for_the_last_three_epochs(api: Api) -> None:
    job = api.create_job(hyperparameters={"n_epochs": 4, "batch_size": 3}, suffix="ck")
    done = wait_for(lambda: (j := api.job(job["id"]))["status"] == "succeeded" and j)
    page = api.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()
    steps = [c["step_number"] for c in page["data"]]
    assert steps == [16, 12, 8]  # 12 examples / batch 3 = 4 steps per epoch; epochs 4, 3, 2
    assert page["first_id"] == page["data"][0]["id"] and page["last_id"] == page["data"][-1]["id"]
    assert not page["has_more"]
    first = page["data"][0]
    assert first["id"].startswith("ftckpt_")
    assert first["fine_tuned_model_checkpoint"] == done["fine_tuned_model"] + ":ckpt-step-16"
    assert first["fine_tuning_job_id"] == job["id"]
    two = api.get(f"/fine_tuning/jobs/{job['id']}/checkpoints", params={"limit": 2}).json()
    assert two["has_more"] and len(two["data"]) == 2
    rest = api.get(
        f"/fine_tuning/jobs/{job['id']}/checkpoints", params={"after": two["last_id"]}
    ).json()
    assert [c["step_number"] for c in rest["data"]] == [8]


def test_invalid_training_file_fails_the_job(api: Api) -> None:
    bad = training_bytes(12) + b"this is not json\n"
    job = api.create_job(training_file=api.upload(bad))
    failed = wait_for(lambda: (j := api.job(job["id"]))["status"] == "failed" and j)
    error = failed["error"]
    assert error["code"] == "invalid_training_file" and error["param"] == "training_file"
    assert "line 13" in error["message"]
    assert failed["fine_tuned_model"] is None
    levels = [e["level"] for e in api.get(f"/fine_tuning/jobs/{job['id']}/events").json()["data"]]
    assert levels[0] == "error"


def test_list_jobs_newest_first_paginated_and_filtered(api: Api) -> None:
    file_id = api.upload()
    made = [
        api.create_job(training_file=file_id, metadata={"batch": "list-test", "i": str(i)})["id"]
        for i in range(5)
    ]
    listed, after = [], None
    while True:
        params = {"limit": 2, "metadata[batch]": "list-test"} | ({"after": after} if after else {})
        page = api.get("/fine_tuning/jobs", params=params).json()
        assert page["object"] == "list" and len(page["data"]) <= 2
        listed += [j["id"] for j in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert listed == made[::-1]
    one = api.get("/fine_tuning/jobs", params={"metadata[i]": "3", "metadata[batch]": "list-test"})
    assert [j["id"] for j in one.json()["data"]] == [made[3]]
    default = api.get("/fine_tuning/jobs").json()
    assert len(default["data"]) <= 20
