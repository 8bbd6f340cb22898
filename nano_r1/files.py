"""Files that survive a kill: atomic writes (temp + rename) and JSONL that tolerates a torn last line."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary sibling and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_jsonl(path: Path) -> tuple[list[dict], int]:
    """(records, number of lines skipped as torn or foreign)."""
    if not path.is_file():
        return [], 0
    rows, bad = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(rec, dict):
            rows.append(rec)
        else:
            bad += 1
    return rows, bad


def append_jsonl(path: Path, rows: list[dict]) -> None:
    """Append complete lines; restore a missing final newline first (a torn line stays alone on its line)."""
    if not rows:
        return
    needs_newline = path.is_file() and path.stat().st_size > 0 and path.read_bytes()[-1:] != b"\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(("\n" if needs_newline else "") + "".join(json.dumps(r) + "\n" for r in rows))
        f.flush()
