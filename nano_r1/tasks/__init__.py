"""One definition per benchmark (a Task): its items, how an item becomes chat messages, how a reply is graded,
and a version. The same object feeds the training rewards, evaluation during training and `python -m eval`
(where a task is called a suite), so prompt and grader cannot drift apart between training and evaluation.

    python -m eval --suite gsm8k,xstest --limit 20 ...      # tasks by name
    python -m eval --suite synthetic --limit 60 ...         # held-out problems like the tiny preset's (no data)
    python -m eval --suite my_probes.jsonl ...              # or a JSONL file (see nano_r1/tasks/custom.py)

Scoring is a pure function of (reply, reference, meta), so the report can re-score stored replies after a
grader fix without asking the model again.
"""

from __future__ import annotations

from pathlib import Path

from nano_r1.cliargs import ConfigError
from nano_r1.tasks.base import Item, Metric, Prompting, Task, file_version, interleave
from nano_r1.tasks.custom import FileSuite
from nano_r1.tasks.math import GSM8K, MATH500
from nano_r1.tasks.reasoning import Reasoning
from nano_r1.tasks.safety import Uncensored, XSTest
from nano_r1.tasks.synthetic import Synthetic

__all__ = ["Item", "Metric", "Prompting", "Task", "file_version", "interleave", "registry", "get_task"]


def registry() -> dict[str, type[Task]]:
    return {s.name: s for s in (GSM8K, MATH500, Uncensored, XSTest, Reasoning, Synthetic)}


def get_task(name: str) -> Task:
    """A task by name, or a custom task from a .jsonl path; unknown names are one clear error."""
    if name.endswith(".jsonl") or Path(name).is_file():
        return FileSuite(Path(name))
    suites = registry()
    if name not in suites:
        raise ConfigError(f"unknown suite {name!r}; choose from {', '.join(sorted(suites))} or give a .jsonl file")
    return suites[name]()
