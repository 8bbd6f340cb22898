"""Real GRPO runs on CPU with the embedded model: the run folder, learning, and kill → --resume."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def metrics_steps(run):
    return [json.loads(ln)["step"] for ln in (run / "metrics.jsonl").read_text().splitlines() if ln.strip()]


def test_two_step_run_writes_everything_and_learns(trained_run):
    from safetensors.torch import load_file

    run = trained_run
    for name in ("config.json", "metrics.jsonl", "completions.jsonl", "chart.png", "adapter/adapter_config.json",
                 "adapter/adapter_model.safetensors", "checkpoint-2"):
        assert (run / name).exists(), name
    config = json.loads((run / "config.json").read_text())
    assert config["preset"] == "tiny" and config["max_steps"] == 2 and config["backend_resolved"] == "fast"
    rows = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "reward" in r] == [1, 2]
    # the held-out evaluation: the base (step 0) and the policy after step 2, on the same 4 GSM8K test problems
    evals = [r for r in rows if "eval/accuracy_strict" in r]
    assert [r["step"] for r in evals] == [0, 2] and all(r["eval/n"] == 4 for r in evals)
    assert all(0 <= r["eval/accuracy_flexible"] <= 1 and r["eval/completion_tokens"] > 0 for r in evals)
    # the adapter's card names the model it was trained from, not PEFT's "[None]"
    card = (run / "adapter" / "README.md").read_text()
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in card and "python -m train" in card
    for key in ("reward", "rewards/correctness/mean", "rewards/xmlcount/mean", "completions/mean_length",
                "completions/clipped_ratio", "kl", "learning_rate", "step_time"):
        assert key in rows[-1], key
    samples = [json.loads(ln) for ln in (run / "completions.jsonl").read_text().splitlines()]
    assert {s["step"] for s in samples} == {1, 2} and len(samples) == 16
    assert set(samples[0]["rewards"]) >= {"xmlcount", "soft_format", "strict_format", "correctness", "length"}
    assert (run / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # LoRA B starts at zero: any non-zero B means GRPO produced a gradient and the optimizer applied it.
    adapter_cfg = json.loads((run / "adapter/adapter_config.json").read_text())
    assert adapter_cfg["r"] == 16 and set(adapter_cfg["target_modules"]) >= {"q_proj", "down_proj"}
    weights = load_file(str(run / "adapter/adapter_model.safetensors"))
    b_norm = sum(float(w.abs().sum()) for k, w in weights.items() if "lora_B" in k)
    assert b_norm > 0, f"LoRA weights did not change; rewards: {[r['reward_std'] for r in rows]}"


def start_training(out, *args):
    return subprocess.Popen([sys.executable, "-m", "train", "--preset", "tiny", "--output-dir", str(out),
                             "--run-name", "r", *args], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(predicate, proc, timeout=600):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def test_kill_then_resume_loses_and_duplicates_nothing(tmp_path):
    run = tmp_path / "r"
    proc = start_training(tmp_path, "--max-steps", "3", "--save-steps", "1")
    wait_for(lambda: (run / "checkpoint-1" / "trainer_state.json").exists(), proc)
    os.killpg(proc.pid, signal.SIGKILL)  # no chance to clean up
    proc.wait()
    assert not (run / "adapter").exists()
    resumed = subprocess.run([sys.executable, "-m", "train", "--output-dir", str(tmp_path), "--run-name", "r",
                              "--preset", "tiny", "--resume"], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from" in resumed.stderr
    assert metrics_steps(run) == [1, 2, 3]  # every step exactly once
    steps = [json.loads(ln)["step"] for ln in (run / "completions.jsonl").read_text().splitlines()]
    assert sorted(set(steps)) == [1, 2, 3] and len(steps) == 3 * 8
    assert json.loads((run / "config.json").read_text())["max_steps"] == 3  # settings came from the run
    assert (run / "adapter" / "adapter_model.safetensors").exists() and (run / "chart.png").exists()


def test_sigterm_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    run = tmp_path / "r"
    proc = start_training(tmp_path, "--max-steps", "20", "--save-steps", "100")  # short: no decode compile
    wait_for(lambda: (run / "metrics.jsonl").exists() and metrics_steps(run), proc)
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    step = metrics_steps(run)[-1]
    assert (run / f"checkpoint-{step}").is_dir() and (run / "adapter").is_dir()
    assert "--resume" in err and "Traceback" not in err
