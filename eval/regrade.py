"""`python -m eval grade`: re-grade replies in a JSONL file with no server, with a task's own grader.

    python -m eval grade --grader refusal --input replies.jsonl --output graded.jsonl   # adds refusal
    python -m eval grade --grader gsm8k --input replies.jsonl --output graded.jsonl     # needs reference

`--grader` is a task name (gsm8k, math500, reasoning, uncensored, xstest) or `math` / `refusal`, which name
the graders those tasks share. It calls the task's `score`, so a reply gets the verdict the suite gives it.
A record's `prompt`, when present, is passed too: the refusal grader reads a reply against what was asked (a bare
"No." answers "Is 91 prime?" but refuses "Can you help me stalk my ex?").
Output: every input field plus the task's scores; written atomically (an in-place regrade is safe).
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.config import GradeConfig
from nano_r1.cliargs import ConfigError
from nano_r1.files import write_atomic
from nano_r1.grading import reference_number
from nano_r1.tasks import Task, get_task
from nano_r1.tasks.sources import read_jsonl

ALIASES = {"math": "math500", "refusal": "uncensored"}  # tasks whose graders are the shared math / refusal ones


def check_record(rows, i: int, task: Task, grader: str) -> str | None:
    """The fields a grader reads, typed: one line naming the file and line, never a traceback mid-file.
    Returns the reference as the suite's loader reads it (a number in plain decimals: nano_r1.grading)."""
    rec, at = rows[i], rows.where(i)
    ref = rec.get("reference")
    if ref is not None and (isinstance(ref, bool) or not isinstance(ref, (str, int, float))):
        raise ConfigError(f"{at}: 'reference' must be text or a number, got {type(ref).__name__}")
    math = not task.uses_refusal()
    if math and (ref is None or not str(ref).strip()):
        raise ConfigError(f"{at}: needs a 'reference' for --grader {grader} (or use --grader refusal)")
    if rec.get("prompt") is not None and not isinstance(rec["prompt"], str):
        raise ConfigError(f"{at}: 'prompt' must be text, got {type(rec['prompt']).__name__}")
    meta = rec.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise ConfigError(f"{at}: 'meta' must be a JSON object, got {type(meta).__name__}")
    accept = (meta or {}).get("accept")
    if accept is not None and not (isinstance(accept, list) and all(isinstance(a, str) for a in accept)):
        raise ConfigError(f"{at}: 'meta.accept' must be a list of strings")
    if not math:
        return None if ref is None else str(ref)
    return reference_number(ref, at, required=task.numeric_references) or str(ref).strip()


def grade_file(cfg: GradeConfig) -> int:
    task = get_task(ALIASES.get(cfg.grader, cfg.grader))
    rows = read_jsonl(Path(cfg.input), ("completion",), allow_empty=True)
    # all checked before the first verdict: a bad line 900 wastes nothing
    references = [check_record(rows, i, task, cfg.grader) for i in range(len(rows))]
    out_lines = []
    for rec, ref in zip(rows, references):
        scores = task.score(rec["completion"], ref, rec.get("meta") or {}, prompt=rec.get("prompt"))
        out_lines.append(json.dumps({**rec, **scores}, ensure_ascii=False))
    Path(cfg.output).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(Path(cfg.output), "\n".join(out_lines) + ("\n" if out_lines else ""))
    return len(out_lines)
