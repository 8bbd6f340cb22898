"""The fast rollout loop (train/rollout.py) against transformers' own generate and PEFT, on CPU."""

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
        ref = model.generate(torch.tensor([p]), do_sample=False, max_new_tokens=12, eos_token_id=tok.eos_token_id,
                             pad_token_id=tok.pad_token_id)[0, len(p):].tolist()
        cut = ref.index(tok.eos_token_id) + 1 if tok.eos_token_id in ref else len(ref)
        assert got == ref[:cut]


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
