"""The detailed check of a chat example."""

from __future__ import annotations

from typing import Any

from ..formats import CHAT_KEYS, CHAT_KEYS_HINT
from .base import FormatCheck

#: The warning for an example whose assistant messages all have weight 0 (the read loop's fast
#: path gives it too).
NOTHING_TO_TRAIN = (
    "every assistant message has weight 0: this example trains nothing; set "
    '"weight": 1 on the replies to learn, or remove the example'
)


class ChatCheck(FormatCheck):
    kind = "chat"
    allowed = CHAT_KEYS_HINT

    def __call__(self, obj: dict[str, Any]) -> None:
        self.unknown_keys(obj, CHAT_KEYS)
        self.messages.start_example(self.messages.chat_images)
        msgs = self.messages.messages(obj.get("messages"), "messages")
        if msgs is None:
            return
        replies = [m for m in msgs if m.get("role") == "assistant"]
        if not replies:
            self.err(
                "messages",
                "no assistant message: every example needs at least one "
                "assistant message (the reply to learn)",
            )
        elif all(m.get("weight") == 0 for m in replies):
            self.add("messages", NOTHING_TO_TRAIN, "warning")
        self.tools.tools(obj)
