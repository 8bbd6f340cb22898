"""metrics.jsonl → chart.png: reward, completion length and correctness over steps (raw + smoothed).

    python -m train.chart runs/tiny          # redraw a run's chart
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PANELS = [("reward", "total reward", 1.0), ("completions/mean_length", "completion length (tokens)", 1.0),
          ("rewards/correctness/mean", "correctness (fraction right)", 0.5)]


def read_metrics(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]


def smooth(values: list[float], alpha: float = 0.1) -> list[float]:
    """Exponential moving average, bias-corrected so the line starts at the data."""
    out, avg = [], 0.0
    for i, v in enumerate(values, 1):
        avg = alpha * v + (1 - alpha) * avg
        out.append(avg / (1 - (1 - alpha) ** i))
    return out


def draw_chart(metrics_path: Path, out_path: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(Path(metrics_path))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), dpi=100)
    for ax, (key, label, scale) in zip(axes, PANELS):
        pts = [(r["step"], r[key] * scale) for r in rows if r.get(key) is not None]
        if pts:
            steps, vals = zip(*pts)
            ax.plot(steps, vals, color="tab:blue", alpha=0.3, lw=1, label="per step")
            ax.plot(steps, smooth(list(vals)), color="tab:blue", lw=2, label="smoothed")
            ax.legend(loc="best", fontsize=8)
        else:
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(label)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)
    return Path(out_path)


if __name__ == "__main__":
    run = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    print(draw_chart(run / "metrics.jsonl", run / "chart.png", title=run.name))
