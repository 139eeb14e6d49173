"""The detailed check of a preference (DPO) example: an input and a better and a worse reply."""

from __future__ import annotations

from typing import Any

from ..formats import CHAT_ROLES, PREFERENCE_KEYS, ROLES_HINT
from .base import FormatCheck
from .common import short, type_name


class PreferenceCheck(FormatCheck):
    kind = "preference"
    allowed = "input, preferred_output, non_preferred_output"

    def __call__(self, obj: dict[str, Any]) -> None:
        self.unknown_keys(obj, PREFERENCE_KEYS)
        self.messages.start_example(
            "preference (DPO) data is text only: remove the image, or train on it with "
            "supervised (chat) data"
        )
        inp = obj.get("input")
        if inp is None:
            self.err("input", "missing 'input': add {\"messages\": [...]} with the prompt")
        elif not isinstance(inp, dict):
            self.err(
                "input", f'input must be an object {{"messages": [...]}}, got {type_name(inp)}'
            )
        else:
            self.messages.messages(inp.get("messages"), "input.messages", where="input")
            ptc = inp.get("parallel_tool_calls")
            if ptc is not None and not isinstance(ptc, bool):
                self.err("input.parallel_tool_calls", "must be true or false")
        for key, what in (("preferred_output", "better"), ("non_preferred_output", "worse")):
            out = obj.get(key)
            if out is None:
                self.err(key, f"missing '{key}': add a list with one ({what}) assistant message")
                continue
            if not isinstance(out, list) or len(out) != 1:
                got = f"{len(out)} items" if isinstance(out, list) else type_name(out)
                self.err(key, f"{key} must be a list with exactly one assistant message, got {got}")
                continue
            m = out[0]
            if not isinstance(m, dict):
                self.err(f"{key}[0]", f"must be a message object, got {type_name(m)}")
                continue
            self.messages.message(m, f"{key}[0]", CHAT_ROLES, ROLES_HINT)
            if m.get("role") != "assistant":
                self.err(
                    f"{key}[0].role",
                    f"{key} must be an assistant message, got role "
                    f'{short(m.get("role"))}: set "role": "assistant"',
                )
