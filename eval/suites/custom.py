"""A suite from a JSONL file: `python -m eval --suite path/to/probes.jsonl`.

Each line: {"prompt": "...", "id": "optional", "answer": "optional"}. If every line has an answer, replies
are graded as math (strict <answer> and flexible, math-verify for LaTeX); otherwise by the refusal grader.
The suite is named after the file; its version is a hash of the file, so editing it starts fresh replies.
"""

from __future__ import annotations

from pathlib import Path

from eval.grading import grade_math
from eval.suites import Item, Metric, Suite, file_version
from eval.suites.math import MATH_METRICS
from eval.suites.safety import refusal_score
from eval.suites.sources import read_jsonl
from train.cliargs import ConfigError


class FileSuite(Suite):
    def __init__(self, path: Path):
        if not path.is_file():
            raise ConfigError(f"--suite {path}: no such file")
        self.path = path
        self.rows = read_jsonl(path, ("prompt",))
        self.name = path.stem
        self.version = file_version("file", path)
        self.graded_math = all(str(r.get("answer", "")).strip() for r in self.rows)
        self.metrics = MATH_METRICS if self.graded_math else [Metric("refusal_rate", "refusal", False)]
        self.description = f"prompts from {path}"

    def items(self, data_dir):
        ids = [str(r.get("id", i)) for i, r in enumerate(self.rows)]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"--suite {self.path}: duplicate ids")
        return [Item(f"{self.name}-{i}", r["prompt"].strip(), str(r["answer"]) if self.graded_math else None)
                for i, r in zip(ids, self.rows)]

    def score(self, completion, reference, meta):
        return grade_math(completion, reference) if self.graded_math else refusal_score(completion)
