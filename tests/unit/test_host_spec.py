"""What each host takes, checked in preview from its row in `pulumi_finetune.hosts`: its own
fields and hyperparameters accepted there and refused elsewhere naming the host, OpenAI's schema
untouched, and `extra_body` sent verbatim."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_finetune import hosts
from pulumi_finetune import spec as jobspec
from pulumi_finetune.providers.job import FineTuningJobProvider, pause_reason, result_model
from pulumi_finetune.schema import FINE_TUNING_JOB

OPEN_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"


def failures(host: hosts.Host, **props: Any) -> dict[str, str]:
    spec = {"model": "gpt-4o-mini", "training_file": "file-1", **props}
    return dict(jobspec.validate(spec, FINE_TUNING_JOB.api_fields, host))


def supervised(**hyper: Any) -> dict[str, Any]:
    return {"type": "supervised", "supervised": {"hyperparameters": hyper}}


def test_nebius_takes_its_hyperparameters_and_refuses_the_multiplier_naming_itself() -> None:
    ok = supervised(learning_rate=0.0001, lora=True, lora_r=16, n_epochs=2, batch_size=8)
    assert failures(hosts.NEBIUS, model=OPEN_MODEL, method=ok) == {}
    found = failures(hosts.NEBIUS, model=OPEN_MODEL, method=supervised(learning_rate_multiplier=2))
    why = found["method.supervised.hyperparameters.learning_rate_multiplier"]
    assert "Nebius Token Factory does not take `learning_rate_multiplier`" in why
    assert "`learning_rate`" in why and "never converted" in why
    wrong = failures(hosts.NEBIUS, model=OPEN_MODEL, method=supervised(lora="yes"))
    assert "must be a bool" in wrong["method.supervised.hyperparameters.lora"]


def test_nebius_epochs_and_batch_size_must_be_whole_numbers_and_its_rates_not_auto() -> None:
    bad = supervised(n_epochs="three", batch_size=2.5, learning_rate="auto")
    found = failures(hosts.NEBIUS, model=OPEN_MODEL, method=bad)
    path = "method.supervised.hyperparameters"
    assert "must be a int" in found[f"{path}.n_epochs"]
    assert "must be a int" in found[f"{path}.batch_size"]
    assert "must be a int or float" in found[f"{path}.learning_rate"]  # "auto" is OpenAI's word
    auto = supervised(n_epochs="auto", batch_size="auto", learning_rate=0.0001)
    assert failures(hosts.NEBIUS, model=OPEN_MODEL, method=auto) == {}


def test_a_change_of_case_of_the_training_tier_never_replaces_the_job() -> None:
    provider = FineTuningJobProvider()
    base = {"model": "gpt-4o-mini", "training_file": "file-1", "host": "azure"}
    checked = provider.check({}, {**base, "training_type": "globalstandard"})
    again = provider.check(checked.inputs, {**base, "training_type": "GlobalStandard"})
    assert again.failures == []
    assert provider.diff("ftjob-1", checked.inputs, again.inputs).replaces == []
    other = provider.check(checked.inputs, {**base, "training_type": "Developer"})
    assert provider.diff("ftjob-1", checked.inputs, other.inputs).replaces == ["training_type"]


def test_openai_refuses_an_absolute_learning_rate_naming_itself() -> None:
    found = failures(hosts.OPENAI, hyperparameters={"learning_rate": 0.0001})
    why = found["hyperparameters.learning_rate"]
    assert "OpenAI does not take `learning_rate`" in why and "`learning_rate_multiplier`" in why
    # OpenAI's schema still checks what it knows
    assert "n_epochs" in " ".join(failures(hosts.OPENAI, method=supervised(n_epochs=0)))


def test_methods_a_host_lacks_are_refused_naming_it() -> None:
    found = failures(hosts.NEBIUS, model=OPEN_MODEL, method={"type": "dpo"})
    assert found["method.type"].startswith("Nebius Token Factory does not take method 'dpo'")


def test_training_type_is_azures_in_any_case_and_refused_elsewhere() -> None:
    assert failures(hosts.AZURE, training_type="globalstandard") == {}
    assert (
        "Standard, GlobalStandard"
        in failures(hosts.AZURE, training_type="premium")["training_type"]
    )
    why = failures(hosts.OPENAI, training_type="Standard")["training_type"]
    assert why.startswith("OpenAI has no training tiers") and "Azure OpenAI" in why


def test_a_suffix_with_a_dot_is_refused_on_azure_only() -> None:
    assert (
        "Azure OpenAI / Microsoft Foundry does not allow '.'"
        in failures(hosts.AZURE, suffix="v1.2")["suffix"]
    )
    assert failures(hosts.OPENAI, suffix="v1.2") == {}


def test_extra_body_is_sent_verbatim_but_never_instead_of_an_argument() -> None:
    assert failures(hosts.NEBIUS, model=OPEN_MODEL, extra_body={"tags": "nightly"}) == {}
    found = failures(hosts.AZURE, extra_body={"suffix": "x", "trainingType": "Standard"})
    assert "is the argument 'suffix'" in found["extra_body.suffix"]
    assert "is the argument 'training_type'" in found["extra_body.trainingType"]
    body = jobspec.wire_body(
        {"model": "m", "training_type": "Developer", "extra_body": {"tags": ["a"]}}
    )
    assert body == {"model": "m", "trainingType": "Developer", "tags": ["a"]}


def check(**props: Any) -> list[str]:
    news = {**FINE_TUNING_JOB.placeholders(), "training_file": "file-1", **props}
    result = FineTuningJobProvider().check({}, news)
    return [f.reason for f in result.failures]


def test_paused_is_refused_in_preview_where_the_host_cannot_pause() -> None:
    reasons = check(model=OPEN_MODEL, host="nebius", paused=True)
    assert reasons == ["paused: Nebius Token Factory cannot pause a job (it has no pause)"]
    assert check(model="gpt-4o-mini", host="azure", paused=True) == []


def test_a_job_moving_to_another_host_is_checked_for_that_host() -> None:
    method = supervised(learning_rate_multiplier=2)
    olds = {"model": OPEN_MODEL, "training_file": "file-1", "method": method, "host": "openai"}
    news = {**FINE_TUNING_JOB.placeholders(), **olds, "host": "nebius"}
    reasons = [f.reason for f in FineTuningJobProvider().check(olds, news).failures]
    assert any("Nebius Token Factory does not take" in r for r in reasons), reasons


def test_result_model_per_host() -> None:
    job = {"id": "ftjob-1", "status": "succeeded", "fine_tuned_model": "ft:x:y::z"}
    checkpoints = [{"id": "ftckpt_a", "step_number": 3}, {"id": "ftckpt_b", "step_number": 9}]
    assert result_model(job, checkpoints, hosts.OPENAI) == "ft:x:y::z"
    nebius_job = {"id": "ftjob-1", "status": "succeeded"}
    assert result_model(nebius_job, checkpoints, hosts.NEBIUS) == "ftjob-1:ftckpt_b"
    assert result_model({**nebius_job, "status": "running"}, checkpoints, hosts.NEBIUS) == ""


@pytest.mark.parametrize(
    ("method", "recorded", "expected"),
    [
        ("reinforcement", {"paused": False}, True),  # the host paused it at its cap
        ("reinforcement", {"paused": True}, False),  # Pulumi paused it
        ("supervised", {"paused": False}, False),  # no cap on this method: paused elsewhere
    ],
)
def test_a_pause_by_the_hosts_cost_cap_is_told_apart(
    method: str, recorded: dict[str, Any], expected: bool
) -> None:
    job = {"id": "ftjob-1", "status": "paused", "method": {"type": method}}
    reason = pause_reason(job, recorded, hosts.AZURE)
    assert bool(reason) is expected
    if expected:
        assert "cost cap ($5,000" in reason and "resume_cost_capped=True" in reason


def estimated(host: str, prices: dict[str, float] | None = None) -> dict[str, Any]:
    news = {
        **FINE_TUNING_JOB.placeholders(),
        "model": "gpt-4o-mini-2024-07-18",
        "training_file": "file-1",
        "host": host,
        "_training_data": {"example_count": 12, "billed_tokens_per_epoch": 1000},
        "_training_prices": prices,
    }
    inputs: dict[str, Any] = FineTuningJobProvider().check({}, news).inputs
    return inputs


def test_a_host_without_a_price_table_gets_a_note_not_another_hosts_price() -> None:
    assert estimated("openai")["estimated_cost_usd"] is not None
    azure = estimated("azure")
    assert azure["estimated_cost_usd"] is None
    assert azure["estimated_cost_note"] == hosts.AZURE.price_note
    assert azure["estimated_billed_tokens"] == estimated("openai")["estimated_billed_tokens"]
    priced = estimated("azure", {"gpt-4o-mini-2024-07-18": 2.0})
    assert priced["estimated_cost_usd"] is not None and "trainingPrices" in str(
        priced["estimated_cost_note"]
    )


def test_azures_reinforcement_response_format_is_azures_only() -> None:
    grader = {
        "type": "string_check",
        "name": "g",
        "input": "a",
        "reference": "b",
        "operation": "eq",
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "label", "schema": {"type": "object"}}}
    method = {"type": "reinforcement", "reinforcement": {"grader": grader, "response_format": fmt}}
    assert failures(hosts.AZURE, model="o4-mini", method=method) == {}
    why = failures(hosts.OPENAI, model="o4-mini", method=method)
    assert (
        "OpenAI does not take it (only Azure OpenAI" in why["method.reinforcement.response_format"]
    )


def test_delete_model_is_refused_where_the_result_is_no_model() -> None:
    reasons = check(model=OPEN_MODEL, host="nebius", on_destroy="delete_model")
    assert reasons == [
        "on_destroy: Nebius Token Factory has no fine-tuned model to delete (its result is a "
        "checkpoint): use cancel or keep"
    ]
    assert check(model="gpt-4o-mini", host="azure", on_destroy="delete_model") == []
