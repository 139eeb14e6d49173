"""What OpenAI charges to train a fine-tuning job, per base model, as of a date.

Source: OpenAI's pricing page (https://openai.com/api/pricing/, "Fine-tuning": the training
price per 1M tokens), and for reinforcement fine-tuning OpenAI's "Billing guide for the
Reinforcement Fine Tuning API" (help.openai.com/en/articles/11323177): it is billed by the
wall-clock time of the training loop ($100 per hour for o4-mini-2025-04-16), plus the tokens of
model graders at inference rates, so no token count predicts it.

Supervised and DPO jobs are billed per trained token: the training file's tokens (each example
counted up to the model's limit) times the epochs. OpenAI names no charge for the validation
file's tokens (`trained_tokens`, "the total number of billable tokens", counts training tokens),
so the estimate leaves them out.

Prices change: every estimate says the date of the table, and a stack overrides any model's
price with `pulumi config set --path 'finetune:trainingPrices["<model>"]' <USD per 1M tokens>`
(read by the program, see `pulumi_finetune.resources`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .models import base_model

__all__ = [
    "HOURLY_PRICES",
    "PRICE_DATE",
    "PRICE_SOURCE",
    "TRAINING_PRICES",
    "Estimate",
    "estimate",
    "training_price",
]

#: When the tables below were read from OpenAI's pricing page.
PRICE_DATE = "2025-06-01"
PRICE_SOURCE = "https://openai.com/api/pricing/"
#: Stack config that overrides the table: a JSON object, model → USD per 1M training tokens.
CONFIG_NAME = "trainingPrices"

#: USD per 1M training tokens, by base model (a snapshot, or a prefix of snapshots).
TRAINING_PRICES: dict[str, float] = {
    "gpt-4.1-2025-04-14": 25.00,
    "gpt-4.1-mini-2025-04-14": 5.00,
    "gpt-4.1-nano-2025-04-14": 1.50,
    "gpt-4o-2024-08-06": 25.00,
    "gpt-4o-mini-2024-07-18": 3.00,
    "gpt-3.5-turbo": 8.00,
    "davinci-002": 6.00,
    "babbage-002": 0.40,
}

#: USD per hour of training, for reinforcement fine-tuning (billed by time, not tokens).
HOURLY_PRICES: dict[str, float] = {"o4-mini-2025-04-16": 100.00}


@dataclass(frozen=True)
class Estimate:
    """The money side of one job as `check` sees it."""

    billed_tokens: int | None
    cost_usd: float | None
    price_date: str
    note: str

    def outputs(self) -> dict[str, Any]:
        return {
            "estimated_billed_tokens": self.billed_tokens,
            "estimated_cost_usd": self.cost_usd,
            "price_date": self.price_date,
            "estimated_cost_note": self.note,
        }


def _lookup(table: Mapping[str, float], model: str) -> tuple[str, float] | None:
    """(key, price) of the longest key that is the model or a prefix of it."""
    base = base_model(model)
    matches = [key for key in table if base == key or base.startswith(key)]
    if not matches:
        return None
    key = max(matches, key=len)
    return key, table[key]


def training_price(
    model: str, overrides: Mapping[str, Any] | None = None
) -> tuple[float, str] | None:
    """(USD per 1M training tokens, where the price comes from) for a base or `ft:` model: the
    stack's override for the model as written or for its base model, else the table."""
    for key in (model, base_model(model)):
        value = (overrides or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value), f"finetune:{CONFIG_NAME}"
    found = _lookup(TRAINING_PRICES, model)
    if found is None:
        return None
    return found[1], f"OpenAI's price of {PRICE_DATE}"


def estimate(
    *,
    model: str | None,
    method_type: str,
    epochs: int | None,
    tokens_per_epoch: int | None,
    overrides: Mapping[str, Any] | None = None,
) -> Estimate:
    """Billed tokens (tokens per epoch × epochs) and their cost, or a note saying why not."""
    if method_type == "reinforcement":
        hourly = _lookup(HOURLY_PRICES, model or "")
        rate = f"${hourly[1]:,.2f} per hour for {hourly[0]}, " if hourly else ""
        return Estimate(
            None,
            None,
            PRICE_DATE,
            f"reinforcement fine-tuning is billed by training time ({rate}as of {PRICE_DATE}) "
            "plus model-grader tokens, not by the data's tokens: no estimate",
        )
    if tokens_per_epoch is None or epochs is None:
        return Estimate(
            None,
            None,
            PRICE_DATE,
            "no estimate: the training file's token counts are known when training_file is a "
            "TrainingFile of this program (its id or the resource itself)",
        )
    billed = tokens_per_epoch * epochs
    if not model:
        return Estimate(billed, None, PRICE_DATE, "no cost estimate: the model is not known yet")
    price = training_price(model, overrides)
    if price is None:
        return Estimate(
            billed,
            None,
            PRICE_DATE,
            f"no price known for {model}: set one with `pulumi config set --path "
            f"'finetune:{CONFIG_NAME}[\"{base_model(model)}\"]' <USD per 1M tokens>`",
        )
    usd_per_million, source = price
    cost = round(billed * usd_per_million / 1_000_000, 6)
    return Estimate(
        billed,
        cost,
        PRICE_DATE,
        f"{billed:,} tokens ({tokens_per_epoch:,} × {epochs} epochs) at ${usd_per_million:,.2f} "
        f"per 1M training tokens ({source})",
    )
