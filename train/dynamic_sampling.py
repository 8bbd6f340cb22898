"""DAPO's dynamic sampling: groups whose completions all scored alike are dropped and replaced by new prompts.

    python -m train --preset tiny --dynamic-sampling

Why: a group whose rewards have zero variance has advantage 0 for every completion, so it adds nothing to the policy
gradient (only the KL term, and a share of the loss's normaliser); the tiny preset's first steps have
`frac_reward_zero_std` 1.0. DAPO (arXiv 2503.14476, §3.2) over-samples and keeps only groups with a non-zero spread
until the batch is full; TRL 1.14 has no such option (TRL #3708, #3973).

How: `with_dynamic_sampling(cls)` derives from the backend's trainer class and overrides one TRL method,
`_generate_and_score_completions` (and `_calculate_rewards`, only to keep the round's rewards). TRL generates and
scores the step's own prompts as always; a group is dropped when the spread of its weighted reward is zero (TRL's own
test for `frac_reward_zero_std`: `isclose(std, 0)`), and TRL's same method runs again on as many new prompts, drawn
without replacement from the training set by a generator seeded with (seed, step) — a resumed run draws the same
ones, and the epoch's own prompt order is not touched — for up to DYNAMIC_SAMPLING_MAX_ROUNDS rounds in all. The
kept groups are joined into one batch (prompts re-padded on the left, completions on the right, the loss's token
count recomputed) that goes on to TRL's loss unchanged. Each group's advantage depends on its own group only
(`--scale-rewards group` or `none`), so joining groups from several rounds changes none of them.

Where the rounds find fewer groups with signal than the step has prompts, the step trains on those (a smaller
batch); where they find none (or too few to split over the accumulation steps), it trains on its own prompts as
without the flag (advantage 0: only the KL term moves the policy) and `groups_kept` says how many had signal.

Logged per step in metrics.jsonl: `dynamic_sampling/prompts_sampled` (the step's prompts plus the new ones),
`dynamic_sampling/groups_kept` (groups with reward variance in the batch that reached the loss),
`dynamic_sampling/rounds` (1: the step's own prompts all had signal). TRL's own metrics (reward,
frac_reward_zero_std, completions/*) stay those of the step's own prompts, as without the flag, so the guards judge
the data the same way; completions.jsonl holds the groups that reached the loss.

Refused at start (`refusal`, from TrainConfig): --backend unsloth (its patched trainer replaces TRL's methods),
data parallelism (each rank would keep different groups), and batch-level reward scaling.
"""

from __future__ import annotations

import random

from nano_r1.env import world_size

# Sampling rounds per step, the step's own prompts included: at most 3 refills, so a step costs at most 4× the
# rollouts of one without the flag.
DYNAMIC_SAMPLING_MAX_ROUNDS = 4
PREFIX = "dynamic_sampling/"


def refusal(cfg) -> str | None:
    """Why --dynamic-sampling cannot run with these settings, or None (checked in TrainConfig, before any load)."""
    if not cfg.dynamic_sampling:
        return None
    if cfg.backend == "unsloth":
        return ("--dynamic-sampling does not run under --backend unsloth: Unsloth replaces the TRL trainer methods it "
                "hooks into; use --backend fast, trl or vllm")
    if cfg.num_gpus > 1 or world_size() > 1:
        return ("--dynamic-sampling runs in one process: under data parallelism each rank would drop different "
                "groups and draw different prompts; leave --num-gpus out")
    if cfg.scale_rewards == "batch" or str(cfg.trl.get("multi_objective_aggregation", "")) == "normalize_then_sum":
        return ("--dynamic-sampling joins groups from several sampling rounds, which needs each group's advantage "
                "to depend on its own group only: use --scale-rewards group or none (and TRL's default "
                "multi_objective_aggregation)")
    return None


def with_dynamic_sampling(trainer_class: type) -> type:
    """The backend's GRPOTrainer subclass with dynamic sampling in front of it."""
    return type(f"DynamicSampling{trainer_class.__name__}", (DynamicSampling, trainer_class), {})


