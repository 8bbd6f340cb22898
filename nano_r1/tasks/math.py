"""Math tasks: GSM8K (numeric answers; also the training task) and MATH-500 (LaTeX answers via math-verify).

Both report `correct` (strict: the number / expression in the last <answer> block, what training rewards)
and `correct_flexible` (the last number, or math-verify over the whole reply) side by side, like lm-eval's
strict-match and flexible-extract filters: "learned the format" and "got more answers right" stay apart.
"""

from __future__ import annotations

from pathlib import Path

from nano_r1.grading import grade_math, gsm8k_reference
from nano_r1.tasks.base import Item, Metric, Task
from nano_r1.tasks.rubric import math_rubric
from nano_r1.tasks.sources import local_or_hub, origin, read_jsonl, where

MATH_METRICS = [Metric("accuracy_strict", "correct", True), Metric("accuracy_flexible", "correct_flexible", True),
                Metric("answer_parsed", "parsed", True)]


def gsm8k_items(rows: list[dict], prefix: str, name: str) -> list[Item]:
    """GSM8K records ({question, answer ending in '#### N'}) → items with the number as reference; a reference
    that is not a number ('#### red') is an error, else the correctness reward would be dead without a word."""
    return [Item(f"{prefix}-{i:04d}", r["question"].strip(), gsm8k_reference(r["answer"], where(rows, i, name)))
            for i, r in enumerate(rows)]


class GSM8K(Task):
    name = "gsm8k"
    version = "1"
    description = "GSM8K test split (1,319 grade-school word problems)"
    metrics = MATH_METRICS
    numeric_references = True

    def items(self, data_dir, split: str = "test"):
        filename = f"gsm8k_{split}.jsonl"
        rows = local_or_hub(data_dir, filename, ("question", "answer"), "openai/gsm8k", split, "main")
        items = gsm8k_items(rows, "gsm8k" if split == "test" else f"gsm8k-{split}", f"openai/gsm8k {split}")
        self.sources = {f"gsm8k {split}": {"from": origin(data_dir, filename, "openai/gsm8k"), "items": len(items)}}
        return items

    def train_items(self, data_dir):
        return self.items(data_dir, "train")

    def held_out_items(self, data_dir, n):
        """GSM8K test's first `n` (loaded apart from `load()`, which `--suite gsm8k` may have filled)."""
        return self.items(data_dir, "test")[:n]

    def rubric(self, max_completion_length):
        return math_rubric(max_completion_length)

    def score(self, completion, reference, meta=None, prompt=None):
        return grade_math(completion, reference)


class GSM8KFile(GSM8K):
    """`--dataset file.jsonl`: GSM8K-format training problems from a file; held out on GSM8K test."""

    def __init__(self, path: Path):
        self.path = path

    def train_items(self, data_dir):
        return gsm8k_items(read_jsonl(self.path, ("question", "answer")), self.path.stem, str(self.path))


class MATH500(Task):
    name = "math500"
    version = "1"
    description = "MATH-500 (PRM800K test split of MATH), answers compared with math-verify"
    metrics = MATH_METRICS

    def items(self, data_dir):
        rows = local_or_hub(data_dir, "math500_test.jsonl", ("problem", "answer"), "HuggingFaceH4/MATH-500", "test")
        items = [Item(str(r.get("unique_id") or f"math500-{i:03d}"), r["problem"].strip(), str(r["answer"]),
                      {"subject": r.get("subject"), "level": r.get("level")}) for i, r in enumerate(rows)]
        self.sources = {"math500": {"from": origin(data_dir, "math500_test.jsonl", "HuggingFaceH4/MATH-500"),
                                    "items": len(items)}}
        return items

    def score(self, completion, reference, meta=None, prompt=None):
        return grade_math(completion, reference)
