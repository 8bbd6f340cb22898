"""One layer's decode attention at the nano-r1 bench shape: ours against library kernels (CUDA only).

    python -m bench.experiments.decode_attention                 # on a GPU; FlashAttention-3 too where vllm is installed

12 rows, 16 query heads over 2 KV heads (Qwen2.5-3B), head dim 128, a static cache of 1,280 slots (256 prompt
slots of which 56 are left padding, then 1,024 for the completion), bf16; the real length is 201, 712 and 1,224
(the start, middle and end of a completion). Each candidate runs 200 times inside one CUDA graph, as the decode
step does; printed: µs per call and the largest difference from ours. Candidates:
  ours       train/attention.py's gqa_decode_attention, compiled by inductor (what the decode graph runs)
  sdpa       torch's scaled_dot_product_attention with enable_gqa=True and the boolean mask, per SDPA backend
  fa3        vLLM's FlashAttention-3 on the static cache as it lies (a [batch, slot, head, dim] view, no copy),
             attending to the real lengths only (seqused_k, leftpad_k)
and whether fa3 compiles into a graph (torch.compile(fullgraph=True)): the decode step is compiled whole.
"""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F

from train.attention import gqa_decode_attention

ROWS, HEADS, KV_HEADS, DIM, SLOTS, PAD = 12, 16, 2, 128, 1280, 56


def in_graph_us(fn, calls: int = 200) -> float:
    """µs per call of fn, replayed as `calls` calls captured in one CUDA graph."""
    fn()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        fn()  # warm-up on a side stream, as CUDA-graph capture requires
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(calls):
            fn()
    graph.replay()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    graph.replay()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) * 1000 / calls


def fa3_call(op, q, k, v, used, leftpad):
    # torch.ops._vllm_fa3_C.fwd positionally, as vllm/vllm_flash_attn/flash_attn_interface.py calls it, with the
    # cache in place of k and no new keys: q, k, v, k_new, v_new, q_v, out, cu_seqlens_q/k/k_new, seqused_q/k,
    # max_seqlen_q/k, page_table, kv_batch_idx, leftpad_k, rotary ×3, descales ×3, scale, causal, window ×2,
    # softcap, rotary_interleaved, scheduler_metadata, num_splits, pack_gqa, sm_margin, s_aux, cp ×3
    return op(q, k, v, None, None, None, None, None, None, None, None, used, None, None, None, None, leftpad,
              None, None, None, None, None, None, DIM ** -0.5, False, -1, -1, 0.0, True, None, 0, None, 0, None,
              1, 0, None)[0]


def main() -> None:
    if not torch.cuda.is_available():
        sys.exit("error: bench.experiments.decode_attention measures CUDA kernels in a CUDA graph: it needs a GPU")
    from torch.nn.attention import SDPBackend, sdpa_kernel

    torch.manual_seed(0)
    dev, bf16 = "cuda", torch.bfloat16
    keys = torch.randn(ROWS, KV_HEADS, SLOTS, DIM, device=dev, dtype=bf16)  # transformers' StaticCache layout
    values = torch.randn(ROWS, KV_HEADS, SLOTS, DIM, device=dev, dtype=bf16)
    query = torch.randn(ROWS, HEADS, 1, DIM, device=dev, dtype=bf16)
    layer = torch.nn.Module()
    try:
        import vllm.vllm_flash_attn  # noqa: F401 — registers torch.ops._vllm_fa3_C
        fa3 = torch.ops._vllm_fa3_C.fwd
    except (ImportError, AttributeError, RuntimeError) as e:
        fa3 = None
        print(f"fa3: not available here ({type(e).__name__}: {str(e)[:120]})")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}: µs per call, max |difference| from ours")
    for length in (201, 712, 1224):
        slots = torch.arange(SLOTS, device=dev)
        mask = ((slots >= PAD) & (slots < PAD + length))[None, None, None, :].expand(ROWS, 1, 1, SLOTS)
        ours_fn = torch.compile(lambda: gqa_decode_attention(layer, query, keys, values, mask)[0])
        ours = ours_fn().float()  # [rows, 1, heads, dim]
        print(f"\nreal length {length} of {SLOTS} slots")
        print(f"  {'ours (inductor)':<28}{in_graph_us(ours_fn):7.2f}")
        for backend in (SDPBackend.CUDNN_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.FLASH_ATTENTION):
            def sdpa(backend=backend):
                with sdpa_kernel(backend):
                    return F.scaled_dot_product_attention(query, keys, values, attn_mask=mask, enable_gqa=True)
            try:
                diff = (sdpa().transpose(1, 2).float() - ours).abs().max().item()
                print(f"  {'sdpa ' + backend.name.lower():<28}{in_graph_us(sdpa):7.2f}   {diff:.2g}")
            except RuntimeError as e:
                print(f"  {'sdpa ' + backend.name.lower():<28}  none: {str(e).splitlines()[0][:80]}")
        if fa3 is None:
            continue
        used = torch.full((ROWS,), PAD + length, dtype=torch.int32, device=dev)  # slots up to the last real one
        leftpad = torch.full((ROWS,), PAD, dtype=torch.int32, device=dev)
        cache_k, cache_v, q = keys.transpose(1, 2), values.transpose(1, 2), query.transpose(1, 2)
        fa = lambda: fa3_call(fa3, q, cache_k, cache_v, used, leftpad)  # noqa: E731
        diff = (fa().float() - ours).abs().max().item()
        print(f"  {'fa3 (real lengths)':<28}{in_graph_us(fa):7.2f}   {diff:.2g}")
        try:
            torch.compile(fa, fullgraph=True)()
            print("  fa3 compiles into a graph")
        except Exception as e:  # noqa: BLE001 — dynamo's Unsupported: report why, go on
            print(f"  fa3 does not compile into a graph: {str(e).splitlines()[0][:120]}")


if __name__ == "__main__":
    main()
