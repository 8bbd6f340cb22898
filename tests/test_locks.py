"""One writer per run folder and per eval store (nano_r1/lock.py): a second `train` (plain, --resume, --overwrite)
on a live run and a second `eval` on a live store each get one line naming the holder's PID and change nothing;
a holder killed with SIGKILL leaves no lock that is held.

    python -m pytest -q tests/test_locks.py          # one real tiny trainer held alive for a few seconds
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nano_r1 import lock
from nano_r1.cliargs import ConfigError
from tests.conftest import REPO, run_cli

WAIT = 300  # seconds: a tiny trainer reaches its lock after the model load (~20-60 s on two busy cores)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *args], cwd=str(REPO), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_lock(path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text().strip() == str(proc.pid):
            return
        if proc.poll() is not None:
            pytest.fail(f"the first process ended ({proc.returncode}) before it held {path}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.2)
    pytest.fail(f"no {path} after {WAIT} s")


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*")) if p.name not in {"train.lock", "store.lock"}}


def one_error(proc, pid: int) -> str:
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode != 0, proc.stderr
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"in use by process {pid} " in errors[0], errors[0]
    return errors[0]


def test_a_second_holder_is_refused_with_the_pid_and_a_killed_holder_holds_nothing(tmp_path):
    path = tmp_path / "x.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from nano_r1 import lock; "
                               f"lock.acquire(__import__('pathlib').Path({str(path)!r}), 'x'); print('held', flush=True);"
                               " time.sleep(600)"], cwd=str(REPO), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"x is in use by process {holder.pid} "):
            lock.acquire(path, "x")
        with pytest.raises(ConfigError, match=f"in use by process {holder.pid} "):
            lock.check_free(path, "x")
    finally:
        holder.kill()  # SIGKILL: no atexit, the file stays behind
        holder.wait()
    assert path.is_file()  # stale: left by the dead holder, but not held
    lock.check_free(path, "x")
    lock.acquire(path, "x")
    assert path.read_text().strip() == str(os.getpid())
    lock.release(path)
    assert not path.exists()  # a normal release leaves nothing


def test_a_lock_file_removed_under_a_waiting_taker_is_not_trusted(tmp_path):
    """The holder removes its file on release; a taker that opened the old file must not hold a lock on it."""
    path = tmp_path / "y.lock"
    lock.acquire(path, "y")
    fd = os.open(path, os.O_RDWR)  # a taker that opened the file before the holder let go
    lock.release(path)
    try:
        assert not path.exists()
        lock.acquire(path, "y")  # a fresh file: the removed one is nobody's lock any more
        assert path.read_text().strip() == str(os.getpid())
    finally:
        os.close(fd)
        lock.release(path)


def test_a_second_trainer_on_a_live_run_is_refused_and_changes_nothing(tmp_path):
    out = tmp_path / "runs"
    first = start("train", "--preset", "tiny", "--output-dir", str(out), "--max-steps", "1000")
    run = out / "tiny"
    try:
        wait_for_lock(run / "train.lock", first)
        before = snapshot(run)
        for extra, why in (([], "plain"), (["--resume"], "resume"), (["--overwrite"], "overwrite")):
            second = run_cli("train", "--preset", "tiny", "--output-dir", str(out), *extra, timeout=300)
            line = one_error(second, first.pid)
            assert str(run) in line, (why, line)
            assert sorted(p.name for p in out.iterdir()) == ["tiny"], (why, list(out.iterdir()))  # nothing moved aside
        assert (run / "train.lock").read_text().strip() == str(first.pid)
        # the live trainer keeps writing; what the refused ones saw of it is still there, untouched by them
        after = snapshot(run)
        assert all(after.get(k) == v or k.endswith(".jsonl") for k, v in before.items()), set(before) ^ set(after)
    finally:
        kill(first)
    # SIGKILLed: the file stays behind, but nobody holds it: the next trainer may take the folder
    assert (run / "train.lock").is_file()
    from nano_r1.rundir import RunDir

    RunDir(run).check_free()


def test_a_second_eval_on_a_live_store_is_refused_and_changes_nothing(tmp_path):
    out = tmp_path / "results"
    with socket.socket() as srv:  # a server that accepts and never answers: the first eval waits on it, alive
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        url = f"http://127.0.0.1:{srv.getsockname()[1]}/v1"
        args = ["eval", "--base-url", url, "--suite", "reasoning", "--limit", "2", "--output-dir", str(out),
                "--timeout", "600", "--retries", "0"]
        first = start(*args)
        try:
            wait_for_lock(out / "store.lock", first)
            (out / "store.jsonl").write_text('{"torn": \n')  # something a second eval would set aside
            before = snapshot(out)
            second = run_cli(*args, timeout=300)
            assert str(out) in one_error(second, first.pid)
            assert snapshot(out) == before  # no quarantine file, no config.json, no report
        finally:
            kill(first)
    assert not re.search(r"Traceback", second.stderr)


def test_overwrite_takes_the_old_folders_lock_and_moves_it_aside_without_one(tmp_path):
    from nano_r1.rundir import RunDir

    run = RunDir(tmp_path / "runs" / "r")
    run.path.mkdir(parents=True)
    run.write_config({"model": "m"})
    holder = subprocess.Popen([sys.executable, "-c", "import time; from pathlib import Path; from nano_r1 import lock; "
                               f"lock.acquire(Path({str(run.lock_path)!r}), 'r'); print('held', flush=True); "
                               "time.sleep(600)"], cwd=str(REPO), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"in use by process {holder.pid} "):
            run.prepare(resume=False, overwrite=True)
        assert sorted(p.name for p in run.path.parent.iterdir()) == ["r"]  # nothing moved
    finally:
        holder.kill()
        holder.wait()
    assert run.prepare(resume=False, overwrite=True) is None
    try:
        aside = [p for p in run.path.parent.iterdir() if p.name.startswith(".r.replaced-")]
        assert len(aside) == 1 and sorted(p.name for p in aside[0].iterdir()) == ["config.json"]
        assert sorted(p.name for p in run.path.iterdir()) == ["train.lock"]
        assert run.lock_path.read_text().strip() == str(os.getpid())
    finally:
        lock.release(run.lock_path)
    assert not run.lock_path.exists() and run.path.is_dir()
