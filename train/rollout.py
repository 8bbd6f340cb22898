"""Fast rollouts for GRPO: a merged copy of the policy, a static KV cache, each distinct prompt prefilled once,
and (on CUDA) a compiled decode step (CUDA graphs), instead of `generate` on the PEFT model.

Why: TRL's default path calls `model.generate` on the PEFT-wrapped model. Every decode step then runs
the un-merged LoRA matmuls (7 × n_layers extra pairs, with LoRA dropout still on: the model is in train mode),
a growing dynamic cache and generate's Python bookkeeping — launch-bound at ~109 ms per token step for a 3B model
on a GPU. Here the LoRA delta is merged into a separate plain copy of the weights (synced in place after each
optimizer step, so captured CUDA graphs stay valid), the cache is a transformers `StaticCache` of fixed shape
(prompts left-padded to `max_prompt_length`), and one decode step (forward + temperature sampling) is compiled
once with `torch.compile(mode="reduce-overhead")`; attention at decode reads the grouped KV cache without
copying it (train/attention.py). The model code itself is transformers'; only the loop and that attention are ours.

GRPO samples each prompt `num_generations` times, so the prompt's KV is computed once per distinct prompt and
copied into its rows of the cache (`generate` prefills every row: 8× the prompt work for a group of 8).

On CPU the decode step is compiled with inductor's default mode (C++; no CUDA graphs there) only for runs
long enough to pay for the compile (train/fast.py CPU_COMPILE_MIN_TOKEN_STEPS); otherwise the same loop runs
eagerly, and is checked token for token against `generate` (tests/test_rollout.py).
"""

from __future__ import annotations

import copy
import sys
import time
from dataclasses import dataclass

import torch

AUTO = "auto"  # RolloutOptions.compile_mode: CUDA graphs on a GPU, inductor's default (C++) on a CPU


@dataclass(frozen=True)
class RolloutOptions:
    """Every switch of the fast rollout, each at the product's default. `python -m train --fused-projections false`
    sets `fuse` (train/backends.py builds the trainer's options); the benches build their own to measure one lever
    at a time (bench/grpo_step.py's BACKEND@LEVER, bench/decode_step.py's variants, bench/cpu_step.py)."""

    # q/k/v and gate/up as one GEMM each (train/fused.py). None: on CUDA, where it was measured (H200, Qwen2.5-3B
    # shape, 12 rows: 4.04 → 3.50 ms per token step, GRPO step 5.72 → 5.14 s; `python -m bench.grpo_step
    # --backends fast,fast@unfused`); off on CPU, where it gave nothing (bench/cpu_step.py fast+fused: generation 0.95×).
    fuse: bool | None = None
    # torch.compile the decode step. None: on CUDA (train/fast.py also on CPU for runs long enough to pay for it).
    compile: bool | None = None
    compile_mode: str | None = AUTO  # torch.compile's mode; bench/decode_step.py's nographs (None) and autotune
    fullgraph: bool = False  # True fails on a graph break and says where (bench/decode_step.py's fullgraph)
    # True: the old per-step host→device copy of the cache position, a blocking one (bench/grpo_step.py's fast@sync)
    host_positions: bool = False


def lora_modules(peft_model):
    """(name, LoRA layer) pairs of a PEFT model whose active adapter is 'default'."""
    from peft.tuners.lora import LoraLayer

    return [(n, m) for n, m in peft_model.named_modules() if isinstance(m, LoraLayer)]


class MergedPolicy:
    """A plain (no PEFT) copy of the base model whose weights are base + LoRA delta."""

    def __init__(self, peft_model, options: RolloutOptions = RolloutOptions()):
        base = peft_model.get_base_model()
        with torch.no_grad():
            # Deep-copy the transformers module, then strip the LoRA wrappers back to plain Linear layers.
            self.model = copy.deepcopy(base)
        for name, _ in lora_modules(peft_model):
            rel = name.split("base_model.model.", 1)[-1]
            parent_name, _, child = rel.rpartition(".")
            parent = self.model.get_submodule(parent_name) if parent_name else self.model
            wrapped = getattr(parent, child)
            setattr(parent, child, wrapped.base_layer)
        self.model.eval().requires_grad_(False)
        fuse = options.fuse if options.fuse is not None else next(self.model.parameters()).is_cuda
        if fuse:
            from train.fused import fuse_projections

            fuse_projections(self.model)
        self._pairs = None
        self.sync(peft_model)

    @torch.no_grad()
    def sync(self, peft_model) -> float:
        """Write W_base + scale·B·A into the copy, in place. Returns seconds taken."""
        start = time.perf_counter()
        if self._pairs is None:
            mine = dict(self.model.named_modules())
            self._pairs = []
            for name, layer in lora_modules(peft_model):
                rel = name.split("base_model.model.", 1)[-1]
                self._pairs.append((layer, mine[rel]))
        for layer, target in self._pairs:
            weight = layer.base_layer.weight
            delta = layer.get_delta_weight("default") if "default" in layer.lora_A else 0
            target.weight.copy_(weight + delta)
        return time.perf_counter() - start


