"""Harness overhead: the same GSM8K requests through lm-eval's local-chat-completions (num_concurrent 1 and
16), a bare concurrent AsyncOpenAI loop, and our eval client (eval/client.py + the store, fsync'ed once a second), against one
server, emptying vLLM's prefix cache before every run. Then our own gsm8k suite (zero-shot, shared system
prompt) on the same number of items.

    # a vLLM server with the dev endpoints (POST /reset_prefix_cache) on, e.g.
    VLLM_SERVER_DEV_MODE=1 python -m vllm.entrypoints.openai.api_server --model M --served-model-name base \
        --api-key KEY --port 8000 ...
    pip install -e '.[bench]'
    python -m bench.eval_overhead --base-url http://127.0.0.1:8000/v1 --api-key KEY --data-dir ../shared/data \
        [--n 64] [--concurrency 16] [--skip-nc1]

The messages come from lm-eval itself (its 5-shot multi-turn chat prompts, logged samples), and the bare loop
and our client send them with lm-eval's exact payload (max_tokens, temperature 0, stop, seed), so all runs
ask the server for identical work. Prints wall times, the ratios, and our throughput as a fraction of the
bare loop's (the bare loop and ours: best of --repeats interleaved runs; lm-eval: one run each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TASK_YAML = """task: gsm8k_local
dataset_path: json
dataset_kwargs:
  data_files:
    train: {train}
    test: {test}
output_type: generate_until
training_split: train
fewshot_split: train
test_split: test
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_target: "{{{{answer}}}}"
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: false
    regexes_to_ignore: [",", "\\\\$", "(?s).*#### ", "\\\\.$"]
generation_kwargs:
  until: ["Question:", "</s>", "<|im_end|>"]
  do_sample: false
  temperature: 0.0
num_fewshot: 5
metadata:
  version: 3.0
"""


def reset_prefix_cache(base_url: str, api_key: str) -> None:
    """Empty vLLM's prefix cache, so that no run is served from the one before it."""
    import urllib.error

    root = base_url.rstrip("/").removesuffix("/v1")
    req = urllib.request.Request(f"{root}/reset_prefix_cache", method="POST",
                                 headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(req, timeout=60):
            pass
    except urllib.error.HTTPError as e:  # 404 when the server runs without its dev endpoints
        raise SystemExit(f"error: POST {root}/reset_prefix_cache answered {e.code}; start the server with "
                         "VLLM_SERVER_DEV_MODE=1 (e.g. VLLM_SERVER_DEV_MODE=1 python -m serve ...)") from None


def run_lm_eval(args, num_concurrent: int, task_dir: str) -> tuple[float, list[dict]]:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    os.environ["OPENAI_API_KEY"] = args.api_key
    t0 = time.perf_counter()
    res = simple_evaluate(
        model="local-chat-completions",
        model_args=f"model={args.model},base_url={args.base_url.rstrip('/')}/chat/completions,"
                   f"num_concurrent={num_concurrent},max_retries=3,tokenized_requests=False,timeout=3600",
        tasks=["gsm8k_local"], num_fewshot=5, apply_chat_template=True, fewshot_as_multiturn=True,
        limit=args.n, log_samples=True, task_manager=TaskManager(include_path=task_dir))
    wall = time.perf_counter() - t0
    return wall, res["samples"]["gsm8k_local"]


def payloads_from_samples(samples: list[dict], model: str) -> list[dict]:
    """The exact chat payloads lm-eval sent (messages are logged as a JSON string in the arguments)."""
    out = []
    for s in sorted(samples, key=lambda s: s["doc_id"]):
        (context, gen_kwargs), = s["arguments"]  # [(JsonChatStr(prompt=<messages as JSON>), gen_kwargs)]
        messages = json.loads(context[0] if isinstance(context, tuple) else context)
        gen_kwargs = dict(gen_kwargs)
        stop = [x for x in gen_kwargs.get("until", [])][:4]
        out.append({"model": model, "messages": messages, "max_tokens": gen_kwargs.get("max_gen_toks", 256),
                    "temperature": 0.0, "stop": stop, "seed": 1234})
    return out


def payloads_like_lm_eval(data: Path, n: int, model: str) -> list[dict]:
    """Without lm-eval installed (--skip-lm-eval): requests of the same shape as its gsm8k_local ones — 5-shot
    multi-turn chat ("Question: …\\nAnswer:" user turns, the worked answers as assistant turns), same stops,
    max_tokens, temperature and seed. The shots are the first five training items, not lm-eval's random draw."""
    from nano_r1.tasks.sources import read_jsonl

    def rows(name):
        return read_jsonl(data / name, ("question", "answer"))

    shots = rows("gsm8k_train.jsonl")[:5]
    context = [m for s in shots for m in ({"role": "user", "content": f"Question: {s['question']}\nAnswer:"},
                                          {"role": "assistant", "content": s["answer"]})]
    return [{"model": model, "messages": context + [{"role": "user", "content": f"Question: {r['question']}\nAnswer:"}],
             "max_tokens": 256, "temperature": 0.0, "stop": ["Question:", "</s>", "<|im_end|>"], "seed": 1234}
            for r in rows("gsm8k_test.jsonl")[:n]]


async def bare_loop(args, payloads: list[dict]) -> tuple[float, int]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=args.base_url, api_key=args.api_key, timeout=3600, max_retries=0)
    sem = asyncio.Semaphore(args.concurrency)

    async def one(p):
        async with sem:
            r = await client.chat.completions.create(**p)
            return r.usage.completion_tokens

    t0 = time.perf_counter()
    tokens = sum(await asyncio.gather(*(one(p) for p in payloads)))
    wall = time.perf_counter() - t0
    await client.close()
    return wall, tokens


