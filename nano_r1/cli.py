"""The shell every `python -m train|serve|eval` runs its work in: what the user must fix is one `error:` line, never a
traceback, and each kind of failure has its own exit code.

    sys.exit(run_command(lambda: work(argv), interrupted="[serve] interrupted"))

  ConfigError (a flag, a file, a setting the user must fix)        exit 2
  Failure     (something outside the input failed: a server that would not start)   exit 1
  OSError     (a full disk, a read-only folder: the file and the reason)            exit 1
  Ctrl-C / SIGTERM turned into KeyboardInterrupt                     exit 130, with the stage's own line
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from nano_r1.cliargs import ConfigError


class Failure(RuntimeError):
    """A failure that is not the user's input (a server that did not come up): one line, exit 1."""


def run_command(body: Callable[[], int | None], interrupted: str = "interrupted") -> int:
    try:
        return body() or 0
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e.filename or ''}{': ' if e.filename else ''}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
