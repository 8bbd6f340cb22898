"""python -m train [--preset tiny|nano-r1] [--model M] [--dataset D] [--resume] ... — GRPO + LoRA training.

    python -m train --preset tiny                          # CPU: embedded SmolLM2-135M, synthetic problems
    python -m train --preset nano-r1                       # GPU: Qwen2.5-3B-Instruct on GSM8K
    python -m train --dataset gsm8k --data-dir ../shared/data --max-steps 50
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from train.cliargs import ConfigError, make_config, parse_config
from train.config import PRESETS, TrainConfig, default_preset


def parse(argv=None) -> TrainConfig:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--preset" not in argv and not any(a.startswith("--preset=") for a in argv) and not \
            {"-h", "--help"} & set(argv):
        argv = ["--preset", default_preset()] + argv
    cfg, ns = parse_config(TrainConfig, argv, prog="python -m train", description=__doc__.splitlines()[0],
                           presets=PRESETS)
    if cfg.resume:  # continue with the settings the run started with; explicit flags still win
        saved_path = Path(cfg.run_dir) / "config.json"
        if saved_path.is_file():
            saved = json.loads(saved_path.read_text())
            explicit = {k: v for k, v in vars(ns).items() if k in saved}
            fields = TrainConfig.__dataclass_fields__
            cfg = make_config(TrainConfig, {k: v for k, v in saved.items() if k in fields} | explicit
                              | {"resume": True, "overwrite": False})
    return cfg


# Shared multi-GPU hosts: NVLink multicast (NVLS) can take the host's GPUs down; keep it off, also for children.
NO_MULTICAST = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1", "NVSHMEM_DISABLE_NVLS": "1"}


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


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        cfg = parse(argv)
        if cfg.num_gpus > 1 and "LOCAL_RANK" not in __import__("os").environ:
            return relaunch_data_parallel(cfg, argv)
        from train.grpo import run

        run(cfg)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
