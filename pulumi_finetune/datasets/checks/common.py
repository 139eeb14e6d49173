"""What every part of the per-example checks shares: how they report and how they name values."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
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

    def objects(
        self, items: list[Any], path: str, what: str
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(path, item) for each item of the list that is an object; reports the others."""
        for i, item in enumerate(items):
            item_path = f"{path}[{i}]"
            if isinstance(item, dict):
                yield item_path, item
            else:
                self.err(item_path, f"{what} must be an object, got {type_name(item)}")


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
