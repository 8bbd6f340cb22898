"""One vLLM process's life (serve/process.py, serve/launch.py start_wave): stopping its whole process group, and
starting again an engine whose memory profiling another process on the GPU disturbed."""

from __future__ import annotations

import io
import sys
import time

import pytest

from serve.config import ServeConfig
from serve.launch import pick_ports, start_wave
from serve.process import ServeError, VLLMProcess


def test_the_log_is_readable_only_by_its_owner(tmp_path):
    """The log holds request paths and prompts: 0600, also when an earlier server left it world-readable."""
    log = tmp_path / "log"
    log.write_text("an older server's log\n")
    log.chmod(0o644)
    proc = VLLMProcess([sys.executable, "-c", "print('up')"], {}, log, "dummy")
    proc.start()
    proc.proc.wait(timeout=60)
    assert log.stat().st_mode & 0o777 == 0o600 and log.read_text() == "up\n"
    proc.start()  # a restart appends to the same log, still 0600
    proc.proc.wait(timeout=60)
    assert log.stat().st_mode & 0o777 == 0o600 and log.read_text() == "up\nup\n"


# --- stopping a process group ----------------------------------------------------------------------------------

CHILD_IGNORING_SIGTERM = """
import signal, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                  "print('child up', flush=True); time.sleep(600)"])
time.sleep(600)
"""


def test_stop_kills_the_whole_group_even_a_child_ignoring_sigterm(tmp_path):
    import psutil

    proc = VLLMProcess([sys.executable, "-c", CHILD_IGNORING_SIGTERM], {}, tmp_path / "log", "dummy")
    proc.start()
    deadline = time.monotonic() + 20
    while "child up" not in (tmp_path / "log").read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    assert len(family) == 2
    start = time.monotonic()
    proc.stop(grace=1.0)
    proc.stop(grace=1.0)  # idempotent
    assert time.monotonic() - start < 10
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


# --- an engine whose memory profiling another process disturbed -----------------------------------------------

# vLLM 0.26's own line from an H200 run where training runs beside the server finished while it profiled
DISTURBED = ("(EngineCore pid=2271) ERROR 12-01 23:48:31 [core.py:1330] AssertionError: Error in memory profiling. "
             "Initial free memory 132.86 GiB, current free memory 138.5 GiB. This happens when other processes "
             "sharing the same container release GPU memory while vLLM is profiling during initialization.")

# Stands in for vLLM (which cannot be made to fail this way without a GPU): start number i (from 0) prints the i-th
# of the "|"-separated lines and exits 1; once they are used up, it answers GET /v1/models like a server that came up.
ENGINE = """
import http.server, pathlib, sys
tries = pathlib.Path(sys.argv[1]); port, lines = int(sys.argv[2]), [l for l in sys.argv[3].split("|") if l]
n = int(tries.read_text()) if tries.exists() else 0
tries.write_text(str(n + 1))
if n < len(lines):
    print(lines[n], flush=True)
    sys.exit(1)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'{"data": []}')
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def engine(tmp_path, port, *lines):
    return VLLMProcess([sys.executable, "-c", ENGINE, str(tmp_path / "tries"), str(port), "|".join(lines)], {},
                       tmp_path / "engine.log", "base")


@pytest.mark.parametrize("fails", [0, 1, 2])
def test_an_engine_disturbed_while_profiling_starts_again_once(tmp_path, fails):
    port = pick_ports("127.0.0.1", 0, 1)[0]
    proc = engine(tmp_path, port, *[DISTURBED] * fails)
    out = io.StringIO()
    try:
        if fails < 2:
            start_wave([(proc, f"http://127.0.0.1:{port}/v1")], ServeConfig(startup_timeout=60), out)
            assert proc.exited() is None and (tmp_path / "tries").read_text() == str(fails + 1)
            assert ("starting it again" in out.getvalue()) == (fails == 1)
            if fails:  # the first try's log is kept beside the second's
                assert DISTURBED in (tmp_path / "engine.log").read_text()
            proc.stop(grace=1)  # the restarted engine is stopped too, not left running
            assert proc.exited() is not None
        else:
            with pytest.raises(ServeError) as err:
                start_wave([(proc, f"http://127.0.0.1:{port}/v1")], ServeConfig(startup_timeout=60), out)
            assert (tmp_path / "tries").read_text() == "2"  # started twice, not more
            first = str(err.value).splitlines()[0]
            assert "another process on this GPU freed memory while vLLM profiled, 2 times" in first
    finally:
        proc.stop(grace=1)


@pytest.mark.parametrize("lines", [["ValueError: some other failure"],
                                   [DISTURBED, "ValueError: some other failure"]])
def test_other_start_failures_are_not_retried(tmp_path, lines):
    """Another failure ends the start at once — also a second try's, whose log still holds the first's line."""
    proc = engine(tmp_path, 1, *lines)
    with pytest.raises(ServeError) as err:
        start_wave([(proc, "http://127.0.0.1:1/v1")], ServeConfig(startup_timeout=60), io.StringIO())
    assert "exited with code 1 during start-up" in str(err.value).splitlines()[0]
    assert (tmp_path / "tries").read_text() == str(len(lines))
