"""Build and run TRL's GRPOTrainer with a PEFT LoRA adapter; write the run folder.

    python -m train --preset tiny            # CPU, embedded SmolLM2-135M, a few minutes
    python -m train --preset nano-r1         # the seed recipe on one GPU

Run folder runs/NAME/: config.json, metrics.jsonl, completions.jsonl, adapter/, chart.png, checkpoint-N/.
"""

from __future__ import annotations

import json
import warnings
import shutil
import sys
import time
from pathlib import Path

from train.backends import Backend, choose_backend
from train.cliargs import ConfigError
from train.config import TrainConfig, world_size
from train.data import build_dataset, load_rows, system_prompt
from train.models import EMBEDDED, resolve_model
from train.rewards import METRICS, REWARDS, trl_reward


# TRL warns on import about the vLLM version even when vLLM is not used for training (the CPU server).
warnings.filterwarnings("ignore", message="TRL currently supports vLLM")


def log(msg: str) -> None:
    print(f"[train] {msg}", file=sys.stderr, flush=True)


def latest_checkpoint(run_dir: Path) -> str | None:
    checkpoints = sorted(run_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(checkpoints[-1]) if checkpoints else None


def prepare_run_dir(cfg: TrainConfig) -> tuple[Path, str | None]:
    """Create runs/NAME, refusing to clobber an existing run; returns (dir, checkpoint to resume)."""
    run_dir = Path(cfg.run_dir)
    if cfg.resume:
        checkpoint = latest_checkpoint(run_dir)
        if not checkpoint:
            raise ConfigError(f"--resume: {run_dir} has no checkpoint to resume from")
        return run_dir, checkpoint
    if run_dir.exists() and any(run_dir.iterdir()):
        if not cfg.overwrite:
            raise ConfigError(f"{run_dir} already holds a run; pass --resume to continue it, --overwrite to "
                              "replace it, or --run-name NEW")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir, None


def resolve_system_prompt(spec: str) -> str | None:
    if spec == "none":
        return None
    if spec == "default":
        return system_prompt()
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"--system-prompt {spec}: no such file (use 'default', 'none' or a text file)")
    return path.read_text().strip()


def check_lengths(cfg: TrainConfig, model_config) -> None:
    context = getattr(model_config, "max_position_embeddings", None)
    if context and cfg.max_prompt_length + cfg.max_completion_length > context:
        raise ConfigError(f"--max-prompt-length {cfg.max_prompt_length} + --max-completion-length "
                          f"{cfg.max_completion_length} exceeds the model's context of {context} tokens")


def load_model_config(path: str):
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot load the config of model {path}: {str(e).splitlines()[0]}") from None


def filter_long_prompts(rows: list[dict], tokenizer, system: str | None, limit: int, one_shot: bool) -> list[dict]:
    """TRL 1.x no longer truncates prompts; we drop the over-long ones (truncating would cut the question)."""
    from train.data import to_chat

    kept = [r for r in rows if len(tokenizer.apply_chat_template(
        to_chat(r["question"], system, one_shot), add_generation_prompt=True, tokenize=True, return_dict=False)) <= limit]
    if len(kept) < len(rows):
        log(f"dropped {len(rows) - len(kept)} of {len(rows)} prompts longer than {limit} tokens")
    if not kept:
        raise ConfigError(f"no prompt fits in --max-prompt-length {limit}")
    return kept


def grpo_args(cfg: TrainConfig, backend: Backend, run_dir: Path, overrides: dict | None = None):
    from trl import GRPOConfig

    reward_names = list(REWARDS) + list(METRICS)
    return GRPOConfig(
        output_dir=str(run_dir),
        run_name=cfg.name,
        # The global batch is the recipe's (prompts × generations); data parallelism splits it over ranks,
        # and TRL gathers rewards across ranks before computing each group's advantages.
        per_device_train_batch_size=cfg.completions_per_step // (cfg.gradient_accumulation_steps * world_size()),
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        temperature=cfg.temperature,
        learning_rate=cfg.learning_rate,
        adam_beta1=cfg.adam_beta1,
        adam_beta2=cfg.adam_beta2,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a float < 1 is a fraction of max_steps
        lr_scheduler_type=cfg.lr_scheduler_type,
        max_grad_norm=cfg.max_grad_norm,
        max_steps=cfg.max_steps,
        save_steps=cfg.save_steps,
        save_total_limit=2,
        beta=cfg.beta,
        loss_type=cfg.loss_type,
        scale_rewards=cfg.scale_rewards,
        # answer_parsed is a metric, not a reward: weight 0 keeps it out of the advantage
        reward_weights=[0.0 if n in METRICS else 1.0 for n in reward_names],
        logging_steps=cfg.logging_steps,
        report_to=[r for r in cfg.report_to.split(",") if r and r != "none"] or "none",
        seed=cfg.seed,
        data_seed=cfg.seed,
        use_cpu=backend.device == "cpu",
        bf16=backend.bf16,
        gradient_checkpointing=backend.gradient_checkpointing if cfg.gradient_checkpointing is None
        else cfg.gradient_checkpointing,
        log_completions=False,  # we write completions.jsonl ourselves (train/completions.py)
        disable_tqdm=True,  # replaced by train.callbacks.ProgressBar
        dataloader_num_workers=0,
        **(backend.grpo_kwargs | (overrides or {})),
    )


