"""`python -m eval grade`: re-grade replies in a JSONL file with no server.

Input lines: {"prompt", "completion"} (+ "reference" for --grader math). Output: every input field, plus
`refusal` (refusal grader) or `correct` and `correct_flexible` (math grader: strict <answer> and flexible).
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.config import GradeConfig
from eval.grading import grade_math
from eval.refusal import is_refusal
from train.cliargs import ConfigError


def grade_line(rec: dict, grader: str) -> dict:
    if grader == "refusal":
        return {**rec, "refusal": is_refusal(rec["completion"])}
    verdict = grade_math(rec["completion"], str(rec["reference"]))
    return {**rec, "correct": verdict["correct"], "correct_flexible": verdict["correct_flexible"]}


def grade_file(cfg: GradeConfig) -> int:
    need = ("completion", "reference") if cfg.grader == "math" else ("completion",)
    out_lines = []
    with open(cfg.input, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ConfigError(f"{cfg.input}:{lineno}: not valid JSON ({e.msg})") from None
            if not isinstance(rec, dict) or any(rec.get(k) is None for k in need):
                raise ConfigError(f"{cfg.input}:{lineno}: needs field(s) {', '.join(need)}")
            out_lines.append(json.dumps(grade_line(rec, cfg.grader), ensure_ascii=False))
    Path(cfg.output).parent.mkdir(parents=True, exist_ok=True)
    Path(cfg.output).write_text("\n".join(out_lines) + ("\n" if out_lines else ""))
    return len(out_lines)
