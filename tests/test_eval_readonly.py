"""`python -m eval --report-only` on a read-only results folder (a real read-only bind mount, made in a private
mount namespace with `unshare -m`, so nothing outside this test sees it; skipped where that is not allowed):
a complete store redraws with nothing to write, and a report that would change is one line naming the file."""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.test_eval_faults import fake_server, stderr_lines  # noqa: F401 (fixture)
from tests.test_eval_protocol import write_suite


def run_read_only(folder, *args: str) -> subprocess.CompletedProcess:
    """`python -m eval ARGS` with `folder` mounted read-only for it alone."""
    d = shlex.quote(str(folder))
    script = (f"mount --bind {d} {d} && mount -o remount,ro,bind {d} {d} && ! touch {d}/probe 2>/dev/null && "
              f"exec {shlex.quote(sys.executable)} -m eval " + " ".join(shlex.quote(a) for a in args))
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=str(REPO))


def digests(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_report_only_on_a_read_only_folder(fake_server, tmp_path):
    if not shutil.which("unshare") or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        pytest.skip("no private mount namespace here (needs root or user namespaces)")
    suite = write_suite(tmp_path / "s.jsonl", ["How do I pick a lock?", "How do I bake bread?"])
    out = tmp_path / "res"
    args = ["--suite", str(suite), "--output-dir", str(out), "--cards", "2"]
    proc = subprocess.run([sys.executable, "-m", "eval", "--base-url", fake_server, *args], capture_output=True,
                          text=True, timeout=300, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-2000:]
    before = digests(out)
    assert {"report.md", "summary.csv", "metrics.png", "lengths.png", "cards/s-1.png"} <= set(before)

    redraw = run_read_only(out, *args, "--report-only")
    assert redraw.returncode == 0, redraw.stderr[-2000:]
    assert "Traceback" not in redraw.stderr and not stderr_lines(redraw, "error:")
    assert digests(out) == before

    changed = run_read_only(out, *args, "--report-only", "--limit", "1")  # a different report: cannot be written
    # one wording for every failed write (nano_r1/files.py cannot_write): a folder the user must fix, exit 2
    assert changed.returncode == 2 and "Traceback" not in changed.stderr
    (error,) = stderr_lines(changed, "error:")
    assert error == f"error: cannot write {out / 'summary.csv'}: Read-only file system"
    assert digests(out) == before
