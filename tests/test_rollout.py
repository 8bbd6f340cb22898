"""The fast rollout loop (train/rollout.py) against transformers' own generate and PEFT, on CPU — the path
`--backend auto` takes there (eager decode; each distinct prompt prefilled once)."""

import copy

import pytest
import torch


@pytest.fixture(scope="module")
def model_and_tok(embedded_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(embedded_model)
    model = AutoModelForCausalLM.from_pretrained(embedded_model, dtype=torch.float32).eval()
    return model, tok


def prompts(tok):
    qs = ["What is 2+2?", "Name a prime number bigger than ten, please, and explain why it is prime.", "Hi"]
    return [tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True, tokenize=True,
                                    return_dict=False)
            for q in qs]


def reference(model, tok, p, new):
    ref = model.generate(torch.tensor([p]), do_sample=False, max_new_tokens=new, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)[0, len(p):].tolist()
    return ref[: ref.index(tok.eos_token_id) + 1] if tok.eos_token_id in ref else ref


def test_greedy_matches_generate(model_and_tok):
    from train.rollout import StaticRollout

    model, tok = model_and_tok
    ps = prompts(tok)
    # the rollout switches its model to the GQA decode attention: keep the reference on transformers' own
    roll = StaticRollout(copy.deepcopy(model), batch_size=4, max_prompt_length=48, max_new_tokens=12,
                         pad_token_id=tok.pad_token_id)
    assert roll.model.config._attn_implementation != model.config._attn_implementation
    ours = roll.generate(ps, temperature=0.0, eos_token_ids=[tok.eos_token_id])
    for p, got in zip(ps, ours):  # one by one: no padding at all on the reference side
        assert got == reference(model, tok, p, 12)


def test_grpo_groups_share_one_prefill_and_match_generate(model_and_tok):
    """A GRPO batch repeats each prompt: the rows of a group get their prompt's KV from one prefill, in any order,
    with unused rows of the fixed-size batch left over; greedy tokens still equal generate's, row by row."""
    from train.rollout import StaticRollout

    model, tok = model_and_tok
    a, b, _ = prompts(tok)
    batch = [b, a, b, a, b]
    roll = StaticRollout(copy.deepcopy(model), batch_size=6, max_prompt_length=48, max_new_tokens=10,
                         pad_token_id=tok.pad_token_id)
    calls = []
    roll.model.register_forward_pre_hook(lambda m, args, kw: calls.append(kw["input_ids"].shape), with_kwargs=True)
    ours = roll.generate(batch, temperature=0.0, eos_token_ids=[tok.eos_token_id])
    assert calls[0] == (2, 48)  # the prefill: two distinct prompts, not five rows
    want = {tuple(p): reference(model, tok, p, 10) for p in (a, b)}
    assert ours == [want[tuple(p)] for p in batch]


def test_sampling_respects_min_new_tokens_and_temperature(model_and_tok):
    from train.rollout import StaticRollout

    model, tok = model_and_tok
    ps = prompts(tok)[:2] * 2
    roll = StaticRollout(copy.deepcopy(model), batch_size=4, max_prompt_length=48, max_new_tokens=10,
                         pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    out = roll.generate(ps, temperature=1.0, eos_token_ids=[tok.eos_token_id], min_new_tokens=10)
    assert [len(o) for o in out] == [10] * 4 and all(tok.eos_token_id not in o for o in out)
    assert len({tuple(o) for o in out}) > 1  # sampled, not greedy


def test_device_cache_position_samples_what_the_host_one_did(model_and_tok):
    """The cache slot kept on the device (no blocking copy per token step) feeds the model the same positions:
    with the same seed, sampled completions are token for token those of the old host-built slot."""
    from train.rollout import RolloutOptions, StaticRollout

    model, tok = model_and_tok
    ps = prompts(tok)[:2] * 2
    runs = []
    for host in (False, True):
        roll = StaticRollout(copy.deepcopy(model), batch_size=4, max_prompt_length=48, max_new_tokens=12,
                             pad_token_id=tok.pad_token_id, options=RolloutOptions(host_positions=host))
        torch.manual_seed(0)
        runs.append(roll.generate(ps, temperature=1.0, eos_token_ids=[tok.eos_token_id], min_new_tokens=12))
    assert runs[0] == runs[1] and len({tuple(o) for o in runs[0]}) > 1


def test_merged_policy_tracks_lora(model_and_tok):
    from peft import LoraConfig, get_peft_model

    from train.rollout import MergedPolicy

    model, tok = model_and_tok
    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "down_proj"]))
    policy = MergedPolicy(peft_model)
    x = torch.tensor([prompts(tok)[1]])
    with torch.no_grad():
        for p in peft_model.parameters():  # a "training step": move every LoRA weight
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.02)
        assert not torch.allclose(policy.model(x).logits, peft_model(x).logits, atol=1e-4)  # stale copy
        policy.sync(peft_model)
        torch.testing.assert_close(policy.model(x).logits, peft_model(x).logits, atol=2e-4, rtol=1e-4)
    assert not any("lora" in n for n, _ in policy.model.named_parameters())


