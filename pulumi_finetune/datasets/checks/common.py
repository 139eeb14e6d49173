"""What every part of the per-example checks shares: how they report and how they name values."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..report import Severity

#: Reports one issue of the example being checked: ``add(path, message, severity)``.
Add = Callable[[str, str, Severity], None]


class Part:
    """One part of the detailed checks of a parsed example."""

    def __init__(self, add: Add) -> None:
        self.add = add

    def err(self, path: str, message: str) -> None:
        self.add(path, message, "error")


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, str):
        return "string"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def short(v: Any, limit: int = 40) -> str:
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."
