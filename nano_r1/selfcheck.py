"""Self-checking as a number: does a reply's reasoning stop and re-check itself ("Wait, …", "let me verify")?

The seed's promise is the "aha moment": replies in which the trained model re-checks its own work. We count it
instead of eyeballing samples. The markers are data (prompts/selfcheck.txt, documented there). Only the
reasoning is searched (the <reasoning> block, or the reply without its <answer> block), quoted text is left out,
and a marker that the question itself contains does not count — the model may just be repeating it.

    from nano_r1.selfcheck import markers, self_checks
    self_checks("<reasoning>\\n3*4=12. Wait, the question says 5 pens.\\n</reasoning>")   # True

`aha_step` reads the per-step share of self-checking completions and names the first step after which it stays
clearly above where it started, or None.
"""

from __future__ import annotations

import functools
import re

import prompts
from nano_r1.replyformat import reasoning_block, without_answer

QUOTED = re.compile(r"\"[^\"\n]{0,400}\"|“[^”\n]{0,400}”")


@functools.lru_cache(maxsize=1)
def lexicon() -> tuple[tuple[str, re.Pattern], ...]:
    """(phrase, compiled pattern) for every line of prompts/selfcheck.txt."""
    out = []
    for line in prompts.read("selfcheck.txt").splitlines():
        phrase = line.strip().lower()
        if not phrase or phrase.startswith("#"):
            continue
        anchored = phrase.startswith("^")
        words = re.escape(phrase.lstrip("^").strip()).replace(r"\ ", r"\s+")
        body = rf"(?<![\w-]){words}(?![\w-])"
        out.append((phrase.lstrip("^").strip(), re.compile((rf"(?:^|(?<=[.!?:;\n]))\s*{body}" if anchored else body),
                                                          re.IGNORECASE | re.MULTILINE)))
    return tuple(out)


def reasoning_text(reply: str) -> str:
    """The part of a reply that reasons: the <reasoning> block, else the reply without its <answer> block."""
    inside = reasoning_block(reply or "")
    return inside if inside is not None else without_answer(reply)


def markers(reply: str, question: str | None = None) -> list[str]:
    """The lexicon phrases found in the reasoning (each once), in lexicon order."""
    text = QUOTED.sub(" ", reasoning_text(reply))
    asked = (question or "").lower()
    found = []
    for phrase, pattern in lexicon():
        if pattern.search(text) and not (asked and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", asked)):
            found.append(phrase)
    return found


def self_checks(reply: str, question: str | None = None) -> bool:
    return bool(markers(reply, question))


def reasoning_words(reply: str) -> int:
    """Length of the reasoning in words (0 without a <reasoning> block): the seed's "thinks longer" curve."""
    inside = reasoning_block(reply or "")
    return len(inside.split()) if inside else 0


def spans(reply: str) -> list[tuple[int, int]]:
    """Character spans of self-check markers in the whole reply (for highlighting answer cards)."""
    out = []
    for _, pattern in lexicon():
        out.extend(m.span() for m in pattern.finditer(reply or ""))
    return sorted(out)


def aha_step(points: list[tuple[int, float]], margin: float = 0.05, alpha: float = 0.1) -> int | None:
    """The first step from which the smoothed self-check share stays above its start + `margin` to the end.

    `points` are (step, share) pairs. The start is the mean of the first tenth of the run (at least 5 points);
    the smoothed share is a bias-corrected EMA. It must stay above the bar for at least the last tenth of the
    run, so a final blip is not an aha. None if it never rises clearly, or the run is too short to tell."""
    points = sorted(points)
    n = len(points)
    head = max(5, n // 10)
    if n < 2 * head:
        return None
    start = sum(s for _, s in points[:head]) / head
    bar = start + margin
    avg, smoothed = 0.0, []
    for i, (_, share) in enumerate(points, 1):
        avg = alpha * share + (1 - alpha) * avg
        smoothed.append(avg / (1 - (1 - alpha) ** i))
    first = None
    for i in range(n - 1, -1, -1):  # walk back from the end while above the bar
        if smoothed[i] <= bar:
            break
        first = i
    if first is None or first < head or n - first < head:
        return None
    return points[first][0]
