"""The run's guards (train/guards.py): each warning's threshold as a table over metric histories, the format-hacking
metrics and the bad-reward check of train/rewards.py, the chat-template check on the real tokenizer, and two real
tiny CPU runs that trip `clipped` and `zero_variance` (~1 min each)."""

import json
import math

import pytest

from tests.conftest import run_cli
from train import guards
from train.guards import Settings, scan, template_prefill
from nano_r1.tasks.rubric import Reward, answer_no_reasoning, math_rubric, reasoning_copied, tags_repeated, xmlcount
from train.rewards import RewardError, trl_reward

RUBRIC = {r.name: r for r in math_rubric(1024)}


def boom(fn):
    """A reward written by a user, with the rubric's signature."""
    return Reward("boom", lambda text, ref, question=None, prompt=None: fn(text, ref), 1.0)


def rows(**columns):
    """Training rows for steps 1..n from columns of values (None = not logged that step)."""
    n = max(len(v) for v in columns.values())
    return [{"step": i + 1, **{k: v[i] for k, v in columns.items() if i < len(v) and v[i] is not None}}
            for i in range(n)]


def kinds(history, settings=Settings()):
    return [(w.kind, w.step) for w in scan(history, settings)]


HEALTHY = dict(reward=[0.5] * 12, **{"completions/clipped_ratio": [0.2] * 12, "frac_reward_zero_std": [0.3] * 12},
               kl=[0.01] * 12, entropy=[1.2] * 12)


@pytest.mark.parametrize("history, expected", [
    (rows(**HEALTHY), []),                                                      # a run that learns: nothing
    (rows(**{"completions/clipped_ratio": [1.0, 1.0, 1.0]}), [("clipped", 3)]),  # the done-when case
    (rows(**{"completions/clipped_ratio": [1.0, 1.0]}), []),                     # not yet several steps
    (rows(**{"completions/clipped_ratio": [0.75, 0.8, 0.75]}), [("clipped", 3)]),  # "most" is 75%
    (rows(**{"completions/clipped_ratio": [0.5, 0.7, 0.6, 0.74]}), []),          # the tiny preset's 0.5: not most
    (rows(**{"completions/clipped_ratio": [1, 1, 0.2, 1, 1, 0.1]}), []),         # not consecutive
    (rows(**{"completions/clipped_ratio": [0.1, 1, 1, 1, 1]}), [("clipped", 4)]),  # once, at the step it trips
    (rows(frac_reward_zero_std=[1.0, 1.0, 1.0]), [("zero_variance", 3)]),
    (rows(frac_reward_zero_std=[1.0, 0.5, 1.0, 1.0]), []),
    (rows(frac_reward_zero_std=[0.8, 0.9, 0.75, 1.0]), [("zero_variance", 3)]),
    (rows(kl=[0.5, 1.5, 2.0, 3.0]), [("kl", 4)]),
    (rows(kl=[0.5, 1.5, 0.2, 3.0]), []),
    (rows(kl=[0.01, float("nan")]), [("kl", 2)]),                                # non-finite: at once
    (rows(kl=[-1e-9] * 4), []),                                                  # KL has no lower bound
    (rows(entropy=[0.04, 0.01, 0.02]), [("entropy", 3)]),                        # collapsed
    (rows(entropy=[6.0, 7.0, 8.0]), [("entropy", 3)]),                           # near-random text
    (rows(entropy=[0.06, 4.9, 1.0]), []),
    (rows(entropy=[1.0, float("inf")]), [("entropy", 2)]),
    (rows(**{"completions/clipped_ratio": [1.0] * 3, "frac_reward_zero_std": [1.0] * 3}),
     [("clipped", 3), ("zero_variance", 3)]),                                    # two kinds, each once
    ([{"step": 1, "reward": True}], []),                                         # a bool is not a metric value
])
def test_thresholds(history, expected):
    assert kinds(history) == expected


@pytest.mark.parametrize("name", list(guards.HACKS))
@pytest.mark.parametrize("shares, step", [
    ([0.0] * 5 + [0.5] * 5, 10),          # from 0% to 50%: rising
    ([0.0] * 5 + [0.3] * 5, 10),          # exactly the thresholds
    ([0.0] * 5 + [0.25] * 10, None),      # under HACK_SHARE
    ([0.4] * 5 + [0.5] * 5, None),        # high from the start (the base model's habit), not rising
    ([0.0] * 5 + [1.0] * 4, None),        # fewer than two windows of steps
    ([0.0] * 10 + [1.0, 1.0], 12),          # the window mean reaches 40% at step 12
])
def test_format_hacking_rising(name, shares, step):
    found = kinds(rows(**{f"rewards/{name}/mean": shares}))
    assert found == ([(name, step)] if step else [])


