"""API keys for `python -m serve` and `python -m eval`: where a key comes from, its checks, how it is printed.

    key, source = resolve(flag=cfg.api_key, file=cfg.api_key_file, env_name="VLLM_API_KEY")
    print(f"key {mask(key)} ({source})")            # never the key itself

Sources, first wins: `--api-key-file PATH` (one line), `--api-key KEY`, then the environment variable
(VLLM_API_KEY for serve, OPENAI_API_KEY for eval). A key in argv is readable by every user of the machine in
`ps` / /proc/PID/cmdline, so the flag is accepted with a warning (FLAG_WARNING) and the others are preferred.
"""

from __future__ import annotations

import os
from pathlib import Path

from nano_r1.cliargs import ConfigError

MAX_KEY_FILE_BYTES = 4096  # a key file is one short line; a bigger file is the wrong file


def check_key(key: str, where: str) -> str:
    """A key goes into an `Authorization: Bearer KEY` header: printable ASCII without spaces."""
    if not key:
        raise ConfigError(f"{where}: the API key is empty")
    if not (key.isascii() and key.isprintable()) or any(c.isspace() for c in key):
        raise ConfigError(f"{where}: the API key must be printable ASCII without spaces or line breaks")
    return key


def read_key_file(path: str, flag: str = "--api-key-file") -> str:
    """The key in `path`: its one non-empty line, surrounding whitespace (the final newline) stripped."""
    p = Path(path).expanduser()
    where = f"{flag} {path}"
    if not p.is_file():
        raise ConfigError(f"{where}: {'is a folder, not a file' if p.is_dir() else 'no such file'} (put the key on one line in it, readable only by you: chmod 600)")
    try:
        if p.stat().st_size > MAX_KEY_FILE_BYTES:
            raise ConfigError(f"{where}: {p.stat().st_size} bytes is not a key file (expected one line)")
        lines = [line.strip() for line in p.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text; write the key on one line") from None
    except OSError as e:
        raise ConfigError(f"{where}: cannot read it ({e.strerror})") from None
    if len(lines) != 1:
        raise ConfigError(f"{where}: expected the key on one line, found {len(lines)} non-empty lines")
    return check_key(lines[0], where)


def resolve(flag: str | None, file: str | None, env_name: str,
            environ: dict | None = None) -> tuple[str | None, str | None]:
    """(key, where it came from) — or (None, None) when no source has one."""
    environ = os.environ if environ is None else environ
    if file:
        return read_key_file(file), f"--api-key-file {file}"
    if flag:
        return check_key(flag, "--api-key"), "--api-key"
    if environ.get(env_name):
        return check_key(environ[env_name], f"${env_name}"), f"${env_name}"
    return None, None


def mask(key: str | None) -> str:
    """What may be printed of a key: its first 4 characters of a long key, nothing of a short one."""
    if not key:
        return "(none)"
    return (key[:4] if len(key) >= 16 else "") + "…" + f" ({len(key)} characters)"


def flag_warning(env_name: str) -> str:
    return (f"warning: --api-key on the command line is visible to every user of this machine in `ps`; "
            f"use --api-key-file FILE or ${env_name} instead")
