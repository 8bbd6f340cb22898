"""Log-prob forwards that compute each distinct prompt once per batch (the fast backend's reference and policy
passes), with TRL's own log-softmax, entropy and loss on the result.

Why: TRL scores a GRPO batch as `num_generations` full rows of prompt + completion, so the prompt — ~190 of the
~250 tokens per row in the `tiny` preset (system prompt, one-shot example, question) — goes through the model
`num_generations` times in the reference pass and again in the policy forward and backward. Here the distinct
prompts run once (`use_cache=True`), their KV cache is expanded to the rows that share them
(`Cache.batch_select_indices`, differentiable, so the policy gradient through the prompt's keys and values is
summed over the group exactly as in the full forward), and the completions run on top of it with the full
attention mask. Positions are the full forward's (0..L-1, as TRL passes none), so the logits are the same up to
float rounding; tests/test_shared_prefix.py checks log-probs and LoRA gradients against TRL's own path.

Used where gradient checkpointing is off (it drops the cache in training): the CPU path.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch


class SharedPrefixModel:
    """Stands in for `model` inside TRL's `_full_logits_logps`: same call, same `.logits`, prompts run once."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):  # anything TRL reads off the model (config, training, ...) is the model's
        return getattr(self.model, name)

    def __call__(self, input_ids, attention_mask, logits_to_keep, use_cache=False, **rest):
        logits = None if rest else shared_prefix_logits(self.model, input_ids, attention_mask, logits_to_keep)
        if logits is None:  # nothing shared (or inputs this does not handle): the plain forward
            return self.model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=logits_to_keep,
                              use_cache=use_cache, **rest)
        return SimpleNamespace(logits=logits)


def shared_prefix_logits(model, input_ids, attention_mask, logits_to_keep: int):
    """Logits of the last `logits_to_keep` positions of `input_ids` (TRL asks for completion length + 1: the last
    prompt position predicts the first completion token), or None when no two rows share their prompt part."""
    completion = logits_to_keep - 1
    prompt_len = input_ids.shape[1] - completion
    if completion < 1 or prompt_len < 1:
        return None
    prompt = torch.cat([input_ids[:, :prompt_len], attention_mask[:, :prompt_len]], dim=1)
    distinct, inverse = torch.unique(prompt, dim=0, return_inverse=True)
    if distinct.shape[0] == input_ids.shape[0]:
        return None
    head = model(input_ids=distinct[:, :prompt_len], attention_mask=distinct[:, prompt_len:], use_cache=True,
                 logits_to_keep=1)
    cache = head.past_key_values
    cache.batch_select_indices(inverse)
    tail = model(input_ids=input_ids[:, prompt_len:], attention_mask=attention_mask, past_key_values=cache,
                 use_cache=True, logits_to_keep=completion)
    return torch.cat([head.logits[inverse], tail.logits], dim=1)
