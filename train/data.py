"""Training prompts: GSM8K (hub or local JSONL) or a seeded synthetic GSM8K-style generator.

  --dataset gsm8k                 openai/gsm8k (main, train) through `datasets`; with --data-dir DIR,
                                  DIR/gsm8k_train.jsonl instead (no hub)
  --dataset path/to/file.jsonl    GSM8K format: `question`, `answer` ending in '#### N'
  --dataset synthetic             multi-step arithmetic word problems with exact answers, no download

Every example becomes {"prompt": [system, (one-shot,) user messages], "answer": "N"}, built by the GSM8K task
(nano_r1/tasks/math.py) exactly as `python -m eval` builds it; the `answer` column reaches the correctness
reward through TRL's reward kwargs.
"""

from __future__ import annotations

import random
from pathlib import Path

from nano_r1.cliargs import ConfigError
from nano_r1.tasks import Item
from nano_r1.tasks.math import GSM8K

TASK = GSM8K()  # every training dataset is GSM8K-style: the same messages and grader as `eval --suite gsm8k`


# --- synthetic GSM8K-style problems -----------------------------------------------------------------

_NAMES = ["Ava", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kira", "Liam"]
_ITEMS = [("apples", "basket"), ("stickers", "pack"), ("pencils", "box"), ("cookies", "tray"),
          ("marbles", "bag"), ("books", "shelf"), ("eggs", "carton"), ("cards", "deck")]


def synthetic_problem(rng: random.Random) -> dict:
    """One multi-step word problem with an exact integer answer (2–4 operations)."""
    name, other = rng.sample(_NAMES, 2)
    item, unit = rng.choice(_ITEMS)
    kind = rng.randrange(4)
    if kind == 0:
        n, per, gave, bought = rng.randint(2, 9), rng.randint(3, 12), rng.randint(1, 10), rng.randint(1, 20)
        q = (f"{name} buys {n} {unit}s of {item} with {per} {item} in each {unit}. {name} gives {gave} {item} "
             f"to {other} and then finds {bought} more. How many {item} does {name} have now?")
        a = n * per - gave + bought
    elif kind == 1:
        price, n, paid = rng.randint(2, 15), rng.randint(2, 8), 0
        paid = (price * n // 10 + 1) * 10 + rng.choice([0, 10, 20])
        q = (f"Each {unit} of {item} costs ${price}. {name} buys {n} {unit}s and pays with ${paid}. "
             f"How many dollars of change does {name} get?")
        a = paid - price * n
    elif kind == 2:
        per_day, days, share = rng.randint(2, 12), rng.randint(3, 14), rng.choice([2, 3, 4])
        total = per_day * days * share
        q = (f"{name} collects {per_day * share} {item} every day for {days} days and splits them equally "
             f"with {share - 1} friend{'s' if share > 2 else ''}. How many {item} does each person get?")
        a = total // share
    else:
        a0, mult, minus = rng.randint(3, 20), rng.randint(2, 5), rng.randint(1, 9)
        q = (f"{other} has {a0} {item}. {name} has {mult} times as many {item} as {other}, minus {minus}. "
             f"How many {item} do they have together?")
        a = a0 + a0 * mult - minus
    return {"question": q, "answer": str(a)}


def synthetic(n: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    return [Item(f"synthetic-{seed}-{i:05d}", p["question"], p["answer"])
            for i, p in enumerate(synthetic_problem(rng) for _ in range(n))]


def load_items(dataset: str, data_dir: str | None = None, split: str = "train", seed: int = 0,
               synthetic_size: int = 5000) -> list[Item]:
    """The items of `--dataset` (question + reference number), before prompting."""
    if dataset == "synthetic":
        # a held-out split is another seed's problems (used by evaluation during training)
        return synthetic(synthetic_size, seed if split == "train" else seed + 1_000_003)
    if dataset == "gsm8k":
        return TASK.items(data_dir, split)
    if dataset.endswith((".jsonl", ".json")) or Path(dataset).exists():
        return TASK.from_file(Path(dataset).expanduser())
    raise ConfigError(f"--dataset {dataset}: unknown; use gsm8k, synthetic or a GSM8K-format .jsonl file")


def build_dataset(items: list[Item], system: str | None, one_shot: bool = False):
    """A `datasets.Dataset` with conversational `prompt` (built by the task, as eval builds it) and `answer`."""
    from datasets import Dataset

    return Dataset.from_list([{"prompt": TASK.messages(it, system, one_shot), "answer": it.reference}
                              for it in items])
