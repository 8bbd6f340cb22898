"""Build and run TRL's GRPOTrainer with a PEFT LoRA adapter; write the run folder (nano_r1/rundir.py).

    python -m train --preset tiny            # CPU, embedded SmolLM2-135M, a few minutes
    python -m train --preset nano-r1         # the seed recipe on one GPU

Everything that can fail on user input (model, lengths, data, prompts, TRL options) is checked before the run
folder is created or replaced.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
import time
import warnings
from pathlib import Path

from nano_r1.chat import system_prompt
from nano_r1.cliargs import ConfigError, coerce
from nano_r1.env import GPU_DEFAULT_MODEL, hardware, world_size
from nano_r1.models import EMBEDDED, resolve_model
from nano_r1.rundir import RunDir
from nano_r1.tasks import Item, Prompting, Task
from train.backends import Backend, choose_backend
from train.config import TRL_FIELDS, TrainConfig
from train.data import build_dataset, training_task
from train.rewards import trl_reward

# TRL warns on import about the vLLM version even when vLLM is not used for training (the CPU server).
warnings.filterwarnings("ignore", message="TRL currently supports vLLM")


def log(msg: str) -> None:
    print(f"[train] {msg}", file=sys.stderr, flush=True)


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


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot load the tokenizer of model {path}: {str(e).splitlines()[0]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def prompt_ids(tokenizer, task: Task, items: list[Item], prompting: Prompting) -> list[list[int]]:
    return [tokenizer.apply_chat_template(task.messages(it, prompting), add_generation_prompt=True,
                                          tokenize=True, return_dict=False) for it in items]


def filter_long_prompts(task: Task, items: list[Item], tokenizer, prompting: Prompting, limit: int) -> list[Item]:
    """TRL 1.x no longer truncates prompts; we drop the over-long ones (truncating would cut the question)."""
    kept = [it for it, ids in zip(items, prompt_ids(tokenizer, task, items, prompting)) if len(ids) <= limit]
    if len(kept) < len(items):
        log(f"dropped {len(items) - len(kept)} of {len(items)} prompts longer than {limit} tokens")
    if not kept:
        raise ConfigError(f"no prompt fits in --max-prompt-length {limit}")
    return kept


def check_lora_targets(cfg: TrainConfig, model_config) -> None:
    """Catch a mistyped --lora-target-modules before any weights load (names of Llama/Qwen-style blocks)."""
    known = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head",
             "embed_tokens", "all-linear"}
    if getattr(model_config, "model_type", "") in {"llama", "qwen2", "qwen3", "mistral"}:
        unknown = [m for m in cfg.lora_target_modules if m not in known]
        if unknown:
            raise ConfigError(f"--lora-target-modules: {', '.join(unknown)} not in a {model_config.model_type} "
                              f"model (use some of {', '.join(sorted(known - {'all-linear'}))})")


def check_report_to(report_to) -> None:
    """`--report-to` backends are checked by the Trainer only once it is built, after the run folder is made:
    build their callbacks here (that checks the name and that the package is installed; nothing is logged)."""
    from transformers.integrations import get_reporting_integration_callbacks

    try:
        for callback in get_reporting_integration_callbacks(report_to):
            callback()
    except (ValueError, RuntimeError, ImportError) as e:
        raise ConfigError(f"--report-to {','.join(report_to) if isinstance(report_to, list) else report_to}: "
                          f"{str(e).splitlines()[0]}") from None


def trl_overrides(cfg: TrainConfig) -> dict:
    """`--trl.KEY VALUE` / YAML `trl:` entries, typed and checked against GRPOConfig's own fields."""
    if not cfg.trl:
        return {}
    import typing

    from trl import GRPOConfig

    fields = {f.name: f for f in dataclasses.fields(GRPOConfig) if f.init}
    hints = typing.get_type_hints(GRPOConfig)
    out = {}
    for key, value in cfg.trl.items():
        if key not in fields:
            close = [n for n in fields if key.replace("-", "_") == n or key in n][:3]
            raise ConfigError(f"--trl.{key}: GRPOConfig has no such field" + (f" (did you mean {', '.join(close)}?)"
                                                                             if close else ""))
        mirrored = {"per_device_train_batch_size": "prompts_per_step", "output_dir": "output_dir"}
        if key in TRL_FIELDS or key in mirrored:
            raise ConfigError(f"--trl.{key}: set it with --{(mirrored.get(key) or key).replace('_', '-')} instead")
        tp = hints.get(key, str)
        try:
            out[key] = coerce(value, tp, f"--trl.{key}") if isinstance(value, str) else value
        except ConfigError:
            raise
        except Exception:
            out[key] = value
    return out


