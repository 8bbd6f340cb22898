"""Everything a reader sees, drawn only from the store: summary.csv (per model × suite × metric: n, value,
95% CI), charts, answer cards and report.md linking them.

    python -m eval --suite gsm8k --output-dir results/NAME --report-only     # redraw from the store

Stored replies are re-scored with the suites' current graders, so a grader fix never needs new replies.
Requests stored as failed (the server refused them) are in no metric and are counted in report.md; lines of
the store that are torn or incomplete are set aside (eval/store.py), never a crash. The suites section lists,
per suite, the sources its items came from with their counts, and any optional source left out. Files are
written only when their bytes change (nano_r1.files.write_if_changed), so a redraw of a complete store works on a read-only
folder.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from eval.client import Request
from eval.config import EvalConfig
from eval.requests import build_requests
from eval.render import Summary, about_line, render, suite_line  # noqa: F401 (suite_line: also read from here)
from eval.store import Store, failed
from nano_r1 import selfcheck
from nano_r1.files import write_if_changed
from nano_r1.rundir import RunDir
from nano_r1.tasks import Task

Z95 = 1.959964


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (sane at 0/n and n/n, unlike the normal approximation)."""
    if n == 0:
        return 0.0, 0.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # exact ends at 0/n and n/n (float rounding could leave the bound a hair inside the estimate)
    return (0.0 if successes == 0 else max(0.0, centre - half)), (1.0 if successes == n else min(1.0, centre + half))


def mean_ci(values: list[float]) -> tuple[float, float, float]:
    n = len(values)
    mean = sum(values) / n if n else 0.0
    if n < 2:
        return mean, mean, mean
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, mean - Z95 * sd / math.sqrt(n), mean + Z95 * sd / math.sqrt(n)


def model_labels(cfg: EvalConfig) -> dict[str, str]:
    return {m: m + (" (no system prompt)" if cfg.system_for(m) == "none" else "") for m in cfg.models}


def scored_records(cfg: EvalConfig, suites: list[Task], requests: list[Request],
                   store: Store) -> tuple[list[dict], int, list[dict]]:
    """Score: (stored replies for exactly `requests`, each with fresh `scores`; the number of requests; the failed
    ones). What identifies a reply (model, suite, item, reference, meta) is taken from the request its key belongs
    to, so a stored line can never steer a reply into another suite's numbers."""
    wanted = {r.key: r for r in requests}
    by_name = {s.name: s for s in suites}
    records, bad = store.scan()
    store.set_aside(bad)
    judged = {r["judges"]: r["refusal"] for r in records if r.get("kind") == "judge"
              and r.get("judge_model") == cfg.judge_model and r.get("refusal") is not None}
    out, failures = [], []
    for r in records:
        if r.get("kind") or r["key"] not in wanted:
            continue
        req = wanted[r["key"]]
        r = {**r, "model": req.model, **{k: req.payload[k] for k in ("suite", "item", "reference", "meta", "prompt")}}
        if failed(r):
            failures.append(r)
            continue
        r["scores"] = by_name[r["suite"]].score(r["completion"], r.get("reference"), r.get("meta") or {},
                                                prompt=r.get("prompt"))  # the refusal grader reads the reply against it
        r["scores"]["self_check"] = selfcheck.self_checks(r["completion"], r.get("prompt"))
        r["scores"]["reasoning_words"] = selfcheck.reasoning_words(r["completion"])
        if r["key"] in judged:
            r["scores"]["refusal_judge"] = judged[r["key"]]
        out.append(r)
    return out, len(wanted), failures


def paired(scored: list[dict], models: list[str]) -> tuple[list[dict], dict[str, int]]:
    """Only the replies whose (suite, item, sample) every model answered, so each model is measured on the same
    items (an interrupted run or failed requests leave gaps); with the count left out per suite."""
    if len(models) < 2:
        return scored, {}
    answered: dict[tuple, set] = {}
    for r in scored:
        answered.setdefault((r["suite"], r["item"], r.get("sample", 0)), set()).add(r["model"])
    kept, dropped = [], {}
    for r in scored:
        if answered[r["suite"], r["item"], r.get("sample", 0)] >= set(models):
            kept.append(r)
        else:
            dropped[r["suite"]] = dropped.get(r["suite"], 0) + 1
    return kept, dropped


def summarise(cfg: EvalConfig, suites: list[Task], scored: list[dict], wanted: int, failures: list[dict]) -> Summary:
    kept, unpaired = paired(scored, cfg.models)
    return Summary(kept, len(scored), wanted, failures, unpaired, summary_rows(cfg, suites, kept), model_labels(cfg))


