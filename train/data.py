"""The training task and its prompts: GSM8K (hub or local JSONL), a GSM8K-format file, or seeded synthetic problems.

  --dataset gsm8k                 openai/gsm8k (main, train) through `datasets`; with --data-dir DIR,
                                  DIR/gsm8k_train.jsonl instead (no hub); held out: GSM8K test
  --dataset path/to/file.jsonl    GSM8K format: `question`, `answer` ending in '#### N'; held out: GSM8K test
  --dataset synthetic             multi-step arithmetic word problems with exact answers, no download; held out:
                                  the `synthetic` suite's problems

The task object (nano_r1/tasks) is built once per run and owns the items, the messages, the grader and the
rubric; every example becomes {"prompt": [system, (one-shot,) user messages], "answer": "N"} exactly as
`python -m eval` builds it, and the `answer` column reaches the rewards through TRL's reward kwargs.
"""

from __future__ import annotations

from pathlib import Path

from nano_r1.cliargs import ConfigError
from nano_r1.tasks import Item, Prompting, Task
from nano_r1.tasks.math import GSM8K, GSM8KFile
from nano_r1.tasks.synthetic import Synthetic


def training_task(dataset: str, seed: int = 42, synthetic_size: int = 5000) -> Task:
    """The task behind `--dataset`: one object for data, rewards, evaluation during training and charts."""
    if dataset == "synthetic":
        return Synthetic(seed, synthetic_size)
    if dataset == "gsm8k":
        return GSM8K()
    if dataset.endswith((".jsonl", ".json")) or Path(dataset).exists():
        return GSM8KFile(Path(dataset).expanduser())
    raise ConfigError(f"--dataset {dataset}: unknown; use gsm8k, synthetic or a GSM8K-format .jsonl file")


def build_dataset(task: Task, items: list[Item], prompting: Prompting):
    """A `datasets.Dataset` with conversational `prompt` (built by the task, as eval builds it) and `answer`."""
    from datasets import Dataset

    return Dataset.from_list([{"prompt": task.messages(it, prompting), "answer": it.reference} for it in items])
