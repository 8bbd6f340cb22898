"""A run's metrics.jsonl → chart.png: rewards, length, self-checking and held-out accuracy over steps.

    python -m nano_r1.chart runs/tiny          # redraw a run's chart

Panels: total reward; completion length and reasoning words (the seed's "thinks longer" curve); the share
of completions that re-check themselves (the aha moment, nano_r1/selfcheck.py); correctness on the training
prompts and, with --eval-every, greedy strict/flexible accuracy on held-out problems (train/evaluate.py).
Raw values are faint, a bias-corrected moving average is drawn over them. The run's warnings (warnings.jsonl,
train/guards.py) are dotted red lines at their step on every panel, named on the first.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nano_r1.plot import pyplot
from nano_r1.replyformat import ANSWER_OPEN
from nano_r1.rundir import RunDir

CORRECT = "rewards/correctness/mean"
# (title, [(metrics key, label, scale, smooth)])
PANELS = [
    ("total reward", [("reward", "reward", 1.0, True)]),
    ("length", [("completions/mean_length", "completion tokens", 1.0, True),
                ("rewards/reasoning_words/mean", "reasoning words", 1.0, True)]),
    ("self-check share (\"Wait, …\")", [("rewards/self_check/mean", "training completions", 1.0, True),
                                        ("eval/self_check", "held-out, greedy", 1.0, False)]),
    ("accuracy", [(CORRECT, "training reward (fraction right)", 1.0, True),
                  ("eval/accuracy_strict", "held-out strict", 1.0, False),
                  ("eval/accuracy_flexible", "held-out flexible", 1.0, False),
                  ("eval/answer_parsed", f"held-out {ANSWER_OPEN} parsed", 1.0, False)]),
]
COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
WARNING_COLOR = "crimson"


def smooth(values: list[float], alpha: float = 0.1) -> list[float]:
    """Exponential moving average, bias-corrected so the line starts at the data."""
    out, avg = [], 0.0
    for i, v in enumerate(values, 1):
        avg = alpha * v + (1 - alpha) * avg
        out.append(avg / (1 - (1 - alpha) ** i))
    return out


def run_title(run: RunDir, rows: list[dict]) -> str:
    """Name the run, its model, steps, hardware and backend, so the figure says what made it."""
    try:
        cfg = run.read_config()
    except Exception:  # noqa: BLE001 — a chart of a folder without a readable config still draws
        cfg = {}
    steps = max((r["step"] for r in rows if isinstance(r.get("step"), int)), default=0)
    parts = [cfg.get("model"), f"{steps} steps", cfg.get("hardware"),
             cfg.get("backend_resolved") and f"backend {cfg['backend_resolved']}"]
    return f"{run.name}: " + " · ".join(p for p in parts if p)


def mark_warnings(ax, warnings: list[dict], named: bool) -> None:
    """A dotted line at each warning's step; on the `named` panel, the kinds of that step written along it."""
    at: dict[int, list[str]] = {}
    for w in warnings:
        at.setdefault(w["step"], []).append(str(w.get("kind", "warning")))
    for step, kinds in at.items():
        ax.axvline(step, color=WARNING_COLOR, ls=":", lw=1.2, alpha=0.8)
        if named:
            ax.text(step, 0.98, " " + ", ".join(kinds), transform=ax.get_xaxis_transform(), rotation=90, va="top",
                    ha="right", fontsize=7, color=WARNING_COLOR)


def draw_chart(run: RunDir, out_path: Path, title: str | None = None) -> Path:
    plt = pyplot()
    rows = run.read_metrics()
    warnings = run.read_warnings()
    title = run_title(run, rows) if title is None else title
    try:
        per_right = run.correct_reward()  # 2.0 in runs from before the rubric's weights were recorded
    except Exception:  # noqa: BLE001 — a chart of a folder without a readable config still draws
        per_right = 1.0
    fig, axes = plt.subplots(1, len(PANELS), figsize=(5 * len(PANELS), 4), dpi=100)
    for i, (ax, (panel_title, series)) in enumerate(zip(axes, PANELS)):
        drawn = False
        for color, (key, label, scale, smoothed) in zip(COLORS, series):
            scale = scale / per_right if key == CORRECT else scale
            pts = [(r["step"], r[key] * scale) for r in rows if isinstance(r.get(key), (int, float))]
            if not pts:
                continue
            drawn = True
            steps, vals = zip(*pts)
            if smoothed:
                ax.plot(steps, vals, color=color, alpha=0.25, lw=1)
                ax.plot(steps, smooth(list(vals)), color=color, lw=2, label=label)
            else:
                ax.plot(steps, vals, color=color, lw=1.5, marker="o", ms=3, label=label)
        if drawn:
            ax.legend(loc="best", fontsize=7)
        else:
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
        mark_warnings(ax, warnings, named=i == 0)
        ax.set_title(panel_title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    from nano_r1.plot import save  # atomic, names the file on a full disk

    return save(fig, out_path)


if __name__ == "__main__":
    folder = RunDir(sys.argv[1] if len(sys.argv) > 1 else ".")
    print(draw_chart(folder, folder.chart_path))
