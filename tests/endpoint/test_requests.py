"""400s with ``param`` for bad create-job bodies, uploads, the upload limit, and models."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.local.server import LocalEndpoint

from .conftest import Api, training_bytes, wait_for


@pytest.fixture(scope="module")
def file_id(endpoint: LocalEndpoint) -> str:
    return Api(endpoint.url, endpoint.key).upload()


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"training_file": "F"}, "model"),
    ({"model": "gpt-4o-mini"}, "training_file"),
    ({"model": "gpt-4o-mini", "training_file": "file-missing"}, "training_file"),
    ({"model": "no-such-model", "training_file": "F"}, "model"),
    ({"model": "gpt-4o-mini", "training_file": "F", "suffix": "x" * 65}, "suffix"),
    ({"model": "gpt-4o-mini", "training_file": "F", "suffix": ""}, "suffix"),
    ({"model": "gpt-4o-mini", "training_file": "F", "seed": -1}, "seed"),
    ({"model": "gpt-4o-mini", "training_file": "F", "seed": 2147483648}, "seed"),
    ({"model": "gpt-4o-mini", "training_file": "F", "metadata": {str(i): "v" for i in range(17)}},
     "metadata"),
    ({"model": "gpt-4o-mini", "training_file": "F", "metadata": {"k" * 65: "v"}}, "metadata"),
    ({"model": "gpt-4o-mini", "training_file": "F", "metadata": {"k": "v" * 513}}, "metadata.k"),
    ({"model": "gpt-4o-mini", "training_file": "F", "method": {"type": "magic"}}, "method.type"),
    ({"model": "gpt-4o-mini", "training_file": "F",
      "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 51}}}},
     "method.supervised.hyperparameters.n_epochs"),
    ({"model": "gpt-4o-mini", "training_file": "F",
      "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0}}}},
     "method.dpo.hyperparameters.beta"),
    ({"model": "gpt-4o-mini", "training_file": "F", "method": {"type": "reinforcement"}},
     "method.reinforcement.grader"),
    ({"model": "gpt-4o-mini", "training_file": "F",
      "hyperparameters": {"learning_rate_multiplier": 0}},
     "hyperparameters.learning_rate_multiplier"),
    ({"model": "gpt-4o-mini", "training_file": "F", "colour": "blue"}, "colour"),
    ({"model": "gpt-4o-mini", "training_file": "F", "validation_file": "file-x"},
     "validation_file"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "param"), BAD_BODIES)
def test_bad_create_bodies_are_400_with_param(
    api: Api, endpoint: LocalEndpoint, file_id: str, body: dict[str, Any], param: str
) -> None:
    body = {k: (file_id if v == "F" else v) for k, v in body.items()}
    response = api.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert endpoint.stats()["jobs_created"] == 0


def test_unparseable_json_is_400(api: Api) -> None:
    response = api.post(
        "/fine_tuning/jobs", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] is None


def test_dpo_and_reinforcement_methods_echo_resolved_hyperparameters(
    api: Api, file_id: str
) -> None:
    dpo = api.create_job(
        training_file=file_id,
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.5, "n_epochs": 2}}},
    )
    assert dpo["method"]["type"] == "dpo"
    hyper = dpo["method"]["dpo"]["hyperparameters"]
    assert hyper["beta"] == 0.5 and hyper["n_epochs"] == 2 and isinstance(hyper["batch_size"], int)
    grader = {
        "type": "string_check",
        "name": "exact",
        "input": "{{sample.output_text}}",
        "reference": "{{item.answer}}",
        "operation": "eq",
    }
    rft = api.create_job(
        training_file=file_id,
        model="o4-mini",
        method={"type": "reinforcement", "reinforcement": {"grader": grader}},
    )
    assert rft["method"]["reinforcement"]["grader"] == grader
    assert rft["method"]["reinforcement"]["hyperparameters"]["reasoning_effort"] == "medium"


def test_uploads_api_builds_a_file(api: Api) -> None:
    content = training_bytes(30)
    half = len(content) // 2
    upload = api.post(
        "/uploads",
        json={"filename": "big.jsonl", "purpose": "fine-tune", "bytes": len(content),
              "mime_type": "text/jsonl"},
    ).json()  # fmt: skip
    assert upload["status"] == "pending" and upload["file"] is None
    parts = [
        api.post(f"/uploads/{upload['id']}/parts", files={"data": ("blob", chunk)}).json()
        for chunk in (content[:half], content[half:])
    ]
    assert all(p["object"] == "upload.part" and p["upload_id"] == upload["id"] for p in parts)
    wrong = api.post(
        f"/uploads/{upload['id']}/complete",
        json={"part_ids": [p["id"] for p in parts], "md5": "0" * 32},
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "md5"
    done = api.post(
        f"/uploads/{upload['id']}/complete",
        json={"part_ids": [p["id"] for p in parts], "md5": hashlib.md5(content).hexdigest()},
    ).json()
    assert done["status"] == "completed"
    assert done["file"]["bytes"] == len(content) and done["file"]["filename"] == "big.jsonl"
    assert api.get(f"/files/{done['file']['id']}/content").content == content
    again = api.post(f"/uploads/{upload['id']}/cancel")
    assert again.status_code == 400


def test_upload_cancel_and_size_mismatch(api: Api) -> None:
    upload = api.post(
        "/uploads",
        json={
            "filename": "a.jsonl",
            "purpose": "fine-tune",
            "bytes": 10,
            "mime_type": "text/jsonl",
        },
    ).json()
    part = api.post(f"/uploads/{upload['id']}/parts", files={"data": ("b", b"12345")}).json()
    short = api.post(f"/uploads/{upload['id']}/complete", json={"part_ids": [part["id"]]})
    assert short.status_code == 400 and short.json()["error"]["param"] == "part_ids"
    cancelled = api.post(f"/uploads/{upload['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"


def test_upload_limit_is_413_in_openai_shape(tmp_path: Path) -> None:
    with LocalEndpoint(tmp_path, max_upload_bytes=1000) as small:
        api = Api(small.url, small.key)
        response = api.post(
            "/files", files={"file": ("t.jsonl", b"x" * 200_000)}, data={"purpose": "fine-tune"}
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "file_too_large"
        just_over = api.post(
            "/files", files={"file": ("t.jsonl", b"x" * 1001)}, data={"purpose": "fine-tune"}
        )
        assert just_over.status_code == 413
        assert api.upload(b"x" * 1000)


def test_models_list_retrieve_delete(api: Api) -> None:
    job = api.create_job(suffix="models")
    done = wait_for(lambda: (j := api.job(job["id"]))["status"] == "succeeded" and j)
    model = done["fine_tuned_model"]
    ids = [m["id"] for m in api.get("/models").json()["data"]]
    assert "gpt-4o-mini-2024-07-18" in ids and model in ids
    info = api.get(f"/models/{model}").json()
    assert info == {"id": model, "object": "model", "created": done["finished_at"],
                    "owned_by": "org-personal"}  # fmt: skip
    continued = api.create_job(model=model)  # continued fine-tuning from an ft: model
    assert continued["model"] == model
    base = api.delete("/models/gpt-4o-mini-2024-07-18")
    assert base.status_code == 403
    assert api.delete(f"/models/{model}").json() == {
        "id": model,
        "object": "model",
        "deleted": True,
    }
    assert api.get(f"/models/{model}").status_code == 404
    assert api.delete(f"/models/{model}").status_code == 404
    gone = api.post(
        "/fine_tuning/jobs", json={"model": model, "training_file": done["training_file"]}
    )
    assert gone.status_code == 400 and gone.json()["error"]["param"] == "model"
