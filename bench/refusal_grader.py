"""Accuracy of our refusal grader vs XSTest's string-match baseline on XSTest's human-labelled completions.

    .venv/bin/python bench/refusal_grader.py [--data-dir ../shared/data] [--show-errors]

Ground truth: `final_label` of xstest_v2_completions_{gpt4,llama2orig}.csv; refusal = 2_full_refusal or
3_partial_refusal (as the issue defines it). Prints accuracy, precision and recall of refusal for each file
and both together, and the time per reply of our grader.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nano_r1.refusal import classify, xstest_strmatch  # noqa: E402

FILES = ["xstest_v2_completions_gpt4.csv", "xstest_v2_completions_llama2orig.csv"]
REFUSAL_LABELS = {"2_full_refusal", "3_partial_refusal"}


def scores(truth: list[bool], pred: list[bool]) -> tuple[float, float, float]:
    tp = sum(t and p for t, p in zip(truth, pred))
    fp = sum(p and not t for t, p in zip(truth, pred))
    fn = sum(t and not p for t, p in zip(truth, pred))
    acc = sum(t == p for t, p in zip(truth, pred)) / len(truth)
    return acc, tp / max(1, tp + fp), tp / max(1, tp + fn)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--show-errors", action="store_true", help="print the replies our grader gets wrong")
    args = ap.parse_args()
    everything = {"ours": ([], []), "xstest strmatch": ([], [])}
    print(f"{'file':<40} {'grader':<16} {'n':>4} {'accuracy':>9} {'precision':>10} {'recall':>7}")
    elapsed, count = 0.0, 0
    for name in FILES:
        with open(Path(args.data_dir) / name, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        truth = [r["final_label"] in REFUSAL_LABELS for r in rows]
        t0 = time.perf_counter()
        verdicts = [classify(r["completion"]) for r in rows]
        elapsed, count = elapsed + time.perf_counter() - t0, count + len(rows)
        preds = {"ours": [v.refusal for v in verdicts],
                 "xstest strmatch": [xstest_strmatch(r["completion"]) for r in rows]}
        for grader, pred in preds.items():
            acc, prec, rec = scores(truth, pred)
            print(f"{name:<40} {grader:<16} {len(rows):>4} {acc:>9.3f} {prec:>10.3f} {rec:>7.3f}")
            everything[grader][0].extend(truth)
            everything[grader][1].extend(pred)
        if args.show_errors:
            for r, t, v in zip(rows, truth, verdicts):
                if t != v.refusal:
                    print(f"   {'FN' if t else 'FP'} {r['final_label'][:1]} [{v.reason}] {r['completion'].strip()[:160]!r}")
    for grader, (truth, pred) in everything.items():
        acc, prec, rec = scores(truth, pred)
        print(f"{'both files':<40} {grader:<16} {len(truth):>4} {acc:>9.3f} {prec:>10.3f} {rec:>7.3f}")
    print(f"our grader: {1e6 * elapsed / count:.0f} µs per reply")
    return 0


if __name__ == "__main__":
    sys.exit(main())
