"""One task definition feeds training and evaluation: byte-identical messages for the same item and run config,
and one verdict for one reply from every grading entry point."""

from __future__ import annotations

import json

import pytest

from eval.config import EvalConfig, GradeConfig
from eval.regrade import grade_file
from eval.requests import build_requests
from nano_r1.chat import system_prompt
from nano_r1.rundir import RunDir
from nano_r1.tasks import get_task
from nano_r1.tasks import Prompting
from nano_r1.tasks.rubric import correctness
from train.data import build_dataset


@pytest.mark.parametrize("one_shot, spec", [(True, "default"), (False, "default"), (True, "none")])
def test_train_and_eval_build_identical_messages(tmp_path, data_dir, one_shot, spec):
    system = system_prompt(spec)
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    run.write_config({"model": "smollm2-135m", "system_prompt": spec, "system_prompt_text": system,
                      "one_shot": one_shot})
    task = get_task("gsm8k")
    items = task.held_out_items(str(data_dir), 5)
    trained_on = build_dataset(task, items, Prompting(system, one_shot))["prompt"]
    cfg = EvalConfig(suite=["gsm8k"], limit=5, data_dir=str(data_dir), run=str(run.path))
    asked = {r.payload["item"]: r.messages for r in build_requests(cfg, [get_task("gsm8k")]) if r.model == "nano-r1"}
    for item, train_messages in zip(items, trained_on):
        assert json.dumps(asked[item.id]).encode() == json.dumps(train_messages).encode()
    if one_shot:
        assert any(m["role"] == "assistant" for m in asked[items[0].id])  # the run's one-shot is replayed


def test_eval_without_run_uses_the_shared_prompt(data_dir):
    cfg = EvalConfig(suite=["gsm8k"], limit=1, data_dir=str(data_dir))
    (req, *_), = [build_requests(cfg, [get_task("gsm8k")])]
    assert req.messages[0] == {"role": "system", "content": system_prompt("default")}


REPLIES = [  # (reply, reference)
    ("<reasoning>\n2+2\n</reasoning>\n<answer>\n4\n</answer>", "4"),
    ("<reasoning>\nso\n</reasoning>\n<answer>\n$1,000\n</answer>", "1000"),
    ("<answer>\\frac{1}{2}</answer>", "0.5"),
    ("<answer>3/4</answer>", "0.75"),
    ("the answer is 7", "7"),
    ("<answer>7</answer> but maybe 8", "8"),
    ("it is \\boxed{\\frac{1}{2}}", "0.5"),
    ("<answer>twelve</answer>", "12"),
    ("", "3"),
    ("<answer>The total cost is $40, so the net profit is $40 - $2 = $20.</answer>", "20"),  # '$' is money, not LaTeX
]


def test_every_grading_entry_point_gives_one_verdict(tmp_path):
    gsm8k, reasoning, math500 = get_task("gsm8k"), get_task("reasoning"), get_task("math500")
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"completion": c, "reference": r}) + "\n" for c, r in REPLIES))
    grade_file(GradeConfig(grader="gsm8k", input=str(src), output=str(dst)))
    regraded = [json.loads(line) for line in dst.read_text().splitlines()]
    grade_file(GradeConfig(grader="math", input=str(src), output=str(dst)))
    regraded_math = [json.loads(line) for line in dst.read_text().splitlines()]
    for (reply, ref), again, again_math in zip(REPLIES, regraded, regraded_math):
        verdict = gsm8k.score(reply, ref)
        assert (correctness(reply, ref) == 1.0) == verdict["correct"], reply          # the training reward
        assert reasoning.score(reply, ref, {}) == verdict, reply                       # numeric reasoning items
        assert math500.score(reply, ref) == verdict, reply                              # MATH-500's grader
        assert {k: again[k] for k in verdict} == verdict, reply                         # eval grade --grader gsm8k
        assert {k: again_math[k] for k in verdict} == verdict, reply                    # eval grade --grader math
    assert [gsm8k.score(c, r)["correct"] for c, r in REPLIES] == [True, True, True, True, False, False, False,
                                                                   False, False, False]
