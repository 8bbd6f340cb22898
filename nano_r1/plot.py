"""matplotlib, set up once for headless drawing (every chart and card goes through here), and `save`: every
chart and card written atomically (a full disk leaves the old PNG whole and names the file)."""

from __future__ import annotations

from pathlib import Path


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: str | Path) -> Path:
    """fig.savefig to a temporary sibling, renamed over `path`; closes the figure either way."""
    from nano_r1.files import replacing

    path = Path(path)
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, format=path.suffix.lstrip(".") or None)
    finally:
        pyplot().close(fig)
    return path
