"""Files, jobs, auth, errors, request ids and stats over plain HTTP."""

from __future__ import annotations

import re

from pulumi_finetune.local.server import LocalEndpoint

from .conftest import Api, training_bytes, wait_for


def test_upload_retrieve_content_delete(api: Api) -> None:
    file_id = api.upload(training_bytes(12))
    info = api.get(f"/files/{file_id}").json()
    assert info["object"] == "file"
    assert info["bytes"] == len(training_bytes(12))
    assert info["purpose"] == "fine-tune" and info["filename"] == "train.jsonl"
    assert api.get(f"/files/{file_id}/content").content == training_bytes(12)
    assert file_id in [f["id"] for f in api.get("/files").json()["data"]]
    deleted = api.delete(f"/files/{file_id}").json()
    assert deleted == {"id": file_id, "object": "file", "deleted": True}
    assert api.get(f"/files/{file_id}").status_code == 404


def test_client_filename_never_becomes_a_path(api: Api, endpoint: LocalEndpoint) -> None:
    response = api.post(
        "/files", files={"file": ("../../evil.jsonl", b"{}\n")}, data={"purpose": "fine-tune"}
    )
    assert response.status_code == 200
    file_id = response.json()["id"]
    assert (endpoint.data_dir / "files" / file_id).exists()
    assert not (endpoint.data_dir.parent / "evil.jsonl").exists()


def test_job_created_with_resolved_hyperparameters(api: Api) -> None:
    job = api.create_job(suffix="demo", metadata={"team": "infra"})
    assert re.fullmatch(r"ftjob-[A-Za-z0-9]{24}", job["id"])
    assert job["status"] == "validating_files"
    assert job["fine_tuned_model"] is None and job["finished_at"] is None
    assert job["trained_tokens"] is None and job["error"] is None
    assert job["estimated_finish"] is None and job["result_files"] == []
    hyper = job["hyperparameters"]
    assert all(isinstance(hyper[k], int | float) for k in hyper)
    assert job["method"] == {"type": "supervised", "supervised": {"hyperparameters": hyper}}
    assert isinstance(job["seed"], int)
    assert job["metadata"] == {"team": "infra"}


def test_job_runs_to_succeeded(api: Api) -> None:
    job = api.create_job(suffix="demo", seed=7)
    done = wait_for(lambda: (j := api.job(job["id"]))["status"] == "succeeded" and j)
    short = job["id"].removeprefix("ftjob-")[:8]
    assert done["fine_tuned_model"] == f"ft:gpt-4o-mini-2024-07-18:personal:demo:{short}"
    assert isinstance(done["finished_at"], int) and done["trained_tokens"] > 0
    assert done["estimated_finish"] is None
    (result_id,) = done["result_files"]
    result = api.get(f"/files/{result_id}").json()
    assert result["purpose"] == "fine-tune-results"
    header = api.get(f"/files/{result_id}/content").text.splitlines()[0]
    assert header == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"


def test_missing_key_and_wrong_key_are_401_in_openai_shape(endpoint: LocalEndpoint) -> None:
    import requests

    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = requests.get(endpoint.url + "/fine_tuning/jobs", headers=headers, timeout=5)
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "invalid_api_key"
        assert error["type"] == "invalid_request_error" and error["param"] is None
        assert "nope" not in response.text
        assert re.fullmatch(r"req_[0-9a-f]{32}", response.headers["x-request-id"])


def test_every_response_has_a_request_id(api: Api) -> None:
    ids = {api.get("/models").headers["x-request-id"], api.get("/nowhere").headers["x-request-id"]}
    assert len(ids) == 2 and all(i.startswith("req_") for i in ids)


def test_not_found(api: Api) -> None:
    for path in ("/files/file-nope", "/fine_tuning/jobs/ftjob-nope", "/models/ft:nope", "/x"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_stats_count_requests_by_route(api: Api, endpoint: LocalEndpoint) -> None:
    job = api.create_job()
    api.job(job["id"])
    api.job(job["id"])
    stats = endpoint.stats()
    assert stats["jobs_created"] == 1
    assert stats["by_route"] == {
        "POST /v1/files": 1,
        "POST /v1/fine_tuning/jobs": 1,
        "GET /v1/fine_tuning/jobs/{fine_tuning_job_id}": 2,
    }
    assert stats["requests"] == 4
    endpoint.reset_stats()
    assert endpoint.stats() == {"requests": 0, "by_route": {}, "jobs_created": 0, "unauthorized": 0}
