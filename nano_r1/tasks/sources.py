"""Benchmark files from `--data-dir` (the upstream files, as in ../shared/data) or the hub via `datasets`.

Every reader raises ConfigError naming the file and line for malformed data, so a broken file is one
clear line, never a traceback.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from nano_r1.cliargs import ConfigError


def read_jsonl(path: Path, required: tuple[str, ...], allow_empty: bool = False) -> list[dict]:
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
        if not isinstance(rec, dict):
            raise ConfigError(f"{path}:{lineno}: expected a JSON object")
        missing = [k for k in required if not isinstance(rec.get(k), str) or not (allow_empty or rec[k].strip())]
        if missing:
            raise ConfigError(f"{path}:{lineno}: missing or empty field(s) {', '.join(missing)}")
        rows.append(rec)
    if not rows:
        raise ConfigError(f"{path}: no records")
    return rows


def read_csv(path: Path, required: tuple[str, ...]) -> list[dict]:
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def hub(dataset: str, split: str, config: str | None = None) -> list[dict]:
    """Rows of a hub dataset; ConfigError (suggesting --data-dir) when it cannot be loaded."""
    try:
        from datasets import load_dataset

        ds = load_dataset(dataset, config, split=split) if config else load_dataset(dataset, split=split)
    except Exception as e:
        raise ConfigError(f"could not load {dataset} from the hub ({type(e).__name__}); "
                          "pass --data-dir with the benchmark files (e.g. ../shared/data)") from None
    return [dict(r) for r in ds]


def local_or_hub(data_dir: str | None, filename: str, required: tuple[str, ...], dataset: str, split: str,
                 config: str | None = None, optional: bool = False) -> list[dict] | None:
    """DATA_DIR/filename when --data-dir is given, else the hub. `optional`: None instead of an error."""
    try:
        if data_dir:
            path = Path(data_dir).expanduser() / filename
            if optional and not path.is_file():
                return None
            return (read_csv if filename.endswith(".csv") else read_jsonl)(path, required)
        return hub(dataset, split, config)
    except ConfigError:
        if optional and not data_dir:
            return None
        raise
