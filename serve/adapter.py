"""Resolve and check `--adapter` (a PEFT LoRA folder or a run folder), and merge it for `--merged`.

    from serve.adapter import resolve_adapter, check_base, merged_folder
    adapter = resolve_adapter("runs/tiny")      # → runs/tiny/adapter, rank 16, base from adapter_config.json

Everything here reads small JSON files and the safetensors header only (no torch), except `merged_folder`,
which merges once with peft's `merge_and_unload()` and caches the result by content.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from nano_r1.cliargs import ConfigError
from nano_r1.files import read_json_object
from nano_r1.rundir import RunDir
from nano_r1.models import EMBEDDED, HF_ID, ResolvedModel, build_cached_folder, cache_dir
from serve.weights import tensor_shapes

VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)  # vllm/config/lora.py MaxLoRARanks (0.32)
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")


@dataclass(frozen=True)
class Adapter:
    path: str  # the folder holding adapter_config.json
    rank: int  # the largest LoRA rank in it (r, or a rank_pattern entry)
    base: str  # base_model_name_or_path as PEFT wrote it ("" if missing)
    weights: str  # adapter_model.safetensors (or .bin)


def resolve_adapter(spec: str) -> Adapter:
    given = Path(spec).expanduser()
    if not given.exists():
        raise ConfigError(f"--adapter {spec}: no such folder")
    if not given.is_dir():  # e.g. its adapter_config.json: "no adapter_config.json in it" would mislead
        raise ConfigError(f"--adapter {spec}: is a file; pass the folder that holds adapter_config.json")
    folder = next((f for f in (given, RunDir(given).adapter_path) if (f / "adapter_config.json").is_file()), None)
    if folder is None:
        raise ConfigError(f"--adapter {spec}: no adapter_config.json in it or in {spec}/adapter "
                          "(pass a PEFT adapter folder or a run folder made by `python -m train`)")
    config = read_adapter_config(folder / "adapter_config.json", spec)
    if config.get("peft_type", "LORA") != "LORA" or config.get("use_dora"):
        raise ConfigError(f"--adapter {spec}: only plain LoRA adapters can be served by vLLM "
                          f"(this one is {'DoRA' if config.get('use_dora') else config.get('peft_type')})")
    weights = next((folder / w for w in WEIGHT_FILES if (folder / w).is_file()), None)
    if weights is None:
        raise ConfigError(f"--adapter {spec}: no {' or '.join(WEIGHT_FILES)} in {folder}")
    pattern = config.get("rank_pattern") or {}
    if not isinstance(pattern, dict):
        raise ConfigError(f"--adapter {spec}: adapter_config.json: 'rank_pattern' must be a mapping of module: rank")
    ranks = [config.get("r")] + list(pattern.values())
    if not all(isinstance(r, int) and not isinstance(r, bool) and r > 0 for r in ranks):
        raise ConfigError(f"--adapter {spec}: adapter_config.json has no valid LoRA rank 'r' ({config.get('r')!r}; "
                          "expected a positive whole number)")
    adapter = Adapter(str(folder.resolve()), max(ranks), str(config.get("base_model_name_or_path") or ""),
                      str(weights.resolve()))
    _check_rank_matches_weights(adapter, spec, config)
    vllm_max_lora_rank(adapter.rank)  # fails early if vLLM cannot serve the rank at all
    return adapter


def read_adapter_config(path: Path, spec: str) -> dict:
    return read_json_object(path, "the adapter folder is damaged (save it again, or point --adapter at another one)",
                            f"--adapter {spec}: ")


def _check_rank_matches_weights(adapter: Adapter, spec: str, config: dict) -> None:
    """lora_A weights are [rank, in_features]: a config that disagrees with them is a broken or mixed-up folder."""
    if not adapter.weights.endswith(".safetensors"):
        return
    shapes = [shape for name, shape in tensor_shapes(Path(adapter.weights), spec).items() if ".lora_A." in name]
    if not shapes or not all(shapes):
        raise ConfigError(f"--adapter {spec}: {adapter.weights} holds no LoRA weights (no lora_A tensors); save "
                          "the adapter again")
    found = {shape[0] for shape in shapes}
    allowed = {config["r"], *(config.get("rank_pattern") or {}).values()}
    if found and not found <= allowed:
        raise ConfigError(f"--adapter {spec}: adapter_config.json says rank {config['r']} but the weights have rank "
                          f"{', '.join(map(str, sorted(found)))} (config and weights from different trainings?)")


def vllm_max_lora_rank(rank: int) -> int:
    """vLLM accepts only some --max-lora-rank values: the smallest one that holds `rank`."""
    for allowed in VLLM_LORA_RANKS:
        if rank <= allowed:
            return allowed
    raise ConfigError(f"adapter rank {rank} is above the largest LoRA rank vLLM serves ({VLLM_LORA_RANKS[-1]}); "
                      "use --merged to serve it merged into the base")


def _same_model(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.realpath(a) == os.path.realpath(b)
    # A path from another machine or an HF id vs. a local copy: compare the model's own name.
    name = lambda s: Path(s.rstrip("/")).name.lower()
    return name(a) == name(b)


def check_base(adapter: Adapter, model: ResolvedModel) -> None:
    """The adapter must be served on the base it was trained on: LoRA deltas are meaningless on other weights."""
    if not adapter.base or _same_model(adapter.base, model.path) or _same_model(adapter.base, model.name):
        return
    raise ConfigError(f"--adapter {adapter.path} was trained on {adapter.base}, but the base being served is "
                      f"{model.path}; pass --model {adapter.base} (or --check-base false to serve it anyway)")


def default_model_for(adapter: Adapter) -> str:
    """`--model auto` with an adapter: the adapter's own base, in a form `resolve_model` accepts."""
    base = adapter.base
    if Path(base).name == EMBEDDED or base == EMBEDDED:
        return EMBEDDED  # also when the cache path was written on another machine
    if os.path.isdir(base) or HF_ID.match(base):
        return base
    raise ConfigError(f"--adapter {adapter.path}: its base model {base or '(not recorded)'} is not on this machine; "
                      "pass --model")


def merged_folder(adapter: Adapter, model: ResolvedModel) -> Path:
    """base + adapter merged with peft's merge_and_unload(), saved once under <cache>/merged/<hash>."""
    digest = hashlib.sha256(model.path.encode())
    for name in ("adapter_config.json", Path(adapter.weights).name):
        with open(Path(adapter.path) / name, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    target = cache_dir() / "merged" / digest.hexdigest()[:16]
    if (target / "config.json").is_file():
        return target
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"[serve] merging {adapter.path} into {model.name} (once): {target}", file=sys.stderr)

    def build(tmp: Path) -> None:
        # On CPU, so that a GPU stays free for vLLM; the base's own dtype, so the merged copy matches it.
        base = AutoModelForCausalLM.from_pretrained(model.path, dtype="auto", device_map={"": "cpu"})
        with torch.no_grad():
            merged = PeftModel.from_pretrained(base, adapter.path).merge_and_unload()
        merged.save_pretrained(tmp)
        # The base's tokenizer: the same one vLLM uses for `base` and for the LoRA, so replies are comparable.
        AutoTokenizer.from_pretrained(model.path).save_pretrained(tmp)
        (tmp / "nano_r1_merged.json").write_text(json.dumps({"base": model.path, "adapter": adapter.path}, indent=1))

    build_cached_folder(target, build)
    return target
