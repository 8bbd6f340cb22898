"""Fast tests of `python -m serve` without a vLLM server: the vLLM command line, the adapter checks, the merge,
the process-group stop and the one-line CLI errors (~30 s):  .venv/bin/python -m pytest tests/test_serve.py"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from serve.adapter import (Adapter, check_base, default_model_for, merged_folder, resolve_adapter,
                           vllm_max_lora_rank)
from serve.config import ServeConfig
from nano_r1.env import NO_MULTICAST as SHARED_GPU_ENV
from serve.launch import PLUGIN, build_argv, child_env, pick_ports, serve_in_background
from tests.conftest import REPO, run_cli
from nano_r1.cliargs import ConfigError
from nano_r1.models import ResolvedModel


def make_peft_adapter(out: Path, base: str, scale: float = 1e-3) -> Path:
    """A real PEFT LoRA (r=16, q/v) on `base` whose B is small random noise, like a young trained adapter's."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    peft = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "v_proj"]))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.copy_(scale * torch.randn(p.shape, generator=gen))
    peft.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def peft_adapter(tmp_path_factory, embedded_model) -> Path:
    return make_peft_adapter(tmp_path_factory.mktemp("adapter") / "adapter", embedded_model)


def copy_adapter(src: Path, dst: Path, **config_changes) -> Path:
    shutil.copytree(src, dst)
    config = json.loads((dst / "adapter_config.json").read_text())
    (dst / "adapter_config.json").write_text(json.dumps(config | config_changes))
    return dst


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


# --- the vLLM command line -------------------------------------------------------------------------------------

def test_argv_lora_on_cpu():
    cfg = ServeConfig(adapter="x")
    argv = build_argv(cfg, "/m", port=8123, lora=("/a", 16), cpu=True, dtype="float32")
    assert argv[:3] == [sys.executable, "-m", "serve.vllm_entry"]  # vLLM's api_server, our parser registered first
    assert flag(argv, "--model") == "/m" and flag(argv, "--served-model-name") == "base"
    assert flag(argv, "--host") == "127.0.0.1" and flag(argv, "--port") == "8123"
    assert "--enable-lora" in argv and flag(argv, "--max-lora-rank") == "16"
    assert flag(argv, "--lora-modules") == "nano-r1=/a"
    assert flag(argv, "--reasoning-parser") == "nano-r1" and argv[1:3] == ["-m", "serve.vllm_entry"]
    assert Path(flag(argv, "--reasoning-parser-plugin")) == Path(PLUGIN)  # the engine-core process imports it
    assert json.loads(flag(argv, "--structured-outputs-config")) == {"enable_in_reasoning": True}
    assert "--enforce-eager" in argv and flag(argv, "--dtype") == "float32"
    assert not {"--tensor-parallel-size", "--data-parallel-size", "--gpu-memory-utilization", "--api-key"} & set(argv)


def test_argv_gpu_parallel_and_merged_share():
    cfg = ServeConfig(tensor_parallel_size=2, data_parallel_size=2, max_model_len=4096, adapter="x", merged=True)
    argv = build_argv(cfg, "/merged", port=1, served_name="nano-r1", cpu=False, share_gpu=True)
    assert "--enforce-eager" not in argv and "--enable-lora" not in argv and "--dtype" not in argv
    assert flag(argv, "--served-model-name") == "nano-r1"
    assert flag(argv, "--tensor-parallel-size") == "2" and flag(argv, "--data-parallel-size") == "2"
    assert flag(argv, "--max-model-len") == "4096" and flag(argv, "--gpu-memory-utilization") == "0.45"
    assert "--gpu-memory-utilization" not in build_argv(cfg, "/m", port=1, cpu=True, share_gpu=True)
    assert "--enforce-eager" in build_argv(ServeConfig(enforce_eager=True), "/m", port=1, cpu=False)
    assert "--enforce-eager" not in build_argv(ServeConfig(enforce_eager=False), "/m", port=1, cpu=True)


