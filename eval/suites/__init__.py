"""Suite registry. A suite = its examples + how to build messages + how to score a reply + a version.

    python -m eval --suite gsm8k,xstest --limit 20 ...      # suites by name
    python -m eval --suite my_probes.jsonl ...              # or a JSONL file (see eval/suites/custom.py)

Scoring is a pure function of (reply, reference, meta), so the report can re-score stored replies after a
grader fix without asking the model again.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from train.cliargs import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


@dataclass(frozen=True)
class Item:
    id: str
    prompt: str
    reference: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    name: str                      # column value in summary.csv, e.g. "refusal_rate_safe"
    key: str                       # boolean score key it averages, e.g. "refusal"
    higher_is_better: bool
    where: tuple = ()              # subset of items: (("label", "safe"),)

    def applies(self, meta: dict) -> bool:
        return all(meta.get(k) == v for k, v in self.where)


class Suite:
    name: str = ""
    version: str = "1"
    description: str = ""
    metrics: list[Metric] = []

    def items(self, data_dir: str | None) -> list[Item]:
        raise NotImplementedError

    def load(self, data_dir: str | None) -> list[Item]:
        """items(), read once per run."""
        if getattr(self, "_items", None) is None:
            self._items = self.items(data_dir)
        return self._items

    def uses_refusal(self) -> bool:
        return any(m.key == "refusal" for m in self.metrics)

    def messages(self, item: Item, system: str | None) -> list[dict]:
        """The same chat for every model, with or without the shared system prompt."""
        msgs = [{"role": "system", "content": system}] if system else []
        return msgs + [{"role": "user", "content": item.prompt}]

    def score(self, completion: str, reference: str | None, meta: dict) -> dict:
        raise NotImplementedError


def system_prompt(kind: str) -> str | None:
    """'default' → prompts/system.txt (the training prompt); 'none' → no system message."""
    return None if kind == "none" else (PROMPTS_DIR / "system.txt").read_text().strip()


def interleave(groups: dict[str, list[Item]]) -> list[Item]:
    """Round-robin over groups, so `--limit N` still samples every source / type."""
    out = []
    for row in itertools.zip_longest(*groups.values()):
        out.extend(x for x in row if x is not None)
    return out


def file_version(base: str, *paths: Path) -> str:
    """Suite version that changes when its prompt files change (so stale replies are not reused)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return f"{base}+{h.hexdigest()[:8]}"


def registry() -> dict[str, type[Suite]]:
    from eval.suites.math import GSM8K, MATH500
    from eval.suites.reasoning import Reasoning
    from eval.suites.safety import Uncensored, XSTest

    return {s.name: s for s in (GSM8K, MATH500, Uncensored, XSTest, Reasoning)}


def get_suite(name: str) -> Suite:
    """A suite by name, or a custom suite from a .jsonl path; unknown names are one clear error."""
    if name.endswith(".jsonl") or Path(name).is_file():
        from eval.suites.custom import FileSuite

        return FileSuite(Path(name))
    suites = registry()
    if name not in suites:
        raise ConfigError(f"unknown suite {name!r}; choose from {', '.join(sorted(suites))} or give a .jsonl file")
    return suites[name]()
