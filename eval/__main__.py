"""python -m eval — run prompt suites against served models and report base vs trained; or re-grade replies.

    python -m eval --suite gsm8k,uncensored,xstest --run runs/nano-r1 --output-dir results/nano-r1
    python -m eval --suite gsm8k --base-url http://127.0.0.1:8000/v1 --api-key-file key.txt --limit 50
    python -m eval --suite xstest --output-dir results/x --report-only          # redraw from the store
    python -m eval --run runs/nano-r1 --serve.max-model-len 4096 -- --max-num-seqs 64   # the server eval starts
    python -m eval grade --grader refusal --input replies.jsonl --output graded.jsonl
"""

from __future__ import annotations

import dataclasses
import signal
import sys

from nano_r1 import apikey
from nano_r1.cli import run_command
from nano_r1.cliargs import OneLineParser, parse_config, split_forwarded
from nano_r1.install import check as check_install


def _sigterm_as_interrupt(signum, frame):
    # SIGTERM (a timeout, a scheduler) must unwind like Ctrl-C, so the server eval started is stopped too
    # (Python's default SIGTERM exit skips the `with` blocks that stop it).
    raise KeyboardInterrupt


SERVE_HELP = ("With no --base-url, eval starts `python -m serve`: --serve.KEY VALUE sets any of its options "
              "(e.g. --serve.max-model-len 4096, see python -m serve --help), and everything after `--` goes to "
              "vLLM as it is (e.g. -- --max-num-seqs 64).")


def split_serve_args(argv: list[str]) -> tuple[list[str], dict, list[str]]:
    """(eval's own flags, `--serve.KEY VALUE` options, vLLM's flags after `--`); KEY may be spelt with - or _."""
    argv, vllm_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    argv = [("--serve." + a[len("--serve."):].replace("-", "_")) if a.startswith("--serve.") else a for a in argv]
    options, rest = split_forwarded(argv, "--serve.", OneLineParser(prog="python -m eval"))
    return rest, options, vllm_args


def work(argv: list[str]) -> int:
    from eval.config import KEY_ENV, EvalConfig, GradeConfig

    if argv[:1] == ["grade"]:
        cfg, _ = parse_config(GradeConfig, argv[1:], prog="python -m eval grade",
                              description="re-grade stored replies (no server): adds refusal or correct")
        from eval.regrade import grade_file

        n = grade_file(cfg)
        print(f"[eval] graded {n} lines → {cfg.output}", file=sys.stderr)
        return 0
    argv, serve_options, vllm_args = split_serve_args(argv)
    cfg, ns = parse_config(EvalConfig, argv, prog="python -m eval", description=__doc__.splitlines()[0],
                           extra=lambda parser: setattr(parser, "epilog", SERVE_HELP))
    if serve_options or vllm_args:  # typed and checked against ServeConfig by EvalConfig itself
        cfg = dataclasses.replace(cfg, serve={**cfg.serve, **serve_options}, vllm_args=cfg.vllm_args + vllm_args)
    check_install()  # a CUDA torchvision next to CPU torch: one line, not a traceback
    if "api_key" in vars(ns):  # typed on the command line (a YAML --config is not in argv)
        print(apikey.flag_warning(KEY_ENV), file=sys.stderr)
    from eval.run import main as run

    run(cfg)
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    return run_command(lambda: work(argv),
                       interrupted="error: interrupted; replies already stored are kept (re-run to resume)")

if __name__ == "__main__":
    sys.exit(main())
