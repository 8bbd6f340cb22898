"""Fewer, bigger GEMMs per decoder layer of the rollout copy: q/k/v as one matmul, gate/up as one.

    python -m bench.decode_step --variants device,fused                  # the lever on its own, decode only
    python -m bench.grpo_step --backends fast,fast@unfused               # and in a whole GRPO step

Why: at decode a GEMM has M = the batch rows (12 for the recipe) and is bound by reading its weight, and a small
weight runs far below the card's bandwidth (H200, Qwen2.5-3B shape: the 8 MB `mm(12×2048, 2048×2048)` takes
~15 µs, ~0.6 TB/s, where the 622 MB lm-head reaches ~4 TB/s); each one is also one more kernel of the 36 layers'
token step. vLLM's layers fuse exactly these (QKVParallelLinear, MergedColumnParallelLinear).

How, without touching transformers' model code: the projections' weights are concatenated into one tensor and
each original Linear keeps a view of its rows as its weight, so MergedPolicy.sync's in-place copy still lands in
the fused tensor (captured CUDA graphs stay valid). The first projection of a group (q_proj, gate_proj) computes
the fused product and keeps it; the others (k_proj, v_proj; up_proj) return their columns of it. That relies on
transformers' attention and MLP calling them in that order on the same input, which holds for the Llama/Qwen2
families; a group called out of order raises rather than computing the wrong thing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

GROUPS = (("self_attn", ("q_proj", "k_proj", "v_proj")), ("mlp", ("gate_proj", "up_proj")))
# The families whose attention and MLP call these projections in GROUPS order, tested (tests/test_rollout.py,
# tests/test_gpu.py): any other model type keeps its separate projections.
MODEL_TYPES = {"llama", "qwen2"}


class _Pending:
    """A group's product between its first and its last projection's call (None outside a layer's call)."""

    out = None


class FusedPart(nn.Module):
    """Stands where one projection of a group was. The group's first part owns the fused weight (a registered
    parameter, so a CUDA graph treats it as static); every part's weight (and bias) is a view of its rows."""

    def __init__(self, fused: tuple, pending: _Pending, start: int, end: int, first: bool, last: bool):
        super().__init__()
        weight, bias = fused
        if first:
            self.fused_weight = weight
            self.fused_bias = bias
        self.pending, self.start, self.end, self.first, self.last = pending, start, end, first, last
        self.weight = nn.Parameter(weight[start:end], requires_grad=False)  # shares the fused storage
        self.bias = None if bias is None else nn.Parameter(bias[start:end], requires_grad=False)

    def forward(self, x):
        if self.first:
            self.pending.out = F.linear(x, self.fused_weight, self.fused_bias)
        elif self.pending.out is None:
            raise RuntimeError("fused projections called out of order (the first one of the group was not)")
        y = self.pending.out[..., self.start:self.end]
        if self.last:
            self.pending.out = None  # nothing outlives the layer's call (nor a compiled graph)
        return y


def fuse_projections(model: nn.Module) -> int:
    """Fuse q/k/v and gate/up in every decoder layer of a plain (no PEFT) transformers model, in place.

    Returns the number of groups fused; another model type (MODEL_TYPES), or a layer without these projections,
    is left as is. Call it after the model is on its device: moving it afterwards would copy the views apart from
    the fused tensor.
    """
    if getattr(getattr(model, "config", None), "model_type", None) not in MODEL_TYPES:
        return 0
    fused = 0
    for layer in model.model.layers:
        for block_name, names in GROUPS:
            block = getattr(layer, block_name, None)
            linears = [getattr(block, n, None) for n in names]
            if block is None or not all(isinstance(lin, nn.Linear) for lin in linears) \
                    or len({lin.bias is None for lin in linears}) > 1:
                continue
            weight = nn.Parameter(torch.cat([lin.weight.detach() for lin in linears]), requires_grad=False)
            bias = None if linears[0].bias is None else \
                nn.Parameter(torch.cat([lin.bias.detach() for lin in linears]), requires_grad=False)
            pending, start = _Pending(), 0
            for i, (name, lin) in enumerate(zip(names, linears)):
                end = start + lin.out_features
                setattr(block, name, FusedPart((weight, bias), pending, start, end, first=i == 0,
                                               last=i == len(names) - 1))
                start = end
            fused += 1
    return fused
