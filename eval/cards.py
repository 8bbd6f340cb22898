"""Side-by-side answer cards: the prompt, the baseline's reply and the trained model's reply, with verdicts,
as one PNG per item (like the seed README's screenshots). Items where the verdicts differ come first, then
replies that differ only in text, identical replies last (pick_items); self-checking passages are marked »like this«."""

from __future__ import annotations

import textwrap
from pathlib import Path

from eval.outputs import save_figure
from nano_r1 import selfcheck
from nano_r1.plot import pyplot

MAX_LINES = 34
PROMPT_LINES = 6


def wrap(text: str, width: int, max_lines: int) -> str:
    lines = []
    for para in (text or "").replace("\t", "    ").splitlines() or [""]:
        lines.extend(textwrap.wrap(para, width, replace_whitespace=False, drop_whitespace=True) or [""])
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [f"[… {len(lines) - max_lines + 1} more lines]"]
    return "\n".join(lines)


def mark_self_checks(text: str) -> str:
    """»Wait,« — the self-checking passages (nano_r1/selfcheck.py) marked where they stand in the reply."""
    out, last = [], 0
    for start, end in selfcheck.spans(text):
        if start >= last:
            out += [text[last:start], "»", text[start:end].strip(), "«"]
            last = end
    return "".join(out) + text[last:]


def verdict_text(scores: dict, primary: str) -> str:
    check = "   self-check »«" if scores.get("self_check") else ""
    if primary == "refusal":
        return ("REFUSED" if scores.get("refusal") else "answered") + check
    strict = "✓" if scores.get("correct") else "✗"
    flexible = "✓" if scores.get("correct_flexible") else "✗"
    return f"strict {strict}   flexible {flexible}   <answer> {'found' if scores.get('parsed') else 'missing'}" + check


VERDICTS = ["refusal", "correct", "correct_flexible", "parsed", "self_check"]  # what verdict_text shows


def pick_items(pairs: list[tuple[dict, dict]], primary: str, k: int) -> list[tuple[dict, dict]]:
    """The items where the two models differ most lead: the primary verdict differs, then any verdict on the card
    (a reply that gained its <answer> block while both stay wrong), then only the text; identical replies
    last. Suite order within each group."""
    def rank(pair):
        a, b = (p["scores"] for p in pair)
        if bool(a.get(primary)) != bool(b.get(primary)):
            return 0
        if any(bool(a.get(v)) != bool(b.get(v)) for v in VERDICTS):
            return 1
        return 2 if (pair[0].get("completion") or "").strip() != (pair[1].get("completion") or "").strip() else 3
    return sorted(pairs, key=rank)[:k]  # sorted() is stable: suite order is kept within a rank


def draw_card(base: dict, trained: dict, labels: tuple[str, str], primary: str, out: Path) -> Path:
    plt = pyplot()
    prompt = wrap(base["prompt"], 150, PROMPT_LINES)
    replies = [wrap(mark_self_checks(r["completion"]), 78, MAX_LINES) for r in (base, trained)]
    n_lines = max(r.count("\n") + 1 for r in replies)
    line = 0.15  # inches per line of 8.5 pt monospace
    height = 1.4 + 0.2 * (prompt.count("\n") + 1) + line * n_lines + 0.8
    fig = plt.figure(figsize=(14, max(3.5, height)), dpi=100)
    height = fig.get_figheight()
    y = lambda inches: 1 - inches / height  # place by inches from the top, whatever the card's height
    head = f"{base['suite']} · {base['item']}" + (f" · reference: {base['reference']}" if base.get("reference") else "")
    # parse_math=False: replies are full of $ signs that must not become mathtext
    fig.text(0.02, y(0.25), head, fontsize=10, color="dimgray", va="top", parse_math=False)
    fig.text(0.02, y(0.55), prompt, fontsize=11, weight="bold", va="top", parse_math=False)
    top = 0.75 + 0.2 * (prompt.count("\n") + 1)
    for col, (rec, label, reply) in enumerate(zip((base, trained), labels, replies)):
        x = 0.02 + col * 0.5
        ok = rec["scores"].get(primary)
        good = (not ok) if primary == "refusal" else ok
        fig.text(x, y(top), label, fontsize=12, weight="bold", va="top", parse_math=False)
        fig.text(x, y(top + 0.35), reply, fontsize=8.5, family="monospace", va="top", parse_math=False,
                 bbox=dict(boxstyle="round", fc="#f7f7f7", ec="#cccccc"))
        fig.text(x, y(height - 0.35), f"{verdict_text(rec['scores'], primary)}   ·   "
                 f"{rec.get('completion_tokens')} tokens", fontsize=11, weight="bold",
                 color="tab:green" if good else "tab:red", va="center", parse_math=False)
    return save_figure(fig, out)


def draw_cards(scored: list[dict], suite: str, primary: str, models: tuple[str, str], labels: tuple[str, str],
               k: int, folder: Path) -> list[Path]:
    by_item: dict[str, dict[str, dict]] = {}
    for r in scored:
        if r["suite"] == suite and r["sample"] == 0 and r["model"] in models:
            by_item.setdefault(r["item"], {})[r["model"]] = r
    pairs = [(v[models[0]], v[models[1]]) for v in by_item.values() if len(v) == 2]
    folder.mkdir(parents=True, exist_ok=True)
    return [draw_card(a, b, labels, primary, folder / f"{suite}-{i + 1}.png")
            for i, (a, b) in enumerate(pick_items(pairs, primary, k))]