def test_gumbel_max_sampling_follows_softmax_with_temperature():
    from train.rollout import StaticRollout

    torch.manual_seed(0)
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, -3.0]]).repeat(100_000, 1)
    for temperature in (1.0, 0.7):
        drawn = StaticRollout.sample(logits, torch.zeros(5), torch.tensor(1 / temperature), torch.tensor(1.0))
        freq = torch.bincount(drawn, minlength=5).float() / len(drawn)
        torch.testing.assert_close(freq, torch.softmax(logits[0] / temperature, -1), atol=6e-3, rtol=0)
    greedy = StaticRollout.sample(logits[:3], torch.zeros(5), torch.tensor(1.0), torch.tensor(0.0))
    assert greedy.tolist() == [0, 0, 0]


@pytest.mark.slow
def test_compiled_cpu_decode_matches_eager(model_and_tok):
    """Long CPU runs compile the decode step with inductor (train/fast.py): same greedy tokens as the eager loop."""
    from train.rollout import RolloutOptions, StaticRollout

    model, tok = model_and_tok
    ps = prompts(tok)
    eager = StaticRollout(copy.deepcopy(model), batch_size=4, max_prompt_length=48, max_new_tokens=8,
                          pad_token_id=tok.pad_token_id, options=RolloutOptions(compile=False))
    compiled = StaticRollout(copy.deepcopy(model), batch_size=4, max_prompt_length=48, max_new_tokens=8,
                             pad_token_id=tok.pad_token_id, options=RolloutOptions(compile=True))
    want = eager.generate(ps, temperature=0.0, eos_token_ids=[tok.eos_token_id])
    assert compiled.generate(ps, temperature=0.0, eos_token_ids=[tok.eos_token_id]) == want
    assert compiled.compiled  # it really ran compiled, not the eager fallback


def test_failed_compile_falls_back_to_eager(model_and_tok, monkeypatch, capsys):
    from train.rollout import RolloutOptions, StaticRollout

    def broken_compile(fn, **kwargs):
        def run(*args):
            raise RuntimeError("InvalidCxxCompiler: no working C++ compiler found")
        return run

    model, tok = model_and_tok
    ps = prompts(tok)[:2]
    monkeypatch.setattr(torch, "compile", broken_compile)
    roll = StaticRollout(copy.deepcopy(model), batch_size=2, max_prompt_length=48, max_new_tokens=6,
                         pad_token_id=tok.pad_token_id, options=RolloutOptions(compile=True))
    got = roll.generate(ps, temperature=0.0, eos_token_ids=[tok.eos_token_id])
    assert got == [reference(model, tok, p, 6) for p in ps] and not roll.compiled
    assert "decoding eagerly" in capsys.readouterr().err


