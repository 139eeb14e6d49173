"""The local endpoint playing Azure OpenAI and Nebius Token Factory (`--flavor`): their paths,
credentials, fields, ids, errors and what each refuses, as their documentation describes them
(see `pulumi_finetune/local/flavors.py`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pulumi_finetune.local.server import LocalEndpoint

from .conftest import Api, training_bytes, wait_for

RFT_DATA = (
    Path(__file__).resolve().parents[2] / "examples" / "reinforcement" / "data" / "train.jsonl"
)
GRADER = {
    "type": "string_check",
    "name": "label",
    "input": "{{sample.output_text}}",
    "reference": "{{item.reference_answer}}",
    "operation": "eq",
}
ENTRA_TOKEN = "entra-token-for-tests"


@pytest.fixture(autouse=True)
def conformance() -> Iterator[None]:
    """These flavors answer in their hosts' shapes, not OpenAI's: the shared OpenAI schema
    check does not apply (each test asserts the host's shape itself)."""
    yield None


class HostApi:
    """`requests` with the credential a host takes."""

    def __init__(self, endpoint: LocalEndpoint, headers: dict[str, str]) -> None:
        self.url = endpoint.url
        self.session = requests.Session()
        self.session.headers.update(headers)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.url + path, timeout=10, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.session.post(self.url + path, timeout=10, **kw)

    def upload(self, content: bytes, **form: str) -> requests.Response:
        return self.post(
            "/files",
            files={"file": ("train.jsonl", content)},
            data={"purpose": "fine-tune", **form},
        )

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.get(f"/fine_tuning/jobs/{job_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


EXPIRES = {"expires_after[anchor]": "created_at", "expires_after[seconds]": "2592000"}


@pytest.fixture(scope="module")
def azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    with LocalEndpoint(
        tmp_path_factory.mktemp("azure"), clock_speed=100, flavor="azure", entra_token=ENTRA_TOKEN
    ) as ep:
        yield ep


@pytest.fixture(scope="module")
def nebius(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpoint]:
    with LocalEndpoint(tmp_path_factory.mktemp("nebius"), clock_speed=100, flavor="nebius") as ep:
        yield ep


@pytest.fixture
def az(azure: LocalEndpoint) -> HostApi:
    return HostApi(azure, {"api-key": azure.key})


@pytest.fixture
def nb(nebius: LocalEndpoint) -> HostApi:
    return HostApi(nebius, {"Authorization": f"Bearer {nebius.key}"})


def _azure_file(az: HostApi, content: bytes | None = None) -> str:
    response = az.upload(content if content is not None else training_bytes(), **EXPIRES)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


# ---------------------------------------------------------------------- Azure OpenAI


def test_azure_serves_under_openai_v1_with_its_request_id_header(
    azure: LocalEndpoint, az: HostApi
) -> None:
    assert azure.url.endswith("/openai/v1")
    response = az.get("/models")
    assert response.status_code == 200
    assert response.headers.get("apim-request-id")
    assert "x-request-id" not in response.headers
    assert (
        requests.get(azure.root + "/v1/models", headers={"api-key": azure.key}).status_code == 404
    )


def test_azure_takes_api_key_or_an_entra_token_never_the_key_as_bearer(
    azure: LocalEndpoint,
) -> None:
    models = azure.url + "/models"
    assert requests.get(models, headers={"api-key": azure.key}).status_code == 200
    token = {"Authorization": f"Bearer {ENTRA_TOKEN}"}
    assert requests.get(models, headers=token).status_code == 200
    refused = requests.get(models, headers={"Authorization": f"Bearer {azure.key}"})
    assert refused.status_code == 401
    error = refused.json()["error"]
    assert error["type"] == "error" and error["code"] == "401" and "inner_error" in error
    assert azure.key not in refused.text
    assert refused.headers.get("apim-request-id")


def test_azure_file_upload_requires_expires_after(az: HostApi) -> None:
    missing = az.upload(training_bytes())
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "expires_after"
    bad = az.upload(training_bytes(), **{**EXPIRES, "expires_after[anchor]": "last_active_at"})
    assert bad.status_code == 400
    assert az.upload(training_bytes(), **EXPIRES).status_code == 200


def test_azure_takes_training_type_in_any_case_and_records_it(
    azure: LocalEndpoint, az: HostApi
) -> None:
    file_id = _azure_file(az)
    body = {"model": "gpt-4o-mini", "training_file": file_id, "trainingType": "globalstandard"}
    created = az.post("/fine_tuning/jobs", json=body)
    assert created.status_code == 200, created.text
    received = azure.job_request(created.json()["id"])["received"]
    assert received["body"]["trainingType"] == "globalstandard"
    assert received["auth"] == "api-key"

    wrong = az.post("/fine_tuning/jobs", json={**body, "trainingType": "premium"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["param"] == "trainingType"


def test_azure_refuses_a_suffix_with_a_dot(az: HostApi) -> None:
    body = {"model": "gpt-4o-mini", "training_file": _azure_file(az), "suffix": "v1.2"}
    response = az.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "suffix"


def test_azure_names_models_and_checkpoints_its_way_and_continues_from_them(az: HostApi) -> None:
    file_id = _azure_file(az)
    body = {"model": "gpt-4o-mini", "training_file": file_id, "suffix": "notes"}
    job_id = az.post("/fine_tuning/jobs", json=body).json()["id"]
    done = wait_for(lambda: (j := az.job(job_id))["status"] == "succeeded" and j)
    model = done["fine_tuned_model"]
    assert re.fullmatch(r"gpt-4o-mini-2024-07-18\.ft-[0-9a-f]{32}-notes", model), model
    checkpoints = az.get(f"/fine_tuning/jobs/{job_id}/checkpoints").json()["data"]
    assert checkpoints and all(c["id"].startswith("ftchkpt-") for c in checkpoints)
    assert az.get(f"/models/{model}").status_code == 200

    chained = az.post("/fine_tuning/jobs", json={"model": model, "training_file": file_id})
    assert chained.status_code == 200, chained.text


def test_azure_refuses_graders_its_spec_does_not_list(az: HostApi) -> None:
    file_id = _azure_file(az, RFT_DATA.read_bytes())
    python = {"type": "python", "name": "p", "source": "def grade(s, i): return 1"}
    body = {
        "model": "o4-mini",
        "training_file": file_id,
        "method": {"type": "reinforcement", "reinforcement": {"grader": python}},
    }
    response = az.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "method.reinforcement.grader.type"


def test_azure_reinforcement_job_pauses_itself_at_its_cost_cap(
    azure: LocalEndpoint, az: HostApi
) -> None:
    file_id = _azure_file(az, RFT_DATA.read_bytes())
    body = {
        "model": "o4-mini",
        "training_file": file_id,
        "method": {"type": "reinforcement", "reinforcement": {"grader": GRADER}},
    }
    azure.set_cost_cap(500)  # 5 simulated seconds of training
    try:
        job_id = az.post("/fine_tuning/jobs", json=body).json()["id"]
    finally:
        azure.set_cost_cap(None)
    paused = wait_for(lambda: (j := az.job(job_id))["status"] == "paused" and j)
    assert paused["fine_tuned_model"] is None
    events = az.get(f"/fine_tuning/jobs/{job_id}/events", params={"limit": 100}).json()["data"]
    assert any("cost reached the $500 cap" in e["message"] for e in events)
    azure.advance_clock(3600)
    assert az.job(job_id)["status"] == "paused"  # it stays paused: nobody resumed it

    assert az.post(f"/fine_tuning/jobs/{job_id}/resume").status_code == 200
    assert wait_for(lambda: az.job(job_id)["status"] == "succeeded")


# ---------------------------------------------------------------------- Nebius Token Factory


def _nebius_file(nb: HostApi) -> str:
    response = nb.upload(training_bytes())
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_nebius_offers_open_models_with_slashes_in_their_ids(nb: HostApi) -> None:
    ids = [m["id"] for m in nb.get("/models").json()["data"]]
    assert "meta-llama/Llama-3.3-70B-Instruct" in ids
    assert not any(i.startswith("gpt-") for i in ids)
    assert nb.get("/models/meta-llama/Llama-3.3-70B-Instruct").status_code == 200


def test_nebius_takes_its_hyperparameters_and_refuses_openais_multiplier(nb: HostApi) -> None:
    file_id = _nebius_file(nb)
    base = {"model": "meta-llama/Llama-3.3-70B-Instruct", "training_file": file_id}
    refused = nb.post(
        "/fine_tuning/jobs", json={**base, "hyperparameters": {"learning_rate_multiplier": 2}}
    )
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail[0]["loc"] == ["body", "hyperparameters", "learning_rate_multiplier"]

    hyper = {"learning_rate": 0.0002, "lora": True, "lora_r": 16, "n_epochs": 2}
    created = nb.post("/fine_tuning/jobs", json={**base, "hyperparameters": hyper, "tags": "t"})
    assert created.status_code == 200, created.text
    job = created.json()
    assert job["hyperparameters"]["learning_rate"] == 0.0002
    assert job["hyperparameters"]["lora_r"] == 16 and job["hyperparameters"]["lora"] is True
    assert "learning_rate_multiplier" not in job["hyperparameters"]


def test_nebius_has_no_pause_and_no_dpo(nb: HostApi) -> None:
    file_id = _nebius_file(nb)
    base = {"model": "meta-llama/Meta-Llama-3.1-8B-Instruct", "training_file": file_id}
    job_id = nb.post("/fine_tuning/jobs", json=base).json()["id"]
    pause = nb.post(f"/fine_tuning/jobs/{job_id}/pause")
    assert pause.status_code == 404
    assert isinstance(pause.json()["detail"], str)
    dpo = nb.post("/fine_tuning/jobs", json={**base, "method": {"type": "dpo"}})
    assert dpo.status_code == 422


def test_nebius_job_result_is_its_final_checkpoint(nebius: LocalEndpoint, nb: HostApi) -> None:
    file_id = _nebius_file(nb)
    body = {"model": "meta-llama/Meta-Llama-3.1-8B-Instruct", "training_file": file_id}
    job_id = nb.post("/fine_tuning/jobs", json=body).json()["id"]
    done = wait_for(lambda: (j := nb.job(job_id))["status"] == "succeeded" and j)
    assert "fine_tuned_model" not in done
    assert done["trained_steps"] == done["total_steps"] > 0
    checkpoints = nb.get(f"/fine_tuning/jobs/{job_id}/checkpoints").json()["data"]
    final = max(checkpoints, key=lambda c: c["step_number"])
    assert final["step_number"] == done["total_steps"]
    assert final["fine_tuned_model_checkpoint"] == f"{job_id}:{final['id']}"
    received = nebius.job_request(job_id)["received"]
    assert received == {"body": body, "auth": "bearer-key"}


def test_openai_flavor_refuses_hosts_fields(api: Api) -> None:
    body = {"model": "gpt-4o-mini", "training_file": api.upload(), "trainingType": "Standard"}
    response = api.post("/fine_tuning/jobs", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "trainingType"
    assert json.loads(response.text)["error"]["type"] == "invalid_request_error"


def test_the_command_plays_a_flavor(tmp_path: Path) -> None:
    from pulumi_finetune.local.server import start_subprocess

    process = start_subprocess(tmp_path / "cli", extra_args=["--flavor", "azure"])
    try:
        assert process.url.endswith("/openai/v1")
        response = requests.get(process.url + "/models", headers={"api-key": process.key})
        assert response.status_code == 200 and response.headers.get("apim-request-id")
    finally:
        process.stop()


def test_azure_takes_a_response_format_for_reinforcement(az: HostApi) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "label", "schema": {"type": "object"}}}
    body = {
        "model": "o4-mini",
        "training_file": _azure_file(az, RFT_DATA.read_bytes()),
        "method": {
            "type": "reinforcement",
            "reinforcement": {"grader": GRADER, "response_format": fmt},
        },
    }
    assert az.post("/fine_tuning/jobs", json=body).status_code == 200


def test_nebius_has_no_uploads_api(nb: HostApi) -> None:
    body = {"filename": "a.jsonl", "purpose": "fine-tune", "bytes": 10, "mime_type": "text/jsonl"}
    assert nb.post("/uploads", json=body).status_code == 404
