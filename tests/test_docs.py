"""Every relative link in README.md, docs/*.md and bench/README.md points at a file that exists, and every
`#anchor` at a heading of its target page (GitHub's heading ids), so moving a page or renaming a heading
cannot leave a dead link behind.

    python -m pytest tests/test_docs.py -q
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
EXTERNAL = ("http://", "https://", "mailto:")


def prose(text: str) -> str:
    """The text outside code (links inside code blocks are examples, not links)."""
    return FENCE.sub("", text)


def anchors(page: Path) -> set[str]:
    """The ids GitHub gives a page's headings: lowercase, punctuation dropped, spaces to hyphens, -N for repeats."""
    seen: dict[str, int] = {}
    ids = set()
    for line in prose(page.read_text(encoding="utf-8")).splitlines():
        if m := re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line):
            slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            ids.add(slug if n == 0 else f"{slug}-{n}")
    return ids


def links(page: Path) -> list[str]:
    text = INLINE_CODE.sub("", prose(page.read_text(encoding="utf-8")))
    return [t for t in LINK.findall(text) if not t.startswith(EXTERNAL)]


def test_the_pages_exist():
    assert (ROOT / "docs").is_dir() and len(PAGES) > 2


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path):
    dead = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            dead.append(f"{target} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            dead.append(f"{target} (no heading with that id)")
    assert not dead, f"{page.relative_to(ROOT)}: " + ", ".join(dead)
