"""The base models the local endpoint offers for fine-tuning, and how fine-tuned names are built."""

from __future__ import annotations

# id -> created (unix time). Short aliases resolve to the dated snapshot, as OpenAI's do.
BASE_MODELS: dict[str, int] = {
    "gpt-4o-mini-2024-07-18": 1721172717,
    "gpt-4o-2024-08-06": 1722814719,
    "gpt-4.1-2025-04-14": 1744315746,
    "gpt-4.1-mini-2025-04-14": 1744317547,
    "gpt-4.1-nano-2025-04-14": 1744321025,
    "o4-mini-2025-04-16": 1744133506,
    "gpt-3.5-turbo-0125": 1706048358,
    "gpt-3.5-turbo-1106": 1698959748,
    "babbage-002": 1692634615,
    "davinci-002": 1692634301,
}

ALIASES: dict[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "o4-mini": "o4-mini-2025-04-16",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}


def resolve_base(model: str) -> str | None:
    """The dated base model for a base id or alias, or None when it is not a base model."""
    if model in BASE_MODELS:
        return model
    return ALIASES.get(model)


def base_of_fine_tuned(model: str) -> str:
    """The base model inside ``ft:{base}:{org}:{suffix}:{id}`` (used for continued fine-tuning)."""
    return model.split(":")[1]


def fine_tuned_name(base: str, org: str, suffix: str | None, job_id: str) -> str:
    """``ft:{base}:{org}:{suffix}:{short}``; the suffix slot stays empty when there is none."""
    short = job_id.removeprefix("ftjob-")[:8]
    return f"ft:{base}:{org}:{suffix or ''}:{short}"
