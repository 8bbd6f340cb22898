"""A task's rubric (nano_r1/tasks/rubric.py) on TRL's side: each Reward as a `reward_funcs` callable.

TRL calls `reward_funcs(prompts, completions, answer=..., **kw)` with either strings or chat messages; the pure
rubric functions take the reply's text, the reference and the question. Weights go to GRPOConfig's
`reward_weights` (train/grpo.py), so a weight-0 entry is logged as `rewards/<name>/mean` and never moves the
advantage.
"""

from __future__ import annotations

from nano_r1.tasks.rubric import Reward


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

    def fn(prompts=None, completions=(), answer=None, **kwargs):
        refs = answer if answer is not None else [""] * len(completions)
        if reward.name == "correctness" and callable(kwargs.get("log_extra")):
            kwargs["log_extra"]("reference", list(refs))  # TRL then keeps it beside each sample
        questions = [question_text(p) for p in (prompts or [None] * len(completions))]
        return [reward.fn(completion_text(c), r, q) for c, r, q in zip(completions, refs, questions)]

    fn.__name__ = reward.name  # TRL logs rewards/<__name__>
    return fn
