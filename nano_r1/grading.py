"""One grading path for training rewards and evaluation: answer extraction and equivalence.

Like lm-eval's gsm8k task, two extractions are kept apart so "learned the format" and "got more answers
right" stay separate:
  strict    the first number inside the last <answer>…</answer>
  flexible  the last number anywhere in the reply
Every entry point (training rewards, suites, evaluation during training, `python -m eval grade`) calls
`grade_math` below, so one reply always gets one verdict.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

from nano_r1.cliargs import ConfigError
from nano_r1.replyformat import answer_block

# A number as people write it: optional sign (also U+2212 '−', which typeset text and some models use), thousands
# commas, decimals ("-1,234.50", ".5", "−5").
NUMBER = re.compile(r"[-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-\u2212]?\.\d+")
MINUS = "\u2212"
GSM8K_REFERENCE = re.compile(r"####[ \t]*(.*?)\s*$", re.DOTALL)
TOLERANCE = 1e-6
FRACTION = re.compile(r"-?\d+\s*/\s*\d+")
THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # '1,000' and '-12,345.5'; '1,2,3' is a list
PLAIN = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)  # ASCII digits only: a full-width '５' is rewritten as '5'


def to_float(number: str) -> float:
    """A NUMBER match as a float: '1,234' → 1234.0, '−5' → -5.0."""
    return float(number.replace(",", "").replace(MINUS, "-"))


def parse_number(text: str | None) -> float | None:
    """First number in `text` ("$1,000" → 1000, "100 ounces" → 100), or None."""
    if not text:
        return None
    m = NUMBER.search(text)
    if not m:
        return None
    try:
        return to_float(m.group(0))
    except ValueError:
        return None


def last_number(text: str | None) -> float | None:
    if not text:
        return None
    found = NUMBER.findall(text)
    return to_float(found[-1]) if found else None


def strict_answer(text: str) -> float | None:
    """The number the model committed to in its last <answer> block."""
    return parse_number(answer_block(text))


def flexible_answer(text: str) -> float | None:
    return last_number(text)


def reference_number(text, at: str, required: bool = False) -> str | None:
    """A reference's number as plain decimal text, the form every grader compares: '1,000', '1_000' and '1e3' →
    '1000', '3/4' → '0.75', '-2.5' (and '−2.5', U+2212), full-width '５' → '5', '$5' (GSM8K's currency sign) → '5'; plain decimals come back unchanged.

    A reference no grader could match is a ConfigError naming `at` (file:line): empty, nan or inf, too large for a
    float (1e400), a division by zero ('3/0'), or, when `required` (GSM8K), not a number at all ('red', the list
    '1,2,3'). Otherwise such text gives None: a LaTeX or list answer, left to math-verify. Numbers are read here,
    not by math-verify, whose parse reads '1e3' as 1 and '1,2,3' as 1.2.
    """
    s = str(text).strip().replace(MINUS, "-")
    if not s:
        raise ConfigError(f"{at}: the reference is empty")
    s = re.sub(r"^([-+]?)\s*\$\s*", r"\1", s)
    s = s.replace(",", "") if THOUSANDS.fullmatch(s) else s
    try:
        value = float(Fraction(re.sub(r"\s*/\s*", "/", s))) if "/" in s else float(s)
    except ZeroDivisionError:
        raise ConfigError(f"{at}: the reference {text!r} divides by zero") from None
    except OverflowError:
        value = math.inf
    except ValueError:
        if required:
            raise ConfigError(f"{at}: the reference {text!r} is not a number") from None
        return None
    if not math.isfinite(value):
        why = "is not a finite number" if re.search("nan|inf", s, re.I) else "is too large for a float"
        raise ConfigError(f"{at}: the reference {text!r} {why}")
    if PLAIN.fullmatch(s):
        return s  # exact digits, as written
    return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")


def gsm8k_reference(answer: str, at: str) -> str:
    """'…#### 1,234' → '1234': GSM8K's reference format, its number required (reference_number)."""
    m = GSM8K_REFERENCE.search(answer or "")
    if not m:
        raise ConfigError(f"{at}: the answer has no '#### N' line (not GSM8K format); end it with '#### 42'")
    return reference_number(m.group(1), at, required=True)


def numbers_equal(a: float | None, b: float | str | None) -> bool:
    if a is None or b is None:
        return False
    if isinstance(b, str):
        b = parse_number(b)
        if b is None:
            return False
    return abs(a - b) <= TOLERANCE * max(1.0, abs(b))


def is_number(text: str) -> bool:
    """'1,234' and '-0.5' are numbers; '2,1' (a pair) and '\\frac{1}{2}' are not."""
    return bool(NUMBER.fullmatch((text or "").strip()))


def math_equal(prediction: str, reference: str) -> bool:
    """LaTeX/symbolic equivalence through math-verify (MATH-500 style answers).

    The reference is wrapped in $…$ so math-verify reads it as LaTeX; the prediction is parsed as written
    when it already has $ or \\boxed (math-verify then takes the boxed / last expression), else wrapped too.
    """
    from math_verify import parse, verify

    prediction = (prediction or "").strip()
    if not prediction or not (reference or "").strip():
        return False
    try:
        gold = parse(f"${reference}$")
        pred = parse(prediction if "$" in prediction or "\\boxed" in prediction else f"${prediction}$")
        return bool(gold and pred and verify(gold, pred))
    except Exception:  # math-verify can raise on exotic expressions: count as wrong, not crash
        return False


def looks_symbolic(text: str | None) -> bool:
    """LaTeX or a bare fraction ('\\frac12', 'x^2', '3/4'): worth a math-verify check when numbers disagree.
    A '$' alone is not: in GSM8K it is a currency sign ("$40 - $2 = $20" must be graded on its first number)."""
    return bool(text) and (any(c in text for c in "\\^") or bool(FRACTION.fullmatch(text.strip())))


def strict_correct(completion: str, reference: str) -> bool:
    """The strict verdict alone (what the training reward needs, without the flexible view's math-verify)."""
    completion, reference = completion or "", str(reference).strip()
    block = answer_block(completion)
    if is_number(reference):
        return numbers_equal(strict_answer(completion), parse_number(reference)) or (
            looks_symbolic(block) and math_equal(block, reference))
    return block is not None and math_equal(block, reference)


def grade_math(completion: str, reference: str) -> dict:
    """Verdicts for one reply — the one rule every entry point uses (rewards, suites, in-training eval, regrade).

      correct           strict: what the model put in its last <answer> block (the training reward's view)
      correct_flexible  the last number anywhere (numeric references), or math-verify over the whole reply
                        (it prefers the last \\boxed{}); so a right answer in the wrong format still counts
      parsed            the reply has an <answer> block
    Numeric references compare as numbers (1e-6); only an answer written symbolically ('\\frac12' for 0.5)
    also gets a math-verify check.
    """
    completion, reference = completion or "", str(reference).strip()
    block = answer_block(completion)
    strict = strict_correct(completion, reference)
    if is_number(reference):
        flexible = numbers_equal(flexible_answer(completion), parse_number(reference)) or (
            looks_symbolic(completion) and math_equal(completion, reference))
    else:
        flexible = strict or math_equal(completion, reference)
    return {"correct": strict, "correct_flexible": flexible, "parsed": block is not None}
