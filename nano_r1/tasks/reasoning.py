"""`reasoning`: short prompts with known answers in the seed's spirit (letter counting, trick questions,
decimal comparisons), kept as data in prompts/reasoning.jsonl.

Each record: id, prompt, answer, and optional `accept` (other spellings of a word answer). Numeric answers
are graded like gsm8k (nano_r1.grading.grade_math); word answers match whole words, case-insensitively.
strict = the last <answer> block holds the answer; flexible = the last number (numeric answers) or an
accepted word in the last 200 characters of the reply (word answers).
"""

from __future__ import annotations

import re

from nano_r1.grading import grade_math, is_number
from nano_r1.replyformat import answer_block
import prompts
from nano_r1.tasks.base import Item, Task, file_version
from nano_r1.tasks.math import MATH_METRICS
from nano_r1.tasks.sources import read_jsonl

DATA = prompts.path("reasoning.jsonl")
TAIL_CHARS = 200


def word_match(text: str | None, accepted: list[str]) -> bool:
    if not text:
        return False
    low = text.lower()
    return any(re.search(rf"(?<!\w){re.escape(a.lower())}(?!\w)", low) for a in accepted)


class Reasoning(Task):
    name = "reasoning"
    description = "short known-answer prompts: letter counting, trick questions, comparisons"
    metrics = MATH_METRICS

    def __init__(self):
        self.version = file_version("1", DATA)

    def items(self, data_dir):
        items = [Item(f"reasoning-{r['id']}", r["prompt"].strip(), str(r["answer"]),
                      {"kind": r.get("kind"), "accept": [str(r["answer"])] + list(r.get("accept", []))})
                 for r in read_jsonl(DATA, ("id", "prompt", "answer"))]
        self.sources = {"reasoning": {"from": str(DATA), "items": len(items)}}
        return items

    def score(self, completion, reference, meta, prompt=None):
        if is_number(reference):
            return grade_math(completion, reference)  # the same rule as gsm8k
        block = answer_block(completion or "")
        accepted = (meta or {}).get("accept") or [reference]
        strict = word_match(block, accepted)
        flexible = word_match((completion or "")[-TAIL_CHARS:], accepted)
        return {"correct": strict, "correct_flexible": flexible or strict, "parsed": block is not None}
