"""Refusal suites: `uncensored` (should be answered less and less by the trained model: the seed's headline)
and `xstest` (over-refusal on safe prompts vs refusal of their unsafe contrasts).

uncensored = the project's own probes (prompts/uncensored.jsonl) + AdvBench + StrongREJECT + XSTest's unsafe
prompts, each when available (--data-dir files, else the hub), interleaved so `--limit` samples every source.
A source that is not available is left out with a warning line naming the missing file (never silently: a
mistyped --data-dir would otherwise measure 24 prompts instead of ~1,000), and `sources` / `missing` say what
was used, for the report. Item ids and the suite version do not depend on which sources were found, so the
replies already stored for a source stay valid when another source comes or goes.
"""

from __future__ import annotations

import sys

from nano_r1.cliargs import ConfigError
from nano_r1.refusal import classify
import prompts
from nano_r1.tasks.base import Item, Metric, Task, file_version, interleave
from nano_r1.tasks.sources import optional_source, read_jsonl

OWN_PROBES = prompts.path("uncensored.jsonl")


def refusal_score(completion: str, prompt: str | None = None) -> dict:
    verdict = classify(completion, prompt)  # with the prompt: a redirect, a yes/no answer, a roleplay line
    return {"refusal": verdict.refusal, "refusal_reason": verdict.reason, "refusal_label": verdict.label,
            "refusal_confident": verdict.confident}


XSTEST = ("xstest_prompts.csv", ("id", "prompt", "type", "label"), "Paul/XSTest", "train")
# the optional sources of `uncensored`: (group, label, file in --data-dir, required columns, hub dataset, split)
OPTIONAL = [("advbench", "AdvBench", "advbench_harmful_behaviors.csv", ("goal",), "walledai/AdvBench", "train"),
            ("strongreject", "StrongREJECT", "strongreject_dataset.csv", ("forbidden_prompt",),
             "walledai/StrongREJECT", "train"),
            ("xstest", "XSTest unsafe", *XSTEST)]


class Uncensored(Task):
    name = "uncensored"
    description = "refusal probes: own probes + AdvBench + StrongREJECT + XSTest unsafe; metric = refusal rate"
    metrics = [Metric("refusal_rate", "refusal", False)]

    def __init__(self):
        self.version = file_version("1", OWN_PROBES)

    def items(self, data_dir):
        groups = {"own": [Item(f"own-{r['id']}", r["prompt"].strip(), None, {"source": "own", "topic": r.get("topic")})
                          for r in read_jsonl(OWN_PROBES, ("id", "prompt"))]}
        where = {"own": str(OWN_PROBES)}
        self.missing = {}
        for group, label, filename, required, dataset, split in OPTIONAL:
            rows, where[group] = optional_source(data_dir, filename, required, dataset, split)
            if rows is None:
                self.missing[label] = where.pop(group)
            elif group == "advbench":
                groups[group] = [Item(f"advbench-{i:03d}", (r.get("goal") or r.get("prompt") or "").strip(), None, {"source": "advbench"})
                                 for i, r in enumerate(rows)]
            elif group == "strongreject":
                groups[group] = [Item(f"strongreject-{i:03d}",
                                      (r.get("forbidden_prompt") or r.get("prompt") or "").strip(), None,
                                      {"source": "strongreject", "category": r.get("category")})
                                 for i, r in enumerate(rows)]
            else:
                groups[group] = [Item(f"xstest-{r['id']}", r["prompt"].strip(), None,
                                      {"source": "xstest", "type": r["type"]}) for r in rows if r["label"] == "unsafe"]
        seen, items = set(), []
        for item in interleave(groups):  # StrongREJECT reuses some AdvBench prompts: ask each once
            if item.prompt.lower() not in seen:
                seen.add(item.prompt.lower())
                items.append(item)
        counts = {g: sum(i.meta["source"] == g for i in items) for g in groups}
        self.sources = {g: {"from": where[g], "items": counts[g]} for g in groups}
        if self.missing:
            print(f"warning: {self.name}: left out " + "; ".join(f"{k} ({v})" for k, v in self.missing.items())
                  + f" — measuring {len(items)} prompts from {', '.join(groups)} only; "
                  + ("add the file(s) to --data-dir" if data_dir else "pass --data-dir with the files"),
                  file=sys.stderr, flush=True)
        return items

    def score(self, completion, reference, meta, prompt=None):
        return refusal_score(completion, prompt)


class XSTest(Task):
    name = "xstest"
    version = "1"
    description = "XSTest v2: 250 safe prompts (should be answered) and 200 unsafe contrast prompts"
    metrics = [Metric("refusal_rate_safe", "refusal", False, (("label", "safe"),)),
               Metric("refusal_rate_unsafe", "refusal", True, (("label", "unsafe"),))]

    def items(self, data_dir):
        rows, where = optional_source(data_dir, *XSTEST)
        if rows is None:
            raise ConfigError(f"xstest: could not load XSTest ({where}); pass --data-dir with xstest_prompts.csv")
        by_type: dict[str, list[Item]] = {}
        for r in rows:
            by_type.setdefault(r["type"], []).append(
                Item(f"xstest-{r['id']}", r["prompt"].strip(), None, {"label": r["label"], "type": r["type"]}))
        # safe and unsafe types alternate, so a small --limit still measures both sides
        safe = interleave({t: v for t, v in by_type.items() if not t.startswith("contrast_")})
        unsafe = interleave({t: v for t, v in by_type.items() if t.startswith("contrast_")})
        items = interleave({"safe": safe, "unsafe": unsafe})
        self.sources = {"xstest": {"from": where, "items": len(items)}}
        return items

    def score(self, completion, reference, meta, prompt=None):
        return refusal_score(completion, prompt)
