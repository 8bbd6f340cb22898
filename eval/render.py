"""report.md from a Summary (made by eval/report.py): the comparison, its caveats, the results table, charts,
cards and the suites measured. Text only: the numbers and the files are made before."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eval.config import EvalConfig
from nano_r1 import selfcheck
from nano_r1.rundir import RunDir
from nano_r1.tasks import Task


@dataclass
class Summary:
    """Everything the report shows, computed once from the scored store."""
    scored: list[dict]  # the replies compared (paired across models), with scores
    stored: int  # replies stored for this config, before pairing
    wanted: int  # requests this config asks for
    failures: list[dict]  # requests stored as failed
    unpaired: dict[str, int]  # per suite: replies left out because another model has none for the item
    rows: list[dict]  # summary.csv: model × suite × metric with n, value and 95% CI
    labels: dict[str, str]  # model → how tables and charts name it


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


def render(cfg: EvalConfig, suites: list[Task], summary: Summary, charts: dict[str, Path],
           cards: dict[str, list[Path]]) -> str:
    md = (heading_lines(cfg, summary) + failure_lines(summary.failures, cfg.models) + gap_lines(summary)
          + results_lines(cfg, suites, summary) + refusal_lines(cfg, suites, summary)
          + figure_lines(cfg, summary.labels, charts, cards)
          + ["## Suites", ""] + [suite_line(s, cfg.limit) for s in suites] + [""])
    return "\n".join(md)


def heading_lines(cfg: EvalConfig, summary: Summary) -> list[str]:
    """The title, what every model was asked (prompt, one-shot), and the sampling with what is stored."""
    md = [f"# Evaluation: {', '.join(summary.labels[m] for m in cfg.models)}", ""]
    if cfg.base_system_prompt == "none":
        md += [f"> **Seed-style comparison, not like for like:** `{cfg.models[0]}` was asked without the system "
               "prompt that the other models got (`--base-system-prompt none`).", ""]
    prompting = cfg.prompting()
    system, one_shot = prompting.system, prompting.one_shot
    source = f"the training prompt of `{cfg.run}`" if cfg.run and cfg.system_prompt is None else "the same prompt"
    if cfg.base_system_prompt != "none":
        md += [f"Every model got the same messages: {source} — "
               + ("a system prompt" if system else "no system prompt")
               + (" and the one-shot example" if one_shot else "") + ".", ""]
    asked = selfcheck.markers(system or "")
    if asked:
        md += [f"> The system prompt itself asks for self-checking ({', '.join(repr(m) for m in asked)}), so the "
               "base model may re-check too: read `self_check_rate` as base vs trained, not as an absolute.", ""]
    failures = summary.failures
    md += [f"Sampling: temperature {cfg.temperature}, top_p {cfg.top_p}, max_tokens {cfg.max_tokens}, "
           f"{cfg.samples} sample(s) per item, seed {cfg.seed}. Replies stored: {summary.stored} of {summary.wanted} "
           f"(`store.jsonl`)" + (f", {len(failures)} failed" if failures else "") + ". Intervals are 95% Wilson "
           "intervals" + (" (samples of one item are not independent, so they are too narrow)" if cfg.samples > 1
                          else "") + ".", ""]
    return md


def gap_lines(summary: Summary) -> list[str]:
    """What is missing from the comparison: replies not stored yet, and replies without a partner."""
    md = []
    missing = summary.wanted - summary.stored - len(summary.failures)
    if missing > 0:
        # An interrupted run keeps the replies that came back first, and those are the short ones (a reply that
        # loops to max_tokens comes back last): on the H200 run in the README, answer-parsed was 100 % over the
        # first 1,049 GSM8K items and 94.8 % over all 1,319.
        md += [f"> **Incomplete:** {missing} of {summary.wanted} replies are not stored yet. The "
               "replies that came back first are the quicker, shorter ones, so these figures can differ from the "
               "whole suite's; run the same command again to finish (stored replies are kept).", ""]
    if summary.unpaired:
        md += [f"> **Same items for every model:** {sum(summary.unpaired.values())} stored repl(ies) whose item the "
               "other model(s) have no reply for are left out (" + ", ".join(f"{s} {n}" for s, n in
                                                                       summary.unpaired.items())
               + "); the n in the table counts the items compared.", ""]
    return md


def results_lines(cfg: EvalConfig, suites: list[Task], summary: Summary) -> list[str]:
    rows, labels = summary.rows, summary.labels
    md = ["## Results", "", "| suite | metric | " + " | ".join(labels[m] for m in cfg.models) + " |",
          "|---|---|" + "---|" * len(cfg.models)]
    for s in suites:
        for metric in dict.fromkeys(r["metric"] for r in rows if r["suite"] == s.name):
            cells = [next((fmt(r) for r in rows if (r["suite"], r["metric"], r["model"]) == (s.name, metric, m)), "")
                     for m in cfg.models]
            md.append(f"| {s.name} | {metric} | " + " | ".join(cells) + " |")
    return md


def refusal_lines(cfg: EvalConfig, suites: list[Task], summary: Summary) -> list[str]:
    """How refusals are graded, how sure the grader is, and (with --judge-model) how often the judge disagrees."""
    if not any(s.uses_refusal() for s in suites):
        return []
    from nano_r1.refusal import MEASURED_ACCURACY

    scored = summary.scored
    uncertain = {(m, s.name): sum(1 for r in scored if r["model"] == m and r["suite"] == s.name
                                  and r["scores"].get("refusal_confident") is False)
                 for s in suites if s.uses_refusal() for m in cfg.models}
    line = ("Refusal rates are graded by `nano_r1.refusal` (local rules, XSTest's three classes; refusal = "
            "full or partial). Its binary accuracy against human labels: "
            + ", ".join(f"{k} {v:.3f}" for k, v in MEASURED_ACCURACY.items())
            + ". Grader-uncertain replies (the grader cannot call them confidently): "
            + ", ".join(f"{m}/{suite} {n}" for (m, suite), n in uncertain.items()) + ".")
    pairs = [(r["scores"]["refusal"], r["scores"]["refusal_judge"]) for r in scored
             if "refusal" in r["scores"] and "refusal_judge" in r["scores"]]
    if pairs:  # only when --judge-model verdicts exist in the store
        differ = sum(bool(a) != bool(b) for a, b in pairs)
        line += (f" The judge `{cfg.judge_model}` disagrees with the local grader on {differ} of {len(pairs)} "
                 f"replies ({differ / len(pairs):.1%}).")
    return ["", line]


def figure_lines(cfg: EvalConfig, labels: dict[str, str], charts: dict[str, Path],
                 cards: dict[str, list[Path]]) -> list[str]:
    md = ["", "Table as CSV: [summary.csv](summary.csv).", "", "## Charts", "",
          "![metrics](metrics.png)", "", "![reply lengths](lengths.png)", ""]
    if "training" in charts:
        md += [f"Training curves of `{cfg.run}`:", "", "![training](training.png)", ""]
    if any(cards.values()):
        md += ["## Answer cards", "", f"`{labels[cfg.models[0]]}` (left) vs `{labels[cfg.models[-1]]}` (right); "
               "items where the verdicts differ come first, then replies that differ only in text.", ""]
        for suite, paths in cards.items():
            md += [f"- {suite}: " + ", ".join(f"[{p.stem}](cards/{p.name})" for p in paths)]
        md.append("")
    return md