def test_argv_extra_args_last_and_checked():
    cfg = ServeConfig(extra_args=["--max-num-seqs", "4", "--dtype", "bfloat16", "--structured-outputs-config", "{}"])
    argv = build_argv(cfg, "/m", port=1, cpu=True, dtype="float32")
    assert argv[-6:] == cfg.extra_args  # vLLM's last flag wins: the user's bfloat16 over serve's float32
    assert argv.count("--structured-outputs-config") == 1
    with pytest.raises(ConfigError, match="--port after `--` conflicts"):
        build_argv(ServeConfig(extra_args=["--port=9"]), "/m", port=1)
    with pytest.raises(ConfigError, match="below the adapter's rank 16"):
        build_argv(ServeConfig(extra_args=["--max-lora-rank", "8"]), "/m", port=1, lora=("/a", 16))


def test_vllm_lora_rank_is_rounded_up():
    assert [vllm_max_lora_rank(r) for r in (1, 2, 8, 16, 17, 64, 300, 512)] == [1, 8, 8, 16, 32, 64, 320, 512]
    with pytest.raises(ConfigError, match="above the largest"):
        vllm_max_lora_rank(600)


def test_child_env():
    env = child_env(ServeConfig(api_key="secret"), cpu=True,
                    base={"NCCL_NVLS_ENABLE": "1", "VLLM_CPU_KVCACHE_SPACE": "8", "PATH": "/bin"})
    assert {k: env[k] for k in SHARED_GPU_ENV} == SHARED_GPU_ENV  # forced, even over the caller's value
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "8" and env["VLLM_API_KEY"] == "secret" and env["PATH"] == "/bin"
    env = child_env(ServeConfig(), cpu=True, base={"VLLM_API_KEY": "stale"})
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "2" and "VLLM_API_KEY" not in env
    assert "VLLM_CPU_KVCACHE_SPACE" not in child_env(ServeConfig(), cpu=False, base={})
    env = child_env(ServeConfig(max_n=8), cpu=True, base={"NANO_R1_MAX_REQUEST_TOKENS": "9"}, max_tokens=512)
    assert (env["NANO_R1_MAX_N"], env["NANO_R1_MAX_REQUEST_TOKENS"]) == ("8", "512")  # read by vllm_entry
    stale = {"NANO_R1_MAX_REQUEST_TOKENS": "9"}
    assert "NANO_R1_MAX_REQUEST_TOKENS" not in child_env(ServeConfig(), cpu=True, base=stale)


def test_config_checks():
    for kwargs, message in [(dict(merged=True), "--merged needs --adapter"), (dict(port=70000), "not a port"),
                            (dict(adapter_name="base"), "cannot be 'base'"), (dict(startup_timeout=0), "positive")]:
        with pytest.raises(ConfigError, match=message):
            ServeConfig(**kwargs)
    with pytest.raises(ConfigError, match="need GPUs"):  # this machine runs vLLM on CPU
        serve_in_background(ServeConfig(tensor_parallel_size=2))


def test_ports():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {busy} on 127.0.0.1 is already in use"):
            pick_ports("127.0.0.1", busy, 1)
    a, b = pick_ports("127.0.0.1", 0, 2)
    assert a != b


# --- the adapter -----------------------------------------------------------------------------------------------

def test_resolve_adapter_folder_and_run_folder(peft_adapter, embedded_model):
    adapter = resolve_adapter(str(peft_adapter))
    assert adapter.path == str(peft_adapter.resolve()) and adapter.rank == 16
    assert adapter.base == embedded_model and adapter.weights.endswith("adapter_model.safetensors")
    assert resolve_adapter(str(peft_adapter.parent)) == adapter  # a run folder holding adapter/


def test_adapter_errors(peft_adapter, tmp_path):
    with pytest.raises(ConfigError, match="no such folder"):
        resolve_adapter(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="no adapter_config.json"):
        resolve_adapter(str(tmp_path))
    wrong_rank = copy_adapter(peft_adapter, tmp_path / "r8", r=8)
    with pytest.raises(ConfigError, match="says rank 8 but the weights have rank 16"):
        resolve_adapter(str(wrong_rank))
    with pytest.raises(ConfigError, match="only plain LoRA"):
        resolve_adapter(str(copy_adapter(peft_adapter, tmp_path / "dora", use_dora=True)))
    no_weights = copy_adapter(peft_adapter, tmp_path / "empty")
    (no_weights / "adapter_model.safetensors").unlink()
    with pytest.raises(ConfigError, match="no adapter_model.safetensors"):
        resolve_adapter(str(no_weights))


