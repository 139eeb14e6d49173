"""The client against the local endpoint playing Azure OpenAI and Nebius Token Factory: the
credential each host takes, uploads with the expiry Azure requires, and errors in each host's
shape read into the same fields (status, code, param, message, request id, never the key)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_finetune.client import Client
from pulumi_finetune.errors import (
    AuthenticationError,
    BadRequestError,
    SettingsError,
    UnprocessableEntityError,
)
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "valid" / "chat_12.jsonl"
TOKEN = "entra-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def azure() -> Iterator[LocalEndpoint]:
    with LocalEndpoint(clock_speed=1000.0, flavor="azure", entra_token=TOKEN) as ep:
        yield ep


@pytest.fixture(scope="module")
def nebius() -> Iterator[LocalEndpoint]:
    with LocalEndpoint(clock_speed=1000.0, flavor="nebius") as ep:
        yield ep


def _client(ep: LocalEndpoint, host: str, **kw: str | None) -> Client:
    options = {"api_key": ep.key, **kw}
    return Client(Settings(base_url=ep.url, host=host, **options), max_retries=0)


def test_azure_gets_the_key_as_api_key_and_uploads_with_the_expiry_it_requires(
    azure: LocalEndpoint,
) -> None:
    with _client(azure, "azure") as client:
        file_id = client.upload_file(DATA, purpose="fine-tune")["id"]
        job = client.create_job(
            {"model": "gpt-4o-mini", "training_file": file_id, "trainingType": "Standard"}
        )
    assert azure.job_request(job["id"])["received"]["auth"] == "api-key"


def test_azure_takes_an_entra_token_instead_of_the_key(azure: LocalEndpoint) -> None:
    with _client(azure, "azure", api_key=None, token=TOKEN) as client:
        file_id = client.upload_file(DATA, purpose="fine-tune")["id"]
        job = client.create_job({"model": "gpt-4o-mini", "training_file": file_id})
    assert azure.job_request(job["id"])["received"]["auth"] == "bearer-token"
    with pytest.raises(AuthenticationError) as caught:
        _client(azure, "azure", api_key=None, token="wrong").retrieve_job(job["id"])
    assert caught.value.request_id and "wrong" not in str(caught.value)


def test_a_token_is_no_credential_where_the_host_takes_none(nebius: LocalEndpoint) -> None:
    with pytest.raises(SettingsError):
        _client(nebius, "nebius", api_key=None, token=TOKEN)


def test_azure_errors_carry_code_param_and_its_request_id(azure: LocalEndpoint) -> None:
    with _client(azure, "azure") as client:
        file_id = client.upload_file(DATA, purpose="fine-tune")["id"]
        with pytest.raises(BadRequestError) as caught:
            client.create_job(
                {"model": "gpt-4o-mini", "training_file": file_id, "trainingType": "premium"}
            )
    error = caught.value
    assert error.param == "trainingType" and error.type == "error"
    assert error.request_id and error.request_id.startswith("req_")
    assert f"[request id {error.request_id}]" in str(error)
    assert azure.key not in str(error)


def test_nebius_validation_errors_name_the_parameter(nebius: LocalEndpoint) -> None:
    with _client(nebius, "nebius") as client:
        file_id = client.upload_file(DATA, purpose="fine-tune")["id"]
        with pytest.raises(UnprocessableEntityError) as caught:
            client.create_job(
                {
                    "model": "meta-llama/Meta-Llama-3.1-8B-Instruct",
                    "training_file": file_id,
                    "hyperparameters": {"learning_rate_multiplier": 2},
                }
            )
    error = caught.value
    assert error.status == 422
    assert error.param == "hyperparameters.learning_rate_multiplier"
    assert "Unrecognized hyperparameter" in error.message
    assert error.request_id


def test_a_host_without_the_uploads_api_gets_a_large_file_in_one_request(
    nebius: LocalEndpoint,
) -> None:
    from pulumi_finetune.uploads import UploadOptions, upload_file

    nebius.reset_stats()
    with _client(nebius, "nebius") as client:
        uploaded = upload_file(
            client, DATA, purpose="fine-tune", options=UploadOptions(threshold=0)
        )
    routes = nebius.stats()["by_route"]
    assert routes == {"POST /v1/files": 1}, routes
    assert uploaded["bytes"] == DATA.stat().st_size