def grpo_args(cfg: TrainConfig, backend: Backend, run: RunDir, rubric: list, overrides: dict | None = None):
    from trl import GRPOConfig

    try:
        return GRPOConfig(
            output_dir=str(run.path),
            run_name=cfg.name,
            **{name: getattr(cfg, name) for name in TRL_FIELDS},
            # The global batch is the recipe's (prompts × generations); data parallelism splits it over ranks,
            # and TRL gathers rewards across ranks before computing each group's advantages.
            per_device_train_batch_size=cfg.completions_per_step // (cfg.gradient_accumulation_steps * world_size()),
            warmup_steps=cfg.warmup_ratio,  # transformers 5: a float < 1 is a fraction of max_steps
            save_total_limit=2,
            # the task's rubric: answer_parsed, self_check, reasoning_words are metrics, not rewards (weight 0
            # keeps them out of the advantage); a right answer is worth the seed's 2.0
            reward_weights=[r.weight for r in rubric],
            report_to=[r for r in cfg.report_to.split(",") if r and r != "none"] or "none",
            data_seed=cfg.seed,
            use_cpu=backend.device == "cpu",
            bf16=backend.bf16 or backend.autocast_bf16,
            gradient_checkpointing=backend.gradient_checkpointing if cfg.gradient_checkpointing is None
            else cfg.gradient_checkpointing,
            log_completions=False,  # completions.jsonl is written by train/trainer.py
            disable_tqdm=True,  # replaced by train.callbacks.ProgressBar
            dataloader_num_workers=0,
            **(backend.grpo_kwargs | trl_overrides(cfg) | (overrides or {})),
        )
    except (ValueError, ImportError) as e:  # TRL's own __post_init__ checks, e.g. an unknown report_to backend
        raise ConfigError(f"TRL refused the settings: {str(e).splitlines()[0]}") from None


def run(cfg: TrainConfig) -> Path:
    start = time.time()
    trainer, run_dir, checkpoint, stopper = build(cfg)
    trainer.train(resume_from_checkpoint=checkpoint)
    finish(trainer, cfg, RunDir(run_dir), stopper.requested, time.time() - start)
    return run_dir


def build(cfg: TrainConfig, grpo_overrides: dict | None = None):
    """Everything up to a ready GRPOTrainer: (trainer, run_dir, checkpoint to resume or None, stop handler).

    All checks that can fail on user input run before the run folder is created or replaced; the files come
    first, as they need no torch (a broken dataset is reported in a second, not after the imports)."""
    if world_size() == 1:  # a live run is refused now, not after loading the model (under data parallel, the
        RunDir(cfg.run_dir).check_free()  # ranks would see rank 0's own lock: its prepare() below decides)
    prompting = Prompting(system_prompt(cfg.system_prompt), cfg.one_shot)
    task = training_task(cfg.dataset, cfg.seed, cfg.synthetic_size)
    rubric = task.rubric(cfg.max_completion_length)
    items = task.train_items(cfg.data_dir)
    backend = choose_backend(cfg.backend)
    log(f"backend: {backend.describe()}")
    model_spec = cfg.model if cfg.model != "auto" else (GPU_DEFAULT_MODEL if backend.device == "cuda" else EMBEDDED)
    resolved = resolve_model(model_spec)
    log(f"model: {resolved.name} ({resolved.path})")
    model_config = load_model_config(resolved.path)
    check_lengths(cfg, model_config)
    check_lora_targets(cfg, model_config)
    tokenizer = load_tokenizer(resolved.path)
    items = filter_long_prompts(task, items, tokenizer, prompting, cfg.max_prompt_length)
    every = eval_every(cfg, backend)
    eval_items = held_out_items(cfg, task, every)
    args_preview = grpo_args(cfg, backend, RunDir(cfg.run_dir), rubric, grpo_overrides)  # TRL's checks, no files
    check_report_to(args_preview.report_to)

    from accelerate import PartialState

    state = PartialState()  # one process, or this rank of a data-parallel launch
    run = RunDir(cfg.run_dir)
    if state.is_main_process:  # only rank 0 touches (and locks) the run folder; the others wait for it
        checkpoint = run.prepare(cfg.resume, cfg.overwrite)
        used = cfg.to_dict() | {"model_resolved": resolved.path, "backend_resolved": backend.name,
                                "system_prompt_text": prompting.system,
                                "rubric": {r.name: r.weight for r in rubric}, "world_size": world_size(),
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

    model, tokenizer = backend.load(resolved.path, cfg, tokenizer)
    dataset = build_dataset(task, items, prompting)
    log(f"data: {cfg.dataset} ({len(dataset)} prompts); {cfg.prompts_per_step} prompt(s) × "
        f"{cfg.num_generations} completions × {cfg.max_completion_length} tokens per step")

    from train.trainer import make_trainer

    trainer, stopper = make_trainer(cfg, backend, model, tokenizer, dataset, run, [trl_reward(r) for r in rubric],
                                    args_preview, task, prompting, eval_items, every)
    trainer.add_callback(make_guard(run, cfg, tokenizer, args_preview.chat_template_kwargs or {}))
    return trainer, run.path, checkpoint, stopper


def make_guard(run: RunDir, cfg: TrainConfig, tokenizer, template_kwargs: dict):
    """The run's guards (train/guards.py), with the chat-template check done now, before any step."""
    from train.callbacks import Guard
    from train.guards import Settings, prefill_warning, template_prefill

    return Guard(run, Settings.of(cfg), [prefill_warning(template_prefill(tokenizer, **template_kwargs))])


def eval_every(cfg: TrainConfig, backend: Backend) -> int:
    if cfg.eval_every is not None:
        return cfg.eval_every
    return 50 if backend.device == "cuda" else 0


def held_out_items(cfg: TrainConfig, task: Task, every: int) -> list[Item]:
    """The fixed held-out slice that evaluation during training scores (GSM8K test, or the synthetic suite)."""
    if not every:
        return []
    try:
        return task.held_out_items(cfg.data_dir, cfg.eval_limit)
    except ConfigError as e:
        if cfg.eval_every:  # asked for explicitly: say why it cannot run
            raise ConfigError(f"--eval-every needs GSM8K test ({e}); pass --data-dir or --eval-every 0") from None
        log(f"evaluation during training is off: no GSM8K test split ({e})")
        return []


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
