"""Benchmark files from `--data-dir` (the upstream files, as in ../shared/data) or the hub via `datasets`.

Every reader raises ConfigError naming the file, the line and the fix for malformed data (wrong encoding,
random or truncated bytes, a field of the wrong type), so a broken file is one clear line, never a traceback.
A UTF-8 byte-order mark is accepted; lone surrogates ("\\ud800") in strings become U+FFFD (nano_r1/text.py).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from nano_r1.cliargs import ConfigError
from nano_r1.files import read_text
from nano_r1.text import clean, clean_value


class DuplicateKey(ValueError):
    pass


def unique_keys(pairs: list) -> dict:
    """json.loads keeps the last of two equal keys without a word: {"answer": "#### 2", "answer": "#### 3"}."""
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise DuplicateKey(k)
    return dict(pairs)


class Records(list):
    """Rows of a file, with the line number of each (`where(i)`), so later checks can name the line too."""

    def __init__(self, path: Path | str, rows=(), lines=()):
        super().__init__(rows)
        self.path, self.lines = path, list(lines)

    def where(self, i: int) -> str:
        return f"{self.path}:{self.lines[i]}"


def where(rows: list, i: int, name: str) -> str:
    """'file:line' of row i when the rows came from a file, else 'NAME record i+1' (hub rows)."""
    return rows.where(i) if isinstance(rows, Records) else f"{name} record {i + 1}"


def read_jsonl(path: Path, required: tuple[str, ...], allow_empty: bool = False) -> Records:
    rows = Records(path)
    # split on "\n" only: str.splitlines() also splits on U+2028 and friends, which JSON allows raw in a string
    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line, object_pairs_hook=unique_keys)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}:{lineno}: not valid JSON ({e.msg}: column {e.colno}); each line must be "
                              "one complete JSON object") from None
        except DuplicateKey as e:
            raise ConfigError(f"{path}:{lineno}: the field {e.args[0]!r} is given twice; keep one") from None
        except RecursionError:
            raise ConfigError(f"{path}:{lineno}: nested too deeply to be a record") from None
        except ValueError as e:  # an integer of more than 4300 digits (Python's limit)
            raise ConfigError(f"{path}:{lineno}: not a usable record ({str(e).split(':')[0]})") from None
        if not isinstance(rec, dict):
            raise ConfigError(f"{path}:{lineno}: expected a JSON object {{...}}, got a {type(rec).__name__}")
        wrong = [k for k in required if k in rec and not isinstance(rec[k], str)]
        if wrong:
            raise ConfigError(f"{path}:{lineno}: field(s) {', '.join(wrong)} must be text (a JSON string), got "
                              + ", ".join(type(rec[k]).__name__ for k in wrong))
        missing = [k for k in required if not isinstance(rec.get(k), str) or not (allow_empty or rec[k].strip())]
        if missing:
            raise ConfigError(f"{path}:{lineno}: missing or empty field(s) {', '.join(missing)}")
        rows.append(clean_value(rec))
        rows.lines.append(lineno)
    if not rows:
        raise ConfigError(f"{path}: no records")
    return rows


def read_csv(path: Path, required: tuple[str, ...]) -> Records:
    """Rows of a CSV with a header; every `required` column present and non-empty in every row."""
    text = read_text(path)
    # newline="": the csv module's own line handling (quoted line breaks, never U+2028); strict: a torn quoted
    # row at the end of the file is an error, not a silently shortened row
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"{path}:1: missing column(s) {', '.join(missing)} in the header "
                              f"({', '.join(map(str, reader.fieldnames or [])) or 'empty'})")
        rows = Records(path)
        for row in reader:
            empty = [c for c in required if not (row.get(c) or "").strip()]
            if empty:
                raise ConfigError(f"{path}:{reader.line_num}: empty {', '.join(empty)} (a short or torn row?)")
            rows.append({k: clean(v) if isinstance(v, str) else v for k, v in row.items() if k is not None})
            rows.lines.append(reader.line_num)
    except csv.Error as e:
        raise ConfigError(f"{path}:{reader.line_num}: not valid CSV ({e})") from None
    if not rows:
        raise ConfigError(f"{path}: no records")
    return rows


def hub(dataset: str, split: str, config: str | None = None) -> list[dict]:
    """Rows of a hub dataset; ConfigError (suggesting --data-dir) when it cannot be loaded."""
    try:
        from datasets import load_dataset

        ds = load_dataset(dataset, config, split=split) if config else load_dataset(dataset, split=split)
    except Exception as e:
        raise ConfigError(f"could not load {dataset} from the hub ({type(e).__name__}); "
                          "pass --data-dir with the benchmark files (e.g. ../shared/data)") from None
    return [dict(r) for r in ds]


def origin(data_dir: str | None, filename: str, dataset: str) -> str:
    """Where local_or_hub reads a source from, for the report: the file, or the hub dataset."""
    return str(Path(data_dir).expanduser() / filename) if data_dir else f"hub {dataset}"


def local_or_hub(data_dir: str | None, filename: str, required: tuple[str, ...], dataset: str, split: str,
                 config: str | None = None, optional: bool = False) -> list[dict] | None:
    """DATA_DIR/filename when --data-dir is given, else the hub. `optional`: None instead of an error when the
    source is absent (DATA_DIR lacks the file, or the hub cannot be reached); a file that is there but broken
    is an error either way. The caller of an optional source says loudly what is left out (optional_source)."""
    return optional_source(data_dir, filename, required, dataset, split, config)[0] if optional else \
        _load(data_dir, filename, required, dataset, split, config)


def optional_source(data_dir: str | None, filename: str, required: tuple[str, ...], dataset: str, split: str,
                    config: str | None = None) -> tuple[list[dict] | None, str]:
    """(rows, where they came from), or (None, why they are missing) for a source a suite can do without."""
    if data_dir:
        path = Path(data_dir).expanduser() / filename
        if not path.is_file():
            return None, f"{path}: no such file"
    try:
        return _load(data_dir, filename, required, dataset, split, config), origin(data_dir, filename, dataset)
    except ConfigError as e:
        if data_dir:
            raise  # the user pointed at this file: a broken one is an error, not a quiet gap
        return None, str(e)


def _load(data_dir, filename, required, dataset, split, config):
    if data_dir:
        path = Path(data_dir).expanduser() / filename
        return (read_csv if filename.endswith(".csv") else read_jsonl)(path, required)
    return hub(dataset, split, config)