class DynamicSampling:
    """Mixin for a GRPOTrainer subclass (before it in the MRO); see the module docstring."""

    _round_rewards = None

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        self._round_rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        return self._round_rewards

    def _generate_and_score_completions(self, inputs):
        if not self.model.training:
            return super()._generate_and_score_completions(inputs)
        size = self.num_generations
        wanted = len(inputs) // size
        own = super()._generate_and_score_completions(inputs)
        signal = self._group_signal()
        if bool(signal.all()):
            self._log_sampling(wanted, wanted, 1)
            return own
        marks = {key: len(values) for key, values in self._metrics["train"].items()}
        rounds = [(own, signal, self._round_logs(len(inputs)))]
        sampled, have = wanted, int(signal.sum())
        fresh = self._fresh_prompts(wanted * (DYNAMIC_SAMPLING_MAX_ROUNDS - 1))
        while fresh and have < wanted and len(rounds) < DYNAMIC_SAMPLING_MAX_ROUNDS:
            picked, fresh = fresh[:wanted - have], fresh[wanted - have:]
            rows = [self.train_dataset[i] for i in picked for _ in range(size)]  # grouped, as TRL's sampler yields
            out = super()._generate_and_score_completions(rows)
            rounds.append((out, self._group_signal(), self._round_logs(len(rows))))
            sampled, have = sampled + len(picked), have + int(rounds[-1][1].sum())
        self._keep_own_metrics(marks)
        picks = [(r, g) for r, (_, s, _) in enumerate(rounds) for g in s.nonzero().flatten().tolist()][:wanted]
        while picks and (len(picks) * size) % self.args.steps_per_generation:  # the batch is split evenly
            picks.pop()
        if not picks:  # nothing with signal: the step's own prompts, as without the flag
            self._restore_logs([(0, g) for g in range(wanted)], rounds)
            self._log_sampling(sampled, int(signal.sum()), len(rounds))
            return own
        self._restore_logs(picks, rounds)
        self._log_sampling(sampled, len(picks), len(rounds))
        return join([(rounds[r][0], [g * size + i for i in range(size)]) for r, g in picks],
                    self._tokenizer.pad_token_id)

    def _group_signal(self):
        """Per group of the round just scored: whether its weighted reward has a spread (TRL's isclose(std, 0))."""
        import torch
        from trl.trainer.utils import nanstd

        per_func = self._round_rewards
        rewards = (per_func * self.reward_weights.to(per_func.device).unsqueeze(0)).nansum(dim=1)
        rewards[torch.isnan(per_func).all(dim=1)] = torch.nan  # unscorable, as TRL counts them
        std = nanstd(rewards.view(-1, self.num_generations), dim=1)
        return torch.isfinite(std) & ~torch.isclose(std, torch.zeros_like(std))

    def _fresh_prompts(self, count: int) -> list[int]:
        """Dataset indices for the refills of this step: the same for the same seed and step (a resumed run)."""
        rng = random.Random(f"dynamic-sampling:{self.args.seed}:{self.state.global_step}")
        return rng.sample(range(len(self.train_dataset)), min(count, len(self.train_dataset)))

    def _log_columns(self) -> dict:
        """TRL's sample log (prompt, completion, rewards/<name>, advantages, extra/<column>), flattened."""
        columns = {}
        for key, value in self._logs.items():
            if isinstance(value, dict):
                columns.update({(key, name): column for name, column in value.items()})
            else:
                columns[(key,)] = value
        return columns

    def _round_logs(self, rows: int) -> dict:
        """The round's entries of each column TRL logged (its last `rows`; the columns hold a whole batch)."""
        return {path: list(column)[-rows:] for path, column in self._log_columns().items() if len(column) >= rows}

    def _restore_logs(self, picks, rounds) -> None:
        """The sample log (completions.jsonl) = the groups that reach the loss."""
        size = self.num_generations
        for path, column in self._log_columns().items():
            if all(path in rounds[r][2] for r, _ in picks):
                kept = [v for r, g in picks for v in rounds[r][2][path][g * size:(g + 1) * size]]
                column.clear()
                column.extend(kept)

    def _keep_own_metrics(self, marks: dict) -> None:
        """TRL's metrics of the refill rounds are dropped: the step's logged metrics are its own prompts'."""
        metrics = self._metrics["train"]
        for key in list(metrics):
            if key in marks:
                del metrics[key][marks[key]:]
            else:
                del metrics[key]

    def _log_sampling(self, sampled: int, kept: int, rounds: int) -> None:
        metrics = self._metrics["train"]
        metrics[PREFIX + "prompts_sampled"].append(float(sampled))
        metrics[PREFIX + "groups_kept"].append(float(kept))
        metrics[PREFIX + "rounds"].append(float(rounds))


def join(parts: list[tuple[dict, list[int]]], pad_token_id: int) -> dict:
    """One TRL batch from the given rows of several: prompt tensors re-padded on the left, completion-aligned ones
    on the right, per-row vectors concatenated, and the loss's token count (`num_items_in_batch`) recomputed."""
    import torch
    import torch.nn.functional as F

    keys = list(parts[0][0])
    out = {}
    for key in keys:
        if key == "num_items_in_batch":
            continue
        values = [batch.get(key) for batch, _ in parts]
        if not all(isinstance(v, torch.Tensor) and v.dim() >= 1 for v in values) or \
                any(set(batch) != set(keys) for batch, _ in parts):
            raise RuntimeError(f"--dynamic-sampling cannot join TRL's {key!r} across sampling rounds")
        rows = [v[torch.tensor(index, device=v.device)] for v, (_, index) in zip(values, parts)]
        if rows[0].dim() == 1:
            out[key] = torch.cat(rows)
            continue
        width = max(r.shape[1] for r in rows)
        left = key in ("prompt_ids", "prompt_mask")
        fill = pad_token_id if key in ("prompt_ids", "completion_ids") else 1 if key == "tool_mask" else 0
        out[key] = torch.cat([F.pad(r, (width - r.shape[1], 0) if left else (0, width - r.shape[1]), value=fill)
                              for r in rows])
    mask = out["completion_mask"] * out["tool_mask"] if "tool_mask" in out else out["completion_mask"]
    out["num_items_in_batch"] = mask.sum()
    return out
