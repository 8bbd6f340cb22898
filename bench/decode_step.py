"""Where a fast-rollout token step goes: the decode loop of train/rollout.py alone, no training, and a profile.

    python bench/decode_step.py --tokenizer ../shared/models/qwen2.5-tokenizer [--variants device,sync] [--profile]
    python bench/decode_step.py --layers 1 --new-tokens 8 --repeats 1      # a smoke run (also on a CPU)

The Qwen2.5-3B-shaped random bf16 model of bench/grpo_step.py, 12 rows of one 200-token prompt, --new-tokens
forced (EOS banned), temperature 1. Per variant: ms per token step, the median of --repeats generations after a
warm-up that compiles (`device`: the cache position kept on the device, the default; `sync`: the old blocking
host→device copy each step). With --profile, one more generation runs under torch.profiler: the top operators by
device time, and the share of the wall time the device was busy — well under 100 % means the host (Python,
launches, syncs) is what a token step waits for, near 100 % means the kernels themselves (issue: decode ≤ 2 ms
per token step; the weights alone are ~1.3 ms at 4.8 TB/s). Prints torch's graph-break count for the decode step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from bench.grpo_step import make_model  # noqa: E402


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


def profile(roll, prompts, new_tokens, eos, top: int) -> None:
    from torch.profiler import ProfilerActivity, profile as torch_profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if roll.device.type == "cuda" else [])
    with torch_profile(activities=acts) as prof:
        wall = timed_generate(roll, prompts, new_tokens, eos)
    key = "self_device_time_total" if roll.device.type == "cuda" else "self_cpu_time_total"
    events = prof.key_averages()
    print(events.table(sort_by=key, row_limit=top))
    if roll.device.type == "cuda":
        busy = sum(getattr(e, "self_device_time_total", 0) for e in events) / 1e6  # µs of kernels → s
        print(f"device busy {busy:.3f} s of {wall:.3f} s wall ({100 * busy / wall:.0f} %), "
              f"{1000 * busy / new_tokens:.2f} ms of kernels per token step")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", default="../shared/models/qwen2.5-tokenizer")
    ap.add_argument("--variants", default="device,sync", help="device (default loop), sync (old host position)")
    ap.add_argument("--rows", type=int, default=12)
    ap.add_argument("--new-tokens", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--layers", type=int, default=None, help="fewer layers for a quick smoke run")
    ap.add_argument("--profile", action="store_true", help="profile one more generation of the first variant")
    ap.add_argument("--top", type=int, default=15)
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
    roll = StaticRollout(model, batch_size=args.rows, max_prompt_length=256, max_new_tokens=args.new_tokens,
                         pad_token_id=model.config.pad_token_id)
    rows = []
    for variant in args.variants.split(","):
        if variant not in ("device", "sync"):
            sys.exit(f"error: unknown variant {variant!r} (device, sync)")
        StaticRollout.host_positions = variant == "sync"
        warm = timed_generate(roll, prompts, args.new_tokens, eos)  # compiles (CUDA) on the first variant
        times = [timed_generate(roll, prompts, args.new_tokens, eos) for _ in range(args.repeats)]
        ms = 1000 * statistics.median(times) / args.new_tokens
        rows.append((variant, ms, warm))
        print(f"[bench] {variant}: {ms:.2f} ms per token step (warm-up {warm:.1f} s)", file=sys.stderr, flush=True)
    if args.profile:
        StaticRollout.host_positions = args.variants.split(",")[0] == "sync"
        profile(roll, prompts, args.new_tokens, eos, args.top)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    print(f"\n{name}, torch {torch.__version__}, Qwen2.5-3B shape{f' ({args.layers} layers)' if args.layers else ''}, "
          f"{args.rows} rows × {args.new_tokens} tokens, compiled decode: {roll.compiled}, "
          f"graph breaks: {sum(counters['graph_break'].values())}")
    for variant, ms, warm in rows:
        print(f"{variant:>8}  {ms:8.2f} ms / token step   warm-up {warm:6.1f} s")


if __name__ == "__main__":
    main()