def evals(points):
    return [{"step": s, guards.EVAL_KEY: a} for s, a in points]


@pytest.mark.parametrize("rewards, points, step", [
    ([0.5] * 5 + [1.5] * 5, [(0, 0.30), (5, 0.30), (10, 0.15)], 10),  # accuracy down 15 points, reward up 1.0
    ([0.5] * 10, [(0, 0.30), (10, 0.15)], None),                      # reward flat: not this guard
    ([0.5] * 5 + [1.5] * 5, [(0, 0.30), (10, 0.25)], None),           # a 5-point dip is noise at n=128
    ([0.5] * 5 + [1.5] * 5, [(0, 0.30), (10, 0.40)], None),           # both rise: learning
    ([1.5] * 5 + [0.5] * 5, [(0, 0.30), (10, 0.10)], None),           # both fall: a different failure
    ([0.5] * 5 + [1.5] * 5, [(0, 0.20), (5, 0.30), (10, 0.20)], 10),  # against the best earlier evaluation
])
def test_eval_falling_while_reward_rises(rewards, points, step):
    found = kinds(rows(reward=rewards) + evals(points))
    assert found == ([("eval_falling", step)] if step else [])


def test_messages_name_what_to_change():
    (clip,) = scan(rows(**{"completions/clipped_ratio": [1.0] * 3}), Settings(max_completion_length=8))
    assert "--max-completion-length 8" in clip.message and "100%" in clip.message
    (flat,) = scan(rows(frac_reward_zero_std=[1.0] * 3), Settings(num_generations=8))
    assert "try --dynamic-sampling, more --num-generations (now 8)" in flat.message
    (on,) = scan(rows(frac_reward_zero_std=[1.0] * 3), Settings(num_generations=8, dynamic_sampling=True))
    assert "try --dynamic-sampling" not in on.message and "dynamic_sampling/groups_kept" in on.message
    assert "\n" not in clip.message + flat.message + on.message


PERFECT = "<reasoning>\nWait, 2 + 2 = 4. Yes.\n</reasoning>\n<answer>\n4\n</answer>\n"
QUESTION = "Jamal collects 33 pencils every day for 4 days and splits them equally with 2 friends."


@pytest.mark.parametrize("text, repeated, no_reasoning", [
    (PERFECT, 0.0, 0.0),
    (PERFECT + PERFECT, 1.0, 0.0),                                        # the whole format twice
    ("<reasoning>\n<reasoning>\nx\n</reasoning>\n<answer>\n4\n</answer>", 1.0, 1.0),
    ("<answer>\n4\n</answer>", 0.0, 1.0),                                 # an answer, no reasoning block
    ("<reasoning>\n4\n</reasoning>\n<answer>\n4\n</answer>", 0.0, 1.0),  # a reasoning block of one word
    ("<reasoning>\nI think about it\n</reasoning>", 0.0, 0.0),            # no answer: not this signature
    ("", 0.0, 0.0),
])
def test_format_hacking_metrics(text, repeated, no_reasoning):
    assert tags_repeated(text) == repeated
    assert answer_no_reasoning(text) == no_reasoning


@pytest.mark.parametrize("reasoning, copied", [
    (QUESTION, 1.0),                                                          # the question, verbatim
    (QUESTION.lower().replace(".", ""), 1.0),                                 # case and punctuation don't hide it
    (QUESTION + " So 33 * 4 = 132 pencils, and 132 / 3 = 44 each.", 0.0),    # restated, then reasoned
    ("33 * 4 = 132 and 132 / 3 = 44.", 0.0),
    ("Jamal collects", 0.0),                                                  # too short to judge
])
def test_reasoning_copied(reasoning, copied):
    text = f"<reasoning>\n{reasoning}\n</reasoning>\n<answer>\n44\n</answer>"
    assert reasoning_copied(text, "44", None, f"system text\n{QUESTION} How many each?") == copied
    prompt = [{"role": "system", "content": "s"}, {"role": "user", "content": QUESTION}]
    assert trl_reward(RUBRIC["reasoning_copied"])(prompts=[prompt], completions=[text], answer=["44"]) == [copied]


