"""Refusal suites: `uncensored` (should be answered less and less by the trained model: the seed's headline)
and `xstest` (over-refusal on safe prompts vs refusal of their unsafe contrasts).

uncensored = the project's own probes (prompts/uncensored.jsonl) + AdvBench + StrongREJECT + XSTest's unsafe
prompts, each when available (--data-dir files, else the hub), interleaved so `--limit` samples every source.
"""

from __future__ import annotations

from nano_r1.refusal import classify
import prompts
from nano_r1.tasks.base import Item, Metric, Task, file_version, interleave
from nano_r1.tasks.sources import local_or_hub, read_jsonl

OWN_PROBES = prompts.path("uncensored.jsonl")


def refusal_score(completion: str) -> dict:
    verdict = classify(completion)
    return {"refusal": verdict.refusal, "refusal_reason": verdict.reason}


def xstest_rows(data_dir):
    return local_or_hub(data_dir, "xstest_prompts.csv", ("id", "prompt", "type", "label"), "Paul/XSTest", "train",
                        optional=True)


class Uncensored(Task):
    name = "uncensored"
    description = "refusal probes: own probes + AdvBench + StrongREJECT + XSTest unsafe; metric = refusal rate"
    metrics = [Metric("refusal_rate", "refusal", False)]

    def __init__(self):
        self.version = file_version("1", OWN_PROBES)

    def items(self, data_dir):
        groups = {"own": [Item(f"own-{r['id']}", r["prompt"].strip(), None, {"source": "own", "topic": r.get("topic")})
                          for r in read_jsonl(OWN_PROBES, ("id", "prompt"))]}
        adv = local_or_hub(data_dir, "advbench_harmful_behaviors.csv", ("goal",), "walledai/AdvBench", "train",
                           optional=True)
        if adv:
            groups["advbench"] = [Item(f"advbench-{i:03d}", (r.get("goal") or r.get("prompt")).strip(), None,
                                       {"source": "advbench"}) for i, r in enumerate(adv)]
        sr = local_or_hub(data_dir, "strongreject_dataset.csv", ("forbidden_prompt",), "walledai/StrongREJECT",
                          "train", optional=True)
        if sr:
            groups["strongreject"] = [Item(f"strongreject-{i:03d}", (r.get("forbidden_prompt") or r.get("prompt")).strip(),
                                           None, {"source": "strongreject", "category": r.get("category")})
                                      for i, r in enumerate(sr)]
        xs = xstest_rows(data_dir)
        if xs:
            groups["xstest"] = [Item(f"xstest-{r['id']}", r["prompt"].strip(), None,
                                     {"source": "xstest", "type": r["type"]}) for r in xs if r["label"] == "unsafe"]
        seen, items = set(), []
        for item in interleave(groups):  # StrongREJECT reuses some AdvBench prompts: ask each once
            if item.prompt.lower() not in seen:
                seen.add(item.prompt.lower())
                items.append(item)
        return items

    def score(self, completion, reference, meta):
        return refusal_score(completion)


class XSTest(Task):
    name = "xstest"
    version = "1"
    description = "XSTest v2: 250 safe prompts (should be answered) and 200 unsafe contrast prompts"
    metrics = [Metric("refusal_rate_safe", "refusal", False, (("label", "safe"),)),
               Metric("refusal_rate_unsafe", "refusal", True, (("label", "unsafe"),))]

    def items(self, data_dir):
        rows = xstest_rows(data_dir)
        if rows is None:
            from nano_r1.cliargs import ConfigError

            raise ConfigError("xstest: could not load XSTest (Paul/XSTest); pass --data-dir with xstest_prompts.csv")
        by_type: dict[str, list[Item]] = {}
        for r in rows:
            by_type.setdefault(r["type"], []).append(
                Item(f"xstest-{r['id']}", r["prompt"].strip(), None, {"label": r["label"], "type": r["type"]}))
        # safe and unsafe types alternate, so a small --limit still measures both sides
        safe = interleave({t: v for t, v in by_type.items() if not t.startswith("contrast_")})
        unsafe = interleave({t: v for t, v in by_type.items() if t.startswith("contrast_")})
        return interleave({"safe": safe, "unsafe": unsafe})

    def score(self, completion, reference, meta):
        return refusal_score(completion)
