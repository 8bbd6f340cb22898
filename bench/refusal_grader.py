"""Accuracy of our refusal grader vs XSTest's string-match baseline on human-labelled replies.

    python -m bench.refusal_grader                       # every set
    python -m bench.refusal_grader --data-dir ../shared/data --sets gpt4,own-dev --show-errors --by-style
    python -m bench.refusal_grader --xstest-csv xstest_v2_completions_mistralguard.csv   # any XSTest-format file
    python -m bench.refusal_grader --judge-model base --base-url http://127.0.0.1:8000/v1 --judge-limit 100
    python -m bench.refusal_grader --by-voice --write-measured   # per model voice; regenerate the report's figures

Sets:
  gpt4, llama2orig   XSTest v2 completions with human `final_label` (../shared/data/xstest_v2_completions_*.csv)
  own-dev            tests/data/refusal_cases.jsonl, split "dev": hand-written replies in styles the XSTest files lack;
                     the grader's rules were tuned on these and on the two XSTest files (issue 16 added the dev part
                     of batch 2, n…, e001-e025, hard compliance negatives written while tuning, and f001-f022, written
                     for the delivery rules of nano_r1/refusal/delivery.py)
  own-heldout        tests/data/refusal_cases.jsonl, split "heldout": batch 1 (h001-h081 written before the grader was
                     touched, h082-h133 after its rules were frozen); its errors have since been read while tuning
  own-heldout2       tests/data/refusal_cases.jsonl, split "heldout2": issue 16's second batch (n001-n167, ten model
                     voices), split by a hash of the text before the grader was run on any of it; its errors have
                     since been read while tuning
  own-heldout3       tests/data/refusal_cases.jsonl, split "heldout3": batch 3 (m001-m098, every row with its prompt),
                     split the same way (hash % 2) and measured once, with the grader frozen (0.833 accuracy,
                     0.739 recall); its errors have since been read while tuning
  own-heldout4       tests/data/refusal_cases.jsonl, split "heldout4": batch 4 (q001-q133, all held out, every row with its
                     prompt), voices the first three batches lack (terse assistants, base-model rambles, verbose safety
                     voices, ESL English, markdown, questions back, "I'd rather not", policy citations, heavy caveats
                     that comply, hard negatives, partials); committed before the grader saw it and measured once
                     (0.789 accuracy, 0.679 recall); like batch 3's, its errors have since been read while tuning
  own-heldout5       tests/data/refusal_cases.jsonl, split "heldout5": batch 5 (r001-r120, every row with its prompt; half
                     safe prompts that sound dangerous, half unsafe), written before its author read any grader code
                     or output, in voices such as gentle declines, bullet refusals with resources, terse assistants,
                     "As an AI language model", Llama-2 over-refusal, <think> reasoning, role-play refusals, refusals
                     mid-answer, one-line disclaimers that comply, and partials; measured once before and once after
                     the batch 3/4 round (tuned on the errors of batches 3 and 4): 0.917 accuracy, 0.909 recall
                     before, 0.908 / 0.909 after; its individual errors never read. Its author also wrote that round,
                     so "never tuned on" means its errors were not read, not that its texts were unknown
  own-heldout6       tests/data/refusal_cases.jsonl, split "heldout6": batch 6 (s001-s120, every row with its prompt),
                     written by an author who never read the grader, its code, its outputs or the earlier batches'
                     replies, in 20 voices none of the earlier batches has (code assistant, customer-service bot,
                     JSON output, legal register, teen slang, rhyme, cut off mid-sentence, policy sections, one-word
                     replies, sarcasm, history overviews, subject changes, Spanish/French/German, long replies with
                     the refusal in paragraph 3, markdown tables, emoji, Shakespearean, FAQ); measured once
  --xstest-csv FILE  any other file with XSTest's columns (completion, final_label), e.g. the completions of
                     the models the rules were never tuned on; named by its file stem

Every reply is graded with its prompt (`classify(completion, prompt)`), as the eval suites grade them.
Ground truth: refusal = 2_full_refusal or 3_partial_refusal (as issue 16 defines it). For each set and grader this
prints n, binary accuracy, precision and recall of refusal, the three-way confusion matrix (rows: human label,
columns: predicted; the string match only says refusal or not, so its refusals land in column 2), and for our grader
the three-way accuracy and the "grader-uncertain" count (`classify(text).confident` is False) with the accuracy on
the replies it is confident about. Ends with the time per reply. `--write-measured` writes the binary accuracy of every
set to nano_r1/refusal/measured.py, which the eval report prints next to every refusal rate.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

from nano_r1.refusal import COMPLY, FULL, LABELS, classify, xstest_strmatch

REPO = Path(__file__).resolve().parent.parent

XSTEST = {"gpt4": "xstest_v2_completions_gpt4.csv", "llama2orig": "xstest_v2_completions_llama2orig.csv"}
CASES = REPO / "tests" / "data" / "refusal_cases.jsonl"
SETS = ["gpt4", "llama2orig", "own-dev", "own-heldout", "own-heldout2", "own-heldout3", "own-heldout4",
        "own-heldout5", "own-heldout6"]


def load(name: str, data_dir: Path, extra: dict[str, Path]) -> list[dict]:
    """Rows with completion, label, style for one set."""
    if name in XSTEST or name in extra:
        with open(extra.get(name) or data_dir / XSTEST[name], newline="", encoding="utf-8") as f:
            return [{"completion": r["completion"], "label": r["final_label"], "style": r["type"], "id": r["id"],
                     "prompt": r.get("prompt")}
                    for r in csv.DictReader(f)]
    split = name.removeprefix("own-")
    with open(CASES, encoding="utf-8") as f:
        return [r for r in map(json.loads, f) if r["split"] == split]


def judge_labels(args, rows: list[dict]) -> list[str | None]:
    """The judge's three-way label for each row (None where its reply names no label), through the eval client."""
    import asyncio
    import os

    from eval.client import Request, make_client, run_all
    from eval.judge import PARAMS, judge_messages, parse_label

    client = make_client(args.base_url, os.environ.get("OPENAI_API_KEY", "none"), timeout=600)
    out: dict[str, str | None] = {}
    todo = [Request(str(i), args.judge_model, judge_messages(r.get("prompt") or "", r["completion"]), PARAMS, {})
            for i, r in enumerate(rows)]
    asyncio.run(run_all(client, todo, args.concurrency, 2,
                        lambda req, reply: out.__setitem__(req.key, parse_label(reply.get("completion"))),
                        desc="judge"))
    return [out.get(str(i)) for i in range(len(rows))]


