"""A suite from a JSONL file: `python -m eval --suite path/to/probes.jsonl`.

Each line: {"prompt": "...", "id": "optional", "answer": "optional"}; other fields are named in a warning (a
mistyped "anwser" would otherwise make a math suite a refusal suite without a word). Either every line has an answer (graded as
math: strict <answer> and flexible, math-verify for LaTeX or a list like "1,2,3") or none has (the refusal
grader); a mix is an error. A numeric answer is read like GSM8K's ("$1,000", "3/4"); nan, inf, 1e400 or "3/0" is
an error naming the line (nano_r1.grading.reference_number).
The suite is named after the file; its version is a hash of the file, so editing it starts fresh replies.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nano_r1.grading import grade_math, reference_number
from nano_r1.tasks.base import Item, Metric, Task, file_version
from nano_r1.tasks.math import MATH_METRICS
from nano_r1.tasks.safety import refusal_score
from nano_r1.tasks.sources import read_jsonl
from nano_r1.cliargs import ConfigError
from nano_r1.files import not_a_file

FIELDS = ("prompt", "id", "answer")


class FileSuite(Task):
    def __init__(self, path: Path):
        if not path.is_file():
            raise ConfigError(f"--suite {path}: {not_a_file(path)}")
        self.path = path
        self.rows = read_jsonl(path, ("prompt",))
        self.name = path.stem
        self.version = file_version("file", path)
        for i, r in enumerate(self.rows):
            for key, types in (("answer", (str, int, float)), ("id", (str, int))):
                if r.get(key) is not None and (isinstance(r[key], bool) or not isinstance(r[key], types)):
                    raise ConfigError(f"--suite {self.rows.where(i)}: '{key}' must be text or a number, got "
                                      f"{type(r[key]).__name__}")
        other = sorted({k for r in self.rows for k in r} - set(FIELDS))
        if other:  # 'anwser' or 'reference' would turn a math suite into a refusal suite without a word: say so
            first = self.rows.where(next(i for i, r in enumerate(self.rows) if set(r) - set(FIELDS)))
            print(f"warning: --suite {first}: field(s) {', '.join(other)} are not read (a line has 'prompt', and "
                  "optionally 'id' and 'answer')", file=sys.stderr)
        answered = [r.get("answer") is not None and bool(str(r["answer"]).strip()) for r in self.rows]
        if any(answered) and not all(answered):  # the grading mode is declared by the file, never guessed per row
            missing = self.rows.where(answered.index(False))
            raise ConfigError(f"--suite {missing}: this record has no answer while others do; give every "
                              "record an answer (math grading) or none (refusal grading)")
        self.graded_math = all(answered)
        self.references = [reference_number(r["answer"], f"--suite {self.rows.where(i)}") or str(r["answer"]).strip()
                           for i, r in enumerate(self.rows)] if self.graded_math else [None] * len(self.rows)
        self.metrics = MATH_METRICS if self.graded_math else [Metric("refusal_rate", "refusal", False)]
        self.description = f"prompts from {path}"

    def items(self, data_dir):
        ids = [str(r["id"] if r.get("id") is not None else i) for i, r in enumerate(self.rows)]
        if len(set(ids)) != len(ids):
            dup = next(i for i, x in enumerate(ids) if ids.index(x) != i)
            raise ConfigError(f"--suite {self.rows.where(dup)}: id {ids[dup]!r} is used twice; give every record "
                              "its own id")
        items = [Item(f"{self.name}-{i}", r["prompt"].strip(), ref)
                 for i, r, ref in zip(ids, self.rows, self.references)]
        self.sources = {self.name: {"from": str(self.path), "items": len(items)}}
        return items

    def score(self, completion, reference, meta, prompt=None):
        return grade_math(completion, reference) if self.graded_math else refusal_score(completion, prompt)
