"""--dynamic-sampling (train/dynamic_sampling.py): how rounds are joined into one batch, where it is refused, and two
real tiny CPU runs — one whose refills find groups with signal (none without it reaches the loss; ~2 min), one on
a dataset where every group scores alike (bounded rounds, then the step's own prompts; ~1 min).

    python -m pytest tests/test_dynamic_sampling.py -q -m "slow or not slow"
"""

import json

import pytest
import torch

from tests.conftest import run_cli
from train.dynamic_sampling import DYNAMIC_SAMPLING_MAX_ROUNDS, join

PAD = 7


def batch(prompt_width, completion_width, rows, first):
    """A TRL-shaped batch: prompts left-padded, completions right-padded, row i's values start at first + i."""
    ids = torch.arange(first, first + rows)
    return {"prompt_ids": ids[:, None].repeat(1, prompt_width),
            "prompt_mask": torch.ones(rows, prompt_width, dtype=torch.long),
            "completion_ids": ids[:, None].repeat(1, completion_width),
            "completion_mask": torch.ones(rows, completion_width, dtype=torch.long),
            "ref_per_token_logps": -ids[:, None].float().repeat(1, completion_width),
            "advantages": ids.float(), "num_items_in_batch": torch.tensor(rows * completion_width)}


def test_join_repads_both_sides_and_recounts_the_tokens():
    a, b = batch(3, 2, 4, 0), batch(5, 4, 2, 100)
    out = join([(a, [2, 3]), (b, [0, 1])], PAD)
    assert out["advantages"].tolist() == [2, 3, 100, 101]
    assert out["prompt_ids"].tolist()[0] == [PAD, PAD, 2, 2, 2] and out["prompt_mask"].tolist()[0] == [0, 0, 1, 1, 1]
    assert out["completion_ids"].tolist()[0] == [2, 2, PAD, PAD] and out["completion_mask"].tolist()[0] == [1, 1, 0, 0]
    assert out["ref_per_token_logps"].tolist()[2] == [-100.0] * 4
    assert int(out["num_items_in_batch"]) == 2 * 2 + 2 * 4  # the kept rows' completion tokens, not the rounds'


def test_join_refuses_what_it_cannot_join():
    a, b = batch(3, 2, 2, 0), batch(3, 2, 2, 10)
    a["num_images"], b["num_images"] = [1, 1], [1, 1]
    with pytest.raises(RuntimeError, match="cannot join TRL's 'num_images'"):
        join([(a, [0]), (b, [0])], PAD)


