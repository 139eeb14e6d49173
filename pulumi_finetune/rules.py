"""Rules of OpenAI's fine-tuning service that the client side and the local endpoint both apply.

Sources: OpenAI's fine-tuning, vision fine-tuning and DPO guides, and the input schemas of its
OpenAPI description (openai/openai-openapi). What each base model can train on
(images, methods) is in :mod:`pulumi_finetune.models`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "IMAGE_DETAILS",
    "IMAGE_MEDIA_TYPES",
    "MAX_IMAGES_PER_EXAMPLE",
    "MAX_IMAGE_BYTES",
    "MIN_EXAMPLES",
    "SINGLE_REQUEST_MAX_BYTES",
    "estimate_epochs",
    "resolved_epochs",
]

#: The fewest examples a training file may hold.
MIN_EXAMPLES = 10

#: The largest file ``POST /files`` takes in one request; larger files go through the Uploads API.
SINGLE_REQUEST_MAX_BYTES = 512 * 1024 * 1024

#: Vision fine-tuning: images one example may hold.
MAX_IMAGES_PER_EXAMPLE = 10
#: Vision fine-tuning: the largest image ("10 MB"; read as MiB so that no valid image is refused).
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: Vision fine-tuning: the image formats it takes (JPEG, PNG, WEBP).
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")
#: ``image_url.detail`` values.
IMAGE_DETAILS = ("auto", "low", "high")


def estimate_epochs(n_examples: int) -> int:
    """OpenAI's default epoch count for ``n_examples`` (3, raised for small, lowered for large)."""
    target, min_examples, max_examples, min_epochs, max_epochs = 3, 100, 25_000, 1, 25
    if n_examples <= 0:
        return max_epochs
    if n_examples * target < min_examples:
        return min(max_epochs, min_examples // n_examples)
    if n_examples * target > max_examples:
        return max(min_epochs, max_examples // n_examples)
    return target


def resolved_epochs(
    method: Mapping[str, Any] | None,
    hyperparameters: Mapping[str, Any] | None,
    n_examples: int | None,
) -> int | None:
    """The epochs a job trains for: `n_epochs` declared in ``method.<type>.hyperparameters`` or
    the deprecated top-level ``hyperparameters``, else ("auto" or unset) OpenAI's default for
    ``n_examples``; None when neither is known."""
    declared: Any = None
    if isinstance(method, Mapping):
        settings = method.get(str(method.get("type") or "supervised"))
        if isinstance(settings, Mapping) and isinstance(settings.get("hyperparameters"), Mapping):
            declared = settings["hyperparameters"].get("n_epochs")
    if declared is None and isinstance(hyperparameters, Mapping):
        declared = hyperparameters.get("n_epochs")
    if isinstance(declared, int | float) and not isinstance(declared, bool) and declared >= 1:
        return int(declared)
    return estimate_epochs(n_examples) if n_examples is not None else None
