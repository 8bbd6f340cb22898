"""The math tasks' rubric: the recipe's five rewards and the weight-0 metrics, as pure functions of a reply.

A Task's `rubric()` is a list of `Reward(name, fn, weight)`; training hands it to TRL as `reward_funcs` with
`reward_weights` (weight 0 = logged as a metric, never in the advantage), and charts read the weights from the
run's config instead of undoing them by hand. Every function is `fn(text, reference, question, prompt) -> float` and never
raises, whatever the text. The weight-0 metrics include the format-hacking signatures that train/guards.py
watches: a tag repeated, an answer without reasoning, reasoning copied from the prompt. Where we depart from the seed (willccbb's GRPO demo) and why:

- strict_format: the seed's pattern had no re.DOTALL, so multi-line reasoning (i.e. all real reasoning)
  never matched; we anchor it, use DOTALL and make the final newline optional (nano_r1/replyformat.py).
- soft_format: same DOTALL fix; leading whitespace allowed.
- correctness: the seed compared strings exactly ("$100" ≠ "100"); we use the task's own strict grader
  (nano_r1.grading.strict_correct): the first number in the last answer block against the reference within
  1e-6 — the verdict `python -m eval --suite gsm8k` reports. 1 when right, weighted 2.0 as in the seed.
- length: the seed counted the whole reply when tags were missing and was uncapped, which pays the model
  for rambling into the token limit (where the answer is cut off). We count only characters inside the
  reasoning block and cap at 1.0 — half the seed's nominal maximum of 2·(4·max_tokens)/(4·max_tokens).
- xmlcount: the seed's 0.125 per well-placed tag piece and -0.001 per char after the closing answer tag, except
  that the seed charged a reply ending exactly at that tag (no final newline) for its whole length; we don't.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from nano_r1 import replyformat, selfcheck
from nano_r1.grading import strict_answer, strict_correct

CHARS_PER_TOKEN = 4
LENGTH_CAP = 1.0
CORRECTNESS_WEIGHT = 2.0  # the seed's 2.0 for a right answer
TAGS = (replyformat.REASONING_OPEN, replyformat.REASONING_CLOSE, replyformat.ANSWER_OPEN, replyformat.ANSWER_CLOSE)
# Fewer words than this inside the reasoning block is no reasoning (an empty block, or just the number).
MIN_REASONING_WORDS = 3
# Reasoning counts as copied from the prompt when this share of its word n-grams occur in the prompt (the question,
# the one-shot example, the system prompt): restating the question first is fine, only restating is not.
COPY_NGRAM = 4
COPY_SHARE = 0.8


@dataclass(frozen=True)
class Reward:
    name: str                                            # logged by TRL as rewards/<name>/mean
    fn: Callable[..., float]    # (reply text, reference, question, whole prompt text) -> score
    weight: float                                        # 0: a metric, never in the advantage


def correctness(text: str, reference: str, question: str | None = None, prompt: str | None = None) -> float:
    return 1.0 if strict_correct(text or "", reference) else 0.0


def strict_format(text: str, reference: str = "", question: str | None = None, prompt: str | None = None) -> float:
    return 0.5 if replyformat.is_strict(text) else 0.0


def soft_format(text: str, reference: str = "", question: str | None = None, prompt: str | None = None) -> float:
    return 0.5 if replyformat.is_soft(text) else 0.0


def xmlcount(text: str, reference: str = "", question: str | None = None, prompt: str | None = None) -> float:
    text = text or ""
    # Text after the final answer tag (one newline allowed) is penalised 0.001/char, once for each of the
    # two answer pieces as in the seed. The seed split on the closing tag with newlines around it, so a reply
    # ending right at the tag was charged for its whole length; we measure only what follows the tag.
    close = replyformat.ANSWER_CLOSE
    after = text.rsplit(close, 1)[-1] if close in text else ""
    after = after[1:] if after.startswith("\n") else after
    score = 0.0
    for i, piece in enumerate(replyformat.XML_PIECES):
        if text.count(piece) == 1:
            score += 0.125 - (len(after) * 0.001 if i >= 2 else 0.0)  # the two answer pieces pay for the tail
    return score


def length(text: str, reference: str = "", question: str | None = None, prompt: str | None = None,
           max_completion_length: int = 1024) -> float:
    inside = replyformat.reasoning_block(text or "")
    if inside is None:
        return 0.0
    return min(LENGTH_CAP, 2.0 * len(inside.strip()) / (max_completion_length * CHARS_PER_TOKEN))


def answer_parsed(text: str, reference: str = "", question: str | None = None, prompt: str | None = None) -> float:
    """A metric: the rate of replies with a parseable answer number."""
    return 1.0 if strict_answer(text) is not None else 0.0


def self_check(text: str, reference: str = "", question: str | None = None, prompt: str | None = None) -> float:
    """A metric: 1 if the reasoning re-checks itself ("Wait, …"; nano_r1/selfcheck.py)."""
    return 1.0 if selfcheck.self_checks(text, question) else 0.0


def reasoning_words(text: str, reference: str = "", question: str | None = None, prompt: str | None = None) -> float:
    """A metric: words inside the reasoning block — the seed's "thinks longer" curve."""
    return float(selfcheck.reasoning_words(text))


def tags_repeated(text: str, reference: str = "", question: str | None = None, prompt: str | None = None) -> float:
    """A metric: 1 if a format tag occurs more than once (tag stuffing games xmlcount/soft_format)."""
    return 1.0 if any((text or "").count(tag) > 1 for tag in TAGS) else 0.0


def answer_no_reasoning(text: str, reference: str = "", question: str | None = None,
                        prompt: str | None = None) -> float:
    """A metric: 1 if an answer block comes with no reasoning (missing, or < MIN_REASONING_WORDS)."""
    if replyformat.answer_block(text or "") is None:
        return 0.0
    inside = replyformat.reasoning_block(text or "")
    return 1.0 if inside is None or len(inside.split()) < MIN_REASONING_WORDS else 0.0


def reasoning_copied(text: str, reference: str = "", question: str | None = None, prompt: str | None = None) -> float:
    """A metric: 1 if the reasoning is (almost) all word n-grams of the prompt: copied, not reasoned."""
    grams = _ngrams(replyformat.reasoning_block(text or "") or "")
    if not grams or not prompt:
        return 0.0
    source = set(_ngrams(prompt))
    return 1.0 if sum(g in source for g in grams) >= COPY_SHARE * len(grams) else 0.0


def _ngrams(text: str) -> list[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return [tuple(words[i:i + COPY_NGRAM]) for i in range(len(words) - COPY_NGRAM + 1)]


def math_rubric(max_completion_length: int = 1024) -> list[Reward]:
    """The recipe's rubric, in the order TRL logs it: five rewards, then the weight-0 metrics."""
    def length_reward(text, reference="", question=None, prompt=None):
        return length(text, reference, question, prompt, max_completion_length)

    return [Reward("xmlcount", xmlcount, 1.0), Reward("soft_format", soft_format, 1.0),
            Reward("strict_format", strict_format, 1.0), Reward("correctness", correctness, CORRECTNESS_WEIGHT),
            Reward("length", length_reward, 1.0),
            Reward("answer_parsed", answer_parsed, 0.0), Reward("self_check", self_check, 0.0),
            Reward("reasoning_words", reasoning_words, 0.0), Reward("tags_repeated", tags_repeated, 0.0),
            Reward("answer_no_reasoning", answer_no_reasoning, 0.0), Reward("reasoning_copied", reasoning_copied, 0.0)]
