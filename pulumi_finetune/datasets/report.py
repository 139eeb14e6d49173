"""What validation found: one issue per problem, and the report on a whole file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .. import tokens

Severity = Literal["error", "warning"]

#: The line number of an issue about the whole file (too few examples, data the model cannot
#: train on, the file's encoding is not UTF-8 ...).
FILE = 0


@dataclass(frozen=True)
class DataIssue:
    #: 1-based line, or :data:`FILE` (0) for an issue about the whole file.
    line: int
    #: JSON path inside the example (``$`` for the example itself, or for the whole file).
    path: str
    message: str
    severity: Severity

    def __str__(self) -> str:
        if self.line == FILE:
            return f"file: {self.message}"
        return f"line {self.line}: {self.path}: {self.message}"

    def located(self, file: str) -> str:
        """``train.jsonl:7: messages[1].role: ...``, or ``train.jsonl: ...`` for the whole file."""
        if self.line == FILE:
            return f"{file}: {self.message}"
        return f"{file}:{self.line}: {self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ValidationReport:
    format: str
    example_count: int
    bytes: int
    sha256: str
    errors: list[DataIssue] = field(default_factory=list)
    error_count: int = 0
    warnings: list[DataIssue] = field(default_factory=list)
    warning_count: int = 0
    total_tokens: int | None = None
    max_example_tokens: int | None = None
    billed_tokens_estimate: int | None = None
    default_epochs: int | None = None
    #: "o200k_base" | "cl100k_base" | "estimate" (one token per 4 characters); None when
    #: token counting is off.
    tokenizer: str | None = None
    model: str | None = None
    token_limit: int | None = None
    path: str = ""
    line_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self) -> str:
        """One human line: the first error, or what the file holds."""
        if self.errors:
            first = str(self.errors[0])
            more = self.error_count - 1
            if more > 0:
                first += f" (and {more} more error{'s' if more != 1 else ''})"
            return first
        if self.error_count:
            return f"{self.error_count} errors"
        parts = [f"valid {self.format} data: {self.example_count:,} examples"]
        if self.total_tokens is not None:
            approx = "" if self.tokenizer != tokens.ESTIMATE else "~"
            parts.append(f"{approx}{self.total_tokens:,} tokens ({self.tokenizer})")
            if self.billed_tokens_estimate is not None:
                parts.append(
                    f"~{self.billed_tokens_estimate:,} billed tokens over "
                    f"{self.default_epochs} epochs"
                )
        if self.warning_count:
            w = self.warning_count
            parts.append(f"{w} warning{'s' if w != 1 else ''}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "path": self.path,
            "format": self.format,
            "model": self.model,
            "example_count": self.example_count,
            "line_count": self.line_count,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "error_count": self.error_count,
            "errors": [i.to_dict() for i in self.errors],
            "warning_count": self.warning_count,
            "warnings": [i.to_dict() for i in self.warnings],
            "tokenizer": self.tokenizer,
            "token_limit": self.token_limit,
            "total_tokens": self.total_tokens,
            "max_example_tokens": self.max_example_tokens,
            "billed_tokens_estimate": self.billed_tokens_estimate,
            "default_epochs": self.default_epochs,
            "summary": self.summary(),
        }
