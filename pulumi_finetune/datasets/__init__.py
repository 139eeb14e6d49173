"""Validation of fine-tuning training data (JSONL), streaming and fast.

``validate_file`` reads the file in binary chunks, checks each line with hand-written checks on
the parsed object (a fast path for the common valid chat example, a detailed path that names
every problem otherwise), and keeps only fixed-size state plus an 8-byte digest per line for
duplicate detection, so memory does not grow with line size or content.

Every issue names its 1-based line and a JSON path inside the example (``$`` for the example
itself), and says what is wrong and how to fix it.

The parts: ``reader`` (lines and hash), ``digests`` (duplicates), ``formats`` (what each format
allows), ``checks`` (the detailed per-format checks), ``validator`` with ``examples``,
``lines``, ``tally`` and ``issues`` (one run over a file), ``report`` (what it returns).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..errors import DataFileError
from ..models import token_limit
from ..rules import MIN_EXAMPLES, estimate_epochs
from .digests import DigestTable, line_digest
from .formats import (
    CHAT_KEYS,
    CHAT_ROLES,
    COMPLETION_KEYS,
    MESSAGE_KEYS,
    PREFERENCE_KEYS,
    REINFORCEMENT_ROLES,
    Format,
)
from .parallel import validate_in_parts
from .reader import MAX_LINE_BYTES, iter_lines, sha256_file
from .report import FILE, DataIssue, Severity, ValidationReport
from .validator import Validator

__all__ = [
    "CHAT_KEYS",
    "CHAT_ROLES",
    "COMPLETION_KEYS",
    "FILE",
    "MAX_LINE_BYTES",
    "MESSAGE_KEYS",
    "MIN_EXAMPLES",
    "PREFERENCE_KEYS",
    "REINFORCEMENT_ROLES",
    "DataFileError",
    "DataIssue",
    "Format",
    "Severity",
    "ValidationReport",
    "compare_files",
    "estimate_epochs",
    "iter_lines",
    "sha256_file",
    "token_limit",
    "validate_file",
]


def validate_file(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    model: str | None = None,
    count_tokens: bool = True,
    max_errors: int = 20,
    progress: Callable[[int], None] | None = None,
) -> ValidationReport:
    """Validates a JSONL fine-tuning file; see the module docstring.

    Raises :class:`DataFileError` (an ``OSError``) when ``path`` is not a regular file that can
    be read; any content gives a report, never an exception. ``progress``, if given, is called
    with the bytes read so far after each 1 MiB chunk.
    """
    fmt = Format(format) if format is not None else None
    in_parts = validate_in_parts(path, fmt, model, count_tokens, max_errors, progress)
    if in_parts is not None:
        v, sha, nbytes = in_parts
    else:
        v = Validator(fmt, model, count_tokens, max_errors)
        v.progress = progress
        sha, nbytes = v.run(path)
    v.finish()
    issues, tally, examples = v.issues, v.tally, v.examples
    tok = tally.tokenizer
    epochs = estimate_epochs(examples.count)
    return ValidationReport(
        format=(examples.fmt or Format.CHAT).value,
        example_count=examples.count,
        bytes=nbytes,
        sha256=sha,
        errors=issues.errors,
        error_count=issues.error_count,
        warnings=issues.warnings,
        warning_count=issues.warning_count,
        total_tokens=tally.total if tok else None,
        max_example_tokens=tally.max if tok else None,
        billed_tokens_estimate=tally.billed * epochs if tok else None,
        default_epochs=epochs,
        tokenizer=tok.name if tok else None,
        model=model,
        token_limit=tally.limit,
        path=os.fspath(path),
        line_count=v.line,
    )


def compare_files(
    train: str | os.PathLike[str],
    validation: str | os.PathLike[str],
    *,
    max_issues: int = 20,
) -> list[DataIssue]:
    """Warnings for validation-file lines that also appear in the training file.

    Lines are compared by a 64-bit digest of their bytes (trailing whitespace ignored). Each
    warning names the validation line and the training line; ``path`` is the validation file.
    At most ``max_issues`` warnings, plus one summarising the rest.
    """
    table = DigestTable()
    for ln, raw in iter_lines(train):
        if raw and not raw.isspace():
            table.add(line_digest(raw), ln)
    out: list[DataIssue] = []
    extra = 0
    for ln, raw in iter_lines(validation):
        if not raw or raw.isspace():
            continue
        prev = table.contains(line_digest(raw))
        if prev:
            if len(out) < max_issues:
                out.append(
                    DataIssue(
                        ln,
                        "$",
                        f"also in the training file at line {prev}: "
                        "validation examples should not be trained on; remove it "
                        "from one of the files",
                        "warning",
                    )
                )
            else:
                extra += 1
    if extra:
        out.append(
            DataIssue(
                out[-1].line,
                "$",
                f"... and {extra} more validation examples shared with the training file",
                "warning",
            )
        )
    return out
