"""`--loss-type grpo / dr_grpo / dapo` and clip-higher (`--trl.epsilon_high`) on the fast backend: the flag reaches
TRL, and the fast trainer's loss on a fixed batch is the number TRL's own trainer (`--backend trl`: TRL's
log-prob forward, no shared prefix) computes on the same batch and weights.

    python -m pytest tests/test_loss_types.py -q -m slow

Both trainers are built by `train.grpo.build` from the command-line flags, on the embedded SmolLM2-135M (8 trainers:
~2 min on 2 shared cores). Compared in fp32: the Trainer's bf16 autocast context (the fast backend's, on AMX CPUs) is
not entered, so both compute the same function and differ only by float rounding (the shared-prefix forward).
The batch: one real training prompt, four completions of different lengths, advantages of both signs, and old
log-probs ±0.25 away from the policy's, so ratios fall outside both clip ranges (1 ± 0.2, and 1.28 above).
"""

import pytest
import torch

pytestmark = pytest.mark.slow

COMMON = ["--preset", "tiny", "--synthetic-size", "8", "--num-generations", "4", "--max-completion-length", "16",
          "--lora-dropout", "0", "--save-steps", "100", "--one-shot", "false", "--system-prompt", "none"]
CASES = {"grpo": [], "dr_grpo": ["--loss-type", "dr_grpo"], "dapo": ["--loss-type", "dapo"],
         "dapo+clip-higher": ["--loss-type", "dapo", "--trl.epsilon_high", "0.28"]}
COMPLETIONS = ["<reasoning>\n2 + 2 = 4\n</reasoning>\n<answer>\n4\n</answer>", "4", "The answer is four, I think.",
               "<answer>5</answer>"]


def build_trainer(tmp_path, name, backend, flags):
    from train.__main__ import parse
    from train.grpo import build

    cfg = parse([*COMMON, *flags, "--backend", backend, "--output-dir", str(tmp_path), "--run-name", name])
    trainer = build(cfg)[0]
    trainer.current_gradient_accumulation_steps = 1  # what the training loop sets before each step
    trainer.model.train()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # the same non-zero LoRA in both, so the policy is not just the base model
        for param_name, param in sorted(trainer.model.named_parameters()):
            if "lora_A" in param_name or "lora_B" in param_name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.02)
    return trainer


def fixed_batch(trainer):
    """One prompt × four completions, padded as TRL pads them; old and reference log-probs around the policy's."""
    tok = trainer.processing_class
    prompt = tok.apply_chat_template(trainer.train_dataset[0]["prompt"], add_generation_prompt=True, tokenize=True,
                                     return_dict=False)
    completions = [tok(text, add_special_tokens=False)["input_ids"][:15] + [tok.eos_token_id] for text in COMPLETIONS]
    width = max(map(len, completions))
    completion_ids = torch.tensor([c + [tok.pad_token_id] * (width - len(c)) for c in completions])
    completion_mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in completions])
    batch = {"prompt_ids": torch.tensor([prompt] * 4), "prompt_mask": torch.ones(4, len(prompt), dtype=torch.long),
             "completion_ids": completion_ids, "completion_mask": completion_mask,
             "advantages": torch.tensor([1.5, -0.5, 0.8, -1.8]), "num_items_in_batch": completion_mask.sum()}
    with torch.no_grad():
        logps, _, _ = trainer._get_per_token_logps_and_entropies(
            trainer.model, torch.cat([batch["prompt_ids"], completion_ids], 1),
            torch.cat([batch["prompt_mask"], completion_mask], 1), width)
    sign = torch.tensor([1.0, -1.0]).repeat(width // 2 + 1)[:width]
    batch["old_per_token_logps"] = logps - 0.25 * sign  # ratio e^±0.25: 1.28 / 0.78
    batch["ref_per_token_logps"] = logps - 0.1
    return batch


@pytest.fixture(scope="module")
def losses(tmp_path_factory):
    """{case: (fast trainer's loss, TRL trainer's loss, fast trainer)} on the same fixed batch."""
    out = {}
    for case, flags in CASES.items():
        tmp = tmp_path_factory.mktemp(case.replace("+", "-"))
        ours, theirs = build_trainer(tmp, "fast", "fast", flags), build_trainer(tmp, "trl", "trl", flags)
        batch = fixed_batch(theirs)  # TRL's own forward gives the policy log-probs the batch is built around
        out[case] = (ours.compute_loss(ours.model, batch).item(), theirs.compute_loss(theirs.model, batch).item(), ours)
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_the_fast_trainers_loss_is_trls(losses, case):
    ours, theirs, trainer = losses[case]
    assert type(trainer).__name__ == "FastRolloutGRPOTrainer"
    assert not trainer.args.gradient_checkpointing  # so its log-probs take the shared-prefix forward, TRL's do not
    assert ours == pytest.approx(theirs, rel=1e-3, abs=1e-5)  # 5e-5 relative apart, measured


def test_the_flags_reach_trl_and_change_the_loss(losses):
    for case, (_, _, trainer) in losses.items():
        assert trainer.loss_type == trainer.args.loss_type == case.split("+")[0]
        assert trainer.epsilon_high == (0.28 if "clip-higher" in case else 0.2) and trainer.epsilon_low == 0.2
    values = [theirs for _, theirs, _ in losses.values()]
    assert len({round(v, 6) for v in values}) == len(values), values  # each setting computes a different loss
