"""Log-probs with each distinct prompt computed once (train/shared_prefix.py) against TRL's own full forward:
same log-probs, entropies and LoRA gradients, through TRL's real `_full_logits_logps`, on CPU."""

import copy
from types import SimpleNamespace

import pytest
import torch


@pytest.fixture(scope="module")
def peft_model(embedded_model):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(embedded_model, dtype=torch.float32)
    peft = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, task_type="CAUSAL_LM",
                                            target_modules=["q_proj", "k_proj", "v_proj", "down_proj"]))
    torch.manual_seed(0)
    with torch.no_grad():  # a trained adapter: B is non-zero, so the LoRA path changes the logits
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    return peft


def grpo_batch(pad: int):
    """2 prompts × 3 completions, as TRL lays them out: prompts left-padded, completions right-padded."""
    torch.manual_seed(1)
    prompts = [torch.randint(100, 5000, (9,)).tolist(), torch.randint(100, 5000, (6,)).tolist()]
    completions = [torch.randint(100, 5000, (n,)).tolist() for n in (5, 3, 5, 1, 4, 2)]
    P, C = max(map(len, prompts)), max(map(len, completions))
    ids, mask = [], []
    for i, c in enumerate(completions):
        p = prompts[i // 3]
        ids.append([pad] * (P - len(p)) + p + c + [pad] * (C - len(c)))
        mask.append([0] * (P - len(p)) + [1] * (len(p) + len(c)) + [0] * (C - len(c)))
    return torch.tensor(ids), torch.tensor(mask), C


def trl_logps(model, ids, mask, keep, entropy=True):
    from trl import GRPOTrainer

    fake = SimpleNamespace(model_kwarg_keys={"logits_to_keep"}, temperature=0.9, _entropy_bonus_enabled=False)
    logps, ents, _ = GRPOTrainer._full_logits_logps(fake, model, ids, mask, keep, compute_entropy=entropy)
    return logps, ents


def test_logps_entropies_and_gradients_match_trl(peft_model):
    from train.shared_prefix import SharedPrefixModel

    ids, mask, keep = grpo_batch(pad=0)
    cmask = mask[:, -keep:].bool()
    results = []
    for model in (peft_model, SharedPrefixModel(peft_model)):
        peft_model.zero_grad()
        logps, ents = trl_logps(model, ids, mask, keep)
        (logps * cmask).sum().backward()
        grads = {n: p.grad.clone() for n, p in peft_model.named_parameters() if p.requires_grad}
        results.append((logps.detach(), ents.detach(), grads))
    (ref_lp, ref_ent, ref_g), (lp, ent, g) = results
    torch.testing.assert_close(lp[cmask], ref_lp[cmask], atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(ent[cmask], ref_ent[cmask], atol=2e-4, rtol=1e-4)
    assert ref_g.keys() == g.keys() and len(g) > 0
    for name in g:  # float sums in another order: compare each gradient as a whole, not element by element
        assert (g[name] - ref_g[name]).norm() <= 1e-3 * ref_g[name].norm(), name


def test_reference_pass_with_adapter_disabled(peft_model):
    """The reference log-probs (TRL disables the adapter) come out the same through the shared prefix."""
    from train.shared_prefix import SharedPrefixModel

    ids, mask, keep = grpo_batch(pad=0)
    cmask = mask[:, -keep:].bool()
    with torch.no_grad(), peft_model.disable_adapter():
        ref, _ = trl_logps(peft_model, ids, mask, keep, entropy=False)
        ours, _ = trl_logps(SharedPrefixModel(peft_model), ids, mask, keep, entropy=False)
    with torch.no_grad():
        with_adapter, _ = trl_logps(peft_model, ids, mask, keep, entropy=False)
    torch.testing.assert_close(ours[cmask], ref[cmask], atol=2e-4, rtol=1e-4)
    assert not torch.allclose(with_adapter[cmask], ref[cmask], atol=1e-3)  # the adapter was really off


def test_falls_back_when_nothing_is_shared(peft_model):
    from train.shared_prefix import shared_prefix_logits

    ids, mask, keep = grpo_batch(pad=0)
    distinct = torch.tensor([0, 3])  # one row per prompt: nothing to share
    assert shared_prefix_logits(peft_model, ids[distinct], mask[distinct], keep + 1) is None


def test_cpu_picks_the_fast_backend_without_checkpointing(monkeypatch):
    import train.backends as backends

    monkeypatch.setattr(backends, "cuda_available", lambda: False)
    b = backends.choose_backend("auto")
    assert (b.name, b.device, b.bf16, b.gradient_checkpointing) == ("fast", "cpu", False, False)
    assert b.autocast_bf16 == backends.cpu_has_bf16()  # fp32 weights; bf16 log-prob passes on AMX CPUs
    assert b.trainer_class().__name__ == "FastRolloutGRPOTrainer"
    assert backends.choose_backend("trl").name == "trl"
    # auto says why it chose; an explicit choice says nothing of the kind
    assert "auto: the fastest measured on CPU" in b.describe()
    assert "auto:" not in backends.choose_backend("fast").describe()
