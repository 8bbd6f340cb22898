"""Guards: a run that is not learning, or is learning the wrong thing, says so once, at the step it happens.

    python -m train --preset tiny --max-completion-length 8 --max-steps 3    # trips `clipped` at step 3

`scan(rows, settings)` reads the metrics history (metrics.jsonl rows: TRL's logs, the weight-0 metrics of
nano_r1/tasks/rubric.py, eval/* from train/evaluate.py) and returns each kind of failure at the first step it tripped.
It is pure, so every threshold below is table-tested (tests/test_guards.py). train/callbacks.py's Guard runs it
after every logged step and prints each new kind once as a `warning:` line; the run folder keeps them in
warnings.jsonl, which summary.json (`warnings`) and chart.png (a marker at the step) read.
`template_prefill` checks once at start that the chat template does not pre-fill text into the assistant turn.

Kinds: clipped, zero_variance, tags_repeated, answer_no_reasoning, reasoning_copied, eval_falling, kl, entropy,
chat_template. The failures are the ones GRPO users keep reporting (issue 29).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from nano_r1.replyformat import ANSWER_OPEN, REASONING_OPEN
from train.dynamic_sampling import DYNAMIC_SAMPLING_MAX_ROUNDS

# Completions cut at --max-completion-length: "all or most" is this share (TRL's completions/clipped_ratio), for
# this many logged steps in a row. A cut reply has no closing tags and no answer, so its rewards are 0.
CLIPPED_SHARE = 0.75
CLIPPED_STEPS = 3
# Groups whose completions all scored the same (TRL's frac_reward_zero_std): their advantage, hence their
# gradient, is 0. "Most groups", for this many logged steps in a row.
ZERO_STD_SHARE = 0.75
ZERO_STD_STEPS = 3
# Format-hacking signatures (the weight-0 metrics rewards/<name>/mean, a share of completions): rising means the
# mean over the last HACK_WINDOW logged steps is at least HACK_SHARE and HACK_RISE above the first HACK_WINDOW.
HACKS = {"tags_repeated": f"repeat a format tag ({REASONING_OPEN}/{ANSWER_OPEN} more than once)",
         "answer_no_reasoning": f"give an {ANSWER_OPEN} without reasoning",
         "reasoning_copied": "copy their reasoning from the prompt"}
HACK_WINDOW = 5
HACK_SHARE = 0.3
HACK_RISE = 0.2
# Held-out accuracy (eval/accuracy_strict, every --eval-every steps) at least EVAL_DROP below its best earlier value
# while the mean training reward over the REWARD_WINDOW logged steps before it rose by REWARD_RISE over the window
# before that best evaluation (after it, for the evaluation at step 0). 0.10 is about 2 standard errors of a
# 50% accuracy on the default 128 held-out problems.
EVAL_KEY = "eval/accuracy_strict"
EVAL_DROP = 0.10
REWARD_WINDOW = 5
REWARD_RISE = 0.10
# Per-token KL to the base model (TRL's `kl`, logged when --beta > 0) and the policy's per-token entropy in nats
# (TRL's `entropy`, at the sampling temperature) outside these bounds for RANGE_STEPS logged steps in a row; a NaN
# or infinite value trips at once. KL above 1 nat a token is a policy far from its base (runs that learn stay near
# 0.01–0.1 with LoRA); entropy below 0.05 is a policy sampling one reply (its groups stop differing), above 5.0 is
# near-random text (uniform over SmolLM2's 49k vocabulary would be 10.8).
KL_MAX = 1.0
ENTROPY_MIN = 0.05
ENTROPY_MAX = 5.0
RANGE_STEPS = 3
# The test conversation `template_prefill` renders.
PROBE_QUESTION, PROBE_REPLY, PROBE_FOLLOW_UP = "What is 2 + 2?", "PROBE-REPLY-4", "And 3 + 3?"


@dataclass(frozen=True)
class RunWarning:
    step: int
    kind: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    """The few run settings the messages name."""
    max_completion_length: int = 1024
    num_generations: int = 12
    dynamic_sampling: bool = False

    @classmethod
    def of(cls, cfg) -> Settings:
        return cls(cfg.max_completion_length, cfg.num_generations, cfg.dynamic_sampling)


def scan(rows: list[dict], settings: Settings = Settings()) -> list[RunWarning]:
    """Every kind that tripped in the history `rows`, at the first step it did, sorted by step."""
    rows = sorted((r for r in rows if isinstance(r.get("step"), int)), key=lambda r: r["step"])
    found = [clipped(rows, settings), zero_variance(rows, settings), eval_falling(rows), kl(rows), entropy(rows),
             *(hack(rows, name) for name in HACKS)]
    return sorted((w for w in found if w is not None), key=lambda w: w.step)


def series(rows: list[dict], key: str) -> list[tuple[int, float]]:
    """(step, value) of every row that logged `key` as a number."""
    return [(r["step"], float(r[key])) for r in rows
            if isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool)]


def first_run(points: list[tuple[int, float]], bad, length: int) -> tuple[int, list[float]] | None:
    """The step ending the first `length` consecutive points for which `bad(value)`, with their values."""
    streak: list[float] = []
    for step, value in points:
        streak = streak + [value] if bad(value) else []
        if len(streak) >= length:
            return step, streak[-length:]
    return None


def clipped(rows: list[dict], s: Settings = Settings()) -> RunWarning | None:
    hit = first_run(series(rows, "completions/clipped_ratio"), lambda v: v >= CLIPPED_SHARE, CLIPPED_STEPS)
    if hit:
        step, values = hit
        return RunWarning(step, "clipped", f"{_mean(values):.0%} of completions hit --max-completion-length "
                          f"{s.max_completion_length} over the last {CLIPPED_STEPS} steps: a cut-off reply has no "
                          "answer and scores 0; raise --max-completion-length")
    return None


def zero_variance(rows: list[dict], s: Settings = Settings()) -> RunWarning | None:
    hit = first_run(series(rows, "frac_reward_zero_std"), lambda v: v >= ZERO_STD_SHARE, ZERO_STD_STEPS)
    if hit:
        step, values = hit
        # frac_reward_zero_std is the step's own prompts' also under --dynamic-sampling (train/dynamic_sampling.py)
        remedy = ("--dynamic-sampling replaces them where its extra rounds find groups that differ "
                  f"(dynamic_sampling/groups_kept in metrics.jsonl), at up to {DYNAMIC_SAMPLING_MAX_ROUNDS}× the "
                  "rollouts; try" if s.dynamic_sampling else "try --dynamic-sampling,")
        return RunWarning(step, "zero_variance", f"{_mean(values):.0%} of groups scored all alike over the last "
                          f"{ZERO_STD_STEPS} steps: their advantage is 0, so there is no learning signal; {remedy} "
                          f"more --num-generations (now {s.num_generations}) or an easier dataset split")
    return None


def hack(rows: list[dict], name: str) -> RunWarning | None:
    points = series(rows, f"rewards/{name}/mean")
    if len(points) < 2 * HACK_WINDOW:
        return None
    start = _mean([v for _, v in points[:HACK_WINDOW]])
    for i in range(2 * HACK_WINDOW - 1, len(points)):
        now = _mean([v for _, v in points[i - HACK_WINDOW + 1:i + 1]])
        if now >= HACK_SHARE and now - start >= HACK_RISE:
            return RunWarning(points[i][0], name, f"format hacking? {now:.0%} of completions {HACKS[name]} over "
                              f"the last {HACK_WINDOW} steps, up from {start:.0%} at the start: the format "
                              "rewards may be gamed; read completions.jsonl")
    return None


def eval_falling(rows: list[dict]) -> RunWarning | None:
    evals, rewards = series(rows, EVAL_KEY), series(rows, "reward")
    for j in range(1, len(evals)):
        step, acc = evals[j]
        best_step, best = max(evals[:j], key=lambda p: p[1])
        if best - acc < EVAL_DROP - 1e-9:
            continue
        before = [v for t, v in rewards if best_step - REWARD_WINDOW < t <= best_step] or \
            [v for t, v in rewards if t > best_step][:REWARD_WINDOW]
        now = [v for t, v in rewards if step - REWARD_WINDOW < t <= step]
        if before and now and _mean(now) - _mean(before) >= REWARD_RISE - 1e-9:
            return RunWarning(step, "eval_falling", f"held-out accuracy fell from {best:.0%} (step {best_step}) to "
                              f"{acc:.0%} while the training reward rose from {_mean(before):.2f} to "
                              f"{_mean(now):.2f}: the rewards are being gamed or the prompts overfit; read "
                              "completions.jsonl, and prefer the adapter of an earlier checkpoint")
    return None


def kl(rows: list[dict]) -> RunWarning | None:
    return _out_of_range(series(rows, "kl"), "kl", -math.inf, KL_MAX, "KL to the base model", "",
                         "the policy drifts far from its base; lower --learning-rate or raise --beta")


def entropy(rows: list[dict]) -> RunWarning | None:
    return _out_of_range(series(rows, "entropy"), "entropy", ENTROPY_MIN, ENTROPY_MAX, "token entropy",
                         "the policy has collapsed to one reply, so groups stop differing; raise --temperature "
                         "or lower --learning-rate",
                         "the samples are near-random text; lower --learning-rate or --temperature")


def _out_of_range(points, kind: str, low: float, high: float, what: str, why_low: str, why_high: str):
    for step, value in points:
        if not math.isfinite(value):
            return RunWarning(step, kind, f"{what} is {value}: the update diverged; lower --learning-rate")
    checks = [(lambda v: v < low, f"below {low:g}", why_low), (lambda v: v > high, f"above {high:g}", why_high)]
    hits = [(hit, bound, why) for bad, bound, why in checks if (hit := first_run(points, bad, RANGE_STEPS))]
    if not hits:
        return None
    (step, values), bound, why = min(hits, key=lambda h: h[0][0])
    return RunWarning(step, kind, f"{what} {bound} over the last {RANGE_STEPS} steps (now {values[-1]:.3g}): {why}")


def template_prefill(tokenizer, **template_kwargs) -> str | None:
    """Text the chat template appends after the assistant header with add_generation_prompt=True ('<think>\\n',
    '<reasoning>'), or None. The header is measured on an earlier assistant turn of a test conversation, where
    templates render the reply plainly; a template this cannot read (no chat template, odd rendering) is None."""
    user, follow_up = {"role": "user", "content": PROBE_QUESTION}, {"role": "user", "content": PROBE_FOLLOW_UP}
    reply = {"role": "assistant", "content": PROBE_REPLY}

    def render(messages, generation):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation,
                                             **template_kwargs)

    try:
        plain, prompted = render([user], False), render([user], True)
        history = render([user, reply, follow_up], False)
    except Exception:  # noqa: BLE001 — no template, or one that refuses the probe: nothing to say about it
        return None
    if not (prompted.startswith(plain) and history.startswith(plain) and PROBE_REPLY in history):
        return None
    header = history[len(plain):history.index(PROBE_REPLY, len(plain))]
    added = prompted[len(plain):]
    if not added.startswith(header):
        return None
    extra = added[len(header):]
    return extra if extra.strip() else None


def prefill_warning(prefill: str | None) -> RunWarning | None:
    if prefill is None:
        return None
    return RunWarning(0, "chat_template", f"the chat template pre-fills {prefill!r} into the assistant turn, so "
                      "completions start after it and a format reward that expects the reply to open with "
                      f"{REASONING_OPEN} cannot match; use a model or template without it (or turn it off through "
                      "the YAML's trl: chat_template_kwargs)")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
