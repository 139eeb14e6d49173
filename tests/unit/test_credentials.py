"""A credential goes only to the origin it was configured for, sent as the host's row says; an
identity token from azure-identity is fetched again before it expires, against the local Azure
flavor's managed-identity route (real azure-identity, real HTTP)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_finetune.client import Client, credentials
from pulumi_finetune.errors import AuthenticationError, SettingsError
from pulumi_finetune.local import identity
from pulumi_finetune.local.proxy import CountingProxy
from pulumi_finetune.local.server import LocalEndpoint
from pulumi_finetune.providers.job import FineTuningJobProvider
from pulumi_finetune.schema import FINE_TUNING_JOB
from pulumi_finetune.settings import DEFAULT_BASE_URL, in_clear_off_loopback, resolve

A = "https://a.example.com/v1"
B = "https://b.example.com:8443/v1"
AZURE = {"finetune:host": "azure"}  # the local Azure flavor, on a loopback URL


def test_the_stack_key_is_bound_to_the_origin_of_the_stack_base_url() -> None:
    config = {"finetune:baseUrl": A, "finetune:apiKey": "sk-a"}
    assert resolve({}, config, {}).require_key() == "sk-a"
    # another path at the same origin is the same origin
    assert resolve({"base_url": "https://A.example.com:443/other/v1"}, config, {}).api_key == "sk-a"
    elsewhere = resolve({"base_url": B}, config, {})
    assert elsewhere.api_key is None and elsewhere.unbound
    with pytest.raises(SettingsError) as raised:
        elsewhere.require_key()
    message = str(raised.value)
    assert "https://b.example.com:8443" in message and "https://a.example.com:443" in message
    assert "host_provider" in message and "sk-a" not in message


def test_the_environment_key_is_bound_to_its_base_url_or_openai() -> None:
    env = {"OPENAI_API_KEY": "sk-env"}
    assert resolve({}, {}, env).base_url == DEFAULT_BASE_URL
    assert resolve({}, {}, env).require_key() == "sk-env"
    assert resolve({"base_url": A}, {}, env).api_key is None
    env["OPENAI_BASE_URL"] = A
    assert resolve({"base_url": A + "/"}, {}, env).api_key == "sk-env"
    # a token is bound the same way
    config = {"finetune:baseUrl": A, "finetune:azureToken": "tok", "finetune:host": "azure"}
    assert resolve({"base_url": B}, config, {}).token is None


def test_check_fails_naming_both_origins_for_a_base_url_elsewhere() -> None:
    provider = FineTuningJobProvider()
    provider.configure(
        ConfigureRequest(Config({"finetune:baseUrl": A, "finetune:apiKey": "sk-a"}, "test"))
    )
    news = {
        **FINE_TUNING_JOB.placeholders(),
        "model": "gpt-4o-mini-2024-07-18",
        "training_file": "file-1",
        "base_url": B,
    }
    failures = [f.reason for f in provider.check({}, news).failures]
    assert len(failures) == 1, failures
    assert failures[0].startswith("base_url: base_url is at https://b.example.com:8443")
    assert "bound to https://a.example.com:443" in failures[0]


@pytest.mark.parametrize(
    ("url", "in_clear"),
    [
        ("http://127.0.0.1:8080/v1", False),
        ("http://127.8.9.10/v1", False),
        ("http://[::1]:80/v1", False),
        ("http://localhost:1/v1", False),
        ("http://api.localhost/v1", False),
        ("https://gateway.example.com/v1", False),
        ("http://gateway.internal:8080/v1", True),
        ("http://10.0.0.5/v1", True),
        ("http://[2001:db8::1]/v1", True),
    ],
)
def test_plain_http_counts_as_clear_text_off_loopback(url: str, in_clear: bool) -> None:
    assert in_clear_off_loopback(url) is in_clear


def test_the_host_row_decides_the_header_even_on_an_azure_url() -> None:
    azure_url = "https://r.openai.azure.com/openai/v1"
    declared = resolve({}, {"finetune:baseUrl": azure_url, "finetune:host": "compatible"}, {})
    inferred = resolve({}, {"finetune:baseUrl": azure_url}, {})
    key = {"finetune:apiKey": "k"}
    assert declared.host == "compatible" and inferred.host == "azure"
    assert credentials.credential_for(
        resolve({}, {"finetune:baseUrl": azure_url, "finetune:host": "compatible", **key}, {})
    ).headers() == {"Authorization": "Bearer k"}
    assert credentials.credential_for(
        resolve({}, {"finetune:baseUrl": azure_url, **key}, {})
    ).headers() == {"api-key": "k"}


def _jwt(exp: float) -> str:
    def part(payload: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part({'exp': int(exp)})}.sig"


@pytest.fixture
def azure(tmp_path: Any) -> Iterator[LocalEndpoint]:
    with LocalEndpoint(tmp_path, flavor="azure", token_lifetime=3.0) as endpoint:
        yield endpoint


def test_a_token_given_in_config_is_used_as_given_and_a_401_names_its_expiry(
    azure: LocalEndpoint,
) -> None:
    config = {**AZURE, "finetune:baseUrl": azure.url, "finetune:azureToken": _jwt(time.time() - 60)}
    with (
        Client(resolve({}, config, {}), max_retries=0) as client,
        pytest.raises(AuthenticationError) as raised,
    ):
        list(client.list_files())
    message = str(raised.value)
    assert "finetune:azureToken" in message and "expired at" in message
    assert raised.value.status == 401


def test_identity_tokens_are_fetched_again_before_they_expire(
    azure: LocalEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """azure-identity's managed-identity credential against the endpoint's route: tokens of 3 s,
    requests for 8 s from one client, not one refused."""
    origin = azure.url.removesuffix("/openai/v1")
    monkeypatch.setenv("IDENTITY_ENDPOINT", origin + identity.PATH)
    monkeypatch.setenv("IDENTITY_HEADER", azure.key)
    monkeypatch.setattr(credentials, "_identity", {})  # a fresh token source for this test
    settings = resolve({}, {**AZURE, "finetune:baseUrl": azure.url}, {})
    with Client(settings, max_retries=0) as client:
        end = time.time() + 8
        while time.time() < end:
            list(client.list_files())
            time.sleep(0.5)
    stats = azure.stats()
    assert stats["unauthorized"] == 0
    assert azure.app.identity is not None and azure.app.identity.issued >= 3
    assert stats["by_route"]["GET /v1/files"] >= 10


def test_the_endpoint_refuses_an_expired_token_it_issued(azure: LocalEndpoint) -> None:
    assert azure.app.identity is not None
    token, _ = azure.app.identity.issue("https://cognitiveservices.azure.com")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    config = {**AZURE, "finetune:baseUrl": azure.url, "finetune:azureToken": token}
    with Client(resolve({}, config, {}), max_retries=0) as client:
        list(client.list_files())
        time.sleep(3.2)
        with pytest.raises(AuthenticationError, match="expired at"):
            list(client.list_files())
    with (
        Client(resolve({}, {**config, "finetune:azureToken": forged}, {}), max_retries=0) as c,
        pytest.raises(AuthenticationError),
    ):
        list(c.list_files())
    assert azure.stats()["unauthorized"] == 2


def test_no_request_reaches_an_origin_the_key_is_not_bound_to(tmp_path: Any) -> None:
    with (
        LocalEndpoint(tmp_path / "a") as a,
        LocalEndpoint(tmp_path / "b") as b,
        CountingProxy(a.url) as proxy_a,
        CountingProxy(b.url) as proxy_b,
    ):
        config = {"finetune:baseUrl": proxy_a.url, "finetune:apiKey": a.key}
        with pytest.raises(SettingsError, match=proxy_b.origin):
            Client(resolve({"base_url": proxy_b.url}, config, {}))
        with Client(resolve({}, config, {})) as client:
            list(client.list_files())
        assert proxy_b.seen() == [] and proxy_a.carrying(a.key) == 1
