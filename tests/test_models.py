"""Model resolution: the embedded GGUF model, any .gguf file, folders, hub ids, and clear errors."""

import shutil

import pytest

from nano_r1.cliargs import ConfigError
from nano_r1.models import cache_dir, convert_gguf, resolve_model


def test_embedded_model_converts_once_and_loads(embedded_model):
    from transformers import AutoConfig, AutoTokenizer

    again = resolve_model("smollm2-135m")
    assert again.path == embedded_model
    config = AutoConfig.from_pretrained(embedded_model)
    assert config.model_type == "llama" and config.num_hidden_layers == 30
    tok = AutoTokenizer.from_pretrained(embedded_model)
    assert tok.eos_token == "<|im_end|>"  # fixed from the GGUF's wrong <|im_start|>
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")


def test_gguf_file_conversion(tmp_path, embedded_model, monkeypatch):
    """A user's .gguf path converts into a cache folder keyed by content, and loads."""
    gguf = cache_dir() / "gguf" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert gguf.is_file()
    monkeypatch.setenv("NANO_R1_CACHE", str(tmp_path / "cache"))
    local = tmp_path / "my model.gguf"
    shutil.copy(gguf, local)
    resolved = resolve_model(str(local))
    assert resolved.name == "my model" and (tmp_path / "cache") in __import__("pathlib").Path(resolved.path).parents
    assert convert_gguf(local) == __import__("pathlib").Path(resolved.path)  # cached: no second conversion
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(resolved.path)
    assert sum(p.numel() for p in model.parameters()) > 100e6


def test_folder_and_hub_id(tmp_path, embedded_model):
    assert resolve_model(embedded_model).path.endswith("smollm2-135m")
    hub = resolve_model("Qwen/Qwen2.5-3B-Instruct")
    assert hub.path == "Qwen/Qwen2.5-3B-Instruct"


@pytest.mark.parametrize("spec, message", [
    ("no-such-model", "unknown model"),
    ("./missing-folder", "no such model folder"),
    ("missing.gguf", "no such GGUF file"),
])
def test_bad_models(spec, message):
    with pytest.raises(ConfigError, match=message):
        resolve_model(spec)


def test_folder_without_config(tmp_path):
    with pytest.raises(ConfigError, match="config.json"):
        resolve_model(str(tmp_path))


def test_corrupt_gguf(tmp_path, monkeypatch):
    monkeypatch.setenv("NANO_R1_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ConfigError, match="cannot read GGUF"):
        resolve_model(str(bad))
