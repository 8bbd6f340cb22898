"""Append-only JSONL store of every request and reply; the only source of tables, charts and cards.

One line per reply, keyed by (model, suite, suite version, item, sample, system prompt, sampling parameters).
A re-run skips keys already stored, so a kill loses at most the replies in flight and duplicates nothing:
- each record is written as one complete line with a single write(): once write() returns, a kill of this
  process (Ctrl-C, SIGKILL, the OOM killer) cannot lose it, the kernel holds it. fsync, which only a power cut
  or an OS crash needs, runs at most once a second (SYNC_EVERY) and when the run ends (`sync`): an fsync per
  reply on the event loop stalled every request in flight (our client at 0.905 of a bare loop on an H200);
- a line torn by a kill mid-write is not valid JSON and is ignored on read; before appending, a missing final
  newline is restored so the next record never glues onto the torn fragment;
- an advisory lock (flock) keeps two processes writing the same store from interleaving their lines, and
  `lock` holds store.lock (nano_r1/lock.py) for an eval's life: a second eval asking into a live store is
  refused with the holder's PID, before it starts a server (two writers would ask every request twice);
- a write the disk cannot take whole (ENOSPC mid-line) is cut back to where it began: the store never holds
  a torn line from a full disk, and the error names the file.

Reading trusts nothing (a kill, an editor or another program may have touched the file):
- a line that is not a JSON object, or a record without what a reply needs (`problem` below: a key, model,
  suite and item, a `completion` or an `error`, each of the right type), does not count as stored: its request
  is asked again. Such lines are copied to store.quarantine.jsonl with their line number and the reason, and
  counted in one warning line; store.jsonl itself is never rewritten (append-only: nothing in it is lost).
- a failed record (`error` set: the server refused the request, e.g. a prompt longer than the context) counts
  as stored, so a re-run does not hammer the server with a request it refused; `--retry-failed` asks again,
  and a later reply for the key replaces the failure. Changed sampling is a new key, so it asks anew anyway.
- strings are written (and read back) with lone surrogates replaced (nano_r1/text.py), so no reply can fail
  the write, a chart or a card.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Iterator

from nano_r1 import lock
from nano_r1.cliargs import ConfigError
from nano_r1.files import append_line_bytes, cannot_write, last_byte, write_atomic
from nano_r1.text import clean_value

STORE_NAME = "store.jsonl"
QUARANTINE_NAME = "store.quarantine.jsonl"
LOCK_NAME = "store.lock"
_warned: set[tuple[str, int]] = set()  # (store, count) already reported in this process
SYNC_EVERY = 1.0  # seconds: the most replies a power cut can take back (they are asked again on the next run)

# field: allowed types (None is always allowed for the optional ones)
REPLY = {"key": str, "model": str, "suite": str, "item": str}
REPLY_OPTIONAL = {"completion": str, "error": str, "prompt": str, "reference": str, "meta": dict,
                  "finish_reason": str, "completion_tokens": int, "prompt_tokens": int}
JUDGE = {"key": str, "judges": str, "judge_model": str}


def record_key(model: str, suite: str, version: str, item: str, sample: int, system: str, sampling: dict) -> str:
    """Stable id of one reply: the same request asked again maps to the same key."""
    blob = json.dumps([model, suite, version, item, sample, system, sampling], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def problem(rec) -> str | None:
    """Why `rec` is not a usable record (None: it is one)."""
    if not isinstance(rec, dict):
        return f"not a JSON object ({type(rec).__name__})"
    kind = rec.get("kind")
    if kind not in (None, "judge"):
        return f"unknown kind {kind!r}"
    need = JUDGE if kind == "judge" else REPLY
    for name, tp in need.items():
        if not isinstance(rec.get(name), tp) or not rec[name]:
            return f"missing or malformed {name!r}"
    if kind == "judge":
        return None if rec.get("refusal") is None or isinstance(rec["refusal"], bool) else "malformed 'refusal'"
    for name, tp in REPLY_OPTIONAL.items():
        value = rec.get(name)
        if value is not None and (not isinstance(value, tp) or isinstance(value, bool)):
            return f"malformed {name!r}"
    if rec.get("completion") is None and rec.get("error") is None:
        return "neither a 'completion' nor an 'error' (an incomplete record)"
    return None


def failed(rec: dict) -> bool:
    return rec.get("error") is not None and rec.get("completion") is None


class Store:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / STORE_NAME
        self.quarantine_path = self.folder / QUARANTINE_NAME
        self.lock_path = self.folder / LOCK_NAME
        self._synced = time.monotonic()
        self._unsynced = False

    def scan(self) -> tuple[list[dict], list[dict]]:
        """(usable records, one per key in first-seen order; the lines set aside as {line, reason, text}).

        For a key stored more than once (two writers, or a retry of a failure) the first reply wins, and a
        reply always wins over a failure."""
        if not self.path.is_file():
            if self.path.exists():  # a folder (or a device): "nothing stored" would be a lie, and every append fail
                raise ConfigError(f"{self.path}: is not a file (the store must be one); move it away")
            return [], []
        chosen: dict[str, dict] = {}
        bad = []
        with open(self.path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except (ValueError, RecursionError):  # torn by a kill (ValueError: bad JSON or not UTF-8)
                    rec, why = None, "not a complete JSON line (torn by a kill?)"
                else:
                    why = problem(rec)
                if why:
                    bad.append({"line": lineno, "reason": why, "text": raw.decode("utf-8", "replace").rstrip("\n")})
                    continue
                rec = clean_value(rec)  # a store written elsewhere may hold "\ud800" escapes: no crash downstream
                old = chosen.get(rec["key"])
                if old is None or (failed(old) and not failed(rec)):
                    chosen[rec["key"]] = rec
        return list(chosen.values()), bad

    def records(self) -> Iterator[dict]:
        yield from self.scan()[0]

    def keys(self, include_failed: bool = True) -> set[str]:
        """Keys that need no new request (failed ones too, unless `include_failed` is off: --retry-failed)."""
        return {r["key"] for r in self.records() if include_failed or not failed(r)}

    def lock(self) -> None:
        """Be the one process writing this store until we exit (creates the folder; a failed run that stored
        nothing removes it again); one line if another process is."""
        lock.acquire(self.lock_path, f"the store {self.folder}")

    def set_aside(self, bad: list[dict]) -> int:
        """Copy the unusable lines to store.quarantine.jsonl and say so once; returns their number."""
        if not bad:
            if self.quarantine_path.exists():  # a copy only: stale once the store is clean again
                try:
                    self.quarantine_path.unlink()
                except OSError as e:
                    raise cannot_write(self.quarantine_path, e) from None
            return 0
        try:
            write_atomic(self.quarantine_path, "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in bad))
        except ConfigError as e:  # a copy only (store.jsonl keeps the lines): a read-only folder still reports
            print(f"warning: {e}", file=sys.stderr, flush=True)
        if (str(self.path), len(bad)) not in _warned:
            _warned.add((str(self.path), len(bad)))
            lines = ", ".join(str(b["line"]) for b in bad[:5]) + (", …" if len(bad) > 5 else "")
            print(f"warning: {self.path}: {len(bad)} torn or incomplete line(s) ({lines}) are not counted as "
                  f"stored (their requests are asked again); copied to {self.quarantine_path.name}",
                  file=sys.stderr, flush=True)
        return len(bad)

    def append(self, record: dict) -> None:
        """Write one record durably: the line is either all there after a crash, or ignorable."""
        if "key" not in record:
            raise ValueError("a store record needs a 'key'")
        line = (json.dumps(clean_value(record), ensure_ascii=False) + "\n").encode()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise cannot_write(self.path, e) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_size and last_byte(self.path) != b"\n":
                line = b"\n" + line  # seal off a torn fragment left by a kill
            append_line_bytes(fd, self.path, line)  # all of it, or cut back: never a torn line
            self._unsynced = True
            if time.monotonic() - self._synced >= SYNC_EVERY:
                self._fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock

    def sync(self) -> None:
        """fsync what `append` wrote since the last one (eval calls it when a run ends, also on Ctrl-C)."""
        if self._unsynced and self.path.is_file():
            fd = os.open(self.path, os.O_RDONLY)
            try:
                self._fsync(fd)
            finally:
                os.close(fd)

    def _fsync(self, fd: int) -> None:
        try:
            os.fsync(fd)  # flushes the file's data whichever descriptor wrote it
        except OSError as e:  # ENOSPC / EIO surface here on some filesystems
            raise cannot_write(self.path, e) from None
        self._synced, self._unsynced = time.monotonic(), False