async def our_client(args, payloads: list[dict], folder: str) -> tuple[float, int]:
    from eval.client import Request, make_client, run_all
    from eval.store import Store

    store, tokens = Store(folder), 0
    requests = [Request(f"k{i}", p["model"], p["messages"], {k: v for k, v in p.items() if k not in ("model", "messages")},
                        {"item": i}) for i, p in enumerate(payloads)]

    def on_reply(req, reply):
        nonlocal tokens
        tokens += reply["completion_tokens"] or 0
        store.append({"key": req.key, **req.payload, **reply})

    client = make_client(args.base_url, args.api_key, 3600)
    t0 = time.perf_counter()
    await run_all(client, requests, args.concurrency, 3, on_reply, desc="ours")
    store.sync()  # as eval/run.py does when a run ends
    wall = time.perf_counter() - t0
    await client.close()
    return wall, tokens


def our_suite(args, folder: str) -> tuple[float, int]:
    from eval.config import EvalConfig
    from eval.run import generate
    from eval.store import Store
    from nano_r1.tasks import get_task

    cfg = EvalConfig(suite=["gsm8k"], models=[args.model], limit=args.n, max_tokens=256, concurrency=args.concurrency,
                     base_url=args.base_url, api_key=args.api_key, data_dir=args.data_dir, output_dir=folder)
    t0 = time.perf_counter()
    asyncio.run(generate(cfg, args.base_url, args.api_key, [get_task("gsm8k")]))
    wall = time.perf_counter() - t0
    return wall, sum(r.get("completion_tokens") or 0 for r in Store(folder).records())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY", "EMPTY"))
    ap.add_argument("--model", default="base")
    ap.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--n", type=int, default=64, help="GSM8K test items (the issue's comparison uses 64)")
    ap.add_argument("--concurrency", type=int, default=16, help="in flight for lm-eval nc=N, the bare loop and ours")
    ap.add_argument("--repeats", type=int, default=3, help="runs of the bare loop and of ours, interleaved; best kept")
    ap.add_argument("--skip-nc1", action="store_true", help="skip lm-eval num_concurrent=1 (the slowest run)")
    ap.add_argument("--skip-lm-eval", action="store_true",
                    help="no lm-eval runs (not installed): the bare loop and ours on requests of lm-eval's shape")
    args = ap.parse_args()
    data = Path(args.data_dir).resolve()
    results: dict[str, tuple[float, int | None]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "gsm8k_local.yaml").write_text(TASK_YAML.format(train=data / "gsm8k_train.jsonl",
                                                                    test=data / "gsm8k_test.jsonl"))
        runs = [] if args.skip_lm_eval else ([] if args.skip_nc1 else [1]) + [args.concurrency]
        samples = None
        for nc in runs:
            reset_prefix_cache(args.base_url, args.api_key)
            wall, samples = run_lm_eval(args, nc, tmp)
            results[f"lm-eval local-chat-completions nc={nc}"] = (wall, None)
            print(f"lm-eval nc={nc}: {wall:.1f} s", flush=True)
        payloads = payloads_like_lm_eval(data, args.n, args.model) if args.skip_lm_eval \
            else payloads_from_samples(samples, args.model)
        # The two the goal compares take seconds on a GPU: interleaved repeats, the best of each (other work on
        # the machine can only slow a repeat down). Each of ours writes a fresh store, so it asks for everything.
        pair = {f"bare AsyncOpenAI loop c={args.concurrency}": lambda r: bare_loop(args, payloads),
                f"our eval client c={args.concurrency}": lambda r: our_client(args, payloads, f"{tmp}/ours{r}")}
        for r in range(args.repeats):
            for name, run in pair.items():
                reset_prefix_cache(args.base_url, args.api_key)
                wall, tokens = asyncio.run(run(r))
                print(f"{name} repeat {r + 1}: {wall:.2f} s", flush=True)
                if name not in results or wall < results[name][0]:
                    results[name] = (wall, tokens)
        reset_prefix_cache(args.base_url, args.api_key)
        results["our gsm8k suite (0-shot, system prompt)"] = our_suite(args, f"{tmp}/suite")
    prompt_chars = sum(len(m["content"]) for p in payloads for m in p["messages"]) / len(payloads)
    shape = "lm-eval-shaped" if args.skip_lm_eval else "lm-eval"
    print(f"\n{args.n} GSM8K requests, {shape} 5-shot multi-turn chat prompts (~{prompt_chars:.0f} chars each), "
          f"max_tokens {payloads[0]['max_tokens']}, temperature 0, prefix cache emptied before each run")
    bare = results[f"bare AsyncOpenAI loop c={args.concurrency}"]
    ours = results[f"our eval client c={args.concurrency}"]
    for name, (wall, tokens) in results.items():
        tok = f"{tokens / wall:7.1f} tok/s" if tokens else " " * 13
        print(f"{name:<44} {wall:8.1f} s  {tok}  {wall / ours[0]:5.2f}x our time")
    print(f"our throughput / bare loop's: {(ours[1] / ours[0]) / (bare[1] / bare[0]):.3f} (tokens/s), "
          f"{bare[0] / ours[0]:.3f} (wall time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
