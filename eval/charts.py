"""PNG charts drawn from the scored store: metric bars with 95% CIs per suite, reply-length distributions,
and (with --run) the run's training curves via nano_r1.chart."""

from __future__ import annotations

from pathlib import Path

from nano_r1.chart import draw_chart
from nano_r1.plot import pyplot, save
from nano_r1.rundir import RunDir

COLORS = ["tab:gray", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]


def wrap(text: str, fig) -> str:
    """Break a title to the figure's width (~11 characters per inch at fontsize 10), so narrow figures keep it."""
    import textwrap

    return textwrap.fill(text, width=max(40, int(fig.get_figwidth() * 11)))


def metric_bars(rows: list[dict], models: list[str], labels: dict[str, str], out: Path, about: str = "") -> Path:
    """One panel per suite; within it one group per metric, one bar per model, whiskers = Wilson 95% CI."""
    plt = pyplot()
    rows = [r for r in rows if r["ci_method"] == "wilson" and r["metric"] != "truncated_rate"]
    suites = list(dict.fromkeys(r["suite"] for r in rows))
    fig, axes = plt.subplots(1, max(1, len(suites)), figsize=(max(6, 4.5 * len(suites)), 4.8), dpi=100,
                             squeeze=False)
    width = 0.8 / max(1, len(models))
    for ax, suite in zip(axes[0], suites):
        metrics = list(dict.fromkeys(r["metric"] for r in rows if r["suite"] == suite))
        for j, model in enumerate(models):
            xs, ys, lo, hi = [], [], [], []
            for i, metric in enumerate(metrics):
                r = next((r for r in rows if (r["suite"], r["metric"], r["model"]) == (suite, metric, model)), None)
                if r is None or r["n"] == 0:
                    continue
                xs.append(i + (j - (len(models) - 1) / 2) * width)
                ys.append(r["value"])
                lo.append(max(0.0, r["value"] - r["ci_low"]))
                hi.append(max(0.0, r["ci_high"] - r["value"]))
            ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, color=COLORS[j % len(COLORS)], label=labels[model])
            for x, y in zip(xs, ys):
                ax.text(x, y + 0.02, f"{y:.0%}", ha="center", va="bottom", fontsize=7)
        arrows = {r["metric"]: {True: "↑", False: "↓"}.get(r["higher_is_better"], "") for r in rows
                  if r["suite"] == suite}
        ax.set_xticks(range(len(metrics)))
        ax.set_xticklabels([f"{m.replace('_', ' ')} {arrows[m]}" for m in metrics], rotation=15, fontsize=8)
        n = max((r["n"] for r in rows if r["suite"] == suite), default=0)
        ax.set_title(f"{suite} (n ≤ {n} per bar)")
        ax.set_ylim(0, 1.12)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="upper left")
    fig.suptitle((wrap(about, fig) + "\n" if about else "")
                 + "base vs trained: 95% Wilson intervals (↑ higher is better, ↓ lower is better)", fontsize=10)
    fig.tight_layout()
    return save(fig, out)


def length_distributions(scored: list[dict], models: list[str], labels: dict[str, str], max_tokens: int,
                         out: Path, about: str = "") -> Path:
    """Histogram of completion tokens per suite and model; the dashed line is --max-tokens (cut-off replies)."""
    plt = pyplot()
    suites = list(dict.fromkeys(r["suite"] for r in scored))
    fig, axes = plt.subplots(1, max(1, len(suites)), figsize=(max(6, 4.5 * len(suites)), 4), dpi=100,
                             squeeze=False)
    bins = [max_tokens * i / 20 for i in range(21)]
    for ax, suite in zip(axes[0], suites):
        for j, model in enumerate(models):
            lengths = [r["completion_tokens"] or 0 for r in scored if r["suite"] == suite and r["model"] == model]
            if lengths:
                mean = sum(lengths) / len(lengths)
                ax.hist(lengths, bins=bins, histtype="step", lw=2, color=COLORS[j % len(COLORS)],
                        label=f"{labels[model]} (mean {mean:.0f})")
        ax.axvline(max_tokens, color="k", ls="--", lw=1)
        ax.set_title(f"{suite}: reply length")
        ax.set_xlabel("completion tokens")
        ax.set_ylabel("replies")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if about:
        fig.suptitle(wrap(about, fig), fontsize=10)
    fig.tight_layout()
    return save(fig, out)


def training_curves(run: RunDir, out: Path) -> Path | None:
    if not run.metrics_path.is_file():
        return None
    return draw_chart(run, out)  # written only if its bytes changed (nano_r1.plot.save)
