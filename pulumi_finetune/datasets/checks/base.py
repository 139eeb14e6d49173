"""What the per-format checks share: the message and tool checks, and the unknown-key report."""

from __future__ import annotations

from typing import Any

from .common import Add, Part
from .messages import MessageChecks
from .tools import ToolChecks


class FormatCheck(Part):
    """The detailed check of one format; call it with a parsed example."""

    #: The example's kind and allowed keys, as the unknown-key message names them.
    kind = ""
    allowed = ""

    def __init__(self, add: Add, messages: MessageChecks, tools: ToolChecks) -> None:
        super().__init__(add)
        self.messages = messages
        self.tools = tools

    def __call__(self, obj: dict[str, Any]) -> None:
        raise NotImplementedError

    def unknown_keys(self, obj: dict[str, Any], keys: frozenset[str]) -> None:
        for k in obj:
            if k not in keys:
                self.err(
                    k,
                    f"unknown key '{k}' in a {self.kind} example: remove it (allowed: "
                    f"{self.allowed})",
                )
