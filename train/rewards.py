"""A task's rubric (nano_r1/tasks/rubric.py) on TRL's side: each Reward as a `reward_funcs` callable.

TRL calls `reward_funcs(prompts, completions, answer=..., **kw)` with either strings or chat messages; the pure
rubric functions take the reply's text, the reference, the question and the whole prompt's text. Weights go to
GRPOConfig's `reward_weights` (train/grpo.py), so a weight-0 entry is logged as `rewards/<name>/mean` and never
moves the advantage. A reward that raises or returns None / NaN stops the run with one line naming it and the
completion (RewardError) — TRL would turn None into NaN and sum it away as 0.
"""

from __future__ import annotations

import math

from nano_r1.cliargs import ConfigError
from nano_r1.tasks.rubric import Reward


class RewardError(ConfigError):
    """A reward function that raised or returned no number: one line, the run stops (never a silent 0)."""


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


def trl_reward(reward: Reward):
    """Adapt one rubric entry to TRL's `reward_funcs(prompts, completions, answer=..., **kw)` signature."""
    name = reward.name

    def fn(prompts=None, completions=(), answer=None, **kwargs):
        refs = answer if answer is not None else [""] * len(completions)
        prompts = prompts if prompts and len(prompts) == len(completions) else [None] * len(completions)
        if name == "correctness" and callable(kwargs.get("log_extra")):
            kwargs["log_extra"]("reference", list(refs))  # TRL then keeps it beside each sample
        out = []
        for i, (p, c, r) in enumerate(zip(prompts, completions, refs)):
            try:
                value = reward.fn(completion_text(c), r, question_text(p), completion_text(p))
            except Exception as e:  # noqa: BLE001 — any failure of a reward is reported, with where it happened
                raise RewardError(f"reward {name} raised {type(e).__name__}: {e} {_where(i, p, r)}") from None
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise RewardError(f"reward {name} returned {value!r} instead of a number {_where(i, p, r)}; "
                                  "TRL would count it as 0")
            out.append(float(value))
        return out

    fn.__name__ = name  # TRL logs rewards/<__name__>
    return fn


def _where(index: int, prompt, reference) -> str:
    """Which completion of the batch: its index, the question (shortened) and the reference answer."""
    question = " ".join((question_text(prompt) or "").split())
    question = question if len(question) <= 80 else question[:77] + "..."
    return f"for completion {index} of the batch (question {question!r}, answer {reference!r})"
