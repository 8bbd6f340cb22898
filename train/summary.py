"""What a run cost and whether it had its aha moment: summary.json in the run folder, and the closing lines.

Wall time adds up over every session of a run (a resumed run keeps counting); GPU-hours are wall time × GPUs
(0 on a CPU); with --gpu-hourly-price the cost in USD. The aha step is nano_r1.selfcheck.aha_step over the
per-step share of completions that re-check themselves (rewards/self_check/mean in metrics.jsonl). `warnings` lists
what the run's guards said (warnings.jsonl, train/guards.py), each {step, kind, message}; a closing line names
them when there are any.
"""

from __future__ import annotations

import time

from nano_r1.env import world_size
from nano_r1.rundir import RunDir
from nano_r1.selfcheck import aha_step

SELF_CHECK = "rewards/self_check/mean"


def write_summary(run: RunDir, cfg, step: int, seconds: float, on_cpu: bool) -> list[str]:
    old = run.read_summary()
    sessions = old.get("sessions", []) + [{"ended": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": round(seconds, 1),
                                           "last_step": step, "gpus": 0 if on_cpu else world_size()}]
    wall = sum(s["seconds"] for s in sessions)
    gpu_hours = sum(s["seconds"] * s["gpus"] for s in sessions) / 3600
    rows = run.read_metrics()
    warnings = [{k: w.get(k) for k in ("step", "kind", "message")} for w in run.read_warnings()]
    shares = [(r["step"], r[SELF_CHECK]) for r in rows if r.get(SELF_CHECK) is not None]
    aha = aha_step(shares)
    first = [s for _, s in shares[:10]]
    last = [s for _, s in shares[-10:]]
    summary = {"steps": step, "wall_seconds": round(wall, 1), "seconds_per_step": round(wall / max(1, step), 3),
               "gpu_hours": round(gpu_hours, 4), "gpu_hourly_price": cfg.gpu_hourly_price,
               "cost_usd": None if cfg.gpu_hourly_price is None else round(gpu_hours * cfg.gpu_hourly_price, 2),
               "aha_step": aha, "self_check_first_10": _mean(first), "self_check_last_10": _mean(last),
               "sessions": sessions, "warnings": warnings}
    run.write_summary(summary)
    cost = f", ${summary['cost_usd']:.2f} at ${cfg.gpu_hourly_price}/GPU-hour" if summary["cost_usd"] is not None \
        else (" (--gpu-hourly-price USD prices it)" if gpu_hours else "")
    lines = [f"cost: {step} steps in {wall / 3600:.2f} h wall, {gpu_hours:.2f} GPU-hours{cost}"]
    if not shares:
        lines.append("self-check: not logged")
    elif aha is not None:
        lines.append(f"aha at step {aha}: the share of completions that re-check themselves rose from "
                     f"{summary['self_check_first_10']:.0%} and stayed up ({summary['self_check_last_10']:.0%} "
                     "over the last 10 steps)")
    else:
        lines.append(f"no aha moment: the self-check share did not rise clearly and stay up "
                     f"({summary['self_check_first_10']:.0%} → {summary['self_check_last_10']:.0%})")
    if warnings:
        lines.append(f"{len(warnings)} warning(s): " + ", ".join(f"{w['kind']} at step {w['step']}" for w in warnings)
                     + " (summary.json, chart.png)")
    return lines


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