def summary_rows(cfg: EvalConfig, suites: list[Task], scored: list[dict]) -> list[dict]:
    rows = []
    for suite in suites:
        for model in cfg.models:
            mine = [r for r in scored if r["suite"] == suite.name and r["model"] == model]
            common = {"model": model, "suite": suite.name, "system_prompt": cfg.system_for(model)}
            for metric in suite.metrics:
                for key, name in ((metric.key, metric.name), (f"{metric.key}_judge", f"{metric.name}_judge")):
                    vals = [bool(r["scores"][key]) for r in mine if key in r["scores"] and metric.applies(r["meta"])]
                    if key != metric.key and not vals:
                        continue  # no judge verdicts
                    lo, hi = wilson(sum(vals), len(vals))
                    rows.append({**common, "metric": name, "n": len(vals),
                                 "value": sum(vals) / len(vals) if vals else 0.0, "ci_low": lo, "ci_high": hi,
                                 "ci_method": "wilson", "higher_is_better": metric.higher_is_better})
            checks = [bool(r["scores"]["self_check"]) for r in mine]
            lo, hi = wilson(sum(checks), len(checks))
            rows.append({**common, "metric": "self_check_rate", "n": len(checks),
                         "value": sum(checks) / max(1, len(checks)), "ci_low": lo, "ci_high": hi,
                         "ci_method": "wilson", "higher_is_better": None})
            for metric, values in (("reasoning_words_mean", [r["scores"]["reasoning_words"] for r in mine]),
                                   ("completion_tokens_mean", [r["completion_tokens"] for r in mine
                                                               if r.get("completion_tokens") is not None])):
                mean, lo, hi = mean_ci(values)
                rows.append({**common, "metric": metric, "n": len(values), "value": mean,
                             "ci_low": lo, "ci_high": hi, "ci_method": "normal", "higher_is_better": None})
            cut = [r.get("finish_reason") == "length" for r in mine]
            lo, hi = wilson(sum(cut), len(cut))
            rows.append({**common, "metric": "truncated_rate", "n": len(cut), "value": sum(cut) / max(1, len(cut)),
                         "ci_low": lo, "ci_high": hi, "ci_method": "wilson", "higher_is_better": False})
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    cols = ["model", "suite", "metric", "n", "value", "ci_low", "ci_high", "ci_method", "higher_is_better",
            "system_prompt"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    for r in rows:
        w.writerow({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items() if k in cols})
    write_if_changed(path, buf.getvalue())


def draw(cfg: EvalConfig, suites: list[Task], summary: Summary, out: Path) -> tuple[dict[str, Path],
                                                                                 dict[str, list[Path]]]:
    """The charts (metrics, lengths, and with --run the training curves) and the answer cards, as files."""
    from eval.cards import draw_cards
    from eval.charts import length_distributions, metric_bars, training_curves

    about, labels = about_line(cfg), summary.labels
    charts = {"metrics": metric_bars(summary.rows, cfg.models, labels, out / "metrics.png", about),
              "lengths": length_distributions(summary.scored, cfg.models, labels, cfg.max_tokens,
                                              out / "lengths.png", about)}
    if cfg.run and (curves := training_curves(RunDir(cfg.run), out / "training.png")):
        charts["training"] = curves
    cards: dict[str, list[Path]] = {}
    if len(cfg.models) >= 2 and cfg.cards:
        pair = (cfg.models[0], cfg.models[-1])
        for s in suites:
            primary = "refusal" if s.uses_refusal() else "correct"
            cards[s.name] = draw_cards(summary.scored, s.name, primary, pair, (labels[pair[0]], labels[pair[1]]),
                                       cfg.cards, out / "cards")
    return charts, cards


def write_report(cfg: EvalConfig, suites: list[Task], requests: list[Request] | None = None,
                 store: Store | None = None) -> Path:
    """Score → summarise → draw and render: summary.csv, the charts, the cards and report.md in --output-dir.
    `requests` and `store` are the run's own (eval/run.py); built and opened here when not given."""
    requests = build_requests(cfg, suites) if requests is None else requests
    store = Store(cfg.output_dir) if store is None else store
    summary = summarise(cfg, suites, *scored_records(cfg, suites, requests, store))
    out = Path(cfg.output_dir)
    write_csv(summary.rows, out / "summary.csv")
    charts, cards = draw(cfg, suites, summary, out)
    write_if_changed(out / "report.md", render(cfg, suites, summary, charts, cards))
    return out / "report.md"