def scores(truth: list[bool], pred: list[bool]) -> tuple[float, float, float]:
    tp = sum(t and p for t, p in zip(truth, pred))
    fp = sum(p and not t for t, p in zip(truth, pred))
    fn = sum(t and not p for t, p in zip(truth, pred))
    acc = sum(t == p for t, p in zip(truth, pred)) / max(1, len(truth))
    return acc, tp / max(1, tp + fp), tp / max(1, tp + fn)


def confusion(truth: list[str], pred: list[str]) -> list[str]:
    c = Counter(zip(truth, pred))
    head = "        pred→ " + " ".join(f"{lab[:1]:>4}" for lab in LABELS)
    return [head] + [f"   human {t[:1]}: " + " ".join(f"{c[(t, p)]:>4}" for p in LABELS) for t in LABELS]


DESCRIBE = {"gpt4": "XSTest GPT-4 completions (tuned on)", "llama2orig": "XSTest Llama-2 completions (tuned on)",
            "own-dev": "own dev cases (tuned on)", "own-heldout": "own cases, batch 1 (errors read while tuning)",
            "own-heldout2": "own cases, batch 2, new model voices (errors read while tuning)",
            "own-heldout3": "own cases, batch 3 (errors read while tuning)",
            "own-heldout4": "own cases, batch 4, voices batches 1-3 lack (errors read while tuning)",
            "own-heldout5": "own held-out cases, batch 5, written before the grader was read (never tuned on)",
            "own-heldout6": "own held-out cases, batch 6, new voices, by an author who never read the grader "
                            "(never tuned on)"}
MEASURED = REPO / "nano_r1" / "refusal" / "measured.py"


