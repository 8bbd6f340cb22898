"""Everything a reader sees, drawn only from the store: summary.csv (per model × suite × metric: n, value,
95% CI), charts, answer cards and report.md linking them.

    python -m eval --suite gsm8k --output-dir results/NAME --report-only     # redraw from the store

Stored replies are re-scored with the suites' current graders, so a grader fix never needs new replies.
Requests stored as failed (the server refused them) are in no metric and are counted in report.md; lines of
the store that are torn or incomplete are set aside (eval/store.py), never a crash. The suites section lists,
per suite, the sources its items came from with their counts, and any optional source left out. Files are
written only when their bytes change (eval/outputs.py), so a redraw of a complete store works on a read-only
folder.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from eval.config import EvalConfig
from eval.outputs import write_if_changed
from eval.requests import build_requests
from eval.store import Store, failed
from nano_r1 import selfcheck
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


def scored_records(cfg: EvalConfig, suites: list[Task]) -> tuple[list[dict], int, list[dict]]:
    """(stored replies for exactly the requests this config asks for, each with fresh `scores`; the number of
    requests; the failed ones). What identifies a reply (model, suite, item, reference, meta) is taken from the
    request its key belongs to, so a stored line can never steer a reply into another suite's numbers."""
    wanted = {r.key: r for r in build_requests(cfg, suites)}
    by_name = {s.name: s for s in suites}
    store = Store(cfg.output_dir)
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


def fmt(r: dict) -> str:
    if r["ci_method"] == "wilson":
        return f"{r['value']:.1%} [{r['ci_low']:.1%}, {r['ci_high']:.1%}] (n={r['n']})"
    return f"{r['value']:.0f} [{r['ci_low']:.0f}, {r['ci_high']:.0f}] (n={r['n']})"


def failure_cause(r: dict) -> str:
    """Why a stored request failed, as a class to count: refused (HTTP 400), reply is not JSON, no choices, ...
    (stores written before causes were recorded have the status code or the error type)."""
    if r.get("cause"):
        return r["cause"]
    return f"refused (HTTP {r['status_code']})" if r.get("status_code") else str(r.get("error_type") or "failed")


def failure_lines(failures: list[dict], models: list[str]) -> list[str]:
    """The requests that failed (stored with the reason: refused by the server, or a malformed reply), counted
    per model × suite and per cause, with the server(s) that answered: in no metric.
    In the order of --models, then suite and item, not of arrival (which concurrency makes vary run to run)."""
    if not failures:
        return []
    rank = {m: i for i, m in enumerate(models)}
    failures = sorted(failures, key=lambda r: (rank.get(r["model"], len(rank)), r["model"], r["suite"], str(r["item"])))
    counts: dict[tuple[str, str], int] = {}
    causes: dict[str, int] = {}
    for r in failures:
        counts[r["model"], r["suite"]] = counts.get((r["model"], r["suite"]), 0) + 1
        causes[failure_cause(r)] = causes.get(failure_cause(r), 0) + 1
    servers = sorted({r["server"] for r in failures if r.get("server")})
    first = failures[0]
    return [f"> **{len(failures)} request(s) failed** and are left out of every metric (n counts replies only): "
            + ", ".join(f"{m}/{s} {n}" for (m, s), n in counts.items())
            + ". By cause: " + ", ".join(f"{c} {n}" for c, n in sorted(causes.items(), key=lambda kv: -kv[1]))
            + (f". Server: {', '.join(f'`{u}`' for u in servers)}" if servers else "")
            + f". First: `{first['item']}` ({first['model']}): {first['error'][:200]}. They are stored with the "
            "reason; `--retry-failed` asks again.", ""]


def suite_line(s: Task, limit: int | None) -> str:
    """`name` vVERSION: description — and the sources its items came from, with counts (what was measured)."""
    total = len(getattr(s, "_items", None) or [])  # loaded by eval/run.py before anything else
    used = f"{min(total, limit)} of {total} items asked (--limit {limit})" if limit and limit < total \
        else f"{total} items"
    parts = [f"{name} {v['items']} ({v['from']})" for name, v in s.sources.items()]
    line = f"- `{s.name}` v{s.version}: {s.description}. {used}" + (f"; sources: {', '.join(parts)}" if parts else "")
    if s.missing:
        line += "; **left out** (not available): " + ", ".join(f"{k} ({v})" for k, v in s.missing.items())
    return line + "."


def about_line(cfg: EvalConfig) -> str:
    """What the figures compare: the trained run (model, steps, hardware) and the sampling, in one line."""
    from nano_r1.chart import run_title

    run = f"trained: {run_title(RunDir(cfg.run), RunDir(cfg.run).read_metrics())} · " if cfg.run else ""
    return f"{run}eval: temperature {cfg.temperature}, max_tokens {cfg.max_tokens}"


