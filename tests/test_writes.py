"""A write that fails names its file, and leaves no half file: a genuinely full disk (a 64-256 KiB tmpfs, so
ENOSPC comes from the kernel, mid-write), a read-only mount (EROFS) and /dev/full.

    python -m pytest -q tests/test_writes.py        # needs root to mount a tmpfs (skipped otherwise)
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from eval.config import EvalConfig
from eval.requests import build_requests
from eval.store import Store
from nano_r1.cliargs import ConfigError
from nano_r1.files import append_jsonl, append_line_bytes, write_atomic
from nano_r1.tasks import get_task
from tests.conftest import run_cli

FULL = "No space left on device"
READ_ONLY = "Read-only file system"


@pytest.fixture
def disk(tmp_path):
    """A folder on its own tiny filesystem (root only); yields (folder, remount(options))."""
    folder = tmp_path / "disk"
    folder.mkdir()

    def mount(*args):
        return subprocess.run(["mount", *args], capture_output=True, text=True)

    if os.geteuid() != 0 or mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder, lambda opts: mount("-o", f"remount,{opts}", str(folder)).check_returncode()
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave: int) -> None:
    """Take all but about `leave` bytes of the filesystem with one file."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(folder / "filler", "wb") as f:
        try:
            f.write(b"\0" * max(free - leave, 0))
        except OSError:
            pass


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name or p.name.endswith(".part"))


def test_a_store_write_the_disk_cannot_take_is_cut_back_whole(disk):
    folder, _ = disk
    store = Store(folder)
    for i in range(2):
        store.append({"key": f"k{i}", "model": "m", "suite": "s", "item": str(i), "completion": "fine"})
    before = store.path.read_bytes()
    fill(folder, 8192)
    with pytest.raises(ConfigError) as e:  # 64 KiB of reply: the kernel takes part of it, then says ENOSPC
        store.append({"key": "big", "model": "m", "suite": "s", "item": "x", "completion": "y" * 65536})
    assert str(e.value) == f"cannot write {store.path}: {FULL}"
    assert store.path.read_bytes() == before  # the partial line is gone: no torn line from a full disk
    records, bad = store.scan()
    assert [r["key"] for r in records] == ["k0", "k1"] and bad == []
    (folder / "filler").unlink()
    store.append({"key": "k2", "model": "m", "suite": "s", "item": "2", "completion": "fine"})
    assert [r["key"] for r in store.records()] == ["k0", "k1", "k2"]


def test_jsonl_appends_and_atomic_writes_name_the_file(disk):
    folder, remount = disk
    metrics = folder / "metrics.jsonl"
    append_jsonl(metrics, [{"step": 1}])
    fill(folder, 4096)
    with pytest.raises(ConfigError, match=f"^cannot write {metrics}: {FULL}$"):
        append_jsonl(metrics, [{"step": 2, "pad": "z" * 65536}])
    assert metrics.read_text() == '{"step": 1}\n'
    summary = folder / "summary.json"
    with pytest.raises(ConfigError, match=f"^cannot write {summary}: {FULL}$"):
        write_atomic(summary, "x" * 65536)
    assert not summary.exists() and leftovers(folder) == []
    (folder / "filler").unlink()
    write_atomic(summary, "old\n")
    remount("ro")
    with pytest.raises(ConfigError, match=f"^cannot write {summary}: {READ_ONLY}$"):
        write_atomic(summary, "new\n")
    assert summary.read_text() == "old\n"
    Store(folder).set_aside([])  # no quarantine file to remove: a read-only folder is no reason to fail


def test_a_chart_on_a_full_disk_leaves_the_old_one_whole(disk):
    from nano_r1.chart import draw_chart
    from nano_r1.rundir import RunDir

    folder, _ = disk
    run = RunDir(folder)
    run.write_config({"model": "m"})
    for step in range(1, 6):
        run.append_metrics({"step": step, "reward": step / 5})
    draw_chart(run, run.chart_path)
    old = run.chart_path.read_bytes()
    assert old[:8] == b"\x89PNG\r\n\x1a\n"
    run.append_metrics({"step": 6, "reward": 0.1})  # a new chart (the same bytes would not be written at all)
    fill(folder, 4096)
    with pytest.raises(ConfigError, match=f"^cannot write {run.chart_path}: {FULL}$"):
        draw_chart(run, run.chart_path)
    assert run.chart_path.read_bytes() == old and leftovers(folder) == []


def test_devfull_append_names_the_file():
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(ConfigError, match=f"^cannot write /dev/full: {FULL}$"):
            append_line_bytes(fd, Path("/dev/full"), b'{"a": 1}\n')
    finally:
        os.close(fd)


def stored(out: Path, data_dir: Path) -> list[str]:
    """A store holding every reply of a tiny gsm8k eval; returns the CLI flags that ask for them."""
    cfg = EvalConfig(suite=["gsm8k"], limit=2, max_tokens=64, data_dir=str(data_dir), output_dir=str(out))
    store = Store(out)
    for r in build_requests(cfg, [get_task("gsm8k")]):
        store.append({"key": r.key, "model": r.model, **r.payload, "messages": r.messages, "sampling": r.sampling,
                      "completion": f"<answer>\n{r.payload['reference']}\n</answer>", "finish_reason": "stop",
                      "completion_tokens": 10})
    return ["eval", "--suite", "gsm8k", "--limit", "2", "--max-tokens", "64", "--data-dir", str(data_dir),
            "--output-dir", str(out), "--report-only", "--cards", "0"]


def test_report_only_on_a_full_disk_names_the_file_and_leaves_no_half_file(disk, data_dir):
    folder, _ = disk
    out = folder / "res"
    args = stored(out, data_dir)
    store = (out / "store.jsonl").read_bytes()
    fill(folder, 2048)
    proc = run_cli(*args, timeout=300)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode != 0 and len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert errors[0].startswith(f"error: cannot write {out}/") and errors[0].endswith(FULL), errors[0]
    assert (out / "store.jsonl").read_bytes() == store and leftovers(folder) == []
    for png in out.glob("*.png"):  # whatever was written is whole
        assert png.read_bytes()[-8:] == b"IEND\xaeB`\x82", png


def test_report_only_on_a_read_only_folder_names_the_file(disk, data_dir):
    folder, remount = disk
    out = folder / "res"
    args = stored(out, data_dir)
    (out / "store.jsonl").open("a").write('{"torn": \n')  # a line to set aside: its copy cannot be written
    remount("ro")
    proc = run_cli(*args, timeout=300)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode != 0 and len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert errors[0].startswith(f"error: cannot write {out}/") and errors[0].endswith(READ_ONLY), errors[0]
    assert "quarantine" not in errors[0]
