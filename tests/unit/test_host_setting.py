"""The host of a resource: the `host` argument > `finetune:host` > the host its base URL names;
resolved by check, so that moving a resource to another host replaces it, and a state recorded
before the host existed shows no diff."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.output import Unknown

from pulumi_finetune import hosts
from pulumi_finetune.errors import SettingsError
from pulumi_finetune.providers.common import TableProvider
from pulumi_finetune.providers.file import TrainingFileProvider
from pulumi_finetune.providers.job import FineTuningJobProvider
from pulumi_finetune.schema import FINE_TUNING_JOB
from pulumi_finetune.settings import resolve

MODEL = "gpt-4o-mini-2024-07-18"
LOCAL = "http://127.0.0.1:8089/v1"


def configured(provider: TableProvider, **config: str) -> TableProvider:
    values = {f"finetune:{k}": v for k, v in config.items()}
    provider.configure(ConfigureRequest(Config(values, "test")))
    return provider


def checked(provider: TableProvider, **props: Any) -> dict[str, Any]:
    news = {**FINE_TUNING_JOB.placeholders(), "model": MODEL, "training_file": "file-1", **props}
    result = provider.check({}, news)
    assert result.failures == [], result.failures
    inputs: dict[str, Any] = result.inputs
    return inputs


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://api.openai.com/v1", "openai"),
        ("https://my-res.openai.azure.com/openai/v1", "azure"),
        ("https://api.tokenfactory.nebius.com/v1", "nebius"),
        ("https://gateway.example.com/v1", "compatible"),
        (LOCAL, "compatible"),
    ],
)
def test_the_host_is_inferred_from_the_effective_base_url(base_url: str, host: str) -> None:
    assert resolve({}, {"finetune:baseUrl": base_url}, {}).host == host
    assert resolve({}, {}, {"OPENAI_BASE_URL": base_url}).host == host
    assert checked(configured(FineTuningJobProvider(), baseUrl=base_url))["host"] == host


def test_argument_beats_config_beats_the_base_url() -> None:
    provider = configured(FineTuningJobProvider(), baseUrl=LOCAL, host="openai")
    assert checked(provider)["host"] == "openai"  # a proxy playing OpenAI
    assert checked(provider, host="Azure")["host"] == "azure"
    assert checked(configured(FineTuningJobProvider()))["host"] == "openai"  # the default URL
    # a base_url argument of another host counts, unless a host is declared (at the origin the
    # provider's key is bound to: any other origin fails check, see test_credentials.py)
    azure = configured(FineTuningJobProvider(), baseUrl="https://x.openai.azure.com/openai/v1")
    assert checked(azure, base_url="https://x.openai.azure.com/openai/v1/")["host"] == "azure"
    proxy = configured(FineTuningJobProvider(), baseUrl="https://x.openai.azure.com/openai/v1")
    assert (
        checked(proxy, base_url="https://x.openai.azure.com/openai/v1", host="compatible")["host"]
        == "compatible"
    )


def test_an_unknown_host_fails_check_naming_the_known_ones() -> None:
    result = configured(FineTuningJobProvider(), host="anthropic").check(
        {}, {"model": MODEL, "training_file": "file-1"}
    )
    assert len(result.failures) == 1
    reason = result.failures[0].reason
    assert "host: finetune:host 'anthropic' is not a known host" in reason
    assert ", ".join(hosts.NAMES) in reason and "bedrock" in reason and "together" in reason
    with pytest.raises(SettingsError, match="host 'x' is not a known host"):
        resolve({"host": "x"}, {}, {})


def test_an_unknown_base_url_leaves_the_host_unknown_unless_declared() -> None:
    provider = configured(FineTuningJobProvider(), baseUrl=LOCAL)
    assert isinstance(checked(provider, base_url=Unknown())["host"], Unknown)
    assert checked(provider, base_url=Unknown(), host="openai")["host"] == "openai"


def test_a_host_change_replaces_the_job_and_the_file() -> None:
    openai = configured(FineTuningJobProvider(), baseUrl="https://api.openai.com/v1")
    azure = configured(FineTuningJobProvider(), baseUrl="https://r.openai.azure.com/openai/v1")
    olds = {**checked(openai), "job_id": "ftjob-1", "status": "succeeded"}
    assert not openai.diff("ftjob-1", olds, checked(openai)).changes
    assert azure.diff("ftjob-1", olds, checked(azure)).replaces == ["host"]

    file_provider = configured(TrainingFileProvider(), baseUrl=LOCAL)
    file_olds = {"path": "/x.jsonl", "purpose": "fine-tune", "sha256": "ab", "host": "openai"}
    news = {**file_olds, "host": "compatible"}
    assert file_provider.diff("file-1", file_olds, news).replaces == ["host"]


def test_a_state_recorded_before_the_host_existed_is_no_diff_and_an_update_records_it() -> None:
    provider = configured(FineTuningJobProvider(), baseUrl="https://api.openai.com/v1")
    news = checked(provider)
    olds = {k: v for k, v in news.items() if k != "host"}
    olds.update(job_id="ftjob-1", status="succeeded")
    assert not provider.diff("ftjob-1", olds, news).changes
    outs = provider.update("ftjob-1", olds, {**news, "wait_timeout_seconds": 60.0}).outs
    assert outs["host"] == "openai"
