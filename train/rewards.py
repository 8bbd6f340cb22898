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

The weight-0 metrics beside them are logged, never rewarded: among them the format-hacking signatures (a tag
repeated, an answer without reasoning, reasoning copied from the prompt) that train/guards.py watches. A reward
that raises or returns None / NaN stops the run with one line naming it and the completion (RewardError) —
TRL would turn None into NaN and sum it away as 0.
"""

from __future__ import annotations

import math
import re

from nano_r1 import selfcheck
from nano_r1.cliargs import ConfigError
from nano_r1.grading import answer_block, reasoning_block, strict_answer
from nano_r1.tasks.math import GSM8K

TASK = GSM8K()

STRICT = re.compile(r"^<reasoning>\n.*?\n</reasoning>\n<answer>\n.*?\n</answer>\n?$", re.DOTALL)
SOFT = re.compile(r"^\s*<reasoning>.*?</reasoning>\s*<answer>.*?</answer>", re.DOTALL)
CHARS_PER_TOKEN = 4
LENGTH_CAP = 1.0
TAGS = ("<reasoning>", "</reasoning>", "<answer>", "</answer>")
# Fewer words than this inside <reasoning> is no reasoning ("<reasoning>\n</reasoning>", "<reasoning>42</reasoning>").
MIN_REASONING_WORDS = 3
# Reasoning counts as copied from the prompt when this share of its word n-grams occur in the prompt (the question,
# the one-shot example, the system prompt): restating the question first is fine, only restating is not.
COPY_NGRAM = 4
COPY_SHARE = 0.8


class RewardError(ConfigError):
    """A reward function that raised or returned no number: one line, the run stops (never a silent 0)."""


def correctness(text: str, reference: str) -> float:
    return 2.0 if TASK.correct(text, reference) else 0.0


def strict_format(text: str, reference: str = "") -> float:
    return 0.5 if STRICT.match(text or "") else 0.0


def soft_format(text: str, reference: str = "") -> float:
    return 0.5 if SOFT.match(text or "") else 0.0


def xmlcount(text: str, reference: str = "") -> float:
    text = text or ""
    # Text after the final </answer> (one newline allowed) is penalised 0.001/char, once for each of the
    # two answer tags as in the seed. The seed split on "\n</answer>\n", so a reply ending right at
    # </answer> was charged for its whole length; we measure only what follows the tag.
    after = text.rsplit("</answer>", 1)[-1] if "</answer>" in text else ""
    after = after[1:] if after.startswith("\n") else after
    score = 0.0
    if text.count("<reasoning>\n") == 1:
        score += 0.125
    if text.count("\n</reasoning>\n") == 1:
        score += 0.125
    if text.count("\n<answer>\n") == 1:
        score += 0.125 - len(after) * 0.001
    if text.count("\n</answer>") == 1:
        score += 0.125 - len(after) * 0.001
    return score


def length(text: str, reference: str = "", max_completion_length: int = 1024) -> float:
    inside = reasoning_block(text or "")
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


def tags_repeated(text: str, reference: str = "") -> float:
    """Not a reward (weight 0): 1 if a format tag occurs more than once (tag stuffing games xmlcount/soft_format)."""
    return 1.0 if any((text or "").count(tag) > 1 for tag in TAGS) else 0.0


def answer_no_reasoning(text: str, reference: str = "") -> float:
    """Not a reward (weight 0): 1 if an <answer> block comes with no reasoning (missing, or < MIN_REASONING_WORDS)."""
    if answer_block(text or "") is None:
        return 0.0
    inside = reasoning_block(text or "")
    return 1.0 if inside is None or len(inside.split()) < MIN_REASONING_WORDS else 0.0


def reasoning_copied(text: str, reference: str = "", prompt: str | None = None) -> float:
    """Not a reward (weight 0): 1 if the reasoning is (almost) all word n-grams of the prompt: copied, not reasoned."""
    grams = _ngrams(reasoning_block(text or "") or "")
    if not grams or not prompt:
        return 0.0
    source = set(_ngrams(prompt))
    return 1.0 if sum(g in source for g in grams) >= COPY_SHARE * len(grams) else 0.0


def _ngrams(text: str) -> list[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return [tuple(words[i:i + COPY_NGRAM]) for i in range(len(words) - COPY_NGRAM + 1)]


REWARDS = {
    "xmlcount": xmlcount,
    "soft_format": soft_format,
    "strict_format": strict_format,
    "correctness": correctness,
    "length": length,
}
# Logged through TRL's reward machinery with weight 0, so they never move the advantage.
METRICS = {"answer_parsed": answer_parsed, "self_check": self_check, "reasoning_words": reasoning_words,
           "tags_repeated": tags_repeated, "answer_no_reasoning": answer_no_reasoning,
           "reasoning_copied": reasoning_copied}


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


def trl_reward(name: str, max_completion_length: int = 1024, fn=None):
    """Adapt a pure reward (`fn`, default the one named) to TRL's `reward_funcs(prompts, completions, answer=...)`."""
    fn = fn or {**REWARDS, **METRICS}[name]

    def reward(prompts=None, completions=(), answer=None, **kwargs):
        refs = answer if answer is not None else [""] * len(completions)
        prompts = prompts if prompts and len(prompts) == len(completions) else [None] * len(completions)
        if name == "correctness" and callable(kwargs.get("log_extra")):
            kwargs["log_extra"]("reference", list(refs))  # TRL then keeps it beside each sample
        out = []
        for i, (p, c, r) in enumerate(zip(prompts, completions, refs)):
            args = (completion_text(c), r)
            if name == "length":
                args += (max_completion_length,)
            elif name == "self_check":
                args += (question_text(p),)
            elif name == "reasoning_copied":
                args += (completion_text(p),)
            try:
                value = fn(*args)
            except Exception as e:  # noqa: BLE001 — any failure of a reward is reported, with where it happened
                raise RewardError(f"reward {name} raised {type(e).__name__}: {e} {_where(i, p, r)}") from None
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise RewardError(f"reward {name} returned {value!r} instead of a number {_where(i, p, r)}; "
                                  "TRL would count it as 0")
            out.append(float(value))
        return out

    reward.__name__ = name  # TRL logs rewards/<__name__>
    return reward


def _where(index: int, prompt, reference) -> str:
    """Which completion of the batch: its index, the question (shortened) and the reference answer."""
    question = " ".join((question_text(prompt) or "").split())
    question = question if len(question) <= 80 else question[:77] + "..."
    return f"for completion {index} of the batch (question {question!r}, answer {reference!r})"
