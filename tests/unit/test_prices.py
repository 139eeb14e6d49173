"""Each job's own estimate (issue 12 item 5): its file's tokens per epoch × its epochs, priced by
its base model from a dated table or the stack's overrides; reinforcement is billed by time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pulumi_finetune.prices import PRICE_DATE, estimate, training_price
from pulumi_finetune.providers.file import TrainingFileProvider
from pulumi_finetune.providers.job import FineTuningJobProvider
from pulumi_finetune.rules import resolved_epochs
from pulumi_finetune.schema import FINE_TUNING_JOB, TRAINING_DATA, TRAINING_PRICES

DATA = Path(__file__).resolve().parents[1] / "data" / "valid" / "chat_12.jsonl"
MINI = "gpt-4o-mini-2024-07-18"


def test_prices_by_snapshot_alias_and_ft_model_and_overrides():
    assert training_price(MINI) == (3.0, f"OpenAI's price of {PRICE_DATE}")
    assert training_price("gpt-4o-mini") == training_price(MINI)
    assert training_price(f"ft:{MINI}:acme::abc123") == training_price(MINI)
    assert training_price("gpt-3.5-turbo-0125") == (8.0, f"OpenAI's price of {PRICE_DATE}")
    assert training_price("my-private-model") is None
    assert training_price(MINI, {MINI: 2.5}) == (2.5, "finetune:trainingPrices")
    assert training_price(f"ft:{MINI}:acme::x", {MINI: 2}) == (2.0, "finetune:trainingPrices")


@pytest.mark.parametrize(
    ("method", "hyperparameters", "expected"),
    [
        (None, None, 8),  # 12 examples: OpenAI's default raises epochs to 100 // 12
        ({"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}}, None, 3),
        ({"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": "auto"}}}, None, 8),
        ({"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": 2.0}}}, None, 2),
        (None, {"n_epochs": 4}, 4),  # the deprecated top-level hyperparameters
    ],
)
def test_epochs_are_the_declared_ones_else_openais_default(method, hyperparameters, expected):
    assert resolved_epochs(method, hyperparameters, 12) == expected


def test_reinforcement_is_billed_by_time_and_gets_no_token_estimate():
    result = estimate(
        model="o4-mini-2025-04-16", method_type="reinforcement", epochs=3, tokens_per_epoch=500
    )
    assert (result.billed_tokens, result.cost_usd) == (None, None)
    assert "billed by training time ($100.00 per hour for o4-mini-2025-04-16" in result.note


def test_an_unknown_model_keeps_the_tokens_and_says_how_to_price_it():
    result = estimate(model="acme-7b", method_type="supervised", epochs=2, tokens_per_epoch=100)
    assert (result.billed_tokens, result.cost_usd) == (200, None)
    assert "finetune:trainingPrices" in result.note


def job_check(**inputs: Any) -> dict[str, Any]:
    news = {**FINE_TUNING_JOB.placeholders(), "model": MINI, "training_file": "file-x", **inputs}
    result = FineTuningJobProvider().check({}, news)
    assert result.failures == [], result.failures
    return result.inputs


def file_figures() -> dict[str, Any]:
    checked = TrainingFileProvider().check({}, {"path": str(DATA), "model": MINI}).inputs
    return {k: checked[k] for k in ("example_count", "billed_tokens_per_epoch")}


def test_each_job_is_estimated_from_its_files_tokens_and_its_own_epochs():
    figures = file_figures()
    assert figures == {"example_count": 12, "billed_tokens_per_epoch": 526}
    method = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3.0}}}

    default = job_check(**{TRAINING_DATA: figures})
    three = job_check(**{TRAINING_DATA: figures}, method=method)
    repriced = job_check(**{TRAINING_DATA: figures, TRAINING_PRICES: {MINI: 10}})

    assert (default["estimated_epochs"], default["estimated_billed_tokens"]) == (8, 526 * 8)
    assert default["estimated_cost_usd"] == pytest.approx(526 * 8 * 3.0 / 1e6)
    assert default["price_date"] == PRICE_DATE
    assert (three["estimated_epochs"], three["estimated_billed_tokens"]) == (3, 526 * 3)
    assert repriced["estimated_cost_usd"] == pytest.approx(526 * 8 * 10 / 1e6)
    assert "finetune:trainingPrices" in repriced["estimated_cost_note"]


def test_without_the_files_figures_the_note_says_why():
    checked = job_check()
    assert checked["estimated_billed_tokens"] is None
    assert "TrainingFile" in checked["estimated_cost_note"]


def test_estimates_never_cause_a_diff():
    figures = file_figures()
    olds = job_check(**{TRAINING_DATA: figures})
    news = job_check(**{TRAINING_DATA: {**figures, "billed_tokens_per_epoch": 9}})
    news[TRAINING_PRICES] = {MINI: 99}
    assert not FineTuningJobProvider().diff("ftjob-x", olds, news).changes


def test_a_bad_price_override_fails_check_naming_the_model():
    news = {
        **FINE_TUNING_JOB.placeholders(),
        "model": MINI,
        "training_file": "file-x",
        TRAINING_PRICES: {MINI: "cheap"},
    }
    failures = FineTuningJobProvider().check({}, news).failures
    assert [f.reason for f in failures] == [
        f"finetune:trainingPrices.{MINI}: got 'cheap'; must be a number of USD per 1M tokens"
    ]
