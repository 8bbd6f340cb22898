"""Append-only JSONL store of every request and reply; the only source of tables, charts and cards.

One line per reply, keyed by (model, suite, suite version, item, sample, system prompt, sampling parameters).
A re-run skips keys already stored, so a kill loses at most the replies in flight and duplicates nothing:
- each record is written as one complete line with a single write(), then flushed and fsync'ed;
- a line torn by a kill mid-write is not valid JSON and is ignored on read; before appending, a missing final
  newline is restored so the next record never glues onto the torn fragment;
- an advisory lock (flock) keeps two processes writing the same store from interleaving their lines.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Iterator

STORE_NAME = "store.jsonl"


def record_key(model: str, suite: str, version: str, item: str, sample: int, system: str, sampling: dict) -> str:
    """Stable id of one reply: the same request asked again maps to the same key."""
    blob = json.dumps([model, suite, version, item, sample, system, sampling], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class Store:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / STORE_NAME

    def records(self) -> Iterator[dict]:
        """Every complete record, first occurrence of each key (duplicates can only come from two writers)."""
        if not self.path.is_file():
            return
        seen: set[str] = set()
        with open(self.path, "rb") as f:
            for raw in f:
                try:
                    rec = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue  # a torn last line from a killed run
                if not isinstance(rec, dict) or "key" not in rec or rec["key"] in seen:
                    continue
                seen.add(rec["key"])
                yield rec

    def keys(self) -> set[str]:
        return {r["key"] for r in self.records()}

    def append(self, record: dict) -> None:
        """Write one record durably: the line is either all there after a crash, or ignorable."""
        if "key" not in record:
            raise ValueError("a store record needs a 'key'")
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and _last_byte(self.path) != b"\n":
                line = b"\n" + line  # seal off a torn fragment left by a kill
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1)
