"""Writes a generated block into README.md (or another document) between `<!-- NAME:begin -->`
and `<!-- NAME:end -->`."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def replace_block(name: str, text: str, document: Path = README) -> None:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    readme = document.read_text()
    head, rest = readme.split(begin, 1)
    _, tail = rest.split(end, 1)
    document.write_text(f"{head}{begin}\n{text.strip()}\n{end}{tail}")
