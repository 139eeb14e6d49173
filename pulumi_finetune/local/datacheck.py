"""Validates a job's training file with the package's own dataset checks.

The checks are imported with this module, so an endpoint whose validator cannot be imported
fails when it starts rather than passing every file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .. import tokens
from ..datasets import validate_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataCheck:
    """The outcome: ``message`` explains a failure; counts are None when unknown."""

    ok: bool
    message: str | None = None
    examples: int | None = None
    tokens: int | None = None


def check_training_file(path: Path, *, file_id: str, model: str) -> DataCheck:
    """Run the dataset validator on ``path``; a validator crash fails the job with its message."""
    try:
        report = validate_file(path, format=None, model=model)
    except Exception as exc:
        log.warning("validate_file raised on %s: %r", file_id, exc)
        return DataCheck(ok=False, message=f"Training file {file_id} could not be read: {exc}")
    errors = report.errors
    message: str | None = None
    if errors:
        message = f"Training file {file_id} is invalid: {errors[0]}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more errors)"
    return DataCheck(
        ok=not errors,
        message=message,
        examples=report.example_count,
        tokens=report.total_tokens,
    )


def warm_up(model: str = "gpt-4o-mini-2024-07-18") -> None:
    """Load the tokenizer for ``model`` now (a few hundred ms, once per process) rather than
    inside the first job's data check, where every request would wait."""
    tokens.tokenizer_for_model(model)
