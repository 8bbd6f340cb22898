"""GRPOTrainer assembly: LoRA config, our callbacks, and completions.jsonl from TRL's own sample log."""

from __future__ import annotations

import json
from pathlib import Path

from peft import LoraConfig
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from trl import GRPOTrainer

from train.callbacks import GracefulStop, MetricsWriter, ProgressBar, trim_jsonl
from train.rewards import completion_text


class RecordingGRPOTrainer(GRPOTrainer):
    """Writes the latest generation batch (prompt, completion, each reward) to completions.jsonl.

    TRL keeps these in `self._logs` for its own console/wandb tables; we persist them instead."""

    completions_path: Path | None = None
    completions_every: int = 10
    _recorded_step: int = -1

    def log(self, logs, start_time=None):
        step = self.state.global_step
        if (self.completions_path is not None and self.model.training and self.accelerator.is_main_process
                and step > 0 and step % self.completions_every == 0 and step != self._recorded_step
                and self._logs["prompt"]):
            self._recorded_step = step  # the end-of-training summary log repeats the last step
            rewards, extra, adv = self._logs["rewards"], self._logs["extra"], self._logs["advantages"]
            with open(self.completions_path, "a") as f:
                for i, (prompt, completion) in enumerate(zip(self._logs["prompt"], self._logs["completion"])):
                    row = {"step": step, "prompt": completion_text(prompt), "completion": completion_text(completion),
                           "reference": extra["reference"][i] if i < len(extra.get("reference", ())) else None,
                           "rewards": {name: vals[i] for name, vals in rewards.items() if i < len(vals)},
                           "advantage": adv[i] if i < len(adv) else None}
                    f.write(json.dumps(row) + "\n")
        super().log(logs, start_time)


def make_trainer(cfg, backend, model, tokenizer, dataset, run_dir: Path, reward_funcs, args, checkpoint):
    peft_config = None
    if backend.peft_in_trainer:
        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                 target_modules=cfg.lora_target_modules, task_type="CAUSAL_LM")
    if checkpoint:  # a resumed run replays the steps after its checkpoint: drop their old lines
        step = int(Path(checkpoint).name.split("-")[-1])
        for name in ("metrics.jsonl", "completions.jsonl"):
            trim_jsonl(run_dir / name, step)
    stopper = GracefulStop()
    trainer_cls = RecordingGRPOTrainer
    if backend.name == "fast":
        from train.fast import FastRolloutGRPOTrainer as trainer_cls  # noqa: N813
    trainer = trainer_cls(model=model, reward_funcs=reward_funcs, args=args, train_dataset=dataset,
                          processing_class=tokenizer, peft_config=peft_config,
                          callbacks=[MetricsWriter(run_dir / "metrics.jsonl"), ProgressBar(), stopper])
    for cb in (ProgressCallback, PrinterCallback):
        trainer.remove_callback(cb)
    trainer.completions_path = run_dir / "completions.jsonl"
    trainer.fast_max_prompt_length = cfg.max_prompt_length
    trainer.completions_every = cfg.completions_every
    return trainer, stopper
