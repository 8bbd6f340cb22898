"""matplotlib, set up once for headless drawing (every chart and card goes through here)."""

from __future__ import annotations


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    return plt
