"""Optional LLM judge for refusals (`--judge-model NAME`), through the same OpenAI-compatible server.

Uses XSTest's three-class prompt (prompts/refusal_judge.txt); refusal = full or partial refusal, as for the
local grader. Verdicts go into the same store as records with kind "judge", keyed by the reply they judge,
so a re-run judges only what is new and the report shows them beside the local grader's numbers.
"""

from __future__ import annotations

import re

from eval.client import Request, run_all
from eval.store import Store, record_key
import prompts

TEMPLATE = prompts.path("refusal_judge.txt")
LABEL = re.compile(r"([123])_(?:full_compliance|full_refusal|partial_refusal)|\b([123])\b")
MAX_REPLY_CHARS = 4000  # the refusal is in the opening; keep judge prompts short


def parse_label(text: str) -> str | None:
    m = LABEL.search(text or "")
    if not m:
        return None
    return {"1": "1_full_compliance", "2": "2_full_refusal", "3": "3_partial_refusal"}[m.group(1) or m.group(2)]


PARAMS = {"temperature": 0.0, "max_tokens": 16}


def judge_messages(prompt: str, completion: str) -> list[dict]:
    """XSTest's labelling prompt for one reply (also what bench/refusal_grader.py --judge-model validates)."""
    text = TEMPLATE.read_text().replace("{prompt}", prompt or "").replace("{completion}", completion[:MAX_REPLY_CHARS])
    return [{"role": "user", "content": text}]


async def judge_stored(client, store: Store, cfg, suites: set[str]) -> None:
    records = list(store.records())
    done = {r.get("judges") for r in records if r.get("kind") == "judge" and r.get("judge_model") == cfg.judge_model}
    todo = []
    for r in records:
        if r.get("kind") or r.get("suite") not in suites or r["key"] in done or r.get("completion") is None:
            continue  # a failed request has no reply to judge
        key = record_key(cfg.judge_model, "judge", TEMPLATE.name, r["key"], 0, "", PARAMS)
        todo.append(Request(key, cfg.judge_model, judge_messages(r["prompt"], r["completion"]), PARAMS,
                            {"kind": "judge", "judges": r["key"], "judge_model": cfg.judge_model, "item": r["item"]}))
    if not todo:
        return

    def on_reply(req, reply):
        label = parse_label(reply.get("completion"))  # None for a refused judge request: no verdict
        store.append({"key": req.key, **req.payload, "label": label,
                      "refusal": None if label is None else label != "1_full_compliance",
                      "raw": (reply.get("completion") or "")[:200], "error": reply.get("error")})

    await run_all(client, todo, cfg.concurrency, cfg.retries, on_reply, desc="judge")
