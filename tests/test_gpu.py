"""On a CUDA machine: `python -m train` (fast backend) makes an adapter, `python -m serve` serves it with GPU vLLM,
`python -m eval` measures it. Marked gpu (skipped in CI, which has no GPU); run there with

    python -m pytest -m gpu tests/test_gpu.py -q
"""

from __future__ import annotations

import json

import openai
import pytest

from tests.conftest import run_cli

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs CUDA")]
KEY = "gpu-test-key"


@pytest.fixture(scope="module")
def gpu_run(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("gpu-runs")
    proc = run_cli("train", "--model", "smollm2-135m", "--dataset", "gsm8k", "--data-dir", str(data_dir),
                   "--backend", "fast", "--max-steps", "4", "--save-steps", "4", "--max-completion-length", "128",
                   "--num-generations", "8", "--lora-r", "16", "--lora-alpha", "32", "--learning-rate", "1e-4",
                   "--one-shot", "--eval-every", "2", "--eval-limit", "16", "--output-dir", str(out),
                   "--run-name", "gpu")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "backend: fast on cuda" in proc.stderr
    return out / "gpu"


@pytest.fixture(scope="module")
def gpu_server(gpu_run):
    from serve.config import ServeConfig
    from serve.launch import serve_in_background

    with serve_in_background(ServeConfig(adapter=str(gpu_run), port=0, api_key=KEY,
                                         extra_args=["--gpu-memory-utilization", "0.2"])) as srv:
        yield srv


def test_run_folder_has_eval_and_self_check(gpu_run):
    rows = [json.loads(line) for line in (gpu_run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if "eval/accuracy_strict" in r]
    assert [r["step"] for r in evals] == [0, 2, 4] and all(0 < r["eval/n"] <= 16 for r in evals)  # over-long prompts are left out
    assert all("rewards/self_check/mean" in r for r in rows if "reward" in r)
    summary = json.loads((gpu_run / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["gpu_hours"] > 0


def test_serve_on_gpu(gpu_server):
    c = {name: openai.OpenAI(base_url=gpu_server.url_for(name), api_key=KEY, max_retries=0) for name in ("base", "nano-r1")}
    assert {m.id for m in c["base"].models.list()} == {"base", "nano-r1"}
    msgs = [{"role": "user", "content": "What is 7 * 6? Think inside <reasoning> tags, answer inside <answer> tags."}]
    lp = {}
    for name, client in c.items():
        r = client.chat.completions.create(model=name, messages=msgs, max_tokens=32, n=3, temperature=0.8, seed=1)
        assert len(r.choices) == 3
        chunks = list(client.chat.completions.create(model=name, messages=msgs, max_tokens=16, stream=True))
        assert len(chunks) > 2
        g = client.chat.completions.create(model=name, messages=msgs, max_tokens=1, temperature=0, logprobs=True)
        lp[name] = g.choices[0].logprobs.content[0].logprob
    assert lp["base"] != lp["nano-r1"]  # the adapter is applied
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gpu_server.url_for("base"), api_key="wrong", max_retries=0).models.list()
    # the reasoning parser is loaded (vLLM 0.26 resolved it before importing the plugin): replies that close a
    # <reasoning> block have it moved out of the content
    r = c["nano-r1"].chat.completions.create(model="nano-r1", messages=msgs, max_tokens=128, n=8, temperature=1.0)
    assert all("</reasoning>" not in (ch.message.content or "") for ch in r.choices)


def alive(pgids: list[int]) -> list[int]:
    import os

    out = []
    for g in pgids:
        try:
            os.killpg(g, 0)
            out.append(g)
        except ProcessLookupError:
            pass
    return out


def test_merged_serves_two_engines_and_stop_leaves_nothing(gpu_run):
    """`--merged`: base and the merged adapter as two vLLM engines on one GPU; stopping ends both process groups."""
    import os
    import time

    from serve.config import ServeConfig
    from serve.launch import serve_in_background

    cfg = ServeConfig(adapter=str(gpu_run), port=0, api_key=KEY, merged=True,
                      extra_args=["--gpu-memory-utilization", "0.2"])
    with serve_in_background(cfg) as srv:
        groups = [os.getpgid(p.pid) for p in srv.procs]
        assert len(groups) == 2 and srv.url_for("base") != srv.url_for("nano-r1")
        msgs = [{"role": "user", "content": "What is 7 * 6?"}]
        lp = {}
        for name in ("base", "nano-r1"):
            client = openai.OpenAI(base_url=srv.url_for(name), api_key=KEY, max_retries=0)
            g = client.chat.completions.create(model=name, messages=msgs, max_tokens=1, temperature=0, logprobs=True)
            lp[name] = g.choices[0].logprobs.content[0].logprob
        assert lp["base"] != lp["nano-r1"]
    deadline = time.time() + 30
    while alive(groups) and time.time() < deadline:
        time.sleep(1)
    assert alive(groups) == []  # the engines' workers too: they share the server's process group


def test_eval_against_gpu_server(gpu_server, gpu_run, data_dir, tmp_path):
    out = tmp_path / "results"
    proc = run_cli("eval", "--base-url", gpu_server.base_url, "--run", str(gpu_run),
                   "--suite", "gsm8k,reasoning,uncensored,xstest", "--limit", "8", "--max-tokens", "256",
                   "--data-dir", str(data_dir), "--output-dir", str(out), env={"OPENAI_API_KEY": KEY}, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("store.jsonl", "summary.csv", "metrics.png", "lengths.png", "report.md", "training.png"):
        assert (out / name).is_file(), name
    assert list((out / "cards").glob("*.png"))
    assert "self_check_rate" in (out / "summary.csv").read_text()


def test_fused_projections_under_cuda_graphs(embedded_model):
    """Fused projections (train/fused.py, the CUDA default) inside the compiled, CUDA-graphed decode step: the same
    greedy tokens as the separate projections, and after an in-place weight write (what MergedPolicy.sync does
    between steps) the replayed graph reads the new weights."""
    import copy

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from train.fused import fuse_projections
    from train.rollout import StaticRollout

    tok = AutoTokenizer.from_pretrained(embedded_model)
    # float32: bf16 GEMMs of other shapes may round a near-tie the other way; the mechanism is what is tested
    model = AutoModelForCausalLM.from_pretrained(embedded_model, dtype=torch.float32).cuda().eval()
    ps = [tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True, tokenize=True,
                                  return_dict=False) for q in ("What is 2+2?", "Name a prime above ten.")]
    fused = copy.deepcopy(model)
    fuse_projections(fused)
    rolls = [StaticRollout(m, batch_size=4, max_prompt_length=48, max_new_tokens=16, pad_token_id=tok.pad_token_id)
             for m in (model, fused)]
    first = [r.generate(ps, temperature=0.0, eos_token_ids=[tok.eos_token_id]) for r in rolls]
    assert first[0] == first[1]
    with torch.no_grad():  # the same in-place change to both copies, after their graphs were captured
        for m in (model, fused):
            for layer in m.model.layers:
                layer.mlp.up_proj.weight.mul_(0.0)
    again = [r.generate(ps, temperature=0.0, eos_token_ids=[tok.eos_token_id]) for r in rolls]
    assert again[0] == again[1] and again[0] != first[0]
