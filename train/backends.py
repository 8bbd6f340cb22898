"""Pick how GRPO runs on this machine, and load the model accordingly.

  unsloth  CUDA + `unsloth` installed: 4-bit base, Unsloth LoRA kernels, vLLM rollouts if vllm is installed
  vllm     CUDA + `vllm` installed: TRL + PEFT with vLLM rollouts in colocate mode
  fast     TRL + PEFT, rollouts with the LoRA merged, static KV cache, each distinct prompt prefilled once
           (train/rollout.py). CUDA: bf16, torch.compile'd decode. CPU (the default there): fp32 weights and
           rollouts, bf16 autocast for the log-prob passes where the CPU has bf16 units (AMX / AVX512-BF16), no
           gradient checkpointing, decode compiled only for runs long enough to repay it, and reference/policy
           log-probs computing each prompt once per group (train/shared_prefix.py); bench/cpu_step.py measures
           it against `trl` side by side
  trl      plain TRL + PEFT (`model.generate` on the PEFT model); fp32 on CPU
`--backend auto` takes `fast`, on CUDA and on CPU: the fastest measured on each (AUTO_WHY_CUDA / AUTO_WHY_CPU
below hold the figures, and are what it prints); unsloth, vllm and trl run when asked for. The choice is printed
at start, with why when it was `auto`'s.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

from nano_r1.cliargs import ConfigError


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@dataclass
class Backend:
    name: str
    device: str  # "cuda" or "cpu"
    bf16: bool  # bf16 weights (and TRL's bf16)
    gradient_checkpointing: bool
    autocast_bf16: bool = False  # fp32 weights, TRL's bf16 = autocast of the forward passes (the CPU path)
    grpo_kwargs: dict = field(default_factory=dict)
    peft_in_trainer: bool = True  # False when the backend wraps the model with LoRA itself (Unsloth)
    why: str = ""  # set when --backend auto chose it

    def describe(self) -> str:
        extra = ", ".join([f"{k}={v}" for k, v in self.grpo_kwargs.items()]
                          + (["bf16 autocast for log-probs"] if self.autocast_bf16 else []))
        said = f"{self.name} on {self.device}" + (f" ({extra})" if extra else "")
        return said + (f"; {self.why}" if self.why else "")

    def trainer_class(self):
        """The GRPOTrainer subclass for this backend (imported here, so trainer and fast import no backend)."""
        if self.name == "fast":
            from train.fast import FastRolloutGRPOTrainer

            return FastRolloutGRPOTrainer
        from train.trainer import RecordingGRPOTrainer

        return RecordingGRPOTrainer

    def trainer_kwargs(self, cfg) -> dict:
        """What this backend's trainer class takes beyond the common arguments: the fast one its rollout options."""
        if self.name != "fast":
            return {}
        from train.rollout import RolloutOptions

        return {"rollout_options": RolloutOptions(fuse=cfg.fused_projections)}

    def load(self, path: str, cfg, tokenizer):
        """(model, tokenizer): the tokenizer the run already loaded for its checks, except under Unsloth, whose
        loader returns its own patched one."""
        if self.name == "unsloth":
            return _load_unsloth(path, cfg)
        import torch
        from transformers import AutoModelForCausalLM

        try:
            model = AutoModelForCausalLM.from_pretrained(
                path, dtype=torch.bfloat16 if self.bf16 else torch.float32,
                attn_implementation="sdpa")
        except OSError as e:
            raise ConfigError(f"cannot load model {path}: {str(e).splitlines()[0]}") from None
        return model, tokenizer


def _load_unsloth(path: str, cfg):
    from unsloth import FastLanguageModel  # must come before trl/transformers imports patch them

    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=path, max_seq_length=cfg.max_prompt_length + cfg.max_completion_length, load_in_4bit=True,
        fast_inference=installed("vllm"), max_lora_rank=cfg.lora_r, gpu_memory_utilization=0.5)
    model = FastLanguageModel.get_peft_model(
        model, r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
        target_modules=cfg.lora_target_modules,
        use_gradient_checkpointing="unsloth", random_state=cfg.seed)
    return model, tokenizer


def cuda_available() -> bool:
    if not installed("torch"):
        return False
    import torch

    return torch.cuda.is_available()


def cpu_has_bf16() -> bool:
    """bf16 matmuls in hardware (AMX or AVX512-BF16); elsewhere bf16 is emulated and slower than fp32."""
    import torch

    return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()


# What `auto` says when it picks `fast`: the measurements behind the choice.
AUTO_WHY_CUDA = ("auto: the fastest measured on CUDA (bench/grpo_step.py, H200, side by side: "
                 "5.8 s/step vs 12.8 s TRL+vLLM colocate, 72 s TRL; 5.1 s since its projections are fused)")
AUTO_WHY_CPU = "auto: the fastest measured on CPU (bench/cpu_step.py: 1.8x TRL's own path)"


def choose_backend(requested: str = "auto") -> Backend:
    cuda = cuda_available()
    if requested in ("unsloth", "vllm") and not cuda:
        raise ConfigError(f"--backend {requested} needs a CUDA GPU; use --backend trl on this machine")
    if requested == "unsloth" and not installed("unsloth"):
        raise ConfigError("--backend unsloth: unsloth is not installed (pip install -e '.[gpu]')")
    if requested == "vllm" and not installed("vllm"):
        raise ConfigError("--backend vllm: vllm is not installed (pip install -e '.[gpu]')")
    name = requested
    if requested == "auto":
        chosen = choose_backend("fast")
        chosen.why = (AUTO_WHY_CUDA if cuda else AUTO_WHY_CPU) + " (--backend picks another)"
        return chosen
    if name == "trl":
        return Backend("trl", "cuda" if cuda else "cpu", bf16=cuda, gradient_checkpointing=cuda)
    if name == "unsloth":
        kw = {"use_vllm": True} if installed("vllm") else {}
        return Backend("unsloth", "cuda", bf16=True, gradient_checkpointing=False, grpo_kwargs=kw,
                       peft_in_trainer=False)
    if name == "vllm":
        return Backend("vllm", "cuda", bf16=True, gradient_checkpointing=True,
                       grpo_kwargs={"use_vllm": True, "vllm_mode": "colocate",
                                    "vllm_gpu_memory_utilization": 0.3})
    # On CPU: fp32 weights and rollouts (bf16 rounding would swallow small LoRA deltas in the merged copy, and a
    # decode step is bound by reading weights: bf16 gained only 1.3x there), but the log-prob passes (8 × ~300
    # tokens: compute-bound) autocast to bf16 where the CPU has bf16 units: a 576×1536 matmul of 2400 rows ran
    # 265 → 1437 GFLOP/s on the 2-core AMX machine, a forward of SmolLM2-135M 3x faster — the precision the
    # CUDA recipe trains in. No gradient checkpointing (memory is not the limit for CPU-sized models).
    if cuda:
        return Backend("fast", "cuda", bf16=True, gradient_checkpointing=True)
    return Backend("fast", "cpu", bf16=False, gradient_checkpointing=False, autocast_bf16=cpu_has_bf16())
