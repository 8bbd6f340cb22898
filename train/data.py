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

from pathlib import Path

from nano_r1.cliargs import ConfigError
from nano_r1.tasks import Item
from nano_r1.tasks.math import GSM8K
from nano_r1.tasks.synthetic import synthetic

TASK = GSM8K()  # every training dataset is GSM8K-style: the same messages and grader as `eval --suite gsm8k`


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
