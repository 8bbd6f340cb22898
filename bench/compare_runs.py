"""Two or more runs' training curves in one chart, and their means over the same steps (backend parity checks).

    python -m bench.compare_runs runs/smollm2-gsm8k-h200 runs/parity-vllm-h200 --steps 100 --out images/parity.png

Prints, per run, the mean over steps 1..N of the total reward, each reward, KL, completion length and step time,
with the standard error; draws reward, KL and completion length (smoothed) per run.
"""

from __future__ import annotations

import argparse
import statistics

from nano_r1.chart import smooth
from nano_r1.plot import pyplot
from nano_r1.rundir import RunDir

KEYS = ["reward", "rewards/strict_format/mean", "rewards/answer_parsed/mean", "rewards/correctness/mean",
        "rewards/reasoning_words/mean", "kl", "completions/mean_length", "step_time"]
PANELS = [("reward", "total reward"), ("kl", "KL to the base"), ("completions/mean_length", "completion tokens")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    series = {}
    for run in args.runs:
        rows = [r for r in RunDir(run).read_metrics() if "reward" in r and 1 <= r["step"] <= args.steps]
        series[RunDir(run).name] = rows
    print(f"mean over steps 1..{args.steps}")
    print(f"{'metric':32}" + "".join(f"{name:>24}" for name in series))
    for key in KEYS:
        cells = []
        for rows in series.values():
            vals = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
            cells.append(f"{statistics.mean(vals):.4g} ± {statistics.stdev(vals) / len(vals) ** .5:.2g}"
                         if len(vals) > 1 else "–")
        print(f"{key:32}" + "".join(f"{c:>24}" for c in cells))
    if args.out:
        plt = pyplot()
        fig, axes = plt.subplots(1, len(PANELS), figsize=(5 * len(PANELS), 3.8), dpi=100)
        for ax, (key, title) in zip(axes, PANELS):
            for name, rows in series.items():
                pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
                if pts:
                    steps, vals = zip(*pts)
                    ax.plot(steps, vals, alpha=0.2, lw=1)
                    ax.plot(steps, smooth(list(vals)), lw=2, label=name, color=ax.lines[-1].get_color())
            ax.set_title(title)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.out)
        print(f"chart: {args.out}")


if __name__ == "__main__":
    main()
