"""The base models the local endpoint offers (from ``pulumi_finetune.models``) and how fine-tuned
names are built."""

from __future__ import annotations

from ..models import SNAPSHOTS

# id -> created (unix time). Short aliases resolve to the dated snapshot, as OpenAI's do.
BASE_MODELS: dict[str, int] = {s.id: s.created for s in SNAPSHOTS}
ALIASES: dict[str, str] = {s.alias: s.id for s in SNAPSHOTS if s.alias}


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
