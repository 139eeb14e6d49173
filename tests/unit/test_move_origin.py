"""Where a recorded job or file lives is its recorded origin: a provider whose settings moved
elsewhere sends nothing for it, preview refuses to strand a job that still needs a request there,
and a refresh keeps its state. All local: the endpoints named here are never reached (a request
to one would fail the test with a connection error)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_finetune.errors import SettingsError
from pulumi_finetune.providers import common
from pulumi_finetune.providers.file import TrainingFileProvider
from pulumi_finetune.providers.job import FineTuningJobProvider
from pulumi_finetune.schema import PROVIDER_REF

A = "http://127.0.0.1:9/v1"  # discard port: nothing answers
B = "http://127.0.0.1:7/v1"
A_ORIGIN, B_ORIGIN = "http://127.0.0.1:9", "http://127.0.0.1:7"
REF = "urn:pulumi:dev::p::pulumi:providers:pulumi-python::pulumi-finetune"


def _provider(base_url: str, host: str | None = None, cls: Any = FineTuningJobProvider) -> Any:
    config = {"finetune:baseUrl": base_url, "finetune:apiKey": "sk-x"}
    if host:
        config["finetune:host"] = host
    provider = cls()
    provider.configure(ConfigureRequest(Config(config, "test")))
    return provider


def _job(**recorded: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini-2024-07-18",
        "training_file": "file-1",
        "host": "openai",
        "origin": A_ORIGIN,
        "status": "running",
        "on_destroy": "cancel",
        "job_id": "ftjob-1",
        PROVIDER_REF: REF,
        **recorded,
    }


def test_an_explicit_host_at_the_same_origin_is_not_elsewhere() -> None:
    provider = _provider(A, host="compatible")
    props = _job(host="openai")  # the job's own host argument, not finetune:host
    assert common.elsewhere(provider, props, common.settings_for(provider, props)) is None
    # a state without origin keeps the rule from before: the host names decide
    old = {k: v for k, v in props.items() if k != "origin"}
    why = common.elsewhere(provider, old, common.settings_for(provider, old))
    assert why is not None and "created on host openai" in why


def test_another_origin_of_the_same_host_is_elsewhere() -> None:
    provider = _provider(B)
    props = _job(host="compatible")
    why = common.elsewhere(provider, props, common.settings_for(provider, props))
    assert why is not None and A_ORIGIN in why and B_ORIGIN in why


@pytest.mark.parametrize(
    ("recorded", "needed"),
    [
        ({"status": "running"}, "is running there"),
        ({"status": "queued", "on_destroy": "delete_model"}, "is queued there"),
        ({"status": "succeeded", "on_destroy": "delete_model", "fine_tuned_model": "ft:x"}, "ft:x"),
        ({"status": "succeeded", "on_destroy": "cancel"}, ""),
        ({"status": "succeeded", "on_destroy": "delete_model", "fine_tuned_model": ""}, ""),
        ({"status": "running", "on_destroy": "keep"}, ""),
        ({"status": "cancelled"}, ""),
    ],
)
def test_a_move_by_the_provider_s_own_config_is_refused_only_where_a_request_is_needed(
    recorded: dict[str, Any], needed: str
) -> None:
    provider = _provider(B, host="azure")
    olds = _job(**recorded)
    news = {**_job(), "host": "azure", "model": "gpt-4.1-mini-2025-04-14"}
    if needed:
        with pytest.raises(SettingsError) as raised:
            provider.diff("ftjob-1", olds, news)
        message = str(raised.value)
        assert needed in message and A_ORIGIN in message and B_ORIGIN in message
        assert "host_provider" in message and "pulumi refresh" in message
        assert 'on_destroy="keep"' in message and "sk-x" not in message
    else:
        assert "host" in (provider.diff("ftjob-1", olds, news).replaces or [])


def test_a_move_to_another_provider_is_not_refused() -> None:
    """The engine deletes the old job through the provider it was created with (examples/
    move-host): the provider diffing the new one does not decide for it."""
    provider = _provider(B, host="azure")
    news = {**_job(), "host": "azure", PROVIDER_REF: REF + "-b"}
    assert "host" in (provider.diff("ftjob-1", _job(), news).replaces or [])
    # a state recorded before the provider or the origin was: as before, no refusal
    for missing in (PROVIDER_REF, "origin"):
        olds = {k: v for k, v in _job().items() if k != missing}
        assert provider.diff("ftjob-1", olds, {**_job(), "host": "azure"}).replaces


@pytest.mark.parametrize("cls", [FineTuningJobProvider, TrainingFileProvider])
def test_a_refresh_elsewhere_keeps_the_recorded_state_and_sends_nothing(
    cls: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = _provider(B, cls=cls)
    props = _job(host="compatible")
    result = provider.read("ftjob-1", {**props, "__provider": "x"})
    assert result.id == "ftjob-1" and result.outs == props
    assert "was not read" in capsys.readouterr().err


def test_a_delete_elsewhere_of_a_finished_job_says_it_is_left_as_it_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider = _provider(B)
    provider.delete("ftjob-1", _job(status="succeeded", host="compatible"))
    assert "left there as it is" in capsys.readouterr().err
    provider.delete("ftjob-1", _job(status="running", host="compatible", on_destroy="keep"))
    assert "left there as it is" in capsys.readouterr().err


def test_a_job_naming_its_old_origin_under_a_provider_moved_elsewhere_is_refused() -> None:
    """The job's own `base_url` kept origin A while the stack's key moved to B: its destroy
    could carry no key to A; the refusal names A and the origin the key is bound to now."""
    provider = _provider(B, host="azure")
    olds = _job(base_url=A)
    news = {**_job(base_url=B), "host": "azure"}
    with pytest.raises(SettingsError) as raised:
        provider.diff("ftjob-1", olds, news)
    assert f"lives at {A_ORIGIN}" in str(raised.value)
    assert f"now bound to {B_ORIGIN}" in str(raised.value)


def test_an_update_of_a_job_elsewhere_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    provider = _provider(B)
    olds = _job(host="compatible", paused=False)
    result = provider.update("ftjob-1", olds, {**olds, "paused": True})
    assert (result.outs or {})["paused"] is False  # as it is, not as declared
    assert "was not read" in capsys.readouterr().err
