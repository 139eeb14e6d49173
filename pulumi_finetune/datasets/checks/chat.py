"""The detailed check of a chat example."""

from __future__ import annotations

from typing import Any

from ..formats import CHAT_KEYS
from .common import Add, Part
from .messages import MessageChecks
from .tools import ToolChecks


class ChatCheck(Part):
    def __init__(self, add: Add, messages: MessageChecks, tools: ToolChecks) -> None:
        super().__init__(add)
        self.messages = messages
        self.tools = tools

    def __call__(self, obj: dict[str, Any]) -> None:
        for k in obj:
            if k not in CHAT_KEYS:
                self.err(
                    k,
                    f"unknown key '{k}' in a chat example: remove it (allowed: "
                    "messages, tools, parallel_tool_calls)",
                )
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
