"""The detailed check of a reinforcement example: messages that end with the prompt."""

from __future__ import annotations

from typing import Any

from ..formats import REINFORCEMENT_ROLES, RFT_ROLES_HINT
from .base import FormatCheck


class ReinforcementCheck(FormatCheck):
    def __call__(self, obj: dict[str, Any]) -> None:
        # vision fine-tuning's model list is for supervised data; reinforcement data's images
        # are left to OpenAI (never refuse what may be valid)
        self.messages.start_example(None)
        msgs = self.messages.messages(
            obj.get("messages"), "messages", roles=REINFORCEMENT_ROLES, roles_hint=RFT_ROLES_HINT
        )
        if msgs is None:
            return
        last = obj["messages"][-1]
        if isinstance(last, dict) and last.get("role") == "assistant":
            self.err(
                f"messages[{len(obj['messages']) - 1}].role",
                "reinforcement examples must end with the prompt, not an assistant message: "
                "remove it (the model writes the answer; put reference answers in another key "
                "for the grader)",
            )
        self.tools.tools(obj)
