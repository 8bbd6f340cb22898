"""The five rewards of the nano-r1 recipe as pure functions of (completion text, reference).

Each returns a float and never raises, whatever the text. `trl_reward(name)` adapts one to TRL's
`reward_funcs` signature. Where we depart from the seed (willccbb's GRPO demo) and why:

- strict_format: the seed's pattern had no re.DOTALL, so multi-line reasoning (i.e. all real reasoning)
  never matched; we anchor it, use DOTALL and make the final newline optional.
- soft_format: same DOTALL fix; leading whitespace allowed.
- correctness: the seed compared strings exactly ("$100" ≠ "100"); we use the GSM8K task's own grader
  (nano_r1/tasks/math.py → nano_r1.grading.grade_math, strict view): the first number in the last <answer>
  block against the reference within 1e-6 — the verdict `python -m eval --suite gsm8k` reports.
- length: the seed counted the whole reply when tags were missing and was uncapped, which pays the model
  for rambling into the token limit (where the answer is cut off). We count only characters inside
  <reasoning> and cap at 1.0 — half the seed's nominal maximum of 2·(4·max_tokens)/(4·max_tokens).
- xmlcount: the seed's 0.125 per well-placed tag piece and -0.001 per char after </answer>, except that the
  seed charged a reply ending exactly at </answer> (no final newline) for its whole length; we don't.
"""

from __future__ import annotations

from nano_r1 import replyformat, selfcheck
from nano_r1.grading import strict_answer
from nano_r1.tasks.math import GSM8K

TASK = GSM8K()

CHARS_PER_TOKEN = 4
LENGTH_CAP = 1.0


def correctness(text: str, reference: str) -> float:
    return 2.0 if TASK.correct(text, reference) else 0.0


def strict_format(text: str, reference: str = "") -> float:
    return 0.5 if replyformat.is_strict(text) else 0.0


def soft_format(text: str, reference: str = "") -> float:
    return 0.5 if replyformat.is_soft(text) else 0.0


def xmlcount(text: str, reference: str = "") -> float:
    text = text or ""
    # Text after the final answer tag (one newline allowed) is penalised 0.001/char, once for each of the
    # two answer tags as in the seed. The seed split on the closing tag with newlines around it, so a reply ending
    # right at the tag was charged for its whole length; we measure only what follows the tag.
    close = replyformat.ANSWER_CLOSE
    after = text.rsplit(close, 1)[-1] if close in text else ""
    after = after[1:] if after.startswith("\n") else after
    score = 0.0
    for i, piece in enumerate(replyformat.XML_PIECES):
        if text.count(piece) == 1:
            score += 0.125 - (len(after) * 0.001 if i >= 2 else 0.0)  # the two answer pieces pay for the tail
    return score


def length(text: str, reference: str = "", max_completion_length: int = 1024) -> float:
    inside = replyformat.reasoning_block(text or "")
    if inside is None:
        return 0.0
    return min(LENGTH_CAP, 2.0 * len(inside.strip()) / (max_completion_length * CHARS_PER_TOKEN))


def answer_parsed(text: str, reference: str = "") -> float:
    """Not a reward (weight 0): the rate of replies with a parseable <answer> number, logged as a metric."""
    return 1.0 if strict_answer(text) is not None else 0.0


def self_check(text: str, reference: str = "", question: str | None = None) -> float:
    """Not a reward (weight 0): 1 if the reasoning re-checks itself ("Wait, …"; nano_r1/selfcheck.py)."""
    return 1.0 if selfcheck.self_checks(text, question) else 0.0


def reasoning_words(text: str, reference: str = "") -> float:
    """Not a reward (weight 0): words inside <reasoning> — the seed's "thinks longer" curve."""
    return float(selfcheck.reasoning_words(text))


REWARDS = {
    "xmlcount": xmlcount,
    "soft_format": soft_format,
    "strict_format": strict_format,
    "correctness": correctness,
    "length": length,
}
# Logged through TRL's reward machinery with weight 0, so they never move the advantage.
METRICS = {"answer_parsed": answer_parsed, "self_check": self_check, "reasoning_words": reasoning_words}


def completion_text(completion) -> str:
    """TRL passes either a string or a list of chat messages per completion."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        return "".join(m.get("content") or "" for m in completion if isinstance(m, dict))
    return ""


def question_text(prompt) -> str | None:
    """The last user message of a conversational prompt (the question, not the one-shot example)."""
    if isinstance(prompt, list):
        users = [m.get("content") for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        return users[-1] if users else None
    return prompt if isinstance(prompt, str) else None


def trl_reward(name: str, max_completion_length: int = 1024):
    """Adapt a pure reward to TRL's `reward_funcs(prompts, completions, answer=..., **kw)` signature."""
    fn = {**REWARDS, **METRICS}[name]

    def reward(prompts=None, completions=(), answer=None, **kwargs):
        refs = answer if answer is not None else [""] * len(completions)
        if name == "correctness" and callable(kwargs.get("log_extra")):
            kwargs["log_extra"]("reference", list(refs))  # TRL then keeps it beside each sample
        if name == "length":
            return [fn(completion_text(c), r, max_completion_length) for c, r in zip(completions, refs)]
        if name == "self_check":
            questions = [question_text(p) for p in (prompts or [None] * len(completions))]
            return [fn(completion_text(c), r, q) for c, r, q in zip(completions, refs, questions)]
        return [fn(completion_text(c), r) for c, r in zip(completions, refs)]

    reward.__name__ = name  # TRL logs rewards/<__name__>
    return reward
