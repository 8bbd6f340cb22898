"""`python -m eval` with no --base-url starts `python -m serve` (a real vLLM-CPU server, ~40 s): `--serve.KEY VALUE`
and the vLLM flags after `--` reach that server. Observed from outside: --serve.max-model-len 64 makes the server refuse
every request (serve's per-request cap is the context: max_tokens 1024 > 64), and vLLM's start-up line of non-default args in the serve log
shows --max-num-seqs from after `--`."""

from __future__ import annotations

import time

from conftest import run_cli
from nano_r1.models import cache_dir


def test_serve_options_and_vllm_flags_reach_the_server_eval_starts(embedded_model, data_dir, tmp_path):
    started = time.time()
    proc = run_cli("eval", "--model", "smollm2-135m", "--models", "base", "--suite", "gsm8k", "--limit", "2",
                   "--data-dir", str(data_dir), "--output-dir", str(tmp_path / "res"), "--cards", "0",
                   "--serve.max-model-len", "64", "--", "--max-num-seqs", "3", timeout=900)
    assert "Traceback" not in proc.stderr
    errors = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr[-3000:]
    assert "the server refused all 2 request(s)" in errors[0] and "limit of 64" in errors[0]
    logs = [p for p in (cache_dir() / "logs").glob("serve-*.log") if p.stat().st_mtime >= started]
    texts = [p.read_text(errors="replace") for p in logs]
    assert any("'max_num_seqs': 3" in t and "'max_model_len': 64" in t for t in texts), [p.name for p in logs]


def test_serve_options_are_checked_before_anything_starts(tmp_path):
    cases = {("--serve.max-model-len", "abc"): "--serve.max-model-len: expected a whole number, got 'abc'",
             ("--serve.port", "5"): "--serve.port: eval picks a free port",
             ("--serve.no-such", "1"): "--serve.no-such: not a `python -m serve` option",
             ("--serve.dtype", "float8"): "--serve.dtype float8: expected one of auto, float32",
             ("--base-url", "http://127.0.0.1:9/v1", "--", "--max-num-seqs", "3"): "with --base-url it starts none"}
    for args, message in cases.items():
        proc = run_cli("eval", "--suite", "gsm8k", "--output-dir", str(tmp_path / "r"), *args, timeout=120)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, (args, proc.stderr)
        assert proc.stderr.startswith("error: ") and message in proc.stderr, (args, proc.stderr)
    assert not (tmp_path / "r").exists()
