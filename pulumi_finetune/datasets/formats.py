"""The four data formats, the keys and roles each allows, and how a format is told from one
example."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Format(StrEnum):
    CHAT = "chat"
    COMPLETIONS = "completions"
    PREFERENCE = "preference"
    REINFORCEMENT = "reinforcement"


# Each list is written once, in the order the messages name them; the sets are for lookups.
_CHAT_ROLES = ("system", "user", "assistant", "tool", "function")
# OpenAI's reinforcement input schema: no system role (instructions go in developer messages).
_REINFORCEMENT_ROLES = ("developer", "user", "assistant", "tool")
_MESSAGE_KEYS = (
    "role",
    "content",
    "name",
    "weight",
    "tool_calls",
    "tool_call_id",
    "function_call",
    "refusal",
)
_CHAT_KEYS = ("messages", "tools", "parallel_tool_calls", "functions")

CHAT_ROLES = frozenset(_CHAT_ROLES)
REINFORCEMENT_ROLES = frozenset(_REINFORCEMENT_ROLES)
ROLES_HINT = "expected " + ", ".join(_CHAT_ROLES)
RFT_ROLES_HINT = "expected " + ", ".join(_REINFORCEMENT_ROLES)
#: The roles of a plain chat example, which the validator checks on its fast path.
FAST_ROLES = frozenset({"system", "user", "assistant"})
MESSAGE_KEYS = frozenset(_MESSAGE_KEYS)
MESSAGE_KEYS_HINT = ", ".join(_MESSAGE_KEYS)
CHAT_KEYS = frozenset(_CHAT_KEYS)
CHAT_KEYS_HINT = ", ".join(_CHAT_KEYS)
PREFERENCE_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
COMPLETION_KEYS = frozenset({"prompt", "completion"})


def infer_format(obj: dict[str, Any]) -> Format | None:
    if "messages" in obj:
        extra = obj.keys() - CHAT_KEYS
        if extra:
            msgs = obj["messages"]
            last = msgs[-1] if isinstance(msgs, list) and msgs else None
            if not (isinstance(last, dict) and last.get("role") == "assistant"):
                return Format.REINFORCEMENT
        return Format.CHAT
    if "preferred_output" in obj or "non_preferred_output" in obj or "input" in obj:
        return Format.PREFERENCE
    if "prompt" in obj or "completion" in obj:
        return Format.COMPLETIONS
    return None
