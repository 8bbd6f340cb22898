"""One grading path for training rewards and evaluation: answer extraction and equivalence.

Like lm-eval's gsm8k task, two extractions are kept apart so "learned the format" and "got more answers
right" stay separate:
  strict    the first number inside the last <answer>…</answer>
  flexible  the last number anywhere in the reply
`python -m eval grade --grader math` uses `grade_math` below.
"""

from __future__ import annotations

import re

ANSWER_BLOCK = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
REASONING_BLOCK = re.compile(r"<reasoning>(.*?)</reasoning>", re.DOTALL)
# A number as people write it: optional sign, thousands commas, decimals ("-1,234.50", ".5").
NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+")
GSM8K_REFERENCE = re.compile(r"####\s*(.+?)\s*$", re.DOTALL)
TOLERANCE = 1e-6


def answer_block(text: str) -> str | None:
    """Content of the last complete <answer>…</answer> block, or None."""
    blocks = ANSWER_BLOCK.findall(text or "")
    return blocks[-1] if blocks else None


def reasoning_block(text: str) -> str | None:
    blocks = REASONING_BLOCK.findall(text or "")
    return blocks[-1] if blocks else None


def parse_number(text: str | None) -> float | None:
    """First number in `text` ("$1,000" → 1000, "100 ounces" → 100), or None."""
    if not text:
        return None
    m = NUMBER.search(text)
    if not m:
        return None
    try:
        return float(m.group(0).replace(",", ""))
    except ValueError:
        return None


def last_number(text: str | None) -> float | None:
    if not text:
        return None
    found = NUMBER.findall(text)
    return float(found[-1].replace(",", "")) if found else None


def strict_answer(text: str) -> float | None:
    """The number the model committed to in its last <answer> block."""
    return parse_number(answer_block(text))


def flexible_answer(text: str) -> float | None:
    return last_number(text)


def gsm8k_reference(answer: str) -> str:
    """'…#### 1,234' → '1234' (GSM8K's reference format)."""
    m = GSM8K_REFERENCE.search(answer or "")
    if not m:
        raise ValueError("GSM8K answer has no '#### N' line")
    return m.group(1).replace(",", "").strip()


def numbers_equal(a: float | None, b: float | str | None) -> bool:
    if a is None or b is None:
        return False
    if isinstance(b, str):
        b = parse_number(b)
        if b is None:
            return False
    return abs(a - b) <= TOLERANCE * max(1.0, abs(b))


def math_equal(prediction: str, reference: str) -> bool:
    """LaTeX/symbolic equivalence through math-verify (MATH-500 style answers)."""
    from math_verify import parse, verify

    gold = parse(f"${reference}$")
    pred = parse(prediction if "$" in prediction or "\\boxed" in prediction else f"${prediction}$")
    if not gold or not pred:
        return False
    try:
        return bool(verify(gold, pred))
    except Exception:  # math-verify can raise on exotic expressions: count as wrong, not crash
        return False


def grade_math(completion: str, reference: str) -> dict:
    """Verdicts for one reply: strict (<answer> number), flexible (last number) and symbolic."""
    ref_num = parse_number(reference) if NUMBER.fullmatch(reference.replace(",", "").strip() or "x") else None
    block = answer_block(completion)
    if ref_num is not None:
        strict = numbers_equal(strict_answer(completion), ref_num)
        flexible = numbers_equal(flexible_answer(completion), ref_num)
    else:
        strict = block is not None and math_equal(block.strip(), reference)
        flexible = strict or math_equal(completion, reference)
    return {"correct": strict, "correct_flexible": flexible, "parsed": block is not None}
