"""matplotlib, set up once for headless drawing (every chart and card goes through here), and `save`: every
chart and card written atomically and only when its bytes change (a full disk leaves the old PNG whole and names the
file; a redraw on a read-only folder writes nothing)."""

from __future__ import annotations

from pathlib import Path


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: str | Path) -> Path:
    """The figure's bytes written atomically to `path`, and only when they changed (nano_r1.files.write_if_changed);
    closes the figure either way."""
    import io

    from nano_r1.files import write_if_changed

    path, buf = Path(path), io.BytesIO()
    try:
        fig.savefig(buf, format=path.suffix.lstrip(".") or "png")
    finally:
        pyplot().close(fig)
    write_if_changed(path, buf.getvalue())
    return path
