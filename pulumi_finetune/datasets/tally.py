"""Token totals over the examples, and a warning for each example over the model's limit."""

from __future__ import annotations

from .. import models, tokens
from .issues import IssueLog


class TokenTally:
    def __init__(
        self,
        model: str | None,
        family: models.Family | None,
        tokenizer: tokens.Tokenizer | None,
        issues: IssueLog,
    ) -> None:
        self.model = model
        #: The model's limit; with no model named, the largest of any model (an example over
        #: it is cut off whatever the model); None for a model we do not know.
        self.limit: int | None
        if family is not None:
            self.limit = family.token_limit
            self.limit_of = f"the {family.token_limit:,}-token limit of {model}"
        elif not model:
            self.limit = models.LARGEST_TOKEN_LIMIT
            self.limit_of = f"{models.LARGEST_TOKEN_LIMIT:,} tokens, the largest limit of any model"
        else:
            self.limit = None
            self.limit_of = ""
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
        if limit is not None and n > limit:
            self.billed += limit
            assert self.tokenizer is not None
            approx = "" if self.tokenizer.exact else "about "
            self.issues.issue(
                line,
                "$",
                f"example has {approx}{n:,} tokens, over {self.limit_of}: it will be "
                "truncated; shorten it or split it into several examples",
                "warning",
            )
        else:
            self.billed += n
