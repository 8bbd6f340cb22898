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


def main(argv=None) -> int:
    try:
        cfg = parse(argv)
        from train.grpo import run

        run(cfg)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