@pytest.mark.parametrize("flags, said", [
    (["--backend", "unsloth"], "does not run under --backend unsloth"),
    (["--num-gpus", "2"], "runs in one process"),
    (["--scale-rewards", "batch"], "use --scale-rewards group or none"),
    (["--trl.multi_objective_aggregation", "normalize_then_sum"], "use --scale-rewards group or none"),
])
def test_refused_in_one_line_before_anything_loads(tmp_path, flags, said):
    proc = run_cli("train", "--preset", "tiny", "--dynamic-sampling", *flags, "--output-dir", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.startswith("error: --dynamic-sampling") and said in proc.stderr
    assert proc.stderr.count("\n") == 1 and "[train]" not in proc.stderr and not any(tmp_path.iterdir())


def rows_of(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def groups(prompt_ids, prompt_mask, values):
    """Row values grouped by prompt (the loss sees rows shuffled; a group's rows share their prompt)."""
    out = {}
    for ids, mask, value in zip(prompt_ids.tolist(), prompt_mask.tolist(), values.tolist()):
        out.setdefault(tuple(i for i, m in zip(ids, mask) if m), []).append(value)
    return list(out.values())


@pytest.mark.slow
def test_no_group_without_signal_reaches_the_loss(tmp_path):
    """The tiny preset with 4 short generations: its first step's own group scores all alike (all 0), a refill
    finds one that differs. A spy on the trainer's compute_loss (the real one runs) sees every batch."""
    from train.__main__ import parse
    from train.grpo import build

    cfg = parse(["--preset", "tiny", "--dynamic-sampling", "--max-steps", "2", "--num-generations", "4",
                 "--max-completion-length", "32", "--save-steps", "100", "--output-dir", str(tmp_path),
                 "--run-name", "r"])
    trainer, run_dir, _, _ = build(cfg)
    assert type(trainer).__name__ == "DynamicSamplingFastRolloutGRPOTrainer"
    seen = []
    compute_loss = trainer.compute_loss

    def spy(model, inputs, *args, **kwargs):
        seen.append(groups(inputs["prompt_ids"], inputs["prompt_mask"], inputs["advantages"]))
        return compute_loss(model, inputs, *args, **kwargs)

    trainer.compute_loss = spy
    trainer.train()

    metrics = rows_of(run_dir / "metrics.jsonl")
    assert [m["step"] for m in metrics] == [1, 2] and len(seen) == 2
    for m, loss_groups in zip(metrics, seen):
        sampled, kept, rounds = (m[f"dynamic_sampling/{k}"] for k in ("prompts_sampled", "groups_kept", "rounds"))
        assert 1 <= rounds <= DYNAMIC_SAMPLING_MAX_ROUNDS and sampled == rounds  # one prompt a step, one per refill
        assert (rounds == 1) == (m["frac_reward_zero_std"] == 0.0)  # TRL's metric: the step's own prompt
        if kept:  # every group the loss saw has a spread of advantages, and there are as many as kept
            assert len(loss_groups) == kept and all(max(g) - min(g) > 1e-3 for g in loss_groups), loss_groups
    assert any(m["dynamic_sampling/rounds"] > 1 and m["dynamic_sampling/groups_kept"] == 1 for m in metrics), metrics

    weights = json.loads((run_dir / "config.json").read_text())["rubric"]
    for step in (1, 2):  # completions.jsonl holds the groups that reached the loss: their rewards differ
        samples = [s for s in rows_of(run_dir / "completions.jsonl") if s["step"] == step]
        total = [sum(weights[name] * value for name, value in s["rewards"].items()) for s in samples]
        assert len(samples) == 4 and max(total) > min(total), samples


@pytest.mark.slow
def test_a_dataset_without_signal_stops_after_the_bounded_rounds(tmp_path):
    """Every completion scores 0 (the model says "Hi" and stops; no tags): each step samples its own prompt and 3
    more, keeps none, trains on its own as without the flag, and the zero-variance warning says the flag is on."""
    data = tmp_path / "same.jsonl"
    data.write_text("".join(json.dumps({"question": "Say hi.", "answer": "Hi.\n#### 0"}) + "\n" for _ in range(8)))
    proc = run_cli("train", "--preset", "tiny", "--dynamic-sampling", "--dataset", str(data), "--system-prompt", "none",
                   "--one-shot", "false", "--num-generations", "4", "--max-completion-length", "48", "--max-steps", "3",
                   "--save-steps", "100", "--output-dir", str(tmp_path), "--run-name", "r")
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = rows_of(tmp_path / "r" / "metrics.jsonl")
    assert [(m["dynamic_sampling/prompts_sampled"], m["dynamic_sampling/groups_kept"], m["dynamic_sampling/rounds"])
            for m in metrics] == [(DYNAMIC_SAMPLING_MAX_ROUNDS, 0, DYNAMIC_SAMPLING_MAX_ROUNDS)] * 3
    assert [m["frac_reward_zero_std"] for m in metrics] == [1.0] * 3
    samples = rows_of(tmp_path / "r" / "completions.jsonl")
    assert len(samples) == 3 * 4 and {s["step"] for s in samples} == {1, 2, 3}  # the step's own group, once
    warning = [ln for ln in proc.stderr.replace("\r", "\n").splitlines() if ln.startswith("warning: step 3: 100%")]
    assert len(warning) == 1 and "dynamic_sampling/groups_kept" in warning[0]
    assert "try --dynamic-sampling" not in warning[0]
