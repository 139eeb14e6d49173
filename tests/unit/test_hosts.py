"""The host table: how a base URL names its host, and what each host refuses, in its words."""

from __future__ import annotations

import pytest

from pulumi_finetune import hosts


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://api.openai.com/v1", "openai"),
        ("https://my-resource.openai.azure.com/openai/v1", "azure"),
        ("https://my-resource.services.ai.azure.com/openai/v1", "azure"),
        ("https://api.tokenfactory.nebius.com/v1", "nebius"),
        ("https://api.studio.nebius.com/v1/", "nebius"),
        ("https://api.together.xyz/v1", "together"),
        ("https://api.together.ai/v1", "together"),
        ("http://127.0.0.1:8089/v1", "compatible"),
        ("https://openai.azure.com.attacker.example/v1", "compatible"),
    ],
)
def test_a_base_url_names_its_host(url: str, name: str) -> None:
    assert hosts.infer(url).name == name


def test_every_row_is_reachable_by_name_and_request_ids_are_all_known() -> None:
    for host in hosts.HOSTS:
        assert hosts.by_name(host.name.upper()) is host
        assert host.request_id_header in hosts.REQUEST_ID_HEADERS
    assert hosts.REQUEST_ID_HEADERS[0] == "x-request-id"
    assert hosts.by_name("fireworks") is None


def test_training_tiers_are_azures_in_any_case() -> None:
    assert hosts.training_type(hosts.AZURE, "globalstandard") == "globalstandard"
    assert hosts.training_type(hosts.AZURE, " Developer ") == "Developer"
    assert hosts.training_type(hosts.AZURE, "premium") is None
    assert hosts.training_type(hosts.OPENAI, "Standard") is None


def test_learning_rates_are_refused_naming_the_host_and_never_converted() -> None:
    why = hosts.refused_hyperparameter(hosts.NEBIUS, "learning_rate_multiplier")
    assert why is not None
    assert "Nebius Token Factory" in why and "`learning_rate`" in why and "never" in why
    why = hosts.refused_hyperparameter(hosts.OPENAI, "learning_rate")
    assert why is not None and "OpenAI" in why and "`learning_rate_multiplier`" in why
    assert hosts.refused_hyperparameter(hosts.NEBIUS, "lora_r") is None
    assert hosts.refused_hyperparameter(hosts.AZURE, "learning_rate_multiplier") is None


def test_what_names_the_trained_model() -> None:
    assert hosts.OPENAI.result == hosts.AZURE.result == "fine_tuned_model"
    assert hosts.NEBIUS.result == "final_checkpoint"
    assert not hosts.NEBIUS.can_pause and hosts.AZURE.cost_caps["reinforcement"] == 5000.0
