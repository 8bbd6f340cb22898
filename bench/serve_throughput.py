"""Throughput of `python -m serve` vs raw vLLM, and of the trained model via LoRA and via --merged, in one run.

    python -m bench.serve_throughput --adapter runs/t1

One server at a time, each started, measured and stopped in turn:
  1. `python -m serve --adapter A`           (the real CLI, as a subprocess): `base` and the adapter (LoRA)
  2. vLLM started directly with the vLLM argv and environment that serve builds (serve/launch.py), no serve
     process in front: `base`; once with identical flags (the goal's comparison: what serve itself costs), once
     without serve's reasoning-parser flags (what the reasoning split costs: vLLM then runs its parser pipeline
     on every streamed token)
  3. `python -m serve --adapter A --merged`  (two vLLM processes): `base` (no LoRA) and the merged adapter
Load: N chat requests streamed at a fixed concurrency, temperature 0, fixed seed, ignore_eos so that every
request produces exactly --max-tokens tokens. Throughput = completion tokens / wall seconds of the batch.
Each (server, model) is measured --repeats times, interleaved across models; other work on a shared machine can
only slow a repeat down, so the ratios use the best repeat (the median is printed too).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from nano_r1.models import cache_dir
from serve.config import BASE_NAME, ServeConfig, on_cpu
from serve.launch import build_argv, child_env, pick_ports, resolve_base, serving_dtype
from serve.process import VLLMProcess, wait_until_ready

REPO = Path(__file__).resolve().parent.parent

PARSER_FLAGS = {"--reasoning-parser-plugin", "--reasoning-parser", "--structured-outputs-config"}
QUESTIONS = [f"Sam has {a} apples and buys {b} bags of {c} apples. How many apples does Sam have now?"
             for a, b, c in zip(range(3, 99, 3), range(2, 66, 2), range(5, 37))]


async def _load(url: str, model: str, args) -> float:
    """Completion tokens per second of `args.requests` streamed chat requests at `args.concurrency`."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key=args.api_key, max_retries=0, timeout=600)
    gate = asyncio.Semaphore(args.concurrency)

    async def one(i: int) -> int:
        async with gate:
            stream = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}],
                max_tokens=args.max_tokens, temperature=0, seed=i, stream=True,
                stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
            tokens = 0
            async for chunk in stream:
                if chunk.usage:
                    tokens = chunk.usage.completion_tokens
            return tokens

    start = time.perf_counter()
    tokens = await asyncio.gather(*(one(i) for i in range(args.requests)))
    elapsed = time.perf_counter() - start
    await client.close()
    assert all(t == args.max_tokens for t in tokens), f"expected {args.max_tokens} tokens each, got {set(tokens)}"
    return sum(tokens) / elapsed


def measure(label: str, urls: dict[str, str], args, results: dict) -> None:
    for name, url in urls.items():  # warm-up: first requests pay for lazy init (and LoRA loading)
        asyncio.run(_load(url, name, argparse.Namespace(**{**vars(args), "requests": args.concurrency})))
    for r in range(args.repeats):
        for name, url in urls.items():
            tps = asyncio.run(_load(url, name, args))
            results.setdefault((label, name), []).append(tps)
            print(f"[bench] {label:<32} {name:<8} repeat {r + 1}: {tps:7.1f} tok/s", file=sys.stderr, flush=True)


