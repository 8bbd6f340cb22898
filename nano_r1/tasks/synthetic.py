"""`synthetic`: multi-step arithmetic word problems with exact integer answers, generated from a seed (no
download). The training set of `python -m train --dataset synthetic` (the `tiny` preset) and, as a suite, the
held-out problems that show what that training changed:

    python -m eval --run runs/tiny --suite synthetic --limit 60      # seed HELD_OUT_SEED, never a training seed

Messages and grading are GSM8K's (a GSM8K subclass): strict = the number in the last <answer> block,
flexible = the last number, answer_parsed = an <answer> block at all.
"""

from __future__ import annotations

import random

from nano_r1.tasks.base import Item
from nano_r1.tasks.math import GSM8K

# Training draws seed `--seed` (42 by default); evaluation during training and the suite both use HELD_OUT_SEED
# (the in-training slice is the suite's first `--eval-limit` problems), so their problems are the same whatever
# the run's seed (the small template space can still repeat a problem now and then: the suite measures format
# and arithmetic, not memory of items).
HELD_OUT_SEED = 2_000_003
SUITE_SIZE = 1000

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


class Synthetic(GSM8K):
    name = "synthetic"
    version = "1"
    description = "held-out synthetic GSM8K-style problems (the tiny preset's training distribution)"

    def __init__(self, seed: int = 42, size: int = 5000):
        self.seed, self.size = seed, size  # the training split's; the held-out one is always HELD_OUT_SEED's

    def train_items(self, data_dir=None):
        return synthetic(self.size, self.seed)

    def held_out_items(self, data_dir, n):
        return synthetic(n, HELD_OUT_SEED)

    def items(self, data_dir=None):
        items = synthetic(SUITE_SIZE, HELD_OUT_SEED)
        self.sources = {"synthetic": {"from": f"generated (seed {HELD_OUT_SEED})", "items": len(items)}}
        return items
