"""Where a fast-rollout token step goes: the decode loop of train/rollout.py alone, no training, and a profile.

    python -m bench.decode_step --tokenizer ../shared/models/qwen2.5-tokenizer --variants device,sync,fullgraph,nographs,autotune --profile
    python -m bench.decode_step --layers 1 --new-tokens 8 --repeats 1 --compile   # a smoke run (also on a CPU)

The Qwen2.5-3B-shaped random bf16 model of bench/grpo_step.py, 12 rows of one 200-token prompt, --new-tokens
forced (EOS banned), temperature 1. Per variant: ms per token step, the median of --repeats generations after a
warm-up that compiles. Variants (each a lever measured on its own, as train.rollout.RolloutOptions; each compiles
afresh):
  device      the default loop: cache position kept on the device, `torch.compile(mode="reduce-overhead")`
  sync        the old blocking host→device copy of the cache position at each step
  fullgraph   the same compile with fullgraph=True: if the decode step has a graph break, this fails and prints why
  nographs    inductor's default mode (no CUDA graphs): what the graphs save, i.e. what launching costs
  autotune    mode="max-autotune": CUDA graphs plus Triton GEMM autotuning (the M=12 GEMMs are the bulk)
  fused       the default compile on a copy with q/k/v and gate/up fused into one GEMM each (train/fused.py)
With --profile, one more generation of the first variant runs, --window of its token steps (from the middle)
under torch.profiler: the top operators by device time, and the share of the wall time the device was busy —
well under 100 % means the host (Python, launches, syncs) or the gaps between kernels are what a token step
waits for, near 100 % means the kernels themselves (issue: decode ≤ 2 ms per token step; the weights alone
are ~1.3 ms at 4.8 TB/s). Prints torch's graph-break count per variant (run with TORCH_LOGS=graph_breaks for the
reasons).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from bench.grpo_step import make_model
from train.rollout import RolloutOptions

VARIANTS = {"device": RolloutOptions(), "sync": RolloutOptions(host_positions=True),
            "fullgraph": RolloutOptions(fullgraph=True), "nographs": RolloutOptions(compile_mode=None),
            "autotune": RolloutOptions(compile_mode="max-autotune"), "fused": RolloutOptions(fuse=True)}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed_generate(roll, prompts, new_tokens, eos) -> float:
    sync(roll.device)
    t0 = time.perf_counter()
    out = roll.generate(prompts, temperature=1.0, eos_token_ids=eos, min_new_tokens=new_tokens)
    sync(roll.device)
    assert all(len(o) == new_tokens for o in out)
    return time.perf_counter() - t0


def profile(roll, prompts, new_tokens, eos, top: int, window: int) -> None:
    """Profile `window` token steps from the middle of one generation (a whole one is ~700 kernels × 1,024 steps:
    too many events to sort through in the time a GPU lease leaves)."""
    from torch.profiler import ProfilerActivity, profile as torch_profile

    # On CUDA the kernels only: the table is about them
    acts = [ProfilerActivity.CUDA] if roll.device.type == "cuda" else [ProfilerActivity.CPU]
    prof = torch_profile(activities=acts)
    first = max(0, (new_tokens - window) // 2)
    calls, wall, decode = [0], [0.0], roll._decode

    def counted(*args):  # the decode step's calls, to start and stop the profiler around the window
        if calls[0] == first:
            sync(roll.device)
            prof.start()
            wall[0] = time.perf_counter()
        out = decode(*args)
        calls[0] += 1
        if calls[0] == first + window:
            sync(roll.device)
            wall[0] = time.perf_counter() - wall[0]
            prof.stop()
        return out

    roll._decode = counted
    try:
        timed_generate(roll, prompts, new_tokens, eos)
    finally:
        roll._decode = decode
    steps = min(window, calls[0] - first)
    key = "self_device_time_total" if roll.device.type == "cuda" else "self_cpu_time_total"
    events = prof.key_averages()
    print(f"token steps {first}..{first + steps} of {new_tokens}:")
    print(events.table(sort_by=key, row_limit=top))
    if roll.device.type == "cuda":
        busy = sum(getattr(e, "self_device_time_total", 0) for e in events) / 1e6  # µs of kernels → s
        print(f"device busy {busy:.3f} s of {wall[0]:.3f} s wall ({100 * busy / wall[0]:.0f} %), "
              f"{1000 * busy / steps:.2f} ms of kernels per token step")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", default="../shared/models/qwen2.5-tokenizer")
    ap.add_argument("--variants", default="device,sync", help=", ".join(VARIANTS))
    ap.add_argument("--rows", type=int, default=12)
    ap.add_argument("--new-tokens", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--layers", type=int, default=None, help="fewer layers for a quick smoke run")
    ap.add_argument("--profile", action="store_true", help="profile one more generation of the first variant")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--window", type=int, default=64, help="token steps profiled (from the middle of a generation)")
    ap.add_argument("--compile", action="store_true", help="compile on a CPU too (CUDA always compiles)")
    args = ap.parse_args()
    from torch._dynamo.utils import counters
    from transformers import AutoModelForCausalLM

    from train.rollout import StaticRollout

    folder = make_model(Path(tempfile.gettempdir()) / "nano-r1-bench" / f"qwen2.5-3b-random-{args.layers or 36}",
                        args.tokenizer, args.layers)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16).to(device).eval()
    eos = [model.config.eos_token_id]
    prompts = [torch.randint(1000, 100000, (200,), generator=torch.Generator().manual_seed(0)).tolist()] * args.rows
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"error: unknown variant {unknown[0]!r} ({', '.join(VARIANTS)})")
    compile = True if args.compile or device.type == "cuda" else None
    rows, first_roll = [], None
    for variant in variants:
        torch._dynamo.reset()  # a fresh compile per lever
        counters.clear()
        options = dataclasses.replace(VARIANTS[variant], compile=compile)
        target = model
        if options.fuse:  # what MergedPolicy does with this option, on a copy
            from train.fused import fuse_projections

            target = copy.deepcopy(model)
            fuse_projections(target)
        roll = StaticRollout(target, batch_size=args.rows, max_prompt_length=256, max_new_tokens=args.new_tokens,
                             pad_token_id=model.config.pad_token_id, options=options)
        try:
            warm = timed_generate(roll, prompts, args.new_tokens, eos)  # compiles
        except Exception as e:  # noqa: BLE001 — fullgraph's graph break, an autotune failure: report, go on
            print(f"[bench] {variant}: failed: {type(e).__name__}: {str(e)[:1500]}", file=sys.stderr, flush=True)
            continue
        times = [timed_generate(roll, prompts, args.new_tokens, eos) for _ in range(args.repeats)]
        ms = 1000 * statistics.median(times) / args.new_tokens
        breaks = sum(counters["graph_break"].values())
        rows.append((variant, ms, warm, breaks))
        print(f"[bench] {variant}: {ms:.2f} ms per token step (warm-up {warm:.1f} s, graph breaks {breaks})",
              file=sys.stderr, flush=True)
        first_roll = first_roll or roll
    if args.profile and first_roll:
        profile(first_roll, prompts, args.new_tokens, eos, args.top, args.window)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    print(f"\n{name}, torch {torch.__version__}, Qwen2.5-3B shape{f' ({args.layers} layers)' if args.layers else ''}, "
          f"{args.rows} rows × {args.new_tokens} tokens, compiled decode: {bool(compile)}")
    for variant, ms, warm, breaks in rows:
        print(f"{variant:>10}  {ms:8.2f} ms / token step   warm-up {warm:6.1f} s   graph breaks {breaks}")


if __name__ == "__main__":
    main()
