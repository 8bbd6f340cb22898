"""Evaluation during training (`--eval-every N`): the current policy, greedy, on a fixed held-out slice.

The items, the messages (system prompt and one-shot as trained) and the grader are the run's task's — the same
object `python -m train` trains on and `python -m eval --suite gsm8k` (or `synthetic`) uses — so the in-training curve and the final evaluation measure one
thing. A run whose reward rises while held-out accuracy falls (TRL issues #2959, #5790) shows it here.

Generation: the fast backend's own rollout engine at temperature 0 (merged LoRA, static cache); other
backends use transformers' `generate` on the PEFT model, greedy. Step 0 (before any update) is the base model.
Logged to metrics.jsonl as eval/* beside the training metrics; drawn in chart.png.
"""

from __future__ import annotations

import sys
import time

from transformers import TrainerCallback

from nano_r1 import selfcheck
from nano_r1.replyformat import ANSWER_OPEN

HF_BATCH = 32


class HeldOutEval(TrainerCallback):
    """Scores `plan.eval_items` every `plan.eval_every` steps with `trainer`'s model (and rollout engine)."""

    def __init__(self, trainer, plan):
        self.trainer, self.run, self.task, self.prompting = trainer, plan.run, plan.task, plan.prompting
        self.items, self.every = plan.eval_items, plan.eval_every
        self.max_tokens, self.max_prompt_length = plan.cfg.max_completion_length, plan.cfg.max_prompt_length
        self._done_step = -1

    def on_train_begin(self, args, state, control, **kwargs):
        if state.global_step == 0 and state.is_world_process_zero:
            self.evaluate(0)

    def on_step_end(self, args, state, control, **kwargs):
        step = state.global_step
        if state.is_world_process_zero and (step % self.every == 0 or step == state.max_steps):
            self.evaluate(step)

    def evaluate(self, step: int) -> dict | None:
        if step == self._done_step or not self.items:
            return None
        self._done_step = step
        start = time.perf_counter()
        tok = self.trainer.processing_class
        ids = [tok.apply_chat_template(self.task.messages(it, self.prompting), add_generation_prompt=True,
                                       tokenize=True, return_dict=False) for it in self.items]
        keep = [i for i, p in enumerate(ids) if len(p) <= self.max_prompt_length]
        items, ids = [self.items[i] for i in keep], [ids[i] for i in keep]
        completions = generate_greedy(self.trainer, ids, self.max_tokens)
        texts = [tok.decode(c, skip_special_tokens=True) for c in completions]
        eos = set(self.trainer.eos_token_ids) if hasattr(self.trainer, "eos_token_ids") else {tok.eos_token_id}
        scores = [self.task.score(t, it.reference) for t, it in zip(texts, items)]
        n = max(1, len(items))
        row = {"step": step,
               "eval/accuracy_strict": sum(s["correct"] for s in scores) / n,
               "eval/accuracy_flexible": sum(s["correct_flexible"] for s in scores) / n,
               "eval/answer_parsed": sum(s["parsed"] for s in scores) / n,
               "eval/self_check": sum(selfcheck.self_checks(t, it.prompt) for t, it in zip(texts, items)) / n,
               "eval/reasoning_words": sum(selfcheck.reasoning_words(t) for t in texts) / n,
               "eval/completion_tokens": sum(len(c) for c in completions) / n,
               "eval/truncated": sum(not (c and c[-1] in eos) for c in completions) / n,
               "eval/n": len(items), "eval/seconds": round(time.perf_counter() - start, 2)}
        self.run.append_metrics(row)
        print(f"[train] eval at step {step}: strict {row['eval/accuracy_strict']:.1%}, flexible "
              f"{row['eval/accuracy_flexible']:.1%}, {ANSWER_OPEN} parsed {row['eval/answer_parsed']:.1%} "
              f"(n={len(items)}, {row['eval/seconds']:.0f} s)", file=sys.stderr, flush=True)
        return row


def generate_greedy(trainer, prompt_ids: list[list[int]], max_tokens: int) -> list[list[int]]:
    """Completion token ids (ending at EOS when one came) for each prompt, at temperature 0."""
    if getattr(trainer, "fast_rollout_ready", None) and trainer.fast_rollout_ready():
        return trainer.greedy(prompt_ids, max_tokens)
    return _hf_generate(trainer, prompt_ids, max_tokens)


def _hf_generate(trainer, prompt_ids, max_tokens):
    import torch

    model = trainer.accelerator.unwrap_model(trainer.model)
    tok = trainer.processing_class
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for i in range(0, len(prompt_ids), HF_BATCH):
                chunk = prompt_ids[i:i + HF_BATCH]
                width = max(map(len, chunk))
                ids = torch.tensor([[tok.pad_token_id] * (width - len(p)) + p for p in chunk], device=model.device)
                mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in chunk], device=model.device)
                gen = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_tokens, do_sample=False,
                                     pad_token_id=tok.pad_token_id, use_cache=True)
                eos = set(getattr(trainer, "eos_token_ids", [tok.eos_token_id]))
                for row in gen[:, width:].tolist():
                    cut = next((j for j, t in enumerate(row) if t in eos), None)
                    out.append(row[: cut + 1] if cut is not None else [t for t in row if t != tok.pad_token_id])
    finally:
        model.train(was_training)
    return out
