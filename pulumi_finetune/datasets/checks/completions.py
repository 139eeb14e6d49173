"""The detailed check of a completions example: a prompt and a completion string."""

from __future__ import annotations

from typing import Any

from ..formats import COMPLETION_KEYS
from .common import Part, type_name


class CompletionsCheck(Part):
    def __call__(self, obj: dict[str, Any]) -> None:
        for key in ("prompt", "completion"):
            v = obj.get(key)
            if v is None:
                self.err(
                    key, f'missing \'{key}\': each line needs "prompt" and "completion" strings'
                )
            elif not isinstance(v, str):
                self.err(key, f"{key} must be a string, got {type_name(v)}")
        for k in obj:
            if k not in COMPLETION_KEYS:
                self.err(
                    k,
                    f"unknown key '{k}' in a completions example: remove it (allowed: "
                    "prompt, completion)",
                )
