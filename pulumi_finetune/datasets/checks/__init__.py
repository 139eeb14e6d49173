"""Detailed checks of one parsed example, one part per format plus the messages and tools they
share. Each names every problem with its JSON path through ``add(path, message, severity)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import models
from ..formats import Format
from .chat import ChatCheck
from .common import Add
from .completions import CompletionsCheck
from .messages import MessageChecks
from .preference import PreferenceCheck
from .reinforcement import ReinforcementCheck
from .tools import ToolChecks

__all__ = ["Add", "Check", "format_checks"]

Check = Callable[[dict[str, Any]], None]


def format_checks(
    add: Add, model: str | None = None, family: models.Family | None = None
) -> dict[Format, Check]:
    """The detailed check of each format, all reporting through ``add``; ``family`` (the
    model's, None when no known model is named) decides whether images may train."""
    tools = ToolChecks(add)
    messages = MessageChecks(add, tools, model, family)
    return {
        Format.CHAT: ChatCheck(add, messages, tools),
        Format.COMPLETIONS: CompletionsCheck(add, messages, tools),
        Format.PREFERENCE: PreferenceCheck(add, messages, tools),
        Format.REINFORCEMENT: ReinforcementCheck(add, messages, tools),
    }
