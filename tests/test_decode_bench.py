"""`python -m bench.decode_step` as a user runs its smoke line on a CPU: the timed variants and the profiled window."""

import subprocess
import sys

import pytest

from tests.conftest import REPO

TOKENIZER = REPO.parent / "shared" / "models" / "qwen2.5-tokenizer"


@pytest.mark.skipif(not TOKENIZER.is_dir(), reason="../shared/models/qwen2.5-tokenizer is not present")
def test_profile_covers_the_window_from_the_middle():
    proc = subprocess.run([sys.executable, "-m", "bench.decode_step", "--tokenizer", str(TOKENIZER), "--layers", "1",
                           "--new-tokens", "12", "--repeats", "1", "--variants", "device,sync,fused", "--profile",
                           "--window", "4", "--top", "5"], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "token steps 4..8 of 12:" in proc.stdout  # the middle 4 of 12, not the whole generation
    assert "aten::mm" in proc.stdout  # the table of operators: on a CPU the GEMMs lead it
    summary = proc.stdout.split("compiled decode")[-1]
    assert all(f"{v}  " in summary for v in ("device", "sync", "fused"))  # one summary line per variant
