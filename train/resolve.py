"""Resolve a `python -m train` run once, before any weights load or any file is written: `ResolvedRun`.

    python -m train --preset tiny            # resolve() runs first: a bad flag, file or model fails in seconds

Everything that can fail on user input (model, lengths, data, prompts, TRL options, --report-to) is checked here,
so train/grpo.py only builds and runs what this decided, and no step decides a setting a second time.
"""

from __future__ import annotations

import dataclasses
import sys
import warnings
from dataclasses import dataclass

from nano_r1.chat import system_prompt
from nano_r1.cliargs import ConfigError, coerce
from nano_r1.env import GPU_DEFAULT_MODEL, world_size
from nano_r1.models import EMBEDDED, ResolvedModel, resolve_model
from nano_r1.rundir import RunDir
from nano_r1.tasks import Item, Prompting, Task
from nano_r1.tasks.rubric import Reward
from train.backends import Backend, choose_backend
from train.config import TRL_FIELDS, TrainConfig
from train.data import training_task

# TRL warns on import about the vLLM version even when vLLM is not used for training (the CPU server).
warnings.filterwarnings("ignore", message="TRL currently supports vLLM")


def log(msg: str) -> None:
    print(f"[train] {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ResolvedRun:
    """What the run is, decided once: the task with its prompting, rubric and items (the over-long prompts
    dropped), the backend, the model and its tokenizer, the held-out slice and how often it is scored, and TRL's
    GRPOConfig. The trainer, the in-training evaluation and the run folder all read it; none re-derives it."""
    cfg: TrainConfig
    task: Task
    prompting: Prompting
    rubric: list[Reward]
    items: list[Item]
    backend: Backend
    model: ResolvedModel
    tokenizer: object
    eval_items: list[Item]
    eval_every: int
    args: object  # trl.GRPOConfig
    run: RunDir


def resolve(cfg: TrainConfig, grpo_overrides: dict | None = None) -> ResolvedRun:
    """All checks, files first (they need no torch: a broken dataset is reported in a second, not after the
    imports), then the model's config and tokenizer, then TRL's own checks of the settings. Writes nothing."""
    if world_size() == 1:  # a live run is refused now, not after loading the model (under data parallel, the
        RunDir(cfg.run_dir).check_free()  # ranks would see rank 0's own lock: its prepare() decides)
    prompting = Prompting(system_prompt(cfg.system_prompt), cfg.one_shot)
    task = training_task(cfg.dataset, cfg.seed, cfg.synthetic_size)
    rubric = task.rubric(cfg.max_completion_length)
    items = task.train_items(cfg.data_dir)
    backend = choose_backend(cfg.backend)
    log(f"backend: {backend.describe()}")
    model_spec = cfg.model if cfg.model != "auto" else (GPU_DEFAULT_MODEL if backend.device == "cuda" else EMBEDDED)
    model = resolve_model(model_spec)
    log(f"model: {model.name} ({model.path})")
    model_config = load_model_config(model.path)
    check_lengths(cfg, model_config)
    check_lora_targets(cfg, model_config)
    tokenizer = load_tokenizer(model.path)
    items = filter_long_prompts(task, items, tokenizer, prompting, cfg.max_prompt_length)
    every = eval_every(cfg, backend)
    run = RunDir(cfg.run_dir)
    args = grpo_args(cfg, backend, run, rubric, grpo_overrides)  # TRL's checks, no files
    check_report_to(args.report_to)
    return ResolvedRun(cfg, task, prompting, rubric, items, backend, model, tokenizer,
                       held_out_items(cfg, task, every), every, args, run)


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
