"""`python -m train` as a user runs it: each bad input gives one clear line and a non-zero exit."""

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize("args, message", [
    (["--model", "no-such-model"], "unknown model"),
    (["--model", "./nowhere"], "no such model folder"),
    (["--dataset", "missing.jsonl"], "no such file"),
    (["--dataset", "EMPTY"], "no records"),
    (["--gradient-accumulation-steps", "3"], "must divide"),
    (["--num-generations", "1"], "at least 2"),
    (["--max-completion-length", "9000"], "exceeds the model's context of 8192"),
    (["--system-prompt", "missing.txt"], "no such file"),
    (["--resume"], "no checkpoint"),
    (["--backend", "vllm"], "needs a CUDA GPU"),
    (["--backend", "unsloth"], "needs a CUDA GPU"),  # checked before unsloth is imported first
    (["--config", "missing.yaml"], "no such file"),
])
def test_bad_inputs(tmp_path, embedded_model, args, message):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    args = [str(empty) if a == "EMPTY" else a for a in args]
    proc = run_cli("train", "--preset", "tiny", "--output-dir", str(tmp_path / "runs"), *args, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], proc.stderr[-2000:]
    assert not (tmp_path / "runs" / "tiny" / "checkpoint-1").exists()


def test_existing_run_is_not_clobbered(tmp_path):
    run = tmp_path / "runs" / "tiny"
    run.mkdir(parents=True)
    (run / "metrics.jsonl").write_text("{}\n")
    proc = run_cli("train", "--preset", "tiny", "--output-dir", str(tmp_path / "runs"), timeout=120)
    assert proc.returncode == 2 and "already holds a run" in proc.stderr
    assert (run / "metrics.jsonl").read_text() == "{}\n"
