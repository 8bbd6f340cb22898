"""Machine facts that every stage needs, without importing torch (so `--help` stays instant)."""

from __future__ import annotations

import os

# The recipe's model: train's nano-r1 preset and serve's GPU default.
GPU_DEFAULT_MODEL = "Qwen/Qwen2.5-3B-Instruct"

# Shared multi-GPU hosts: NVLink multicast (NVLS) can take the host's GPUs down; keep it off for every child.
NO_MULTICAST = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1", "NVSHMEM_DISABLE_NVLS": "1"}


def has_cuda_device() -> bool:
    """Cheap check (no torch import) used only to choose defaults; the backend choice asks torch itself."""
    return os.path.exists("/dev/nvidiactl") and os.environ.get("CUDA_VISIBLE_DEVICES") != ""


def visible_gpus() -> int:
    """GPUs CUDA would show this process, without importing torch: the /dev/nvidiaN devices, narrowed by
    CUDA_VISIBLE_DEVICES as CUDA reads it (a comma list of indices or UUIDs; it stops at the first bad entry)."""
    if not has_cuda_device():
        return 0
    devices = sum(1 for d in os.listdir("/dev") if d.startswith("nvidia") and d[6:].isdigit())
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return devices
    count = 0
    for entry in visible.split(","):
        entry = entry.strip()
        if not (entry.isdigit() and int(entry) < devices or entry.startswith(("GPU-", "MIG-"))):
            break
        count += 1
    return count


def world_size() -> int:
    """Processes in this (accelerate / torchrun) launch; 1 when started plainly."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def hardware() -> str:
    """What a run ran on, in a few words for its chart and config ("1× NVIDIA H200", "CPU, 2 cores")."""
    import torch  # only called once a run is built, when torch is loaded anyway

    if torch.cuda.is_available():
        return f"{world_size()}× {torch.cuda.get_device_name()}"
    return f"CPU, {os.cpu_count()} cores"
