"""Rules of OpenAI's fine-tuning service that the client side and the local endpoint both apply."""

from __future__ import annotations

__all__ = ["MIN_EXAMPLES", "SINGLE_REQUEST_MAX_BYTES", "estimate_epochs"]

#: The fewest examples a training file may hold.
MIN_EXAMPLES = 10

#: The largest file ``POST /files`` takes in one request; larger files go through the Uploads API.
SINGLE_REQUEST_MAX_BYTES = 512 * 1024 * 1024


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
