"""--resume continues the prompt order of an uninterrupted run: no prompt replayed, none skipped.

    python -m pytest tests/test_resume.py -q

The order itself (train/trainer.py EpochSeededSampler against TRL's RepeatSampler, instant), and two real tiny CPU
runs on a training set of 2 prompts, so an epoch is 2 steps: 4 steps straight against 2 steps, a SIGKILL and
--resume, whose resume point is the epoch boundary — the same prompt at every step (~3 min); and a run killed
after a warning, resumed: the warning once (~2 min)."""

import json
import os
import signal

import pytest

from tests.conftest import run_cli
from tests.test_train_run import start_training, wait_for

# 2 prompts, 1 per step: an epoch is 2 steps. Short replies: only the order is under test.
TINY = ("--synthetic-size", "2", "--num-generations", "2", "--max-completion-length", "8", "--max-steps", "4")


def repeat_sampler(seed=42):
    from trl.trainer.utils import RepeatSampler

    return RepeatSampler(list(range(5)), mini_repeat_count=2, batch_size=1, seed=seed)


def test_each_epoch_has_the_uninterrupted_runs_order():
    from train.trainer import EpochSeededSampler

    trl = repeat_sampler()
    uninterrupted = [list(trl) for _ in range(3)]  # TRL's own order over three epochs of one run
    assert uninterrupted[0] != uninterrupted[1]
    for epoch in range(3):
        resumed = EpochSeededSampler(repeat_sampler())  # a fresh sampler, as a resumed run builds
        resumed.set_epoch(epoch)
        assert list(resumed) == uninterrupted[epoch] and len(resumed) == 10
    # TRL's sampler alone, fresh, starts again at epoch 0's order whatever the epoch: what the wrapper fixes
    assert list(repeat_sampler()) == uninterrupted[0]


def prompt_per_step(run):
    """{step: prompt}, from completions.jsonl (the tiny preset records every step's group)."""
    out = {}
    for line in (run / "completions.jsonl").read_text().splitlines():
        row = json.loads(line)
        out.setdefault(row["step"], set()).add(row["prompt"])
    assert all(len(prompts) == 1 for prompts in out.values()), out  # one prompt × its generations a step
    return {step: prompts.pop() for step, prompts in sorted(out.items())}


@pytest.mark.slow
def test_a_resumed_run_sees_the_prompts_an_uninterrupted_run_sees(tmp_path):
    straight = run_cli("train", "--preset", "tiny", *TINY, "--save-steps", "100", "--output-dir",
                       str(tmp_path / "a"), "--run-name", "r")
    assert straight.returncode == 0, straight.stderr[-3000:]
    expected = prompt_per_step(tmp_path / "a" / "r")
    assert list(expected) == [1, 2, 3, 4]
    # each epoch is both prompts once (this seed's two epochs take them in opposite orders)
    assert {expected[1], expected[2]} == {expected[3], expected[4]} and expected[1] != expected[2]

    out, run = tmp_path / "b", tmp_path / "b" / "r"
    proc = start_training(out, *TINY, "--save-steps", "2")
    wait_for(lambda: (run / "checkpoint-2" / "trainer_state.json").exists(), proc)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-step 3, at the latest
    proc.wait()
    resumed = run_cli("train", "--preset", "tiny", "--output-dir", str(out), "--run-name", "r", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from" in resumed.stderr and (run / "checkpoint-4").is_dir()
    assert prompt_per_step(run) == expected


@pytest.mark.slow
def test_a_run_killed_after_a_warning_resumes_and_says_it_once(tmp_path):
    """Every completion is cut at 8 tokens: `clipped` trips at step 3. Killed once it is said, the run resumes from
    checkpoint 2 (which predates it: the warning is dropped with the replayed steps and said again when step 3
    trips it again) or 4 (it is kept and not repeated): either way one warning, at step 3, in both files."""
    out, run = tmp_path, tmp_path / "r"
    args = (*TINY[:-1], "6", "--save-steps", "2")
    proc = start_training(out, *args)
    wait_for(lambda: (run / "warnings.jsonl").exists() and "clipped" in (run / "warnings.jsonl").read_text(), proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    resumed = run_cli("train", "--preset", "tiny", "--output-dir", str(out), "--run-name", "r", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    kept = [json.loads(ln) for ln in (run / "warnings.jsonl").read_text().splitlines()]
    assert [(w["step"], w["kind"]) for w in kept if w["kind"] == "clipped"] == [(3, "clipped")]
    summary = json.loads((run / "summary.json").read_text())
    assert [(w["step"], w["kind"]) for w in summary["warnings"] if w["kind"] == "clipped"] == [(3, "clipped")]
    steps = [json.loads(ln)["step"] for ln in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]  # each step once: nothing replayed twice, nothing lost