class StaticRollout:
    """Sample completions for a batch of token-id prompts with a fixed-shape static cache."""

    def __init__(self, model, batch_size: int, max_prompt_length: int, max_new_tokens: int, pad_token_id: int,
                 options: RolloutOptions = RolloutOptions()):
        from transformers import StaticCache

        from train.attention import use_gqa_decode

        use_gqa_decode(model)  # the rollout model only: attention without repeat_kv copies of the cache
        self.model = model
        self.batch_size, self.prompt_len, self.max_new = batch_size, max_prompt_length, max_new_tokens
        self.pad = pad_token_id
        self.device = next(model.parameters()).device
        self.cache = StaticCache(config=model.config, max_batch_size=batch_size,
                                 max_cache_len=max_prompt_length + max_new_tokens)
        self.options = options
        self.compiled = self.device.type == "cuda" if options.compile is None else options.compile
        self._cuda_graphs = self.compiled and self.device.type == "cuda"
        mode = options.compile_mode
        if mode == AUTO:
            mode = "reduce-overhead" if self._cuda_graphs else None  # CUDA graphs on a GPU; inductor's C++ on CPU
        self._decode = torch.compile(self._decode_step, mode=mode, fullgraph=options.fullgraph) if self.compiled \
            else self._decode_step
        self._decode_ran = False

    def _run_decode(self, *args):
        """The decode step; if compiling it fails on a CPU (no C++ compiler, say), say so and decode eagerly."""
        if self._decode_ran or not self.compiled or self._cuda_graphs:
            return self._decode(*args)
        try:
            out = self._decode(*args)  # compiles before it runs: a failure here has not touched the cache
        except Exception as e:  # noqa: BLE001 — any inductor failure: the eager step computes the same
            print(f"[train] compiling the decode step failed ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
                  "decoding eagerly", file=sys.stderr, flush=True)
            self.compiled, self._decode = False, self._decode_step
            out = self._decode(*args)
        self._decode_ran = True
        return out

    def _forward(self, input_ids, attention_mask, position_ids, cache_position, logits_to_keep=1):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         cache_position=cache_position, past_key_values=self.cache, use_cache=True,
                         logits_to_keep=logits_to_keep)
        return out.logits[:, -1, :]

    def _prefill(self, ids, prompt_mask, index):
        """Prefill the distinct prompts into a dynamic cache, then copy each row's KV into the static cache
        (its public `update`, which also advances the cache's length); returns each row's last-prompt logits."""
        from transformers import DynamicCache

        prefix = DynamicCache(config=self.model.config)
        out = self.model(input_ids=ids, attention_mask=prompt_mask, use_cache=True, past_key_values=prefix,
                         position_ids=(prompt_mask.cumsum(-1) - 1).clamp(min=0), logits_to_keep=1)
        self.cache.reset()
        for i, layer in enumerate(prefix.layers):
            self.cache.update(layer.keys.index_select(0, index), layer.values.index_select(0, index), i)
        return out.logits[:, -1, :].index_select(0, index)

    def _decode_step(self, tokens, attention_mask, position_ids, cache_position, bias, inv_temp, noise):
        """Forward one token and sample the next; compiled whole, so a step is one CUDA graph replay."""
        logits = self._forward(tokens, attention_mask, position_ids, cache_position)
        return self.sample(logits, bias, inv_temp, noise)

    @staticmethod
    def sample(logits, bias, inv_temp, noise):
        # Gumbel-max: same distribution as multinomial(softmax(logits / T)), one pass, no host sync.
        # Temperature and greedy-vs-sampled are tensors so changing them never recompiles. Gumbel noise as
        # -log(-log U), U uniform: the same law as -log(Exp(1)), and on CPU uniform draws are ~5× cheaper than
        # exponential_ (14 vs 3 ms for 8 × 49k logits: a tenth of a 135M decode step).
        uniform = torch.rand_like(logits, dtype=torch.float32).clamp_(1e-20, 1.0 - 1e-7)
        gumbel = -(-uniform.log()).log()
        return ((logits.float() + bias) * inv_temp + gumbel * noise).argmax(dim=-1)

    @torch.no_grad()
    def generate(self, prompts: list[list[int]], temperature: float, eos_token_ids: list[int],
                 min_new_tokens: int = 0, check_every: int = 32) -> list[list[int]]:
        """Completion ids per prompt, each ending at (and including) its first EOS, like TRL's."""
        n = len(prompts)
        if n > self.batch_size or max(map(len, prompts)) > self.prompt_len:
            raise ValueError(f"rollout batch {n}×{max(map(len, prompts))} exceeds {self.batch_size}×{self.prompt_len}")
        dev, P = self.device, self.prompt_len
        # GRPO repeats each prompt num_generations times: prefill each distinct prompt once. Unused rows of the
        # fixed-size batch copy the first prompt (they start finished; their tokens are dropped).
        distinct: dict[tuple, int] = {}
        row_prompt = [distinct.setdefault(tuple(p), len(distinct)) for p in prompts] + [0] * (self.batch_size - n)
        ids = torch.full((len(distinct), P), self.pad, dtype=torch.long)
        prompt_mask = torch.zeros((len(distinct), P), dtype=torch.long)
        for p, i in distinct.items():  # left padding: every prompt ends at column P-1
            ids[i, P - len(p):] = torch.tensor(p)
            prompt_mask[i, P - len(p):] = 1
        index = torch.tensor(row_prompt)
        mask = torch.cat([prompt_mask[index], torch.ones((self.batch_size, self.max_new), dtype=torch.long)], 1)
        ids, prompt_mask, mask, index = ids.to(dev), prompt_mask.to(dev), mask.to(dev), index.to(dev)
        positions = (mask[:, :P].cumsum(-1) - 1).clamp(min=0)
        logits = self._prefill(ids, prompt_mask, index)
        eos = torch.tensor(eos_token_ids, device=dev)
        vocab = logits.shape[-1]
        no_bias = torch.zeros(vocab, device=dev)
        ban_eos = no_bias.clone()
        ban_eos[[e for e in eos_token_ids if e < vocab]] = float("-inf")
        inv_temp = torch.tensor(1.0 / temperature if temperature > 0 else 1.0, device=dev)
        noise = torch.tensor(1.0 if temperature > 0 else 0.0, device=dev)
        out = torch.full((self.batch_size, self.max_new), self.pad, dtype=torch.long, device=dev)
        finished = torch.zeros(self.batch_size, dtype=torch.bool, device=dev)
        finished[n:] = True
        pos = positions[:, -1:].clone()
        # The cache slot of the token fed at step t is P + t. Kept on the device and advanced in place:
        # `torch.tensor([P + t], device=dev)` is a blocking host→device copy, so the host would wait for the
        # GPU at every token step instead of queueing the next graph replay behind the current one.
        cache_pos = torch.full((1,), P - 1, dtype=torch.long, device=dev)
        steps = 0
        # Stopping when every row has ended needs a device→host sync: on a GPU only every few steps (it
        # stalls the launch queue), on a CPU (synchronous anyway) at every step.
        check_every = 1 if dev.type == "cpu" else check_every
        token = self.sample(logits, ban_eos if min_new_tokens > 0 else no_bias, inv_temp, noise)
        for t in range(self.max_new):
            token = torch.where(finished, torch.full_like(token, self.pad), token)
            out[:, t] = token
            finished |= torch.isin(token, eos)
            steps = t + 1
            if t + 1 == self.max_new or ((t + 1) % check_every == 0 and bool(finished.all())):
                break
            pos += 1
            cache_pos += 1
            if self._cuda_graphs:
                torch.compiler.cudagraph_mark_step_begin()
            bias = ban_eos if t + 1 < min_new_tokens else no_bias
            slot = torch.tensor([P + t], device=dev) if self.options.host_positions else cache_pos
            token = self._run_decode(token[:, None], mask, pos, slot, bias,
                                     inv_temp, noise).clone()  # CUDA-graph outputs are overwritten by the next replay
        rows = out[:n, :steps].tolist()
        result = []
        for row in rows:
            cut = next((j for j, tok in enumerate(row) if tok in eos_token_ids), None)
            result.append(row[: cut + 1] if cut is not None else row)
        return result
