"""Training prompts: GSM8K (hub or local JSONL) or a seeded synthetic GSM8K-style generator.

  --dataset gsm8k                 openai/gsm8k (main, train) through `datasets`; with --data-dir DIR,
                                  DIR/gsm8k_train.jsonl instead (no hub)
  --dataset path/to/file.jsonl    GSM8K format: `question`, `answer` ending in '#### N'
  --dataset synthetic             multi-step arithmetic word problems with exact answers, no download

Every example becomes {"prompt": [system, user messages], "answer": "N"} — the `answer` column reaches
the correctness reward through TRL's reward kwargs.
"""

from __future__ import annotations

import random
from pathlib import Path

from eval.grading import gsm8k_reference
from train.cliargs import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


def system_prompt() -> str:
    return (PROMPTS_DIR / "system.txt").read_text().strip()


# The seed's optional 1-shot example, in the exact answer format.
ONE_SHOT = [{"role": "user", "content": "What is the largest single-digit prime number?"},
            {"role": "assistant", "content": "<reasoning>\n9 is divisible by 3 and 8 is divisible by 2, "
             "but 7 is prime.\n</reasoning>\n<answer>\n7\n</answer>"}]


def to_chat(question: str, system: str | None, one_shot: bool = False) -> list[dict]:
    msgs = [{"role": "system", "content": system}] if system else []
    return msgs + (ONE_SHOT if one_shot else []) + [{"role": "user", "content": question.strip()}]


def read_gsm8k_jsonl(path: Path) -> list[dict]:
    """Rows of {question, answer(reference number as text)}; one clear error for anything malformed."""
    from eval.suites.sources import read_jsonl  # the JSONL reader evaluation uses too

    rows = []
    for i, rec in enumerate(read_jsonl(path, ("question", "answer")), 1):
        try:
            rows.append({"question": rec["question"], "answer": gsm8k_reference(rec["answer"])})
        except ValueError:
            raise ConfigError(f"{path}: record {i}: the answer has no '#### N' line (not GSM8K format)") from None
    return rows


def load_gsm8k_hub(split: str) -> list[dict]:
    try:
        from datasets import load_dataset

        ds = load_dataset("openai/gsm8k", "main", split=split)
    except Exception as e:
        raise ConfigError(f"could not load openai/gsm8k from the hub ({type(e).__name__}); "
                          "use --data-dir with gsm8k_train.jsonl, a .jsonl path, or --dataset synthetic") from None
    return [{"question": r["question"], "answer": gsm8k_reference(r["answer"])} for r in ds]


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


def synthetic(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [synthetic_problem(rng) for _ in range(n)]


def load_rows(dataset: str, data_dir: str | None = None, split: str = "train", seed: int = 0,
              synthetic_size: int = 5000) -> list[dict]:
    """Rows of {question, answer} for `--dataset`, before prompting."""
    if dataset == "synthetic":
        return synthetic(synthetic_size, seed)
    if dataset == "gsm8k":
        if data_dir:
            return read_gsm8k_jsonl(Path(data_dir).expanduser() / f"gsm8k_{split}.jsonl")
        return load_gsm8k_hub(split)
    if dataset.endswith((".jsonl", ".json")) or Path(dataset).exists():
        return read_gsm8k_jsonl(Path(dataset).expanduser())
    raise ConfigError(f"--dataset {dataset}: unknown; use gsm8k, synthetic or a GSM8K-format .jsonl file")


def build_dataset(rows: list[dict], system: str | None, one_shot: bool = False):
    """A `datasets.Dataset` with conversational `prompt` and the reference `answer`."""
    from datasets import Dataset

    return Dataset.from_list([{"prompt": to_chat(r["question"], system, one_shot), "answer": r["answer"]}
                              for r in rows])
