"""The detailed check of a chat example."""

from __future__ import annotations

from typing import Any

from ..formats import CHAT_KEYS
from .base import FormatCheck


class ChatCheck(FormatCheck):
    kind = "chat"
    allowed = "messages, tools, parallel_tool_calls"

    def __call__(self, obj: dict[str, Any]) -> None:
        self.unknown_keys(obj, CHAT_KEYS)
        msgs = self.messages.messages(obj.get("messages"), "messages")
        if msgs is None:
            return
        if not any(m.get("role") == "assistant" for m in msgs):
            self.err(
                "messages",
                "no assistant message: every example needs at least one "
                "assistant message (the reply to learn)",
            )
        self.tools.tools(obj)