def run_serve_cli(label: str, extra: list[str], args, results: dict) -> None:
    """`python -m serve` exactly as a user starts it; SIGTERM stops it (and vLLM) at the end."""
    port = _two_adjacent_free_ports() if "--merged" in extra else pick_ports("127.0.0.1", 0, 1)[0]
    cmd = [sys.executable, "-m", "serve", "--adapter", args.adapter, "--adapter-name", args.adapter_name,
           "--model", args.model, "--port", str(port), "--api-key", args.api_key, *extra]
    log = cache_dir() / "logs" / f"bench-{label.replace(' ', '_')}.log"
    print(f"[bench] {label}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        urls = {BASE_NAME: f"http://127.0.0.1:{port}/v1"}
        urls[args.adapter_name] = f"http://127.0.0.1:{port + 1 if '--merged' in extra else port}/v1"
        probe = VLLMProcess(cmd, {}, log, label)
        probe.proc = proc  # not started by it: only lent to wait_until_ready for its poll and its fail-fast
        wait_until_ready([(probe, u) for u in dict.fromkeys(urls.values())], args.api_key, 900)
        measure(label, urls, args, results)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


def _two_adjacent_free_ports() -> int:
    from serve.launch import port_free

    for _ in range(100):
        port = pick_ports("127.0.0.1", 0, 1)[0]
        if port < 65535 and port_free("127.0.0.1", port + 1):
            return port
    raise RuntimeError("no two adjacent free ports")


def strip_flags(argv: list[str], flags: set[str]) -> list[str]:
    """argv without each of `flags` and the value that follows it."""
    out, skip = [], False
    for a in argv:
        if skip or a in flags:
            skip = not skip and a in flags
            continue
        out.append(a)
    return out


RAW_SAME, RAW_NO_PARSER = "vLLM direct, serve's flags", "vLLM direct, no reasoning parser"


def run_raw_vllm(label: str, args, results: dict, strip: set[str]) -> list[str]:
    """vLLM with serve's own argv and environment, without `strip` flags, and no serve process in front."""
    cfg = ServeConfig(model=args.model, adapter=args.adapter, adapter_name=args.adapter_name, port=0,
                      api_key=args.api_key)
    cpu = on_cpu()
    model, adapter = resolve_base(cfg, cpu)
    port = pick_ports("127.0.0.1", 0, 1)[0]
    argv = build_argv(cfg, model.path, port=port, lora=(adapter.path, adapter.rank), cpu=cpu,
                      dtype=serving_dtype(cfg, model.path, cpu))
    raw = strip_flags(argv, strip)
    print(f"[bench] {label}: {' '.join(raw)}", file=sys.stderr, flush=True)
    log = cache_dir() / "logs" / f"bench-vllm-direct{'-no-parser' if strip else ''}.log"
    proc = VLLMProcess(raw, child_env(cfg, cpu), log, label)
    proc.start()
    try:
        url = f"http://127.0.0.1:{port}/v1"
        wait_until_ready([(proc, url)], args.api_key, 900)
        measure(label, {BASE_NAME: url}, args, results)  # the serve-vs-raw goal is about the same model
    finally:
        proc.stop()
    return raw


def report(results: dict, args) -> None:
    best = {k: max(v) for k, v in results.items()}
    print(f"\nthroughput: {args.requests} requests x {args.max_tokens} tokens, concurrency {args.concurrency}, "
          f"streamed, temperature 0, ignore_eos; best and median of {args.repeats}")
    print(f"| {'server':<34} | {'model':<9} | {'best tok/s':>10} | {'median tok/s':>12} |")
    print(f"|{'-' * 36}|{'-' * 11}|{'-' * 12}|{'-' * 14}|")
    for (label, name), values in results.items():
        print(f"| {label:<34} | {name:<9} | {max(values):>10.1f} | {statistics.median(values):>12.1f} |")
    s, m = "python -m serve", "python -m serve --merged"
    a = args.adapter_name
    rows = [("serve / vLLM with serve's flags, base", best[(s, BASE_NAME)] / best[(RAW_SAME, BASE_NAME)], "goal >= 0.98"),
            ("reasoning parser on / off, vLLM direct", best[(RAW_SAME, BASE_NAME)] / best[(RAW_NO_PARSER, BASE_NAME)], ""),
            (f"{a} via LoRA / base, same server", best[(s, a)] / best[(s, BASE_NAME)], ""),
            (f"{a} via LoRA / base without LoRA", best[(s, a)] / best[(m, BASE_NAME)], ""),
            (f"{a} merged / base, same run", best[(m, a)] / best[(m, BASE_NAME)], "goal >= 0.9")]
    print("\nratios (best repeats):")
    for label, ratio, goal in rows:
        print(f"  {label:<40} {ratio:.3f}   {goal}".rstrip())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--adapter", required=True, help="adapter or run folder (e.g. runs/t1)")
    p.add_argument("--model", default="auto", help="base model, as for python -m serve")
    p.add_argument("--adapter-name", default="nano-r1")
    p.add_argument("--requests", type=int, default=32)
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--api-key", default="bench")
    args = p.parse_args()
    results: dict = {}
    run_serve_cli("python -m serve", [], args, results)
    run_raw_vllm(RAW_SAME, args, results, set())
    run_raw_vllm(RAW_NO_PARSER, args, results, PARSER_FLAGS)
    run_serve_cli("python -m serve --merged", ["--merged"], args, results)
    report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
