"""`python -m eval grade`: re-grade replies in a JSONL file with no server, with a task's own grader.

    python -m eval grade --grader refusal --input replies.jsonl --output graded.jsonl   # adds refusal
    python -m eval grade --grader gsm8k --input replies.jsonl --output graded.jsonl     # needs reference

`--grader` is a task name (gsm8k, math500, reasoning, uncensored, xstest) or `math` / `refusal`, which name
the graders those tasks share. It calls the task's `score`, so a reply gets the verdict the suite gives it.
Output: every input field plus the task's scores; written atomically (an in-place regrade is safe).
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.config import GradeConfig
from nano_r1.cliargs import ConfigError
from nano_r1.files import write_atomic
from nano_r1.tasks import get_task
from nano_r1.tasks.sources import read_jsonl

ALIASES = {"math": "math500", "refusal": "uncensored"}  # tasks whose graders are the shared math / refusal ones


def grade_file(cfg: GradeConfig) -> int:
    task = get_task(ALIASES.get(cfg.grader, cfg.grader))
    math = not task.uses_refusal()
    out_lines = []
    for i, rec in enumerate(read_jsonl(Path(cfg.input), ("completion",), allow_empty=True), 1):
        if math and rec.get("reference") is None:
            raise ConfigError(f"{cfg.input}: record {i}: needs a reference for --grader {cfg.grader}")
        scores = task.score(rec["completion"], None if rec.get("reference") is None else str(rec["reference"]),
                            rec.get("meta") or {})
        out_lines.append(json.dumps({**rec, **scores}, ensure_ascii=False))
    Path(cfg.output).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(Path(cfg.output), "\n".join(out_lines) + ("\n" if out_lines else ""))
    return len(out_lines)