def test_the_metrics_have_weight_zero():
    from train.config import TrainConfig
    from train.backends import choose_backend
    from train.resolve import grpo_args
    from nano_r1.rundir import RunDir

    rubric = math_rubric(1024)
    args = grpo_args(TrainConfig(), choose_backend("trl"), RunDir("/nonexistent"), rubric)
    weights = dict(zip([r.name for r in rubric], args.reward_weights))
    assert all(weights[name] == 0.0 for name in guards.HACKS)


PROMPT = [{"role": "user", "content": "What is 2 + 2?\nAnd more."}]


@pytest.mark.parametrize("bad, said", [
    (lambda text, ref: 1 / 0, "reward boom raised ZeroDivisionError: division by zero for completion 1"),
    (lambda text, ref: None if text == "b" else 1.0, "reward boom returned None instead of a number for completion 1"),
    (lambda text, ref: float("nan") if text == "b" else 1.0, "reward boom returned nan"),
    (lambda text, ref: "1.0", "reward boom returned '1.0' instead of a number"),
])
def test_a_bad_reward_is_one_line_naming_it(bad, said):
    reward = trl_reward(boom(lambda text, ref: 1.0 if text == "a" else bad(text, ref)))
    with pytest.raises(RewardError) as err:
        reward(prompts=[PROMPT, PROMPT], completions=["a", "b"], answer=["4", "4"])
    message = str(err.value)
    assert said in message and "question 'What is 2 + 2? And more.'" in message and "answer '4'" in message
    assert "\n" not in message


def test_good_rewards_pass_the_check_unchanged():
    completions = [[{"role": "assistant", "content": PERFECT}], "no tags"]
    assert trl_reward(RUBRIC["xmlcount"])(prompts=[PROMPT, PROMPT], completions=completions, answer=["4", "4"]) == \
        [xmlcount(PERFECT), 0.0]
    assert trl_reward(boom(lambda text, ref: True))(completions=["x"]) == [1.0]  # a bool is a number


CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' + PREFILL }}{% endif %}")
DEEPSEEK = ("{% for m in messages %}{% if m['role'] == 'user' %}{{ '<｜User｜>' + m['content'] }}{% else %}"
            "{{ '<｜Assistant｜>' + m['content'] + '<｜end▁of▁sentence｜>' }}{% endif %}{% endfor %}"
            "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}")
# Qwen3's shape: the last assistant turn is rendered with an empty think block, and enable_thinking=false pre-fills one.
QWEN3 = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' }}"
         "{% if m['role'] == 'assistant' and loop.last %}"
         "{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}{{ m['content'] + '<|im_end|>\\n' }}{% endfor %}"
         "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% if enable_thinking is defined and "
         "enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}{% endif %}")
LLAMA3 = ("{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] "
          "+ '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}"
          "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")


@pytest.fixture(scope="module")
def tokenizer(embedded_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(embedded_model)


@pytest.mark.parametrize("template, kwargs, prefill", [
    (None, {}, None),                                                    # SmolLM2's own template: nothing added
    (CHATML.replace("PREFILL", "''"), {}, None),
    (CHATML.replace("PREFILL", "'<reasoning>\\n'"), {}, "<reasoning>\n"),
    (CHATML.replace("PREFILL", "'\\n'"), {}, None),                      # whitespace is not text
    (DEEPSEEK, {}, "<think>\n"),
    (QWEN3, {}, None),
    (QWEN3, {"enable_thinking": False}, "<think>\n\n</think>\n\n"),      # through TRL's chat_template_kwargs
    (LLAMA3, {}, None),
    ("{{ raise_exception('no') }}", {}, None),                           # a template that refuses: no verdict
])
def test_template_prefill(tokenizer, template, kwargs, prefill):
    own = tokenizer.chat_template
    try:
        if template is not None:
            tokenizer.chat_template = template
        assert template_prefill(tokenizer, **kwargs) == prefill
    finally:
        tokenizer.chat_template = own
    warning = guards.prefill_warning(prefill)
    assert (warning is None) == (prefill is None)
    if warning:
        assert warning.step == 0 and warning.kind == "chat_template" and repr(prefill) in warning.message


def test_the_callback_says_each_kind_once_and_the_run_folder_keeps_it(tmp_path, capsys):
    from nano_r1.chart import draw_chart
    from nano_r1.rundir import RunDir
    from train.callbacks import Guard
    from train.config import TrainConfig
    from train.summary import write_summary

    run = RunDir(tmp_path)
    guard = Guard(run, Settings(max_completion_length=8), [guards.prefill_warning("<think>\n"), None])
    guard.check(guard.at_start)  # what on_train_begin does
    for row in rows(**{"completions/clipped_ratio": [1.0] * 5}):
        run.append_metrics(row)
        guard.check()  # what on_log does after each step
    said = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("warning: ")]
    kept = run.read_warnings()
    assert [(w["step"], w["kind"]) for w in kept] == [(0, "chat_template"), (3, "clipped")]
    assert said == [f"warning: step {w['step']}: {w['message']}" for w in kept]
    assert "'<think>\\n'" in said[0] and "--max-completion-length 8" in said[1]
    Guard(run, guard.settings, [guards.prefill_warning("<think>\n")]).check()  # a resumed run: already said
    assert len(run.read_warnings()) == 2 and "warning:" not in capsys.readouterr().err
    run.trim_logs(2)  # resuming from checkpoint-2 drops what steps after it said (they are replayed)
    assert [w["kind"] for w in run.read_warnings()] == ["chat_template"]
    for row in rows(**{"completions/clipped_ratio": [1.0] * 5})[2:]:  # the replayed steps trip it again
        run.append_metrics(row)
        guard.check()
    assert [w["kind"] for w in run.read_warnings()] == ["chat_template", "clipped"]
    lines = write_summary(run, TrainConfig(), 5, 10.0, on_cpu=True)
    summary = json.loads(run.summary_path.read_text())
    assert [(w["step"], w["kind"]) for w in summary["warnings"]] == [(0, "chat_template"), (3, "clipped")]
    assert lines[-1] == "2 warning(s): chat_template at step 0, clipped at step 3 (summary.json, chart.png)"
    assert draw_chart(run, run.chart_path).read_bytes()[:4] == b"\x89PNG"


