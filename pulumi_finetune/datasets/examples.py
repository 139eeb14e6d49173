"""Checks each parsed example against the file's format (declared, or inferred from the first
example), counts it and tallies its tokens."""

from __future__ import annotations

from typing import Any

from .. import models, tokens
from .checks import format_checks
from .formats import FAST_ROLES, Format, infer_format
from .issues import FILE, IssueLog
from .report import Severity
from .tally import TokenTally


class ExampleChecks:
    def __init__(
        self,
        fmt: Format | None,
        model: str | None,
        family: models.Family | None,
        issues: IssueLog,
        tally: TokenTally,
        *,
        fmt_line: int = 0,
        file_issues: bool = True,
    ) -> None:
        self.fmt = fmt
        #: The line the format was inferred from; 0 when it was declared.
        self.fmt_line = fmt_line
        self.model = model
        self.family = family
        self.completion_model = family is not None and family.completions
        self.issues = issues
        self.tally = tally
        self.tokenizer = tally.tokenizer
        self.count = 0
        self.line = 0
        self.checks = format_checks(self._add, model, family)
        # a part of a file after its start (``parallel``) leaves file-level issues to the first
        if fmt is not None and file_issues:
            self.model_takes(fmt)

    def _add(self, path: str, message: str, severity: Severity) -> None:
        self.issues.issue(self.line, path, message, severity)

    def check(self, obj: dict[str, Any], line: int) -> None:
        """Checks the example on ``line`` (the read loop has its own fast path for plain chat)."""
        self.line = line
        fmt = self.fmt
        if fmt is None:
            inferred = infer_format(obj)
            if inferred is None:
                self._add(
                    "$",
                    "cannot tell the format of this example: expected "
                    '"messages" (chat), "prompt" and "completion" (completions) or '
                    '"input" with "preferred_output" (preference)',
                    "error",
                )
                return
            self.set_format(inferred)
            fmt = inferred
        self.count += 1
        if fmt is Format.CHAT:
            self.chat(obj)
        elif fmt is Format.COMPLETIONS:
            self.completions(obj)
        elif fmt is Format.PREFERENCE:
            self.preference(obj)
        else:
            self.reinforcement(obj)

    def chat(self, obj: dict[str, Any]) -> None:
        msgs = obj.get("messages")
        # fast path: {"messages": [{role, content: str}...]} with an assistant message
        if type(msgs) is list and msgs and len(obj) == 1:
            assistant = False
            for m in msgs:
                if type(m) is not dict or len(m) != 2:
                    break
                role = m.get("role")
                content = m.get("content")
                if role not in FAST_ROLES or type(content) is not str or not content:
                    break
                if role == "assistant":
                    assistant = True
            else:
                if assistant:
                    if self.tokenizer is not None:
                        self.tally.add(
                            tokens.count_chat_tokens(msgs, self.tokenizer.count), self.line
                        )
                    return
        before = self.issues.error_count
        if "messages" not in obj and infer_format(obj) not in (None, Format.CHAT):
            self.wrong_shape(obj)
            return
        self.checks[Format.CHAT](obj)
        if self.tokenizer is not None and self.issues.error_count == before:
            self.tally.add(
                tokens.count_chat_tokens(obj["messages"], self.tokenizer.count, obj.get("tools")),
                self.line,
            )

    def completions(self, obj: dict[str, Any]) -> None:
        p = obj.get("prompt")
        c = obj.get("completion")
        if not (type(p) is str and type(c) is str and len(obj) == 2):
            if "prompt" not in obj and "completion" not in obj and infer_format(obj):
                self.wrong_shape(obj)
                return
            before = self.issues.error_count
            self.checks[Format.COMPLETIONS](obj)
            if self.issues.error_count != before:
                return
        if self.tokenizer is not None:
            count = self.tokenizer.count
            self.tally.add(count(obj["prompt"]) + count(obj["completion"]), self.line)

    def preference(self, obj: dict[str, Any]) -> None:
        if "input" not in obj and "preferred_output" not in obj and infer_format(obj):
            self.wrong_shape(obj)
            return
        before = self.issues.error_count
        self.checks[Format.PREFERENCE](obj)
        if self.tokenizer is not None and self.issues.error_count == before:
            count = self.tokenizer.count
            inp = obj["input"]
            base = tokens.count_chat_tokens(inp["messages"], count, inp.get("tools"), prime=False)
            out = max(
                tokens.count_chat_tokens(obj[k], count, prime=True)
                for k in ("preferred_output", "non_preferred_output")
            )
            self.tally.add(base + out, self.line)

    def reinforcement(self, obj: dict[str, Any]) -> None:
        if "messages" not in obj and infer_format(obj):
            self.wrong_shape(obj)
            return
        before = self.issues.error_count
        self.checks[Format.REINFORCEMENT](obj)
        if self.tokenizer is not None and self.issues.error_count == before:
            self.tally.add(
                tokens.count_chat_tokens(obj["messages"], self.tokenizer.count, obj.get("tools")),
                self.line,
            )

    def set_format(self, fmt: Format) -> None:
        self.fmt = fmt
        self.fmt_line = self.line
        self.model_takes(fmt)

    def model_takes(self, fmt: Format) -> None:
        """A file-level error when the model cannot train on data of this format."""
        fam = self.family
        if fam is None:
            return  # no model named, or one we do not know (warned about once)
        model = self.model
        where = f"inferred from line {self.fmt_line}" if self.fmt_line else "declared"
        data = f"{fmt.value} data ({where})"
        method = models.METHOD_OF_FORMAT[fmt.value]
        if fmt is Format.COMPLETIONS and not fam.completions:
            msg = (
                f"completions data (prompt/completion, {where}) cannot train {model}: convert "
                'each example to chat format {"messages": [user, assistant]} or choose '
                "babbage-002 / davinci-002"
            )
        elif fmt is not Format.COMPLETIONS and fam.completions:
            msg = (
                f"{data} cannot train {model}, which takes completions data: convert each "
                'example to {"prompt": ..., "completion": ...} or choose a chat model such as '
                "gpt-4o-mini"
            )
        elif fam.methods is None or method in fam.methods:
            return
        elif fam.reasoning:
            msg = (
                f"{data} trains with the {method} method, but {model} is a reasoning model, "
                "which trains only with reinforcement: write reinforcement data (messages that "
                "end with the prompt, plus keys for the grader) or choose a model such as "
                "gpt-4.1-mini"
            )
        elif method == "reinforcement":
            msg = (
                f"{data} cannot train {model}: reinforcement fine-tuning needs a reasoning "
                "model, such as o4-mini-2025-04-16"
            )
        else:
            takes = " or ".join(sorted(fam.methods))
            msg = f"{data} trains with the {method} method, which {model} does not take ({takes})"
        self.issues.issue(FILE, "$", msg, "error")

    def wrong_shape(self, obj: dict[str, Any]) -> None:
        got = infer_format(obj)
        assert self.fmt is not None and got is not None
        where = f"inferred from line {self.fmt_line}" if self.fmt_line else "declared"
        self._add(
            "$",
            f"this is a {got.value} example but the file is "
            f"{self.fmt.value} ({where}): use one format for the whole file",
            "error",
        )
