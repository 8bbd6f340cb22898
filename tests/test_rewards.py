"""The rubric's rewards as pure functions: tables (incl. the seed's own examples) and a never-raises property."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nano_r1.tasks.math import GSM8K
from nano_r1.tasks.rubric import (CORRECTNESS_WEIGHT, answer_parsed, correctness, length, math_rubric, soft_format,
                                  strict_format, xmlcount)
from train.rewards import completion_text, trl_reward

PERFECT = "<reasoning>\nWait, 2 + 2 = 4. Yes.\n</reasoning>\n<answer>\n4\n</answer>\n"
# The seed README's example format (multi-line reasoning, which the seed's regex without DOTALL never matched).
SEED_EXAMPLE = ("<reasoning>\nNatalia sold 48/2 = 24 clips in May.\nWait, altogether: 48 + 24 = 72.\n"
                "</reasoning>\n<answer>\n72\n</answer>")


@pytest.mark.parametrize("text, ref, expected", [
    (PERFECT, "4", 1.0),
    (SEED_EXAMPLE, "72", 1.0),
    ("<answer>$100</answer>", "100", 1.0),             # "$100" counts
    ("<answer>100 ounces</answer>", "100", 1.0),       # units after the number count
    ("<answer>1,234</answer>", "1234", 1.0),           # thousands commas stripped
    ("<answer>72.0</answer>", "72", 1.0),              # within 1e-6
    ("<answer>-3</answer>", "-3", 1.0),
    ("<answer>5</answer> ... <answer>7</answer>", "7", 1.0),  # the last answer block counts
    ("<answer>7 or maybe 5</answer>", "5", 0.0),       # the first number in it
    ("The answer is 72.", "72", 0.0),                  # no <answer> block
    ("<answer>72", "72", 0.0),                         # unclosed block
    ("<answer></answer>", "72", 0.0),
    ("<answer>71.9999</answer>", "72", 0.0),
])
def test_correctness(text, ref, expected):
    assert correctness(text, ref) == expected


@pytest.mark.parametrize("text, strict, soft", [
    (PERFECT, 0.5, 0.5),
    (PERFECT.rstrip("\n"), 0.5, 0.5),                  # trailing newline optional
    (SEED_EXAMPLE, 0.5, 0.5),                          # multi-line reasoning (seed quirk fixed)
    ("<reasoning>x</reasoning><answer>4</answer>", 0.0, 0.5),  # no newlines: soft only
    ("  <reasoning>\nx\n</reasoning>\n\n<answer>\n4\n</answer>", 0.0, 0.5),
    ("Sure! <reasoning>\nx\n</reasoning>\n<answer>\n4\n</answer>\n", 0.0, 0.0),  # anchored at start
    (PERFECT + "extra", 0.0, 0.5),                     # strict is anchored at the end too
    ("<answer>\n4\n</answer>", 0.0, 0.0),
    ("", 0.0, 0.0),
])
def test_format(text, strict, soft):
    assert strict_format(text) == strict
    assert soft_format(text) == soft


@pytest.mark.parametrize("text, expected", [
    (PERFECT.rstrip("\n"), 0.5),
    (PERFECT, 0.5 - 0.0 - 0.0),                        # the seed's count: "\n" after </answer> is free
    (PERFECT.rstrip("\n") + "\nbye", 0.5 - 0.003 - 0.003),  # text after </answer> is penalised, twice
    ("<reasoning>\nonly the start", 0.125),
    ("no tags", 0.0),
    ("<reasoning>\n<reasoning>\n", 0.0),               # duplicated tag earns nothing
])
def test_xmlcount(text, expected):
    assert xmlcount(text) == pytest.approx(expected)


@pytest.mark.parametrize("text, max_len, expected", [
    ("<reasoning>" + "a" * 2048 + "</reasoning>", 1024, 1.0),   # 2*2048/4096 = 1.0 (the cap)
    ("<reasoning>" + "a" * 1024 + "</reasoning>", 1024, 0.5),
    ("<reasoning>" + "a" * 8000 + "</reasoning>", 1024, 1.0),   # capped (seed: uncapped)
    ("a" * 4000, 1024, 0.0),                                     # outside tags: nothing (seed counted it)
    ("<reasoning>" + "a" * 64 + "</reasoning>" + "b" * 5000, 64, 0.5),  # 2*64/(64*4)
    ("<reasoning>" + "a" * 32 + "</reasoning>", 64, 0.25),
])
def test_length(text, max_len, expected):
    assert length(text, "", max_completion_length=max_len) == pytest.approx(expected)


def test_perfect_reply_and_answer_parsed():
    assert correctness(PERFECT, "4") * CORRECTNESS_WEIGHT == 2.0 and strict_format(PERFECT) == 0.5
    assert answer_parsed(PERFECT) == 1.0 and answer_parsed("<answer>none</answer>") == 0.0


def test_trl_adapter_signature():
    completions = [[{"role": "assistant", "content": PERFECT}], [{"role": "assistant", "content": "nope"}]]
    rubric = {r.name: r for r in math_rubric(64)}
    fn = trl_reward(rubric["correctness"])
    assert fn.__name__ == "correctness"
    assert fn(prompts=[[], []], completions=completions, answer=["4", "4"]) == [1.0, 0.0]
    assert trl_reward(rubric["length"])(completions=["<reasoning>" + "a" * 32 + "</reasoning>"], answer=["1"]) == [0.25]
    assert completion_text("plain") == "plain"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/\n $,.-0123456789abreasoningwt ")) | st.characters(), max_size=400),
       st.text(max_size=12))
def test_rewards_never_raise(text, ref):
    for reward in math_rubric(1):
        value = reward.fn(text, ref, None, None)
        assert isinstance(value, float), reward.name
    assert 0.0 <= length(text, ref, max_completion_length=1) <= 1.0


def test_the_rubric_is_the_seed_recipe():
    """Five rewards at the seed's weights (a right answer is worth 2.0), then the metrics at weight 0."""
    rubric = GSM8K().rubric(1024)
    assert [(r.name, r.weight) for r in rubric] == [
        ("xmlcount", 1.0), ("soft_format", 1.0), ("strict_format", 1.0), ("correctness", 2.0), ("length", 1.0),
        ("answer_parsed", 0.0), ("self_check", 0.0), ("reasoning_words", 0.0), ("tags_repeated", 0.0),
        ("answer_no_reasoning", 0.0), ("reasoning_copied", 0.0)]
    best = sum(r.weight * r.fn(PERFECT.rstrip("\n"), "4", None) for r in rubric)
    assert best == pytest.approx(0.5 + 0.5 + 0.5 + 2.0 + length(PERFECT, "", max_completion_length=1024))
