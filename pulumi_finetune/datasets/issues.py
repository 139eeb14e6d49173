"""The issues of one validation run: every one counted, the first few of each severity kept."""

from __future__ import annotations

from .report import FILE, DataIssue, Severity

__all__ = ["FILE", "IssueLog"]


class IssueLog:
    def __init__(self, max_issues: int) -> None:
        #: How many errors, and separately how many warnings, are kept.
        self.max_issues = max(0, max_issues)
        self.errors: list[DataIssue] = []
        self.warnings: list[DataIssue] = []
        self.error_count = 0
        self.warning_count = 0

    def issue(self, line: int, path: str, message: str, severity: Severity) -> None:
        if severity == "error":
            self.error_count += 1
            if len(self.errors) < self.max_issues:
                self.errors.append(DataIssue(line, path or "$", message, "error"))
        else:
            self.warning_count += 1
            if len(self.warnings) < self.max_issues:
                self.warnings.append(DataIssue(line, path or "$", message, "warning"))

    def sort(self) -> None:
        """Orders the kept issues by line, file-level ones (line 0) first: they are found at any
        point of the run, and say the most."""
        self.errors.sort(key=lambda i: i.line)
        self.warnings.sort(key=lambda i: i.line)
