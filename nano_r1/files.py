"""Files that survive a kill and readers that survive bad files: atomic writes (temp + rename), JSONL that
tolerates a torn last line, and `read_text`, the one reader of user text files (one ConfigError line naming
the file and line for a missing, unreadable, non-UTF-8 or binary file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from nano_r1.cliargs import ConfigError


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary sibling and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:  # a full disk or a folder in the way: leave no temporary file behind
        tmp.unlink(missing_ok=True)
        raise


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


def read_text(path: Path) -> str:
    """The whole file as text, or one ConfigError line: missing, unreadable, not UTF-8."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it ({e.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte {e.start}); save the file as UTF-8") from None
    if "\x00" in text:  # valid UTF-8 can still be a binary file (NUL bytes): say so rather than parse it
        raise ConfigError(f"{path}:{text[: text.index(chr(0))].count(chr(10)) + 1}: holds NUL bytes "
                          "(a binary file?); give a text file")
    return text


def read_json_object(path: Path, damaged: str, where: str = "") -> dict:
    """A JSON object file we wrote (a run's config.json, an adapter_config.json), or one ConfigError line that
    names the file, what is wrong and `damaged` (what to do about it); `where` prefixes the line (a flag)."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{where}{path}: not UTF-8 text (byte {e.start}); {damaged}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{where}{path}:{e.lineno}: not valid JSON ({e.msg}: column {e.colno}); {damaged}") from None
    except OSError as e:
        raise ConfigError(f"{where}cannot read {path} ({e.strerror})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}{path}: expected a JSON object, got a {type(data).__name__}; {damaged}")
    return data
