"""Before vLLM starts: the adapter's tensors readable, their shapes those of a LoRA on this base, the base findable.

    from serve.weights import base_config, check_shapes, tensor_shapes
    shapes = tensor_shapes(Path("runs/tiny/adapter/adapter_model.safetensors"), "runs/tiny")   # {name: [r, 576]}
    check_shapes(shapes, base_config(model), "runs/tiny")

Without these checks vLLM loads a truncated or wrong-shape adapter tensor (or looks up an uncached base) 40-70 s into
its start and dies with a 25-line traceback. The safetensors library reads the header and checks that the tensors
it lists cover the file exactly (a truncated file fails); no tensor data is loaded.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from nano_r1.cliargs import ConfigError
from nano_r1.models import ResolvedModel

# safetensors' own reasons (Rust error text) → what they mean to someone holding the file
REASONS = [("header too small", "truncated"),
           ("header too large", "its header claims more bytes than a header may hold: truncated or not safetensors"),
           ("not fully covered", "truncated or padded: its tensors do not fill the file as its header says"),
           ("invalid type", "its header is not a map of tensors"),
           ("invalid UTF-8", "its header is not JSON"), ("invalid JSON", "its header is not JSON")]
MISSING_FIELD = re.compile(r"missing field `(\w+)`")
# PEFT's tensor names: base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight
LORA_TENSOR = re.compile(r"(?:^|\.)layers\.(\d+)\..*?(\w+)\.lora_([AB])(?:\.[\w-]+)?\.weight$")


def tensor_shapes(path: Path, spec: str) -> dict[str, list[int]]:
    """{tensor name: shape} of a .safetensors file, read with the safetensors library; one ConfigError if damaged."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            return {name: f.get_slice(name).get_shape() for name in f.keys()}
    except SafetensorError as e:
        text = str(e)
        field = MISSING_FIELD.search(text)
        reason = (f"a tensor without a {field.group(1).replace('_', ' ')}" if field else
                  next((plain for cue, plain in REASONS if cue in text), text.split(": ", 1)[-1]))
        raise ConfigError(f"--adapter {spec}: {path} is not a valid safetensors file ({reason}); save the adapter "
                          "again") from None
    except OSError as e:
        raise ConfigError(f"--adapter {spec}: cannot read {path} ({e.strerror or e})") from None


def base_config(model: ResolvedModel) -> dict:
    """The base's config.json: from its folder, else from the Hugging Face cache or hub (what vLLM would fetch).
    A hub id that is neither cached nor downloadable (offline, mistyped, gated) is one line here."""
    folder = Path(model.path)
    path = folder / "config.json" if folder.is_dir() else hub_config(model.path)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # resolve_model checked local folders already; an odd hub file: vLLM decides
    return config if isinstance(config, dict) else {}


def hub_config(repo: str) -> Path:
    """config.json of a hub model: from the local cache, else downloaded (as vLLM would); one line if neither."""
    import logging

    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

    cached = try_to_load_from_cache(repo, "config.json")
    if isinstance(cached, str):
        return Path(cached)
    fix = f"download it first (`hf download {repo}`) or pass --model with a local folder"
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise ConfigError(f"base model {repo} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; {fix}")
    hub_log = logging.getLogger("huggingface_hub")
    level, hub_log.level = hub_log.level, logging.ERROR  # its retry warnings would bury the one line below
    try:
        return Path(hf_hub_download(repo, "config.json"))
    except GatedRepoError:
        why = "is gated: accept its terms on huggingface.co and log in (`hf auth login`)"
    except RepositoryNotFoundError:
        why = "is not a model on the Hugging Face hub (a typo, or private: `hf auth login`)"
    except LocalEntryNotFoundError:
        why = "is not in the local Hugging Face cache and the hub cannot be reached"
    except Exception as e:  # a hub error of another kind: still not servable
        why = f"cannot be fetched from the Hugging Face hub ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
    finally:
        hub_log.setLevel(level)
    raise ConfigError(f"base model {repo} {why}; {fix}")


def module_shapes(config: dict) -> dict[str, tuple[int, int]]:
    """(in_features, out_features) of the projections LoRA targets, from a Llama/Qwen/Mistral-style config."""
    config = config.get("text_config", config) if "hidden_size" not in config else config
    try:
        hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
        kv = int(config.get("num_key_value_heads") or heads)
        head_dim = int(config.get("head_dim") or hidden // heads)
        inter = int(config["intermediate_size"])
    except (KeyError, TypeError, ValueError):
        return {}  # another architecture: its shapes are not known here, vLLM checks them
    return {"q_proj": (hidden, heads * head_dim), "k_proj": (hidden, kv * head_dim),
            "v_proj": (hidden, kv * head_dim), "o_proj": (heads * head_dim, hidden),
            "gate_proj": (hidden, inter), "up_proj": (hidden, inter), "down_proj": (inter, hidden)}


def check_shapes(shapes: dict[str, list[int]], config: dict, spec: str, model: str) -> None:
    """LoRA A is [r, in_features] and B is [out_features, r] of the module it adapts, on a layer the base has."""
    known, layers = module_shapes(config), config.get("num_hidden_layers")
    pairs: dict[str, dict[str, list[int]]] = {}
    for name, shape in shapes.items():
        m = LORA_TENSOR.search(name)
        if not m:
            continue
        layer, module, side = int(m.group(1)), m.group(2), m.group(3)
        wrong = lambda why: ConfigError(f"--adapter {spec}: tensor {name} has shape {shape}, {why} "
                                        f"(an adapter for another model, or a damaged file)")
        if isinstance(layers, int) and layer >= layers:
            raise wrong(f"but the base {model} has {layers} layers")
        if len(shape) != 2:
            raise wrong("but a LoRA weight is 2-D")
        pairs.setdefault(name[: m.start(3) - len("lora_")], {})[side] = shape
        if module in known:
            fan_in, fan_out = known[module]
            if side == "A" and shape[1] != fan_in:
                raise wrong(f"but {module} of {model} takes {fan_in} inputs (lora_A is [r, {fan_in}])")
            if side == "B" and shape[0] != fan_out:
                raise wrong(f"but {module} of {model} has {fan_out} outputs (lora_B is [{fan_out}, r])")
    for prefix, sides in pairs.items():
        if set(sides) != {"A", "B"}:
            missing = ({"A", "B"} - set(sides)).pop()
            raise ConfigError(f"--adapter {spec}: {prefix}lora_{missing} is missing (lora_A and lora_B come in pairs); "
                              "save the adapter again")
        if sides["A"][0] != sides["B"][1]:
            raise ConfigError(f"--adapter {spec}: {prefix}lora_A has rank {sides['A'][0]} but lora_B rank "
                              f"{sides['B'][1]}; save the adapter again")


def context_length(config: dict) -> int | None:
    """The base's context length as its config.json states it (what vLLM uses unless --max-model-len says less)."""
    config = config.get("text_config", config) if "max_position_embeddings" not in config else config
    value = config.get("max_position_embeddings")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
