"""One vLLM server process: start it in its own session, wait until it answers, stop it and all its children.

    proc = VLLMProcess(argv, env, log_path, label="base, nano-r1")
    proc.start(); wait_until_ready([(proc, "http://127.0.0.1:8000/v1")], api_key=None, timeout=900)
    ...; proc.stop()

vLLM forks an engine-core process (and more with tensor/data parallelism). Starting it with
start_new_session=True puts all of them in one process group that `stop()` can signal at once, and keeps a
terminal's Ctrl-C from reaching vLLM directly: the caller decides how to shut down.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from nano_r1.cli import Failure

PR_SET_PDEATHSIG = 1


class ServeError(Failure):
    """vLLM did not come up (exited, or timed out); the message ends with the tail of its log."""


# vLLM's start-up failure when another process on the same GPU frees memory while vLLM measures its own use
# (vllm 0.26, seen on an H200 with training runs finishing beside the server: "AssertionError: Error in memory
# profiling. Initial free memory 132.86 GiB, current free memory 138.5 GiB. This happens when other processes
# sharing the same container release GPU memory ..."). It is transient: a second start usually measures cleanly.
PROFILING_DISTURBED = "Error in memory profiling"


def _die_with_parent() -> None:  # runs in the child between fork and exec (Linux only)
    # If the Python process that started vLLM is killed outright (SIGKILL, a crashed test run), the kernel
    # sends vLLM SIGTERM, and vLLM shuts its engine core down: no orphaned servers holding ports and CPUs.
    # Caveat: the signal fires when the *thread* that started vLLM exits, so start it from a long-lived thread.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def tail_text(path: Path, size: int) -> str:
    """The last `size` bytes of a file, decoded ("" if it cannot be read)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def log_tail(path: Path, lines: int = 25) -> str:
    return "\n".join(tail_text(path, 16384).splitlines()[-lines:])


def last_log_message(path: Path) -> str:
    """The last non-empty log line without vLLM's '(APIServer pid=1) INFO 11-24 13:12:19 [file.py:42]' prefix."""
    for line in reversed(log_tail(path, 5).splitlines()):
        line = line.strip()
        if line:
            return line.split("] ", 1)[-1] if line.startswith("(") or " [" in line else line
    return ""


class VLLMProcess:
    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path, label: str):
        self.argv, self.env, self.log_path, self.label = argv, env, Path(log_path), label
        self.proc: subprocess.Popen | None = None
        self.log_start = 0  # where this start's output begins in the log (a restart appends)
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # 0600: the log holds request paths and prompts, not for other users of the machine (issue 28)
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if self.proc else os.O_TRUNC), 0o600)
        os.fchmod(fd, 0o600)  # also a file left by an earlier server with wider permissions
        with open(fd, "ab" if self.proc else "wb") as log:  # a restart keeps the first try's log
            self.log_start = log.tell()
            self._stopped = False  # a restarted engine is stopped like the first
            self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    def exited(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def answers(self, base_url: str, api_key: str | None) -> bool:
        """True once GET /v1/models succeeds: the HTTP server is up and the engine has loaded the model."""
        request = urllib.request.Request(f"{base_url}/models")
        if api_key:
            request.add_header("Authorization", f"Bearer {api_key}")
        try:
            with urllib.request.urlopen(request, timeout=5) as reply:
                return reply.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def profiling_disturbed(self) -> bool:
        """True if this start's output (not an earlier try's: a restart appends) shows PROFILING_DISTURBED, in its
        last 64 KB (the engine's traceback follows the message)."""
        try:
            size = self.log_path.stat().st_size
        except OSError:
            return False
        return PROFILING_DISTURBED in tail_text(self.log_path, min(65536, size - self.log_start))

    def failure(self, what: str) -> ServeError:
        return ServeError(f"vLLM ({self.label}) {what}; last lines of {self.log_path}:\n{log_tail(self.log_path)}")

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to the whole process group, SIGKILL after `grace` seconds; idempotent."""
        if self.proc is None or self._stopped:
            return
        self._stopped = True
        family = self._family()  # taken before signalling: children reparented later are still known
        self._signal_all(signal.SIGTERM, family)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and (self.proc.poll() is None or any(_running(p) for p in family)):
            time.sleep(0.2)
        if self.proc.poll() is None or any(_running(p) for p in family):
            self._signal_all(signal.SIGKILL, family)
            deadline = time.monotonic() + 5  # SIGKILL is delivered asynchronously: return once they are gone
            while time.monotonic() < deadline and any(_running(p) for p in family):
                time.sleep(0.05)
        self.proc.wait()

    def _family(self) -> list:
        """The process and every descendant (psutil, a vLLM dependency), in case a child left the group."""
        try:
            import psutil

            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except Exception:  # psutil missing or the process already gone: the process group still works
            return []

    def _signal_all(self, sig: int, family: list) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # pgid == pid: start_new_session made it a group leader
        except (ProcessLookupError, PermissionError):
            pass
        for p in family:
            try:
                p.send_signal(sig)
            except Exception:
                pass


def _running(p) -> bool:
    try:
        import psutil

        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except Exception:
        return False


def wait_until_ready(procs: list[tuple[VLLMProcess, str]], api_key: str | None, timeout: float,
                     out=sys.stderr) -> None:
    """Poll every (process, base_url) until all answer; show elapsed seconds and vLLM's last log line.

    Fails fast: the first process that exits raises ServeError with the tail of its log."""
    start, pending, last_print = time.monotonic(), list(procs), 0.0
    tty = hasattr(out, "isatty") and out.isatty()
    spinner = "|/-\\"
    while pending:
        for proc, url in list(pending):
            code = proc.exited()
            if code is not None:
                raise proc.failure(f"exited with code {code} during start-up")
            if proc.answers(url, api_key):
                pending.remove((proc, url))
        elapsed = time.monotonic() - start
        if pending and elapsed > timeout:
            raise pending[0][0].failure(f"did not answer on {pending[0][1]} within {timeout:.0f} s (--startup-timeout)")
        if pending:
            proc = pending[0][0]
            status = f"starting vLLM ({', '.join(p.label for p, _ in pending)}) {elapsed:4.0f}s | " \
                     f"{last_log_message(proc.log_path)}"
            if tty:  # one self-overwriting line, cut to the terminal width
                width = os.get_terminal_size(out.fileno()).columns if out.isatty() else 120
                out.write(f"\r{spinner[int(elapsed * 2) % 4]} {status}"[:width - 1] + "\033[K")
                out.flush()
            elif elapsed - last_print >= 15:  # logs and CI: a line every 15 s
                print(f"[serve] {status[:200]}", file=out, flush=True)
                last_print = elapsed
            time.sleep(0.5)
    if tty:
        out.write("\r\033[K")
        out.flush()
