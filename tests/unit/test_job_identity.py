"""Where a job's marker lives on each host (its row's `echoes`), how a job is recognised where the
host keeps none, and what preview checks of Amazon Bedrock's reinforcement jobs."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_finetune import hosts, identity
from pulumi_finetune import spec as jobspec
from pulumi_finetune.providers.job import _echoes_match
from pulumi_finetune.schema import FINE_TUNING_JOB

ARN = "arn:aws:lambda:us-west-2:123456789012:function:reward"
LAMBDA = {"type": "lambda", "lambda": {"function": ARN}}


def rft(grader: dict[str, Any], **hyper: Any) -> dict[str, Any]:
    return {"type": "reinforcement", "reinforcement": {"grader": grader, "hyperparameters": hyper}}


def failures(host: hosts.Host, **props: Any) -> dict[str, str]:
    spec = {"model": "openai.gpt-oss-20b", "training_file": "file-1", **props}
    return dict(jobspec.validate(spec, FINE_TUNING_JOB.api_fields, host))


def test_the_marker_lives_where_the_host_keeps_it() -> None:
    assert identity.marker_place(hosts.OPENAI, seed_declared=False) == "metadata"
    assert identity.marker_place(hosts.AZURE, seed_declared=True) == "metadata"
    assert identity.marker_place(hosts.NEBIUS, seed_declared=False) == "seed"
    assert identity.marker_place(hosts.NEBIUS, seed_declared=True) == "echoes"
    assert identity.marker_place(hosts.BEDROCK, seed_declared=False) == "echoes"
    assert "metadata" not in hosts.NEBIUS.echoes and not hosts.NEBIUS.lists_by_metadata
    assert identity.weaker_guarantee(hosts.OPENAI, False) is None
    assert identity.weaker_guarantee(hosts.NEBIUS, False) is None
    assert "Amazon Bedrock keeps no marker" in (
        identity.weaker_guarantee(hosts.BEDROCK, False) or ""
    )
    assert "seed is declared" in (identity.weaker_guarantee(hosts.NEBIUS, True) or "")


def test_the_markers_seed_is_in_openais_range_and_differs_by_marker() -> None:
    seeds = {
        identity.marker_seed(identity.marker_for(f"stack-{i}", "p/dev/bot", "s")) for i in range(50)
    }
    assert len(seeds) == 50
    assert all(0 <= seed <= 2**31 - 1 for seed in seeds)


BODY = {"model": "openai.gpt-oss-20b", "training_file": "file-1", "method": rft(LAMBDA, n_epochs=1)}


def job(**changes: Any) -> dict[str, Any]:
    method = rft(LAMBDA, n_epochs=1, batch_size=8)  # the host fills in its defaults
    return {
        "id": "ftjob-1",
        "model": "openai.gpt-oss-20b",
        "training_file": "file-1",
        "validation_file": None,
        "method": method,
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "matches"),
    [
        ({}, True),
        ({"training_file": "file-2"}, False),
        ({"model": "qwen.qwen3-32b"}, False),
        ({"validation_file": "file-3"}, False),
        ({"method": rft({**LAMBDA, "lambda": {"function": ARN + "-2"}}, n_epochs=1)}, False),
        ({"method": rft(LAMBDA, n_epochs=2)}, False),
        ({"method": {"type": "supervised", "supervised": {}}}, False),
        ({"metadata": {"other": "x"}, "seed": 7}, True),  # not Bedrock's: never compared
    ],
)
def test_a_job_is_recognised_by_everything_the_host_echoes(
    changes: dict[str, Any], matches: bool
) -> None:
    assert _echoes_match(BODY, job(**changes), hosts.BEDROCK) is matches


def test_bedrock_takes_a_lambda_grader_and_refuses_what_it_does_not_take() -> None:
    assert failures(hosts.BEDROCK, method=rft(LAMBDA, n_epochs=1)) == {}
    string_check = {
        "type": "string_check",
        "name": "n",
        "input": "a",
        "reference": "b",
        "operation": "eq",
    }
    found = failures(hosts.BEDROCK, method=rft(string_check), suffix="x", metadata={"a": "b"})
    assert (
        "does not take OpenAI's 'string_check' grader; it takes lambda"
        in found["method.reinforcement.grader.type"]
    )
    assert "Amazon Bedrock does not take a suffix" in found["suffix"]
    assert "keeps no metadata" in found["metadata"]
    bad_arn = failures(hosts.BEDROCK, method=rft({"type": "lambda", "lambda": {"function": "f"}}))
    assert "AWS Lambda function's ARN" in bad_arn["method.reinforcement.grader.lambda.function"]
    supervised = failures(hosts.BEDROCK, method={"type": "supervised"})
    assert "does not take method 'supervised'" in supervised["method.type"]


@pytest.mark.parametrize("host", [hosts.OPENAI, hosts.AZURE, hosts.COMPATIBLE])
def test_a_lambda_grader_is_refused_on_every_other_host_naming_it(host: hosts.Host) -> None:
    found = failures(host, model="o4-mini", method=rft(LAMBDA))
    why = found["method.reinforcement.grader.type"]
    assert f"{host.title} does not take a 'lambda' grader (only Amazon Bedrock does)" in why
    assert len(found) == 1, found  # one line, not OpenAI's schema's noise besides


def test_bedrock_is_inferred_from_its_hostname() -> None:
    assert hosts.infer("https://bedrock-mantle.us-west-2.api.aws/v1") is hosts.BEDROCK
    assert hosts.infer("https://bedrock-mantle.eu-central-1.api.aws/v1/") is hosts.BEDROCK
    assert hosts.infer("https://example.api.aws/v1") is hosts.COMPATIBLE
