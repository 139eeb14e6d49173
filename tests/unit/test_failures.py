"""Provider errors as the user reads them: summary at the endpoint, the API's words, the fix;
check failures that name the property and keep integers integers (issue 12 item 6)."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from pulumi_finetune.errors import AuthenticationError, FinetuneError, InsufficientQuotaError
from pulumi_finetune.providers.failures import DEBUG_ENV, explained
from pulumi_finetune.providers.file import TrainingFileProvider
from pulumi_finetune.providers.job import FineTuningJobProvider

BASE_URL = "https://example.openai.azure.com/openai/v1"


class Raiser:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    @explained("Unable to create the fine-tuning job", lambda _self, _props: BASE_URL)
    def create(self, props: dict[str, Any]) -> None:
        try:
            raise KeyError("inner")  # a context the user must not see
        except KeyError:
            raise self.error  # noqa: B904 - the chain is what is being tested


def shown(error: BaseException) -> str:
    """What Pulumi's provider host prints, with `sys.tracebacklimit = 0`."""
    return "".join(traceback.format_exception(error, limit=0))


def unauthorized() -> AuthenticationError:
    return AuthenticationError(
        method="POST",
        path="fine_tuning/jobs",
        status=401,
        message="Incorrect API key provided.",
        code="invalid_api_key",
        request_id="req_123",
    )


def test_an_api_error_keeps_its_class_and_reads_summary_endpoint_message_and_fix(monkeypatch):
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    with pytest.raises(AuthenticationError) as caught:
        Raiser(unauthorized()).create({})

    text = shown(caught.value)
    assert text.splitlines() == [
        "pulumi_finetune.errors.AuthenticationError: Unable to create the fine-tuning job at "
        f"{BASE_URL}: POST fine_tuning/jobs failed with HTTP 401 (code=invalid_api_key): "
        "Incorrect API key provided. [request id req_123]",
        f"Fix: set a key valid for {BASE_URL} with `pulumi config set --secret finetune:apiKey "
        "<key>` (or export OPENAI_API_KEY), then run the command again",
    ]


def test_out_of_quota_says_so():
    error = InsufficientQuotaError(
        method="POST", path="files", status=429, message="quota", code="insufficient_quota"
    )
    with pytest.raises(InsufficientQuotaError) as caught:
        Raiser(error).create({})
    assert "out of credit" in str(caught.value)


def test_a_bug_says_how_to_get_the_traceback_and_debugging_keeps_it(monkeypatch):
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    with pytest.raises(FinetuneError) as caught:
        Raiser(TypeError("unsupported operand")).create({})
    assert "unexpected TypeError: unsupported operand" in str(caught.value)
    assert f"{DEBUG_ENV}=1" in str(caught.value)
    assert "During handling" not in shown(caught.value)

    monkeypatch.setenv(DEBUG_ENV, "1")
    with pytest.raises(TypeError) as raw:
        Raiser(TypeError("unsupported operand")).create({})
    assert "During handling" in "".join(traceback.format_exception(raw.value))


def test_every_provider_method_that_calls_the_api_is_explained():
    for provider in (FineTuningJobProvider, TrainingFileProvider):
        for name in ("check", "diff", "create", "read", "update", "delete"):
            assert getattr(getattr(provider, name), "explained", False), (provider, name)


def test_check_failures_name_the_property_and_keep_integers_integers():
    news = {
        "model": "gpt-4o-mini-2024-07-18",
        "training_file": "file-abc",
        "seed": -1.0,  # as Pulumi delivers -1
        "method": {
            "type": "supervised",
            "supervised": {"hyperparameters": {"n_epochs": "three", "batch_size": 4.0}},
        },
    }
    failures = FineTuningJobProvider().check({}, news).failures

    assert {(f.property, f.reason) for f in failures} == {
        (
            "",
            'method.supervised.hyperparameters.n_epochs: got "three"; must be "auto" or an '
            "integer from 1 to 50",
        ),
        ("", "seed: got -1; must be an integer from 0 to 2147483647"),
    }
