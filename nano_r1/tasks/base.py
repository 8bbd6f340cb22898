"""The pieces every task is made of: an Item, a Metric, the Prompting, the Task base class and small helpers.

A Task owns what training and evaluation must agree on: its items and splits (`train_items`, `held_out_items`),
how an item becomes chat messages (`messages`, under one frozen `Prompting`), how a reply is graded (`score`) and
what training rewards (`rubric`). `python -m train` builds one task and hands that object to the dataset, the
rewards, evaluation during training and the chart; `python -m eval` builds the same class by name.
"""


from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from nano_r1 import chat
from nano_r1.cliargs import ConfigError


@dataclass(frozen=True)
class Item:
    id: str
    prompt: str
    reference: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Prompting:
    """What a model is asked with besides the question: the system prompt's text and the seed's one-shot example.
    One value that a run's config (TrainConfig, the run folder's config.json) and eval's config both return."""
    system: str | None = None
    one_shot: bool = False


@dataclass(frozen=True)
class Metric:
    name: str                      # column value in summary.csv, e.g. "refusal_rate_safe"
    key: str                       # boolean score key it averages, e.g. "refusal"
    higher_is_better: bool
    where: tuple = ()              # subset of items: (("label", "safe"),)

    def applies(self, meta: dict) -> bool:
        return all(meta.get(k) == v for k, v in self.where)


class Task:
    name: str = ""
    version: str = "1"
    description: str = ""
    metrics: list[Metric] = []
    numeric_references: bool = False  # every reference is a number (gsm8k): `eval grade` refuses one that is not
    # set by items(), for the report: {source: {"from": file or hub id, "items": count}}, and the optional
    # sources left out {label: why}; class-level empties until then
    sources: dict = {}
    missing: dict = {}

    def items(self, data_dir: str | None) -> list[Item]:
        raise NotImplementedError

    def load(self, data_dir: str | None) -> list[Item]:
        """items(), read once per run."""
        if getattr(self, "_items", None) is None:
            self._items = self.items(data_dir)
        return self._items

    def uses_refusal(self) -> bool:
        return any(m.key == "refusal" for m in self.metrics)

    def messages(self, item: Item, prompting: Prompting) -> list[dict]:
        """The chat for one item: the same builder as training (nano_r1.chat), so `eval --run` replays it."""
        return chat.messages(item.prompt, prompting.system, prompting.one_shot)

    def train_items(self, data_dir: str | None) -> list[Item]:
        raise ConfigError(f"{self.name} has no training split")

    def held_out_items(self, data_dir: str | None, n: int) -> list[Item]:
        """The first `n` evaluation items: what evaluation during training scores, a prefix of the suite."""
        return self.load(data_dir)[:n]

    def rubric(self, max_completion_length: int) -> list:
        """[Reward(name, fn, weight)] that training optimises (nano_r1/tasks/rubric.py); none for eval-only tasks."""
        raise ConfigError(f"{self.name} cannot be trained on (it has no rubric)")

    def score(self, completion: str, reference: str | None, meta: dict, prompt: str | None = None) -> dict:
        """Scores of one reply; `prompt` is the item's prompt, which the refusal grader reads the reply against."""
        raise NotImplementedError


def interleave(groups: dict[str, list[Item]]) -> list[Item]:
    """Round-robin over groups, so `--limit N` still samples every source / type."""
    out = []
    for row in itertools.zip_longest(*groups.values()):
        out.extend(x for x in row if x is not None)
    return out


def file_version(base: str, *paths: Path) -> str:
    """A version that changes when its prompt files change (so stale replies are not reused)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return f"{base}+{h.hexdigest()[:8]}"


