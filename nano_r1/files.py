"""Files that survive a kill and readers that survive bad files: atomic writes (temp + rename), JSONL that
tolerates a torn last line, and `read_text`, the one reader of user text files (one ConfigError line naming
the file and line for a missing, unreadable, non-UTF-8 or binary file).

A write that fails (a full disk, a read-only folder, no permission) is one ConfigError line naming the file:
"cannot write runs/x/chart.png: No space left on device", and leaves the old file whole (or none, and no
temporary file behind).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Iterator

from nano_r1.cliargs import ConfigError


def cannot_write(path: Path, e: OSError) -> ConfigError:
    """The one line for a failed write: the file, then the reason in the system's words."""
    return ConfigError(f"cannot write {path}: {e.strerror or e}")


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling to write (same suffix, so matplotlib picks the format); on success it is renamed
    over `path`, so a reader never sees half a file; any OSError becomes `cannot_write(path)`."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}-{threading.get_ident()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        raise cannot_write(path, e) from None
    finally:
        with contextlib.suppress(OSError):  # nothing to remove after the rename, or on a read-only folder
            tmp.unlink()


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temporary sibling and rename (text is written as UTF-8)."""
    with replacing(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def write_if_changed(path: Path, data: str | bytes) -> bool:
    """write_atomic, unless `path` already holds exactly these bytes (True when written): redrawing a complete eval
    store then writes nothing, so `eval --report-only` works on a read-only results folder."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    with contextlib.suppress(OSError):  # missing or unreadable: write it
        if Path(path).read_bytes() == data:
            return False
    write_atomic(Path(path), data)
    return True


def append_line_bytes(fd: int, path: Path, data: bytes) -> None:
    """Append `data` to the open file `fd` completely or not at all: a short write (a full disk) is truncated
    back to where it began, so the file never ends in a torn line; the failure names `path`."""
    size = os.fstat(fd).st_size
    try:
        view = memoryview(data)
        while view:  # write() may write less than asked; the next call then reports why (ENOSPC)
            view = view[os.write(fd, view):]
    except OSError as e:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise cannot_write(path, e) from None


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
        except (ValueError, RecursionError):  # torn, or an integer of more than 4300 digits
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
    text = "".join(json.dumps(r) + "\n" for r in rows)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise cannot_write(path, e) from None
    try:
        if os.fstat(fd).st_size and last_byte(path) != b"\n":
            text = "\n" + text
        append_line_bytes(fd, path, text.encode("utf-8"))
    finally:
        os.close(fd)


def last_byte(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1)


def not_a_file(path: Path) -> str:
    """Why `path` cannot be read as a file: a folder given by mistake is said so, not called missing."""
    return "is a folder, not a file" if Path(path).is_dir() else "no such file"


def read_text(path: Path) -> str:
    """The whole file as text, or one ConfigError line: missing (or a folder), unreadable, not UTF-8."""
    if not path.is_file():
        raise ConfigError(f"{path}: {not_a_file(path)}")
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
    except (ValueError, RecursionError) as e:  # an integer of more than 4300 digits, or nesting too deep
        raise ConfigError(f"{where}{path}: not a usable JSON file ({str(e).split(':')[0] or 'nested too deeply'}); "
                          f"{damaged}") from None
    except OSError as e:
        raise ConfigError(f"{where}cannot read {path} ({e.strerror})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}{path}: expected a JSON object, got a {type(data).__name__}; {damaged}")
    return data


def sha256(path: Path) -> str:
    """The file's SHA-256, hex (read in 4 MiB chunks: model files are GBs)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()
