"""Hostile input to the local Azure flavor's identity tokens (`local/identity.py`): the route
issues nothing without its header, and the API takes only an unexpired token this endpoint
signed. The answers are Azure's and App Service's shapes, not OpenAI's: no OpenAI schema check."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pulumi_finetune.local import identity
from pulumi_finetune.local.server import LocalEndpoint


@pytest.fixture(autouse=True)
def conformance() -> Iterator[None]:
    yield None


@pytest.fixture
def azure_identity(tmp_path: Path) -> Iterator[LocalEndpoint]:
    with LocalEndpoint(tmp_path / "azure", flavor="azure", token_lifetime=1.0) as endpoint:
        yield endpoint


def _token(endpoint: LocalEndpoint, header: str | None = None) -> requests.Response:
    return requests.get(
        f"http://127.0.0.1:{endpoint.port}{identity.PATH}",
        params={"api-version": "2019-08-01", "resource": "https://cognitiveservices.azure.com"},
        headers={"X-IDENTITY-HEADER": endpoint.key if header is None else header},
        timeout=10,
    )


def _files_with(endpoint: LocalEndpoint, token: str) -> int:
    response = requests.get(
        endpoint.url + "/files", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return response.status_code


@pytest.mark.parametrize("header", ["", "wrong", "sk-local-" + "x" * 30])
def test_the_identity_route_wants_its_header_and_issues_nothing_without(
    azure_identity: LocalEndpoint, header: str
) -> None:
    response = _token(azure_identity, header)
    assert response.status_code == 401 and "access_token" not in response.text
    assert azure_identity.app.identity is not None and azure_identity.app.identity.issued == 0


def test_only_an_unexpired_token_the_endpoint_issued_is_taken(
    azure_identity: LocalEndpoint, tmp_path: Path
) -> None:
    answer = _token(azure_identity).json()
    token = answer["access_token"]
    assert int(answer["expires_on"]) > 0 and answer["token_type"] == "Bearer"
    assert _files_with(azure_identity, token) == 200
    head, body, signature = token.split(".")
    assert _files_with(azure_identity, f"{head}.{body}.{signature[::-1]}") == 401  # forged
    assert _files_with(azure_identity, f"{head}.{body}") == 401  # unsigned
    with LocalEndpoint(tmp_path / "other", flavor="azure", token_lifetime=60.0) as other:
        assert _files_with(other, token) == 401  # another endpoint's token
    with LocalEndpoint(tmp_path / "openai", token_lifetime=60.0) as openai:
        assert _files_with(openai, _token(openai).json()["access_token"]) == 401  # key only
    deadline = int(answer["expires_on"]) + 0.2
    while time.time() < deadline:
        time.sleep(0.1)
    assert _files_with(azure_identity, token) == 401  # expired
    assert azure_identity.stats()["unauthorized"] == 3
