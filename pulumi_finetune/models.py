"""What the package knows about OpenAI's base models: the tokenizer each uses, how many tokens one
training example may hold, which train on completions data, and the snapshots the local endpoint
offers for fine-tuning."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_FAMILY",
    "FAMILIES",
    "SNAPSHOTS",
    "Family",
    "Snapshot",
    "base_model",
    "family",
    "is_completions_model",
    "token_limit",
]


@dataclass(frozen=True)
class Family:
    """The models whose base id starts with ``prefix``."""

    prefix: str
    #: The byte-pair encoding: ``o200k_base`` or ``cl100k_base``.
    encoding: str
    #: Tokens per training example before truncation.
    token_limit: int
    #: Trains on ``{"prompt", "completion"}`` data rather than chat.
    completions: bool = False


DEFAULT_FAMILY = Family("", "o200k_base", 65_536)

#: The first family whose prefix matches wins, so the narrower prefixes come first.
FAMILIES: tuple[Family, ...] = (
    Family("gpt-3.5-turbo-0613", "cl100k_base", 4_096),
    Family("gpt-3.5-turbo-0301", "cl100k_base", 4_096),
    Family("gpt-3.5", "cl100k_base", 16_385),
    Family("babbage-002", "cl100k_base", 16_384, completions=True),
    Family("davinci-002", "cl100k_base", 16_384, completions=True),
    Family("babbage", "cl100k_base", 65_536),
    Family("davinci", "cl100k_base", 65_536),
    Family("text-embedding", "cl100k_base", 65_536),
    Family("gpt-4o", "o200k_base", 65_536),
    Family("gpt-4.1", "o200k_base", 65_536),
    Family("gpt-4.5", "o200k_base", 65_536),
    Family("gpt-4", "cl100k_base", 8_192),
    Family("gpt-5", "o200k_base", 65_536),
    Family("o1", "o200k_base", 65_536),
    Family("o3", "o200k_base", 65_536),
    Family("o4", "o200k_base", 65_536),
)


@dataclass(frozen=True)
class Snapshot:
    """A dated base model that can be fine-tuned, with its Unix creation time and short alias."""

    id: str
    created: int
    alias: str | None = None


SNAPSHOTS: tuple[Snapshot, ...] = (
    Snapshot("gpt-4o-mini-2024-07-18", 1721172717, "gpt-4o-mini"),
    Snapshot("gpt-4o-2024-08-06", 1722814719, "gpt-4o"),
    Snapshot("gpt-4.1-2025-04-14", 1744315746, "gpt-4.1"),
    Snapshot("gpt-4.1-mini-2025-04-14", 1744317547, "gpt-4.1-mini"),
    Snapshot("gpt-4.1-nano-2025-04-14", 1744321025, "gpt-4.1-nano"),
    Snapshot("o4-mini-2025-04-16", 1744133506, "o4-mini"),
    Snapshot("gpt-3.5-turbo-0125", 1706048358, "gpt-3.5-turbo"),
    Snapshot("gpt-3.5-turbo-1106", 1698959748),
    Snapshot("babbage-002", 1692634615),
    Snapshot("davinci-002", 1692634301),
)


def base_model(model: str | None) -> str:
    """``ft:gpt-4o-mini-2024-07-18:org::id`` → ``gpt-4o-mini-2024-07-18``; lower case."""
    if not model:
        return ""
    m = model.strip().lower()
    if m.startswith("ft:"):
        m = m.split(":", 2)[1]
    return m


def family(model: str | None) -> Family:
    """The family of a base or ``ft:`` model; :data:`DEFAULT_FAMILY` when none matches."""
    base = base_model(model)
    if base:
        for candidate in FAMILIES:
            if base.startswith(candidate.prefix):
                return candidate
    return DEFAULT_FAMILY


def token_limit(model: str | None) -> int:
    """Tokens per training example before truncation, for a base or ``ft:`` model."""
    return family(model).token_limit


def is_completions_model(model: str | None) -> bool:
    """Whether the model trains on completions data (babbage-002, davinci-002)."""
    return family(model).completions
