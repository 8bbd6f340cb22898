"""Build and run TRL's GRPOTrainer with a PEFT LoRA adapter; write the run folder (nano_r1/rundir.py).

    python -m train --preset tiny            # CPU, embedded SmolLM2-135M, a few minutes
    python -m train --preset nano-r1         # the seed recipe on one GPU

train/resolve.py decides the run and checks everything that can fail on user input first (ResolvedRun); this
module then creates the run folder, loads the model, builds the trainer, runs it and writes what it leaves.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from nano_r1.env import hardware, world_size
from nano_r1.rundir import RunDir
from train.config import TrainConfig
from train.data import build_dataset
from train.resolve import log, resolve


def run(cfg: TrainConfig) -> Path:
    start = time.time()
    trainer, run_dir, checkpoint, stopper = build(cfg)
    trainer.train(resume_from_checkpoint=checkpoint)
    finish(trainer, cfg, RunDir(run_dir), stopper.requested, time.time() - start)
    return run_dir


def build(cfg: TrainConfig, grpo_overrides: dict | None = None):
    """Everything up to a ready GRPOTrainer: (trainer, run_dir, checkpoint to resume or None, stop handler).

    resolve() checks and decides first; only then is the run folder created or replaced, and the model loaded."""
    plan = resolve(cfg, grpo_overrides)
    from accelerate import PartialState

    state = PartialState()  # one process, or this rank of a data-parallel launch
    run = plan.run
    if state.is_main_process:  # only rank 0 touches (and locks) the run folder; the others wait for it
        checkpoint = run.prepare(cfg.resume, cfg.overwrite)
        used = cfg.to_dict() | {"model_resolved": plan.model.path, "backend_resolved": plan.backend.name,
                                "system_prompt_text": plan.prompting.system,
                                "rubric": {r.name: r.weight for r in plan.rubric}, "world_size": world_size(),
                                "hardware": hardware(),
                                "command": shlex.join(["python", "-m", "train", *sys.argv[1:]]),
                                "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if checkpoint:
            log(f"resuming from {checkpoint}")
            run.trim_logs(int(Path(checkpoint).name.split("-")[-1]))  # replayed steps are logged again
        run.write_config(used, "config.json" if not checkpoint else f"config.resume-{Path(checkpoint).name}.json")
    state.wait_for_everyone()
    if not state.is_main_process:
        checkpoint = run.latest_checkpoint() if cfg.resume else None

    model, tokenizer = plan.backend.load(plan.model.path, cfg, plan.tokenizer)
    dataset = build_dataset(plan.task, plan.items, plan.prompting)
    log(f"data: {cfg.dataset} ({len(dataset)} prompts); {cfg.prompts_per_step} prompt(s) × "
        f"{cfg.num_generations} completions × {cfg.max_completion_length} tokens per step")

    from train.trainer import make_trainer

    trainer, stopper = make_trainer(plan, model, tokenizer, dataset)
    trainer.add_callback(make_guard(run, cfg, tokenizer, plan.args.chat_template_kwargs or {}))
    return trainer, run.path, checkpoint, stopper


def make_guard(run: RunDir, cfg: TrainConfig, tokenizer, template_kwargs: dict):
    """The run's guards (train/guards.py), with the chat-template check done now, before any step."""
    from train.callbacks import Guard
    from train.guards import Settings, prefill_warning, template_prefill

    return Guard(run, Settings.of(cfg), [prefill_warning(template_prefill(tokenizer, **template_kwargs))])


def finish(trainer, cfg: TrainConfig, run: RunDir, interrupted: bool, seconds: float) -> None:
    from nano_r1.chart import draw_chart
    from train import modelcard
    from train.summary import write_summary

    trainer.save_model(str(run.adapter_path))  # collective under DDP/ZeRO; writes on rank 0 only
    if not trainer.accelerator.is_main_process:
        return  # PEFT format: adapter_config.json + adapter_model.safetensors
    trainer.processing_class.save_pretrained(str(run.adapter_path))
    draw_chart(run, run.chart_path)
    for line in write_summary(run, cfg, trainer.state.global_step, seconds, trainer.args.use_cpu):
        log(line)
    modelcard.write(run)  # after PEFT's own card (save_model), which names no base for a local model
    if interrupted:
        log(f"stopped at step {trainer.state.global_step}; continue with: python -m train --run-name {run.name} "
            f"--output-dir {run.path.parent} --resume")
    log(f"done: {run.path}/ (adapter/, metrics.jsonl, completions.jsonl, chart.png, summary.json"
        f"{', warnings.jsonl' if run.warnings_path.is_file() else ''})")
