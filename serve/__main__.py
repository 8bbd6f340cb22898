"""python -m serve — an OpenAI-compatible vLLM server for `base` and the trained adapter; flags after `--` go to vLLM.

    python -m serve [--model M] [--adapter runs/NAME] [--adapter-name nano-r1] [--host H] [--port P]
                    [--api-key-file FILE] [--merged] [-- vLLM flags]

    python -m serve --adapter runs/tiny                  # http://127.0.0.1:8000/v1: models `base` and `nano-r1`
    python -m serve --adapter runs/tiny --merged         # the adapter merged into the base (base speed), port 8001
    python -m serve --adapter runs/tiny --api-key-file key.txt -- --max-num-seqs 64

The key (every route answers 401 without it) comes from --api-key-file, else --api-key (visible in `ps`:
warned), else $VLLM_API_KEY; it reaches vLLM through the environment and is printed masked. On a non-loopback
--host a key under 16 characters is refused (--allow-weak-key). One request may ask for at most --max-n choices
(64) and --max-request-tokens tokens (the context): above, the server answers 400. The adapter's tensors (shapes
against the base's config.json) and the base itself are checked before vLLM starts.
"""

from __future__ import annotations

import sys

from nano_r1 import apikey
from nano_r1.cli import run_command
from nano_r1.cliargs import make_config, parse_config
from nano_r1.install import check as check_install
from serve.config import KEY_ENV, ServeConfig


def parse(argv=None) -> ServeConfig:
    argv = sys.argv[1:] if argv is None else list(argv)
    extra = []
    if "--" in argv:  # everything after `--` goes to vLLM untouched
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    cfg, ns = parse_config(ServeConfig, argv, prog="python -m serve",
                           description=__doc__.splitlines()[0].split(" — ", 1)[1])
    if "api_key" in vars(ns):  # typed on the command line (a YAML --config is not in argv)
        print(apikey.flag_warning(KEY_ENV), file=sys.stderr)
    if extra:
        values = {k: v for k, v in vars(cfg).items()}
        cfg = make_config(ServeConfig, values | {"extra_args": list(cfg.extra_args) + extra})
    return cfg.with_key_from_env()


def work(argv=None) -> int:
    cfg = parse(argv)
    check_install()  # a CUDA torchvision next to CPU torch: one line, not a traceback
    from serve.foreground import run

    return run(cfg)  # vLLM that does not come up: ServeError, one line (nano_r1/cli.py)


def main(argv=None) -> int:
    # Ctrl-C during start-up: serve_in_background has already stopped vLLM
    return run_command(lambda: work(argv), interrupted="\n[serve] interrupted")


if __name__ == "__main__":
    sys.exit(main())
