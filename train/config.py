"""TrainConfig: the single source for `python -m train` flags, presets and validation.

Presets (`--preset NAME`, overridden by `--config file.yaml`, overridden by flags):
  nano-r1  the seed recipe: Qwen2.5-3B-Instruct on GSM8K, 1 prompt × 12 completions per step, 1024 tokens,
           LoRA r=64 α=64, lr 5e-6, Adam β (0.9, 0.99), wd 0.1, warmup 0.1, cosine, grad norm 0.1,
           1000 steps, save every 500, KL β 0.04, temperature 0.9, per-sequence loss ('grpo')
  tiny     an ~8-minute CPU run of the same pipeline on the embedded SmolLM2-135M and synthetic problems, sized to
           change a behaviour: 1 × 8 × 96 tokens, lr 1e-4, no warm-up, 24 steps (~20 s a step on 2 cores). Measured
           2026-12-01 (2-core AMX Xeon, shared): 8 min 4 s; the share of sampled replies with a parseable <answer>
           went 0–2/8 (steps 1–8) → 3–7/8 (steps 21–24, mean 5/8); then `python -m eval --run runs/tiny --suite
           synthetic,reasoning --limit 40 --max-tokens 256` (5 min) put synthetic answer_parsed at 10% [4%, 23%] base
           vs 85% [71%, 93%] trained (greedy; accuracy unchanged at 2.5%)
With no preset, `nano-r1` is used on a CUDA machine and `tiny` otherwise.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from nano_r1.cliargs import ConfigError
from nano_r1.env import GPU_DEFAULT_MODEL, has_cuda_device, world_size
from nano_r1.rundir import check_run_name

# TrainConfig fields that are GRPOConfig fields of the same name: passed to TRL as they are (train/grpo.py).
TRL_FIELDS = ["num_generations", "gradient_accumulation_steps", "max_completion_length", "temperature",
              "learning_rate", "adam_beta1", "adam_beta2", "weight_decay", "lr_scheduler_type", "max_grad_norm",
              "max_steps", "save_steps", "beta", "loss_type", "scale_rewards", "logging_steps", "seed"]
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
BACKENDS = ["auto", "unsloth", "vllm", "fast", "trl"]


@dataclass
class TrainConfig:
    # what to train
    model: str = field(default="auto", metadata={"help": "smollm2-135m (embedded), a .gguf file, a model folder, "
                                                 "or a hub id; 'auto' = Qwen/Qwen2.5-3B-Instruct on CUDA, else smollm2-135m"})
    dataset: str = field(default="synthetic", metadata={"help": "gsm8k, synthetic, or a GSM8K-format .jsonl file"})
    data_dir: str | None = field(default=None, metadata={"help": "folder with gsm8k_train.jsonl (no hub needed)"})
    system_prompt: str = field(default="default", metadata={"help": "'default' (prompts/system.txt), 'none', or a text file"})
    one_shot: bool = field(default=False, metadata={"help": "prepend one worked example in the answer format "
                                                    "(the seed's optional 1-shot; helps small models find the tags)"})
    synthetic_size: int = field(default=5000, metadata={"help": "problems generated for --dataset synthetic"})
    # where results go
    output_dir: str = field(default="runs", metadata={"help": "parent folder of run folders"})
    run_name: str | None = field(default=None, metadata={"help": "run folder name (default: the preset name)"})
    resume: bool = field(default=False, metadata={"help": "continue the run in runs/NAME from its last checkpoint"})
    overwrite: bool = field(default=False, metadata={"help": "delete an existing run folder of the same name first"})
    preset: str | None = field(default=None, metadata={"cli": False})
    # how
    num_gpus: int = field(default=1, metadata={"help": "data-parallel GPUs: re-launches itself with `accelerate "
                                               "launch --num_processes N`; the global batch stays the same"})
    backend: str = field(default="auto", metadata={"help": "auto picks fast (measured fastest on CUDA and CPU) and says why",
                                                   "choices": BACKENDS})
    num_generations: int = field(default=12, metadata={"help": "completions per prompt (the GRPO group)"})
    prompts_per_step: int = field(default=1, metadata={"help": "prompts per optimizer step"})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "micro-batches per optimizer step"})
    max_prompt_length: int = field(default=256, metadata={"help": "prompts longer than this (tokens) are dropped"})
    max_completion_length: int = field(default=1024, metadata={"help": "completion tokens"})
    temperature: float = field(default=0.9, metadata={"help": "sampling temperature of rollouts"})
    lora_r: int = field(default=64, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=64, metadata={"help": "LoRA alpha"})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout"})
    lora_target_modules: list[str] = field(default_factory=lambda: list(LORA_TARGETS),
                                           metadata={"help": "comma-separated module names"})
    learning_rate: float = field(default=5e-6, metadata={"help": "peak learning rate"})
    adam_beta1: float = field(default=0.9, metadata={"help": "Adam β1"})
    adam_beta2: float = field(default=0.99, metadata={"help": "Adam β2"})
    weight_decay: float = field(default=0.1, metadata={"help": "AdamW weight decay"})
    warmup_ratio: float = field(default=0.1, metadata={"help": "fraction of steps of linear warm-up"})
    lr_scheduler_type: str = field(default="cosine", metadata={"help": "transformers scheduler name"})
    max_grad_norm: float = field(default=0.1, metadata={"help": "gradient clipping"})
    max_steps: int = field(default=1000, metadata={"help": "optimizer steps"})
    save_steps: int = field(default=500, metadata={"help": "checkpoint every N steps (--resume continues from it)"})
    beta: float = field(default=0.04, metadata={"help": "KL coefficient against the base model"})
    loss_type: str = field(default="grpo", metadata={"help": "TRL loss_type; 'grpo' = per-sequence normalisation "
                                                     "(the seed's TRL era)"})
    scale_rewards: str = field(default="group", metadata={"help": "TRL scale_rewards: group, batch or none"})
    dynamic_sampling: bool = field(default=False, metadata={"help": "DAPO's dynamic sampling: groups whose "
                                   "completions all scored alike (no learning signal) are dropped and replaced by "
                                   "new prompts, up to 4 sampling rounds a step (train/dynamic_sampling.py); "
                                   "backends fast, trl and vllm, one process"})
    gradient_checkpointing: bool | None = field(default=None, metadata={"help": "default: on for CUDA"})
    fused_projections: bool | None = field(default=None, metadata={"help": "q/k/v and gate/up as one GEMM each in "
                                           "the fast backend's rollout copy; default: on for CUDA (false: the "
                                           "separate projections, e.g. for a parity run)"})
    logging_steps: int = field(default=1, metadata={"help": "log metrics every N steps"})
    completions_every: int = field(default=10, metadata={"help": "write sampled completions every N steps"})
    report_to: str = field(default="none", metadata={"help": "none, wandb, tensorboard (comma-separated)"})
    seed: int = field(default=42, metadata={"help": "random seed"})
    # watching it learn
    eval_every: int | None = field(default=None, metadata={"help": "every N steps, score the policy greedily on "
                                   "held-out problems with the same messages and grader as `python -m eval` "
                                   "(eval/* in metrics.jsonl and chart.png); 0 = off; None = 50 on CUDA, off on CPU"})
    eval_limit: int = field(default=128, metadata={"help": "held-out problems per evaluation during training: the "
                            "first N of GSM8K test (--dataset gsm8k / a .jsonl) or of a held-out synthetic set"})
    gpu_hourly_price: float | None = field(default=None, metadata={"help": "USD per GPU-hour: the run's cost is "
                                           "printed at the end and kept in summary.json"})
    # any other GRPOConfig field: `--trl.KEY VALUE` or a `trl:` mapping in the YAML (checked against TRL)
    trl: dict = field(default_factory=dict, metadata={"cli": False})

    def __post_init__(self):
        checks = [
            (self.num_generations >= 2, "--num-generations must be at least 2 (GRPO compares completions in a group)"),
            (self.prompts_per_step >= 1, "--prompts-per-step must be at least 1"),
            (self.gradient_accumulation_steps >= 1, "--gradient-accumulation-steps must be at least 1"),
            ((self.prompts_per_step * self.num_generations) % self.gradient_accumulation_steps == 0,
             f"--gradient-accumulation-steps {self.gradient_accumulation_steps} must divide the "
             f"{self.prompts_per_step * self.num_generations} completions of a step "
             "(prompts_per_step × num_generations)"),
            (self.num_gpus >= 1, "--num-gpus must be at least 1"),
            (self.completions_per_step % (self.gradient_accumulation_steps * world_size()) == 0,
             f"the {self.completions_per_step} completions of a step must split evenly over "
             f"{world_size()} processes × {self.gradient_accumulation_steps} accumulation steps"),
            (self.max_completion_length > 0 and self.max_prompt_length > 0, "lengths must be positive"),
            (self.max_steps > 0, "--max-steps must be positive"),
            (self.save_steps > 0 and self.logging_steps > 0 and self.completions_every > 0, "step intervals must be positive"),
            (self.lora_r > 0 and self.lora_alpha > 0, "--lora-r and --lora-alpha must be positive"),
            (self.learning_rate > 0, "--learning-rate must be positive"),
            (self.temperature > 0, "--temperature must be positive"),
            (not (self.resume and self.overwrite), "--resume and --overwrite contradict each other"),
            (self.scale_rewards in {"group", "batch", "none"}, "--scale-rewards must be group, batch or none"),
            (self.eval_every is None or self.eval_every >= 0, "--eval-every must be >= 0 (0 = off)"),
            (self.eval_limit >= 1, "--eval-limit must be at least 1"),
            (self.gpu_hourly_price is None or self.gpu_hourly_price >= 0, "--gpu-hourly-price must be >= 0"),
            (0 <= self.lora_dropout < 1 and 0 <= self.warmup_ratio < 1 and self.weight_decay >= 0,
             "--lora-dropout and --warmup-ratio must be in [0, 1), --weight-decay >= 0"),
            (0 <= self.adam_beta1 < 1 and 0 <= self.adam_beta2 < 1, "--adam-beta1/2 must be in [0, 1)"),
            (self.beta >= 0 and self.max_grad_norm > 0, "--beta must be >= 0 and --max-grad-norm positive"),
            (0 <= self.seed < 2**32, "--seed must be in [0, 2**32) (numpy's seed range; transformers seeds it)"),
            (self.fused_projections is None or self.backend in ("auto", "fast"),
             f"--fused-projections is a setting of the fast backend's rollouts, not of --backend {self.backend}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        from train.dynamic_sampling import refusal

        if (why := refusal(self)) is not None:
            raise ConfigError(why)
        if self.run_name is not None:
            check_run_name(self.run_name)
        if self.data_dir and not os.path.isdir(os.path.expanduser(self.data_dir)):  # as eval says it
            raise ConfigError(f"--data-dir {self.data_dir}: no such folder")
        if os.path.exists(self.output_dir) and not os.path.isdir(self.output_dir):
            raise ConfigError(f"--output-dir {self.output_dir}: is a file, not a folder")

    @property
    def completions_per_step(self) -> int:
        return self.prompts_per_step * self.num_generations

    @property
    def name(self) -> str:
        return self.run_name or self.preset or "run"

    @property
    def run_dir(self) -> str:
        return os.path.join(self.output_dir, self.name)

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, dict] = {
    "nano-r1": dict(model=GPU_DEFAULT_MODEL, dataset="gsm8k"),  # the dataclass defaults are the recipe
    "tiny": dict(model="smollm2-135m", dataset="synthetic", num_generations=8, prompts_per_step=1,
                 max_completion_length=96, max_prompt_length=256, max_steps=24, save_steps=8,
                 completions_every=1, learning_rate=1e-4, one_shot=True, lora_r=16, lora_alpha=32, warmup_ratio=0.0),
}


def default_preset() -> str:
    return "nano-r1" if has_cuda_device() else "tiny"
