"""One writer per folder: an advisory lock (flock) held for the life of the process.

    python -m train --preset tiny &      # holds runs/tiny/train.lock
    python -m train --preset tiny        # error: runs/tiny is in use by process 1234 ...

The lock file holds the holder's PID, so the refusal can name it. The kernel drops a flock when its holder
exits in any way (Ctrl-C, SIGKILL, the OOM killer), so a lock file left behind by a dead process is simply
not held and the next process takes it: there is no stale lock to clean up by hand. On a normal exit the file
(and a folder made only to hold it) is removed, so a refused or failed command leaves nothing behind. Removing
a lock file is safe because a taker checks, once it holds the lock, that the name still points at the file it
locked, and starts again if not.
"""

from __future__ import annotations

import atexit
import fcntl
import os
from pathlib import Path

from nano_r1.cliargs import ConfigError

_held: dict[Path, tuple[int, list[Path]]] = {}  # lock path → (open descriptor, folders made for it)


def acquire(path: Path, busy: str) -> None:
    """Hold the lock at `path` (created, with its folders, if missing) for the rest of this process, or
    raise one ConfigError line: f"{busy} is in use by process PID (...)" (taking it twice is a no-op)."""
    path = Path(path)
    if path in _held:
        return
    made = []
    for folder in reversed([path.parent, *path.parent.parents]):
        if not folder.exists():
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            except OSError as e:
                raise ConfigError(f"cannot create {folder}: {e.strerror or e}") from None
            made.append(folder)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            _remove_folders(made)
            raise ConfigError(f"cannot create the lock file {path}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            _remove_folders(made)
            raise _busy(path, busy, pid) from None
        if _same_file(fd, path):
            break
        os.close(fd)  # the folder was moved or the file replaced between open and flock: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError:  # a full disk: the lock is held all the same, only the PID in the message is missing
        pass
    _held[path] = (fd, made)


def release(path: Path, remove: bool = True) -> None:
    """Give the lock up: remove the file (and the folders made for it, when empty), then unlock.
    `remove=False` when the file has moved with its folder (run --overwrite) and its name is someone else's."""
    path = Path(path)
    fd, made = _held.pop(path, (None, []))
    if fd is None:
        return
    if remove and _same_file(fd, path):
        try:
            os.unlink(path)  # before unlocking: a taker that opened the old file sees it gone and starts again
        except OSError:
            pass
        _remove_folders(made)
    os.close(fd)


@atexit.register
def _release_all() -> None:
    for path in list(_held):
        release(path)


def _remove_folders(made: list[Path]) -> None:
    for folder in reversed(made):
        try:
            folder.rmdir()  # only when empty: anything written there since stays
        except OSError:
            break


def check_free(path: Path, busy: str) -> None:
    """The error `acquire` would give, without taking the lock or creating anything (an early check, before
    minutes of loading; `acquire` still decides)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:  # no lock file: nobody has ever held it
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _busy(path, busy, _read_pid(fd)) from None
    finally:
        os.close(fd)  # releases the probe's shared lock at once


def _busy(path: Path, busy: str, pid: int | None) -> ConfigError:
    return ConfigError(f"{busy} is in use by process {pid or '(unknown)'} (it holds {path}); wait for it to "
                       "finish or stop it")


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    here = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (here.st_dev, here.st_ino)
