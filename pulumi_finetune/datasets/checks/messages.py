"""Checks of a list of chat messages and of each message: keys, role, content, weight, calls."""

from __future__ import annotations

from typing import Any

from ... import models
from ..formats import CHAT_ROLES, MESSAGE_KEYS, MESSAGE_KEYS_HINT, REINFORCEMENT_ROLES, ROLES_HINT
from .common import Add, Part, short, type_name
from .images import ImageChecks
from .tools import ToolChecks


class MessageChecks(Part):
    def __init__(
        self,
        add: Add,
        tools: ToolChecks,
        model: str | None = None,
        family: models.Family | None = None,
    ) -> None:
        super().__init__(add)
        self.tools = tools
        self.images = ImageChecks(add)
        self.images.start(None)
        #: Why images cannot train in chat (supervised) data for this model; None if they can.
        self.chat_images: str | None = None
        if family is not None and not family.vision:
            vision = ", ".join(f.prefix for f in models.FAMILIES if f.vision)
            self.chat_images = (
                f"{model} has no vision fine-tuning: images train only {vision} (and ft: "
                "models of them); remove the image or choose such a model"
            )

    def start_example(self, images_refused: str | None) -> None:
        """Resets the per-example image count; ``images_refused`` says why images cannot be in
        this example (None when they can)."""
        self.images.start(images_refused)

    def messages(
        self,
        msgs: Any,
        path: str,
        *,
        roles: frozenset[str] = CHAT_ROLES,
        roles_hint: str = ROLES_HINT,
        where: str = "each line",
    ) -> list[dict[str, Any]] | None:
        """The messages that are objects (each checked), or None when there is no list."""
        if msgs is None:
            self.err(path, f"missing '{path}': {where} needs a \"messages\" list")
            return None
        if not isinstance(msgs, list):
            self.err(path, f"must be a list of messages, got {type_name(msgs)}")
            return None
        if not msgs:
            self.err(path, "empty messages list: add at least a user and an assistant message")
            return None
        ok: list[dict[str, Any]] = []
        for i, m in enumerate(msgs):  # not self.objects: this loop is the detailed path's hottest
            mp = f"{path}[{i}]"
            if not isinstance(m, dict):
                self.err(mp, f"each message must be an object, got {type_name(m)}")
                continue
            self.message(m, mp, roles, roles_hint)
            ok.append(m)
        return ok

    def message(self, m: dict[str, Any], mp: str, roles: frozenset[str], roles_hint: str) -> None:
        for k in m:
            if k not in MESSAGE_KEYS:
                self.err(
                    f"{mp}.{k}",
                    f"unknown message key '{k}': remove it (allowed: {MESSAGE_KEYS_HINT})",
                )
        role = m.get("role")
        if role is None:
            self.err(f"{mp}.role", f'missing role: add "role" ({roles_hint})')
        elif not isinstance(role, str):
            self.err(f"{mp}.role", f"role must be a string, got {type_name(role)} ({roles_hint})")
        elif role not in roles:
            if role == "system" and roles is REINFORCEMENT_ROLES:
                self.err(
                    f"{mp}.role",
                    'reinforcement data takes no system messages: make it "role": "developer" '
                    f"({roles_hint})",
                )
            else:
                self.err(f"{mp}.role", f"unknown role {role!r} ({roles_hint})")
        has_calls = m.get("tool_calls") is not None or m.get("function_call") is not None
        if "content" not in m or (m["content"] is None and not has_calls):
            if not (role == "assistant" and has_calls):
                self.err(
                    f"{mp}.content",
                    'missing content: add "content" with the message text as a string',
                )
        elif role == "assistant" and m["content"] == "" and not has_calls:
            self.err(
                f"{mp}.content",
                "empty assistant reply: write the reply to learn (an assistant message without "
                "content needs tool_calls or function_call)",
            )
        else:
            self.content(m["content"], f"{mp}.content", role)
        name = m.get("name")
        if name is not None and not isinstance(name, str):
            self.err(f"{mp}.name", f"name must be a string, got {type_name(name)}")
        if "weight" in m:
            w = m["weight"]
            if role != "assistant":
                self.err(f"{mp}.weight", "weight is only allowed on assistant messages: remove it")
            elif type(w) is not int or w not in (0, 1):
                self.err(
                    f"{mp}.weight",
                    f"weight must be 0 or 1, got {short(w)}: use 0 to skip this message in "
                    "training, 1 to train on it",
                )
        if "tool_calls" in m:
            self.tools.tool_calls(m["tool_calls"], f"{mp}.tool_calls", role)
        if "function_call" in m:
            fc = m["function_call"]
            if role != "assistant":
                self.err(
                    f"{mp}.function_call", "function_call is only allowed on assistant messages"
                )
            elif fc is not None:
                self.tools.function(fc, f"{mp}.function_call")
        if role == "tool":
            tcid = m.get("tool_call_id")
            if tcid is None:
                self.err(
                    f"{mp}.tool_call_id",
                    "tool message without tool_call_id: add the id of the assistant tool call "
                    "it answers",
                )
            elif not isinstance(tcid, str):
                self.err(f"{mp}.tool_call_id", f"must be a string, got {type_name(tcid)}")
        elif "tool_call_id" in m:
            self.err(f"{mp}.tool_call_id", "tool_call_id is only allowed on tool messages")

    def content(self, c: Any, cp: str, role: Any) -> None:
        if isinstance(c, str):
            return
        if c is None:
            return  # assistant with tool calls
        if not isinstance(c, list):
            self.err(
                cp,
                f"content must be a string or a list of content parts, got {type_name(c)}: "
                "put the text in a string",
            )
            return
        if not c:
            self.err(cp, "empty content list: add a text part or use a string")
        for pp, part in self.objects(c, cp, "content part"):
            t = part.get("type")
            if t == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    self.err(
                        f"{pp}.text", f'text part needs "text" as a string, got {type_name(text)}'
                    )
            elif t == "image_url":
                self.images.image(part, pp, role)
            elif t is None:
                self.err(
                    f"{pp}.type", 'content part without type: add "type": "text" or "image_url"'
                )
            else:
                self.err(
                    f"{pp}.type",
                    f"unsupported content part type {short(t)} (expected text or image_url)",
                )
