"""The detailed check of a completions example: a prompt and a completion string."""

from __future__ import annotations

from typing import Any

from ..formats import COMPLETION_KEYS
from .base import FormatCheck
from .common import type_name


class CompletionsCheck(FormatCheck):
    kind = "completions"
    allowed = "prompt, completion"

    def __call__(self, obj: dict[str, Any]) -> None:
        for key in ("prompt", "completion"):
            v = obj.get(key)
            if v is None:
                self.err(
                    key, f'missing \'{key}\': each line needs "prompt" and "completion" strings'
                )
            elif not isinstance(v, str):
                self.err(key, f"{key} must be a string, got {type_name(v)}")
        self.unknown_keys(obj, COMPLETION_KEYS)