def run(cfg: TrainConfig) -> Path:
    trainer, run_dir, checkpoint, stopper = build(cfg)
    trainer.train(resume_from_checkpoint=checkpoint)
    finish(trainer, run_dir, stopper.requested)
    return run_dir


def build(cfg: TrainConfig, grpo_overrides: dict | None = None):
    """Everything up to a ready GRPOTrainer: (trainer, run_dir, checkpoint to resume or None, stop handler)."""
    # Validate everything cheap (model, lengths, data) before a run folder is created or a model loaded.
    backend = choose_backend(cfg.backend)
    log(f"backend: {backend.describe()}")
    model_spec = cfg.model if cfg.model != "auto" else (
        "Qwen/Qwen2.5-3B-Instruct" if backend.device == "cuda" else EMBEDDED)
    resolved = resolve_model(model_spec)
    log(f"model: {resolved.name} ({resolved.path})")
    check_lengths(cfg, load_model_config(resolved.path))
    system = resolve_system_prompt(cfg.system_prompt)
    rows = load_rows(cfg.dataset, cfg.data_dir, "train", cfg.seed, cfg.synthetic_size)
    from accelerate import PartialState

    state = PartialState()  # one process, or this rank of a data-parallel launch
    if state.is_main_process:  # only rank 0 touches the run folder; the others wait for it
        run_dir, checkpoint = prepare_run_dir(cfg)
        used = cfg.to_dict() | {"model_resolved": resolved.path, "backend_resolved": backend.name,
                                "world_size": world_size(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if checkpoint:
            log(f"resuming from {checkpoint}")
        name = "config.json" if not checkpoint else f"config.resume-{Path(checkpoint).name}.json"
        (run_dir / name).write_text(json.dumps(used, indent=2))
    state.wait_for_everyone()
    if not state.is_main_process:
        run_dir, checkpoint = Path(cfg.run_dir), latest_checkpoint(Path(cfg.run_dir)) if cfg.resume else None

    model, tokenizer = backend.load(resolved.path, cfg)
    rows = filter_long_prompts(rows, tokenizer, system, cfg.max_prompt_length, cfg.one_shot)
    dataset = build_dataset(rows, system, cfg.one_shot)
    log(f"data: {cfg.dataset} ({len(dataset)} prompts); {cfg.prompts_per_step} prompt(s) × "
        f"{cfg.num_generations} completions × {cfg.max_completion_length} tokens per step")

    from train.trainer import make_trainer

    trainer, stopper = make_trainer(cfg, backend, model, tokenizer, dataset, run_dir,
                                    [trl_reward(n, cfg.max_completion_length) for n in list(REWARDS) + list(METRICS)],
                                    grpo_args(cfg, backend, run_dir, grpo_overrides), checkpoint)
    return trainer, run_dir, checkpoint, stopper


def finish(trainer, run_dir: Path, interrupted: bool) -> None:
    from train.chart import draw_chart

    adapter = run_dir / "adapter"
    trainer.save_model(str(adapter))  # collective under DDP/ZeRO; writes on rank 0 only
    if not trainer.accelerator.is_main_process:
        return  # PEFT format: adapter_config.json + adapter_model.safetensors
    trainer.processing_class.save_pretrained(str(adapter))
    draw_chart(run_dir / "metrics.jsonl", run_dir / "chart.png", title=run_dir.name)
    step = trainer.state.global_step
    if interrupted:
        log(f"stopped at step {step}; continue with: python -m train --run-name {run_dir.name} "
            f"--output-dir {run_dir.parent} --resume")
    log(f"done: {run_dir}/ (adapter/, metrics.jsonl, completions.jsonl, chart.png)")
