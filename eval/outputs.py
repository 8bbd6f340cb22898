"""The report's files (summary.csv, report.md, charts, cards) are written atomically — a temporary sibling, then a
rename, so a kill or a full disk never leaves half a chart — and not at all when the same bytes are already
there: `--report-only` on a complete store then writes nothing, so it works on a read-only results folder.
A write that fails names the file it was for (not its temporary sibling)."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path


def write_if_changed(path: Path, data: bytes | str) -> bool:
    """Write `data` to `path` unless it already holds exactly that; True when it was written."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    with contextlib.suppress(OSError):  # missing or unreadable: write it
        if path.read_bytes() == data:
            return False
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):  # on a read-only folder this fails too
            tmp.unlink(missing_ok=True)
        raise OSError(e.errno, e.strerror, str(path)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    return True


def save_figure(fig, path: Path) -> Path:
    """A matplotlib figure as PNG at `path` (written only if its bytes changed); closes the figure."""
    from nano_r1.plot import pyplot

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png")
    finally:
        pyplot().close(fig)
    write_if_changed(path, buf.getvalue())
    return path
