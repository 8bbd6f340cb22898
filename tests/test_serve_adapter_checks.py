"""`python -m serve` refuses a damaged adapter or an unresolvable base in one line, before vLLM starts (issue 28:
vLLM used to fail 40-70 s later with a 25-line traceback). A real PEFT adapter on the embedded model, copied and
damaged the way files get damaged: cut short, a tensor of another model's shape, a tensor missing.

    .venv/bin/python -m pytest -q tests/test_serve_adapter_checks.py
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_serve import make_peft_adapter

WEIGHTS = "adapter_model.safetensors"
LAYER3 = "base_model.model.model.layers.3.self_attn"
HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture(scope="module")
def adapter(tmp_path_factory, embedded_model) -> Path:
    return make_peft_adapter(tmp_path_factory.mktemp("adapter") / "adapter", embedded_model)


def edit_tensors(folder: Path, change) -> None:
    """Rewrite the adapter's tensors with the safetensors library: change(tensors) edits the dict in place."""
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(folder / WEIGHTS))
    change(tensors)
    save_file(tensors, str(folder / WEIGHTS), metadata={"format": "pt"})


def truncate(folder: Path) -> None:
    data = (folder / WEIGHTS).read_bytes()
    (folder / WEIGHTS).write_bytes(data[: len(data) // 2])  # a copy cut short: disk full, interrupted transfer


def set_shape(name: str, shape: tuple[int, int]):
    import numpy as np

    return lambda folder: edit_tensors(folder, lambda t: t.__setitem__(name, np.zeros(shape, np.float32)))


def drop(name: str):
    return lambda folder: edit_tensors(folder, lambda t: t.pop(name))


def extra_layer(folder: Path) -> None:
    def add(t):
        for side in "AB":
            t[f"base_model.model.model.layers.30.self_attn.v_proj.lora_{side}.weight"] = \
                t[f"{LAYER3}.v_proj.lora_{side}.weight"]
    edit_tensors(folder, add)


def set_base(base: str):
    def change(folder: Path) -> None:
        config = json.loads((folder / "adapter_config.json").read_text())
        (folder / "adapter_config.json").write_text(json.dumps(config | {"base_model_name_or_path": base}))
    return change


CASES = [  # (id, damage, part of the error line)
    ("truncated", truncate, f"{WEIGHTS} is not a valid safetensors file (truncated"),
    ("lora_A of another model", set_shape(f"{LAYER3}.q_proj.lora_A.weight", (16, 64)),
     f"{LAYER3}.q_proj.lora_A.weight has shape [16, 64], but q_proj of smollm2-135m takes 576 inputs"),
    ("lora_B of another model", set_shape(f"{LAYER3}.v_proj.lora_B.weight", (576, 16)),
     "but v_proj of smollm2-135m has 192 outputs (lora_B is [192, r])"),
    ("lora_B of another rank", set_shape(f"{LAYER3}.v_proj.lora_B.weight", (192, 8)),
     f"{LAYER3}.v_proj.lora_A has rank 16 but lora_B rank 8"),
    ("lora_B missing", drop(f"{LAYER3}.v_proj.lora_B.weight"), f"{LAYER3}.v_proj.lora_B is missing"),
    ("a layer the base lacks", extra_layer, "but the base smollm2-135m has 30 layers"),
    ("base: an uncached hub id, offline", set_base("nosuch-org/NoSuchModel-1B"),
     "base model nosuch-org/NoSuchModel-1B is not in the local Hugging Face cache and HF_HUB_OFFLINE is set"),
    ("base: a folder not on this machine", set_base("/nowhere/my-model"), "is not on this machine; pass --model"),
]


@pytest.mark.parametrize("damage, expect", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_damaged_adapter_is_one_line_before_vllm(adapter, tmp_path, damage, expect):
    bad = tmp_path / "bad"
    shutil.copytree(adapter, bad)
    damage(bad)
    start = time.monotonic()
    proc = run_cli("serve", "--port", "0", "--adapter", str(bad), env={"HF_HUB_OFFLINE": "1"}, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    assert expect in lines[0], lines[0]
    assert time.monotonic() - start < 60  # vLLM never started (it takes longer than this just to import)


def test_a_cached_hub_base_is_read_offline(adapter, tmp_path, embedded_model):
    """A hub id in the local Hugging Face cache resolves with HF_HUB_OFFLINE: its cached config.json is what the
    shapes are checked against (here they do not fit, so the command stops before vLLM with that line)."""
    snapshot = tmp_path / "hub" / f"models--{HUB_ID.replace('/', '--')}" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    shutil.copy(Path(embedded_model) / "config.json", snapshot / "config.json")
    (snapshot.parent.parent / "refs").mkdir()
    (snapshot.parent.parent / "refs" / "main").write_text("0" * 40)
    bad = tmp_path / "bad"
    shutil.copytree(adapter, bad)
    set_base(HUB_ID)(bad)
    set_shape(f"{LAYER3}.q_proj.lora_A.weight", (16, 64))(bad)
    proc = run_cli("serve", "--port", "0", "--adapter", str(bad), timeout=120,
                   env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub")})
    assert proc.stderr.strip().splitlines() == [
        f"error: --adapter {bad}: tensor {LAYER3}.q_proj.lora_A.weight has shape [16, 64], but q_proj of "
        "SmolLM2-135M-Instruct takes 576 inputs (lora_A is [r, 576]) (an adapter for another model, or a damaged "
        "file)"], proc.stderr[-2000:]


def test_the_undamaged_adapter_passes_every_check(adapter):
    from serve.config import ServeConfig
    from serve.launch import request_token_cap, resolve_base

    cfg = ServeConfig(adapter=str(adapter), port=0)
    model, resolved = resolve_base(cfg, cpu=True)
    assert resolved.rank == 16 and model.name == "smollm2-135m"
    assert request_token_cap(cfg, model) == 8192  # the embedded model's context
    assert request_token_cap(ServeConfig(max_model_len=2048), model) == 2048
    assert request_token_cap(ServeConfig(max_model_len=2048, max_request_tokens=512), model) == 512
