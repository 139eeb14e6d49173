"""Where the endpoint used to differ from OpenAI's OpenAPI description (found by schema-driven
testing): file purposes, the ``after`` cursor on every list, "auto" mixed with numbers, and the
message for an empty filename."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_finetune.local.server import LocalEndpoint

from .conftest import Api, wait_for

# CreateFileRequest.purpose in OpenAI's OpenAPI description.
SPEC_FILE_PURPOSES = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]


@pytest.mark.parametrize("purpose", SPEC_FILE_PURPOSES)
def test_files_accept_every_purpose_of_the_spec(api: Api, purpose: str) -> None:
    file_id = api.upload(b'{"a": 1}\n', purpose=purpose)
    listed = api.get("/files", params={"purpose": purpose}).json()["data"]
    assert file_id in [f["id"] for f in listed]
    assert api.get(f"/files/{file_id}").json()["purpose"] == purpose


@pytest.fixture(scope="module")
def finished_job(endpoint: LocalEndpoint) -> dict[str, Any]:
    api = Api(endpoint.url, endpoint.key)
    job = api.create_job(suffix="cursors")
    done: dict[str, Any] = wait_for(
        lambda: (j := api.job(job["id"]))["status"] == "succeeded" and j
    )
    return done


def _list_paths(job: dict[str, Any]) -> list[str]:
    return [
        "/files",
        "/fine_tuning/jobs",
        f"/fine_tuning/jobs/{job['id']}/events",
        f"/fine_tuning/jobs/{job['id']}/checkpoints",
    ]


def test_empty_after_means_no_cursor_on_every_list(api: Api, finished_job: dict[str, Any]) -> None:
    for path in _list_paths(finished_job):
        without = api.get(path, params={"limit": 3})
        empty = api.get(path, params={"limit": 3, "after": ""})
        assert empty.status_code == 200, (path, empty.text)
        assert [i["id"] for i in empty.json()["data"]] == [i["id"] for i in without.json()["data"]]
        assert empty.json()["data"], path  # the comparison is between non-empty pages


def test_unknown_cursor_is_the_same_400_on_every_list(
    api: Api, finished_job: dict[str, Any]
) -> None:
    for path in _list_paths(finished_job):
        response = api.get(path, params={"after": "no-such-object"})
        assert response.status_code == 400, path
        error = response.json()["error"]
        assert error["param"] == "after", path
        assert error["message"] == "Unknown cursor: no-such-object"


@pytest.mark.parametrize(
    "method",
    [
        {"type": "supervised", "supervised": {"hyperparameters": {
            "n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": "auto"}}},
        {"type": "supervised", "supervised": {"hyperparameters": {
            "n_epochs": "auto", "batch_size": 3, "learning_rate_multiplier": 0.5}}},
        {"type": "dpo", "dpo": {"hyperparameters": {
            "beta": "auto", "n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": 1}}},
    ],
)  # fmt: skip
def test_auto_mixed_with_numbers_still_reports_trained_tokens(
    api: Api, method: dict[str, Any]
) -> None:
    job = api.create_job(method=method)
    done = wait_for(lambda: (j := api.job(job["id"]))["status"] == "succeeded" and j)
    hyper = done["hyperparameters"]
    assert all(isinstance(hyper[k], int | float) for k in hyper), hyper
    given = method[method["type"]]["hyperparameters"]
    for name, value in given.items():
        if value != "auto" and name in hyper:
            assert hyper[name] == value
    assert isinstance(done["trained_tokens"], int) and done["trained_tokens"] > 0
    assert done["trained_tokens"] % hyper["n_epochs"] == 0


def test_empty_upload_filename_says_it_is_empty(api: Api) -> None:
    body = {"filename": "", "purpose": "fine-tune", "bytes": 3, "mime_type": "text/jsonl"}
    response = api.post("/uploads", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "filename"
    assert "empty" in error["message"] and "Missing" not in error["message"]
    missing = api.post("/uploads", json={k: v for k, v in body.items() if k != "filename"})
    assert missing.json()["error"]["message"] == "Missing required parameter: 'filename'."


def test_integral_floats_count_as_integers(api: Api) -> None:
    # JSON Schema (and so OpenAI's description) counts 4.0 as an integer.
    job = api.create_job(
        seed=7.0,
        method={"type": "supervised", "supervised": {"hyperparameters": {"batch_size": 4.0}}},
    )
    assert job["seed"] == 7 and job["hyperparameters"]["batch_size"] == 4
    assert isinstance(job["hyperparameters"]["batch_size"], int)
    response = api.post(
        "/fine_tuning/jobs",
        json={"model": "gpt-4o-mini", "training_file": job["training_file"], "seed": 7.5},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "seed"