def test_base_check(peft_adapter, embedded_model, tmp_path):
    adapter = resolve_adapter(str(peft_adapter))
    check_base(adapter, ResolvedModel(embedded_model, "smollm2-135m"))
    moved = Adapter(adapter.path, 16, "/home/someone/.cache/nano-r1/models/smollm2-135m", adapter.weights)
    check_base(moved, ResolvedModel(embedded_model, "smollm2-135m"))  # same model, another machine
    assert default_model_for(moved) == "smollm2-135m"
    check_base(Adapter("/a", 16, "Qwen/Qwen2.5-3B-Instruct", "/a/w"),
               ResolvedModel("/models/Qwen2.5-3B-Instruct", "Qwen2.5-3B-Instruct"))
    other = tmp_path / "other-model"
    other.mkdir()
    with pytest.raises(ConfigError, match=f"was trained on {embedded_model}, but the base being served is {other}"):
        check_base(adapter, ResolvedModel(str(other), other.name))
    with pytest.raises(ConfigError, match="is not on this machine; pass --model"):
        default_model_for(Adapter("/a", 16, "/nowhere/my-model", "/a/w"))


def test_merged_folder_is_base_plus_scaled_delta(peft_adapter, embedded_model, tmp_path, monkeypatch):
    from safetensors import safe_open

    monkeypatch.setenv("NANO_R1_CACHE", str(tmp_path))  # a private cache for this test
    adapter, model = resolve_adapter(str(peft_adapter)), ResolvedModel(embedded_model, "smollm2-135m")
    merged = merged_folder(adapter, model)
    assert merged.parent == tmp_path / "merged" and (merged / "tokenizer.json").is_file()
    key = "model.layers.3.self_attn.q_proj.weight"
    with safe_open(Path(embedded_model) / "model.safetensors", "pt") as f:
        w = f.get_tensor(key)
    with safe_open(peft_adapter / "adapter_model.safetensors", "pt") as f:
        prefix = "base_model.model.model.layers.3.self_attn.q_proj"
        a, b = f.get_tensor(f"{prefix}.lora_A.weight"), f.get_tensor(f"{prefix}.lora_B.weight")
    with safe_open(merged / "model.safetensors", "pt") as f:
        got = f.get_tensor(key)
    assert (got - w).abs().max() > 0
    assert (got - (w + 2.0 * b @ a)).abs().max() < 1e-6  # scaling = lora_alpha / r = 32 / 16
    start = time.monotonic()
    assert merged_folder(adapter, model) == merged and time.monotonic() - start < 5  # cached by content


# --- the command line ------------------------------------------------------------------------------------------

def test_help_is_instant():
    start = time.monotonic()
    proc = run_cli("serve", "--help")
    assert proc.returncode == 0 and "--adapter" in proc.stdout and "--merged" in proc.stdout
    assert time.monotonic() - start < 2


def one_line_error(*args: str, code: str | None = None) -> str:
    if code:
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                              timeout=120)
    else:
        proc = run_cli("serve", *args, timeout=120)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_cli_errors_are_one_line(peft_adapter, tmp_path):
    assert "no such folder" in one_line_error("--adapter", str(tmp_path / "nope"))
    assert "unknown model" in one_line_error("--model", "not-a-model")
    other = tmp_path / "other-model"
    other.mkdir()
    (other / "config.json").write_text("{}")
    assert "was trained on" in one_line_error("--model", str(other), "--adapter", str(peft_adapter))
    wrong_rank = copy_adapter(peft_adapter, tmp_path / "r32", r=32)
    assert "says rank 32 but the weights have rank 16" in one_line_error("--adapter", str(wrong_rank))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert f"port {port} on 127.0.0.1 is already in use" in one_line_error("--port", str(port))
    # vLLM missing: the import system reports it absent, as on a machine without it
    hide_vllm = "import sys; sys.modules['vllm'] = None; from serve.__main__ import main; sys.exit(main(sys.argv[1:]))"
    assert "vLLM is not installed" in one_line_error("--port", "0", code=hide_vllm)


# --- the key ---------------------------------------------------------------------------------------------------

KEY = "s3cret-0123456789-abcdef"


