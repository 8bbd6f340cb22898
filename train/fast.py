"""GRPOTrainer whose rollouts run on train.rollout (merged LoRA, static cache, compiled decode on CUDA).

Chosen by `--backend fast` (the default on CPU, and on CUDA without Unsloth/vLLM). Everything but generation —
rewards, advantages, the loss, the optimizer — is TRL's, unchanged. Falls back to TRL's own generation
for what the fast loop does not implement (top-p/top-k/min-p, repetition penalty, multimodal, tools).
Without gradient checkpointing (the CPU path) the reference and policy log-prob forwards run each distinct
prompt once per batch (train/shared_prefix.py); TRL's log-softmax, entropy and loss take the result.
"""

from __future__ import annotations

import dataclasses
import sys
import time

from train.rollout import RolloutOptions
from train.trainer import RecordingGRPOTrainer


# On a CPU the compiled decode step (inductor, C++) made rollouts of SmolLM2-135M 10–20% faster (~20 ms of a
# ~110 ms token step on 2 shared cores) but costs ~60 s to compile the first time on a machine and ~15 s once
# inductor's cache holds it (bench/cpu_step.py --compile): it pays from about this many decode steps in a run
# (max_steps × max_completion_length) on, so shorter CPU runs decode eagerly.
CPU_COMPILE_MIN_TOKEN_STEPS = 2500


class FastRolloutGRPOTrainer(RecordingGRPOTrainer):
    _policy = None
    _rollout = None
    _synced_step = -1
    rollout_seconds = 0.0  # cumulative, read by bench/grpo_step.py

    def __init__(self, *args, rollout_options: RolloutOptions = RolloutOptions(), **kwargs):
        super().__init__(*args, **kwargs)
        # what the rollout copy is built with (read when the first rollout builds it); compile None: on CUDA, and
        # on CPU for runs of CPU_COMPILE_MIN_TOKEN_STEPS or more
        self.rollout_options = rollout_options

    def _fast_supported(self) -> bool:
        a = self.args
        return (not self.use_vllm and a.top_p == 1.0 and not a.top_k and a.min_p is None
                and a.repetition_penalty == 1.0 and not getattr(self, "tools", None) and not self._is_vlm)

    def _ensure_rollout(self, batch: int, prompt_len: int):
        from train.rollout import MergedPolicy, StaticRollout

        model = self.accelerator.unwrap_model(self.model)
        if self._policy is None:
            self._policy = MergedPolicy(model, self.rollout_options)
        need_new = self._rollout is None or batch > self._rollout.batch_size or prompt_len > self._rollout.prompt_len
        if need_new:
            max_prompt = max(prompt_len, self.max_prompt_length)
            options = self.rollout_options
            if options.compile is None:
                options = dataclasses.replace(options, compile=(
                    self.accelerator.device.type == "cuda"
                    or self.args.max_steps * self.max_completion_length >= CPU_COMPILE_MIN_TOKEN_STEPS))
            self._rollout = StaticRollout(self._policy.model, batch, max_prompt, self.max_completion_length,
                                          self._tokenizer.pad_token_id, options)
            print(f"[train] fast rollouts: merged LoRA, static cache {batch}×{max_prompt + self.max_completion_length}"
                  f"{', compiled decode (first step compiles)' if self._rollout.compiled else ''}",
                  file=sys.stderr, flush=True)
        if self.state.global_step != self._synced_step:  # weights changed since the last rollout
            self._policy.sync(model)
            self._synced_step = self.state.global_step

    def _get_per_token_logps_and_entropies(self, model, *args, **kwargs):
        given = [k for k, v in kwargs.items() if k not in ("batch_size", "compute_entropy")
                 and v is not None and v is not False]  # images, MoE aux loss, ...: TRL's own forward
        if not given and not self.use_liger_kernel and not self.args.gradient_checkpointing:
            from train.shared_prefix import SharedPrefixModel

            model = SharedPrefixModel(model)
        return super()._get_per_token_logps_and_entropies(model, *args, **kwargs)

    def fast_rollout_ready(self) -> bool:
        return self._fast_supported()

    def greedy(self, prompt_ids: list[list[int]], max_tokens: int) -> list[list[int]]:
        """Temperature-0 completions on the rollout engine (evaluation during training), in engine-sized chunks."""
        import torch

        out = []
        batch = self._rollout.batch_size if self._rollout is not None else self.args.per_device_train_batch_size
        self._ensure_rollout(batch, max(map(len, prompt_ids)))
        size = self._rollout.batch_size
        for i in range(0, len(prompt_ids), size):
            out.extend(self._rollout.generate(prompt_ids[i:i + size], 0.0, list(self.eos_token_ids)))
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return [c[:max_tokens] for c in out]

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        if images or multimodal_fields or not self._fast_supported():
            return super()._generate_single_turn(prompt_ids, images, multimodal_fields, num_generations,
                                                 has_tool_images)
        start = time.perf_counter()
        self._ensure_rollout(len(prompt_ids), max(map(len, prompt_ids)))
        kwargs = self.args.generation_kwargs or {}
        completions = self._rollout.generate(prompt_ids, self.temperature, list(self.eos_token_ids),
                                             min_new_tokens=int(kwargs.get("min_new_tokens", 0)))
        self.rollout_seconds += time.perf_counter() - start
        return completions, None
