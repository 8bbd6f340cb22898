"""The reply format every stage speaks: reasoning inside <reasoning> tags, then the answer inside <answer> tags.

    <reasoning>
    ...
    </reasoning>
    <answer>
    42
    </answer>

This module is the only product code that spells the tags. The format rewards (train/rewards.py), the graders
(nano_r1/grading.py), self-check detection, the refusal grader, the one-shot example (nano_r1/chat.py), serve's
vLLM reasoning parser and its client examples all take them from here, so changing the format is one edit here
and one in the system prompt (prompts/system.txt, data that tests check against these constants).
"""

from __future__ import annotations

import re

REASONING_OPEN, REASONING_CLOSE = "<reasoning>", "</reasoning>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"

_RO, _RC, _AO, _AC = (re.escape(t) for t in (REASONING_OPEN, REASONING_CLOSE, ANSWER_OPEN, ANSWER_CLOSE))
ANSWER_BLOCK = re.compile(rf"{_AO}(.*?){_AC}", re.DOTALL)
REASONING_BLOCK = re.compile(rf"{_RO}(.*?){_RC}", re.DOTALL)
# strict: exactly the canonical layout, nothing around it (the seed's pattern, with DOTALL so multi-line reasoning
# matches and the final newline optional); soft: both blocks in order, whitespace free.
STRICT = re.compile(rf"^{_RO}\n.*?\n{_RC}\n{_AO}\n.*?\n{_AC}\n?$", re.DOTALL)
SOFT = re.compile(rf"^\s*{_RO}.*?{_RC}\s*{_AO}.*?{_AC}", re.DOTALL)
# The four tag pieces in their canonical places, each worth a part of the seed's xmlcount reward.
XML_PIECES = (f"{REASONING_OPEN}\n", f"\n{REASONING_CLOSE}\n", f"\n{ANSWER_OPEN}\n", f"\n{ANSWER_CLOSE}")


def render(reasoning: str, answer: str) -> str:
    """A reply in the canonical layout (the one-shot example, and a split reply put back together)."""
    return f"{REASONING_OPEN}\n{reasoning}\n{REASONING_CLOSE}\n{ANSWER_OPEN}\n{answer}\n{ANSWER_CLOSE}"


def answer_block(text: str) -> str | None:
    """Content of the last complete <answer>…</answer> block, or None."""
    blocks = ANSWER_BLOCK.findall(text or "")
    return blocks[-1] if blocks else None


def reasoning_block(text: str) -> str | None:
    blocks = REASONING_BLOCK.findall(text or "")
    return blocks[-1] if blocks else None


def without_answer(text: str) -> str:
    """The reply with its answer blocks blanked out (what reasons when there is no reasoning block)."""
    return ANSWER_BLOCK.sub(" ", text or "")


def strip_tags(text: str) -> str:
    """The reply's words without the four tags (what a reader of the reply sees)."""
    for tag in (REASONING_OPEN, REASONING_CLOSE, ANSWER_OPEN, ANSWER_CLOSE):
        text = text.replace(tag, " ")
    return text


def join_reasoning(reasoning: str | None, content: str) -> str:
    """The reply as the model wrote it, from a server that split it (`python -m serve`'s reasoning parser puts
    the text inside the reasoning tags in `message.reasoning` and the rest in `message.content`), in the
    canonical layout, so graders, self-check and cards see the reasoning that training saw."""
    if reasoning is None:
        return content or ""
    return f"{REASONING_OPEN}\n{reasoning}\n{REASONING_CLOSE}\n{content or ''}"


def is_strict(text: str) -> bool:
    return bool(STRICT.match(text or ""))


def is_soft(text: str) -> bool:
    return bool(SOFT.match(text or ""))