@pytest.mark.parametrize("argv, env, file_text, key, source", [
    (["--api-key-file", "FILE"], {}, KEY + "\n", KEY, "--api-key-file FILE"),
    (["--api-key-file", "FILE"], {"VLLM_API_KEY": "other-key"}, f"\n  {KEY}  \n\n", KEY, "--api-key-file FILE"),
    ([], {"VLLM_API_KEY": KEY}, None, KEY, "$VLLM_API_KEY"),
    (["--api-key", KEY], {"VLLM_API_KEY": "other-key"}, None, KEY, "--api-key"),
    ([], {}, None, None, None),
    (["--api-key-file", "FILE"], {}, "", "no", "found 0 non-empty lines"),
    (["--api-key-file", "FILE"], {}, "a\nb\n", "no", "found 2 non-empty lines"),
    (["--api-key-file", "FILE"], {}, "two words\n", "no", "printable ASCII without spaces"),
    (["--api-key-file", "FILE", "--api-key", KEY], {}, KEY, "no", "give one of them"),
    ([], {"VLLM_API_KEY": "tab\tkey"}, None, "no", "$VLLM_API_KEY: the API key must be"),
])
def test_key_sources(tmp_path, monkeypatch, capsys, argv, env, file_text, key, source):
    from serve.__main__ import parse

    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    path = tmp_path / "key.txt"
    if file_text is not None:
        path.write_text(file_text)
    argv = [str(path) if a == "FILE" else a for a in argv]
    if key == "no":
        with pytest.raises(ConfigError, match=re.escape(source)):
            parse(argv)
        return
    cfg = parse(argv)
    assert cfg.api_key == key and cfg.key_source == (source.replace("FILE", str(path)) if source else None)
    warned = "visible to every user" in capsys.readouterr().err
    assert warned == ("--api-key" in argv)
    if key:  # the key reaches vLLM through the environment, never argv
        assert child_env(cfg, cpu=True, base={})["VLLM_API_KEY"] == key
        assert key not in " ".join(build_argv(cfg, "/m", port=1))


@pytest.mark.parametrize("host, key, allow, ok", [
    ("127.0.0.1", None, False, True), ("localhost", None, False, True), ("::1", None, False, True),
    ("127.0.0.2", None, False, True), ("0.0.0.0", None, False, False), ("::", None, False, False),
    ("192.168.1.5", None, False, False), ("myhost.example", None, False, False),
    ("0.0.0.0", KEY, False, True), ("0.0.0.0", None, True, True),
])
def test_a_server_open_to_the_network_needs_a_key(host, key, allow, ok):
    cfg = ServeConfig(host=host, api_key=key, allow_no_key=allow)
    if ok:
        cfg.check_exposure()
    else:
        with pytest.raises(ConfigError, match="--allow-no-key"):
            cfg.check_exposure()


@pytest.mark.parametrize("host, key, allow, ok", [
    ("0.0.0.0", "k" * 15, False, False), ("192.168.1.5", "short", False, False), ("::", "k" * 15, False, False),
    ("0.0.0.0", "k" * 16, False, True), ("0.0.0.0", "short", True, True), ("127.0.0.1", "k", False, True),
])
def test_a_short_key_on_the_network_is_refused(host, key, allow, ok):
    cfg = ServeConfig(host=host, api_key=key, allow_weak_key=allow)
    if ok:
        cfg.check_exposure()
    else:
        with pytest.raises(ConfigError, match=rf"has {len(key)} characters, fewer than 16.*--allow-weak-key"):
            cfg.check_exposure()


@pytest.mark.parametrize("source, shown", [("file", "read_text().strip()"), ("env", 'os.environ["VLLM_API_KEY"]'),
                                           ("flag", 'os.environ["VLLM_API_KEY"]')])
def test_the_banner_never_prints_the_key(tmp_path, source, shown):
    from types import SimpleNamespace

    from serve.foreground import banner
    from serve.launch import Server

    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY)
    cfg = {"file": ServeConfig(api_key_file=str(key_file)), "flag": ServeConfig(api_key=KEY),
           "env": ServeConfig().with_key_from_env({"VLLM_API_KEY": KEY})}[source]
    url = "http://127.0.0.1:8000/v1"
    srv = Server(cfg, [SimpleNamespace(log_path=tmp_path / "log", pid=1)], {"base": url, "nano-r1": url}, {})
    text = banner(srv)
    assert KEY not in text and KEY[:4] + "…" in text and shown in text
    assert ("export it there" in text) == (source == "flag")