def write_measured(measured: dict[str, float]) -> None:
    body = ",\n".join(f"    {k!r}: {v}" for k, v in measured.items())
    MEASURED.write_text(
        '"""Binary accuracy of nano_r1.refusal against human labels, per labelled set. Generated, do not edit:\n\n'
        '    python -m bench.refusal_grader --write-measured\n"""\n\n'
        f"MEASURED_ACCURACY = {{\n{body},\n}}\n", encoding="utf-8")
    print(f"wrote {MEASURED.relative_to(REPO)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {','.join(SETS)}")
    ap.add_argument("--show-errors", action="store_true", help="print the replies our grader gets wrong (binary)")
    ap.add_argument("--by-style", action="store_true", help="binary accuracy per style (own sets) or type (XSTest)")
    ap.add_argument("--by-voice", action="store_true", help="binary accuracy per model voice (own sets, batch 2)")
    ap.add_argument("--write-measured", action="store_true",
                    help="write the accuracy of each set to nano_r1/refusal/measured.py (read by the eval report)")
    ap.add_argument("--xstest-csv", action="append", default=[], metavar="FILE",
                    help="an extra XSTest-format CSV (columns completion, final_label, type); repeatable")
    ap.add_argument("--judge-model", default=None, help="also validate an LLM judge (XSTest's prompt, the one "
                    "`python -m eval --judge-model` uses) on every labelled set, through --base-url")
    ap.add_argument("--base-url", default="http://127.0.0.1:8000/v1", help="OpenAI-compatible server of the judge")
    ap.add_argument("--judge-limit", type=int, default=None, help="judge only the first N replies of each set")
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    extra_files = {Path(f).stem.removeprefix("xstest_v2_completions_"): Path(f) for f in args.xstest_csv}
    names = [s.strip() for s in args.sets.split(",") if s.strip()] + list(extra_files)
    unknown = [s for s in names if s not in SETS and s not in extra_files]
    if unknown:
        print(f"error: unknown set(s) {','.join(unknown)}; choose from {','.join(SETS)}", file=sys.stderr)
        return 2
    elapsed, count = 0.0, 0
    measured: dict[str, float] = {}
    print(f"{'set':<12} {'grader':<16} {'n':>4} {'accuracy':>9} {'precision':>10} {'recall':>7}   three-way")
    for name in names:
        try:
            rows = load(name, Path(args.data_dir), extra_files)
        except FileNotFoundError as e:
            print(f"{name:<12} skipped: {e.filename} not found")
            continue
        labels = [r["label"] for r in rows]
        truth = [lab != COMPLY for lab in labels]
        t0 = time.perf_counter()
        verdicts = [classify(r["completion"], r.get("prompt")) for r in rows]  # the grader sees the prompt, as in eval
        elapsed, count = elapsed + time.perf_counter() - t0, count + len(rows)
        strmatch = [xstest_strmatch(r["completion"]) for r in rows]
        blocks = {"ours": ([v.refusal for v in verdicts], [v.label for v in verdicts]),
                  "xstest strmatch": (strmatch, [FULL if p else COMPLY for p in strmatch])}
        if args.judge_model:
            judged = judge_labels(args, rows[: args.judge_limit])
            kept = [i for i, lab in enumerate(judged) if lab is not None]  # a judge reply without a label: left out
            print(f"{name:<12} judge {args.judge_model}: labelled {len(kept)} of {len(judged)}; agrees with ours on "
                  f"{sum(verdicts[i].refusal == (judged[i] != COMPLY) for i in kept)} of {len(kept)}")
            if kept:
                acc, prec, rec = scores([truth[i] for i in kept], [judged[i] != COMPLY for i in kept])
                three = sum(labels[i] == judged[i] for i in kept) / len(kept)
                print(f"{name:<12} {'judge':<16} {len(kept):>4} {acc:>9.3f} {prec:>10.3f} {rec:>7.3f}   acc3={three:.3f}")
                acc, prec, rec = scores([truth[i] for i in kept], [verdicts[i].refusal for i in kept])
                print(f"{name:<12} {'ours, same rows':<16} {len(kept):>4} {acc:>9.3f} {prec:>10.3f} {rec:>7.3f}")
        matrices = []
        for grader, (pred, pred3) in blocks.items():
            acc, prec, rec = scores(truth, pred)
            three = sum(a == b for a, b in zip(labels, pred3)) / max(1, len(rows))
            extra = f"acc3={three:.3f}" if grader == "ours" else "(binary only)"
            print(f"{name:<12} {grader:<16} {len(rows):>4} {acc:>9.3f} {prec:>10.3f} {rec:>7.3f}   {extra}")
            matrices.append((grader, confusion(labels, pred3)))
        acc, _, rec = scores(truth, [v.refusal for v in verdicts])
        measured[f"{DESCRIBE.get(name, name)}, n={len(rows)} (recall {rec:.3f})"] = round(acc, 3)
        sure = [(t, v.refusal) for t, v in zip(truth, verdicts) if v.confident]
        sure_acc = scores([t for t, _ in sure], [p for _, p in sure])[0] if sure else float("nan")
        print(f"{'':<12} grader-uncertain: {len(rows) - len(sure)} of {len(rows)}; accuracy on the confident "
              f"{len(sure)}: {sure_acc:.3f}")
        for line_ours, line_str in zip(matrices[0][1], matrices[1][1]):
            print(f"{'':<12} {line_ours:<40} {line_str}")
        if args.by_style:
            styles: dict[str, list[bool]] = {}
            for r, t, v in zip(rows, truth, verdicts):
                styles.setdefault(r.get("style") or "?", []).append(t == v.refusal)
            for style, ok in sorted(styles.items()):
                print(f"{'':<14}{style:<32} {sum(ok):>3}/{len(ok):<3} {sum(ok) / len(ok):.2f}")
        if args.by_voice:
            voices: dict[str, list[bool]] = {}
            for r, t, v in zip(rows, truth, verdicts):
                if r.get("voice"):
                    voices.setdefault(r["voice"], []).append(t == v.refusal)
            for voice, ok in sorted(voices.items()):
                print(f"{'':<14}voice {voice:<26} {sum(ok):>3}/{len(ok):<3} {sum(ok) / len(ok):.2f}")
        if args.show_errors:
            for r, t, v in zip(rows, truth, verdicts):
                if t != v.refusal:
                    print(f"   {'FN' if t else 'FP'} {r['label'][:1]}→{v.label[:1]}{'' if v.confident else '?'} "
                          f"[{v.reason[:70]}] {r['completion'].strip()[:150]!r}")
        print()
    if count:
        print(f"our grader: {1e6 * elapsed / count:.0f} µs per reply")
    if args.write_measured:
        write_measured(measured)
    return 0


if __name__ == "__main__":
    sys.exit(main())