def test_fused_projections_compute_what_the_separate_ones_do(model_and_tok):
    """q/k/v and gate/up as one GEMM each (train/fused.py, the default on CUDA): same logits as the separate
    projections on the embedded model (Llama, no biases) and on a Qwen2-shaped one (biases on q/k/v), the same
    greedy rollout, and a weight written through a projection's view lands in the fused tensor."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from train.fused import FusedPart, fuse_projections
    from train.rollout import StaticRollout

    model, tok = model_and_tok
    torch.manual_seed(0)
    qwen = Qwen2ForCausalLM(Qwen2Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2, vocab_size=256)).eval()
    for plain, x in ((model, torch.tensor([prompts(tok)[1]])), (qwen, torch.randint(0, 256, (2, 9)))):
        fused = copy.deepcopy(plain)
        assert fuse_projections(fused) == 2 * len(plain.model.layers)
        with torch.no_grad():
            torch.testing.assert_close(fused(x).logits, plain(x).logits, atol=1e-4, rtol=1e-4)
    attn = qwen.model.layers[0].self_attn
    fused_attn = fused.model.layers[0].self_attn
    assert isinstance(fused_attn.k_proj, FusedPart) and fused_attn.q_proj.fused_bias is not None
    with torch.no_grad():
        fused_attn.k_proj.weight.copy_(attn.k_proj.weight * 2)  # what MergedPolicy.sync does after a step
    rows = slice(attn.q_proj.out_features, attn.q_proj.out_features + attn.k_proj.out_features)
    assert torch.equal(fused_attn.q_proj.fused_weight[rows], attn.k_proj.weight * 2)

    ps = prompts(tok)
    separate, fused = copy.deepcopy(model), copy.deepcopy(model)
    fuse_projections(fused)
    greedy = [StaticRollout(m, batch_size=4, max_prompt_length=48, max_new_tokens=12, pad_token_id=tok.pad_token_id)
              .generate(ps, temperature=0.0, eos_token_ids=[tok.eos_token_id]) for m in (separate, fused)]
    assert greedy[0] == greedy[1]


def test_fusing_is_for_tested_families_and_cuda_only(model_and_tok):
    """Another model type keeps its separate projections (its call order is not known to be q, k, v); the merged
    policy fuses by default only on CUDA, where it was measured."""
    from peft import LoraConfig, get_peft_model
    from transformers import MistralConfig, MistralForCausalLM

    from train.fused import fuse_projections
    from train.rollout import MergedPolicy, RolloutOptions

    mistral = MistralForCausalLM(MistralConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                               num_attention_heads=4, num_key_value_heads=2, vocab_size=256))
    assert fuse_projections(mistral) == 0
    assert type(mistral.model.layers[0].self_attn.q_proj) is torch.nn.Linear
    model, _ = model_and_tok
    policy = MergedPolicy(get_peft_model(copy.deepcopy(model), LoraConfig(r=4, target_modules=["q_proj"])))
    assert RolloutOptions().fuse is None and type(policy.model.model.layers[0].self_attn.q_proj) is torch.nn.Linear


def test_fused_merged_policy_tracks_lora(model_and_tok):
    """Fused (the CUDA default) the merged copy still follows the LoRA weights after each sync."""
    from peft import LoraConfig, get_peft_model

    from train.fused import FusedPart
    from train.rollout import MergedPolicy, RolloutOptions

    model, tok = model_and_tok
    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(r=8, lora_alpha=16,
                                                                  target_modules=["k_proj", "up_proj", "o_proj"]))
    policy = MergedPolicy(peft_model, RolloutOptions(fuse=True))
    assert isinstance(policy.model.model.layers[0].mlp.up_proj, FusedPart)
    x = torch.tensor([prompts(tok)[1]])
    with torch.no_grad():
        for p in peft_model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.02)
        assert not torch.allclose(policy.model(x).logits, peft_model(x).logits, atol=1e-4)
        policy.sync(peft_model)
        torch.testing.assert_close(policy.model(x).logits, peft_model(x).logits, atol=2e-4, rtol=1e-4)


def test_fused_projections_flag_reaches_the_rollout_copy(tmp_path):
    """`python -m train --fused-projections true` on a CPU (where the default is off): the fast trainer's rollout
    copy is built fused, and its greedy decode (what evaluation during training runs) works on it."""
    from train.__main__ import parse
    from train.fused import FusedPart
    from train.grpo import build

    cfg = parse(["--preset", "tiny", "--output-dir", str(tmp_path), "--fused-projections", "true",
                 "--eval-every", "0"])
    trainer, *_ = build(cfg)
    assert trainer.rollout_options.fuse is True
    (out,) = trainer.greedy([trainer.processing_class("What is 2+2?")["input_ids"]], max_tokens=4)
    assert 1 <= len(out) <= 4
    assert isinstance(trainer._policy.model.model.layers[0].self_attn.q_proj, FusedPart)
