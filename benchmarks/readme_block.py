"""Writes a generated block between `<!-- NAME:begin -->` and `<!-- NAME:end -->`, in the given
document or else in whichever of README.md and docs/*.md holds those markers."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def holder(name: str) -> Path | None:
    """The page that holds block `name` (None when no page does)."""
    begin = f"<!-- {name}:begin -->"
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        if begin in page.read_text():
            return page
    return None


def replace_block(name: str, text: str, document: Path | None = None) -> None:
    page = document or holder(name)
    if page is None:
        print(f"no page holds <!-- {name}:begin -->: nothing written")
        return
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    head, rest = page.read_text().split(begin, 1)
    _, tail = rest.split(end, 1)
    page.write_text(f"{head}{begin}\n{text.strip()}\n{end}{tail}")
