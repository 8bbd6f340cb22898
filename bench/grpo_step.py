"""GRPO step time of the nano-r1 recipe: TRL's default GRPOTrainer + PEFT vs our `python -m train` GPU path.

    python -m bench.grpo_step --tokenizer ../shared/models/qwen2.5-tokenizer --data-dir ../shared/data \
        --backends vllm,fast,fast@unfused,trl

Side by side in one process, same model and data: a Qwen2.5-3B-shaped model with random bf16 weights
(hidden 2048, 36 layers, 16 heads, 2 KV heads, intermediate 11008, vocab 151,936, tied embeddings,
rope θ 1e6), 1 prompt × 12 completions × 1024 tokens forced to full length (EOS banned until then, so
runs are comparable), LoRA r=64 on all 7 projections, bf16, gradient checkpointing. For each backend:
median step time over the measured steps after warm-up (the warm-up pays torch.compile), its split into
generation / rewards / the rest (log-probs, forward-backward, optimizer), completion tokens per second
and peak GPU memory. Each backend runs in its own process, one after the other; the speed-up ratios of every
pair are printed last. `vllm` is TRL's colocated vLLM (train/backends.py: `vllm_mode="colocate"`, 0.3 of the
GPU for the engine), the mode TRL's docs recommend on one GPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

QWEN_3B = dict(hidden_size=2048, num_hidden_layers=36, num_attention_heads=16, num_key_value_heads=2,
               intermediate_size=11008, vocab_size=151936, tie_word_embeddings=True, rope_theta=1e6,
               max_position_embeddings=32768, rms_norm_eps=1e-6, hidden_act="silu")


def make_model(folder: Path, tokenizer: str, layers: int | None) -> Path:
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    if (folder / "config.json").exists():
        return folder
    shape = QWEN_3B | ({"num_hidden_layers": layers} if layers else {})
    config = Qwen2Config(**shape, bos_token_id=151643, eos_token_id=151645, pad_token_id=151643)
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):  # CPU: smoke runs of bench/decode_step.py
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tokenizer).save_pretrained(folder)
    del model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return folder


class Timer:
    """Wraps trainer methods to accumulate wall time per phase (CUDA-synchronised)."""

    def __init__(self, trainer):
        self.totals = {"generation": 0.0, "rewards": 0.0}
        for phase, name in (("generation", "_generate_single_turn"), ("rewards", "_calculate_rewards")):
            original = getattr(trainer, name)

            def wrapped(*a, _orig=original, _phase=phase, **k):
                torch.cuda.synchronize()
                t = time.perf_counter()
                out = _orig(*a, **k)
                torch.cuda.synchronize()
                self.totals[_phase] += time.perf_counter() - t
                return out

            setattr(trainer, name, wrapped)


# Levers, each measured on its own as BACKEND@LEVER beside the default (issue: "each lever measured on its own"):
#   fast@sync  the fast backend with the old per-token host→device cache position (a blocking copy every step)
#   fast@nogc  the fast backend without gradient checkpointing (so also the shared-prefix log-prob passes)
#   fast@unfused the fast backend with q/k/v and gate/up as separate GEMMs in the rollout copy (the old path;
#              fused into one GEMM each, train/fused.py, is the default on CUDA since it measured 1.11× here;
#              what `python -m train --fused-projections false` runs)
#   fast@liger the fast backend with TRL's `use_liger_kernel` (Liger's chunked lm-head + GRPO loss: the 151,936-word
#              logits of the 12 × ~1,200 tokens are never materialised; needs `pip install liger-kernel`)
LEVERS = {"sync", "nogc", "unfused", "liger"}


def measure(variant: str, model: Path, data_dir: str, out: Path, warmup: int, steps: int, completion: int) -> dict:
    from transformers import TrainerCallback

    from train.config import PRESETS, TrainConfig
    from train.grpo import build

    backend, _, joined = variant.partition("@")
    levers = set(joined.split("+")) - {""}  # fast@nogc+liger: levers together
    if levers - LEVERS:
        raise SystemExit(f"[bench] unknown lever {', '.join(sorted(levers - LEVERS))} (known: {', '.join(sorted(LEVERS))})")
    extra = {}
    for lever in levers:
        extra |= {"nogc": {"gradient_checkpointing": False}, "liger": {"trl": {"use_liger_kernel": True}},
                  "unfused": {"fused_projections": False}}.get(lever, {})
    cfg = TrainConfig(**(PRESETS["nano-r1"] | dict(model=str(model), dataset="gsm8k", data_dir=data_dir,
                                                 output_dir=str(out), run_name=variant.replace("@", "-").replace("+", "-"),
                                                 backend=backend, max_steps=warmup + steps, save_steps=10_000,
                                                 max_completion_length=completion, overwrite=True,
                                                 eval_every=0) | extra))  # in-training eval is not the step
    torch.cuda.reset_peak_memory_stats()
    # forced length: HF generate (trl, fast) takes `min_new_tokens`, vLLM's SamplingParams `min_tokens`
    force = {"min_tokens" if backend == "vllm" else "min_new_tokens": completion}
    trainer, *_ = build(cfg, grpo_overrides={"generation_kwargs": force})
    if "sync" in levers:  # read when the first rollout builds the rollout copy
        trainer.rollout_options = dataclasses.replace(trainer.rollout_options, host_positions=True)
    timer = Timer(trainer)
    rows = []

    class StepClock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            torch.cuda.synchronize()
            self.t, self.snap = time.perf_counter(), dict(timer.totals)

        def on_step_end(self, args, state, control, **kw):
            torch.cuda.synchronize()
            total = time.perf_counter() - self.t
            phases = {k: timer.totals[k] - self.snap[k] for k in timer.totals}
            rows.append({"step": total, **phases, "rest": total - sum(phases.values())})
            print(f"[bench] {backend} step {state.global_step}: {total:.2f} s {phases}", file=sys.stderr, flush=True)

    trainer.add_callback(StepClock())
    trainer.train()
    measured = rows[warmup:]
    med = {k: statistics.median(r[k] for r in measured) for k in measured[0]}
    from torch._dynamo.utils import counters

    result = {"backend": variant, **{f"{k}_s": round(v, 3) for k, v in med.items()},
              "warmup_s": round(sum(r["step"] for r in rows[:warmup]), 1),
              "tokens_per_s": round(cfg.completions_per_step * completion / med["step"], 1),
              "gen_ms_per_token_step": round(1000 * med["generation"] / completion, 2),
              "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 1),
              # what stands between a compiled decode step and one CUDA graph per token step
              "graph_breaks": sum(counters["graph_break"].values()),
              "cudagraph_skips": sum(v for k, v in counters["inductor"].items() if "cudagraph_skips" in k)}
    del trainer
    gc.collect()
    torch.cuda.empty_cache()
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", default="../shared/models/qwen2.5-tokenizer")
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--backends", default="trl,fast",
                    help="comma-separated backends or BACKEND@LEVER variants (fast@sync, fast@nogc, fast@unfused, fast@liger; fast@nogc+liger for two); first is the baseline")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--completion", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=None, help="fewer layers for a quick smoke run")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: measure one backend in this process
    args = ap.parse_args()
    work = Path(tempfile.gettempdir()) / "nano-r1-bench"
    model = make_model(work / f"qwen2.5-3b-random-{args.layers or 36}", args.tokenizer, args.layers)
    if args.one:
        result = measure(args.one, model, args.data_dir, work / "runs", args.warmup, args.steps, args.completion)
        Path(args.json).write_text(json.dumps(result))
        return
    results = []
    for b in args.backends.split(","):
        # each backend in its own process: vLLM's colocated engine does not give all its memory back in-process,
        # and every backend then starts from the same empty GPU
        out = work / f"result-{b.replace('@', '-').replace('+', '-')}.json"
        out.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "bench.grpo_step", "--one", b, "--json", str(out), "--tokenizer", args.tokenizer,
               "--data-dir", args.data_dir, "--warmup", str(args.warmup), "--steps", str(args.steps),
               "--completion", str(args.completion)] + (["--layers", str(args.layers)] if args.layers else [])
        code = subprocess.call(cmd)
        if code or not out.exists():
            print(f"[bench] {b} failed (exit {code})", file=sys.stderr)
            continue
        results.append(json.loads(out.read_text()))
    if not results:
        sys.exit("[bench] no backend finished")
    print(f"\nGPU: {torch.cuda.get_device_name()}  torch {torch.__version__}  model: Qwen2.5-3B shape"
          f"{'' if not args.layers else f' ({args.layers} layers)'}, 1×12×{args.completion} tokens, LoRA r64")
    cols = ["backend", "step_s", "generation_s", "rewards_s", "rest_s", "tokens_per_s", "gen_ms_per_token_step",
            "peak_gpu_gib", "warmup_s", "graph_breaks", "cudagraph_skips"]
    print(" | ".join(f"{c:>14}" for c in cols))
    for r in results:
        print(" | ".join(f"{r.get(c, '-'):>14}" for c in cols))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    for i, base in enumerate(results):
        for r in results[i + 1:]:
            print(f"speed-up {r['backend']} vs {base['backend']}: {base['step_s'] / r['step_s']:.2f}x step time")


if __name__ == "__main__":
    main()
