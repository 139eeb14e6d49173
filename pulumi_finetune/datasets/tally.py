"""Token totals over the examples, and a warning for each example over the model's limit."""

from __future__ import annotations

from .. import models, tokens
from .issues import IssueLog


class TokenTally:
    def __init__(
        self, model: str | None, tokenizer: tokens.Tokenizer | None, issues: IssueLog
    ) -> None:
        self.model = model
        self.limit = models.token_limit(model)
        #: None when token counting is off.
        self.tokenizer = tokenizer
        self.issues = issues
        self.total = 0
        #: Σ min(limit, tokens): what one epoch bills.
        self.billed = 0
        self.max = 0

    def add(self, n: int, line: int) -> None:
        """Counts an example of ``n`` tokens on ``line``."""
        self.total += n
        if n > self.max:
            self.max = n
        limit = self.limit
        if n > limit:
            self.billed += limit
            assert self.tokenizer is not None
            approx = "" if self.tokenizer.exact else "about "
            self.issues.issue(
                line,
                "$",
                f"example has {approx}{n:,} tokens, over the {limit:,} "
                f"token limit for {self.model or 'the default model'}: it will be "
                "truncated; shorten it or split it into several examples",
                "warning",
            )
        else:
            self.billed += n