def write_report(cfg: EvalConfig, suites: list[Task]) -> Path:
    from eval.cards import draw_cards
    from eval.charts import length_distributions, metric_bars, training_curves

    out = Path(cfg.output_dir)
    scored, wanted, failures = scored_records(cfg, suites)
    stored = len(scored)
    scored, unpaired = paired(scored, cfg.models)
    labels = model_labels(cfg)
    rows = summary_rows(cfg, suites, scored)
    write_csv(rows, out / "summary.csv")
    about = about_line(cfg)
    charts = {"metrics": metric_bars(rows, cfg.models, labels, out / "metrics.png", about),
              "lengths": length_distributions(scored, cfg.models, labels, cfg.max_tokens, out / "lengths.png", about)}
    if cfg.run and (curves := training_curves(RunDir(cfg.run), out / "training.png")):
        charts["training"] = curves
    cards: dict[str, list[Path]] = {}
    if len(cfg.models) >= 2 and cfg.cards:
        pair = (cfg.models[0], cfg.models[-1])
        for s in suites:
            primary = "refusal" if s.uses_refusal() else "correct"
            cards[s.name] = draw_cards(scored, s.name, primary, pair, (labels[pair[0]], labels[pair[1]]),
                                       cfg.cards, out / "cards")

    md = [f"# Evaluation: {', '.join(labels[m] for m in cfg.models)}", ""]
    if cfg.base_system_prompt == "none":
        md += [f"> **Seed-style comparison, not like for like:** `{cfg.models[0]}` was asked without the system "
               "prompt that the other models got (`--base-system-prompt none`).", ""]
    system, one_shot = cfg.prompting()
    source = f"the training prompt of `{cfg.run}`" if cfg.run and cfg.system_prompt is None else "the same prompt"
    if cfg.base_system_prompt != "none":
        md += [f"Every model got the same messages: {source} — "
               + ("a system prompt" if system else "no system prompt")
               + (" and the one-shot example" if one_shot else "") + ".", ""]
    asked = selfcheck.markers(system or "")
    if asked:
        md += [f"> The system prompt itself asks for self-checking ({', '.join(repr(m) for m in asked)}), so the "
               "base model may re-check too: read `self_check_rate` as base vs trained, not as an absolute.", ""]
    md += [f"Sampling: temperature {cfg.temperature}, top_p {cfg.top_p}, max_tokens {cfg.max_tokens}, "
           f"{cfg.samples} sample(s) per item, seed {cfg.seed}. Replies stored: {stored} of {wanted} "
           f"(`store.jsonl`)" + (f", {len(failures)} failed" if failures else "") + ". Intervals are 95% Wilson "
           "intervals" + (" (samples of one item are not independent, so they are too narrow)" if cfg.samples > 1
                          else "") + ".", ""]
    md += failure_lines(failures, cfg.models)
    if stored + len(failures) < wanted:
        # An interrupted run keeps the replies that came back first, and those are the short ones (a reply that
        # loops to max_tokens comes back last): on the H200 run in the README, answer-parsed was 100 % over the
        # first 1,049 GSM8K items and 94.8 % over all 1,319.
        md += [f"> **Incomplete:** {wanted - stored - len(failures)} of {wanted} replies are not stored yet. The "
               "replies that came back first are the quicker, shorter ones, so these figures can differ from the "
               "whole suite's; run the same command again to finish (stored replies are kept).", ""]
    if unpaired:
        md += [f"> **Same items for every model:** {sum(unpaired.values())} stored repl(ies) whose item the other "
               "model(s) have no reply for are left out (" + ", ".join(f"{s} {n}" for s, n in unpaired.items())
               + "); the n in the table counts the items compared.", ""]
    md += ["## Results", "", "| suite | metric | " + " | ".join(labels[m] for m in cfg.models) + " |",
           "|---|---|" + "---|" * len(cfg.models)]
    for s in suites:
        for metric in dict.fromkeys(r["metric"] for r in rows if r["suite"] == s.name):
            cells = [next((fmt(r) for r in rows if (r["suite"], r["metric"], r["model"]) == (s.name, metric, m)), "")
                     for m in cfg.models]
            md.append(f"| {s.name} | {metric} | " + " | ".join(cells) + " |")
    if any(s.uses_refusal() for s in suites):
        from nano_r1.refusal import MEASURED_ACCURACY

        uncertain = {(m, s.name): sum(1 for r in scored if r["model"] == m and r["suite"] == s.name
                                      and r["scores"].get("refusal_confident") is False)
                     for s in suites if s.uses_refusal() for m in cfg.models}
        md += ["", "Refusal rates are graded by `nano_r1.refusal` (local rules, XSTest's three classes; refusal = "
               "full or partial). Its binary accuracy against human labels: "
               + ", ".join(f"{k} {v:.3f}" for k, v in MEASURED_ACCURACY.items())
               + ". Grader-uncertain replies (the grader cannot call them confidently): "
               + ", ".join(f"{m}/{suite} {n}" for (m, suite), n in uncertain.items()) + "."]
        pairs = [(r["scores"]["refusal"], r["scores"]["refusal_judge"]) for r in scored
                 if "refusal" in r["scores"] and "refusal_judge" in r["scores"]]
        if pairs:  # only when --judge-model verdicts exist in the store
            differ = sum(bool(a) != bool(b) for a, b in pairs)
            md[-1] += (f" The judge `{cfg.judge_model}` disagrees with the local grader on {differ} of {len(pairs)} "
                       f"replies ({differ / len(pairs):.1%}).")
    md += ["", "Table as CSV: [summary.csv](summary.csv).", "", "## Charts", "",
           "![metrics](metrics.png)", "", "![reply lengths](lengths.png)", ""]
    if "training" in charts:
        md += [f"Training curves of `{cfg.run}`:", "", "![training](training.png)", ""]
    if any(cards.values()):
        md += ["## Answer cards", "", f"`{labels[cfg.models[0]]}` (left) vs `{labels[cfg.models[-1]]}` (right); "
               "items where the verdicts differ come first, then replies that differ only in text.", ""]
        for suite, paths in cards.items():
            md += [f"- {suite}: " + ", ".join(f"[{p.stem}](cards/{p.name})" for p in paths)]
        md.append("")
    md += ["## Suites", ""] + [suite_line(s, cfg.limit) for s in suites] + [""]
    write_if_changed(out / "report.md", "\n".join(md))
    return out / "report.md"
