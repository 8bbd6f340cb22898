"""GRPOTrainer assembly: LoRA config, our callbacks, completions.jsonl from TRL's own sample log, and a prompt order
that a resumed run continues exactly."""

from __future__ import annotations

import torch
from peft import LoraConfig
from torch.utils.data import Sampler
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from trl import GRPOTrainer

from nano_r1.rundir import RunDir
from train.callbacks import GracefulStop, MetricsWriter, ProgressBar
from train.rewards import completion_text, trl_reward


class EpochSeededSampler(Sampler):
    """Wraps TRL's RepeatSampler so that epoch e's order depends on (seed, e) alone: the e-th permutation of a generator
    seeded with `seed`, which is what TRL's sampler gives an uninterrupted run.

    Why: TRL seeds its sampler's generator once and draws one permutation per epoch from it. A resumed run builds a
    fresh sampler, so its first epoch — whichever epoch the checkpoint is in — got epoch 0's order again: after an
    epoch boundary it replayed prompts already trained on and skipped others, and exited 0 (verl #7401 is the same
    failure). The Trainer calls `set_epoch` before each epoch (accelerate forwards it, through its skip of the
    batches already done, to here), so the resumed run's epoch e is the uninterrupted run's (tests/test_resume.py)."""

    def __init__(self, inner):
        self.inner, self.epoch = inner, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self):
        if self.inner.shuffle and self.inner.seed is not None:
            self.inner.generator.manual_seed(self.inner.seed)
            for _ in range(self.epoch):  # the permutations of the epochs before this one
                torch.randperm(self.inner.num_samples, generator=self.inner.generator)
        return iter(self.inner)


class RecordingGRPOTrainer(GRPOTrainer):
    """Writes the latest generation batch (prompt, completion, each reward) to completions.jsonl.

    TRL keeps these in `self._logs` for its own console/wandb tables; we persist them instead."""

    def __init__(self, *args, run: RunDir, completions_every: int, max_prompt_length: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.run, self.completions_every, self.max_prompt_length = run, completions_every, max_prompt_length
        self._recorded_step = -1

    def _get_train_sampler(self, dataset=None):
        return EpochSeededSampler(super()._get_train_sampler(dataset))

    def log(self, logs, start_time=None):
        step = self.state.global_step
        if (self.model.training and self.accelerator.is_main_process and step > 0
                and step % self.completions_every == 0 and step != self._recorded_step and self._logs["prompt"]):
            self._recorded_step = step  # the end-of-training summary log repeats the last step
            rewards, extra, adv = self._logs["rewards"], self._logs["extra"], self._logs["advantages"]
            self.run.append_completions([
                {"step": step, "prompt": completion_text(prompt), "completion": completion_text(completion),
                 "reference": extra["reference"][i] if i < len(extra.get("reference", ())) else None,
                 "rewards": {name: vals[i] for name, vals in rewards.items() if i < len(vals)},
                 "advantage": adv[i] if i < len(adv) else None}
                for i, (prompt, completion) in enumerate(zip(self._logs["prompt"], self._logs["completion"]))])
        super().log(logs, start_time)


def make_trainer(plan, model, tokenizer, dataset):
    """The backend's GRPOTrainer for `plan` (a train.resolve.ResolvedRun), with our callbacks; the held-out evaluation, which generates with the
    trainer's own model and rollout engine, is added once the trainer exists."""
    cfg, backend = plan.cfg, plan.backend
    peft_config = None
    if backend.peft_in_trainer:
        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                 target_modules=cfg.lora_target_modules, task_type="CAUSAL_LM")
    stopper = GracefulStop()
    trainer_class = backend.trainer_class()
    if cfg.dynamic_sampling:
        from train.dynamic_sampling import with_dynamic_sampling

        trainer_class = with_dynamic_sampling(trainer_class)
    trainer = trainer_class(
        model=model, reward_funcs=[trl_reward(r) for r in plan.rubric], args=plan.args, train_dataset=dataset,
        processing_class=tokenizer, peft_config=peft_config, callbacks=[MetricsWriter(plan.run), ProgressBar(), stopper],
        run=plan.run, completions_every=cfg.completions_every, max_prompt_length=cfg.max_prompt_length,
        **backend.trainer_kwargs(cfg))
    for cb in (ProgressCallback, PrinterCallback):
        trainer.remove_callback(cb)
    if plan.eval_items:
        from train.evaluate import HeldOutEval

        trainer.add_callback(HeldOutEval(trainer, plan))
    return trainer, stopper
