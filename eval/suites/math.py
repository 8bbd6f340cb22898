"""Math suites: GSM8K test (numeric answers) and MATH-500 (LaTeX answers through math-verify).

Both report `correct` (strict: the number / expression in the last <answer> block, what training rewards)
and `correct_flexible` (the last number, or math-verify over the whole reply) side by side, like lm-eval's
strict-match and flexible-extract filters: "learned the format" and "got more answers right" stay apart.
"""

from __future__ import annotations

from eval.grading import grade_math, gsm8k_reference
from eval.suites import Item, Metric, Suite
from eval.suites.sources import local_or_hub
from train.cliargs import ConfigError

MATH_METRICS = [Metric("accuracy_strict", "correct", True), Metric("accuracy_flexible", "correct_flexible", True),
                Metric("answer_parsed", "parsed", True)]


class GSM8K(Suite):
    name = "gsm8k"
    version = "1"
    description = "GSM8K test split (1,319 grade-school word problems), zero-shot with the shared system prompt"
    metrics = MATH_METRICS

    def items(self, data_dir):
        rows = local_or_hub(data_dir, "gsm8k_test.jsonl", ("question", "answer"), "openai/gsm8k", "test", "main")
        items = []
        for i, r in enumerate(rows):
            try:
                ref = gsm8k_reference(r["answer"])
            except ValueError:
                raise ConfigError(f"gsm8k row {i + 1}: answer has no '#### N' line") from None
            items.append(Item(f"gsm8k-{i:04d}", r["question"].strip(), ref))
        return items

    def score(self, completion, reference, meta):
        return grade_math(completion, reference, symbolic=False)


class MATH500(Suite):
    name = "math500"
    version = "1"
    description = "MATH-500 (PRM800K test split of MATH), answers compared with math-verify"
    metrics = MATH_METRICS

    def items(self, data_dir):
        rows = local_or_hub(data_dir, "math500_test.jsonl", ("problem", "answer"), "HuggingFaceH4/MATH-500", "test")
        return [Item(r.get("unique_id") or f"math500-{i:03d}", r["problem"].strip(), str(r["answer"]),
                     {"subject": r.get("subject"), "level": r.get("level")}) for i, r in enumerate(rows)]

    def score(self, completion, reference, meta):
        return grade_math(completion, reference, symbolic=True)
