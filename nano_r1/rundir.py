"""The run folder runs/NAME/ — the only code that knows its layout (train writes it; eval and serve read it).

  config.json         the TrainConfig exactly as used, plus what it resolved to (model folder, backend,
                      the system prompt's text), so `eval --run` replays the training prompt exactly
  metrics.jsonl       one line per logged step; `eval/*` keys every --eval-every steps
  completions.jsonl   sampled prompts, replies, references and rewards
  adapter/            the PEFT LoRA adapter (what serve and eval load)
  chart.png           metrics.jsonl drawn
  warnings.jsonl      what the run's guards said (train/guards.py): one {step, kind, message} line each
  summary.json        wall time, GPU-hours, cost, the aha step, the warnings (updated at the end of every session)
  checkpoint-N/       Trainer checkpoints (--resume)
  train.lock          while a trainer runs: its PID, locked (flock, nano_r1/lock.py), so a second trainer,
                      --resume or --overwrite of a live run is refused naming that PID (removed on exit)

A kill can tear the last line of a JSONL file: readers skip lines that are not JSON objects (and say how many),
and the next append starts on a fresh line, so a torn line never crashes a resume, a chart or a report.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from nano_r1 import lock
from nano_r1.cliargs import ConfigError
from nano_r1.files import append_jsonl, read_json_object, read_jsonl, write_atomic

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
LOCK_NAME = "train.lock"


def check_run_name(name: str) -> str:
    """A run name is one plain folder name: never '.', '..', a path or an absolute path."""
    if not RUN_NAME.match(name or "") or name in {".", ".."}:
        raise ConfigError(f"--run-name {name!r}: use one plain name (letters, digits, '.', '_', '-'; "
                          "no '/' and no leading '.')")
    return name


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    config_path = property(lambda self: self.path / "config.json")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    completions_path = property(lambda self: self.path / "completions.jsonl")
    adapter_path = property(lambda self: self.path / "adapter")
    chart_path = property(lambda self: self.path / "chart.png")
    summary_path = property(lambda self: self.path / "summary.json")
    lock_path = property(lambda self: self.path / LOCK_NAME)
    warnings_path = property(lambda self: self.path / "warnings.jsonl")

    @property
    def name(self) -> str:
        return self.path.resolve().name

    def is_run(self) -> bool:
        return self.config_path.is_file()

    # --- config ---------------------------------------------------------------------------------
    def read_config(self) -> dict:
        if not self.is_run():
            raise ConfigError(f"{self.path}: not a run folder (no config.json)")
        return read_json_object(self.config_path,
                                "the run folder is damaged: restore config.json, or start a new --run-name")

    def config_value(self, cfg: dict, key: str, types: tuple, default=None):
        """cfg[key] when it has one of `types` (None always allowed), else one line naming the file and key."""
        value = cfg.get(key, default)
        if value is not None and (not isinstance(value, types) or (bool not in types and isinstance(value, bool))):
            raise ConfigError(f"{self.config_path}: {key!r} should be {' or '.join(t.__name__ for t in types)}, "
                              f"got {type(value).__name__}; the run folder is damaged: restore config.json")
        return value

    def write_config(self, data: dict, name: str = "config.json") -> None:
        write_atomic(self.path / name, json.dumps(data, indent=2) + "\n")

    def prompting(self):
        """The Prompting (system prompt text, one-shot) exactly as the run was trained with."""
        from nano_r1.chat import system_prompt
        from nano_r1.tasks.base import Prompting

        cfg = self.read_config()
        if "system_prompt_text" in cfg:
            system = self.config_value(cfg, "system_prompt_text", (str,))
        else:
            system = system_prompt(self.config_value(cfg, "system_prompt", (str,), "default"))
        return Prompting(system, bool(self.config_value(cfg, "one_shot", (bool,), False)))

    def correct_reward(self) -> float:
        """What `rewards/correctness/mean` logs for a right answer: 1.0 since the rubric (and its weights) is
        recorded in config.json; runs from before returned the seed's 2.0 from the reward function itself."""
        return 1.0 if isinstance(self.read_config().get("rubric"), dict) else 2.0

    def base_model(self) -> str | None:
        """The folder the run trained from if it is on this machine, else the name it was given (an alias or hub
        id resolves again here: a run trained on another machine still serves)."""
        cfg = self.read_config()
        resolved, given = self.config_value(cfg, "model_resolved", (str,)), self.config_value(cfg, "model", (str,))
        return resolved if resolved and (Path(resolved).exists() or not given) else given or resolved

    # --- logs -----------------------------------------------------------------------------------
    def read_metrics(self) -> list[dict]:
        rows, bad = read_jsonl(self.metrics_path)
        if bad:
            print(f"[run] {self.metrics_path}: skipped {bad} torn or foreign line(s)", file=sys.stderr)
        return [r for r in rows if isinstance(r.get("step"), int)]

    def append_metrics(self, row: dict) -> None:
        append_jsonl(self.metrics_path, [row])

    def append_completions(self, rows: list[dict]) -> None:
        append_jsonl(self.completions_path, rows)

    def read_warnings(self) -> list[dict]:
        return [r for r in read_jsonl(self.warnings_path)[0] if isinstance(r.get("step"), int)]

    def append_warning(self, row: dict) -> None:
        append_jsonl(self.warnings_path, [row])

    def trim_logs(self, max_step: int) -> None:
        """Drop lines logged after `max_step` (a resumed run logs those steps again) and torn lines."""
        for path in (self.metrics_path, self.completions_path, self.warnings_path):
            rows, bad = read_jsonl(path)
            kept = [r for r in rows if isinstance(r.get("step"), int) and r["step"] <= max_step]
            if bad or len(kept) != len(rows):
                write_atomic(path, "".join(json.dumps(r) + "\n" for r in kept))

    def read_summary(self) -> dict:
        """summary.json, or {} when it is missing or damaged (it is rebuilt at the end of every session)."""
        try:
            data = json.loads(self.summary_path.read_bytes()) if self.summary_path.is_file() else {}
        except (OSError, ValueError):  # ValueError: not JSON, not UTF-8
            return {}
        if not isinstance(data, dict):
            return {}
        sessions = data.get("sessions")
        ok = lambda s: isinstance(s, dict) and all(isinstance(s.get(k), (int, float)) for k in ("seconds", "gpus"))
        data["sessions"] = [s for s in sessions if ok(s)] if isinstance(sessions, list) else []
        return data

    def write_summary(self, data: dict) -> None:
        write_atomic(self.summary_path, json.dumps(data, indent=2) + "\n")

    # --- checkpoints ------------------------------------------------------------------------------
    def checkpoints(self) -> list[Path]:
        """Complete Trainer checkpoints (a stray or half-written checkpoint-* folder is not one: the Trainer
        writes trainer_state.json last, so a kill during a save leaves it missing or torn)."""
        found = [(int(m.group(1)), p) for p in self.path.glob("checkpoint-*")
                 if (m := CHECKPOINT.match(p.name)) and _json_object(p / "trainer_state.json")]
        return [p for _, p in sorted(found)]

    def latest_checkpoint(self) -> str | None:
        found = self.checkpoints()
        return str(found[-1]) if found else None

    # --- creating / replacing -------------------------------------------------------------------
    def check_free(self) -> None:
        """Refuse a run folder a live trainer holds, in a second rather than after loading the model."""
        lock.check_free(self.lock_path, self._busy())

    def lock(self) -> None:
        """Hold the folder for this process's life (one writer per run); the folder must exist."""
        lock.acquire(self.lock_path, self._busy())

    def _busy(self) -> str:
        return f"the run folder {self.path}"

    def holds_files(self) -> bool:
        return self.path.is_dir() and any(p.name != LOCK_NAME for p in self.path.iterdir())

    def prepare(self, resume: bool, overwrite: bool) -> str | None:
        """Lock and create the folder, or find the checkpoint to resume; returns that checkpoint or None.

        A folder a live trainer holds is refused before anything changes. `overwrite` replaces only a run of ours
        (it has config.json), and moves it aside to a sibling `.NAME.replaced-DATE` rather than deleting it, so a
        mistaken --overwrite loses nothing; it holds the old folder's lock while moving it."""
        if resume:
            self.check_free()  # a live trainer: refused before its checkpoints are read
            checkpoint = self.latest_checkpoint()
            if not checkpoint:
                raise ConfigError(f"--resume: {self.path} has no checkpoint to resume from")
            self.lock()
            return checkpoint
        if self.holds_files():
            self.check_free()  # a live trainer: refused here, whatever the flags
            if not overwrite:
                raise ConfigError(f"{self.path} already holds a run; pass --resume to continue it, --overwrite to "
                                  "replace it, or --run-name NEW")
            if not self.is_run():
                raise ConfigError(f"--overwrite: {self.path} is not a run folder of ours (no config.json); "
                                  "refusing to replace it")
            self.lock()  # held while the old folder moves: a trainer starting on it now is refused
            aside = self.path.with_name(f".{self.path.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                self.path.rename(aside)
            except OSError as e:
                raise ConfigError(f"--overwrite: cannot move {self.path} aside to {aside}: {e.strerror}") from None
            (aside / LOCK_NAME).unlink(missing_ok=True)  # ours, moved with the folder: the old run keeps none
            lock.release(self.lock_path, remove=False)  # its name is the new folder's now
            print(f"[run] moved the old run aside to {aside} (delete it when you no longer need it)",
                  file=sys.stderr)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"cannot create the run folder {self.path}: {e.strerror}") from None
        self.lock()
        return None


def _json_object(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_bytes()), dict)
    except (OSError, ValueError, RecursionError):  # missing, unreadable, torn, not UTF-8
        return False
