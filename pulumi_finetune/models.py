"""What the package knows about OpenAI's base models: the tokenizer each uses, how many tokens one
training example may hold, which train on completions data or on images, which methods each
takes (supervised, dpo, reinforcement), and the snapshots the local endpoint offers.

Sources: OpenAI's fine-tuning guides (supervised, vision, DPO, reinforcement) and model pages;
Azure OpenAI's vision fine-tuning guide for gpt-4.1 (a model is given vision when either
documents it, so that valid data is never refused). Model ids as each host spells them: OpenAI's
fine-tuned `ft:BASE:ORG:SUFFIX:ID`, Azure OpenAI's `BASE.ft-HEX` (MicrosoftDocs/azure-ai-docs,
`how-to/fine-tuning-deploy.md`), and the open-weight `org/name` ids of Nebius Token Factory
(docs.tokenfactory.nebius.com `post-training/models`, 2026-12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BEDROCK_SNAPSHOTS",
    "DEFAULT_FAMILY",
    "FAMILIES",
    "LARGEST_TOKEN_LIMIT",
    "METHOD_OF_FORMAT",
    "OPEN_SNAPSHOTS",
    "SNAPSHOTS",
    "Family",
    "Method",
    "Snapshot",
    "base_model",
    "family",
    "is_completions_model",
    "is_fine_tuned",
    "known_family",
    "token_limit",
]

Method = Literal["supervised", "dpo", "reinforcement"]

SUPERVISED: frozenset[Method] = frozenset({"supervised"})
SUPERVISED_DPO: frozenset[Method] = frozenset({"supervised", "dpo"})
REINFORCEMENT: frozenset[Method] = frozenset({"reinforcement"})

#: The method that trains on each data format.
METHOD_OF_FORMAT: dict[str, Method] = {
    "chat": "supervised",
    "completions": "supervised",
    "preference": "dpo",
    "reinforcement": "reinforcement",
}


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
    #: Vision fine-tuning: trains on image inputs.
    vision: bool = False
    #: A reasoning model (o-series, gpt-5): trained with reinforcement, not on supervised data.
    reasoning: bool = False
    #: The fine-tuning methods it takes; None when not known (nothing is checked).
    methods: frozenset[Method] | None = None


DEFAULT_FAMILY = Family("", "o200k_base", 65_536)

#: The first family whose prefix matches wins, so the narrower prefixes come first.
FAMILIES: tuple[Family, ...] = (
    Family("gpt-3.5-turbo-0613", "cl100k_base", 4_096, methods=SUPERVISED),
    Family("gpt-3.5-turbo-0301", "cl100k_base", 4_096, methods=SUPERVISED),
    Family("gpt-3.5", "cl100k_base", 16_385, methods=SUPERVISED),
    Family("babbage-002", "cl100k_base", 16_384, completions=True, methods=SUPERVISED),
    Family("davinci-002", "cl100k_base", 16_384, completions=True, methods=SUPERVISED),
    Family("babbage", "cl100k_base", 65_536),
    Family("davinci", "cl100k_base", 65_536),
    Family("text-embedding", "cl100k_base", 65_536),
    Family("gpt-4o-mini", "o200k_base", 65_536, methods=SUPERVISED_DPO),
    Family("gpt-4o-2024-08-06", "o200k_base", 65_536, vision=True, methods=SUPERVISED_DPO),
    Family("gpt-4o", "o200k_base", 65_536),
    Family("gpt-4.1-2025-04-14", "o200k_base", 65_536, vision=True, methods=SUPERVISED_DPO),
    Family("gpt-4.1", "o200k_base", 65_536, methods=SUPERVISED_DPO),
    Family("gpt-4.5", "o200k_base", 65_536),
    Family("gpt-4", "cl100k_base", 8_192, methods=SUPERVISED),
    Family("gpt-5", "o200k_base", 65_536, reasoning=True, methods=REINFORCEMENT),
    Family("o1", "o200k_base", 65_536, reasoning=True, methods=REINFORCEMENT),
    Family("o3", "o200k_base", 65_536, reasoning=True, methods=REINFORCEMENT),
    Family("o4", "o200k_base", 65_536, reasoning=True, methods=REINFORCEMENT),
)

#: The largest token limit of any model: an example over it is cut off whatever the model.
LARGEST_TOKEN_LIMIT = max(f.token_limit for f in FAMILIES)


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

#: Open-weight base models that Nebius Token Factory fine-tunes (its `post-training/models`
#: page, 2026-12; LoRA on all, full fine-tuning on some), with their Hugging Face release times.
OPEN_SNAPSHOTS: tuple[Snapshot, ...] = (
    Snapshot("meta-llama/Meta-Llama-3.1-8B-Instruct", 1721606400),
    Snapshot("meta-llama/Llama-3.1-70B-Instruct", 1721606400),
    Snapshot("meta-llama/Llama-3.3-70B-Instruct", 1733356800),
)

#: Open-weight base models that Amazon Bedrock's OpenAI-compatible endpoint trains with
#: reinforcement (AWS's `fine-tuning-openai-apis` page and its machine-learning blog, 2026-03:
#: gpt-oss-20b and Qwen3 32B; ids as its OpenAI-compatible endpoint names them), with their
#: release times.
BEDROCK_SNAPSHOTS: tuple[Snapshot, ...] = (
    Snapshot("openai.gpt-oss-20b", 1754352000),
    Snapshot("qwen.qwen3-32b", 1745884800),
)

_ALIASES = {s.alias: s.id for s in SNAPSHOTS if s.alias}
#: Where an Azure OpenAI fine-tuned id's base ends: `gpt-4.1-2025-04-14.ft-0123abcd...`.
AZURE_FINE_TUNED_MARK = ".ft-"


def is_fine_tuned(model: str | None) -> bool:
    """Whether ``model`` is fine-tuned: OpenAI's ``ft:...`` or Azure's ``BASE.ft-HEX``."""
    m = (model or "").strip().lower()
    return m.startswith("ft:") or AZURE_FINE_TUNED_MARK in m


def base_model(model: str | None) -> str:
    """The base model of an id, lower case: ``ft:gpt-4o-mini-2024-07-18:org::id`` (OpenAI) and
    ``gpt-4o-mini-2024-07-18.ft-0123abcd`` (Azure OpenAI) → ``gpt-4o-mini-2024-07-18``; a short
    alias (``gpt-4o``) → the snapshot it names; an open model's ``org/name`` as it is."""
    if not model:
        return ""
    m = model.strip().lower()
    if m.startswith("ft:"):
        m = m.split(":", 2)[1]
    elif AZURE_FINE_TUNED_MARK in m:
        m = m.split(AZURE_FINE_TUNED_MARK, 1)[0]
    return _ALIASES.get(m, m)


def known_family(model: str | None) -> Family | None:
    """The family of a base or ``ft:`` model, or None when the model is not one we know."""
    base = base_model(model)
    if base:
        for candidate in FAMILIES:
            if base.startswith(candidate.prefix):
                return candidate
    return None


def family(model: str | None) -> Family:
    """The family of a base or ``ft:`` model; :data:`DEFAULT_FAMILY` when none matches."""
    return known_family(model) or DEFAULT_FAMILY


def token_limit(model: str | None) -> int:
    """Tokens per training example before truncation, for a base or ``ft:`` model."""
    return family(model).token_limit


def is_completions_model(model: str | None) -> bool:
    """Whether the model trains on completions data (babbage-002, davinci-002)."""
    return family(model).completions