def test_a_run_without_warnings_says_nothing_new(tmp_path):
    from nano_r1.rundir import RunDir
    from train.config import TrainConfig
    from train.summary import write_summary

    run = RunDir(tmp_path)
    for row in rows(**HEALTHY):
        run.append_metrics(row)
    lines = write_summary(run, TrainConfig(), 12, 10.0, on_cpu=True)
    assert not run.warnings_path.exists() and json.loads(run.summary_path.read_text())["warnings"] == []
    assert not any("warning" in ln for ln in lines)


def train_tiny(tmp_path, *args):
    proc = run_cli("train", "--preset", "tiny", "--max-steps", "3", "--save-steps", "100", "--output-dir",
                   str(tmp_path), "--run-name", "r", *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "r"
    return proc.stderr, json.loads((run / "summary.json").read_text()), run


def warning_lines(stderr):
    return [ln for ln in stderr.replace("\r", "\n").splitlines() if ln.startswith("warning: ")]


def test_a_tiny_run_with_8_tokens_says_clipped(tmp_path):
    """The done-when run: every completion is cut at 8 tokens, for 3 steps."""
    stderr, summary, run = train_tiny(tmp_path, "--max-completion-length", "8")
    clipped = [ln for ln in warning_lines(stderr) if "--max-completion-length 8" in ln]
    assert len(clipped) == 1 and clipped[0].startswith("warning: step 3: 100% of completions hit"), stderr[-3000:]
    (entry,) = [w for w in summary["warnings"] if w["kind"] == "clipped"]
    assert entry["step"] == 3 and "raise --max-completion-length" in entry["message"]
    assert "warning(s): clipped at step 3" in stderr and (run / "chart.png").is_file()
    assert [w["kind"] for w in summary["warnings"]].count("clipped") == 1


def test_answers_all_alike_say_zero_variance(tmp_path):
    """A dataset where every completion scores the same: the model answers "Hi" and stops (no tags, so every
    reward is 0 for every sample; the replies end well before the length limit, so nothing is clipped)."""
    data = tmp_path / "same.jsonl"
    data.write_text("".join(json.dumps({"question": "Say hi.", "answer": "Hi.\n#### 0"}) + "\n" for _ in range(8)))
    stderr, summary, run = train_tiny(tmp_path, "--dataset", str(data), "--system-prompt", "none",
                                      "--one-shot", "false", "--max-completion-length", "48")
    metrics = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["frac_reward_zero_std"] for m in metrics] == [1.0, 1.0, 1.0]
    lines = warning_lines(stderr)
    assert any(ln.startswith("warning: step 3: 100% of groups scored all alike") and "--dynamic-sampling" in ln
               for ln in lines), stderr[-3000:]
    assert [w["kind"] for w in summary["warnings"]] == ["zero_variance"]
    assert not math.isnan(metrics[-1]["reward"])
