"""Validates a job's training file with the package's own dataset checks, when they are installed.

``pulumi_finetune.datasets.validate_file`` is imported on every call, so the endpoint picks it up
as soon as it exists; until then (or if it cannot be imported) every file counts as valid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataCheck:
    """The outcome: ``message`` explains a failure; counts are None when unknown."""

    ok: bool
    message: str | None = None
    examples: int | None = None
    tokens: int | None = None


def _describe(error: Any) -> str:
    parts = []
    line = getattr(error, "line", None)
    if line is not None:
        parts.append(f"line {line}")
    path = getattr(error, "path", None)
    if path:
        parts.append(str(path))
    parts.append(str(getattr(error, "message", error)))
    return ": ".join(parts)


def check_training_file(path: Path, *, file_id: str, model: str) -> DataCheck:
    """Run the dataset validator on ``path``; a validator crash fails the job with its message."""
    try:
        from pulumi_finetune import datasets

        validate = datasets.validate_file
    except Exception:  # module absent or mid-edit: treat the data as valid
        return DataCheck(ok=True)
    try:
        report = validate(path, format=None, model=model)
    except Exception as exc:
        log.warning("validate_file raised on %s: %r", file_id, exc)
        return DataCheck(ok=False, message=f"Training file {file_id} could not be read: {exc}")
    errors = list(getattr(report, "errors", []) or [])
    examples = getattr(report, "example_count", None)
    tokens = getattr(report, "total_tokens", None)
    examples = examples if isinstance(examples, int) else None
    tokens = tokens if isinstance(tokens, int) else None
    if not errors:
        return DataCheck(ok=True, examples=examples, tokens=tokens)
    message = f"Training file {file_id} is invalid: {_describe(errors[0])}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more errors)"
    return DataCheck(ok=False, message=message, examples=examples, tokens=tokens)


def warm_up(model: str = "gpt-4o-mini-2024-07-18") -> None:
    """Load the validator and the tokenizer for ``model`` now (a few hundred ms, once per
    process) rather than inside the first job's data check, where every request would wait."""
    try:
        from pulumi_finetune import datasets, tokens

        datasets.validate_file  # noqa: B018 - the import is the point
        tokens.tokenizer_for_model(model)
    except Exception as exc:  # the check itself reports any real problem later
        log.debug("data check warm-up failed: %r", exc)
